#!/usr/bin/env node
// `npm run build`: bundles the Electron main process, preload, backend utility process and the
// renderer into dist/ with Vite (configurations in vite.main.config.ts and vite.renderer.config.ts),
// then checks that the Node-side bundles load nothing but 'electron' and Node built-ins.
// Exits non-zero on any failure.
import { copyFile, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';
import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
register();
const { nodeBundleConfig, isRuntimeProvided } = await import('../vite.main.config.ts');
const { rendererConfig } = await import('../vite.renderer.config.ts');

/** Module specifiers a bundle loads: static and dynamic imports, and require() calls. */
function loadedSpecifiers(code) {
  const found = new Set();
  const patterns = [
    // Not preceded by '-', '.' or a quote: '--import' and 'x.import' in strings are not imports.
    /(?<![-.'"\w])import\s*(?:[\w*{}\s,$]+\s*from\s*)?["']([^"']+)["']/g,
    /(?<![-.'"\w])export\s*[\w*{}\s,$]*\s*from\s*["']([^"']+)["']/g,
    /(?<![-.'"\w])import\s*\(\s*["']([^"']+)["']\s*\)/g,
    /(?<![-.'"\w])require\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of code.matchAll(pattern)) found.add(match[1]);
  return [...found];
}

async function checkBundle(file, allowed) {
  const code = await readFile(join(root, 'dist', 'main', file), 'utf8');
  const bad = loadedSpecifiers(code).filter((s) => !allowed(s));
  if (bad.length > 0) throw new Error(`dist/main/${file} loads modules that are not available at run time: ${bad.join(', ')}`);
}

try {
  await rm(join(root, 'dist', 'main'), { recursive: true, force: true });
  await Promise.all([
    build(nodeBundleConfig('main', root)),
    build(nodeBundleConfig('preload', root)),
    build(nodeBundleConfig('backend', root)),
    build(rendererConfig(root)),
  ]);
  // The SQLite engine is WebAssembly: its .wasm file goes next to the bundle that loads it.
  const wasm = createRequire(import.meta.url).resolve('node-sqlite3-wasm/dist/node-sqlite3-wasm.wasm');
  await copyFile(wasm, join(root, 'dist', 'main', 'node-sqlite3-wasm.wasm'));
  await checkBundle('main.js', isRuntimeProvided);
  await checkBundle('backend.js', isRuntimeProvided);
  // A sandboxed preload may require 'electron' only (plus a few polyfilled modules we do not use).
  await checkBundle('preload.cjs', (s) => s === 'electron');
} catch (error) {
  process.stderr.write(`build failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
