/**
 * SFrame, RFC 9605: end-to-end encryption of media frames (DESIGN §3, "Live streams").
 *
 * What is here:
 *   - the SFrame header codec (RFC 9605 §4.3): a config byte, then the KID and the CTR as
 *     minimal big-endian integers; values 0–7 ride in the config byte;
 *   - key derivation (§4.4.2): sframe_key and sframe_salt from a base_key with HKDF and the
 *     cipher suite's hash, labels "SFrame 1.0 Secret key " / "SFrame 1.0 Secret salt " followed
 *     by the KID (8 bytes, big-endian) and the cipher suite (2 bytes, big-endian);
 *   - the nonce (§4.4.3): sframe_salt XOR the CTR as a 12-byte big-endian integer;
 *   - the AEADs of the five cipher suites of §4.5 (IANA registry values 1–5): AES-CTR with a
 *     truncated HMAC-SHA-256 tag (§4.5.1; 80, 64 and 32 bits) and AES-GCM (128 and 256-bit keys);
 *   - SFrameContext: a key store by KID with the encrypt/decrypt procedures of §4.4.3 and §4.4.4,
 *     the header (plus the caller's metadata) as AAD, one automatic counter per encryption key
 *     that never repeats or wraps (§9.1), and an optional counter-based replay window (§9.3);
 *   - deriveStreamBaseKey: how PSP live streams turn a stream key into SFrame base keys.
 *
 * Stream keys (this project's own rule, not part of RFC 9605). A stream is described by its
 * stream id and a 32-byte stream key that only the broadcaster and the viewers hold. Each key
 * epoch of a stream has its own SFrame base key,
 *
 *   base_key = HKDF-SHA256(IKM  = stream key,
 *                          salt = "" (RFC 5869: HashLen zero bytes),
 *                          info = "PSP-STREAM-SFRAME-v1" || uint16(len(stream id)) || stream id
 *                                 || uint32(epoch),
 *                          L    = 32)                                  (integers big-endian)
 *
 * and is used under KID = epoch (streamKeyId). Rotating the key means starting the next epoch:
 * a new base key under a new KID, so viewers can hold both while the switch propagates. Only
 * the broadcaster encrypts, so one sender per base key holds as §4.4.1 requires.
 *
 * What is not here: frame signatures (every viewer holds the symmetric key, so origin needs a
 * broadcaster signature per group of frames), packetisation and reassembly of frames, and the
 * MLS or sender-key schemes of RFC 9605 §5. Relays never see any of these keys.
 *
 * Pure: no I/O and no randomness; @noble/ciphers and @noble/hashes do the cryptography.
 */
import { ctr as aesCtr, gcm } from '@noble/ciphers/aes.js';
import { expand, extract, hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { assertBytes, concatBytes, equalBytes, utf8 } from '../util/bytes';
import { SFrameError } from './errors';

// ---------------------------------------------------------------------------------------------
// Cipher suites (RFC 9605 §4.5, §8.1)

/** The cipher suite identifiers of the IANA "SFrame Cipher Suites" registry (RFC 9605 §8.1). */
export const SFRAME_SUITE = {
  AES_128_CTR_HMAC_SHA256_80: 0x0001,
  AES_128_CTR_HMAC_SHA256_64: 0x0002,
  AES_128_CTR_HMAC_SHA256_32: 0x0003,
  AES_128_GCM_SHA256_128: 0x0004,
  AES_256_GCM_SHA512_128: 0x0005,
} as const;

export type SFrameSuiteName = keyof typeof SFRAME_SUITE;
export type SFrameSuiteId = (typeof SFRAME_SUITE)[SFrameSuiteName];

/** The constants of a cipher suite, RFC 9605 §4.5 Table 2 (sizes in bytes). */
export interface SFrameSuiteParams {
  readonly id: SFrameSuiteId;
  readonly name: SFrameSuiteName;
  /** Hash output size: SHA-256 (32) or SHA-512 (64). */
  readonly nh: number;
  /** AES key size inside the compound AES-CTR + HMAC key; null for AES-GCM. */
  readonly nka: number | null;
  /** AEAD key size (sframe_key). */
  readonly nk: number;
  /** Nonce size (sframe_salt). */
  readonly nn: number;
  /** Tag size. */
  readonly nt: number;
}

const SUITE_PARAMS: Readonly<Record<SFrameSuiteId, SFrameSuiteParams>> = {
  1: { id: 1, name: 'AES_128_CTR_HMAC_SHA256_80', nh: 32, nka: 16, nk: 48, nn: 12, nt: 10 },
  2: { id: 2, name: 'AES_128_CTR_HMAC_SHA256_64', nh: 32, nka: 16, nk: 48, nn: 12, nt: 8 },
  3: { id: 3, name: 'AES_128_CTR_HMAC_SHA256_32', nh: 32, nka: 16, nk: 48, nn: 12, nt: 4 },
  4: { id: 4, name: 'AES_128_GCM_SHA256_128', nh: 32, nka: null, nk: 16, nn: 12, nt: 16 },
  5: { id: 5, name: 'AES_256_GCM_SHA512_128', nh: 64, nka: null, nk: 32, nn: 12, nt: 16 },
};

/** The constants of `suite`; RangeError for an identifier this module does not implement. */
export function sframeSuite(suite: SFrameSuiteId): SFrameSuiteParams {
  if (typeof suite !== 'number') throw new TypeError('suite must be a number');
  const p = (SUITE_PARAMS as Partial<Record<number, SFrameSuiteParams>>)[suite];
  if (p === undefined) throw new RangeError(`suite ${suite} is not an implemented SFrame cipher suite (1-5)`);
  return p;
}

const hashOf = (p: SFrameSuiteParams) => (p.nh === 64 ? sha512 : sha256);

// ---------------------------------------------------------------------------------------------
// 64-bit values

/** The largest KID or CTR: both are 64-bit unsigned integers (RFC 9605 §4.3). */
export const SFRAME_MAX_VALUE = (1n << 64n) - 1n;

/** Checks a KID or CTR given as a safe integer or a bigint and returns it as a bigint. */
function toU64(value: unknown, name: string): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`${name} must be a non-negative safe integer or a bigint, got ${value}`);
    }
    return BigInt(value);
  }
  if (typeof value === 'bigint') {
    if (value < 0n || value > SFRAME_MAX_VALUE) throw new RangeError(`${name} must be in [0, 2^64 - 1], got ${value}`);
    return value;
  }
  throw new TypeError(`${name} must be a number or a bigint`);
}

/** The number of bytes of the minimal big-endian encoding of v > 0. */
function minimalLength(v: bigint): number {
  let n = 0;
  while (v > 0n) {
    n++;
    v >>= 8n;
  }
  return n;
}

function writeBigEndian(out: Uint8Array, offset: number, v: bigint, length: number): void {
  for (let i = length - 1; i >= 0; i--) {
    out[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

// ---------------------------------------------------------------------------------------------
// Header (RFC 9605 §4.3)

/** A decoded SFrame header. */
export interface SFrameHeader {
  readonly kid: bigint;
  readonly ctr: bigint;
  /** The number of bytes the header occupies (1 to 17). */
  readonly length: number;
}

/** The longest header: the config byte, an 8-byte KID and an 8-byte CTR. */
export const SFRAME_MAX_HEADER_BYTES = 17;

/** Encodes the SFrame header for (kid, ctr) (RFC 9605 §4.3). */
export function encodeHeader(kid: bigint | number, ctr: bigint | number): Uint8Array {
  const k = toU64(kid, 'kid');
  const c = toU64(ctr, 'ctr');
  // §4.3: a value in 0–7 is carried in the config byte with its flag clear; a larger one is
  // appended in the minimum number of bytes, the 3-bit field holding that length minus one.
  const kidLen = k < 8n ? 0 : minimalLength(k);
  const ctrLen = c < 8n ? 0 : minimalLength(c);
  const out = new Uint8Array(1 + kidLen + ctrLen);
  const kidBits = kidLen === 0 ? Number(k) << 4 : 0x80 | ((kidLen - 1) << 4);
  const ctrBits = ctrLen === 0 ? Number(c) : 0x08 | (ctrLen - 1);
  out[0] = kidBits | ctrBits;
  // §4.3: KID first, CTR second.
  writeBigEndian(out, 1, k, kidLen);
  writeBigEndian(out, 1 + kidLen, c, ctrLen);
  return out;
}

/** Reads one extended KID or CTR field of `length` bytes at `offset`, insisting on minimality. */
function readField(data: Uint8Array, offset: number, length: number, what: 'KID' | 'CTR'): bigint {
  if (data.length < offset + length) {
    throw new SFrameError('malformed-header', `SFrame header cut short: the ${what} needs ${length} byte(s)`);
  }
  if (data[offset] === 0) {
    throw new SFrameError('malformed-header', `SFrame header ${what} has a leading zero byte (not minimal)`);
  }
  let v = 0n;
  for (let i = 0; i < length; i++) v = (v << 8n) | BigInt(data[offset + i]!);
  if (v < 8n) {
    throw new SFrameError('malformed-header', `SFrame header ${what} ${v} must be carried in the config byte`);
  }
  return v;
}

/**
 * Decodes the SFrame header at the start of `data` (a header alone or a whole SFrame
 * ciphertext; bytes after the header are left alone). Throws SFrameError('malformed-header')
 * when the header is cut short or not in its unique minimal encoding (RFC 9605 §4.3 "MUST be
 * encoded with the minimum number of bytes"), so each (KID, CTR) has exactly one header.
 */
export function decodeHeader(data: Uint8Array): SFrameHeader {
  assertBytes(data, 'data');
  if (data.length === 0) throw new SFrameError('malformed-header', 'SFrame header cut short: no config byte');
  const config = data[0]!;
  // §4.3 config byte: X (1 bit) | K (3 bits) | Y (1 bit) | C (3 bits).
  const x = (config & 0x80) !== 0;
  const kBits = (config >> 4) & 0x07;
  const y = (config & 0x08) !== 0;
  const cBits = config & 0x07;
  let offset = 1;
  let kid: bigint;
  if (x) {
    kid = readField(data, offset, kBits + 1, 'KID');
    offset += kBits + 1;
  } else {
    kid = BigInt(kBits);
  }
  let ctr: bigint;
  if (y) {
    ctr = readField(data, offset, cBits + 1, 'CTR');
    offset += cBits + 1;
  } else {
    ctr = BigInt(cBits);
  }
  return { kid, ctr, length: offset };
}

// ---------------------------------------------------------------------------------------------
// Key derivation and nonce (RFC 9605 §4.4.2, §4.4.3)

const KEY_LABEL = utf8('SFrame 1.0 Secret key ');
const SALT_LABEL = utf8('SFrame 1.0 Secret salt ');
const EMPTY = new Uint8Array(0);

/** Shortest base key accepted: 128 bits (the RFC's test vectors use 16 bytes). */
export const SFRAME_MIN_BASE_KEY_BYTES = 16;

function label(prefix: Uint8Array, kid: bigint, suite: SFrameSuiteId): Uint8Array {
  const out = new Uint8Array(prefix.length + 10);
  out.set(prefix, 0);
  // §4.4.2: the KID as an 8-byte big-endian integer (not the header's compact form), then the
  // cipher suite as a 2-byte big-endian integer.
  writeBigEndian(out, prefix.length, kid, 8);
  out[prefix.length + 8] = suite >>> 8;
  out[prefix.length + 9] = suite & 0xff;
  return out;
}

/**
 * The HKDF info labels of RFC 9605 §4.4.2 for (suite, kid). Internal helper, exported for the
 * known-answer tests.
 */
export function sframeLabels(suite: SFrameSuiteId, kid: bigint | number): { keyLabel: Uint8Array; saltLabel: Uint8Array } {
  const p = sframeSuite(suite);
  const k = toU64(kid, 'kid');
  return { keyLabel: label(KEY_LABEL, k, p.id), saltLabel: label(SALT_LABEL, k, p.id) };
}

/** The per-KID key material of RFC 9605 §4.4.2. */
export interface SFrameKeySalt {
  /** sframe_key, AEAD.Nk bytes. */
  readonly key: Uint8Array;
  /** sframe_salt, AEAD.Nn bytes. */
  readonly salt: Uint8Array;
}

/** derive_key_salt(KID, base_key) of RFC 9605 §4.4.2, with the hash of `suite`. */
export function deriveKeySalt(suite: SFrameSuiteId, kid: bigint | number, baseKey: Uint8Array): SFrameKeySalt {
  const p = sframeSuite(suite);
  const k = toU64(kid, 'kid');
  assertBytes(baseKey, 'baseKey');
  if (baseKey.length < SFRAME_MIN_BASE_KEY_BYTES) {
    throw new RangeError(`baseKey must be at least ${SFRAME_MIN_BASE_KEY_BYTES} bytes, got ${baseKey.length}`);
  }
  const hash = hashOf(p);
  // sframe_secret = HKDF-Extract("", base_key)
  const secret = extract(hash, baseKey, EMPTY);
  try {
    return {
      key: expand(hash, secret, label(KEY_LABEL, k, p.id), p.nk),
      salt: expand(hash, secret, label(SALT_LABEL, k, p.id), p.nn),
    };
  } finally {
    secret.fill(0);
  }
}

/** The nonce of RFC 9605 §4.4.3: sframe_salt XOR encode_big_endian(CTR, AEAD.Nn). */
export function sframeNonce(salt: Uint8Array, ctr: bigint | number): Uint8Array {
  assertBytes(salt, 'salt', 12);
  const c = toU64(ctr, 'ctr');
  const nonce = salt.slice();
  let v = c;
  for (let i = nonce.length - 1; i >= 0 && v > 0n; i--) {
    nonce[i]! ^= Number(v & 0xffn);
    v >>= 8n;
  }
  return nonce;
}

// ---------------------------------------------------------------------------------------------
// AEADs (RFC 9605 §4.5, §4.5.1)

/** An AEAD bound to one sframe_key. Internal. */
interface BoundAead {
  /** AEAD.Encrypt: ciphertext || tag. */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** AEAD.Decrypt; throws SFrameError('auth-failed'). `sealed` is at least Nt bytes. */
  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array;
  /** Zeroes the key material held. */
  wipe(): void;
}

function authFailed(): SFrameError {
  return new SFrameError('auth-failed', 'SFrame ciphertext failed to authenticate');
}

function u64be(n: number): Uint8Array {
  const out = new Uint8Array(8);
  const hi = Math.floor(n / 2 ** 32);
  const lo = n >>> 0;
  out[0] = hi >>> 24;
  out[1] = (hi >>> 16) & 0xff;
  out[2] = (hi >>> 8) & 0xff;
  out[3] = hi & 0xff;
  out[4] = lo >>> 24;
  out[5] = (lo >>> 16) & 0xff;
  out[6] = (lo >>> 8) & 0xff;
  out[7] = lo & 0xff;
  return out;
}

/** AES-CTR with a truncated HMAC-SHA-256 tag, encrypt-then-MAC (RFC 9605 §4.5.1). */
function bindCtrHmac(p: SFrameSuiteParams, key: Uint8Array): BoundAead {
  const nka = p.nka!;
  // derive_subkeys: enc_key = sframe_key[..Nka], auth_key = sframe_key[Nka..]
  const encKey = key.slice(0, nka);
  const authKey = key.slice(nka);
  const mac = hmac.create(sha256, authKey);
  authKey.fill(0);
  const tagLen = u64be(p.nt);
  const counterBlock = (nonce: Uint8Array): Uint8Array => {
    // initial_counter = nonce + 0x00000000
    const iv = new Uint8Array(16);
    iv.set(nonce, 0);
    return iv;
  };
  const computeTag = (nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array): Uint8Array => {
    // auth_data = len(aad) (8) || len(ct) (8) || Nt (8) || nonce || aad || ct
    const h = mac.clone();
    h.update(u64be(aad.length)).update(u64be(ct.length)).update(tagLen).update(nonce).update(aad).update(ct);
    const full = h.digest();
    const tag = full.slice(0, p.nt); // truncate(tag, Nt)
    full.fill(0);
    return tag;
  };
  return {
    seal(nonce, aad, plaintext) {
      const out = new Uint8Array(plaintext.length + p.nt);
      const ct = aesCtr(encKey, counterBlock(nonce)).encrypt(plaintext);
      out.set(ct, 0);
      out.set(computeTag(nonce, aad, ct), plaintext.length);
      return out;
    },
    open(nonce, aad, sealed) {
      const inner = sealed.subarray(0, sealed.length - p.nt);
      const tag = sealed.subarray(sealed.length - p.nt);
      if (!equalBytes(tag, computeTag(nonce, aad, inner))) throw authFailed();
      return aesCtr(encKey, counterBlock(nonce)).decrypt(inner);
    },
    wipe() {
      encKey.fill(0);
      mac.destroy();
    },
  };
}

/** AES-GCM with a 16-byte tag (RFC 9605 §4.5; RFC 5116 AEAD_AES_128_GCM / AEAD_AES_256_GCM). */
function bindGcm(key: Uint8Array): BoundAead {
  const k = key.slice();
  return {
    seal(nonce, aad, plaintext) {
      return gcm(k, nonce, aad).encrypt(plaintext);
    },
    open(nonce, aad, sealed) {
      try {
        return gcm(k, nonce, aad).decrypt(sealed);
      } catch {
        // noble reports a tag mismatch with a plain Error; the lengths were checked before.
        throw authFailed();
      }
    },
    wipe() {
      k.fill(0);
    },
  };
}

function bindAead(p: SFrameSuiteParams, key: Uint8Array): BoundAead {
  return p.nka === null ? bindGcm(key) : bindCtrHmac(p, key);
}

function checkAeadInputs(p: SFrameSuiteParams, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array): void {
  assertBytes(key, 'key', p.nk);
  assertBytes(nonce, 'nonce', p.nn);
  assertBytes(aad, 'aad');
}

/**
 * AEAD.Encrypt(key, nonce, aad, pt) of `suite` (RFC 9605 §4.5, §4.5.1): ciphertext || tag.
 * A nonce must never be used twice with one key; SFrameContext ensures that for SFrame.
 */
export function sframeAeadEncrypt(
  suite: SFrameSuiteId,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array {
  const p = sframeSuite(suite);
  checkAeadInputs(p, key, nonce, aad);
  assertBytes(plaintext, 'plaintext');
  const aead = bindAead(p, key);
  try {
    return aead.seal(nonce, aad, plaintext);
  } finally {
    aead.wipe();
  }
}

/**
 * AEAD.Decrypt(key, nonce, aad, ct) of `suite`. Throws SFrameError('short-ciphertext') when
 * `ciphertext` is shorter than the tag and SFrameError('auth-failed') when the tag is wrong.
 */
export function sframeAeadDecrypt(
  suite: SFrameSuiteId,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array {
  const p = sframeSuite(suite);
  checkAeadInputs(p, key, nonce, aad);
  assertBytes(ciphertext, 'ciphertext');
  if (ciphertext.length < p.nt) {
    throw new SFrameError('short-ciphertext', `ciphertext of ${ciphertext.length} bytes is shorter than the ${p.nt}-byte tag`);
  }
  const aead = bindAead(p, key);
  try {
    return aead.open(nonce, aad, ciphertext);
  } finally {
    aead.wipe();
  }
}

// ---------------------------------------------------------------------------------------------
// Replay window (RFC 9605 §9.3, after RFC 3711 §3.3.2)

/**
 * A sliding window over CTR values: the highest CTR accepted so far and one bit for each of the
 * `size` CTRs ending there. Internal.
 */
class ReplayWindow {
  private top: bigint | undefined;
  private readonly bits: Uint8Array;
  private readonly sizeBig: bigint;

  constructor(private readonly size: number) {
    this.bits = new Uint8Array(Math.ceil(size / 8));
    this.sizeBig = BigInt(size);
  }

  private index(ctr: bigint): number {
    return Number(ctr % this.sizeBig);
  }
  private get(ctr: bigint): boolean {
    const i = this.index(ctr);
    return (this.bits[i >> 3]! & (1 << (i & 7))) !== 0;
  }
  private put(ctr: bigint, on: boolean): void {
    const i = this.index(ctr);
    if (on) this.bits[i >> 3]! |= 1 << (i & 7);
    else this.bits[i >> 3]! &= ~(1 << (i & 7));
  }

  /** False when `ctr` was accepted before or lies below the window. */
  allows(ctr: bigint): boolean {
    if (this.top === undefined || ctr > this.top) return true;
    if (this.top - ctr >= this.sizeBig) return false;
    return !this.get(ctr);
  }

  /** Records `ctr` as accepted (after `allows` and a successful decryption). */
  accept(ctr: bigint): void {
    if (this.top === undefined || ctr > this.top) {
      if (this.top === undefined || ctr - this.top >= this.sizeBig) {
        this.bits.fill(0);
      } else {
        for (let c = this.top + 1n; c < ctr; c++) this.put(c, false);
      }
      this.top = ctr;
    }
    this.put(ctr, true);
  }
}

// ---------------------------------------------------------------------------------------------
// SFrame context (RFC 9605 §4.4)

export type SFrameKeyUsage = 'encrypt' | 'decrypt';

/** Default replay window: the last 1,024 CTR values per KID. */
export const SFRAME_DEFAULT_REPLAY_WINDOW = 1024;
/** Largest replay window accepted. */
export const SFRAME_MAX_REPLAY_WINDOW = 1 << 16;

export interface SFrameContextOptions {
  /** The cipher suite of every key in this context (RFC 9605 §4.5). */
  suite: SFrameSuiteId;
  /**
   * How many CTR values below the highest one accepted a decryption key remembers, rejecting a
   * CTR seen before or older than the window (RFC 9605 §9.3). 0 turns the check off.
   * Default SFRAME_DEFAULT_REPLAY_WINDOW.
   */
  replayWindow?: number;
}

export interface SFrameAddKeyOptions {
  /**
   * For an encryption key: the first CTR to use (default 0). An application that keeps the
   * context's counters in storage passes the stored next CTR here (RFC 9605 §9.1).
   */
  nextCtr?: bigint | number;
}

/** The result of SFrameContext.decrypt. */
export interface SFrameDecrypted {
  readonly kid: bigint;
  readonly ctr: bigint;
  readonly plaintext: Uint8Array;
}

interface KeyState {
  readonly usage: SFrameKeyUsage;
  readonly aead: BoundAead;
  readonly salt: Uint8Array;
  /** Encryption keys: the next CTR; SFRAME_MAX_VALUE + 1 once the counter is used up. */
  nextCtr: bigint;
  /** Decryption keys with a replay window. */
  readonly replay: ReplayWindow | undefined;
}

/**
 * An SFrame key store and the encrypt/decrypt procedures of RFC 9605 §4.4.3–§4.4.4, for one
 * cipher suite.
 *
 * Each base key is added under a KID for one direction only (§4.4.1): an encryption key keeps
 * the next CTR, starting at 0, and refuses any CTR at or below one it has used, so a (key, nonce)
 * pair is never repeated (§7.4, §9.1); after CTR 2^64 − 1 it refuses to encrypt at all. A KID
 * that has held an encryption key can never be added again in the same context. Decryption keys
 * apply the replay window, and record a CTR only once its ciphertext authenticated.
 */
export class SFrameContext {
  readonly suite: SFrameSuiteParams;
  readonly replayWindow: number;
  private readonly keys = new Map<bigint, KeyState>();
  private readonly encryptionKids = new Set<bigint>();

  constructor(options: SFrameContextOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    this.suite = sframeSuite(options.suite);
    const w = options.replayWindow ?? SFRAME_DEFAULT_REPLAY_WINDOW;
    if (typeof w !== 'number') throw new TypeError('options.replayWindow must be a number');
    if (!Number.isInteger(w) || w < 0 || w > SFRAME_MAX_REPLAY_WINDOW) {
      throw new RangeError(`options.replayWindow must be an integer in [0, ${SFRAME_MAX_REPLAY_WINDOW}], got ${w}`);
    }
    this.replayWindow = w;
  }

  /**
   * Adds `baseKey` under `kid` for `usage` (RFC 9605 §4.4.1), deriving sframe_key and
   * sframe_salt at once (§4.4.2). Throws SFrameError('duplicate-kid') when the KID holds a key,
   * or (for an encryption key) when it held an encryption key earlier in this context. The
   * caller may wipe `baseKey` afterwards; the context keeps only the derived values.
   */
  addKey(kid: bigint | number, baseKey: Uint8Array, usage: SFrameKeyUsage, options: SFrameAddKeyOptions = {}): void {
    const k = toU64(kid, 'kid');
    assertBytes(baseKey, 'baseKey');
    if (usage !== 'encrypt' && usage !== 'decrypt') throw new TypeError("usage must be 'encrypt' or 'decrypt'");
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    let nextCtr = 0n;
    if (options.nextCtr !== undefined) {
      if (usage !== 'encrypt') throw new TypeError('options.nextCtr applies to encryption keys only');
      nextCtr = toU64(options.nextCtr, 'options.nextCtr');
    }
    if (this.keys.has(k)) throw new SFrameError('duplicate-kid', `KID ${k} already has a key`);
    if (usage === 'encrypt' && this.encryptionKids.has(k)) {
      throw new SFrameError('duplicate-kid', `KID ${k} was already used for encryption in this context`);
    }
    const { key, salt } = deriveKeySalt(this.suite.id, k, baseKey);
    const aead = bindAead(this.suite, key);
    key.fill(0);
    this.keys.set(k, {
      usage,
      aead,
      salt,
      nextCtr,
      replay: usage === 'decrypt' && this.replayWindow > 0 ? new ReplayWindow(this.replayWindow) : undefined,
    });
    if (usage === 'encrypt') this.encryptionKids.add(k);
  }

  /** Removes the key under `kid` and wipes its derived material; false when there was none. */
  removeKey(kid: bigint | number): boolean {
    const k = toU64(kid, 'kid');
    const state = this.keys.get(k);
    if (state === undefined) return false;
    state.aead.wipe();
    state.salt.fill(0);
    this.keys.delete(k);
    return true;
  }

  /** The usage of the key under `kid`, or undefined when there is none. */
  keyUsage(kid: bigint | number): SFrameKeyUsage | undefined {
    return this.keys.get(toU64(kid, 'kid'))?.usage;
  }

  /** The KIDs that hold a key, in the order they were added. */
  kids(): bigint[] {
    return [...this.keys.keys()];
  }

  /**
   * The CTR the next `encrypt(kid, undefined, …)` will use, for storing (RFC 9605 §9.1);
   * SFRAME_MAX_VALUE + 1 once the counter is used up.
   */
  nextCounter(kid: bigint | number): bigint {
    return this.encryptionKey(toU64(kid, 'kid')).nextCtr;
  }

  /**
   * encrypt(CTR, KID, metadata, plaintext) of RFC 9605 §4.4.3: header || ciphertext || tag.
   * With `ctr` undefined the key's counter supplies the CTR; an explicit `ctr` must be above
   * every CTR already used with the key (SFrameError('counter-reused') otherwise). Either way
   * the counter moves past it before anything is encrypted. `metadata` is authenticated, not
   * sent (§9.4).
   */
  encrypt(kid: bigint | number, ctr: bigint | number | undefined, metadata: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const k = toU64(kid, 'kid');
    const explicit = ctr === undefined ? undefined : toU64(ctr, 'ctr');
    assertBytes(metadata, 'metadata');
    assertBytes(plaintext, 'plaintext');
    const state = this.encryptionKey(k);
    if (state.nextCtr > SFRAME_MAX_VALUE) {
      throw new SFrameError('counter-exhausted', `the counter of KID ${k} is used up; add a key under a new KID`);
    }
    const c = explicit ?? state.nextCtr;
    if (c < state.nextCtr) {
      throw new SFrameError('counter-reused', `CTR ${c} is not above the last CTR used with KID ${k}`);
    }
    // §9.1: move the counter on before the CTR is used.
    state.nextCtr = c + 1n;
    const header = encodeHeader(k, c);
    const nonce = sframeNonce(state.salt, c);
    // §4.4.3: aad = header + metadata
    const sealed = state.aead.seal(nonce, concatBytes(header, metadata), plaintext);
    const out = new Uint8Array(header.length + sealed.length);
    out.set(header, 0);
    out.set(sealed, header.length);
    return out;
  }

  /**
   * decrypt(metadata, sframe_ciphertext) of RFC 9605 §4.4.4. Throws SFrameError with
   * 'malformed-header', 'unknown-kid' (the caller may keep the ciphertext until the key
   * arrives), 'wrong-usage', 'short-ciphertext', 'replay' or 'auth-failed'. A failed call
   * changes nothing.
   */
  decrypt(ciphertext: Uint8Array, metadata: Uint8Array): SFrameDecrypted {
    assertBytes(ciphertext, 'ciphertext');
    assertBytes(metadata, 'metadata');
    const header = decodeHeader(ciphertext);
    const state = this.keys.get(header.kid);
    if (state === undefined) throw new SFrameError('unknown-kid', `no key for KID ${header.kid}`);
    if (state.usage !== 'decrypt') throw new SFrameError('wrong-usage', `the key for KID ${header.kid} is for encryption`);
    const sealed = ciphertext.subarray(header.length);
    if (sealed.length < this.suite.nt) {
      throw new SFrameError('short-ciphertext', `SFrame ciphertext ends before its ${this.suite.nt}-byte tag`);
    }
    if (state.replay !== undefined && !state.replay.allows(header.ctr)) {
      throw new SFrameError('replay', `CTR ${header.ctr} for KID ${header.kid} was seen before or is too old`);
    }
    const nonce = sframeNonce(state.salt, header.ctr);
    const aad = concatBytes(ciphertext.subarray(0, header.length), metadata);
    const plaintext = state.aead.open(nonce, aad, sealed);
    state.replay?.accept(header.ctr);
    return { kid: header.kid, ctr: header.ctr, plaintext };
  }

  /** Removes every key and wipes their material. The context stays usable. */
  clear(): void {
    for (const k of [...this.keys.keys()]) this.removeKey(k);
  }

  private encryptionKey(k: bigint): KeyState {
    const state = this.keys.get(k);
    if (state === undefined) throw new SFrameError('unknown-kid', `no key for KID ${k}`);
    if (state.usage !== 'encrypt') throw new SFrameError('wrong-usage', `the key for KID ${k} is for decryption`);
    return state;
  }
}

// ---------------------------------------------------------------------------------------------
// PSP stream keys (see the module header)

/** The HKDF info label of deriveStreamBaseKey. */
export const STREAM_SFRAME_LABEL = 'PSP-STREAM-SFRAME-v1';
const STREAM_LABEL_BYTES = utf8(STREAM_SFRAME_LABEL);

/** Stream key size. */
export const STREAM_KEY_BYTES = 32;
/** Size of the base keys deriveStreamBaseKey returns. */
export const STREAM_BASE_KEY_BYTES = 32;
/** Longest stream id accepted (its length travels as a 16-bit integer). */
export const MAX_STREAM_ID_BYTES = 0xffff;
/** Largest epoch: epochs are 32-bit unsigned integers. */
export const MAX_STREAM_EPOCH = 0xffffffff;

function checkEpoch(epoch: unknown): number {
  if (typeof epoch !== 'number') throw new TypeError('epoch must be a number');
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > MAX_STREAM_EPOCH) {
    throw new RangeError(`epoch must be an integer in [0, ${MAX_STREAM_EPOCH}], got ${epoch}`);
  }
  return epoch;
}

/**
 * The SFrame base key of one epoch of a stream (formula in the module header). It does not
 * depend on the cipher suite: RFC 9605 §4.4.2 derives each suite's key and salt from it.
 */
export function deriveStreamBaseKey(streamKey: Uint8Array, streamId: Uint8Array, epoch: number): Uint8Array {
  assertBytes(streamKey, 'streamKey', STREAM_KEY_BYTES);
  assertBytes(streamId, 'streamId');
  if (streamId.length === 0 || streamId.length > MAX_STREAM_ID_BYTES) {
    throw new RangeError(`streamId must be 1 to ${MAX_STREAM_ID_BYTES} bytes, got ${streamId.length}`);
  }
  const e = checkEpoch(epoch);
  const n = STREAM_LABEL_BYTES.length;
  const info = new Uint8Array(n + 2 + streamId.length + 4);
  info.set(STREAM_LABEL_BYTES, 0);
  info[n] = streamId.length >>> 8;
  info[n + 1] = streamId.length & 0xff;
  info.set(streamId, n + 2);
  const o = n + 2 + streamId.length;
  info[o] = e >>> 24;
  info[o + 1] = (e >>> 16) & 0xff;
  info[o + 2] = (e >>> 8) & 0xff;
  info[o + 3] = e & 0xff;
  return hkdf(sha256, streamKey, EMPTY, info, STREAM_BASE_KEY_BYTES);
}

/** The KID under which a stream's epoch key is used: the epoch itself. */
export function streamKeyId(epoch: number): bigint {
  return BigInt(checkEpoch(epoch));
}
