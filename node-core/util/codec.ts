/**
 * Codec helpers shared by the document formats of node-core/directory and node-core/authority.
 * Internal to node-core: no folder's index exports them.
 *
 * Conventions of every encoding that uses these helpers: big-endian integers; times are
 * milliseconds since the Unix epoch carried as u64 and limited to Number.MAX_SAFE_INTEGER so they
 * fit a JS number; strings are a u8 byte length followed by the bytes, with a per-field maximum
 * and alphabet; lists are a count followed by the items, with an explicit maximum.
 *
 * Errors: a decoder must throw only its own module's typed error, so every helper that rejects
 * bytes takes an error factory (`Fail`) and throws what it returns; `decoders(fail)` binds the
 * decoding helpers to one factory, once, in a module's internal.ts. Checks of values a caller
 * controls throw TypeError/RangeError naming the parameter, as everywhere in node-core.
 */
import { Reader, type Writer, toHex, utf8 } from './bytes';

/** Builds the module's own typed error for `code`; the helper throws what it returns. */
export type Fail<C extends string> = (code: C, message: string) => Error;

/** The codes the decoding helpers below can give; every module with decoders has both. */
export type DecodeErrorCode = 'malformed' | 'unsupported-version';

export function checkInput(bytes: unknown, name: string): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
}

/** A Reader whose reads past the end throw `fail('malformed', …)`. */
export function reader(bytes: Uint8Array, what: string, fail: Fail<'malformed'>): Reader {
  return new Reader(bytes, (field) => fail('malformed', `${what}: input ends inside ${field}`));
}

export function expectEnd(r: Reader, what: string, fail: Fail<'malformed'>): void {
  if (r.remaining !== 0) throw fail('malformed', `${what}: ${r.remaining} unexpected trailing bytes`);
}

/** Reads the leading format byte and refuses any value but `expected`. */
export function readFormat(r: Reader, expected: number, what: string, fail: Fail<'unsupported-version'>): void {
  const v = r.u8(`${what} format`);
  if (v !== expected) throw fail('unsupported-version', `${what}: format ${v} is not supported (expected ${expected})`);
}

/** The fixed opening of a document body: what it is called, its format byte and its size limit. */
export interface BodyLayout {
  /** Names the document in error messages, e.g. 'access certificate'. */
  readonly what: string;
  readonly format: number;
  /** Longest body the format can produce; a longer input is refused before it is read. */
  readonly maxLength: number;
}

/**
 * Starts decoding a document body: checks that `bytes` (the parameter `name`) is a Uint8Array,
 * refuses one over `layout.maxLength` unread, and reads the format byte. Returns the Reader
 * positioned after it.
 */
export function openBody(bytes: unknown, name: string, layout: BodyLayout, fail: Fail<DecodeErrorCode>): Reader {
  checkInput(bytes, name);
  const { what } = layout;
  if (bytes.length > layout.maxLength) throw fail('malformed', `${what}: body of ${bytes.length} bytes is too long`);
  const r = reader(bytes, what, fail);
  readFormat(r, layout.format, what, fail);
  return r;
}

export function readTime(r: Reader, what: string, fail: Fail<'malformed'>): number {
  const v = r.u64(what);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail('malformed', `${what}: time ${v} is out of range`);
  return Number(v);
}

export function checkTime(v: unknown, name: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer (milliseconds), got ${String(v)}`);
  }
}

export function writeTime(w: Writer, v: number, name: string): void {
  checkTime(v, name);
  w.u64(BigInt(v));
}

/** An ASCII string field: u8 length, then bytes matching `pattern` (which fixes the length range). */
export interface AsciiField {
  readonly name: string;
  /** Longest length byte accepted; a longer one is refused before the bytes are read. */
  readonly max: number;
  readonly pattern: RegExp;
  readonly describe: string;
}

/** A network name, as in the network file; the same rule in the directory and the authority. */
export const NETWORK_FIELD: AsciiField = {
  name: 'network',
  max: 32,
  pattern: /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/,
  describe: "1..32 characters of [a-z0-9-], not starting or ending with '-'",
};

export function checkAscii(v: unknown, field: AsciiField, name = field.name): asserts v is string {
  if (typeof v !== 'string') throw new TypeError(`${name} must be a string`);
  if (!field.pattern.test(v)) throw new RangeError(`${name} must be ${field.describe}`);
}

export function writeAscii(w: Writer, v: string, field: AsciiField, name = field.name): void {
  checkAscii(v, field, name);
  w.u8(v.length).bytes(utf8(v));
}

export function readAscii(r: Reader, field: AsciiField, what: string, fail: Fail<'malformed'>): string {
  const len = r.u8(`${what} length`);
  if (len > field.max) throw fail('malformed', `${what}: ${len} bytes, at most ${field.max} allowed`);
  const raw = r.bytes(len, what);
  let s = '';
  for (const b of raw) s += String.fromCharCode(b);
  if (!field.pattern.test(s)) throw fail('malformed', `${what} must be ${field.describe}`);
  return s;
}

/** Lexicographic order of byte strings (shorter first on a common prefix). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * Checks a list of distinct 32-byte keys and returns private copies (a caller mutating its
 * arrays later cannot change what we hold). With `nonEmpty`, an empty list is a RangeError too.
 */
export function checkKeyList(keys: unknown, name: string, options: { readonly nonEmpty?: boolean } = {}): Uint8Array[] {
  if (!Array.isArray(keys)) throw new TypeError(`${name} must be an array of 32-byte Uint8Array keys`);
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  keys.forEach((k: unknown, i) => {
    if (!(k instanceof Uint8Array)) throw new TypeError(`${name}[${i}] must be a Uint8Array`);
    if (k.length !== 32) throw new RangeError(`${name}[${i}] must be 32 bytes, got ${k.length}`);
    const h = toHex(k);
    if (seen.has(h)) throw new RangeError(`${name}[${i}] is listed twice`);
    seen.add(h);
    out.push(k.slice());
  });
  if (options.nonEmpty === true && out.length === 0) throw new RangeError(`${name} must not be empty`);
  return out;
}

/** The decoding helpers above, bound to one module's error factory. */
export interface Decoders {
  reader(bytes: Uint8Array, what: string): Reader;
  expectEnd(r: Reader, what: string): void;
  readFormat(r: Reader, expected: number, what: string): void;
  openBody(bytes: unknown, name: string, layout: BodyLayout): Reader;
  readTime(r: Reader, what: string): number;
  readAscii(r: Reader, field: AsciiField, what: string): string;
}

export function decoders(fail: Fail<DecodeErrorCode>): Decoders {
  return {
    reader: (bytes, what) => reader(bytes, what, fail),
    expectEnd: (r, what) => expectEnd(r, what, fail),
    readFormat: (r, expected, what) => readFormat(r, expected, what, fail),
    openBody: (bytes, name, layout) => openBody(bytes, name, layout, fail),
    readTime: (r, what) => readTime(r, what, fail),
    readAscii: (r, field, what) => readAscii(r, field, what, fail),
  };
}
