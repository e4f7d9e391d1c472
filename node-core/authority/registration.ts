/**
 * Identity registrations (seed 004 §4: "Every identity can be validated against the system PKI
 * store using a set of authority nodes"; DESIGN.md §3 "Authority and access certificates"; the
 * reference's UserRegistrationData in sdk/). A participant proves possession of its Ed25519
 * identity key by signing a registration; an authority stores it in its IdentityRegistry.
 *
 * Body (format 1):
 *   format u8 = 1
 *   publicKey    32   Ed25519 identity key; it signs the registration
 *   identity     u8 length | identity string naming publicKey (node-core/crypto/identity.ts)
 *   displayName  u8 present (0|1) [| u8 length | UTF-8], 1..64 code points when present
 *   createdAt    u64  ms since the Unix epoch, set by the registrant
 *   nonce        16   random; makes two registrations made in the same millisecond distinct
 * Signed registration: bodyLength u16 | body | signature 64, Ed25519 by publicKey over
 * SHA-256("PSP-REGISTER-v1" ‖ body). The registration digest is SHA-256(body).
 *
 * Display names: strict UTF-8, NFC, no control characters (Unicode Cc), no line or paragraph
 * separators, no bidirectional embedding/override/isolate controls, no leading or trailing
 * white space. Anything else is 'malformed' when decoding and a RangeError when encoding.
 *
 * verifyRegistration checks, in order: createdAt no further than windowMs in the future
 * ('not-yet-valid') or in the past ('stale'), then the signature ('bad-signature').
 *
 * Does not: store anything (registry.ts), or decide between two registrations of one key
 * (registry.ts `decideRegistration`).
 */
import type { CryptoSuite } from '../crypto/api';
import { Writer, assertBytes, equalBytes, utf8 } from '../util/bytes';
import { checkTime, writeTime } from '../util/codec';
import { type SingleSignedLayout, parseSingleSigned, sealSingleSigned, signingDigest } from '../util/signed';
import { AuthorityError } from './errors';
import { CONTEXT_REGISTER, checkIdentityFor, expectEnd, fail, openBody, readIdentityFor, readTime, writeIdentity } from './internal';

export const REGISTRATION_FORMAT = 1;
export const MAX_DISPLAY_NAME_CHARS = 64;
/** The u8 length field's limit; 64 code points of 4 UTF-8 bytes each would need 256. */
export const MAX_DISPLAY_NAME_BYTES = 255;
export const MAX_REGISTRATION_BODY_LENGTH = 1 + 32 + 1 + 128 + 2 + MAX_DISPLAY_NAME_BYTES + 8 + 16;
export const MAX_SIGNED_REGISTRATION_LENGTH = 2 + MAX_REGISTRATION_BODY_LENGTH + 64;
/** Default freshness window for createdAt: ten minutes either way. */
export const DEFAULT_REGISTRATION_WINDOW_MS = 10 * 60 * 1000;

const REGISTRATION_BODY = { what: 'registration', format: REGISTRATION_FORMAT, maxLength: MAX_REGISTRATION_BODY_LENGTH };
const SIGNED_REGISTRATION: SingleSignedLayout = { what: 'signed registration', lengthBits: 16, maxLength: MAX_SIGNED_REGISTRATION_LENGTH };

export interface Registration {
  readonly publicKey: Uint8Array;
  readonly identity: string;
  readonly displayName?: string;
  readonly createdAt: number;
  readonly nonce: Uint8Array;
}

export interface UnverifiedRegistration {
  /** What the registration claims; nothing here is trustworthy until verifyRegistration. */
  readonly claimed: Registration;
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
  readonly bytes: Uint8Array;
}

declare const verifiedRegistrationBrand: unique symbol;

export interface VerifiedRegistration extends Registration {
  readonly [verifiedRegistrationBrand]: true;
  /** SHA-256(body). */
  readonly digest: Uint8Array;
  /** The signed registration, as it can be shown to anyone to prove the key holder made it. */
  readonly bytes: Uint8Array;
}

const FORBIDDEN_IN_NAME = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/** Why `name` is not an acceptable display name, or null. */
export function displayNameProblem(name: string): string | null {
  if (name.length === 0) return 'empty (leave the display name out instead)';
  const chars = [...name].length;
  if (chars > MAX_DISPLAY_NAME_CHARS) return `${chars} characters, at most ${MAX_DISPLAY_NAME_CHARS}`;
  if (utf8(name).length > MAX_DISPLAY_NAME_BYTES) return `more than ${MAX_DISPLAY_NAME_BYTES} UTF-8 bytes`;
  if (FORBIDDEN_IN_NAME.test(name)) return 'contains a control, separator or bidirectional-override character';
  if (name.trim() !== name) return 'has leading or trailing white space';
  if (name.normalize('NFC') !== name) return 'is not in Unicode normalization form C';
  // Lone surrogates cannot be encoded in UTF-8.
  if (/[\ud800-\udfff]/u.test(name)) return 'contains a lone surrogate';
  return null;
}

function checkNonce(v: unknown, name: string): asserts v is Uint8Array {
  assertBytes(v, name, 16);
}

/** The registration body (format 1); validates every field (TypeError/RangeError naming it). */
export function encodeRegistrationBody(reg: Registration): Uint8Array {
  if (typeof reg !== 'object' || reg === null) throw new TypeError('registration must be an object');
  assertBytes(reg.publicKey, 'registration.publicKey', 32);
  checkIdentityFor(reg.identity, reg.publicKey, 'registration.identity');
  if (reg.displayName !== undefined) {
    if (typeof reg.displayName !== 'string') throw new TypeError('registration.displayName must be a string');
    const problem = displayNameProblem(reg.displayName);
    if (problem !== null) throw new RangeError(`registration.displayName ${problem}`);
  }
  checkTime(reg.createdAt, 'registration.createdAt');
  checkNonce(reg.nonce, 'registration.nonce');
  const w = new Writer().u8(REGISTRATION_FORMAT).bytes(reg.publicKey);
  writeIdentity(w, reg.identity);
  if (reg.displayName === undefined) {
    w.u8(0);
  } else {
    const b = utf8(reg.displayName);
    w.u8(1).u8(b.length).bytes(b);
  }
  writeTime(w, reg.createdAt, 'registration.createdAt');
  return w.bytes(reg.nonce).finish();
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function decodeRegistrationBody(body: Uint8Array): Registration {
  const { what } = REGISTRATION_BODY;
  const r = openBody(body, 'body', REGISTRATION_BODY);
  const publicKey = r.bytes(32, 'public key').slice();
  const identity = readIdentityFor(r, publicKey, `${what} identity`);
  const present = r.u8('display name flag');
  let displayName: string | undefined;
  if (present === 1) {
    const len = r.u8('display name length');
    const raw = r.bytes(len, 'display name');
    try {
      displayName = STRICT_UTF8.decode(raw);
    } catch {
      throw new AuthorityError('malformed', `${what}: display name is not valid UTF-8`);
    }
    const problem = displayNameProblem(displayName);
    if (problem !== null) throw new AuthorityError('malformed', `${what}: display name ${problem}`);
  } else if (present !== 0) {
    throw new AuthorityError('malformed', `${what}: display name flag must be 0 or 1, got ${present}`);
  }
  const createdAt = readTime(r, 'createdAt');
  const nonce = r.bytes(16, 'nonce').slice();
  expectEnd(r, what);
  return displayName === undefined ? { publicKey, identity, createdAt, nonce } : { publicKey, identity, displayName, createdAt, nonce };
}

/**
 * Signs a registration with the identity secret key (32-byte Ed25519 seed) and returns the
 * signed registration bytes. RangeError when the key does not match registration.publicKey.
 */
export function createRegistration(suite: CryptoSuite, reg: Registration, secretKey: Uint8Array): Uint8Array {
  assertBytes(secretKey, 'secretKey', 32);
  const body = encodeRegistrationBody(reg);
  if (!equalBytes(suite.ed25519PublicKey(secretKey), reg.publicKey)) throw new RangeError('secretKey does not belong to registration.publicKey');
  return sealSingleSigned(suite, CONTEXT_REGISTER, body, secretKey, SIGNED_REGISTRATION.lengthBits);
}

/** Parses a signed registration (layout and identity string only). Throws AuthorityError. */
export function parseRegistration(bytes: Uint8Array): UnverifiedRegistration {
  const { body, signature } = parseSingleSigned(bytes, SIGNED_REGISTRATION, fail);
  return { claimed: decodeRegistrationBody(body), body, signature, bytes: bytes.slice() };
}

export interface RegistrationCheck {
  /** How far createdAt may be from `now`, either way (default DEFAULT_REGISTRATION_WINDOW_MS). */
  readonly windowMs?: number;
}

/** Verifies a parsed registration at `now` (see the header). Throws AuthorityError. */
export function verifyRegistration(
  suite: CryptoSuite,
  unverified: UnverifiedRegistration,
  now: number,
  check: RegistrationCheck = {},
): VerifiedRegistration {
  if (typeof unverified !== 'object' || unverified === null || !(unverified.body instanceof Uint8Array)) {
    throw new TypeError('unverified must come from parseRegistration');
  }
  checkTime(now, 'now');
  const windowMs = check.windowMs ?? DEFAULT_REGISTRATION_WINDOW_MS;
  checkTime(windowMs, 'check.windowMs');
  const reg = decodeRegistrationBody(unverified.body);
  if (reg.createdAt > now + windowMs) throw new AuthorityError('not-yet-valid', `registration created at ${reg.createdAt}, ahead of ${now} by more than ${windowMs} ms`);
  if (reg.createdAt < now - windowMs) throw new AuthorityError('stale', `registration created at ${reg.createdAt}, more than ${windowMs} ms before ${now}`);
  if (!suite.ed25519Verify(unverified.signature, signingDigest(suite, CONTEXT_REGISTER, unverified.body), reg.publicKey)) {
    throw new AuthorityError('bad-signature', 'registration signature does not verify with its public key');
  }
  return { ...reg, digest: suite.sha256(unverified.body), bytes: unverified.bytes } as unknown as VerifiedRegistration;
}
