/**
 * Runs the IdentityRegistry compliance suite against both implementations: in memory, and in
 * the embedded SQLite database (a fresh file in a temporary folder for each registry).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { MemoryIdentityRegistry } from '../../node-core/authority';
import { SqliteIdentityRegistry } from '../../node-core/io/storage';
import { registryCompliance } from './registry-compliance';

registryCompliance('MemoryIdentityRegistry', () => ({ registry: new MemoryIdentityRegistry(), close: () => undefined }));

const dir = mkdtempSync(join(tmpdir(), 'psp-registry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

registryCompliance('SqliteIdentityRegistry', () => {
  const registry = SqliteIdentityRegistry.open(join(dir, `registry-${n++}.sqlite`), { now: 0 });
  return { registry, close: () => registry.close() };
});
