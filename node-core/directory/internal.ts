/**
 * Codec helpers of node-core/directory. Internal: not exported from the folder's index.
 *
 * The encoding conventions and most helpers are shared with node-core/authority
 * (node-core/util/codec.ts and signed.ts); this file binds the decoding ones to DirectoryError,
 * so every decoder in this folder throws only DirectoryError, and holds what is the directory's
 * own: its signature contexts and string fields.
 */
import { type AsciiField, decoders } from '../util/codec';
import { DirectoryError, type DirectoryErrorCode } from './errors';

/**
 * Signature contexts. Every signature in this folder is Ed25519 over
 * SHA-256(context ASCII bytes ‖ document body), so a signature made for one kind of document can
 * never be taken for another. No context is a prefix of another (test/directory checks that,
 * together with the contexts of node-core/authority).
 */
export const CONTEXT_DESCRIPTOR = 'PSP-DESCRIPTOR-v1';
export const CONTEXT_VOTE = 'PSP-VOTE-v1';
export const CONTEXT_CONSENSUS = 'PSP-CONSENSUS-v1';

/** The error factory the shared helpers throw through: a DirectoryError with `code`. */
export function fail(code: DirectoryErrorCode, message: string): DirectoryError {
  return new DirectoryError(code, message);
}

export const { reader, expectEnd, readFormat, openBody, readTime, readAscii } = decoders(fail);

export const NICKNAME_FIELD: AsciiField = {
  name: 'nickname',
  max: 32,
  pattern: /^[A-Za-z0-9_-]{1,32}$/,
  describe: '1..32 characters of [A-Za-z0-9_-]',
};
export const VERSION_FIELD: AsciiField = {
  name: 'version',
  max: 32,
  pattern: /^[\x20-\x7e]{0,32}$/,
  describe: 'at most 32 printable ASCII characters',
};

/** A private copy, so a caller mutating its array later cannot change a document we hold. */
export function copy(b: Uint8Array): Uint8Array {
  return b.slice();
}
