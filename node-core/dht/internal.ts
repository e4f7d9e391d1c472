/**
 * Codec helpers shared by the files of node-core/dht. Internal: not exported from the folder's
 * index.
 *
 * Conventions of every encoding in this folder: big-endian integers; times are milliseconds since
 * the Unix epoch carried as u64 and limited to Number.MAX_SAFE_INTEGER; lists are a count followed
 * by the items, with an explicit maximum; addresses are `family u8 (4|6) | address | port u16`
 * (the layout of node-core/directory/address.ts).
 */
import type { CryptoSuite } from '../crypto/api';
import { type IpBytes, type NodeAddress, addressProblem, formatIp, parseIpLiteral } from '../directory/address';
import { Reader, type Writer, concatBytes, utf8 } from '../util/bytes';
import { DhtError } from './errors';

/**
 * Signature contexts. Every signature in this folder is Ed25519 over
 * SHA-256(context ASCII bytes ‖ signed bytes), the convention of node-core/directory, so a
 * signature made for one kind of document can never be taken for another. Neither context is a
 * prefix of another context of the project.
 */
export const CONTEXT_RECORD = 'PSP-DHT-RECORD-v1';
export const CONTEXT_COSIGN = 'PSP-DHT-COSIGN-v1';

export function signingDigest(suite: CryptoSuite, context: string, body: Uint8Array): Uint8Array {
  return suite.sha256(concatBytes(utf8(context), body));
}

export function reader(bytes: Uint8Array, what: string): Reader {
  return new Reader(bytes, (field) => new DhtError('malformed', `${what}: input ends inside ${field}`));
}

export function expectEnd(r: Reader, what: string): void {
  if (r.remaining !== 0) throw new DhtError('malformed', `${what}: ${r.remaining} unexpected trailing bytes`);
}

export function checkInput(bytes: unknown, name: string): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
}

export function readFormat(r: Reader, expected: number, what: string): void {
  const v = r.u8(`${what} format`);
  if (v !== expected) throw new DhtError('unsupported-version', `${what}: format ${v} is not supported (expected ${expected})`);
}

export function readTime(r: Reader, what: string): number {
  const v = r.u64(what);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DhtError('malformed', `${what}: time ${v} is out of range`);
  return Number(v);
}

export function checkTime(v: unknown, name: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer (milliseconds), got ${String(v)}`);
  }
}

export function checkPositiveInt(v: unknown, name: string, max = Number.MAX_SAFE_INTEGER): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max) {
    throw new RangeError(`${name} must be an integer 1..${max}, got ${String(v)}`);
  }
}

export function writeTime(w: Writer, v: number, name: string): void {
  checkTime(v, name);
  w.u64(BigInt(v));
}

export const MAX_U64 = 0xffffffffffffffffn;

export function checkSequence(v: unknown, name: string): asserts v is bigint {
  if (typeof v !== 'bigint') throw new TypeError(`${name} must be a bigint`);
  if (v < 0n || v > MAX_U64) throw new RangeError(`${name} must be in 0..2^64-1, got ${v}`);
}

// ---- addresses ------------------------------------------------------------------------------

interface HostInfo {
  readonly ip: IpBytes | null;
  /** Canonical text (RFC 5952 for IPv6), or the input when it is not a literal. */
  readonly canonical: string;
  /** Why the host is unusable whatever the port (see directory/address.ts), or null. */
  readonly problem: string | null;
}

/**
 * Facts about host strings, with a small bounded memo: the same few thousand host strings are
 * checked over and over (every contact in every answer), and parsing text would otherwise be the
 * dominant cost. The memo hands out copies of the address bytes, so a caller cannot alter it.
 */
const hostMemo = new Map<string, HostInfo>();
const HOST_MEMO_LIMIT = 8192;

function hostInfo(host: string): HostInfo {
  let info = hostMemo.get(host);
  if (info === undefined) {
    const ip = parseIpLiteral(host);
    // Any port but 0 gives the host's own problem; port 0 is checked separately.
    info = { ip, canonical: ip === null ? host : formatIp(ip), problem: ip === null ? null : addressProblem(ip, 1) };
    if (hostMemo.size >= HOST_MEMO_LIMIT) hostMemo.clear();
    hostMemo.set(host, info);
  }
  return info;
}

/** parseIpLiteral through the memo. */
export function parseIpCached(host: string): IpBytes | null {
  const ip = hostInfo(host).ip;
  return ip === null ? null : { family: ip.family, bytes: ip.bytes.slice() };
}

/** Validates an address given by a caller; RangeError/TypeError naming `name` on a bad one. */
export function checkAddress(a: unknown, name: string): IpBytes & { port: number } {
  if (typeof a !== 'object' || a === null) throw new TypeError(`${name} must be an object { host, port }`);
  const { host, port } = a as { host: unknown; port: unknown };
  if (typeof host !== 'string') throw new TypeError(`${name}.host must be a string`);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 0xffff) {
    throw new RangeError(`${name}.port must be an integer 1..65535, got ${String(port)}`);
  }
  const info = hostInfo(host);
  if (info.ip === null) throw new RangeError(`${name}.host must be an IPv4 or IPv6 literal, got ${JSON.stringify(host)}`);
  if (info.problem !== null) throw new RangeError(`${name} is not a usable address: ${info.problem}`);
  return { family: info.ip.family, bytes: info.ip.bytes.slice(), port };
}

export function writeAddress(w: Writer, a: unknown, name: string): void {
  const c = checkAddress(a, name);
  w.u8(c.family).bytes(c.bytes).u16(c.port);
}

/** Reads an address (family u8 | 4 or 16 bytes | port u16); the host comes back in canonical text. */
export function readAddress(r: Reader, what: string): NodeAddress {
  const family = r.u8(`${what} family`);
  if (family !== 4 && family !== 6) throw new DhtError('malformed', `${what}: unknown address family ${family}`);
  const bytes = r.bytes(family === 4 ? 4 : 16, `${what} address`).slice();
  const port = r.u16(`${what} port`);
  const ip: IpBytes = { family, bytes };
  const problem = addressProblem(ip, port);
  if (problem !== null) throw new DhtError('bad-address', `${what}: ${problem}`);
  const host = family === 4 ? `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}` : formatIp(ip);
  return { host, port };
}

/** Canonical "host|port" text of an address, for duplicate detection. */
export function addressKey(a: NodeAddress): string {
  return `${hostInfo(a.host).canonical}|${a.port}`;
}

export { compareBytes } from '../util/codec';

/** A map key for byte strings such as 32-byte ids: one character per byte (internal). */
export function idKey(b: Uint8Array): string {
  return String.fromCharCode.apply(null, b as unknown as number[]);
}
