/**
 * Key files: a secret sealed under a passphrase (node-core/crypto/sealed.ts) stored in a file
 * only its owner can read.
 *
 * - `writeKeyFile` writes a temporary file in the same directory with mode 0600, syncs it, checks
 *   its mode, then renames it over the target (or, for `overwrite: false`, links it into place so
 *   an existing file is never replaced), and syncs the directory.
 * - `readKeyFile` refuses anything that is not a regular file, a file group or others may read,
 *   and files that are not a sealed secret — each with its own `KeystoreError` code.
 * - `loadOrCreateIdentityKey` returns the 32-byte Ed25519 identity seed, creating the file on
 *   first use; it never replaces an existing file, even a damaged one.
 *
 * On Windows file modes do not exist; the mode checks are skipped there.
 * scrypt runs on node:crypto (`nodeScrypt`), which gives the same bytes as the pure one.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { link, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { CryptoSuite } from '../crypto/api';
import { SealedError, openSecret, sealSecret, type ScryptParams } from '../crypto/sealed';
import { assertBytes } from '../util/bytes';
import { nodeScrypt, nodeSuite } from './crypto-node';

export type KeystoreErrorCode =
  | 'not-found'
  | 'exists'
  | 'not-a-file'
  | 'insecure-permissions'
  | 'corrupt'
  | 'auth-failed'
  | 'io';

export class KeystoreError extends Error {
  override readonly name = 'KeystoreError';
  constructor(
    readonly code: KeystoreErrorCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface WriteKeyFileOptions {
  /** scrypt cost; the defaults of sealed.ts (N = 2^15, r = 8, p = 1) when absent. */
  readonly scrypt?: Partial<ScryptParams>;
  /** The suite for randomness and the AEAD; `nodeSuite` when absent. */
  readonly suite?: CryptoSuite;
  /** Replace an existing file (default true). With false, an existing file gives KeystoreError('exists'). */
  readonly overwrite?: boolean;
}

export interface ReadKeyFileOptions {
  readonly suite?: CryptoSuite;
}

/** Key files are a few dozen bytes; anything much larger is not one of ours. */
const MAX_KEY_FILE_BYTES = 64 * 1024;
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const checksModes = process.platform !== 'win32';

function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function modeText(mode: number): string {
  return '0' + (mode & 0o777).toString(8).padStart(3, '0');
}

function checkPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
}

function checkPassphrase(passphrase: unknown): void {
  if (typeof passphrase !== 'string' && !(passphrase instanceof Uint8Array)) {
    throw new TypeError('passphrase must be a string or a Uint8Array');
  }
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch {
    // already gone
  }
}

/** Best effort: makes a rename or link durable. Not every platform can open a directory. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // not supported here
  }
}

/** Seals `secret` under `passphrase` and writes it to `path` atomically with mode 0600. */
export async function writeKeyFile(
  path: string,
  secret: Uint8Array,
  passphrase: string | Uint8Array,
  options: WriteKeyFileOptions = {},
): Promise<void> {
  checkPath(path);
  assertBytes(secret, 'secret');
  checkPassphrase(passphrase);
  const suite = options.suite ?? nodeSuite;
  const envelope = await sealSecret(secret, passphrase, suite, { ...options.scrypt, kdf: nodeScrypt });

  const dir = dirname(path);
  try {
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
  } catch (e) {
    throw new KeystoreError('io', path, `cannot create directory ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const tmp = join(dir, `.${basename(path)}.${nodeRandomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', FILE_MODE);
    try {
      // The umask may have narrowed the mode given to open(); set it exactly.
      if (checksModes) await fh.chmod(FILE_MODE);
      await fh.writeFile(envelope);
      await fh.sync();
      if (checksModes) {
        const mode = (await fh.stat()).mode & 0o777;
        if (mode !== FILE_MODE) {
          throw new KeystoreError(
            'insecure-permissions',
            path,
            `cannot give ${tmp} mode 0600 (got ${modeText(mode)}); this file system does not keep file modes`,
          );
        }
      }
    } finally {
      await fh.close();
    }
    if (options.overwrite ?? true) {
      await rename(tmp, path);
    } else {
      try {
        await link(tmp, path); // fails with EEXIST instead of replacing an existing file
      } catch (e) {
        if (errnoCode(e) === 'EEXIST') throw new KeystoreError('exists', path, `key file ${path} already exists`);
        throw e;
      }
      await removeQuietly(tmp);
    }
  } catch (e) {
    await removeQuietly(tmp);
    if (e instanceof KeystoreError) throw e;
    throw new KeystoreError('io', path, `cannot write key file ${path}: ${(e as Error).message}`, { cause: e });
  }
  await syncDirectory(dir);

  if (checksModes) {
    const mode = (await stat(path)).mode & 0o777;
    if (mode !== FILE_MODE) {
      throw new KeystoreError('insecure-permissions', path, `key file ${path} has mode ${modeText(mode)} after writing; expected 0600`);
    }
  }
}

/** Reads and opens the key file at `path`. */
export async function readKeyFile(
  path: string,
  passphrase: string | Uint8Array,
  options: ReadKeyFileOptions = {},
): Promise<Uint8Array> {
  checkPath(path);
  checkPassphrase(passphrase);
  const suite = options.suite ?? nodeSuite;
  let data: Uint8Array;
  try {
    const fh = await open(path, 'r');
    try {
      // Checks on the opened file itself, so the file checked is the file read.
      const st = await fh.stat();
      if (!st.isFile()) throw new KeystoreError('not-a-file', path, `${path} is not a regular file`);
      if (checksModes && (st.mode & 0o077) !== 0) {
        throw new KeystoreError(
          'insecure-permissions',
          path,
          `key file ${path} has mode ${modeText(st.mode)}, so group or others may read it; ` +
            `refusing to use it. Restrict it with: chmod 600 ${path}`,
        );
      }
      if (st.size > MAX_KEY_FILE_BYTES) {
        throw new KeystoreError('corrupt', path, `${path} is ${st.size} bytes; not a key file`);
      }
      data = new Uint8Array(await fh.readFile());
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (e instanceof KeystoreError) throw e;
    if (errnoCode(e) === 'ENOENT') throw new KeystoreError('not-found', path, `key file ${path} does not exist`, { cause: e });
    if (errnoCode(e) === 'EISDIR') throw new KeystoreError('not-a-file', path, `${path} is not a regular file`, { cause: e });
    throw new KeystoreError('io', path, `cannot read key file ${path}: ${(e as Error).message}`, { cause: e });
  }

  try {
    return await openSecret(data, passphrase, suite, { kdf: nodeScrypt });
  } catch (e) {
    if (e instanceof SealedError) {
      if (e.code === 'auth-failed') {
        throw new KeystoreError('auth-failed', path, `cannot open key file ${path}: wrong passphrase, or the file is damaged`, {
          cause: e,
        });
      }
      throw new KeystoreError('corrupt', path, `key file ${path} is damaged or not a key file: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

export const IDENTITY_SEED_LENGTH = 32;

/**
 * The 32-byte Ed25519 identity seed stored at `path`; on first use a fresh seed from `suite` is
 * written there. An existing file is never replaced: a wrong passphrase or a damaged file throws.
 */
export async function loadOrCreateIdentityKey(
  path: string,
  passphrase: string | Uint8Array,
  suite: CryptoSuite,
  options: Pick<WriteKeyFileOptions, 'scrypt'> = {},
): Promise<Uint8Array> {
  checkPath(path);
  checkPassphrase(passphrase);
  if (typeof suite !== 'object' || suite === null || typeof suite.randomBytes !== 'function') {
    throw new TypeError('suite must be a CryptoSuite');
  }
  const load = async (): Promise<Uint8Array> => {
    const seed = await readKeyFile(path, passphrase, { suite });
    if (seed.length !== IDENTITY_SEED_LENGTH) {
      seed.fill(0);
      throw new KeystoreError('corrupt', path, `key file ${path} does not hold a 32-byte identity seed`);
    }
    return seed;
  };
  try {
    return await load();
  } catch (e) {
    if (!(e instanceof KeystoreError) || e.code !== 'not-found') throw e;
  }
  const seed = suite.randomBytes(IDENTITY_SEED_LENGTH);
  try {
    await writeKeyFile(path, seed, passphrase, { suite, scrypt: options.scrypt, overwrite: false });
    return seed;
  } catch (e) {
    seed.fill(0);
    // Someone else created it between our read and our write: use theirs.
    if (e instanceof KeystoreError && e.code === 'exists') return load();
    throw e;
  }
}
