/**
 * DHT contacts: who a node is in the DHT (node id, Ed25519 identity key) and where it can be
 * reached (1..4 addresses). PSP reference dht/messages.md `Peer { id, addrs }`, with the identity
 * key added so the id can be checked against it (S/Kademlia §4.1).
 *
 * Wire form: nodeId 32 | identityKey 32 | count u8 (1..4) | count × (family u8 | address | port u16).
 * The decoder checks the layout and the addresses; whether the id belongs to the key and meets the
 * puzzle needs a CryptoSuite and is `isValidContact`'s job (lookups and the routing table call it).
 *
 * The first address is the contact's primary address: the one IP-diversity limits count
 * (routing.ts). A driver that learns a contact over an authenticated link should put the address
 * it actually saw first.
 *
 * Does not: prove that a contact is reachable or that its addresses are its own.
 */
import type { CryptoSuite } from '../crypto/api';
import { type NodeAddress, MAX_ADDRESSES } from '../directory/address';
import { type Reader, type Writer, assertBytes } from '../util/bytes';
import { DhtError } from './errors';
import { NODE_ID_LENGTH, checkNodeId } from './id';
import { addressKey, checkAddress, parseIpCached, readAddress, writeAddress } from './internal';

export type { NodeAddress } from '../directory/address';

export interface Contact {
  readonly nodeId: Uint8Array;
  readonly identityKey: Uint8Array;
  /** 1..4 addresses; the first is the primary one. */
  readonly addresses: readonly NodeAddress[];
}

export const MAX_CONTACT_ADDRESSES = MAX_ADDRESSES;
/** Longest encoded contact: 64 + 1 + 4 × 19. */
export const MAX_CONTACT_LENGTH = 64 + 1 + MAX_CONTACT_ADDRESSES * 19;

/** Checks a contact given by a caller; TypeError/RangeError naming `name`. */
export function checkContactShape(c: unknown, name = 'contact'): asserts c is Contact {
  if (typeof c !== 'object' || c === null) throw new TypeError(`${name} must be an object`);
  const x = c as Contact;
  assertBytes(x.nodeId, `${name}.nodeId`, NODE_ID_LENGTH);
  assertBytes(x.identityKey, `${name}.identityKey`, 32);
  if (!Array.isArray(x.addresses)) throw new TypeError(`${name}.addresses must be an array`);
  if (x.addresses.length < 1 || x.addresses.length > MAX_CONTACT_ADDRESSES) {
    throw new RangeError(`${name}.addresses must hold 1..${MAX_CONTACT_ADDRESSES} addresses, got ${x.addresses.length}`);
  }
  const seen = new Set<string>();
  x.addresses.forEach((a: unknown, i) => {
    checkAddress(a, `${name}.addresses[${i}]`);
    const key = addressKey(a as NodeAddress);
    if (seen.has(key)) throw new RangeError(`${name}.addresses[${i}] repeats an earlier address`);
    seen.add(key);
  });
}

/**
 * True when the contact's id is SHA-256 of its identity key and meets the puzzle of difficulty
 * `c1` (S/Kademlia §4.1). A contact failing this is never stored, queried or passed on.
 */
export function isValidContact(suite: CryptoSuite, c: Contact, c1: number): boolean {
  return checkNodeId(suite, c.identityKey, c.nodeId, c1);
}

export function writeContact(w: Writer, c: Contact, name = 'contact'): void {
  checkContactShape(c, name);
  w.bytes(c.nodeId).bytes(c.identityKey).u8(c.addresses.length);
  c.addresses.forEach((a, i) => writeAddress(w, a, `${name}.addresses[${i}]`));
}

export function readContact(r: Reader, what: string): Contact {
  const nodeId = r.bytes(NODE_ID_LENGTH, `${what} node id`).slice();
  const identityKey = r.bytes(32, `${what} identity key`).slice();
  const n = r.u8(`${what} address count`);
  if (n < 1 || n > MAX_CONTACT_ADDRESSES) {
    throw new DhtError('malformed', `${what}: ${n} addresses, 1..${MAX_CONTACT_ADDRESSES} allowed`);
  }
  const addresses: NodeAddress[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const a = readAddress(r, `${what} address ${i}`);
    const key = `${a.host}|${a.port}`; // readAddress gives the canonical text
    if (seen.has(key)) throw new DhtError('bad-address', `${what}: address ${i} repeats an earlier address`);
    seen.add(key);
    addresses.push(a);
  }
  return { nodeId, identityKey, addresses };
}

/**
 * The subnet an address belongs to for diversity limits: its /16 for IPv4, its /48 for IPv6
 * (S/Kademlia §4.2 leaves the policy open; these are the prefixes a single operator most easily
 * controls). Returned as text like "4:10.1" or "6:2001:db8:1".
 */
export function subnetOf(address: NodeAddress): string {
  if (typeof address !== 'object' || address === null || typeof address.host !== 'string') {
    throw new TypeError('address must be an object { host, port }');
  }
  const ip = parseIpCached(address.host);
  if (ip === null) throw new RangeError(`address.host must be an IPv4 or IPv6 literal, got ${JSON.stringify(address.host)}`);
  const b = ip.bytes;
  if (ip.family === 4) return `4:${b[0]}.${b[1]}`;
  const g = (i: number): string => ((b[2 * i]! << 8) | b[2 * i + 1]!).toString(16);
  return `6:${g(0)}:${g(1)}:${g(2)}`;
}

/** The subnet of a contact's primary address. */
export function subnetOfContact(c: Contact): string {
  const a = c.addresses[0];
  if (a === undefined) throw new RangeError('contact has no address');
  return subnetOf(a);
}
