/**
 * The one error type of node-core/authority.
 *
 * Every decoder and verifier in this folder throws an AuthorityError with a code from the closed
 * union below when the bytes or the document it was given are unacceptable. Programming errors
 * (a parameter of the wrong type, a value the caller controls out of range, an unusable trust
 * configuration) throw TypeError or RangeError instead, naming the parameter.
 */
import { CodedError, isCodedError } from '../util/coded-error';

export const AUTHORITY_ERROR_CODES = [
  /** The bytes do not follow the layout: cut short, trailing bytes, a length or value out of range. */
  'malformed',
  /** The leading format byte names a format this code does not know. */
  'unsupported-version',
  /** Well-formed but not canonical: signatures out of signer order or repeated. */
  'not-canonical',
  /** The identity string is not valid (node-core/crypto/identity.ts) or names another key. */
  'bad-identity',
  /** A signature by the document's own key, or by a trusted authority, does not verify. */
  'bad-signature',
  /** A certificate signature from a key that is not a trusted authority (see certificate.ts). */
  'unknown-signer',
  /** Fewer valid authority signatures than the threshold. */
  'too-few-signatures',
  /** A certificate past its expiry. */
  'expired',
  /** A certificate, registration or request dated in the future beyond the allowed skew. */
  'not-yet-valid',
  /** A registration or request dated too far in the past (outside the freshness window). */
  'stale',
  /** A request nonce already seen within the freshness window. */
  'replay',
  /** The key has no registration, or is registered under another identity string. */
  'not-registered',
  /** A certificate for another subject key than the one expected. */
  'wrong-subject',
  /** A certificate or request for another network. */
  'wrong-network',
  /** A requested certificate lifetime over the authority's maximum. */
  'lifetime-too-long',
  /** A bounded store is full. */
  'limit-exceeded',
] as const;

export type AuthorityErrorCode = (typeof AUTHORITY_ERROR_CODES)[number];

export class AuthorityError extends CodedError<AuthorityErrorCode> {
  override readonly name = 'AuthorityError';
}

/** True when `e` is an AuthorityError (optionally with the given code). */
export function isAuthorityError(e: unknown, code?: AuthorityErrorCode): e is AuthorityError {
  return isCodedError(AuthorityError, e, code);
}
