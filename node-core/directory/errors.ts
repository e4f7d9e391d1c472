/**
 * The one error type of node-core/directory.
 *
 * Every decoder and verifier in this folder throws a DirectoryError with a code from the closed
 * union below when the bytes or the document it was given are unacceptable. Programming errors
 * (a parameter of the wrong type, an out-of-range value the caller controls, an invalid trust
 * configuration) throw TypeError or RangeError instead, naming the parameter.
 */
import { CodedError, isCodedError } from '../util/coded-error';

export const DIRECTORY_ERROR_CODES = [
  /** The bytes do not follow the layout: cut short, trailing bytes, a length or value out of range. */
  'malformed',
  /** The leading format byte names a format this code does not know. */
  'unsupported-version',
  /** Well-formed but not in canonical form: a list out of order or with duplicates. */
  'not-canonical',
  /** An address that no peer can connect to: unspecified, multicast, broadcast, port 0, duplicated. */
  'bad-address',
  /** A signature made with a key the verifier trusts (or the document's own key) does not verify. */
  'bad-signature',
  /** A signer or voter that is not in the verifier's trust set (see consensus.ts for how it counts). */
  'unknown-signer',
  /** Fewer valid signatures from trusted keys than the threshold. */
  'too-few-signatures',
  /** The validity window has ended. */
  'expired',
  /** The validity window has not started yet (beyond the allowed clock skew). */
  'not-yet-valid',
  /** A descriptor whose validity window is longer than the verifier allows. */
  'lifetime-too-long',
  /** The document names another network. */
  'wrong-network',
  /** A vote or signature for a voting period other than the one expected. */
  'wrong-period',
  /** A second, different document where only one is allowed (e.g. two votes from one voter). */
  'duplicate',
  /** A bounded store or list is full. */
  'limit-exceeded',
] as const;

export type DirectoryErrorCode = (typeof DIRECTORY_ERROR_CODES)[number];

export class DirectoryError extends CodedError<DirectoryErrorCode> {
  override readonly name = 'DirectoryError';
}

/** True when `e` is a DirectoryError (optionally with the given code). */
export function isDirectoryError(e: unknown, code?: DirectoryErrorCode): e is DirectoryError {
  return isCodedError(DirectoryError, e, code);
}
