/**
 * The common shape of node-core's typed errors: an Error carrying a `code` from a closed union
 * of strings. Each module still declares its own subclass (its own `name` and its own list of
 * codes), so callers tell a DirectoryError from an AuthorityError or a StorageError by class,
 * and a decoder throws only its own type. Internal helper: modules re-export their subclass,
 * never this base.
 */

export class CodedError<C extends string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** True when `e` is an instance of `type` (and, when `code` is given, carries that code). */
export function isCodedError<E extends CodedError<string>>(
  type: abstract new (...args: never[]) => E,
  e: unknown,
  code?: E['code'],
): e is E {
  return e instanceof type && (code === undefined || e.code === code);
}
