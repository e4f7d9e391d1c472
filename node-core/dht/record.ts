/**
 * DHT records (seed 004 §3: "every record on a table is signed by the record owner and co-signed
 * by the node originally publishing the record … Every record on the DHT is assigned with an
 * expiration time"; PSP reference dht/record.md, whose Record/Value pair this replaces; DESIGN.md
 * §3 "DHT and presence").
 *
 * Owner-signed record (format 1), all integers big-endian:
 *   format    u8 = 1
 *   key       32   the DHT key; must be derived from the owner (see "Key rules")
 *   owner     32   Ed25519 public key of the record's owner (a client, node or group identity)
 *   sequence  u64  the owner's version counter: a higher sequence replaces a lower one
 *   expiresAt u64  ms since the Unix epoch
 *   valueLen  u16  0..MAX_VALUE_LENGTH, then the value bytes
 *   ownerSig  64   Ed25519 by `owner` over SHA-256("PSP-DHT-RECORD-v1" ‖ all of the above)
 * Signed record = owner-signed record ‖ storedAt u64 ‖ cosigner 32 ‖ cosig 64, where `cosigner`
 * is the Ed25519 identity key of the DHT node that first stored (published) the record and
 * cosig is its signature over SHA-256("PSP-DHT-COSIGN-v1" ‖ owner-signed record ‖ storedAt ‖
 * cosigner).
 *
 * Key rules: a record key is SHA-256(namespace ‖ owner) for a namespace the verifier accepts
 * (`deriveRecordKey`, `namespaceKeyRule`); e.g. a presence key is SHA-256("presence" ‖ owner).
 * A stranger can therefore not place a record under somebody else's key. The namespace is ASCII
 * and the owner always 32 bytes, so the concatenation is unambiguous.
 *
 * Parse, then verify: `parseRecord` checks the layout (and the hard size limits) and gives an
 * UnverifiedRecord; `verifyRecord` checks, in this order: value size ('oversize'), key rule
 * ('wrong-key'), expiry ('expired' when now ≥ expiresAt or expiresAt ≤ storedAt), storedAt not
 * ahead of the clock ('not-yet-valid'), TTL cap ('ttl-too-long' when expiresAt − storedAt >
 * maxTtlMs), owner signature ('bad-owner-signature'), co-signer is a DHT node ('unknown-cosigner'),
 * co-signature ('bad-cosignature'). The owner-signed form has its own pair
 * (`parseOwnerRecord`/`verifyOwnerRecord`, TTL counted from `now`), which a storing node runs
 * before it co-signs.
 *
 * Does not: compare a record with other versions ('replayed' and 'conflict' need the store:
 * store.ts), or know what a value means (presence.ts decodes presence values).
 */
import type { CryptoSuite } from '../crypto/api';
import { Writer, assertBytes, concatBytes, equalBytes, utf8 } from '../util/bytes';
import { DhtError } from './errors';
import {
  CONTEXT_COSIGN,
  CONTEXT_RECORD,
  checkInput,
  checkSequence,
  checkTime,
  compareBytes,
  expectEnd,
  readFormat,
  readTime,
  reader,
  signingDigest,
  writeTime,
} from './internal';

export const RECORD_FORMAT = 1;
/** The hard limit of the codec; the policy limit (maxValueBytes, default 1024) is checked on verify. */
export const MAX_VALUE_LENGTH = 4096;
export const DEFAULT_MAX_VALUE_BYTES = 1024;
/** Kademlia §2.5 lets records live 24 hours unless republished by their owner. */
export const DEFAULT_MAX_TTL_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
const BODY_FIXED = 1 + 32 + 32 + 8 + 8 + 2;
const COSIGN_TAIL = 8 + 32 + 64;
export const MAX_OWNER_RECORD_LENGTH = BODY_FIXED + MAX_VALUE_LENGTH + 64;
export const MAX_SIGNED_RECORD_LENGTH = MAX_OWNER_RECORD_LENGTH + COSIGN_TAIL;

const NAMESPACE = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

export interface RecordContent {
  /** 32-byte DHT key. */
  readonly key: Uint8Array;
  /** 32-byte Ed25519 public key of the owner. */
  readonly owner: Uint8Array;
  /** u64 version counter of the owner. */
  readonly sequence: bigint;
  /** ms since the Unix epoch. */
  readonly expiresAt: number;
  readonly value: Uint8Array;
}

export interface CosignFields {
  /** When the co-signer stored the record (ms). */
  readonly storedAt: number;
  /** Ed25519 identity key of the co-signing (publishing) node. */
  readonly cosigner: Uint8Array;
}

/** A signed (co-signed) record in its wire form, unverified until parseRecord + verifyRecord. */
export type SignedRecord = Uint8Array;

/** Decides whether `key` may carry records of `owner`. */
export type KeyRule = (key: Uint8Array, owner: Uint8Array) => boolean;

export interface OwnerRecordPolicy {
  readonly maxTtlMs: number;
  readonly maxValueBytes: number;
  readonly keyRule: KeyRule;
}

export interface RecordPolicy extends OwnerRecordPolicy {
  /** True when `identityKey` belongs to a DHT node (e.g. it is in the current consensus). */
  readonly isDhtNode: (identityKey: Uint8Array) => boolean;
  /** How far storedAt may lie ahead of the verifier's clock (default 5 minutes). */
  readonly maxClockSkewMs?: number;
}

export interface UnverifiedOwnerRecord {
  /** What the record claims. Nothing here is trustworthy until verifyOwnerRecord. */
  readonly claimed: RecordContent;
  readonly body: Uint8Array;
  readonly ownerSignature: Uint8Array;
  /** The owner-signed record exactly as received. */
  readonly bytes: Uint8Array;
}

declare const verifiedOwnerRecordBrand: unique symbol;

export interface VerifiedOwnerRecord extends RecordContent {
  readonly [verifiedOwnerRecordBrand]: true;
  readonly body: Uint8Array;
  readonly ownerSignature: Uint8Array;
  readonly bytes: Uint8Array;
}

export interface UnverifiedRecord {
  /** What the record claims. Nothing here is trustworthy until verifyRecord. */
  readonly claimed: RecordContent & CosignFields;
  /** The owner-signed part (body ‖ owner signature). */
  readonly ownerSigned: Uint8Array;
  readonly cosignature: Uint8Array;
  /** The signed record exactly as received. */
  readonly bytes: Uint8Array;
}

declare const verifiedRecordBrand: unique symbol;

/** A record whose signatures, key and times were checked by verifyRecord. */
export interface VerifiedRecord extends RecordContent, CosignFields {
  readonly [verifiedRecordBrand]: true;
  readonly ownerSigned: Uint8Array;
  readonly ownerSignature: Uint8Array;
  readonly cosignature: Uint8Array;
  /** The signed record, to store and pass on unchanged. */
  readonly bytes: Uint8Array;
}

// ---- keys -----------------------------------------------------------------------------------

/** SHA-256(namespace ‖ owner): the key of `owner`'s record in `namespace` (1..32 of [a-z0-9-]). */
export function deriveRecordKey(suite: CryptoSuite, namespace: string, owner: Uint8Array): Uint8Array {
  if (typeof namespace !== 'string') throw new TypeError('namespace must be a string');
  if (!NAMESPACE.test(namespace)) throw new RangeError(`namespace must be 1..32 characters of [a-z0-9-], got ${JSON.stringify(namespace)}`);
  assertBytes(owner, 'owner', 32);
  return suite.sha256(concatBytes(utf8(namespace), owner));
}

/** A key rule accepting exactly the keys deriveRecordKey gives for one of `namespaces`. */
export function namespaceKeyRule(suite: CryptoSuite, namespaces: readonly string[]): KeyRule {
  if (!Array.isArray(namespaces) || namespaces.length === 0) throw new TypeError('namespaces must be a non-empty array of strings');
  const list = namespaces.map((ns, i) => {
    if (typeof ns !== 'string' || !NAMESPACE.test(ns)) throw new RangeError(`namespaces[${i}] must be 1..32 characters of [a-z0-9-]`);
    return utf8(ns);
  });
  return (key, owner) => {
    if (!(key instanceof Uint8Array) || key.length !== 32 || !(owner instanceof Uint8Array) || owner.length !== 32) return false;
    return list.some((ns) => equalBytes(suite.sha256(concatBytes(ns, owner)), key));
  };
}

// ---- policy ---------------------------------------------------------------------------------

function checkOwnerPolicy(p: unknown, name: string): asserts p is OwnerRecordPolicy {
  if (typeof p !== 'object' || p === null) throw new TypeError(`${name} must be an object`);
  const x = p as OwnerRecordPolicy;
  checkTime(x.maxTtlMs, `${name}.maxTtlMs`);
  if (x.maxTtlMs === 0) throw new RangeError(`${name}.maxTtlMs must be positive`);
  if (typeof x.maxValueBytes !== 'number' || !Number.isInteger(x.maxValueBytes) || x.maxValueBytes < 0 || x.maxValueBytes > MAX_VALUE_LENGTH) {
    throw new RangeError(`${name}.maxValueBytes must be an integer 0..${MAX_VALUE_LENGTH}`);
  }
  if (typeof x.keyRule !== 'function') throw new TypeError(`${name}.keyRule must be a function`);
}

export function checkRecordPolicy(p: unknown, name = 'policy'): asserts p is RecordPolicy {
  checkOwnerPolicy(p, name);
  const x = p as RecordPolicy;
  if (typeof x.isDhtNode !== 'function') throw new TypeError(`${name}.isDhtNode must be a function`);
  if (x.maxClockSkewMs !== undefined) checkTime(x.maxClockSkewMs, `${name}.maxClockSkewMs`);
}

// ---- the owner-signed record ----------------------------------------------------------------

function checkContent(c: unknown, name: string): asserts c is RecordContent {
  if (typeof c !== 'object' || c === null) throw new TypeError(`${name} must be an object`);
  const x = c as RecordContent;
  assertBytes(x.key, `${name}.key`, 32);
  assertBytes(x.owner, `${name}.owner`, 32);
  checkSequence(x.sequence, `${name}.sequence`);
  checkTime(x.expiresAt, `${name}.expiresAt`);
  assertBytes(x.value, `${name}.value`);
  if (x.value.length > MAX_VALUE_LENGTH) throw new RangeError(`${name}.value must be at most ${MAX_VALUE_LENGTH} bytes, got ${x.value.length}`);
}

/** The record body (format 1) that the owner signs. */
export function encodeRecordBody(content: RecordContent): Uint8Array {
  checkContent(content, 'content');
  const w = new Writer();
  w.u8(RECORD_FORMAT).bytes(content.key).bytes(content.owner).u64(content.sequence);
  writeTime(w, content.expiresAt, 'content.expiresAt');
  w.u16(content.value.length).bytes(content.value);
  return w.finish();
}

/** Decodes a record body (layout only) from the reader's position. */
function readBody(bytes: Uint8Array, what: string): { content: RecordContent; bodyLength: number; r: ReturnType<typeof reader> } {
  const r = reader(bytes, what);
  readFormat(r, RECORD_FORMAT, what);
  const key = r.bytes(32, 'key').slice();
  const owner = r.bytes(32, 'owner').slice();
  const sequence = r.u64('sequence');
  const expiresAt = readTime(r, 'expiresAt');
  const valueLength = r.u16('value length');
  if (valueLength > MAX_VALUE_LENGTH) throw new DhtError('oversize', `${what}: value of ${valueLength} bytes, at most ${MAX_VALUE_LENGTH}`);
  const value = r.bytes(valueLength, 'value').slice();
  return { content: { key, owner, sequence, expiresAt, value }, bodyLength: r.offset, r };
}

/**
 * Signs a record as its owner and returns the owner-signed record bytes. `ownerSecretKey` (a
 * 32-byte Ed25519 seed) must belong to content.owner (RangeError otherwise).
 */
export function signRecord(suite: CryptoSuite, content: RecordContent, ownerSecretKey: Uint8Array): Uint8Array {
  const body = encodeRecordBody(content);
  assertBytes(ownerSecretKey, 'ownerSecretKey', 32);
  if (!equalBytes(suite.ed25519PublicKey(ownerSecretKey), content.owner)) throw new RangeError('ownerSecretKey does not belong to content.owner');
  const sig = suite.ed25519Sign(signingDigest(suite, CONTEXT_RECORD, body), ownerSecretKey);
  return concatBytes(body, sig);
}

/** Parses an owner-signed record (layout only). Throws DhtError. */
export function parseOwnerRecord(bytes: Uint8Array): UnverifiedOwnerRecord {
  checkInput(bytes, 'bytes');
  const what = 'owner-signed record';
  if (bytes.length > MAX_OWNER_RECORD_LENGTH) throw new DhtError('oversize', `${what} of ${bytes.length} bytes, at most ${MAX_OWNER_RECORD_LENGTH}`);
  const { content, bodyLength, r } = readBody(bytes, what);
  const ownerSignature = r.bytes(64, 'owner signature').slice();
  expectEnd(r, what);
  return { claimed: content, body: bytes.slice(0, bodyLength), ownerSignature, bytes: bytes.slice() };
}

/** The cheap checks shared by both verifiers: value size under the policy, then the key rule. */
function checkSizeAndKey(c: RecordContent, policy: OwnerRecordPolicy): void {
  if (c.value.length > policy.maxValueBytes) {
    throw new DhtError('oversize', `record value of ${c.value.length} bytes, at most ${policy.maxValueBytes} allowed`);
  }
  if (!policy.keyRule(c.key, c.owner)) throw new DhtError('wrong-key', 'record key is not derived from its owner under an accepted namespace');
}

function checkOwnerSignature(suite: CryptoSuite, body: Uint8Array, signature: Uint8Array, owner: Uint8Array): void {
  if (!suite.ed25519Verify(signature, signingDigest(suite, CONTEXT_RECORD, body), owner)) {
    throw new DhtError('bad-owner-signature', 'owner signature does not verify with the owner key');
  }
}

/**
 * Checks an owner-signed record at `now` before a node co-signs it: size, key rule, expiry, TTL
 * (expiresAt − now ≤ maxTtlMs), owner signature. Throws DhtError.
 */
export function verifyOwnerRecord(suite: CryptoSuite, unverified: UnverifiedOwnerRecord, now: number, policy: OwnerRecordPolicy): VerifiedOwnerRecord {
  if (typeof unverified !== 'object' || unverified === null || !(unverified.bytes instanceof Uint8Array)) {
    throw new TypeError('unverified must come from parseOwnerRecord');
  }
  checkTime(now, 'now');
  checkOwnerPolicy(policy, 'policy');
  const u = parseOwnerRecord(unverified.bytes); // from the bytes themselves, not the claimed fields
  const c = u.claimed;
  checkSizeAndKey(c, policy);
  if (now >= c.expiresAt) throw new DhtError('expired', `record expired at ${c.expiresAt} (now ${now})`);
  if (c.expiresAt - now > policy.maxTtlMs) throw new DhtError('ttl-too-long', `record lives ${c.expiresAt - now} ms, at most ${policy.maxTtlMs} allowed`);
  checkOwnerSignature(suite, u.body, u.ownerSignature, c.owner);
  return { ...c, body: u.body, ownerSignature: u.ownerSignature, bytes: u.bytes } as VerifiedOwnerRecord;
}

// ---- the co-signed record -------------------------------------------------------------------

function cosignInput(ownerSigned: Uint8Array, storedAt: number, cosigner: Uint8Array): Uint8Array {
  const w = new Writer().bytes(ownerSigned);
  writeTime(w, storedAt, 'storedAt');
  return w.bytes(cosigner).finish();
}

/**
 * Co-signs a verified owner-signed record as the storing node, stamped `storedAt`, and returns the
 * signed record bytes. `nodeSecretKey` is the node's 32-byte Ed25519 identity seed.
 */
export function cosignRecord(suite: CryptoSuite, record: VerifiedOwnerRecord, storedAt: number, nodeSecretKey: Uint8Array): Uint8Array {
  if (typeof record !== 'object' || record === null || !(record.bytes instanceof Uint8Array)) {
    throw new TypeError('record must come from verifyOwnerRecord');
  }
  checkTime(storedAt, 'storedAt');
  assertBytes(nodeSecretKey, 'nodeSecretKey', 32);
  const ownerSigned = record.bytes;
  const cosigner = suite.ed25519PublicKey(nodeSecretKey);
  const input = cosignInput(ownerSigned, storedAt, cosigner);
  const sig = suite.ed25519Sign(signingDigest(suite, CONTEXT_COSIGN, input), nodeSecretKey);
  return concatBytes(input, sig);
}

/** Parses a signed (co-signed) record (layout only). Throws DhtError. */
export function parseRecord(bytes: Uint8Array): UnverifiedRecord {
  checkInput(bytes, 'bytes');
  const what = 'signed record';
  if (bytes.length > MAX_SIGNED_RECORD_LENGTH) throw new DhtError('oversize', `${what} of ${bytes.length} bytes, at most ${MAX_SIGNED_RECORD_LENGTH}`);
  const { content, r } = readBody(bytes, what);
  r.bytes(64, 'owner signature');
  const ownerSignedLength = r.offset;
  const storedAt = readTime(r, 'storedAt');
  const cosigner = r.bytes(32, 'cosigner').slice();
  const cosignature = r.bytes(64, 'cosignature').slice();
  expectEnd(r, what);
  return {
    claimed: { ...content, storedAt, cosigner },
    ownerSigned: bytes.slice(0, ownerSignedLength),
    cosignature,
    bytes: bytes.slice(),
  };
}

/**
 * Checks a signed record at `now` (see the header for the order of checks). Throws DhtError;
 * TypeError/RangeError for a bad `policy` or `now`.
 */
export function verifyRecord(suite: CryptoSuite, unverified: UnverifiedRecord, now: number, policy: RecordPolicy): VerifiedRecord {
  if (typeof unverified !== 'object' || unverified === null || !(unverified.bytes instanceof Uint8Array)) {
    throw new TypeError('unverified must come from parseRecord');
  }
  checkTime(now, 'now');
  checkRecordPolicy(policy);
  const u = parseRecord(unverified.bytes);
  const c = u.claimed;
  const body = u.ownerSigned.subarray(0, u.ownerSigned.length - 64);
  const ownerSignature = u.ownerSigned.slice(u.ownerSigned.length - 64);
  checkSizeAndKey(c, policy);
  if (now >= c.expiresAt) throw new DhtError('expired', `record expired at ${c.expiresAt} (now ${now})`);
  if (c.expiresAt <= c.storedAt) throw new DhtError('expired', `record was stored at ${c.storedAt}, at or after its expiry ${c.expiresAt}`);
  const skew = policy.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  if (c.storedAt > now + skew) throw new DhtError('not-yet-valid', `record stored at ${c.storedAt}, ahead of ${now} by more than ${skew} ms`);
  if (c.expiresAt - c.storedAt > policy.maxTtlMs) {
    throw new DhtError('ttl-too-long', `record lives ${c.expiresAt - c.storedAt} ms after storing, at most ${policy.maxTtlMs} allowed`);
  }
  checkOwnerSignature(suite, body, ownerSignature, c.owner);
  if (!policy.isDhtNode(c.cosigner)) throw new DhtError('unknown-cosigner', 'record co-signer is not a known DHT node');
  const input = u.bytes.subarray(0, u.bytes.length - 64);
  if (!suite.ed25519Verify(u.cosignature, signingDigest(suite, CONTEXT_COSIGN, input), c.cosigner)) {
    throw new DhtError('bad-cosignature', 'co-signature does not verify with the co-signer key');
  }
  return { ...c, ownerSigned: u.ownerSigned, ownerSignature, cosignature: u.cosignature, bytes: u.bytes } as VerifiedRecord;
}

/**
 * Orders two records for "newest first": higher sequence first; on equal sequences the later
 * storedAt, then the byte order of the signed records (so the choice never depends on arrival
 * order). Negative when `a` is newer.
 */
export function compareNewest(a: RecordContent & CosignFields & { bytes: Uint8Array }, b: RecordContent & CosignFields & { bytes: Uint8Array }): number {
  if (a.sequence !== b.sequence) return a.sequence > b.sequence ? -1 : 1;
  if (a.storedAt !== b.storedAt) return b.storedAt - a.storedAt;
  return compareBytes(a.bytes, b.bytes);
}
