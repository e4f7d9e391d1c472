/**
 * Codec helpers shared by the files of node-core/directory. Internal: not exported from the
 * folder's index.
 *
 * Conventions of every encoding in this folder: big-endian integers; times are milliseconds since
 * the Unix epoch carried as u64 and limited to Number.MAX_SAFE_INTEGER so they fit a JS number;
 * strings are a u8 byte length followed by the bytes, with a per-field maximum and alphabet;
 * lists are a count followed by the items, with an explicit maximum.
 */
import type { CryptoSuite } from '../crypto/api';
import { Reader, Writer, concatBytes, toHex, utf8 } from '../util/bytes';
import { DirectoryError } from './errors';

/**
 * Signature contexts. Every signature in this folder is Ed25519 over
 * SHA-256(context ASCII bytes ‖ document body), so a signature made for one kind of document can
 * never be taken for another. No context is a prefix of another (test/directory checks that,
 * together with the contexts of node-core/authority).
 */
export const CONTEXT_DESCRIPTOR = 'PSP-DESCRIPTOR-v1';
export const CONTEXT_VOTE = 'PSP-VOTE-v1';
export const CONTEXT_CONSENSUS = 'PSP-CONSENSUS-v1';

export function signingDigest(suite: CryptoSuite, context: string, body: Uint8Array): Uint8Array {
  return suite.sha256(concatBytes(utf8(context), body));
}

export function reader(bytes: Uint8Array, what: string): Reader {
  return new Reader(bytes, (field) => new DirectoryError('malformed', `${what}: input ends inside ${field}`));
}

export function expectEnd(r: Reader, what: string): void {
  if (r.remaining !== 0) throw new DirectoryError('malformed', `${what}: ${r.remaining} unexpected trailing bytes`);
}

export function checkInput(bytes: unknown, name: string): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
}

/** Reads the leading format byte and refuses any value but `expected`. */
export function readFormat(r: Reader, expected: number, what: string): void {
  const v = r.u8(`${what} format`);
  if (v !== expected) throw new DirectoryError('unsupported-version', `${what}: format ${v} is not supported (expected ${expected})`);
}

export function readTime(r: Reader, what: string): number {
  const v = r.u64(what);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DirectoryError('malformed', `${what}: time ${v} is out of range`);
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
  readonly max: number;
  readonly pattern: RegExp;
  readonly describe: string;
}

export const NETWORK_FIELD: AsciiField = {
  name: 'network',
  max: 32,
  pattern: /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/,
  describe: "1..32 characters of [a-z0-9-], not starting or ending with '-'",
};
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

export function checkAscii(v: unknown, field: AsciiField, name = field.name): asserts v is string {
  if (typeof v !== 'string') throw new TypeError(`${name} must be a string`);
  if (!field.pattern.test(v)) throw new RangeError(`${name} must be ${field.describe}`);
}

export function writeAscii(w: Writer, v: string, field: AsciiField, name = field.name): void {
  checkAscii(v, field, name);
  w.u8(v.length).bytes(utf8(v));
}

export function readAscii(r: Reader, field: AsciiField, what: string): string {
  const len = r.u8(`${what} length`);
  if (len > field.max) throw new DirectoryError('malformed', `${what}: ${len} bytes, at most ${field.max} allowed`);
  const raw = r.bytes(len, what);
  let s = '';
  for (const b of raw) s += String.fromCharCode(b);
  if (!field.pattern.test(s)) throw new DirectoryError('malformed', `${what} must be ${field.describe}`);
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

/** A private copy, so a caller mutating its array later cannot change a document we hold. */
export function copy(b: Uint8Array): Uint8Array {
  return b.slice();
}

/** Checks a list of distinct 32-byte keys and returns copies. */
export function checkKeyList(keys: unknown, name: string): Uint8Array[] {
  if (!Array.isArray(keys)) throw new TypeError(`${name} must be an array of 32-byte Uint8Array keys`);
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  keys.forEach((k: unknown, i) => {
    if (!(k instanceof Uint8Array)) throw new TypeError(`${name}[${i}] must be a Uint8Array`);
    if (k.length !== 32) throw new RangeError(`${name}[${i}] must be 32 bytes, got ${k.length}`);
    const h = toHex(k);
    if (seen.has(h)) throw new RangeError(`${name}[${i}] is listed twice`);
    seen.add(h);
    out.push(copy(k));
  });
  return out;
}
