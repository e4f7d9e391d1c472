/**
 * Key files on disk (node-core/io/keystore.ts).
 */
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nobleSuite } from '../../node-core/crypto/noble';
import { inspectEnvelope, sealSecret } from '../../node-core/crypto/sealed';
import { nodeSuite } from '../../node-core/io/crypto-node';
import {
  KeystoreError,
  loadOrCreateIdentityKey,
  readKeyFile,
  writeKeyFile,
  type KeystoreErrorCode,
} from '../../node-core/io/keystore';
import { toHex } from './suites';

const FAST = { logN: 4 } as const;
const posix = process.platform !== 'win32';
let root = '';
let n = 0;
const fresh = () => join(root, `case-${n++}`);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'keystore-test-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<KeystoreError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KeystoreError);
    return e as KeystoreError;
  }
  throw new Error('expected a KeystoreError');
}

async function expectCode(p: Promise<unknown>, code: KeystoreErrorCode): Promise<KeystoreError> {
  const e = await failure(p);
  expect(e.code).toBe(code);
  return e;
}

const secret = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);

describe('writeKeyFile / readKeyFile', () => {
  it('round-trips a secret', async () => {
    const dir = fresh();
    const path = join(dir, 'id.key');
    await writeKeyFile(path, secret, 'pass phrase', { scrypt: FAST });
    expect(await readKeyFile(path, 'pass phrase')).toEqual(secret);
  });

  it('uses the default scrypt cost (N = 2^15) unless told otherwise', async () => {
    const path = join(fresh(), 'default.key');
    await writeKeyFile(path, secret, 'pw');
    expect(inspectEnvelope(new Uint8Array(await readFile(path)))).toMatchObject({ logN: 15, r: 8, p: 1 });
    expect(await readKeyFile(path, 'pw')).toEqual(secret);
  });

  it.runIf(posix)('creates the file with mode 0600 whatever the umask', async () => {
    const path = join(fresh(), 'mode.key');
    const old = process.umask(0o000);
    try {
      await writeKeyFile(path, secret, 'pw', { scrypt: FAST });
    } finally {
      process.umask(old);
    }
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('never writes the secret bytes or the passphrase into the file', async () => {
    const path = join(fresh(), 'secret.key');
    const passphrase = 'a long and memorable passphrase';
    await writeKeyFile(path, secret, passphrase, { scrypt: FAST });
    const fileHex = toHex(new Uint8Array(await readFile(path)));
    for (let i = 0; i + 6 <= secret.length; i++) expect(fileHex).not.toContain(toHex(secret.subarray(i, i + 6)));
    expect(fileHex).not.toContain(toHex(new TextEncoder().encode(passphrase).subarray(0, 8)));
  });

  it('leaves no temporary files behind', async () => {
    const dir = fresh();
    await writeKeyFile(join(dir, 'a.key'), secret, 'pw', { scrypt: FAST });
    await writeKeyFile(join(dir, 'a.key'), secret, 'pw2', { scrypt: FAST });
    await expectCode(writeKeyFile(join(dir, 'a.key'), secret, 'pw3', { scrypt: FAST, overwrite: false }), 'exists');
    expect(await readdir(dir)).toEqual(['a.key']);
  });

  it('replaces an existing file by default, but not with overwrite: false', async () => {
    const path = join(fresh(), 'replace.key');
    await writeKeyFile(path, secret, 'one', { scrypt: FAST });
    await writeKeyFile(path, secret.map((x) => x ^ 0xff), 'two', { scrypt: FAST });
    expect(await readKeyFile(path, 'two')).toEqual(secret.map((x) => x ^ 0xff));
    const before = await readFile(path);
    await expectCode(writeKeyFile(path, secret, 'three', { scrypt: FAST, overwrite: false }), 'exists');
    expect(await readFile(path)).toEqual(before);
  });

  it('a wrong passphrase gives auth-failed and a clear message', async () => {
    const path = join(fresh(), 'wrong.key');
    await writeKeyFile(path, secret, 'right', { scrypt: FAST });
    const e = await expectCode(readKeyFile(path, 'wrong'), 'auth-failed');
    expect(e.message).toContain(path);
    expect(e.message).toMatch(/wrong passphrase/);
    expect(e.path).toBe(path);
  });

  it('a flipped byte anywhere is refused', async () => {
    const path = join(fresh(), 'flip.key');
    await writeKeyFile(path, secret, 'pw', { scrypt: FAST });
    const good = new Uint8Array(await readFile(path));
    for (const [i, code] of [
      [0, 'corrupt'],
      [4, 'corrupt'],
      [12, 'auth-failed'],
      [40, 'auth-failed'],
      [good.length - 1, 'auth-failed'],
    ] as const) {
      const bad = good.slice();
      bad[i]! ^= 0x10;
      await writeFile(path, bad, { mode: 0o600 });
      await expectCode(readKeyFile(path, 'pw'), code);
    }
  });

  it('a truncated or empty file is refused', async () => {
    const path = join(fresh(), 'trunc.key');
    await writeKeyFile(path, secret, 'pw', { scrypt: FAST });
    const good = new Uint8Array(await readFile(path));
    for (const len of [0, 10, 36, 53]) {
      await writeFile(path, good.subarray(0, len), { mode: 0o600 });
      const e = await expectCode(readKeyFile(path, 'pw'), 'corrupt');
      expect(e.message).toMatch(/damaged|not a key file/);
    }
    await writeFile(path, good.subarray(0, good.length - 1), { mode: 0o600 });
    await expectCode(readKeyFile(path, 'pw'), 'auth-failed');
  });

  it('an oversized file is refused without reading it all', async () => {
    const path = join(fresh(), 'big.key');
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, new Uint8Array(100_000), { mode: 0o600 });
    await expectCode(readKeyFile(path, 'pw'), 'corrupt');
  });

  it.runIf(posix)('refuses key files readable by group or others, with the fix in the message', async () => {
    const path = join(fresh(), 'open.key');
    await writeKeyFile(path, secret, 'pw', { scrypt: FAST });
    for (const mode of [0o644, 0o640, 0o604, 0o660, 0o606]) {
      await chmod(path, mode);
      const e = await expectCode(readKeyFile(path, 'pw'), 'insecure-permissions');
      expect(e.message).toContain(`0${mode.toString(8)}`);
      expect(e.message).toContain('chmod 600');
    }
    await chmod(path, 0o400);
    expect(await readKeyFile(path, 'pw')).toEqual(secret);
  });

  it('missing files and directories have their own codes', async () => {
    const dir = fresh();
    await expectCode(readKeyFile(join(dir, 'nope.key'), 'pw'), 'not-found');
    await mkdir(join(dir, 'adir'), { recursive: true, mode: 0o700 });
    await expectCode(readKeyFile(join(dir, 'adir'), 'pw'), 'not-a-file');
  });

  it('reads files sealed by the pure code (noble scrypt and suite)', async () => {
    const path = join(fresh(), 'pure.key');
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, await sealSecret(secret, 'pw', nobleSuite, FAST), { mode: 0o600 });
    expect(await readKeyFile(path, 'pw')).toEqual(secret);
    expect(await readKeyFile(path, 'pw', { suite: nobleSuite })).toEqual(secret);
  });

  it('checks its arguments', async () => {
    await expect(writeKeyFile('', secret, 'pw')).rejects.toThrow(TypeError);
    await expect(writeKeyFile(join(root, 'x.key'), 'abc' as unknown as Uint8Array, 'pw')).rejects.toThrow(/secret/);
    await expect(writeKeyFile(join(root, 'x.key'), secret, 7 as unknown as string)).rejects.toThrow(/passphrase/);
    await expect(readKeyFile(5 as unknown as string, 'pw')).rejects.toThrow(/path/);
  });
});

describe('loadOrCreateIdentityKey', () => {
  it('creates a 32-byte seed on first use and returns the same one afterwards', async () => {
    const path = join(fresh(), 'nested', 'identity.key');
    const a = await loadOrCreateIdentityKey(path, 'pw', nodeSuite, { scrypt: FAST });
    expect(a).toHaveLength(32);
    if (posix) expect((await stat(path)).mode & 0o777).toBe(0o600);
    const b = await loadOrCreateIdentityKey(path, 'pw', nobleSuite, { scrypt: FAST });
    expect(b).toEqual(a);
    // The seed is a working Ed25519 key.
    const pk = nodeSuite.ed25519PublicKey(a);
    expect(nodeSuite.ed25519Verify(nodeSuite.ed25519Sign(new Uint8Array([1]), a), new Uint8Array([1]), pk)).toBe(true);
  });

  it('concurrent first calls agree on one seed', async () => {
    const path = join(fresh(), 'race.key');
    const seeds = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateIdentityKey(path, 'pw', nodeSuite, { scrypt: FAST })));
    for (const s of seeds) expect(s).toEqual(seeds[0]);
    expect(await readKeyFile(path, 'pw')).toEqual(seeds[0]);
  });

  it('never replaces an existing file: wrong passphrase and damage both throw', async () => {
    const path = join(fresh(), 'keep.key');
    await loadOrCreateIdentityKey(path, 'pw', nodeSuite, { scrypt: FAST });
    const before = await readFile(path);
    await expectCode(loadOrCreateIdentityKey(path, 'other', nodeSuite, { scrypt: FAST }), 'auth-failed');
    expect(await readFile(path)).toEqual(before);
    const damaged = new Uint8Array(before);
    damaged[damaged.length - 3]! ^= 1;
    await writeFile(path, damaged, { mode: 0o600 });
    await expectCode(loadOrCreateIdentityKey(path, 'pw', nodeSuite, { scrypt: FAST }), 'auth-failed');
    expect(new Uint8Array(await readFile(path))).toEqual(damaged);
  });

  it('refuses a key file that holds something other than a 32-byte seed', async () => {
    const path = join(fresh(), 'short.key');
    await writeKeyFile(path, new Uint8Array(16).fill(1), 'pw', { scrypt: FAST });
    await expectCode(loadOrCreateIdentityKey(path, 'pw', nodeSuite), 'corrupt');
  });

  it.runIf(posix)('refuses an existing identity file readable by others rather than recreating it', async () => {
    const path = join(fresh(), 'shared.key');
    await loadOrCreateIdentityKey(path, 'pw', nodeSuite, { scrypt: FAST });
    await chmod(path, 0o644);
    await expectCode(loadOrCreateIdentityKey(path, 'pw', nodeSuite), 'insecure-permissions');
  });
});
