/**
 * The one error type of node-core/stream.
 *
 * Every decoder of this folder (receipts, viewer identification IDs, puzzle challenges, stream
 * control messages, invites) throws a StreamError with a code from the closed union below when
 * the bytes it was given are unacceptable; the verifiers throw it when a well-formed document
 * fails a check (signature, signer, network, validity window, work); the fan-out relay throws it
 * when an upstream sends packets out of order. Programming errors (a parameter of the wrong type,
 * a value the caller controls out of range) throw TypeError or RangeError instead, naming the
 * parameter.
 */
import { CodedError, isCodedError } from '../util/coded-error';

export const STREAM_ERROR_CODES = [
  /** The bytes do not follow the layout: cut short, trailing bytes, a length or value out of range. */
  'malformed',
  /** The format byte names a version this code does not know. */
  'unsupported-version',
  /** The leading type byte is not a message of this protocol. */
  'unknown-type',
  /** Signed by a key that is not one of the configured oracles. */
  'unknown-oracle',
  /** The signature does not verify under the key the document names. */
  'bad-signature',
  /** Issued for another network. */
  'wrong-network',
  /** At or past its expiry time. */
  'expired',
  /** Issued in the future beyond the verifier's allowed clock skew. */
  'not-yet-valid',
  /** Valid for longer than the verifier allows. */
  'ttl-too-long',
  /** A puzzle challenge that this oracle did not make (its tag does not verify). */
  'bad-challenge',
  /** A puzzle solution whose hash has too few leading zero bits. */
  'insufficient-work',
  /** An upstream broke the packet order of a stream (seed 004 §8; PSP reference flows/fanout.md). */
  'protocol',
] as const;

export type StreamErrorCode = (typeof STREAM_ERROR_CODES)[number];

export class StreamError extends CodedError<StreamErrorCode> {
  override readonly name = 'StreamError';
}

/** True when `e` is a StreamError (optionally with the given code). */
export function isStreamError(e: unknown, code?: StreamErrorCode): e is StreamError {
  return isCodedError(StreamError, e, code);
}
