/**
 * Codec helpers shared by the files of node-core/authority. Internal: not exported from the
 * folder's index. Same conventions as node-core/directory: big-endian, times in ms as u64
 * limited to Number.MAX_SAFE_INTEGER, strings as u8 length | bytes, bounded lists.
 */
import type { CryptoSuite } from '../crypto/api';
import { IdentityError, type Identity, parseIdentity } from '../crypto/identity';
import { Reader, Writer, concatBytes, equalBytes, toHex, utf8 } from '../util/bytes';
import { AuthorityError } from './errors';

/**
 * Signature contexts: each signature in this folder is Ed25519 over
 * SHA-256(context ASCII bytes ‖ body). No context is a prefix of another, here or in
 * node-core/directory (test/authority checks that).
 */
export const CONTEXT_REGISTER = 'PSP-REGISTER-v1';
export const CONTEXT_ACCESS_CERT = 'PSP-ACCESS-CERT-v1';
export const CONTEXT_CERT_REQUEST = 'PSP-CERT-REQUEST-v1';

export function signingDigest(suite: CryptoSuite, context: string, body: Uint8Array): Uint8Array {
  return suite.sha256(concatBytes(utf8(context), body));
}

export function reader(bytes: Uint8Array, what: string): Reader {
  return new Reader(bytes, (field) => new AuthorityError('malformed', `${what}: input ends inside ${field}`));
}

export function expectEnd(r: Reader, what: string): void {
  if (r.remaining !== 0) throw new AuthorityError('malformed', `${what}: ${r.remaining} unexpected trailing bytes`);
}

export function checkInput(bytes: unknown, name: string): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
}

export function readFormat(r: Reader, expected: number, what: string): void {
  const v = r.u8(`${what} format`);
  if (v !== expected) throw new AuthorityError('unsupported-version', `${what}: format ${v} is not supported (expected ${expected})`);
}

export function readTime(r: Reader, what: string): number {
  const v = r.u64(what);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new AuthorityError('malformed', `${what}: time ${v} is out of range`);
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

const NETWORK = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
const NETWORK_RULE = "1..32 characters of [a-z0-9-], not starting or ending with '-'";

export function checkNetwork(v: unknown, name: string): asserts v is string {
  if (typeof v !== 'string') throw new TypeError(`${name} must be a string`);
  if (!NETWORK.test(v)) throw new RangeError(`${name} must be ${NETWORK_RULE}`);
}

export function writeNetwork(w: Writer, v: string, name: string): void {
  checkNetwork(v, name);
  w.u8(v.length).bytes(utf8(v));
}

export function readNetwork(r: Reader, what: string): string {
  const len = r.u8(`${what} length`);
  const raw = r.bytes(len, what);
  let s = '';
  for (const b of raw) s += String.fromCharCode(b);
  if (!NETWORK.test(s)) throw new AuthorityError('malformed', `${what} must be ${NETWORK_RULE}`);
  return s;
}

/**
 * Checks an identity string given by a caller against the public key it must name; returns it.
 * TypeError/RangeError naming the parameter.
 */
export function checkIdentityFor(identity: unknown, publicKey: Uint8Array, name: string): Identity {
  if (typeof identity !== 'string') throw new TypeError(`${name} must be a string`);
  let parsed: Identity;
  try {
    parsed = parseIdentity(identity);
  } catch (e) {
    if (e instanceof IdentityError) throw new RangeError(`${name} is not a valid identity string: ${e.message}`);
    throw e;
  }
  if (!equalBytes(parsed.publicKey, publicKey)) throw new RangeError(`${name} names another public key`);
  return parsed;
}

export function writeIdentity(w: Writer, identity: string): void {
  const b = utf8(identity);
  w.u8(b.length).bytes(b);
}

/** Reads an identity string and checks it names `publicKey`; AuthorityError('bad-identity') otherwise. */
export function readIdentityFor(r: Reader, publicKey: Uint8Array, what: string): string {
  const len = r.u8(`${what} length`);
  const raw = r.bytes(len, what);
  let s = '';
  for (const b of raw) {
    if (b > 0x7e || b < 0x21) throw new AuthorityError('bad-identity', `${what}: identity strings are printable ASCII`);
    s += String.fromCharCode(b);
  }
  let parsed: Identity;
  try {
    parsed = parseIdentity(s);
  } catch (e) {
    if (e instanceof IdentityError) throw new AuthorityError('bad-identity', `${what}: ${e.message}`);
    throw e;
  }
  if (!equalBytes(parsed.publicKey, publicKey)) throw new AuthorityError('bad-identity', `${what} names another public key`);
  return s;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Checks a non-empty list of distinct 32-byte keys and returns copies. */
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
    out.push(k.slice());
  });
  if (out.length === 0) throw new RangeError(`${name} must not be empty`);
  return out;
}
