/**
 * Signed node descriptors (seed 004 §2: "all kinds of nodes … are reporting their status
 * periodically to all known discovery nodes"; PSP reference discovery/client.md "Publish",
 * whose DiscoveryItem this replaces; DESIGN.md §3 "Directory": Ed25519 identity, X25519 onion
 * key, addresses, roles, bandwidth, version).
 *
 * Body (format 1), all integers big-endian:
 *   format u8 = 1
 *   identity      32   Ed25519 public key; it signs the descriptor
 *   onionKey      32   X25519 public key for circuit handshakes (not all zero)
 *   roles         u8   bit 0 onion, 1 discovery, 2 authority, 3 oracle, 4 landing, 5 distribution;
 *                      at least one, no other bits
 *   bandwidth     u32  advertised KiB/s
 *   publishedAt   u64  ms since the Unix epoch
 *   validUntil    u64  ms; strictly after publishedAt
 *   addresses     u8 count (1..4), each family u8 (4|6) | address | port u16 (see address.ts)
 *   version       u8 length (0..32) | printable ASCII (the node software's version)
 *   nickname      u8 length (1..32) | [A-Za-z0-9_-]
 * Signed descriptor: bodyLength u16 | body | signature 64, where the signature is Ed25519 by
 * `identity` over SHA-256("PSP-DESCRIPTOR-v1" ‖ body). The descriptor digest is SHA-256(body).
 *
 * Parse, then verify: `parseDescriptor` checks the layout only and gives an UnverifiedDescriptor
 * (its fields are `claimed`); `verifyDescriptor` checks the lifetime cap, the validity window
 * and the signature, in that order, and gives a VerifiedDescriptor. Address sanity (no
 * unspecified or multicast address, no port 0, no duplicates) is part of the layout check, so
 * an unusable address is refused as 'bad-address' before any signature work.
 * Validity rules: 'lifetime-too-long' when validUntil − publishedAt > maxLifetimeMs;
 * 'not-yet-valid' when publishedAt > now + maxClockSkewMs; 'expired' when now ≥ validUntil
 * (a node picks its own validUntil, so no skew is added there).
 *
 * Does not: publish anything, hold a store of descriptors (voting.ts does), or bind a
 * descriptor to a network (votes and the consensus do).
 */
import type { CryptoSuite } from '../crypto/api';
import { type Reader, Writer, assertBytes } from '../util/bytes';
import { checkInput, checkTime, writeAscii, writeTime } from '../util/codec';
import { sealSingleSigned, signingDigest } from '../util/signed';
import { type NodeAddress, readAddresses, writeAddresses } from './address';
import { DirectoryError } from './errors';
import { CONTEXT_DESCRIPTOR, NICKNAME_FIELD, VERSION_FIELD, copy, expectEnd, readAscii, readFormat, readTime, reader } from './internal';

export const DESCRIPTOR_FORMAT = 1;
/** The longest body format 1 can produce is 229 bytes; anything longer is refused unread. */
export const MAX_DESCRIPTOR_BODY_LENGTH = 512;
export const MAX_SIGNED_DESCRIPTOR_LENGTH = 2 + MAX_DESCRIPTOR_BODY_LENGTH + 64;

export const NODE_ROLES = ['onion', 'discovery', 'authority', 'oracle', 'landing', 'distribution'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

/** Bit of each role in the roles byte. */
export const ROLE_BITS: Readonly<Record<NodeRole, number>> = Object.freeze({ onion: 1, discovery: 2, authority: 4, oracle: 8, landing: 16, distribution: 32 });
const ALL_ROLE_BITS = 0x3f;

/** What a node says about itself: its descriptor's fields but the times (a consensus entry repeats them). */
export interface NodeFacts {
  readonly identity: Uint8Array;
  readonly onionKey: Uint8Array;
  /** 1..4 addresses, in the node's order of preference. */
  readonly addresses: readonly NodeAddress[];
  /** Distinct roles the node claims; decoders give them in NODE_ROLES order. */
  readonly roles: readonly NodeRole[];
  /** Advertised bandwidth in KiB/s (u32). */
  readonly bandwidth: number;
  readonly version: string;
  readonly nickname: string;
}

export interface NodeDescriptor extends NodeFacts {
  readonly publishedAt: number;
  readonly validUntil: number;
}

/** A descriptor whose layout is valid but whose signature and validity are not yet checked. */
export interface UnverifiedDescriptor {
  /** What the descriptor claims. Nothing here is trustworthy until verifyDescriptor. */
  readonly claimed: NodeDescriptor;
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
  /** The signed descriptor exactly as received. */
  readonly bytes: Uint8Array;
}

declare const verifiedDescriptorBrand: unique symbol;

/** A descriptor whose signature and validity window were checked by verifyDescriptor. */
export interface VerifiedDescriptor extends NodeDescriptor {
  readonly [verifiedDescriptorBrand]: true;
  /** SHA-256(body). */
  readonly digest: Uint8Array;
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
  /** The signed descriptor, to pass on unchanged (votes carry these bytes). */
  readonly bytes: Uint8Array;
}

export interface DescriptorPolicy {
  /** Longest accepted validUntil − publishedAt. */
  readonly maxLifetimeMs: number;
  /** How far publishedAt may lie in the future of the verifier's clock. */
  readonly maxClockSkewMs: number;
}

export function rolesToBits(roles: unknown, name = 'roles'): number {
  if (!Array.isArray(roles)) throw new TypeError(`${name} must be an array of role names`);
  let bits = 0;
  for (const [i, role] of roles.entries()) {
    if (typeof role !== 'string' || !(NODE_ROLES as readonly string[]).includes(role)) {
      throw new RangeError(`${name}[${i}] must be one of ${NODE_ROLES.join(', ')}`);
    }
    const bit = ROLE_BITS[role as NodeRole];
    if ((bits & bit) !== 0) throw new RangeError(`${name}[${i}] repeats the role ${role}`);
    bits |= bit;
  }
  if (bits === 0) throw new RangeError(`${name} must name at least one role`);
  return bits;
}

/** Decodes a roles byte; throws 'malformed' for unknown bits or an empty set. */
export function bitsToRoles(bits: number, what: string): NodeRole[] {
  if ((bits & ~ALL_ROLE_BITS) !== 0 || bits === 0) {
    throw new DirectoryError('malformed', `${what}: roles byte 0x${bits.toString(16)} has unknown bits or no role`);
  }
  return NODE_ROLES.filter((r) => (bits & ROLE_BITS[r]) !== 0);
}

export function checkU32(v: unknown, name: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new RangeError(`${name} must be an integer 0..2^32-1, got ${String(v)}`);
  }
}

export function checkOnionKey(k: unknown, name: string): asserts k is Uint8Array {
  assertBytes(k, name, 32);
  if (k.every((x) => x === 0)) throw new RangeError(`${name} must not be all zero`);
}

/** Reads an onion key (the Reader names it `field` if it is cut short); all zero is 'malformed'. */
export function readOnionKey(r: Reader, field: string, what: string): Uint8Array {
  const onionKey = r.bytes(32, field).slice();
  if (onionKey.every((x) => x === 0)) throw new DirectoryError('malformed', `${what}: onion key is all zero`);
  return onionKey;
}

/** addresses | version | nickname: the last fields of a descriptor body and of a consensus entry, encoded alike. */
export type NodeInfo = Pick<NodeFacts, 'addresses' | 'version' | 'nickname'>;

/** Writes (and checks, naming `${name}.field`) the NodeInfo fields of `n`. */
export function writeNodeInfo(w: Writer, n: NodeInfo, name: string): void {
  writeAddresses(w, n.addresses, `${name}.addresses`);
  writeAscii(w, n.version, VERSION_FIELD, `${name}.version`);
  writeAscii(w, n.nickname, NICKNAME_FIELD, `${name}.nickname`);
}

export function readNodeInfo(r: Reader, what: string): NodeInfo {
  const addresses = readAddresses(r, `${what} addresses`);
  const version = readAscii(r, VERSION_FIELD, `${what} version`);
  const nickname = readAscii(r, NICKNAME_FIELD, `${what} nickname`);
  return { addresses, version, nickname };
}

/** The descriptor body (format 1). Validates every field; TypeError/RangeError naming the field. */
export function encodeDescriptorBody(d: NodeDescriptor): Uint8Array {
  if (typeof d !== 'object' || d === null) throw new TypeError('descriptor must be an object');
  assertBytes(d.identity, 'descriptor.identity', 32);
  checkOnionKey(d.onionKey, 'descriptor.onionKey');
  const roleBits = rolesToBits(d.roles, 'descriptor.roles');
  checkU32(d.bandwidth, 'descriptor.bandwidth');
  checkTime(d.publishedAt, 'descriptor.publishedAt');
  checkTime(d.validUntil, 'descriptor.validUntil');
  if (d.validUntil <= d.publishedAt) throw new RangeError('descriptor.validUntil must be after descriptor.publishedAt');
  const w = new Writer();
  w.u8(DESCRIPTOR_FORMAT).bytes(d.identity).bytes(d.onionKey).u8(roleBits).u32(d.bandwidth);
  writeTime(w, d.publishedAt, 'descriptor.publishedAt');
  writeTime(w, d.validUntil, 'descriptor.validUntil');
  writeNodeInfo(w, d, 'descriptor');
  return w.finish();
}

/** Decodes a descriptor body (layout only). Throws DirectoryError. */
export function decodeDescriptorBody(body: Uint8Array): NodeDescriptor {
  checkInput(body, 'body');
  const what = 'descriptor';
  if (body.length > MAX_DESCRIPTOR_BODY_LENGTH) {
    throw new DirectoryError('malformed', `${what}: body of ${body.length} bytes, at most ${MAX_DESCRIPTOR_BODY_LENGTH}`);
  }
  const r = reader(body, what);
  readFormat(r, DESCRIPTOR_FORMAT, what);
  const identity = r.bytes(32, 'identity').slice();
  const onionKey = readOnionKey(r, 'onion key', what);
  const roles = bitsToRoles(r.u8('roles'), what);
  const bandwidth = r.u32('bandwidth');
  const publishedAt = readTime(r, 'publishedAt');
  const validUntil = readTime(r, 'validUntil');
  if (validUntil <= publishedAt) throw new DirectoryError('malformed', `${what}: validUntil is not after publishedAt`);
  const { addresses, version, nickname } = readNodeInfo(r, what);
  expectEnd(r, what);
  return { identity, onionKey, addresses, roles, bandwidth, version, nickname, publishedAt, validUntil };
}

/**
 * Signs a descriptor body (from encodeDescriptorBody) with the node's identity secret key
 * (32-byte Ed25519 seed) and returns the signed descriptor bytes. The key must match the body's
 * identity (RangeError otherwise), so a node cannot publish a descriptor it could not verify.
 */
export function signDescriptor(suite: CryptoSuite, body: Uint8Array, secretKey: Uint8Array): Uint8Array {
  assertBytes(body, 'body');
  assertBytes(secretKey, 'secretKey', 32);
  let claimed: NodeDescriptor;
  try {
    claimed = decodeDescriptorBody(body);
  } catch (e) {
    if (e instanceof DirectoryError) throw new RangeError(`body is not a valid descriptor body: ${e.message}`);
    throw e;
  }
  const pub = suite.ed25519PublicKey(secretKey);
  if (!pub.every((x, i) => x === claimed.identity[i])) throw new RangeError('secretKey does not belong to the descriptor identity');
  return sealSingleSigned(suite, CONTEXT_DESCRIPTOR, body, secretKey, 16);
}

/**
 * Parses a signed descriptor (layout only). Throws DirectoryError. The envelope is the
 * single-signed one of node-core/util/signed.ts, but a descriptor also refuses a bodyLength over
 * MAX_DESCRIPTOR_BODY_LENGTH before reading the body, and its messages state the limits, so it is
 * read here rather than with parseSingleSigned.
 */
export function parseDescriptor(bytes: Uint8Array): UnverifiedDescriptor {
  checkInput(bytes, 'bytes');
  if (bytes.length > MAX_SIGNED_DESCRIPTOR_LENGTH) {
    throw new DirectoryError('malformed', `signed descriptor of ${bytes.length} bytes, at most ${MAX_SIGNED_DESCRIPTOR_LENGTH}`);
  }
  const r = reader(bytes, 'signed descriptor');
  const len = r.u16('body length');
  if (len > MAX_DESCRIPTOR_BODY_LENGTH) throw new DirectoryError('malformed', `descriptor body length ${len} over ${MAX_DESCRIPTOR_BODY_LENGTH}`);
  const body = r.bytes(len, 'body').slice();
  const signature = r.bytes(64, 'signature').slice();
  expectEnd(r, 'signed descriptor');
  const claimed = decodeDescriptorBody(body);
  return { claimed, body, signature, bytes: copy(bytes) };
}

export function checkDescriptorPolicy(policy: unknown, name = 'policy'): asserts policy is DescriptorPolicy {
  if (typeof policy !== 'object' || policy === null) throw new TypeError(`${name} must be an object`);
  const p = policy as DescriptorPolicy;
  checkTime(p.maxLifetimeMs, `${name}.maxLifetimeMs`);
  if (p.maxLifetimeMs === 0) throw new RangeError(`${name}.maxLifetimeMs must be positive`);
  checkTime(p.maxClockSkewMs, `${name}.maxClockSkewMs`);
}

/**
 * The time checks of verifyDescriptor, on their own: lifetime cap, then not-yet-valid, then
 * expired. Throws DirectoryError.
 */
export function checkDescriptorTimes(d: NodeDescriptor, now: number, policy: DescriptorPolicy): void {
  if (d.validUntil - d.publishedAt > policy.maxLifetimeMs) {
    throw new DirectoryError('lifetime-too-long', `descriptor valid for ${d.validUntil - d.publishedAt} ms, at most ${policy.maxLifetimeMs} allowed`);
  }
  if (d.publishedAt > now + policy.maxClockSkewMs) {
    throw new DirectoryError('not-yet-valid', `descriptor published at ${d.publishedAt}, ahead of ${now} by more than ${policy.maxClockSkewMs} ms`);
  }
  if (now >= d.validUntil) throw new DirectoryError('expired', `descriptor expired at ${d.validUntil} (now ${now})`);
}

/**
 * Checks an UnverifiedDescriptor at time `now` (ms): lifetime cap, validity window, then the
 * signature by its own identity key. Throws DirectoryError ('lifetime-too-long',
 * 'not-yet-valid', 'expired', 'bad-signature').
 */
export function verifyDescriptor(
  suite: CryptoSuite,
  unverified: UnverifiedDescriptor,
  now: number,
  policy: DescriptorPolicy,
): VerifiedDescriptor {
  if (typeof unverified !== 'object' || unverified === null || typeof unverified.claimed !== 'object') {
    throw new TypeError('unverified must come from parseDescriptor');
  }
  checkTime(now, 'now');
  checkDescriptorPolicy(policy);
  // Work from the body itself, so a hand-built object whose `claimed` disagrees with its body
  // cannot slip through.
  const d = decodeDescriptorBody(unverified.body);
  checkDescriptorTimes(d, now, policy);
  const digest = signingDigest(suite, CONTEXT_DESCRIPTOR, unverified.body);
  if (!suite.ed25519Verify(unverified.signature, digest, d.identity)) {
    throw new DirectoryError('bad-signature', 'descriptor signature does not verify with its identity key');
  }
  return {
    ...d,
    digest: suite.sha256(unverified.body),
    body: unverified.body,
    signature: unverified.signature,
    bytes: unverified.bytes,
  } as VerifiedDescriptor;
}
