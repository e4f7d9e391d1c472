/**
 * The embedded database (node-core/io/storage): crash-safety settings, transactions,
 * migrations, reopening, and what happens with damaged, foreign, newer or locked files — each
 * time with the file left as it was.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  IDENTITY_REGISTRY_COMPONENT,
  PSP_APPLICATION_ID,
  SqliteDatabase,
  SqliteIdentityRegistry,
  StorageError,
  type StorageErrorCode,
  applyMigrations,
  schemaVersion,
} from '../../node-core/io/storage';
import { toHex } from '../../node-core/util/bytes';
import { T0, keyPair, verifiedRegistration } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'psp-storage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (name = 'db'): string => join(dir, `${name}-${n++}.sqlite`);

function expectStorageError(fn: () => unknown, code: StorageErrorCode): StorageError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected StorageError(${code})`).toBeInstanceOf(StorageError);
  expect((thrown as StorageError).code, (thrown as Error).message).toBe(code);
  return thrown as StorageError;
}

const alice = keyPair('storage-alice');
const bob = keyPair('storage-bob');

describe('SqliteDatabase', () => {
  it('opens with a truncated rollback journal and synchronous = FULL', () => {
    const db = SqliteDatabase.open(fresh());
    try {
      expect(db.get('PRAGMA journal_mode')?.['journal_mode']).toBe('truncate');
      expect(db.get('PRAGMA synchronous')?.['synchronous']).toBe(2);
      expect(db.get('PRAGMA foreign_keys')?.['foreign_keys']).toBe(1);
    } finally {
      db.close();
    }
  });

  it('commits a transaction, rolls back one that throws, refuses async and nested ones', () => {
    const db = SqliteDatabase.open(fresh());
    try {
      db.exec('CREATE TABLE t (v INTEGER NOT NULL)');
      expect(db.transaction(() => db.run('INSERT INTO t VALUES (1)').changes)).toBe(1);
      expect(() =>
        db.transaction(() => {
          db.run('INSERT INTO t VALUES (2)');
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(() => db.transaction(() => db.run('INSERT INTO t VALUES (NULL)'))).toThrow(StorageError);
      expect(() => db.transaction(async () => db.run('INSERT INTO t VALUES (3)'))).toThrow(/synchronous/);
      expect(() => db.transaction(() => db.transaction(() => 1))).toThrow(/nest/);
      expect(db.all('SELECT v FROM t').map((r) => r['v'])).toEqual([1]);
      expect(db.inTransaction).toBe(false);
    } finally {
      db.close();
    }
  });

  it('maps constraint failures and closed handles to their codes', () => {
    const db = SqliteDatabase.open(fresh());
    db.exec('CREATE TABLE t (v INTEGER PRIMARY KEY)');
    db.run('INSERT INTO t VALUES (1)');
    expectStorageError(() => db.run('INSERT INTO t VALUES (1)'), 'constraint');
    db.close();
    db.close(); // harmless
    expectStorageError(() => db.get('SELECT 1'), 'closed');
  });

  it('refuses a missing file with mustExist or readOnly, and writes on a read-only handle', () => {
    const path = fresh();
    expectStorageError(() => SqliteDatabase.open(path, { mustExist: true }), 'not-found');
    expectStorageError(() => SqliteDatabase.open(path, { readOnly: true }), 'not-found');
    expect(existsSync(path)).toBe(false);
    SqliteDatabase.open(path).close();
    const ro = SqliteDatabase.open(path, { readOnly: true });
    try {
      expectStorageError(() => ro.exec('CREATE TABLE t (v)'), 'read-only');
    } finally {
      ro.close();
    }
  });

  it('gives corrupt for a file that is not a database, and leaves it untouched', () => {
    const path = fresh('garbage');
    const garbage = new TextEncoder().encode('this is not a database, just some text that happens to be here\n'.repeat(80));
    writeFileSync(path, garbage);
    const e = expectStorageError(() => SqliteDatabase.open(path), 'corrupt');
    expect(e.message).toMatch(/left as it is/);
    expect(e.path).toBe(path);
    expect(toHex(readFileSync(path))).toBe(toHex(garbage));
    expectStorageError(() => SqliteIdentityRegistry.open(path), 'corrupt');
    expect(toHex(readFileSync(path))).toBe(toHex(garbage));
  });

  it('gives corrupt for a database whose pages are damaged, and leaves it untouched', () => {
    const path = fresh('damaged');
    const db = SqliteDatabase.open(path);
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    db.transaction(() => {
      for (let i = 0; i < 300; i++) db.run('INSERT INTO t (v) VALUES (?)', ['x'.repeat(120)]);
    });
    db.close();
    const bytes = readFileSync(path);
    const pageSize = (bytes[16]! << 8) | bytes[17]!;
    for (let i = pageSize + 100; i < 3 * pageSize; i++) bytes[i] = 0x5a;
    writeFileSync(path, bytes);
    expectStorageError(() => SqliteDatabase.open(path), 'corrupt');
    expect(toHex(readFileSync(path))).toBe(toHex(bytes));
  });

  it("reports 'locked' with a hint when a crashed process left its lock folder", () => {
    const path = fresh('locked');
    SqliteDatabase.open(path).close();
    mkdirSync(`${path}.lock`);
    try {
      const e = expectStorageError(() => SqliteDatabase.open(path), 'locked');
      expect(e.message).toMatch(/\.lock/);
    } finally {
      rmSync(`${path}.lock`, { recursive: true });
    }
    SqliteDatabase.open(path).close();
  });
});

describe('migrations', () => {
  const migrations = [
    { version: 1, name: 'one', up: (db: SqliteDatabase) => db.exec('CREATE TABLE a (x INTEGER) STRICT') },
    { version: 2, name: 'two', up: (db: SqliteDatabase) => db.exec('CREATE TABLE b (y INTEGER) STRICT') },
  ];

  it('applies pending migrations once, records them, and marks the file as ours', () => {
    const db = SqliteDatabase.open(fresh());
    try {
      expect(applyMigrations(db, 'test', migrations.slice(0, 1), 5)).toEqual({ from: 0, to: 1, applied: [1] });
      expect(applyMigrations(db, 'test', migrations, 6)).toEqual({ from: 1, to: 2, applied: [2] });
      expect(applyMigrations(db, 'test', migrations, 7)).toEqual({ from: 2, to: 2, applied: [] });
      expect(schemaVersion(db, 'test')).toBe(2);
      expect(schemaVersion(db, 'other')).toBe(0);
      expect(db.all('SELECT version, name, applied_at FROM schema_version ORDER BY version')).toEqual([
        { version: 1, name: 'one', applied_at: 5 },
        { version: 2, name: 'two', applied_at: 6 },
      ]);
      expect(db.get('PRAGMA application_id')?.['application_id']).toBe(PSP_APPLICATION_ID);
    } finally {
      db.close();
    }
  });

  it('applies nothing when one migration fails', () => {
    const db = SqliteDatabase.open(fresh());
    try {
      const failing = [migrations[0]!, { version: 2, name: 'bad', up: (d: SqliteDatabase) => d.exec('CREATE TABLE broken (') }];
      expect(() => applyMigrations(db, 'test', failing)).toThrow(StorageError);
      expect(db.all("SELECT name FROM sqlite_schema WHERE type = 'table'")).toEqual([]);
      expect(db.get('PRAGMA application_id')?.['application_id']).toBe(0);
    } finally {
      db.close();
    }
  });

  it('refuses a newer schema, a different history and a foreign database, changing nothing', () => {
    const path = fresh();
    const db = SqliteDatabase.open(path);
    applyMigrations(db, 'test', migrations);
    db.close();
    const before = readFileSync(path);
    const again = SqliteDatabase.open(path);
    try {
      expectStorageError(() => applyMigrations(again, 'test', migrations.slice(0, 1)), 'schema-too-new');
      expectStorageError(() => applyMigrations(again, 'test', [migrations[0]!, { ...migrations[1]!, name: 'renamed' }]), 'schema-mismatch');
    } finally {
      again.close();
    }
    expect(toHex(readFileSync(path))).toBe(toHex(before));

    const foreign = fresh('foreign');
    const f = SqliteDatabase.open(foreign);
    f.exec('CREATE TABLE their_data (x)');
    f.close();
    const fb = readFileSync(foreign);
    expectStorageError(() => SqliteIdentityRegistry.open(foreign), 'foreign-database');
    expect(toHex(readFileSync(foreign))).toBe(toHex(fb));
  });

  it('checks its arguments', () => {
    const db = SqliteDatabase.open(fresh());
    try {
      expect(() => applyMigrations(db, 'test', [])).toThrow(RangeError);
      expect(() => applyMigrations(db, 'test', [migrations[1]!])).toThrow(/versions are 1, 2, 3/);
      expect(() => applyMigrations(db, 'Bad Name', migrations)).toThrow(RangeError);
    } finally {
      db.close();
    }
  });
});

describe('SqliteIdentityRegistry', () => {
  it('keeps its data across close and reopen, also read-only', async () => {
    const path = fresh('registry');
    const r = SqliteIdentityRegistry.open(path);
    await r.register(verifiedRegistration(alice), T0);
    await r.register(verifiedRegistration(bob, { displayName: 'Bob' }), T0 + 1);
    r.close();
    await expect(r.get(alice.publicKey)).rejects.toThrow(StorageError);
    const again = SqliteIdentityRegistry.open(path);
    try {
      expect(again.count()).toBe(2);
      expect((await again.get(bob.publicKey))!.displayName).toBe('Bob');
      expect((await again.get(alice.publicKey))!.registeredAt).toBe(T0);
    } finally {
      again.close();
    }
    const ro = SqliteIdentityRegistry.open(path, { readOnly: true });
    try {
      expect(await ro.isRegistered(alice.publicKey)).toBe(true);
      await expect(ro.register(verifiedRegistration(alice, { createdAt: T0 + 5 }, T0 + 5), T0 + 5)).rejects.toMatchObject({ code: 'read-only' });
    } finally {
      ro.close();
    }
  });

  it('a registration that fails part-way leaves both tables unchanged (create and update)', async () => {
    const path = fresh('failing');
    const r = SqliteIdentityRegistry.open(path);
    await r.register(verifiedRegistration(alice), T0);
    // Make the second write of `register` (the log row) fail, through another connection.
    const side = SqliteDatabase.open(path);
    side.exec(`CREATE TRIGGER fail_log BEFORE INSERT ON identity_registration_log BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
    const logRows = side.get('SELECT count(*) AS n FROM identity_registration_log')?.['n'];
    side.close();
    try {
      await expect(r.register(verifiedRegistration(bob), T0)).rejects.toThrow(/injected failure/);
      expect(await r.isRegistered(bob.publicKey)).toBe(false);
      const newer = verifiedRegistration(alice, { createdAt: T0 + 10, displayName: 'Changed' }, T0 + 10);
      await expect(r.register(newer, T0 + 10)).rejects.toThrow(StorageError);
      const rec = (await r.get(alice.publicKey))!;
      expect(rec.displayName).toBe('Alice');
      expect(rec.updatedAt).toBe(T0);
      expect(r.count()).toBe(1);
    } finally {
      r.close();
    }
    const check = SqliteDatabase.open(path);
    try {
      expect(check.get('SELECT count(*) AS n FROM identity_registration_log')?.['n']).toBe(logRows);
      check.exec('DROP TRIGGER fail_log');
    } finally {
      check.close();
    }
    const healed = SqliteIdentityRegistry.open(path);
    try {
      expect(await healed.register(verifiedRegistration(bob), T0)).toBe('created');
    } finally {
      healed.close();
    }
  });

  it('logs every accepted change', async () => {
    const path = fresh('log');
    const r = SqliteIdentityRegistry.open(path);
    await r.register(verifiedRegistration(alice), T0);
    await r.register(verifiedRegistration(alice), T0 + 1);
    await r.register(verifiedRegistration(alice, { createdAt: T0 + 2 }, T0 + 2), T0 + 2);
    r.close();
    const db = SqliteDatabase.open(path);
    try {
      expect(db.all('SELECT outcome, at FROM identity_registration_log ORDER BY seq')).toEqual([
        { outcome: 'created', at: T0 },
        { outcome: 'updated', at: T0 + 2 },
      ]);
      expect(schemaVersion(db, IDENTITY_REGISTRY_COMPONENT)).toBe(1);
    } finally {
      db.close();
    }
  });

  it('reports a row it did not write as corrupt: at open (integrity check) or when read', async () => {
    const path = fresh('badrow');
    SqliteIdentityRegistry.open(path).close();
    const db = SqliteDatabase.open(path);
    // A row with a 1-byte nonce, written past the CHECK constraints.
    db.exec(`
      PRAGMA ignore_check_constraints = ON;
      INSERT INTO identity_registrations VALUES (x'${toHex(alice.publicKey)}', 'x', NULL, 1, x'00', x'${'00'.repeat(32)}', x'00', 1, 1);
    `);
    db.close();
    const before = readFileSync(path);
    expectStorageError(() => SqliteIdentityRegistry.open(path), 'corrupt');
    expect(toHex(readFileSync(path))).toBe(toHex(before));
    const r = SqliteIdentityRegistry.open(path, { check: 'none' });
    try {
      await expect(r.get(alice.publicKey)).rejects.toMatchObject({ code: 'corrupt' });
    } finally {
      r.close();
    }
  });
});
