/**
 * The desktop app's per-profile keychain secret (see ./keys): 32 random bytes, kept in the
 * profile's `keychain.secret` sealed by the OS keychain (Electron `safeStorage`). The MAIN
 * process calls this and sends the secret to the backend; the storage is passed in, so this
 * runs (and is tested) without Electron.
 *
 * A file that exists but cannot be unsealed is never replaced: the profile's keys are sealed
 * with the secret it holds, and a new one would lock them out for good.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from './files';
import { KEYCHAIN_SECRET_PATTERN } from './keys';

/** The part of Electron's safeStorage used here. */
export interface SafeStorageLike {
  encryptString(plainText: string): Uint8Array;
  decryptString(sealed: Buffer): string;
}

/** The secret sealed at `path`, created (and sealed) on first use. */
export function loadOrCreateKeychainSecret(path: string, storage: SafeStorageLike): string {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
  if (typeof storage !== 'object' || storage === null || typeof storage.encryptString !== 'function' || typeof storage.decryptString !== 'function') {
    throw new TypeError('storage must have encryptString and decryptString');
  }
  let sealed: Buffer | null = null;
  try {
    sealed = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (sealed !== null) {
    const secret = storage.decryptString(sealed);
    if (!KEYCHAIN_SECRET_PATTERN.test(secret)) throw new Error(`${path} does not hold a keychain secret of this app`);
    return secret;
  }
  const secret = randomBytes(32).toString('hex');
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileAtomic(path, Buffer.from(storage.encryptString(secret)));
  return secret;
}
