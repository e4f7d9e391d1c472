/**
 * The one error type of node-core/rendezvous.
 *
 * `openIntroduction` throws an IntroductionError with a code from the closed union below when the
 * bytes it was given (from a stranger, through a presence node) are unacceptable. Programming
 * errors (a parameter of the wrong type, a value the caller controls out of range) throw
 * TypeError or RangeError instead, naming the parameter.
 *
 * What the receiver should do with each code: drop the introduction without answering (a
 * presence node cannot tell one failure from another, and neither should the sender).
 */
import { CodedError, isCodedError } from '../util/coded-error';

export const INTRODUCTION_ERROR_CODES = [
  /** The bytes do not follow the layout: cut short, trailing bytes, a length or value out of range. */
  'malformed',
  /** The version byte (outer or inner) names a format this code does not know. */
  'unsupported-version',
  /** Sealed to an announcement key the receiver does not hold (any more). */
  'unknown-announcement-key',
  /** The AEAD tag does not verify, or the sender's ephemeral key is unusable. */
  'decrypt-failed',
  /** The sender's identity string is not valid (node-core/crypto/identity.ts). */
  'bad-identity',
  /** The sender's signature does not verify under the key its identity names. */
  'bad-signature',
  /** Created longer ago than the receiver's maximum age. */
  'expired',
  /** Created in the future beyond the receiver's allowed clock skew. */
  'not-yet-valid',
  /** Meant for another identity, or its end-to-end handshake names another key. */
  'wrong-recipient',
] as const;

export type IntroductionErrorCode = (typeof INTRODUCTION_ERROR_CODES)[number];

export class IntroductionError extends CodedError<IntroductionErrorCode> {
  override readonly name = 'IntroductionError';
}

/** True when `e` is an IntroductionError (optionally with the given code). */
export function isIntroductionError(e: unknown, code?: IntroductionErrorCode): e is IntroductionError {
  return isCodedError(IntroductionError, e, code);
}
