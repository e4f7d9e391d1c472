/**
 * Codec helpers shared by the files of node-core/stream. Internal: not exported from the folder's
 * index.
 *
 * Conventions of every encoding in this folder: big-endian integers; times and byte counters
 * are u64 limited to Number.MAX_SAFE_INTEGER so they fit a JS number; network names follow
 * NETWORK_FIELD (util/codec.ts); addresses are `family u8 (4|6) | address (4|16) | port u16`
 * (the layout of node-core/directory/address.ts); text is UTF-8 with a length prefix, checked
 * strictly (no invalid sequences, no control characters except a line feed where allowed).
 */
import type { CryptoSuite } from '../crypto/api';
import { type IpBytes, type NodeAddress, addressProblem, checkAddress as checkNodeAddress, formatIp } from '../directory/address';
import { type Reader, type Writer, concatBytes, utf8 } from '../util/bytes';
import { type Fail, decoders } from '../util/codec';
import { StreamError, type StreamErrorCode } from './errors';

export const fail: Fail<StreamErrorCode> = (code, message) => new StreamError(code, message);
export const dec = decoders(fail);

/**
 * Signature contexts. Every signature of this folder is Ed25519 (RFC 8032) over
 * SHA-256(context ASCII bytes ‖ signed bytes), the convention of node-core/util/signed.ts, so a
 * signature made for one kind of document can never be taken for another. No context is a prefix
 * of another context of the project.
 */
export const CONTEXT_RECEIPT = 'PSP-STREAM-RECEIPT-v1';
export const CONTEXT_VIEWER_ID = 'PSP-STREAM-VIEWER-ID-v1';
export const CONTEXT_GROUP_SIGNATURE = 'PSP-STREAM-GROUP-SIG-v1';
/** Domain label of the group digest (a hash input, not a signature context). */
export const LABEL_GROUP_DIGEST = 'PSP-STREAM-GROUP-v1';
/** Domain label of the puzzle challenge tag (an HMAC input). */
export const LABEL_PUZZLE = 'PSP-STREAM-PUZZLE-v1';

export function signingDigest(suite: CryptoSuite, context: string, body: Uint8Array): Uint8Array {
  return suite.sha256(concatBytes(utf8(context), body));
}

export function checkObject(v: unknown, name: string): void {
  if (typeof v !== 'object' || v === null) throw new TypeError(`${name} must be an object`);
}

export function checkInt(v: unknown, name: string, min: number, max: number): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${String(v)}`);
  }
}

export function checkBoolean(v: unknown, name: string): asserts v is boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean`);
}

/** A counter carried as u64 and limited to a safe integer. */
export function checkCounter(v: unknown, name: string): asserts v is number {
  checkInt(v, name, 0, Number.MAX_SAFE_INTEGER);
}

export function readCounter(r: Reader, what: string): number {
  const v = r.u64(what);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail('malformed', `${what}: ${v} is out of range`);
  return Number(v);
}

export function writeCounter(w: Writer, v: number, name: string): void {
  checkCounter(v, name);
  w.u64(BigInt(v));
}

/** Reads a u8 that must be 0 or 1. */
export function readFlag(r: Reader, what: string): boolean {
  const v = r.u8(what);
  if (v > 1) throw fail('malformed', `${what} must be 0 or 1, got ${v}`);
  return v === 1;
}

// ---- addresses ------------------------------------------------------------------------------

/** Checks a caller's address (RangeError/TypeError naming `name`) and writes it. */
export function writeAddress(w: Writer, a: unknown, name: string): void {
  const c = checkNodeAddress(a, name);
  w.u8(c.family).bytes(c.bytes).u16(c.port);
}

export function checkAddress(a: unknown, name: string): void {
  checkNodeAddress(a, name);
}

/** Reads an address; the host comes back in canonical text (RFC 5952 for IPv6). */
export function readAddress(r: Reader, what: string): NodeAddress {
  const family = r.u8(`${what} family`);
  if (family !== 4 && family !== 6) throw fail('malformed', `${what}: unknown address family ${family}`);
  const bytes = r.bytes(family === 4 ? 4 : 16, `${what} address`).slice();
  const port = r.u16(`${what} port`);
  const ip: IpBytes = { family, bytes };
  const problem = addressProblem(ip, port);
  if (problem !== null) throw fail('malformed', `${what}: ${problem}`);
  return { host: formatIp(ip), port };
}

// ---- text -----------------------------------------------------------------------------------

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** C0 controls, DEL and C1 controls; a line feed is allowed where `multiline` says so. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const CONTROL_OR_LF = /[\u0000-\u001f\u007f-\u009f]/;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface TextField {
  readonly minBytes: number;
  readonly maxBytes: number;
  /** Width of the length prefix. */
  readonly lengthBits: 8 | 16;
  /** Whether a line feed (U+000A) is allowed. */
  readonly multiline: boolean;
}

export function checkText(v: unknown, field: TextField, name: string): Uint8Array {
  if (typeof v !== 'string') throw new TypeError(`${name} must be a string`);
  if (LONE_SURROGATE.test(v)) throw new RangeError(`${name} must be well-formed Unicode (no lone surrogates)`);
  if ((field.multiline ? CONTROL : CONTROL_OR_LF).test(v)) throw new RangeError(`${name} must not contain control characters`);
  const bytes = utf8(v);
  if (bytes.length < field.minBytes || bytes.length > field.maxBytes) {
    throw new RangeError(`${name} must be ${field.minBytes}..${field.maxBytes} bytes of UTF-8, got ${bytes.length}`);
  }
  return bytes;
}

export function writeText(w: Writer, v: unknown, field: TextField, name: string): void {
  const bytes = checkText(v, field, name);
  if (field.lengthBits === 8) w.u8(bytes.length);
  else w.u16(bytes.length);
  w.bytes(bytes);
}

export function readText(r: Reader, field: TextField, what: string): string {
  const len = field.lengthBits === 8 ? r.u8(`${what} length`) : r.u16(`${what} length`);
  if (len < field.minBytes || len > field.maxBytes) {
    throw fail('malformed', `${what}: ${len} bytes, ${field.minBytes}..${field.maxBytes} allowed`);
  }
  const raw = r.bytes(len, what);
  let s: string;
  try {
    s = STRICT_UTF8.decode(raw);
  } catch {
    throw fail('malformed', `${what} is not valid UTF-8`);
  }
  if ((field.multiline ? CONTROL : CONTROL_OR_LF).test(s)) throw fail('malformed', `${what} contains control characters`);
  return s;
}

// ---- keys -----------------------------------------------------------------------------------

/** A map key for byte strings such as identity keys: one character per byte (internal). */
export function byteKey(b: Uint8Array): string {
  return String.fromCharCode.apply(null, b as unknown as number[]);
}

/** Stream ids are 16 random bytes chosen by the landing node. */
export const STREAM_ID_LENGTH = 16;
