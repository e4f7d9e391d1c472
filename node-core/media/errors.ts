/**
 * The one error type of node-core/media.
 *
 * The SFrame code (sframe.ts) throws an SFrameError with a code from the closed union below when
 * bytes it was given are unacceptable (a malformed header, a ciphertext that fails to
 * authenticate) or when a request would break an SFrame rule (reusing a counter, a key used for
 * the wrong direction). Programming errors (a parameter of the wrong type, a value the caller
 * controls out of range) throw TypeError or RangeError instead, naming the parameter.
 */
import { CodedError, isCodedError } from '../util/coded-error';

export const SFRAME_ERROR_CODES = [
  /**
   * The SFrame header (RFC 9605 §4.3) is cut short, or a KID or CTR is not in its minimal
   * encoding (a value below 8 outside the config byte, or a leading zero byte).
   */
  'malformed-header',
  /** The ciphertext after the header is shorter than the cipher suite's tag (RFC 9605 §4.5). */
  'short-ciphertext',
  /** No key is known for the KID (RFC 9605 §4.4.4: the caller may keep the ciphertext and retry). */
  'unknown-kid',
  /** A key exists for the KID but is marked for the other direction (RFC 9605 §4.4.1). */
  'wrong-usage',
  /**
   * A key for the KID is already present, or the KID was used for encryption earlier in this
   * context (adding it again could repeat a (key, nonce) pair, RFC 9605 §9.1).
   */
  'duplicate-kid',
  /** The authentication tag does not verify: wrong key, wrong metadata, or tampered bytes. */
  'auth-failed',
  /** The CTR was already accepted for this KID, or lies below the replay window (RFC 9605 §9.3). */
  'replay',
  /**
   * Encryption asked for a CTR at or below one already used with the key: refused so that no
   * (key, nonce) pair is used twice (RFC 9605 §7.4, §9.1).
   */
  'counter-reused',
  /** The key's 64-bit counter is used up; a new key (a new KID) is needed. */
  'counter-exhausted',
] as const;

export type SFrameErrorCode = (typeof SFRAME_ERROR_CODES)[number];

export class SFrameError extends CodedError<SFrameErrorCode> {
  override readonly name = 'SFrameError';
}

/** True when `e` is an SFrameError (optionally with the given code). */
export function isSFrameError(e: unknown, code?: SFrameErrorCode): e is SFrameError {
  return isCodedError(SFrameError, e, code);
}
