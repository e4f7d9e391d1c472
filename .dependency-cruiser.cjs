/**
 * Import-direction rules (DESIGN §2), checked by `npm run lint:layers` with dependency-cruiser.
 *
 *   renderer → renderer/, app/contract/ (and npm packages)
 *   app/contract → app/contract/ only (and npm packages such as zod); no Node built-ins
 *   app → never main/ or renderer/
 *   main → never renderer/
 *   node-core → nothing of ours outside node-core/; its pure part (all but node-core/io/) imports
 *     no Node built-in and nothing from node-core/io/; no import cycles inside node-core/
 *   test/ is imported by nothing outside test/
 *
 * Type-only imports count (`tsPreCompilationDeps`), and TypeScript imports without extensions are
 * resolved, so a rule cannot be dodged with `import type` or a missing suffix. Every rule has
 * severity "error", which makes depcruise exit non-zero. test/layering/layering.test.ts proves
 * each rule fires.
 */

/** Top-level folders that hold our own code; everything else is an npm package or a built-in. */
const OURS = '^(?:app|main|renderer|node-core|test|bin)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'renderer-only-contract',
      comment:
        'The renderer may import renderer/ and app/contract/ only; it reaches the backend through the bridge (DESIGN §2).',
      severity: 'error',
      from: { path: '^renderer/' },
      to: { path: OURS, pathNot: '^(?:renderer|app/contract)/' },
    },
    {
      name: 'renderer-no-node-builtins',
      comment: 'The renderer runs in a sandboxed browser page: Node built-ins do not exist there.',
      severity: 'error',
      from: { path: '^renderer/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'contract-self-contained',
      comment: 'app/contract is shared by the renderer and the backend: it may import only app/contract/ and npm packages.',
      severity: 'error',
      from: { path: '^app/contract/' },
      to: { path: OURS, pathNot: '^app/contract/' },
    },
    {
      name: 'contract-no-node-builtins',
      comment: 'app/contract is loaded in the renderer too: no Node built-ins.',
      severity: 'error',
      from: { path: '^app/contract/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'app-not-to-main-or-renderer',
      comment: 'app/ sits below main/ and renderer/: main → app → node-core (DESIGN §2).',
      severity: 'error',
      from: { path: '^app/' },
      to: { path: '^(?:main|renderer)/' },
    },
    {
      name: 'main-not-to-renderer',
      comment: 'The main process and the renderer meet only through app/contract and IPC.',
      severity: 'error',
      from: { path: '^main/' },
      to: { path: '^renderer/' },
    },
    {
      name: 'node-core-self-contained',
      comment: 'node-core imports nothing of ours outside node-core/ (DESIGN §2).',
      severity: 'error',
      from: { path: '^node-core/' },
      to: { path: OURS, pathNot: '^node-core/' },
    },
    {
      name: 'node-core-pure-no-node-builtins',
      comment: 'The pure part of node-core (everything but node-core/io/) imports no node:* module.',
      severity: 'error',
      from: { path: '^node-core/', pathNot: '^node-core/io/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'node-core-pure-not-to-io',
      comment: 'The pure part of node-core must not reach into node-core/io/; the I/O part drives the pure part, not the reverse.',
      severity: 'error',
      from: { path: '^node-core/', pathNot: '^node-core/io/' },
      to: { path: '^node-core/io/' },
    },
    {
      name: 'node-core-no-cycles',
      comment: 'No import cycles inside node-core.',
      severity: 'error',
      from: { path: '^node-core/' },
      to: { path: '^node-core/', circular: true },
    },
    {
      name: 'test-only-from-test',
      comment:
        'Nothing outside test/ imports test/. Exception: bin/sirius-dev.js, the developer launcher for `npm run bench` and `npm run fuzz`, which is not shipped.',
      severity: 'error',
      from: { pathNot: '^(?:test/|bin/sirius-dev\\.js$)' },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-unresolvable',
      comment:
        'An import that cannot be resolved escapes every rule above. A warning only, because the TypeScript check already fails on unresolved imports in .ts files.',
      severity: 'warn',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Only our folders are analysed; npm packages are leaves.
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(?:node_modules|dist|release)/|^test/fixtures/layering/' },
    moduleSystems: ['es6', 'cjs'],
    // Count `import type` and other imports that TypeScript erases.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      extensions: ['.ts', '.tsx', '.d.ts', '.js', '.mjs', '.cjs', '.jsx', '.json'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
