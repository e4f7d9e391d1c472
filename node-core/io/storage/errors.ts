/**
 * The one error type of node-core/io/storage. Every failure of the embedded database reaches
 * callers as a StorageError with a code from the closed union below and the database's path.
 */
import { CodedError, isCodedError } from '../../util/coded-error';

export const STORAGE_ERROR_CODES = [
  /** The file is not a SQLite database, or its pages are damaged. The file is left as it is. */
  'corrupt',
  /** Another connection holds the lock (or a crashed process left its `<file>.lock` folder). */
  'locked',
  /** `mustExist` was asked and there is no file. */
  'not-found',
  /** The operating system refused a read, write, sync or open. */
  'io',
  /** A write on a database opened read-only (or on a read-only file). */
  'read-only',
  /** A row broke a constraint of the schema. */
  'constraint',
  /** The database was written by a newer version of this software (a migration we do not know). */
  'schema-too-new',
  /** The recorded migrations differ from ours (same number, another name). */
  'schema-mismatch',
  /** A SQLite database that belongs to another program. It is not touched. */
  'foreign-database',
  /** The database (or registry) was closed. */
  'closed',
  /** Anything else SQLite reported. */
  'failed',
] as const;

export type StorageErrorCode = (typeof STORAGE_ERROR_CODES)[number];

export class StorageError extends CodedError<StorageErrorCode> {
  override readonly name = 'StorageError';
  constructor(
    code: StorageErrorCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** True when `e` is a StorageError (optionally with the given code). */
export function isStorageError(e: unknown, code?: StorageErrorCode): e is StorageError {
  return isCodedError(StorageError, e, code);
}
