/**
 * Node addresses in directory documents: an IPv4 or IPv6 literal and a TCP port.
 *
 * Text forms: IPv4 dotted quad without leading zeros (RFC 791 / the usual inet_aton subset);
 * IPv6 as in RFC 4291 §2.2 (eight groups, one `::`, an optional dotted IPv4 tail), no zone index,
 * no brackets. Decoders return the canonical text of RFC 5952 §4 (lower case, no leading zeros,
 * the longest run of two or more zero groups shortened to `::`, the first on a tie), so
 * text → bytes → text is stable after the first round.
 *
 * Wire form: family u8 (4 or 6) | address (4 or 16 bytes) | port u16.
 *
 * Addresses no peer can connect to are refused with DirectoryError('bad-address') when decoding
 * and with RangeError when encoding: port 0; IPv4 0.0.0.0/8 ("this network", RFC 6890),
 * 224.0.0.0/4 (multicast) and 240.0.0.0/4 (reserved, including 255.255.255.255); IPv6 `::`
 * (unspecified), ff00::/8 (multicast), fe80::/10 (link-local: unusable without a zone index) and
 * ::ffff:0:0/96 (IPv4-mapped: such an address must be written as IPv4). Loopback and private
 * ranges are allowed: a local test network runs on them.
 *
 * Does not: resolve host names (a directory never carries names), or judge reachability.
 */
import type { Reader, Writer } from '../util/bytes';
import { DirectoryError } from './errors';

export interface NodeAddress {
  /** An IPv4 or IPv6 literal; decoders give the canonical form. */
  readonly host: string;
  /** TCP port, 1..65535. */
  readonly port: number;
}

export interface IpBytes {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}

const V4_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const V4 = new RegExp(`^${V4_OCTET}(?:\\.${V4_OCTET}){3}$`);
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

function parseV4(text: string): Uint8Array | null {
  if (!V4.test(text)) return null;
  return Uint8Array.from(text.split('.').map(Number));
}

function parseV6(text: string): Uint8Array | null {
  if (text.length === 0 || text.length > 45) return null;
  let head = text;
  let v4Tail: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.slice(lastColon + 1).includes('.')) {
    v4Tail = parseV4(text.slice(lastColon + 1));
    if (v4Tail === null) return null;
    // Keep the colon so "::1.2.3.4" and "a:b::1.2.3.4" split the same way as plain groups.
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const splitGroups = (s: string): string[] | null => {
    if (s === '') return [];
    const g = s.split(':');
    return g.every((x) => HEX_GROUP.test(x)) ? g : null;
  };
  const left = splitGroups(halves[0]!);
  const right = halves.length === 2 ? splitGroups(halves[1]!) : [];
  if (left === null || right === null) return null;
  let groups: string[];
  if (halves.length === 2) {
    const missing = 8 - left.length - right.length;
    if (missing < 1) return null; // '::' stands for at least one group (RFC 4291 §2.2 item 2)
    groups = [...left, ...Array<string>(missing).fill('0'), ...right];
  } else {
    groups = left;
  }
  if (groups.length !== 8) return null;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >>> 8;
    out[2 * i + 1] = v & 0xff;
  });
  if (v4Tail !== null) out.set(v4Tail, 12);
  return out;
}

/** Parses an IPv4 or IPv6 literal; null when `text` is neither. */
export function parseIpLiteral(text: string): IpBytes | null {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  const v4 = parseV4(text);
  if (v4 !== null) return { family: 4, bytes: v4 };
  const v6 = parseV6(text);
  if (v6 !== null) return { family: 6, bytes: v6 };
  return null;
}

/** Canonical text of an address (RFC 5952 §4 for IPv6). */
export function formatIp(ip: IpBytes): string {
  if (ip.family === 4) return Array.from(ip.bytes).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((ip.bytes[2 * i]! << 8) | ip.bytes[2 * i + 1]!);
  // RFC 5952 §4.2.1–4.2.3: shorten the longest run (≥ 2) of zero groups, the first on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/** Why no peer could connect to this address, or null when it is usable. */
export function addressProblem(ip: IpBytes, port: number): string | null {
  if (port === 0) return 'port 0';
  const b = ip.bytes;
  if (ip.family === 4) {
    if (b[0] === 0) return 'IPv4 0.0.0.0/8 (unspecified, "this network")';
    if (b[0]! >= 224 && b[0]! <= 239) return 'IPv4 multicast';
    if (b[0]! >= 240) return 'IPv4 reserved or broadcast (240.0.0.0/4)';
    return null;
  }
  if (b.every((x) => x === 0)) return 'IPv6 unspecified (::)';
  if (b[0] === 0xff) return 'IPv6 multicast';
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return 'IPv6 link-local (needs a zone index)';
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    return 'IPv4-mapped IPv6 (write it as IPv4)';
  }
  return null;
}

/** Validates an address given by a caller and returns its bytes; RangeError/TypeError on a bad one. */
export function checkAddress(a: unknown, name: string): IpBytes & { port: number } {
  if (typeof a !== 'object' || a === null) throw new TypeError(`${name} must be an object { host, port }`);
  const { host, port } = a as { host: unknown; port: unknown };
  if (typeof host !== 'string') throw new TypeError(`${name}.host must be a string`);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new RangeError(`${name}.port must be an integer 1..65535`);
  }
  const ip = parseIpLiteral(host);
  if (ip === null) throw new RangeError(`${name}.host must be an IPv4 or IPv6 literal, got ${JSON.stringify(host)}`);
  const problem = addressProblem(ip, port);
  if (problem !== null) throw new RangeError(`${name} is not a usable address: ${problem}`);
  return { ...ip, port };
}

export const MAX_ADDRESSES = 4;

/** Writes a count u8 (1..MAX_ADDRESSES) and the addresses; refuses duplicates. */
export function writeAddresses(w: Writer, addresses: unknown, name: string): void {
  if (!Array.isArray(addresses)) throw new TypeError(`${name} must be an array`);
  if (addresses.length < 1 || addresses.length > MAX_ADDRESSES) {
    throw new RangeError(`${name} must hold 1..${MAX_ADDRESSES} addresses, got ${addresses.length}`);
  }
  const checked = addresses.map((a: unknown, i) => checkAddress(a, `${name}[${i}]`));
  const seen = new Set<string>();
  checked.forEach((a, i) => {
    const key = `${formatIp(a)}|${a.port}`;
    if (seen.has(key)) throw new RangeError(`${name}[${i}] repeats an earlier address`);
    seen.add(key);
  });
  w.u8(checked.length);
  for (const a of checked) w.u8(a.family).bytes(a.bytes).u16(a.port);
}

export function readAddresses(r: Reader, what: string): NodeAddress[] {
  const n = r.u8(`${what} count`);
  if (n < 1 || n > MAX_ADDRESSES) throw new DirectoryError('malformed', `${what}: ${n} addresses, 1..${MAX_ADDRESSES} allowed`);
  const out: NodeAddress[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const family = r.u8(`${what}[${i}] family`);
    if (family !== 4 && family !== 6) throw new DirectoryError('malformed', `${what}[${i}]: unknown address family ${family}`);
    const bytes = r.bytes(family === 4 ? 4 : 16, `${what}[${i}] address`).slice();
    const port = r.u16(`${what}[${i}] port`);
    const ip: IpBytes = { family, bytes };
    const problem = addressProblem(ip, port);
    if (problem !== null) throw new DirectoryError('bad-address', `${what}[${i}]: ${problem}`);
    const host = formatIp(ip);
    const key = `${host}|${port}`;
    if (seen.has(key)) throw new DirectoryError('bad-address', `${what}[${i}] repeats an earlier address`);
    seen.add(key);
    out.push({ host, port });
  }
  return out;
}
