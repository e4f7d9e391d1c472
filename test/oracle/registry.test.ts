/**
 * Both SubscriptionRegistry implementations pass the one contract suite; the SQLite one also
 * refuses files that are not its own and rows it did not write.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteDatabase } from '../../node-core/io/storage';
import { MemorySubscriptionRegistry, SqliteSubscriptionRegistry, type SubscriptionRegistry } from '../../node-core/io/storage/subscription-registry';
import { ALICE, T0 } from './helpers';
import { registryContract } from './registry-contract';

const dir = mkdtempSync(join(tmpdir(), 'oracle-registry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileSeq = 0;

registryContract('MemorySubscriptionRegistry', () => {
  const registry = new MemorySubscriptionRegistry();
  return { registry, reopen: () => registry, close: () => registry.close() };
});

registryContract('SqliteSubscriptionRegistry', () => {
  const path = join(dir, `registry-${++fileSeq}.sqlite`);
  let current: SubscriptionRegistry = SqliteSubscriptionRegistry.open(path, { now: T0 });
  return {
    get registry() {
      return current;
    },
    reopen() {
      current.close();
      current = SqliteSubscriptionRegistry.open(path, { now: T0 });
      return current;
    },
    close: () => current.close(),
  };
});

describe('SqliteSubscriptionRegistry files', () => {
  it('refuses a file that is not a database, and leaves it as it was', () => {
    const path = join(dir, 'not-a-db.sqlite');
    writeFileSync(path, 'hello, this is not SQLite at all, just text that is long enough');
    expect(() => SqliteSubscriptionRegistry.open(path)).toThrow(expect.objectContaining({ code: 'corrupt' }));
  });

  it('reports a row it did not write as corrupt', async () => {
    const path = join(dir, 'tampered.sqlite');
    const r = SqliteSubscriptionRegistry.open(path, { now: T0 });
    await r.putSubscription({ identity: ALICE.publicKey, maxBitrate: 1, maxViewers: 1, publicAllowed: false, expiresAt: T0 }, T0);
    r.close();
    const db = SqliteDatabase.open(path);
    db.exec('PRAGMA ignore_check_constraints = ON');
    db.run('UPDATE oracle_subscriptions SET updated_at = -5');
    db.close();
    // The integrity check at open finds the broken CHECK constraint…
    expect(() => SqliteSubscriptionRegistry.open(path)).toThrow(expect.objectContaining({ code: 'corrupt' }));
    // …and without it, reading the row does.
    const again = SqliteSubscriptionRegistry.open(path, { check: 'none' });
    await expect(again.getSubscription(ALICE.publicKey)).rejects.toMatchObject({ name: 'StorageError', code: 'corrupt' });
    again.close();
  });

  it('opens read-only for listing, and refuses to write then', async () => {
    const path = join(dir, 'ro.sqlite');
    const w = SqliteSubscriptionRegistry.open(path, { now: T0 });
    await w.putSubscription({ identity: ALICE.publicKey, maxBitrate: 5, maxViewers: 5, publicAllowed: true, expiresAt: T0 + 1 }, T0);
    w.close();
    const ro = SqliteSubscriptionRegistry.open(path, { readOnly: true });
    expect(await ro.listSubscriptions()).toHaveLength(1);
    await expect(ro.putSubscription({ identity: ALICE.publicKey, maxBitrate: 6, maxViewers: 5, publicAllowed: true, expiresAt: T0 + 1 }, T0)).rejects.toMatchObject({
      code: 'read-only',
    });
    ro.close();
  });
});
