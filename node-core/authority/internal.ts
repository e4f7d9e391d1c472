/**
 * Codec helpers of node-core/authority. Internal: not exported from the folder's index.
 *
 * The encoding conventions and most helpers are shared with node-core/directory
 * (node-core/util/codec.ts and signed.ts): big-endian, times in ms as u64 limited to
 * Number.MAX_SAFE_INTEGER, strings as u8 length | bytes, bounded lists. This file binds the
 * decoding helpers to AuthorityError, so every decoder in this folder throws only
 * AuthorityError, and holds what is the authority's own: its signature contexts and identity
 * strings.
 */
import { IdentityError, type Identity, parseIdentity } from '../crypto/identity';
import { type Reader, type Writer, equalBytes, utf8 } from '../util/bytes';
import { type AsciiField, NETWORK_FIELD, decoders } from '../util/codec';
import { AuthorityError, type AuthorityErrorCode } from './errors';

/**
 * Signature contexts: each signature in this folder is Ed25519 over
 * SHA-256(context ASCII bytes ‖ body). No context is a prefix of another, here or in
 * node-core/directory (test/authority checks that).
 */
export const CONTEXT_REGISTER = 'PSP-REGISTER-v1';
export const CONTEXT_ACCESS_CERT = 'PSP-ACCESS-CERT-v1';
export const CONTEXT_CERT_REQUEST = 'PSP-CERT-REQUEST-v1';

/** The error factory the shared helpers throw through: an AuthorityError with `code`. */
export function fail(code: AuthorityErrorCode, message: string): AuthorityError {
  return new AuthorityError(code, message);
}

export const { reader, expectEnd, readFormat, openBody, readTime, readAscii } = decoders(fail);

/** NETWORK_FIELD with no bound on the length byte before reading (a u8 never exceeds 255). */
const AUTHORITY_NETWORK_FIELD: AsciiField = { ...NETWORK_FIELD, max: 255 };

/**
 * Reads a network name (NETWORK_FIELD's rule). The authority formats read the announced bytes
 * before judging the name, so an over-long name is refused by the pattern rather than by its
 * length byte, with that message; the code is 'malformed' either way.
 */
export function readNetwork(r: Reader, what: string): string {
  return readAscii(r, AUTHORITY_NETWORK_FIELD, what);
}

/**
 * Checks an identity string given by a caller against the public key it must name; returns it.
 * TypeError/RangeError naming the parameter.
 */
export function checkIdentityFor(identity: unknown, publicKey: Uint8Array, name: string): Identity {
  if (typeof identity !== 'string') throw new TypeError(`${name} must be a string`);
  let parsed: Identity;
  try {
    parsed = parseIdentity(identity);
  } catch (e) {
    if (e instanceof IdentityError) throw new RangeError(`${name} is not a valid identity string: ${e.message}`);
    throw e;
  }
  if (!equalBytes(parsed.publicKey, publicKey)) throw new RangeError(`${name} names another public key`);
  return parsed;
}

export function writeIdentity(w: Writer, identity: string): void {
  const b = utf8(identity);
  w.u8(b.length).bytes(b);
}

/** Reads an identity string and checks it names `publicKey`; AuthorityError('bad-identity') otherwise. */
export function readIdentityFor(r: Reader, publicKey: Uint8Array, what: string): string {
  const len = r.u8(`${what} length`);
  const raw = r.bytes(len, what);
  let s = '';
  for (const b of raw) {
    if (b > 0x7e || b < 0x21) throw new AuthorityError('bad-identity', `${what}: identity strings are printable ASCII`);
    s += String.fromCharCode(b);
  }
  let parsed: Identity;
  try {
    parsed = parseIdentity(s);
  } catch (e) {
    if (e instanceof IdentityError) throw new AuthorityError('bad-identity', `${what}: ${e.message}`);
    throw e;
  }
  if (!equalBytes(parsed.publicKey, publicKey)) throw new AuthorityError('bad-identity', `${what} names another public key`);
  return s;
}
