/**
 * The cryptographic primitives node-core uses, as one interface.
 *
 * Two implementations exist: `nobleSuite` (pure TypeScript on @noble/*, usable anywhere,
 * including the pure part of node-core) and `nodeSuite` (node-core/io/crypto-node.ts,
 * node:crypto fast paths for the hot primitives). Both must return identical bytes for
 * identical inputs; test/crypto/agreement.test.ts checks that.
 *
 * Pure code receives a suite through its runtime object and never imports node:crypto.
 * All inputs and outputs are Uint8Array; every entry checks lengths and types and throws a
 * TypeError or RangeError that names the parameter.
 */

/** A stateful AES-CTR keystream: successive `update` calls continue the same keystream. */
export interface CtrStream {
  /** XORs `data` with the next `data.length` keystream bytes and returns a new array. */
  update(data: Uint8Array): Uint8Array;
}

/** An incremental SHA-256 whose state can be copied (for relay-cell running digests). */
export interface RunningHash {
  update(data: Uint8Array): void;
  /** The digest of everything so far; does not end the hash (more updates may follow). */
  digest(): Uint8Array;
  /** An independent copy of the current state. */
  clone(): RunningHash;
}

export interface CryptoSuite {
  readonly name: 'noble' | 'node';

  /** Secure random bytes (globalThis.crypto.getRandomValues or node:crypto). */
  randomBytes(length: number): Uint8Array;

  sha256(data: Uint8Array): Uint8Array;
  sha3_256(data: Uint8Array): Uint8Array;
  /** A fresh incremental SHA-256, optionally seeded with `seed` as the first input. */
  runningSha256(seed?: Uint8Array): RunningHash;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** RFC 5869 HKDF with SHA-256. `length` ≤ 255·32. */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;

  /** RFC 8032 Ed25519. Secret keys are 32-byte seeds; public keys 32 bytes; signatures 64. */
  ed25519PublicKey(secretKey: Uint8Array): Uint8Array;
  ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  /** Returns false (never throws) for a wrong signature, a malformed key or a malformed signature. */
  ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;

  /** RFC 7748 X25519. */
  x25519PublicKey(secretKey: Uint8Array): Uint8Array;
  /** Throws CryptoError('weak-key') when the shared secret is all zeros (small-order peer key). */
  x25519(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array;

  /** RFC 8439 ChaCha20-Poly1305 AEAD; 32-byte key, 12-byte nonce, 16-byte tag appended. */
  aeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array;
  /** Throws CryptoError('auth-failed') when the tag does not verify. */
  aeadOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array;

  /** AES-CTR (key 16 or 32 bytes, 16-byte initial counter block, big-endian 128-bit counter). */
  aesCtr(key: Uint8Array, iv: Uint8Array): CtrStream;
}

export type CryptoErrorCode = 'weak-key' | 'auth-failed' | 'bad-input';

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  constructor(
    readonly code: CryptoErrorCode,
    message: string,
  ) {
    super(message);
  }
}
