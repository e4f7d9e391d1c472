/**
 * Proves the import-direction lint (.dependency-cruiser.cjs, DESIGN §2) bites: for every rule, a
 * small tree in the temp folder that mirrors the repository's folder names and breaks exactly that
 * rule gives a non-zero exit code and names the rule with the offending import; a tree that follows
 * every rule passes cleanly; and the repository itself passes.
 *
 * The per-rule trees go through dependency-cruiser's JS API (`cruise`, the engine behind the CLI)
 * with the project's config and the CLI's default reporter, whose exit code the CLI returns, in
 * this process, because a CLI start per tree costs over a second. The CLI itself, run with the exact
 * arguments of `npm run lint:layers`, checks the clean tree, one violating tree and the repository.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const CONFIG_PATH = join(repoRoot, '.dependency-cruiser.cjs');
const DEPCRUISE = join(repoRoot, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
/** The top-level folders the lint script names; every temporary tree has all of them. */
const FOLDERS = ['app', 'main', 'renderer', 'node-core', 'test', 'bin'];

type Tree = Readonly<Record<string, string>>;

interface Finding {
  readonly severity: 'error' | 'warn';
  readonly rule: string;
  readonly from: string;
  /** Empty for a cycle (the reporter lists the cycle on the following lines). */
  readonly to: string;
}

interface LintRun {
  readonly code: number;
  readonly output: string;
  readonly findings: readonly Finding[];
}

/** The arguments of the `lint:layers` script, with the config path made absolute. */
async function lintArguments(): Promise<string[]> {
  const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const script = pkg.scripts['lint:layers'];
  if (script === undefined) throw new Error('package.json has no lint:layers script');
  const [command, ...args] = script.trim().split(/\s+/);
  if (command !== 'depcruise') throw new Error(`lint:layers runs ${String(command)}, not depcruise`);
  const configAt = args.indexOf('--config');
  if (configAt < 0 || args[configAt + 1] === undefined) throw new Error('lint:layers passes no --config');
  args[configAt + 1] = CONFIG_PATH;
  return args;
}

/** Parses the default ("err") reporter's lines: `  error <rule>: <from> → <to>`. */
function parseFindings(output: string): Finding[] {
  const findings: Finding[] = [];
  for (const match of output.matchAll(/^\s*(error|warn) ([a-z0-9-]+): (\S+) → ?(\S*)\s*$/gm)) {
    const [, severity, rule, from, to] = match;
    findings.push({ severity: severity as 'error' | 'warn', rule: rule ?? '', from: from ?? '', to: to ?? '' });
  }
  return findings;
}

function runDepcruise(cwd: string, args: readonly string[]): Promise<LintRun> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [DEPCRUISE, ...args], { cwd, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      if (code === -1) {
        reject(error ?? new Error('depcruise did not run'));
        return;
      }
      const output = `${stdout}${stderr}`;
      resolve({ code, output, findings: parseFindings(output) });
    });
  });
}

/** Fake npm packages so that trees can show npm imports are allowed. */
const PACKAGES: Tree = {
  'node_modules/zod/package.json': '{ "name": "zod", "version": "4.0.0", "main": "index.js" }',
  'node_modules/zod/index.js': 'export const z = {};\n',
  'node_modules/react/package.json': '{ "name": "react", "version": "19.0.0", "main": "index.js" }',
  'node_modules/react/index.js': 'export const useState = () => [];\n',
};

const scratch: string[] = [];

/** Writes `files` (plus the fake packages and every top-level folder) into a fresh temp folder. */
async function makeTree(files: Tree): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-layering-'));
  scratch.push(dir);
  for (const folder of FOLDERS) await mkdir(join(dir, folder), { recursive: true });
  for (const [path, content] of Object.entries({ ...PACKAGES, ...files })) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

/** Lints a tree with the depcruise CLI, exactly as `npm run lint:layers` does. */
async function lintTreeWithCli(files: Tree, args: readonly string[]): Promise<LintRun> {
  return runDepcruise(await makeTree(files), args);
}

/** Lints a tree in this process with the project's config and the CLI's default reporter. */
async function lintTreeWithApi(files: Tree): Promise<LintRun> {
  const dir = await makeTree(files);
  const options = await extractDepcruiseOptions(CONFIG_PATH);
  const result = await cruise(FOLDERS, { ...options, baseDir: dir, outputType: 'err', validate: true });
  const output = String(result.output);
  return { code: result.exitCode, output, findings: parseFindings(output) };
}

/** A tree that follows every rule, using each allowed direction at least once. */
const CLEAN_TREE: Tree = {
  'app/contract/wire.ts': 'export const METHOD_NAMES = ["app.version"] as const;\n',
  'app/contract/index.ts':
    "import { z } from 'zod';\nimport { METHOD_NAMES } from './wire';\nexport const names = METHOD_NAMES;\nexport const schema = z;\n",
  'app/services/version.ts':
    "import { names } from '../contract';\nimport { encode } from '../../node-core/cell';\nexport const service = { names, encode };\n",
  'renderer/src/App.tsx':
    "import { useState } from 'react';\nimport { names } from '../../app/contract';\nimport { label } from './label';\nexport const App = () => [useState, names, label];\n",
  'renderer/src/label.ts': "export const label = 'Sirius Stream';\n",
  'renderer/src/main.tsx': "import { App } from './App';\nexport default App;\n",
  'main/main.ts':
    "import { join } from 'node:path';\nimport { service } from '../app/services/version';\nimport type { names } from '../app/contract';\nexport const m = [join, service];\nexport type N = typeof names;\n",
  'node-core/util/bytes.ts': 'export const concat = (a: Uint8Array) => a;\n',
  'node-core/cell/index.ts': "import { concat } from '../util/bytes';\nexport const encode = concat;\n",
  'node-core/io/socket.ts':
    "import { createServer } from 'node:net';\nimport { readFile } from 'fs';\nimport { encode } from '../cell';\nexport const io = [createServer, readFile, encode];\n",
  'test/support/helper.ts': "import { encode } from '../../node-core/cell';\nexport const helper = encode;\n",
  'test/area/x.test.ts':
    "import { helper } from '../support/helper';\nimport { App } from '../../renderer/src/App';\nimport { m } from '../../main/main';\nimport { io } from '../../node-core/io/socket';\nexport const all = [helper, App, m, io];\n",
  'test/tools/dev.ts': 'export const dev = 1;\n',
  'bin/sirius-dev.js': "import '../test/tools/dev.ts';\n",
  'bin/sirius.js': "import '../node-core/io/socket.ts';\n",
};

interface ViolationCase {
  readonly title: string;
  readonly rule: string;
  readonly files: Tree;
  readonly from: string;
  /** Expected target; a RegExp where the reporter's spelling may vary (core modules), null for cycles. */
  readonly to: string | RegExp | null;
}

const CASES: readonly ViolationCase[] = [
  {
    title: 'renderer imports node-core',
    rule: 'renderer-only-contract',
    files: {
      'renderer/x.ts': "import { y } from '../node-core/y';\nexport const x = y;\n",
      'node-core/y.ts': 'export const y = 1;\n',
    },
    from: 'renderer/x.ts',
    to: 'node-core/y.ts',
  },
  {
    title: 'renderer imports a type from app/services (type-only imports count)',
    rule: 'renderer-only-contract',
    files: {
      'renderer/src/x.tsx': "import type { Chat } from '../../app/services/chat';\nexport type X = Chat;\n",
      'app/services/chat.ts': 'export interface Chat { id: string }\n',
    },
    from: 'renderer/src/x.tsx',
    to: 'app/services/chat.ts',
  },
  {
    title: 'renderer imports the main process',
    rule: 'renderer-only-contract',
    files: {
      'renderer/x.ts': "import { s } from '../main/security';\nexport const x = s;\n",
      'main/security.ts': 'export const s = 1;\n',
    },
    from: 'renderer/x.ts',
    to: 'main/security.ts',
  },
  {
    title: 'renderer imports a Node built-in',
    rule: 'renderer-no-node-builtins',
    files: { 'renderer/x.ts': "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n" },
    from: 'renderer/x.ts',
    to: /^(node:)?fs$/,
  },
  {
    title: 'app/contract imports app/services',
    rule: 'contract-self-contained',
    files: {
      'app/contract/index.ts': "import { chat } from '../services/chat';\nexport const c = chat;\n",
      'app/services/chat.ts': 'export const chat = 1;\n',
    },
    from: 'app/contract/index.ts',
    to: 'app/services/chat.ts',
  },
  {
    title: 'app/contract imports node-core',
    rule: 'contract-self-contained',
    files: {
      'app/contract/index.ts': "import { encode } from '../../node-core/cell';\nexport const c = encode;\n",
      'node-core/cell.ts': 'export const encode = 1;\n',
    },
    from: 'app/contract/index.ts',
    to: 'node-core/cell.ts',
  },
  {
    title: 'app/contract imports a Node built-in',
    rule: 'contract-no-node-builtins',
    files: { 'app/contract/index.ts': "import { randomUUID } from 'node:crypto';\nexport const c = randomUUID;\n" },
    from: 'app/contract/index.ts',
    to: /^(node:)?crypto$/,
  },
  {
    title: 'app/services imports the main process',
    rule: 'app-not-to-main-or-renderer',
    files: {
      'app/services/x.ts': "import { s } from '../../main/security';\nexport const x = s;\n",
      'main/security.ts': 'export const s = 1;\n',
    },
    from: 'app/services/x.ts',
    to: 'main/security.ts',
  },
  {
    title: 'app/services imports the renderer',
    rule: 'app-not-to-main-or-renderer',
    files: {
      'app/services/x.ts': "import { App } from '../../renderer/src/App';\nexport const x = App;\n",
      'renderer/src/App.tsx': 'export const App = 1;\n',
    },
    from: 'app/services/x.ts',
    to: 'renderer/src/App.tsx',
  },
  {
    title: 'main imports the renderer (extensionless .tsx import)',
    rule: 'main-not-to-renderer',
    files: {
      'main/x.ts': "import { App } from '../renderer/src/App';\nexport const x = App;\n",
      'renderer/src/App.tsx': 'export const App = 1;\n',
    },
    from: 'main/x.ts',
    to: 'renderer/src/App.tsx',
  },
  {
    title: 'node-core imports app/',
    rule: 'node-core-self-contained',
    files: {
      'node-core/z.ts': "import { chat } from '../app/services/chat';\nexport const z = chat;\n",
      'app/services/chat.ts': 'export const chat = 1;\n',
    },
    from: 'node-core/z.ts',
    to: 'app/services/chat.ts',
  },
  {
    title: 'node-core/io imports main/',
    rule: 'node-core-self-contained',
    files: {
      'node-core/io/daemon.ts': "import { s } from '../../main/security';\nexport const d = s;\n",
      'main/security.ts': 'export const s = 1;\n',
    },
    from: 'node-core/io/daemon.ts',
    to: 'main/security.ts',
  },
  {
    title: 'pure node-core imports node:fs',
    rule: 'node-core-pure-no-node-builtins',
    files: { 'node-core/x.ts': "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n" },
    from: 'node-core/x.ts',
    to: /^(node:)?fs$/,
  },
  {
    title: 'pure node-core imports a built-in without the node: prefix',
    rule: 'node-core-pure-no-node-builtins',
    files: { 'node-core/util/x.ts': "import { EventEmitter } from 'events';\nexport const x = EventEmitter;\n" },
    from: 'node-core/util/x.ts',
    to: /^(node:)?events$/,
  },
  {
    title: 'pure node-core imports a type from node:net (type-only imports count)',
    rule: 'node-core-pure-no-node-builtins',
    files: { 'node-core/x.ts': "import type { Socket } from 'node:net';\nexport type X = Socket;\n" },
    from: 'node-core/x.ts',
    to: /^(node:)?net$/,
  },
  {
    title: 'pure node-core imports node-core/io',
    rule: 'node-core-pure-not-to-io',
    files: {
      'node-core/cell/x.ts': "import { open } from '../io/socket';\nexport const x = open;\n",
      'node-core/io/socket.ts': "import { connect } from 'node:net';\nexport const open = connect;\n",
    },
    from: 'node-core/cell/x.ts',
    to: 'node-core/io/socket.ts',
  },
  {
    title: 'two node-core modules import each other',
    rule: 'node-core-no-cycles',
    files: {
      'node-core/c/a.ts': "import { b } from './b';\nexport const a = (): number => b;\n",
      'node-core/c/b.ts': "import type { a } from './a';\nexport const b = 1;\nexport type A = typeof a;\n",
    },
    from: 'node-core/c/a.ts',
    to: null,
  },
  {
    title: 'main imports a test helper',
    rule: 'test-only-from-test',
    files: {
      'main/x.ts': "import { helper } from '../test/support/helper';\nexport const x = helper;\n",
      'test/support/helper.ts': 'export const helper = 1;\n',
    },
    from: 'main/x.ts',
    to: 'test/support/helper.ts',
  },
  {
    title: 'a bin script other than the developer launcher imports test/',
    rule: 'test-only-from-test',
    files: {
      'bin/other.js': "import '../test/tools/dev.ts';\n",
      'test/tools/dev.ts': 'export const dev = 1;\n',
    },
    from: 'bin/other.js',
    to: 'test/tools/dev.ts',
  },
];

/** True when a finding names the case's offending import. */
function matches(finding: Finding, c: Pick<ViolationCase, 'from' | 'to'>): boolean {
  if (finding.from !== c.from) return false;
  if (c.to === null) return finding.to === '';
  return typeof c.to === 'string' ? finding.to === c.to : c.to.test(finding.to);
}

let args: string[] = [];

beforeAll(async () => {
  args = await lintArguments();
});

afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('the layering rules', () => {
  it('has a violating case for every rule of severity error', () => {
    const require = createRequire(import.meta.url);
    const config = require(CONFIG_PATH) as { forbidden: Array<{ name: string; severity: string }> };
    const errorRules = config.forbidden.filter((r) => r.severity === 'error').map((r) => r.name);
    expect(errorRules.length).toBeGreaterThanOrEqual(10);
    expect(new Set(CASES.map((c) => c.rule))).toEqual(new Set(errorRules));
  });

  it('pass a tree that keeps to every rule, with every import resolved', async () => {
    const run = await lintTreeWithCli(CLEAN_TREE, args);
    expect(run.findings).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.output).toMatch(/no dependency violations found/);
  });

  describe('fail a tree that breaks one rule', () => {
    for (const c of CASES) {
      it(`${c.rule}: ${c.title}`, async () => {
        const run = await lintTreeWithApi(c.files);
        expect(run.code, run.output).not.toBe(0);
        const errors = run.findings.filter((f) => f.severity === 'error');
        // Exactly the rule under test fires, and it names the offending import.
        expect(new Set(errors.map((f) => f.rule)), run.output).toEqual(new Set([c.rule]));
        expect(errors.some((f) => matches(f, c)), run.output).toBe(true);
      });
    }
  });

  it('make the CLI exit non-zero, as npm run lint:layers runs it', async () => {
    const c = CASES.find((x) => x.rule === 'node-core-pure-no-node-builtins');
    if (c === undefined) throw new Error('case missing');
    const run = await lintTreeWithCli(c.files, args);
    expect(run.code, run.output).not.toBe(0);
    expect(run.findings.filter((f) => f.severity === 'error').map((f) => f.rule)).toEqual([c.rule]);
    expect(run.findings.some((f) => matches(f, c)), run.output).toBe(true);
  });

  it('reports an unresolvable import as a warning without failing', async () => {
    const run = await lintTreeWithCli({ 'main/x.ts': "import { gone } from './missing';\nexport const x = gone;\n" }, args);
    expect(run.code).toBe(0);
    expect(run.findings).toEqual([{ severity: 'warn', rule: 'not-to-unresolvable', from: 'main/x.ts', to: './missing' }]);
  });
});

describe('the repository', () => {
  it('passes npm run lint:layers', async () => {
    const run = await runDepcruise(repoRoot, args);
    expect(run.findings.filter((f) => f.severity === 'error'), run.output).toEqual([]);
    expect(run.code, run.output).toBe(0);
  });
});
