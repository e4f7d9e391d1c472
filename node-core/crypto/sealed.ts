/**
 * Secrets at rest: a small versioned binary envelope holding a secret (an identity seed, say)
 * encrypted under a passphrase. Pure; the file handling is in node-core/io/keystore.ts.
 *
 * Envelope, version 1 (all integers unsigned bytes):
 *
 *   offset  size  field
 *   0       4     magic "SSKS"
 *   4       1     version = 1
 *   5       1     KDF id = 1 (scrypt, RFC 7914)
 *   6       1     log2 N
 *   7       1     r
 *   8       1     p
 *   9       16    salt (random)
 *   25      12    nonce (random)
 *   37      n+16  ChaCha20-Poly1305 ciphertext of the n-byte secret, then the tag (RFC 8439 §2.8)
 *
 * The AEAD key is scrypt(passphrase, salt, N, r, p, 32 bytes); the AAD is the whole 37-byte
 * header, so changing the version, the KDF or its parameters, the salt or the nonce makes the
 * envelope fail to open. A wrong passphrase and tampering are indistinguishable (both fail
 * authentication). Passphrases given as strings are NFC-normalised, then UTF-8 encoded.
 *
 * This module does not choose passphrases, store files or keep secrets in memory for later.
 */
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { assertBytes, concatBytes } from '../util/bytes';
import { CryptoError, type CryptoSuite } from './api';

export type SealedErrorCode = 'bad-format' | 'unsupported' | 'bad-params' | 'auth-failed';

export class SealedError extends Error {
  override readonly name = 'SealedError';
  constructor(
    readonly code: SealedErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/**
 * An scrypt implementation (RFC 7914) returning `dkLen` bytes. `nobleScrypt` is the pure one;
 * node-core/io/crypto-node.ts offers `nodeScrypt` on node:crypto (same output, faster).
 */
export type ScryptKdf = (password: Uint8Array, salt: Uint8Array, params: ScryptParams, dkLen: number) => Promise<Uint8Array>;

export interface SealOptions extends Partial<ScryptParams> {
  /** The scrypt implementation; `nobleScrypt` when absent. */
  readonly kdf?: ScryptKdf;
}

export interface OpenOptions {
  readonly kdf?: ScryptKdf;
}

/** N = 2^15, r = 8, p = 1: 32 MiB of memory per derivation. */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = Object.freeze({ logN: 15, r: 8, p: 1 });

/** Limits on parameters, checked when sealing and when opening (a file must not make us allocate gigabytes). */
export const SCRYPT_LIMITS = Object.freeze({ minLogN: 1, maxLogN: 20, maxR: 32, maxP: 16, maxMemoryBytes: 256 * 1024 * 1024 });

export const MAX_SECRET_LENGTH = 4096;

const MAGIC = new Uint8Array([0x53, 0x53, 0x4b, 0x53]); // "SSKS"
const VERSION = 1;
const KDF_SCRYPT = 1;
const SALT_LENGTH = 16;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const HEADER_LENGTH = 4 + 1 + 1 + 3 + SALT_LENGTH + NONCE_LENGTH; // 37
const KEY_LENGTH = 32;

/** The pure scrypt on @noble/hashes, yielding to the event loop while it runs. */
export const nobleScrypt: ScryptKdf = (password, salt, { logN, r, p }, dkLen) =>
  scryptAsync(password, salt, { N: 2 ** logN, r, p, dkLen, maxmem: SCRYPT_LIMITS.maxMemoryBytes + 1024 * 1024 });

/** Why `params` is unacceptable, or null when it is fine. */
function paramsProblem({ logN, r, p }: ScryptParams): string | null {
  const int = (v: number) => Number.isInteger(v);
  if (!int(logN) || logN < SCRYPT_LIMITS.minLogN || logN > SCRYPT_LIMITS.maxLogN) {
    return `logN must be an integer in ${SCRYPT_LIMITS.minLogN}..${SCRYPT_LIMITS.maxLogN}, got ${logN}`;
  }
  if (!int(r) || r < 1 || r > SCRYPT_LIMITS.maxR) return `r must be an integer in 1..${SCRYPT_LIMITS.maxR}, got ${r}`;
  if (!int(p) || p < 1 || p > SCRYPT_LIMITS.maxP) return `p must be an integer in 1..${SCRYPT_LIMITS.maxP}, got ${p}`;
  // scrypt's large array V is 128·r·N bytes (RFC 7914 §5).
  if (128 * r * 2 ** logN > SCRYPT_LIMITS.maxMemoryBytes) {
    return `scrypt memory 128·r·N exceeds ${SCRYPT_LIMITS.maxMemoryBytes} bytes`;
  }
  return null;
}

function passphraseBytes(passphrase: string | Uint8Array): Uint8Array {
  if (typeof passphrase === 'string') return new TextEncoder().encode(passphrase.normalize('NFC'));
  if (passphrase instanceof Uint8Array) return passphrase.slice();
  throw new TypeError('passphrase must be a string or a Uint8Array');
}

function checkSuite(suite: CryptoSuite): void {
  if (typeof suite !== 'object' || suite === null || typeof suite.aeadSeal !== 'function') {
    throw new TypeError('suite must be a CryptoSuite');
  }
}

/** Seals `secret` under `passphrase`; resolves to the envelope bytes. */
export async function sealSecret(
  secret: Uint8Array,
  passphrase: string | Uint8Array,
  suite: CryptoSuite,
  params: SealOptions = {},
): Promise<Uint8Array> {
  assertBytes(secret, 'secret');
  if (secret.length < 1 || secret.length > MAX_SECRET_LENGTH) {
    throw new RangeError(`secret must be 1..${MAX_SECRET_LENGTH} bytes, got ${secret.length}`);
  }
  checkSuite(suite);
  if (typeof params !== 'object' || params === null) throw new TypeError('params must be an object');
  const chosen: ScryptParams = {
    logN: params.logN ?? DEFAULT_SCRYPT_PARAMS.logN,
    r: params.r ?? DEFAULT_SCRYPT_PARAMS.r,
    p: params.p ?? DEFAULT_SCRYPT_PARAMS.p,
  };
  const problem = paramsProblem(chosen);
  if (problem) throw new RangeError(`params: ${problem}`);
  const kdf = params.kdf ?? nobleScrypt;
  if (typeof kdf !== 'function') throw new TypeError('params.kdf must be a function');
  const pass = passphraseBytes(passphrase);
  // Copies: the caller may reuse or wipe its arrays while the KDF runs.
  const plaintext = secret.slice();

  const salt = suite.randomBytes(SALT_LENGTH);
  const nonce = suite.randomBytes(NONCE_LENGTH);
  const header = concatBytes(MAGIC, new Uint8Array([VERSION, KDF_SCRYPT, chosen.logN, chosen.r, chosen.p]), salt, nonce);
  const key = await kdf(pass, salt, chosen, KEY_LENGTH);
  try {
    return concatBytes(header, suite.aeadSeal(key, nonce, plaintext, header));
  } finally {
    key.fill(0);
    pass.fill(0);
    plaintext.fill(0);
  }
}

/** The parameters an envelope was sealed with, without opening it. Throws SealedError. */
export function inspectEnvelope(envelope: Uint8Array): ScryptParams & { secretLength: number } {
  assertBytes(envelope, 'envelope');
  if (envelope.length < HEADER_LENGTH + TAG_LENGTH + 1) {
    throw new SealedError('bad-format', `sealed secret is ${envelope.length} bytes; too short`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (envelope[i] !== MAGIC[i]) throw new SealedError('bad-format', 'not a sealed secret (wrong magic bytes)');
  }
  if (envelope[4] !== VERSION) throw new SealedError('unsupported', `sealed secret version ${envelope[4]} is not supported`);
  if (envelope[5] !== KDF_SCRYPT) throw new SealedError('unsupported', `key derivation function ${envelope[5]} is not supported`);
  const params: ScryptParams = { logN: envelope[6]!, r: envelope[7]!, p: envelope[8]! };
  const problem = paramsProblem(params);
  if (problem) throw new SealedError('bad-params', `sealed secret has unacceptable scrypt parameters: ${problem}`);
  const secretLength = envelope.length - HEADER_LENGTH - TAG_LENGTH;
  if (secretLength > MAX_SECRET_LENGTH) throw new SealedError('bad-format', 'sealed secret is too long');
  return { ...params, secretLength };
}

/** Opens an envelope made by `sealSecret`. Throws SealedError('auth-failed') on a wrong passphrase or any tampering. */
export async function openSecret(
  envelope: Uint8Array,
  passphrase: string | Uint8Array,
  suite: CryptoSuite,
  options: OpenOptions = {},
): Promise<Uint8Array> {
  assertBytes(envelope, 'envelope');
  checkSuite(suite);
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const kdf = options.kdf ?? nobleScrypt;
  if (typeof kdf !== 'function') throw new TypeError('options.kdf must be a function');
  const { logN, r, p } = inspectEnvelope(envelope);
  const env = envelope.slice(); // the caller may change its array while the KDF runs
  const pass = passphraseBytes(passphrase);
  const header = env.subarray(0, HEADER_LENGTH);
  const salt = env.slice(9, 9 + SALT_LENGTH);
  const nonce = env.subarray(9 + SALT_LENGTH, HEADER_LENGTH);
  const key = await kdf(pass, salt, { logN, r, p }, KEY_LENGTH);
  try {
    return suite.aeadOpen(key, nonce, env.subarray(HEADER_LENGTH), header);
  } catch (e) {
    if (e instanceof CryptoError && e.code === 'auth-failed') {
      throw new SealedError('auth-failed', 'cannot open sealed secret: wrong passphrase, or the data was altered');
    }
    throw e;
  } finally {
    key.fill(0);
    pass.fill(0);
  }
}
