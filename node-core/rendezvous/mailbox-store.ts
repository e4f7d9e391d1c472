/**
 * A presence node's offline mailboxes: sealed items (mailbox.ts) deposited for an owner while he
 * is away, kept until he fetches and acknowledges them or they expire. Pure: time comes in as
 * `now`; no timers.
 *
 * What the node knows of an item is what any relay could see: the announcement key it is sealed
 * to, its size and when it arrived. Deposits come from anonymous circuits; the owner is named by
 * his identity key in the deposit request.
 *
 * Limits (all configurable, see MailboxStoreLimits):
 * - deposits only for owners that are, or were within the TTL, bound at this node (announced on
 *   a circuit ending here), and only sealed to an announcement key such an owner announced here;
 * - per owner: item count and bytes; per item: size; for the node: total bytes and owners;
 * - deposit rate per owner and per depositing circuit (token buckets);
 * - every item expires `ttlMs` after it arrived (default 7 days, at most MAX_MAILBOX_TTL_MS);
 * - an item id (SHA-256 of its bytes) is stored once: a second deposit of it changes nothing.
 *
 * A full mailbox refuses new items; nothing stored is dropped to make room.
 *
 * Does not: open items, send anything, or decide who is bound (the forwarder/service tell it).
 */
import { assertBytes, toHex } from '../util/bytes';
import { TokenBucket } from '../util/token-bucket';
import { MAX_MAILBOX_TTL_MS } from './mailbox';
import { MAX_MAILBOX_ITEM_LENGTH, mailboxItemId, parseMailboxItemEnvelope, PresenceMessageError, type MailboxEntry } from './messages';

export interface MailboxStoreLimits {
  /** Items one owner's mailbox holds at once (default 200). */
  maxItemsPerOwner: number;
  /** Bytes one owner's mailbox holds at once (default 4 MiB). */
  maxBytesPerOwner: number;
  /** Largest item (default and at most MAX_MAILBOX_ITEM_LENGTH, just under 64 KiB). */
  maxItemBytes: number;
  /** Bytes all mailboxes hold at once (default 256 MiB). */
  maxTotalBytes: number;
  /** Owners remembered at once (default 100,000). */
  maxOwners: number;
  /** How long an item waits, and how long after an owner was last bound deposits are taken (default 7 days). */
  ttlMs: number;
  /** Deposits per minute into one owner's mailbox (default 60; the burst is the same). */
  depositsPerMinutePerOwner: number;
  /** Deposits per minute from one circuit (default 20; the burst is the same). */
  depositsPerMinutePerSource: number;
  /** Depositing circuits tracked at once (default 20,000; the oldest is forgotten first). */
  maxSources: number;
  /** Announcement keys remembered per owner (default 4; the oldest is forgotten first). */
  maxKeysPerOwner: number;
}

export const DEFAULT_MAILBOX_STORE_LIMITS: Readonly<MailboxStoreLimits> = Object.freeze({
  maxItemsPerOwner: 200,
  maxBytesPerOwner: 4 * 1024 * 1024,
  maxItemBytes: MAX_MAILBOX_ITEM_LENGTH,
  maxTotalBytes: 256 * 1024 * 1024,
  maxOwners: 100_000,
  ttlMs: 7 * 24 * 3600_000,
  depositsPerMinutePerOwner: 60,
  depositsPerMinutePerSource: 20,
  maxSources: 20_000,
  maxKeysPerOwner: 4,
});

export type DepositResult =
  | { readonly ok: true; readonly id: Uint8Array; readonly duplicate: boolean; readonly count: number }
  | { readonly ok: false; readonly reason: 'not-found' | 'refused' | 'malformed'; readonly message: string };

interface StoredItem {
  readonly id: Uint8Array;
  readonly bytes: Uint8Array;
  readonly expiresAt: number;
}

interface OwnerBox {
  /** Announcement key (hex) → when the owner last announced it here. */
  readonly keys: Map<string, number>;
  lastBound: number;
  /** By id (hex), in arrival order. */
  readonly items: Map<string, StoredItem>;
  bytes: number;
  bucket: TokenBucket;
}

function checkLimit(v: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${String(v)}`);
  }
}

function checkNow(now: unknown): asserts now is number {
  if (typeof now !== 'number' || !Number.isSafeInteger(now) || now < 0) {
    throw new RangeError(`now must be a non-negative safe integer (milliseconds), got ${String(now)}`);
  }
}

export class MailboxStore {
  readonly limits: Readonly<MailboxStoreLimits>;
  private readonly owners = new Map<string, OwnerBox>();
  private readonly sources = new Map<string, TokenBucket>();
  private total = 0;

  constructor(limits: Partial<MailboxStoreLimits> = {}) {
    if (typeof limits !== 'object' || limits === null) throw new TypeError('limits must be an object');
    const l = { ...DEFAULT_MAILBOX_STORE_LIMITS, ...limits };
    checkLimit(l.maxItemsPerOwner, 'limits.maxItemsPerOwner', 1, 0xffff);
    checkLimit(l.maxBytesPerOwner, 'limits.maxBytesPerOwner', 1);
    checkLimit(l.maxItemBytes, 'limits.maxItemBytes', 1, MAX_MAILBOX_ITEM_LENGTH);
    checkLimit(l.maxTotalBytes, 'limits.maxTotalBytes', 1);
    checkLimit(l.maxOwners, 'limits.maxOwners', 1);
    checkLimit(l.ttlMs, 'limits.ttlMs', 1, MAX_MAILBOX_TTL_MS);
    checkLimit(l.depositsPerMinutePerOwner, 'limits.depositsPerMinutePerOwner', 1, 1_000_000);
    checkLimit(l.depositsPerMinutePerSource, 'limits.depositsPerMinutePerSource', 1, 1_000_000);
    checkLimit(l.maxSources, 'limits.maxSources', 1);
    checkLimit(l.maxKeysPerOwner, 'limits.maxKeysPerOwner', 1, 64);
    this.limits = Object.freeze(l);
  }

  /** Bytes held in all mailboxes. */
  get totalBytes(): number {
    return this.total;
  }

  /** Owners remembered (bound within the TTL, or holding items). */
  get ownerCount(): number {
    return this.owners.size;
  }

  /**
   * Records that `owner` announced `announcementKey` on a circuit ending here at `now`: deposits
   * for him, sealed to that key, are taken until `now + ttlMs`. Returns false when the node
   * already remembers `maxOwners` owners that it may not forget yet (then nothing changes).
   */
  noteOwner(owner: Uint8Array, announcementKey: Uint8Array, now: number): boolean {
    assertBytes(owner, 'owner', 32);
    assertBytes(announcementKey, 'announcementKey', 32);
    checkNow(now);
    const k = toHex(owner);
    let box = this.owners.get(k);
    if (!box) {
      if (this.owners.size >= this.limits.maxOwners && !this.evictOneOwner(now)) return false;
      box = {
        keys: new Map(),
        lastBound: now,
        items: new Map(),
        bytes: 0,
        bucket: new TokenBucket(this.limits.depositsPerMinutePerOwner / 60, this.limits.depositsPerMinutePerOwner, now),
      };
    } else {
      this.owners.delete(k); // re-inserted below: the map stays in least-recently-bound order
    }
    this.owners.set(k, box);
    box.lastBound = Math.max(box.lastBound, now);
    const keyHex = toHex(announcementKey);
    box.keys.delete(keyHex);
    box.keys.set(keyHex, now);
    while (box.keys.size > this.limits.maxKeysPerOwner) box.keys.delete(box.keys.keys().next().value!);
    return true;
  }

  /** True when deposits for `owner` are taken at `now` (he was bound here within the TTL). */
  knows(owner: Uint8Array, now: number): boolean {
    assertBytes(owner, 'owner', 32);
    checkNow(now);
    const box = this.owners.get(toHex(owner));
    return box !== undefined && now - box.lastBound <= this.limits.ttlMs;
  }

  /**
   * Stores `item` for `owner`. `source` names the depositing circuit for its rate limit. Returns
   * the item id, or why it was refused; a refused deposit changes nothing (beyond the rate
   * accounting of that attempt).
   */
  deposit(owner: Uint8Array, item: Uint8Array, now: number, source?: string): DepositResult {
    assertBytes(owner, 'owner', 32);
    assertBytes(item, 'item');
    checkNow(now);
    if (source !== undefined && typeof source !== 'string') throw new TypeError('source must be a string');
    if (item.length > this.limits.maxItemBytes) {
      return { ok: false, reason: 'refused', message: `item of ${item.length} bytes; at most ${this.limits.maxItemBytes}` };
    }
    let announcementKey: Uint8Array;
    try {
      announcementKey = parseMailboxItemEnvelope(item).announcementKey;
    } catch (e) {
      if (e instanceof PresenceMessageError) return { ok: false, reason: 'malformed', message: e.message };
      throw e;
    }
    const box = this.owners.get(toHex(owner));
    if (!box || now - box.lastBound > this.limits.ttlMs) {
      return { ok: false, reason: 'not-found', message: 'this node is not, and was not recently, a presence node of that owner' };
    }
    const keySeen = box.keys.get(toHex(announcementKey));
    if (keySeen === undefined || now - keySeen > this.limits.ttlMs) {
      return { ok: false, reason: 'not-found', message: 'that owner has not announced this announcement key here' };
    }
    this.expireBox(box, now);
    const id = mailboxItemId(item);
    const idHex = toHex(id);
    if (box.items.has(idHex)) return { ok: true, id, duplicate: true, count: box.items.size };
    if (box.items.size >= this.limits.maxItemsPerOwner) {
      return { ok: false, reason: 'refused', message: `the mailbox holds ${box.items.size} items; at most ${this.limits.maxItemsPerOwner}` };
    }
    if (box.bytes + item.length > this.limits.maxBytesPerOwner) {
      return { ok: false, reason: 'refused', message: `the mailbox is full (${box.bytes} of ${this.limits.maxBytesPerOwner} bytes)` };
    }
    if (this.total + item.length > this.limits.maxTotalBytes) {
      this.expire(now);
      if (this.total + item.length > this.limits.maxTotalBytes) {
        return { ok: false, reason: 'refused', message: 'this node holds all the mailbox bytes it may' };
      }
    }
    // Rate limits last, so only deposits that would be stored spend tokens.
    const src = source === undefined ? undefined : this.sourceBucket(source, now);
    if (src !== undefined && src.available(now) < 1) {
      return { ok: false, reason: 'refused', message: 'too many deposits from this circuit' };
    }
    if (!box.bucket.take(now)) return { ok: false, reason: 'refused', message: "too many deposits into this owner's mailbox" };
    src?.take(now);
    box.items.set(idHex, { id, bytes: item.slice(), expiresAt: now + this.limits.ttlMs });
    box.bytes += item.length;
    this.total += item.length;
    return { ok: true, id, duplicate: false, count: box.items.size };
  }

  /** Items waiting for `owner` at `now`. */
  count(owner: Uint8Array, now: number): number {
    assertBytes(owner, 'owner', 32);
    checkNow(now);
    const box = this.owners.get(toHex(owner));
    if (!box) return 0;
    this.expireBox(box, now);
    return box.items.size;
  }

  /**
   * Up to `max` of `owner`'s items, oldest first, whose ids, lengths and bytes together take at
   * most `maxBytes` (36 bytes of framing per item). Nothing is removed: the owner acknowledges
   * what he has safely received (`ack`).
   */
  fetch(owner: Uint8Array, max: number, now: number, maxBytes = Number.MAX_SAFE_INTEGER): MailboxEntry[] {
    assertBytes(owner, 'owner', 32);
    checkLimit(max, 'max', 0);
    checkNow(now);
    checkLimit(maxBytes, 'maxBytes', 0);
    const box = this.owners.get(toHex(owner));
    if (!box) return [];
    this.expireBox(box, now);
    const out: MailboxEntry[] = [];
    let used = 0;
    for (const it of box.items.values()) {
      if (out.length >= max) break;
      const size = 36 + it.bytes.length;
      if (used + size > maxBytes) break;
      used += size;
      out.push({ id: it.id.slice(), bytes: it.bytes.slice() });
    }
    return out;
  }

  /** Deletes the listed items of `owner`; returns how many there were. Unknown ids are ignored. */
  ack(owner: Uint8Array, ids: readonly Uint8Array[], now: number): number {
    assertBytes(owner, 'owner', 32);
    if (!Array.isArray(ids)) throw new TypeError('ids must be an array of 32-byte ids');
    ids.forEach((id, i) => assertBytes(id, `ids[${i}]`, 32));
    checkNow(now);
    const box = this.owners.get(toHex(owner));
    if (!box) return 0;
    let n = 0;
    for (const id of ids) {
      const h = toHex(id);
      const it = box.items.get(h);
      if (!it) continue;
      box.items.delete(h);
      box.bytes -= it.bytes.length;
      this.total -= it.bytes.length;
      n++;
    }
    this.expireBox(box, now);
    return n;
  }

  /** Forgets a depositing circuit (it closed). */
  forgetSource(source: string): void {
    if (typeof source !== 'string') throw new TypeError('source must be a string');
    this.sources.delete(source);
  }

  /** Drops expired items, and owners neither bound within the TTL nor holding items. Returns items dropped. */
  expire(now: number): number {
    checkNow(now);
    let dropped = 0;
    for (const [k, box] of this.owners) {
      dropped += this.expireBox(box, now);
      if (box.items.size === 0 && now - box.lastBound > this.limits.ttlMs) this.owners.delete(k);
    }
    return dropped;
  }

  private expireBox(box: OwnerBox, now: number): number {
    let dropped = 0;
    // Items are in arrival order and share one TTL, so expired ones come first.
    for (const [h, it] of box.items) {
      if (it.expiresAt > now) break;
      box.items.delete(h);
      box.bytes -= it.bytes.length;
      this.total -= it.bytes.length;
      dropped++;
    }
    return dropped;
  }

  /** Makes room for one owner: an expired one if any, else the least recently bound without items. */
  private evictOneOwner(now: number): boolean {
    this.expire(now);
    if (this.owners.size < this.limits.maxOwners) return true;
    for (const [k, box] of this.owners) {
      if (box.items.size === 0) {
        this.owners.delete(k);
        return true;
      }
    }
    return false;
  }

  private sourceBucket(source: string, now: number): TokenBucket {
    let b = this.sources.get(source);
    if (!b) {
      while (this.sources.size >= this.limits.maxSources) this.sources.delete(this.sources.keys().next().value!);
      b = new TokenBucket(this.limits.depositsPerMinutePerSource / 60, this.limits.depositsPerMinutePerSource, now);
      this.sources.set(source, b);
    }
    return b;
  }
}
