/**
 * A DHT node's record store (seed 004 §3: "Both nodes and consuming clients only accept data that
 * they are able to validate … Once a record expires, it gets automatically wiped by all the
 * nodes"; PSP reference dht/datastore.md and dht/expiration.md; Kademlia §2.5 for republishing).
 *
 * - put: parse and verify (record.ts), then compare with the version held for the same key and
 *   owner: a higher sequence replaces it; the same sequence with the same owner-signed bytes is
 *   'unchanged' (another co-signer's copy of one version); the same sequence with other content
 *   is refused as 'conflict'; a lower sequence as 'replayed'. Quotas: records per owner and total
 *   bytes ('quota-exceeded'). A refused put changes nothing.
 * - get: re-verifies every record it would return (expiry, signatures, co-signer still a DHT
 *   node), drops those that fail, and returns the rest newest first.
 * - wipeExpired(now): removes expired records; the driver calls it on a timer.
 * - Republishing: records co-signed by this node (`selfIdentity`) are this node's to keep alive;
 *   `dueForRepublish(now)` lists those whose republish time has come, `markRepublished` resets it.
 *
 * Time is always passed in. Does not: run timers, send anything, or decide which node should hold
 * which key (the k closest to a key are found by lookups, lookup.ts).
 */
import type { CryptoSuite } from '../crypto/api';
import { assertBytes, equalBytes } from '../util/bytes';
import { type DhtErrorCode, DhtError } from './errors';
import { checkPositiveInt, checkTime, idKey } from './internal';
import { type RecordPolicy, type VerifiedRecord, checkRecordPolicy, compareNewest, parseRecord, verifyRecord } from './record';

export const DEFAULT_MAX_RECORDS_PER_OWNER = 16;
export const DEFAULT_MAX_TOTAL_BYTES = 8 * 1024 * 1024;
/** Kademlia §2.5: the original publisher republishes every 24 h; we renew hourly, well inside any TTL. */
export const DEFAULT_REPUBLISH_INTERVAL_MS = 60 * 60 * 1000;

export interface RecordStoreOptions {
  readonly suite: CryptoSuite;
  readonly policy: RecordPolicy;
  /** This node's identity key: records it co-signed are republished by it. */
  readonly selfIdentity?: Uint8Array;
  readonly maxRecordsPerOwner?: number;
  readonly maxTotalBytes?: number;
  readonly republishIntervalMs?: number;
}

export type StoreResult =
  | { readonly ok: true; readonly status: 'stored' | 'unchanged' }
  | { readonly ok: false; readonly code: DhtErrorCode; readonly message: string };

interface Entry {
  record: VerifiedRecord;
  republishAt: number | null;
}

export class RecordStore {
  readonly maxRecordsPerOwner: number;
  readonly maxTotalBytes: number;
  readonly republishIntervalMs: number;
  private readonly suite: CryptoSuite;
  private readonly policy: RecordPolicy;
  private readonly self: Uint8Array | null;
  /** key hex → owner hex → entry */
  private readonly byKey = new Map<string, Map<string, Entry>>();
  private readonly perOwner = new Map<string, number>();
  private bytes = 0;
  private count = 0;

  constructor(options: RecordStoreOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (typeof options.suite !== 'object' || options.suite === null) throw new TypeError('options.suite must be a CryptoSuite');
    checkRecordPolicy(options.policy, 'options.policy');
    if (options.selfIdentity !== undefined) assertBytes(options.selfIdentity, 'options.selfIdentity', 32);
    this.suite = options.suite;
    this.policy = options.policy;
    this.self = options.selfIdentity?.slice() ?? null;
    this.maxRecordsPerOwner = options.maxRecordsPerOwner ?? DEFAULT_MAX_RECORDS_PER_OWNER;
    checkPositiveInt(this.maxRecordsPerOwner, 'options.maxRecordsPerOwner');
    this.maxTotalBytes = options.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES;
    checkPositiveInt(this.maxTotalBytes, 'options.maxTotalBytes');
    this.republishIntervalMs = options.republishIntervalMs ?? DEFAULT_REPUBLISH_INTERVAL_MS;
    checkPositiveInt(this.republishIntervalMs, 'options.republishIntervalMs');
  }

  /** Records held. */
  get size(): number {
    return this.count;
  }

  /** Bytes of the signed records held. */
  get totalBytes(): number {
    return this.bytes;
  }

  /** Verifies and stores a signed record received at `now`. */
  put(bytes: Uint8Array, now: number): StoreResult {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
    checkTime(now, 'now');
    let record: VerifiedRecord;
    try {
      record = verifyRecord(this.suite, parseRecord(bytes), now, this.policy);
    } catch (e) {
      if (e instanceof DhtError) return { ok: false, code: e.code, message: e.message };
      throw e;
    }
    const keyHex = idKey(record.key);
    const ownerHex = idKey(record.owner);
    const owners = this.byKey.get(keyHex);
    const held = owners?.get(ownerHex);
    if (held !== undefined) {
      const old = held.record;
      if (record.sequence < old.sequence) {
        return { ok: false, code: 'replayed', message: `sequence ${record.sequence} is lower than the held ${old.sequence}` };
      }
      if (record.sequence === old.sequence) {
        if (equalBytes(record.ownerSigned, old.ownerSigned)) return { ok: true, status: 'unchanged' };
        return { ok: false, code: 'conflict', message: `sequence ${record.sequence} is held with different content` };
      }
      const delta = record.bytes.length - old.bytes.length;
      if (this.bytes + delta > this.maxTotalBytes) {
        return { ok: false, code: 'quota-exceeded', message: `store holds ${this.bytes} of ${this.maxTotalBytes} bytes` };
      }
      this.bytes += delta;
      held.record = record;
      held.republishAt = this.republishTimeFor(record, now);
      return { ok: true, status: 'stored' };
    }
    const ownerCount = this.perOwner.get(ownerHex) ?? 0;
    if (ownerCount >= this.maxRecordsPerOwner) {
      return { ok: false, code: 'quota-exceeded', message: `owner already has ${ownerCount} records, at most ${this.maxRecordsPerOwner}` };
    }
    if (this.bytes + record.bytes.length > this.maxTotalBytes) {
      return { ok: false, code: 'quota-exceeded', message: `store holds ${this.bytes} of ${this.maxTotalBytes} bytes` };
    }
    let map = owners;
    if (map === undefined) {
      map = new Map();
      this.byKey.set(keyHex, map);
    }
    map.set(ownerHex, { record, republishAt: this.republishTimeFor(record, now) });
    this.perOwner.set(ownerHex, ownerCount + 1);
    this.bytes += record.bytes.length;
    this.count++;
    return { ok: true, status: 'stored' };
  }

  /**
   * The valid records under `key` at `now`, newest first. Each is verified again; one that no
   * longer verifies (expired, co-signer gone) is removed instead of returned.
   */
  get(key: Uint8Array, now: number): VerifiedRecord[] {
    assertBytes(key, 'key', 32);
    checkTime(now, 'now');
    const keyHex = idKey(key);
    const owners = this.byKey.get(keyHex);
    if (owners === undefined) return [];
    const out: VerifiedRecord[] = [];
    for (const [ownerHex, entry] of [...owners]) {
      try {
        out.push(verifyRecord(this.suite, parseRecord(entry.record.bytes), now, this.policy));
      } catch (e) {
        if (!(e instanceof DhtError)) throw e;
        this.drop(keyHex, ownerHex);
      }
    }
    return out.sort(compareNewest);
  }

  /** Removes the record of `owner` under `key`; returns whether one was held. */
  remove(key: Uint8Array, owner: Uint8Array): boolean {
    assertBytes(key, 'key', 32);
    assertBytes(owner, 'owner', 32);
    return this.drop(idKey(key), idKey(owner));
  }

  /** Removes every record expired at `now`; returns how many. */
  wipeExpired(now: number): number {
    checkTime(now, 'now');
    let n = 0;
    for (const [keyHex, owners] of [...this.byKey]) {
      for (const [ownerHex, e] of [...owners]) {
        if (now >= e.record.expiresAt) {
          this.drop(keyHex, ownerHex);
          n++;
        }
      }
    }
    return n;
  }

  /** Records this node co-signed whose republish time has come at `now` (not expired). */
  dueForRepublish(now: number): VerifiedRecord[] {
    checkTime(now, 'now');
    const out: VerifiedRecord[] = [];
    for (const owners of this.byKey.values()) {
      for (const e of owners.values()) {
        if (e.republishAt !== null && e.republishAt <= now && now < e.record.expiresAt) out.push(e.record);
      }
    }
    return out;
  }

  /** Records that `record` was republished at `now`; its next republish is an interval later. */
  markRepublished(record: VerifiedRecord, now: number): void {
    if (typeof record !== 'object' || record === null) throw new TypeError('record must be a VerifiedRecord');
    assertBytes(record.key, 'record.key', 32);
    assertBytes(record.owner, 'record.owner', 32);
    checkTime(now, 'now');
    const e = this.byKey.get(idKey(record.key))?.get(idKey(record.owner));
    if (e !== undefined && e.republishAt !== null) e.republishAt = now + this.republishIntervalMs;
  }

  /** Every record held (unverified snapshot, for diagnostics and hand-over). */
  all(): VerifiedRecord[] {
    const out: VerifiedRecord[] = [];
    for (const owners of this.byKey.values()) for (const e of owners.values()) out.push(e.record);
    return out;
  }

  private republishTimeFor(record: VerifiedRecord, now: number): number | null {
    if (this.self === null || !equalBytes(record.cosigner, this.self)) return null;
    return now + this.republishIntervalMs;
  }

  private drop(keyHex: string, ownerHex: string): boolean {
    const owners = this.byKey.get(keyHex);
    const e = owners?.get(ownerHex);
    if (owners === undefined || e === undefined) return false;
    owners.delete(ownerHex);
    if (owners.size === 0) this.byKey.delete(keyHex);
    const left = (this.perOwner.get(ownerHex) ?? 1) - 1;
    if (left <= 0) this.perOwner.delete(ownerHex);
    else this.perOwner.set(ownerHex, left);
    this.bytes -= e.record.bytes.length;
    this.count--;
    return true;
  }
}
