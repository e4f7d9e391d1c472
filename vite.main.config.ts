/**
 * Vite configurations for the three Node-side bundles of the Electron app, used by bin/build.js:
 *   main     main/main.ts     → dist/main/main.js     ES module (Electron ≥ 28 loads an ESM main entry)
 *   preload  main/preload.ts  → dist/main/preload.cjs CommonJS (sandboxed preloads cannot be ESM)
 *   backend  main/backend.ts  → dist/main/backend.js  ES module (utilityProcess entry)
 * Each bundle contains all of its npm dependencies; only 'electron' and Node built-ins stay
 * external, so the packaged app needs no node_modules. bin/build.js checks that after building.
 */
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import type { InlineConfig, Rollup } from 'vite';

type RollupLog = Rollup.RollupLog;

export type NodeBundle = 'main' | 'preload' | 'backend';

/** Node version bundled with Electron 45. */
const NODE_TARGET = 'node22';

const BUNDLES: Readonly<Record<NodeBundle, { entry: string; fileName: string; format: 'es' | 'cjs' }>> = {
  main: { entry: 'main/main.ts', fileName: 'main.js', format: 'es' },
  preload: { entry: 'main/preload.ts', fileName: 'preload.cjs', format: 'cjs' },
  backend: { entry: 'main/backend.ts', fileName: 'backend.js', format: 'es' },
};

const BUILTINS: ReadonlySet<string> = new Set(builtinModules);

/** Gives an ES-module bundle the CommonJS globals its bundled CommonJS packages expect. */
export const ESM_CJS_SHIM = [
  "import { createRequire as __cjsCreateRequire } from 'node:module';",
  "import { fileURLToPath as __cjsFileURLToPath } from 'node:url';",
  "import { dirname as __cjsDirname } from 'node:path';",
  'const require = __cjsCreateRequire(import.meta.url);',
  'const __filename = __cjsFileURLToPath(import.meta.url);',
  'const __dirname = __cjsDirname(__filename);',
].join('\n');

/** True for module ids that stay outside the bundles: 'electron' (and its sub-paths) and Node built-ins. */
export function isRuntimeProvided(id: string): boolean {
  if (id === 'electron' || id.startsWith('electron/')) return true;
  if (id.startsWith('node:')) return true;
  return BUILTINS.has(id) || BUILTINS.has(id.split('/')[0] ?? '');
}

/**
 * Drops Rollup's notes about misplaced `@__PURE__` comments inside npm packages (nothing we can act
 * on); every other warning is passed on.
 */
export function quietThirdPartyAnnotations(warning: RollupLog, forward: (warning: RollupLog) => void): void {
  if (warning.code === 'INVALID_ANNOTATION' && (warning.id ?? '').includes('node_modules')) return;
  forward(warning);
}

/** The Vite configuration for one bundle, rooted at the repository folder `root`. */
export function nodeBundleConfig(bundle: NodeBundle, root: string): InlineConfig {
  const spec = BUNDLES[bundle];
  if (spec === undefined) throw new RangeError(`unknown bundle ${String(bundle)}`);
  return {
    configFile: false,
    root,
    logLevel: 'warn',
    clearScreen: false,
    publicDir: false,
    mode: 'production',
    build: {
      ssr: join(root, spec.entry),
      outDir: join(root, 'dist', 'main'),
      emptyOutDir: false,
      target: NODE_TARGET,
      minify: false,
      sourcemap: false,
      reportCompressedSize: false,
      copyPublicDir: false,
      rollupOptions: {
        external: isRuntimeProvided,
        onwarn: quietThirdPartyAnnotations,
        output: {
          format: spec.format,
          entryFileNames: spec.fileName,
          // CommonJS packages bundled into an ES module still look for `require`, `__filename` and
          // `__dirname` (node-sqlite3-wasm finds its .wasm next to itself, which bin/build.js
          // copies beside the bundle).
          ...(spec.format === 'es' ? { banner: ESM_CJS_SHIM } : {}),
          // One file per bundle: the preload in particular cannot load sibling chunks.
          inlineDynamicImports: true,
        },
      },
    },
    ssr: {
      target: 'node',
      // Bundle every npm dependency; `external` above keeps electron and built-ins out.
      noExternal: true,
    },
  };
}
