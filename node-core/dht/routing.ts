/**
 * The Kademlia routing table (Maymounkov & Mazières 2002 §2.2, §2.4, §4.1) with the S/Kademlia
 * hardening of Baumgart & Mies 2007 §4.1–4.2, as a pure state machine: callers pass contacts,
 * ping answers and the time in; the table answers with what to do (e.g. "ping this node").
 *
 * - 256 k-buckets indexed by common-prefix length with our own id (id.ts `bucketIndex`); each holds
 *   at most k contacts (default 20) in least-recently-seen order.
 * - Refusal of ids that are not SHA-256 of their identity key or fail the static puzzle.
 * - IP diversity: at most `maxPerSubnet` (default 2) contacts per bucket from one /16 (IPv4) or
 *   /48 (IPv6), and at most `maxPerSubnetTotal` (default 10) in the whole table, counted on each
 *   contact's primary address. This bounds how much of a table one operator's address block can
 *   fill (an eclipse needs many subnets, not just many keys). A devnet whose nodes all share
 *   127.0.0.1 must raise both limits.
 * - Ping before evict (Kademlia §2.2): a new contact for a full bucket waits in the bucket's
 *   replacement cache and the table asks the caller to ping the least recently seen contact; an
 *   answer keeps the old contact (long-lived nodes are preferred), silence evicts it in favour of
 *   the freshest replacement that fits the diversity limits (Kademlia §4.1).
 * - Failures: after `maxFailures` consecutive failed requests a contact is dropped and a
 *   replacement promoted.
 * - Refresh bookkeeping (Kademlia §2.3): each bucket remembers when a lookup last touched it;
 *   `dueForRefresh` lists buckets untouched for `refreshIntervalMs`.
 *
 * Only contacts the node has talked to directly (a request or an answer from the node itself, over
 * a link authenticated with its identity key) should be offered (S/Kademlia §4.2: buckets are
 * updated only from messages of the node itself); a contact merely named in another node's answer
 * is a lookup candidate, not a table entry. An entry keeps the addresses it was first added with.
 *
 * Does not: send pings or run timers (the driver does, and reports back), keep S/Kademlia's
 * sibling list (the k closest of the table serve), or split buckets (a fixed array of 256 buckets
 * covers the whole id space).
 */
import type { CryptoSuite } from '../crypto/api';
import { assertBytes } from '../util/bytes';
import { type Contact, checkContactShape, isValidContact, subnetOfContact } from './contact';
import {
  ID_BITS,
  NODE_ID_LENGTH,
  checkPuzzleBits,
  commonPrefixUnchecked,
  compareDistanceUnchecked,
  randomIdInBucket,
} from './id';
import { checkPositiveInt, checkTime, idKey } from './internal';

export const DEFAULT_K = 20;
export const DEFAULT_MAX_PER_SUBNET = 2;
export const DEFAULT_MAX_PER_SUBNET_TOTAL = 10;
export const DEFAULT_REFRESH_INTERVAL_MS = 60 * 60 * 1000;
export const DEFAULT_MAX_FAILURES = 5;
export const DEFAULT_PING_TIMEOUT_MS = 60_000;

export interface RoutingTableOptions {
  readonly suite: CryptoSuite;
  /** Our own node id. */
  readonly selfId: Uint8Array;
  /** The network's puzzle difficulty c1. */
  readonly puzzleBits: number;
  /** Time the table is created (ms): every bucket counts as refreshed then. */
  readonly now: number;
  readonly k?: number;
  readonly maxPerSubnet?: number;
  readonly maxPerSubnetTotal?: number;
  readonly refreshIntervalMs?: number;
  /** Replacement cache size per bucket (default k). */
  readonly replacementsPerBucket?: number;
  readonly maxFailures?: number;
  /** After this long without a pingResult, a full bucket asks for a new ping (default 60 s). */
  readonly pingTimeoutMs?: number;
}

export type RefusalReason = 'self' | 'bad-node-id' | 'subnet-limit' | 'subnet-total-limit';

export type OfferResult =
  /** Stored in a bucket that had room. */
  | { readonly kind: 'added' }
  /** Already present; moved to the most recently seen end. */
  | { readonly kind: 'updated' }
  | { readonly kind: 'refused'; readonly reason: RefusalReason }
  /** The bucket is full: ping `contact` (its least recently seen) and report with pingResult. */
  | { readonly kind: 'ping'; readonly contact: Contact }
  /** The bucket is full and a ping is already under way (for less than pingTimeoutMs); the offer waits as a replacement. */
  | { readonly kind: 'pending' };

export type PingOutcome =
  | { readonly kind: 'kept' }
  | { readonly kind: 'evicted'; readonly replacedBy: Contact | null }
  /** The node is not in the table (any more). */
  | { readonly kind: 'unknown' };

interface Entry {
  contact: Contact;
  key: string;
  subnet: string;
  lastSeen: number;
  failures: number;
}

interface Bucket {
  /** Least recently seen first. */
  entries: Entry[];
  /** Most recently offered last. */
  replacements: Entry[];
  /** The entry a ping was asked for, and when; null when none is outstanding. */
  pinging: { key: string; since: number } | null;
  lastRefreshed: number;
}

export class RoutingTable {
  readonly selfId: Uint8Array;
  readonly k: number;
  readonly puzzleBits: number;
  readonly maxPerSubnet: number;
  readonly maxPerSubnetTotal: number;
  readonly refreshIntervalMs: number;
  readonly replacementsPerBucket: number;
  readonly maxFailures: number;
  readonly pingTimeoutMs: number;
  private readonly suite: CryptoSuite;
  private readonly buckets: Bucket[] = [];
  private readonly subnetTotals = new Map<string, number>();
  private count = 0;

  constructor(options: RoutingTableOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (typeof options.suite !== 'object' || options.suite === null) throw new TypeError('options.suite must be a CryptoSuite');
    assertBytes(options.selfId, 'options.selfId', NODE_ID_LENGTH);
    checkPuzzleBits(options.puzzleBits, 'options.puzzleBits');
    checkTime(options.now, 'options.now');
    this.suite = options.suite;
    this.selfId = options.selfId.slice();
    this.puzzleBits = options.puzzleBits;
    this.k = options.k ?? DEFAULT_K;
    checkPositiveInt(this.k, 'options.k', 1024);
    this.maxPerSubnet = options.maxPerSubnet ?? DEFAULT_MAX_PER_SUBNET;
    checkPositiveInt(this.maxPerSubnet, 'options.maxPerSubnet');
    this.maxPerSubnetTotal = options.maxPerSubnetTotal ?? DEFAULT_MAX_PER_SUBNET_TOTAL;
    checkPositiveInt(this.maxPerSubnetTotal, 'options.maxPerSubnetTotal');
    this.refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
    checkPositiveInt(this.refreshIntervalMs, 'options.refreshIntervalMs');
    this.replacementsPerBucket = options.replacementsPerBucket ?? this.k;
    checkPositiveInt(this.replacementsPerBucket, 'options.replacementsPerBucket', 1024);
    this.maxFailures = options.maxFailures ?? DEFAULT_MAX_FAILURES;
    checkPositiveInt(this.maxFailures, 'options.maxFailures', 1000);
    this.pingTimeoutMs = options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS;
    checkPositiveInt(this.pingTimeoutMs, 'options.pingTimeoutMs');
    for (let i = 0; i < ID_BITS; i++) this.buckets.push({ entries: [], replacements: [], pinging: null, lastRefreshed: options.now });
  }

  /** Contacts in the table (replacements not counted). */
  get size(): number {
    return this.count;
  }

  /** Every contact in the table, bucket by bucket, least recently seen first within a bucket. */
  contacts(): Contact[] {
    const out: Contact[] = [];
    for (const b of this.buckets) for (const e of b.entries) out.push(e.contact);
    return out;
  }

  /** Contacts of bucket `index` (least recently seen first). */
  bucketContacts(index: number): Contact[] {
    return this.bucketAt(index).entries.map((e) => e.contact);
  }

  /** Replacement candidates waiting for bucket `index` (most recent last). */
  bucketReplacements(index: number): Contact[] {
    return this.bucketAt(index).replacements.map((e) => e.contact);
  }

  has(nodeId: Uint8Array): boolean {
    return this.get(nodeId) !== null;
  }

  get(nodeId: Uint8Array): Contact | null {
    assertBytes(nodeId, 'nodeId', NODE_ID_LENGTH);
    const cpl = commonPrefixUnchecked(this.selfId, nodeId);
    if (cpl === ID_BITS) return null;
    const key = idKey(nodeId);
    return this.buckets[cpl]!.entries.find((e) => e.key === key)?.contact ?? null;
  }

  /**
   * Offers a contact that just talked to us directly: adds it, refreshes it (moves it to the most
   * recently seen end), refuses it, or asks for a ping of the bucket's oldest entry.
   */
  offer(contact: Contact, now: number): OfferResult {
    checkContactShape(contact);
    checkTime(now, 'now');
    const cpl = commonPrefixUnchecked(this.selfId, contact.nodeId);
    if (cpl === ID_BITS) return { kind: 'refused', reason: 'self' };
    if (!isValidContact(this.suite, contact, this.puzzleBits)) return { kind: 'refused', reason: 'bad-node-id' };
    const bucket = this.buckets[cpl]!;
    const key = idKey(contact.nodeId);
    const at = bucket.entries.findIndex((e) => e.key === key);
    if (at >= 0) {
      const [e] = bucket.entries.splice(at, 1);
      e!.lastSeen = now;
      e!.failures = 0;
      bucket.entries.push(e!);
      return { kind: 'updated' };
    }
    const subnet = subnetOfContact(contact);
    const entry: Entry = {
      contact: { nodeId: contact.nodeId.slice(), identityKey: contact.identityKey.slice(), addresses: contact.addresses.map((a) => ({ host: a.host, port: a.port })) },
      key,
      subnet,
      lastSeen: now,
      failures: 0,
    };
    const limit = this.diversityProblem(bucket, subnet);
    if (limit !== null) return { kind: 'refused', reason: limit };
    if (bucket.entries.length < this.k) {
      this.insert(bucket, entry);
      bucket.replacements = bucket.replacements.filter((r) => r.key !== key);
      return { kind: 'added' };
    }
    // Full bucket: keep the newcomer as a replacement and ask for a ping of the oldest entry.
    bucket.replacements = bucket.replacements.filter((r) => r.key !== key);
    bucket.replacements.push(entry);
    if (bucket.replacements.length > this.replacementsPerBucket) bucket.replacements.shift();
    // A ping whose result never came back (a driver that lost it) does not block the bucket forever.
    if (bucket.pinging !== null && now - bucket.pinging.since < this.pingTimeoutMs) return { kind: 'pending' };
    const oldest = bucket.entries[0]!;
    bucket.pinging = { key: oldest.key, since: now };
    return { kind: 'ping', contact: oldest.contact };
  }

  /** Reports the answer (or the silence) of a ping the table asked for. */
  pingResult(nodeId: Uint8Array, alive: boolean, now: number): PingOutcome {
    assertBytes(nodeId, 'nodeId', NODE_ID_LENGTH);
    if (typeof alive !== 'boolean') throw new TypeError('alive must be a boolean');
    checkTime(now, 'now');
    const cpl = commonPrefixUnchecked(this.selfId, nodeId);
    if (cpl === ID_BITS) return { kind: 'unknown' };
    const bucket = this.buckets[cpl]!;
    const key = idKey(nodeId);
    if (bucket.pinging?.key === key) bucket.pinging = null;
    const at = bucket.entries.findIndex((e) => e.key === key);
    if (at < 0) return { kind: 'unknown' };
    if (alive) {
      const [e] = bucket.entries.splice(at, 1);
      e!.lastSeen = now;
      e!.failures = 0;
      bucket.entries.push(e!);
      return { kind: 'kept' };
    }
    this.removeAt(bucket, at);
    return { kind: 'evicted', replacedBy: this.promote(bucket) };
  }

  /**
   * Reports a failed request to `nodeId`. Returns true when this removed the contact (after
   * `maxFailures` consecutive failures); a replacement is promoted if one fits.
   */
  failed(nodeId: Uint8Array): boolean {
    assertBytes(nodeId, 'nodeId', NODE_ID_LENGTH);
    const cpl = commonPrefixUnchecked(this.selfId, nodeId);
    if (cpl === ID_BITS) return false;
    const bucket = this.buckets[cpl]!;
    const key = idKey(nodeId);
    const at = bucket.entries.findIndex((e) => e.key === key);
    if (at < 0) return false;
    const e = bucket.entries[at]!;
    e.failures++;
    if (e.failures < this.maxFailures) return false;
    this.removeAt(bucket, at);
    if (bucket.pinging?.key === key) bucket.pinging = null;
    this.promote(bucket);
    return true;
  }

  /** Removes a contact (e.g. one caught misbehaving). Returns whether it was present. */
  remove(nodeId: Uint8Array): boolean {
    assertBytes(nodeId, 'nodeId', NODE_ID_LENGTH);
    const cpl = commonPrefixUnchecked(this.selfId, nodeId);
    if (cpl === ID_BITS) return false;
    const bucket = this.buckets[cpl]!;
    const key = idKey(nodeId);
    bucket.replacements = bucket.replacements.filter((r) => r.key !== key);
    const at = bucket.entries.findIndex((e) => e.key === key);
    if (at < 0) return false;
    this.removeAt(bucket, at);
    if (bucket.pinging?.key === key) bucket.pinging = null;
    this.promote(bucket);
    return true;
  }

  /** Up to `n` contacts closest to `target` by XOR distance, closest first. */
  closest(target: Uint8Array, n: number = this.k, exclude?: (c: Contact) => boolean): Contact[] {
    assertBytes(target, 'target', NODE_ID_LENGTH);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${String(n)}`);
    if (exclude !== undefined && typeof exclude !== 'function') throw new TypeError('exclude must be a function');
    const all: Contact[] = [];
    for (const b of this.buckets) for (const e of b.entries) if (!exclude?.(e.contact)) all.push(e.contact);
    all.sort((a, b) => compareDistanceUnchecked(target, a.nodeId, b.nodeId));
    return all.slice(0, n);
  }

  /** Records that a lookup for `target` just ran: its bucket counts as refreshed. */
  markLookup(target: Uint8Array, now: number): void {
    assertBytes(target, 'target', NODE_ID_LENGTH);
    checkTime(now, 'now');
    const cpl = commonPrefixUnchecked(this.selfId, target);
    this.buckets[Math.min(cpl, ID_BITS - 1)]!.lastRefreshed = now;
  }

  /** Records that bucket `index` was refreshed at `now`. */
  markRefreshed(index: number, now: number): void {
    checkTime(now, 'now');
    this.bucketAt(index).lastRefreshed = now;
  }

  /**
   * Buckets due for a refresh lookup: those not touched for refreshIntervalMs, among buckets
   * 0..(deepest non-empty bucket + 1) — deeper buckets are empty and one lookup there covers them.
   */
  dueForRefresh(now: number): number[] {
    checkTime(now, 'now');
    let deepest = -1;
    for (let i = 0; i < ID_BITS; i++) if (this.buckets[i]!.entries.length > 0) deepest = i;
    const last = Math.min(ID_BITS - 1, deepest + 1);
    const out: number[] = [];
    for (let i = 0; i <= last; i++) if (now - this.buckets[i]!.lastRefreshed >= this.refreshIntervalMs) out.push(i);
    return out;
  }

  /** A random target id in bucket `index`, for its refresh lookup. */
  refreshTarget(index: number): Uint8Array {
    this.bucketAt(index);
    return randomIdInBucket(this.selfId, index, this.suite.randomBytes(NODE_ID_LENGTH));
  }

  private bucketAt(index: number): Bucket {
    if (!Number.isInteger(index) || index < 0 || index >= ID_BITS) {
      throw new RangeError(`index must be an integer 0..${ID_BITS - 1}, got ${String(index)}`);
    }
    return this.buckets[index]!;
  }

  private diversityProblem(bucket: Bucket, subnet: string): RefusalReason | null {
    let inBucket = 0;
    for (const e of bucket.entries) if (e.subnet === subnet) inBucket++;
    if (inBucket >= this.maxPerSubnet) return 'subnet-limit';
    if ((this.subnetTotals.get(subnet) ?? 0) >= this.maxPerSubnetTotal) return 'subnet-total-limit';
    return null;
  }

  private insert(bucket: Bucket, e: Entry): void {
    bucket.entries.push(e);
    this.subnetTotals.set(e.subnet, (this.subnetTotals.get(e.subnet) ?? 0) + 1);
    this.count++;
  }

  private removeAt(bucket: Bucket, at: number): void {
    const [e] = bucket.entries.splice(at, 1);
    const left = (this.subnetTotals.get(e!.subnet) ?? 1) - 1;
    if (left <= 0) this.subnetTotals.delete(e!.subnet);
    else this.subnetTotals.set(e!.subnet, left);
    this.count--;
  }

  /** Moves the freshest replacement that fits the diversity limits into the bucket. */
  private promote(bucket: Bucket): Contact | null {
    if (bucket.entries.length >= this.k) return null;
    for (let i = bucket.replacements.length - 1; i >= 0; i--) {
      const r = bucket.replacements[i]!;
      if (this.diversityProblem(bucket, r.subnet) !== null) continue;
      bucket.replacements.splice(i, 1);
      this.insert(bucket, r);
      return r.contact;
    }
    return null;
  }
}
