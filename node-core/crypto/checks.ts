/**
 * The argument contract of every CryptoSuite primitive (api.ts), in one place, so both suites
 * (noble.ts and io/crypto-node.ts) refuse exactly the same inputs with exactly the same errors.
 * Internal to node-core's crypto.
 */
import { assertBytes } from '../util/bytes';
import { CryptoError } from './api';

/** The largest `randomBytes` request either suite serves. */
export const MAX_RANDOM_BYTES = 1 << 24;

export function checkRandomLength(length: number): void {
  if (!Number.isInteger(length) || length < 0 || length > MAX_RANDOM_BYTES) {
    throw new RangeError(`randomBytes: length must be an integer in 0..${MAX_RANDOM_BYTES}, got ${length}`);
  }
}

export function checkHkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): void {
  assertBytes(ikm, 'ikm');
  assertBytes(salt, 'salt');
  assertBytes(info, 'info');
  // RFC 5869 §2.3: L ≤ 255·HashLen.
  if (!Number.isInteger(length) || length < 1 || length > 255 * 32) {
    throw new RangeError(`hkdfSha256: length must be in 1..8160, got ${length}`);
  }
}

export function checkX25519(secretKey: Uint8Array, peerPublicKey: Uint8Array): void {
  assertBytes(secretKey, 'secretKey', 32);
  assertBytes(peerPublicKey, 'peerPublicKey', 32);
}

/** RFC 7748 §6.1: an all-zero shared secret (a small-order peer key) is refused. */
export function weakKeyError(): CryptoError {
  return new CryptoError('weak-key', 'x25519: peer public key gives an all-zero shared secret');
}

export function checkAead(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, dataName: 'plaintext' | 'sealed', aad: Uint8Array): void {
  assertBytes(key, 'key', 32);
  assertBytes(nonce, 'nonce', 12);
  assertBytes(data, dataName);
  assertBytes(aad, 'aad');
  if (dataName === 'sealed' && data.length < 16) throw new CryptoError('auth-failed', 'aeadOpen: input shorter than the tag');
}

export function tagMismatchError(): CryptoError {
  return new CryptoError('auth-failed', 'aeadOpen: authentication tag does not verify');
}

export function checkAesCtr(key: Uint8Array, iv: Uint8Array): void {
  assertBytes(key, 'key');
  if (key.length !== 16 && key.length !== 32) throw new RangeError('aesCtr: key must be 16 or 32 bytes');
  assertBytes(iv, 'iv', 16);
}
