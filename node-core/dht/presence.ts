/**
 * Presence records (seed 004 §6.2 "Announcing presence on the system: anonymous way", §6.3
 * "Public way", §7.2 "Public entity"; seed 003, Ixian S2's signed, time-limited presence packets;
 * PSP reference application/announcepresence.md `AnnouncementMessage`, lookupresult.md).
 *
 * A user's presence is one DHT record (record.ts) under the key SHA-256("presence" ‖ owner key),
 * owned and signed by the user, co-signed by one of the presence nodes it lists. Several presence
 * points per user (seed 004 §6.2, fig. 2.1) are entries of that one record: the user signs the
 * list once and hands the same owner-signed record to each of its presence nodes, and each
 * co-signs and publishes its copy. A newer sequence replaces the whole list (a presence node that
 * went away is dropped by publishing a list without it).
 *
 * Value (format 1), all integers big-endian:
 *   format          u8 = 1
 *   flags           u8   bit 0 public (announced over one hop, §6.3; otherwise over a 3-hop
 *                        circuit, §6.2), bit 1 accepts direct connections (§7.2); other bits 0
 *   version         u16  the user's presence protocol version (what introductions it understands)
 *   announcementKey 32   X25519 public key: introductions to the user are encrypted to it (§7.1)
 *   count           u8   1..4 presence points, each:
 *     nodeIdentity  32   Ed25519 identity key of the presence node
 *     address            family u8 (4|6) | address | port u16 (node-core/directory/address.ts)
 * The node identities of one value are distinct.
 *
 * `pickPresence` chooses, among verified records, the newest valid presence of an owner: records
 * for another key, with an undecodable value, or co-signed by a node that is not one of their own
 * presence points are ignored. Each point of the chosen version says whether its node co-signed a
 * copy of that version among the records given (`confirmed`): a caller contacting presence nodes
 * should try confirmed ones first.
 *
 * Does not: build circuits, keep presence alive (the keep-alive is a fresh record with a higher
 * sequence, sent over the announcing circuit), or encrypt introductions.
 */
import type { CryptoSuite } from '../crypto/api';
import type { NodeAddress } from '../directory/address';
import { Writer, assertBytes, equalBytes } from '../util/bytes';
import { DhtError } from './errors';
import { checkInput, expectEnd, readAddress, readFormat, reader, writeAddress } from './internal';
import {
  type KeyRule,
  type VerifiedRecord,
  compareNewest,
  deriveRecordKey,
  namespaceKeyRule,
  signRecord,
} from './record';

export const PRESENCE_NAMESPACE = 'presence';
export const PRESENCE_FORMAT = 1;
export const MAX_PRESENCE_POINTS = 4;
export const PRESENCE_FLAG_PUBLIC = 1;
export const PRESENCE_FLAG_ACCEPTS_DIRECT = 2;
const KNOWN_FLAGS = PRESENCE_FLAG_PUBLIC | PRESENCE_FLAG_ACCEPTS_DIRECT;
/** Longest value: 1 + 1 + 2 + 32 + 1 + 4 × (32 + 19). */
export const MAX_PRESENCE_VALUE_LENGTH = 37 + MAX_PRESENCE_POINTS * 51;

export interface PresencePoint {
  /** Ed25519 identity key of the presence node. */
  readonly nodeIdentity: Uint8Array;
  readonly address: NodeAddress;
}

export interface PresenceValue {
  /** 1..4 presence points with distinct node identities, in the user's order of preference. */
  readonly points: readonly PresencePoint[];
  /** X25519 public key for encrypted introductions. */
  readonly announcementKey: Uint8Array;
  /** Announced publicly over one hop (§6.3) rather than anonymously (§6.2). */
  readonly public: boolean;
  /** Accepts direct connections to its presence node (§7.2). */
  readonly acceptsDirect: boolean;
  /** Presence protocol version, u16. */
  readonly version: number;
}

/** The presence key of `owner`: SHA-256("presence" ‖ owner). */
export function presenceKey(suite: CryptoSuite, owner: Uint8Array): Uint8Array {
  return deriveRecordKey(suite, PRESENCE_NAMESPACE, owner);
}

/** The key rule for presence records (usable as RecordPolicy.keyRule, alone or combined). */
export function presenceKeyRule(suite: CryptoSuite): KeyRule {
  return namespaceKeyRule(suite, [PRESENCE_NAMESPACE]);
}

export function encodePresenceValue(v: PresenceValue): Uint8Array {
  if (typeof v !== 'object' || v === null) throw new TypeError('value must be an object');
  if (!Array.isArray(v.points)) throw new TypeError('value.points must be an array');
  if (v.points.length < 1 || v.points.length > MAX_PRESENCE_POINTS) {
    throw new RangeError(`value.points must hold 1..${MAX_PRESENCE_POINTS} points, got ${v.points.length}`);
  }
  assertBytes(v.announcementKey, 'value.announcementKey', 32);
  if (v.announcementKey.every((b) => b === 0)) throw new RangeError('value.announcementKey must not be all zero');
  if (typeof v.public !== 'boolean') throw new TypeError('value.public must be a boolean');
  if (typeof v.acceptsDirect !== 'boolean') throw new TypeError('value.acceptsDirect must be a boolean');
  if (typeof v.version !== 'number' || !Number.isInteger(v.version) || v.version < 0 || v.version > 0xffff) {
    throw new RangeError(`value.version must be an integer 0..65535, got ${String(v.version)}`);
  }
  const flags = (v.public ? PRESENCE_FLAG_PUBLIC : 0) | (v.acceptsDirect ? PRESENCE_FLAG_ACCEPTS_DIRECT : 0);
  const w = new Writer().u8(PRESENCE_FORMAT).u8(flags).u16(v.version).bytes(v.announcementKey).u8(v.points.length);
  v.points.forEach((p, i) => {
    if (typeof p !== 'object' || p === null) throw new TypeError(`value.points[${i}] must be an object`);
    assertBytes(p.nodeIdentity, `value.points[${i}].nodeIdentity`, 32);
    for (let j = 0; j < i; j++) {
      if (equalBytes(v.points[j]!.nodeIdentity, p.nodeIdentity)) throw new RangeError(`value.points[${i}] repeats the node of points[${j}]`);
    }
    w.bytes(p.nodeIdentity);
    writeAddress(w, p.address, `value.points[${i}].address`);
  });
  return w.finish();
}

/** Decodes a presence value. Throws only DhtError (TypeError for a non-Uint8Array). */
export function decodePresenceValue(bytes: Uint8Array): PresenceValue {
  checkInput(bytes, 'bytes');
  const what = 'presence value';
  if (bytes.length > MAX_PRESENCE_VALUE_LENGTH) throw new DhtError('oversize', `${what} of ${bytes.length} bytes, at most ${MAX_PRESENCE_VALUE_LENGTH}`);
  const r = reader(bytes, what);
  readFormat(r, PRESENCE_FORMAT, what);
  const flags = r.u8('flags');
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new DhtError('malformed', `${what}: unknown flag bits 0x${flags.toString(16)}`);
  const version = r.u16('version');
  const announcementKey = r.bytes(32, 'announcement key').slice();
  if (announcementKey.every((b) => b === 0)) throw new DhtError('malformed', `${what}: announcement key is all zero`);
  const n = r.u8('point count');
  if (n < 1 || n > MAX_PRESENCE_POINTS) throw new DhtError('malformed', `${what}: ${n} presence points, 1..${MAX_PRESENCE_POINTS} allowed`);
  const points: PresencePoint[] = [];
  for (let i = 0; i < n; i++) {
    const nodeIdentity = r.bytes(32, `point ${i} node identity`).slice();
    if (points.some((p) => equalBytes(p.nodeIdentity, nodeIdentity))) {
      throw new DhtError('malformed', `${what}: point ${i} repeats an earlier presence node`);
    }
    points.push({ nodeIdentity, address: readAddress(r, `${what} point ${i}`) });
  }
  expectEnd(r, what);
  return {
    points,
    announcementKey,
    public: (flags & PRESENCE_FLAG_PUBLIC) !== 0,
    acceptsDirect: (flags & PRESENCE_FLAG_ACCEPTS_DIRECT) !== 0,
    version,
  };
}

export interface PresenceRecordInput {
  /** The user's 32-byte Ed25519 identity seed. */
  readonly ownerSecretKey: Uint8Array;
  readonly value: PresenceValue;
  readonly sequence: bigint;
  readonly expiresAt: number;
}

/**
 * Builds the owner-signed presence record a user hands to its presence nodes; each verifies it
 * (record.ts verifyOwnerRecord) and co-signs it (cosignRecord) before publishing.
 */
export function buildPresenceRecord(suite: CryptoSuite, input: PresenceRecordInput): Uint8Array {
  if (typeof input !== 'object' || input === null) throw new TypeError('input must be an object');
  assertBytes(input.ownerSecretKey, 'input.ownerSecretKey', 32);
  const value = encodePresenceValue(input.value);
  const owner = suite.ed25519PublicKey(input.ownerSecretKey);
  return signRecord(suite, { key: presenceKey(suite, owner), owner, sequence: input.sequence, expiresAt: input.expiresAt, value }, input.ownerSecretKey);
}

export interface PresencePointView extends PresencePoint {
  /** The node co-signed a copy of the chosen version among the records given. */
  readonly confirmed: boolean;
}

export interface PresenceView {
  readonly owner: Uint8Array;
  readonly sequence: bigint;
  readonly expiresAt: number;
  readonly value: PresenceValue;
  /** The value's points, confirmed ones first, otherwise in the user's order. */
  readonly points: readonly PresencePointView[];
  /** The newest copy of the chosen version. */
  readonly record: VerifiedRecord;
}

/**
 * The newest valid presence among `records` (already verified, e.g. by a lookup) at `now`, for
 * `owner` when given (otherwise for the owner of the newest acceptable record); null when none.
 */
export function pickPresence(suite: CryptoSuite, records: readonly VerifiedRecord[], now: number, owner?: Uint8Array): PresenceView | null {
  if (!Array.isArray(records)) throw new TypeError('records must be an array of verified records');
  if (typeof now !== 'number' || !Number.isSafeInteger(now) || now < 0) throw new RangeError('now must be a non-negative safe integer (ms)');
  if (owner !== undefined) assertBytes(owner, 'owner', 32);
  const usable: { record: VerifiedRecord; value: PresenceValue }[] = [];
  for (const r of records) {
    if (typeof r !== 'object' || r === null || !(r.bytes instanceof Uint8Array)) throw new TypeError('records must hold verified records');
    if (now >= r.expiresAt) continue;
    if (owner !== undefined && !equalBytes(r.owner, owner)) continue;
    if (!equalBytes(r.key, presenceKey(suite, r.owner))) continue;
    let value: PresenceValue;
    try {
      value = decodePresenceValue(r.value);
    } catch (e) {
      if (e instanceof DhtError) continue;
      throw e;
    }
    // seed 004 §6.2: "Announcement is co-signed by the node" — one of its own presence nodes.
    if (!value.points.some((p) => equalBytes(p.nodeIdentity, r.cosigner))) continue;
    usable.push({ record: r, value });
  }
  if (usable.length === 0) return null;
  usable.sort((a, b) => compareNewest(a.record, b.record));
  const best = usable[0]!;
  const sameVersion = usable.filter((u) => equalBytes(u.record.owner, best.record.owner) && equalBytes(u.record.ownerSigned, best.record.ownerSigned));
  const points = best.value.points.map((p) => ({
    nodeIdentity: p.nodeIdentity,
    address: p.address,
    confirmed: sameVersion.some((u) => equalBytes(u.record.cosigner, p.nodeIdentity)),
  }));
  const ordered = [...points.filter((p) => p.confirmed), ...points.filter((p) => !p.confirmed)];
  return {
    owner: best.record.owner,
    sequence: best.record.sequence,
    expiresAt: best.record.expiresAt,
    value: best.value,
    points: ordered,
    record: best.record,
  };
}
