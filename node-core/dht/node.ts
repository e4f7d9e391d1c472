/**
 * One DHT node as a transport-free object: its routing table (routing.ts), record store
 * (store.ts), the answers it gives to DHT requests (messages.ts), and the operations it starts
 * itself — lookups, publishing, republishing and bucket refresh (lookup.ts). Seed 004 §3; DESIGN.md
 * §3 "DHT and presence".
 *
 * A driver owns the transport: it decodes a request, passes it to `handle` together with the
 * identity key the link authenticated (null for an anonymous requester, e.g. a client at the end
 * of a circuit), encodes the answer, and gives the node a DhtRpc for its own requests. Time and
 * timeouts come from the injected Scheduler. The requester's own contact (the optional `sender` of
 * a request) enters the routing table only when the link proved that identity key
 * (S/Kademlia §4.2); a full bucket makes the node ping its oldest contact first (Kademlia §2.2).
 *
 * `publish` is what a storing node does with an owner-signed record it accepted from a client:
 * verify it, co-sign it with its own identity (seed 004 §3, §6.2), keep it, and STORE it at the k
 * closest nodes. `maintain(now)` wipes expired records and returns the buckets due for refresh and
 * the records due for republishing; `refresh` and `republish` do that work.
 *
 * Does not: open links, run periodic timers of its own, or decide which namespaces exist (the
 * RecordPolicy's key rule does).
 */
import type { CryptoSuite } from '../crypto/api';
import type { Scheduler } from '../onion/channel';
import { assertBytes, equalBytes } from '../util/bytes';
import { type Contact, type NodeAddress, checkContactShape } from './contact';
import { DhtError } from './errors';
import { checkPuzzleBits, nodeIdOf, satisfiesPuzzle } from './id';
import { checkTime } from './internal';
import {
  type DhtRpc,
  type LookupContext,
  type LookupParams,
  type NodeLookupResult,
  type PublishResult,
  type ValueLookupResult,
  DEFAULT_REQUEST_TIMEOUT_MS,
  lookupNode,
  lookupValue,
  publishRecord,
} from './lookup';
import { type DhtRequest, type DhtResponse, MAX_CONTACTS_PER_ANSWER, MAX_RECORDS_PER_ANSWER } from './messages';
import { type RecordPolicy, type VerifiedRecord, cosignRecord, parseOwnerRecord, parseRecord, verifyOwnerRecord } from './record';
import { RoutingTable, type RoutingTableOptions } from './routing';
import { RecordStore, type RecordStoreOptions, type StoreResult } from './store';

export interface DhtNodeOptions {
  readonly suite: CryptoSuite;
  readonly scheduler: Scheduler;
  /** The node's Ed25519 identity: 32-byte seed; its node id must satisfy the puzzle. */
  readonly identitySecretKey: Uint8Array;
  /** Where other nodes reach this one (1..4; the first is primary). */
  readonly addresses: readonly NodeAddress[];
  readonly puzzleBits: number;
  readonly policy: RecordPolicy;
  readonly rpc: DhtRpc;
  readonly table?: Omit<Partial<RoutingTableOptions>, 'suite' | 'selfId' | 'puzzleBits' | 'now'>;
  readonly store?: Omit<Partial<RecordStoreOptions>, 'suite' | 'policy' | 'selfIdentity'>;
  readonly lookup?: LookupParams;
}

export type PublishOutcome =
  | { readonly ok: true; readonly record: Uint8Array; readonly result: PublishResult }
  | { readonly ok: false; readonly code: DhtError['code']; readonly message: string };

export class DhtNode {
  readonly contact: Contact;
  readonly table: RoutingTable;
  readonly store: RecordStore;
  readonly puzzleBits: number;
  private readonly suite: CryptoSuite;
  private readonly scheduler: Scheduler;
  private readonly secretKey: Uint8Array;
  private readonly policy: RecordPolicy;
  private readonly rpc: DhtRpc;
  private readonly lookupParams: LookupParams;

  constructor(options: DhtNodeOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const { suite, scheduler } = options;
    if (typeof suite !== 'object' || suite === null) throw new TypeError('options.suite must be a CryptoSuite');
    if (typeof scheduler !== 'object' || scheduler === null) throw new TypeError('options.scheduler must be a Scheduler');
    assertBytes(options.identitySecretKey, 'options.identitySecretKey', 32);
    checkPuzzleBits(options.puzzleBits, 'options.puzzleBits');
    if (typeof options.rpc !== 'object' || options.rpc === null) throw new TypeError('options.rpc must be a DhtRpc');
    const identityKey = suite.ed25519PublicKey(options.identitySecretKey);
    const nodeId = nodeIdOf(suite, identityKey);
    if (!satisfiesPuzzle(suite, nodeId, options.puzzleBits)) {
      throw new RangeError(`options.identitySecretKey gives a node id that fails the ${options.puzzleBits}-bit puzzle (generate it with findPuzzleKey)`);
    }
    const contact: Contact = { nodeId, identityKey, addresses: options.addresses.map((a) => ({ host: a.host, port: a.port })) };
    checkContactShape(contact, 'options (contact)');
    this.contact = contact;
    this.suite = suite;
    this.scheduler = scheduler;
    this.secretKey = options.identitySecretKey.slice();
    this.puzzleBits = options.puzzleBits;
    this.policy = options.policy;
    this.rpc = options.rpc;
    this.lookupParams = options.lookup ?? {};
    this.table = new RoutingTable({ ...options.table, suite, selfId: nodeId, puzzleBits: options.puzzleBits, now: scheduler.now() });
    this.store = new RecordStore({ ...options.store, suite, policy: options.policy, selfIdentity: identityKey });
  }

  /**
   * Answers a DHT request. `linkIdentity` is the Ed25519 key the link authenticated, or null for
   * an anonymous requester.
   */
  handle(request: DhtRequest, linkIdentity: Uint8Array | null): DhtResponse {
    if (typeof request !== 'object' || request === null) throw new TypeError('request must be a DHT request');
    if (linkIdentity !== null) assertBytes(linkIdentity, 'linkIdentity', 32);
    const now = this.scheduler.now();
    if (request.type !== 'store' && request.type !== 'ping' && request.type !== 'find-node' && request.type !== 'find-value') {
      throw new RangeError(`request.type ${String((request as { type: unknown }).type)} is not a DHT request`);
    }
    const sender = request.sender;
    if (sender !== null && linkIdentity !== null && equalBytes(sender.identityKey, linkIdentity)) {
      // The table refuses what it must; a failed ping is an eviction, not an error.
      this.learn(sender).catch(() => undefined);
    }
    const notRequester = (c: Contact): boolean => sender !== null && equalBytes(c.nodeId, sender.nodeId);
    switch (request.type) {
      case 'ping':
        return { type: 'pong', nonce: request.nonce };
      case 'find-node':
        return { type: 'nodes', contacts: this.table.closest(request.target, Math.min(this.table.k, MAX_CONTACTS_PER_ANSWER), notRequester) };
      case 'find-value': {
        const records = this.store.get(request.key, now).slice(0, MAX_RECORDS_PER_ANSWER).map((r) => r.bytes);
        return { type: 'value', records, contacts: this.table.closest(request.key, Math.min(this.table.k, MAX_CONTACTS_PER_ANSWER), notRequester) };
      }
      case 'store':
        return { type: 'store-result', result: this.store.put(request.record, now) };
    }
  }

  /**
   * Offers a contact that talked to us directly; when its bucket is full, pings the oldest entry
   * (with the lookup timeout) and lets the table keep or evict it. Returns when that is settled.
   */
  async learn(contact: Contact): Promise<void> {
    const outcome = this.table.offer(contact, this.scheduler.now());
    if (outcome.kind !== 'ping') return;
    const alive = await this.pingWithTimeout(outcome.contact);
    this.table.pingResult(outcome.contact.nodeId, alive, this.scheduler.now());
  }

  private pingWithTimeout(peer: Contact): Promise<boolean> {
    const ms = this.lookupParams.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    return new Promise<boolean>((resolve) => {
      let settled = false;
      const finish = (v: boolean): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        resolve(v);
      };
      const timer = this.scheduler.setTimeout(() => finish(false), ms);
      try {
        this.rpc.ping(peer).then((v) => finish(v === true), () => finish(false));
      } catch {
        finish(false);
      }
    });
  }

  private context(target: Uint8Array, params?: LookupParams): LookupContext {
    const p = { ...this.lookupParams, ...params };
    return {
      suite: this.suite,
      rpc: this.rpc,
      scheduler: this.scheduler,
      puzzleBits: this.puzzleBits,
      seeds: this.table.closest(target, p.k ?? this.table.k),
      selfId: this.contact.nodeId,
      params: p,
      // An answer over an authenticated link is a direct sighting (S/Kademlia §4.2).
      onResponse: (peer) => {
        this.learn(peer).catch(() => undefined);
      },
      onFailure: (peer) => {
        this.table.failed(peer.nodeId);
      },
      onMisbehaviour: (peer) => {
        this.table.remove(peer.nodeId);
      },
    };
  }

  /** FIND_NODE lookup over disjoint paths; marks the target's bucket as refreshed. */
  async lookupNode(target: Uint8Array, params?: LookupParams): Promise<NodeLookupResult> {
    assertBytes(target, 'target', 32);
    this.table.markLookup(target, this.scheduler.now());
    return lookupNode(this.context(target, params), target);
  }

  /** FIND_VALUE lookup over disjoint paths; the node's own store answers first if it holds the key. */
  async lookupValue(key: Uint8Array, params?: LookupParams): Promise<ValueLookupResult> {
    assertBytes(key, 'key', 32);
    this.table.markLookup(key, this.scheduler.now());
    return lookupValue(this.context(key, params), key, this.policy);
  }

  /**
   * Accepts an owner-signed record (e.g. a presence announcement from a client), co-signs it,
   * stores it locally and publishes it to the k closest nodes. A record that fails verification is
   * refused with its code and nothing is stored or sent.
   */
  async publish(ownerSigned: Uint8Array, params?: LookupParams): Promise<PublishOutcome> {
    assertBytes(ownerSigned, 'ownerSigned');
    const now = this.scheduler.now();
    let signed: Uint8Array;
    try {
      const verified = verifyOwnerRecord(this.suite, parseOwnerRecord(ownerSigned), now, this.policy);
      signed = cosignRecord(this.suite, verified, now, this.secretKey);
    } catch (e) {
      if (e instanceof DhtError) return { ok: false, code: e.code, message: e.message };
      throw e;
    }
    const local: StoreResult = this.store.put(signed, now);
    if (!local.ok) return { ok: false, code: local.code, message: local.message };
    const result = await publishRecord(this.context(parseRecord(signed).claimed.key, params), signed);
    return { ok: true, record: signed, result };
  }

  /**
   * Periodic upkeep at `now`: wipes expired records; returns how many, the buckets due for a
   * refresh lookup and the records due for republishing (pass them to `refresh`/`republish`).
   */
  maintain(now: number): { wiped: number; bucketsDue: number[]; republishDue: VerifiedRecord[] } {
    checkTime(now, 'now');
    return { wiped: this.store.wipeExpired(now), bucketsDue: this.table.dueForRefresh(now), republishDue: this.store.dueForRepublish(now) };
  }

  /** Refresh lookups for the given buckets (Kademlia §2.3). */
  async refresh(buckets: readonly number[]): Promise<void> {
    for (const b of buckets) {
      const target = this.table.refreshTarget(b);
      await this.lookupNode(target);
      this.table.markRefreshed(b, this.scheduler.now());
    }
  }

  /** Stores the given records again at the k closest nodes of their keys (Kademlia §2.5). */
  async republish(records: readonly VerifiedRecord[]): Promise<PublishResult[]> {
    const out: PublishResult[] = [];
    for (const r of records) {
      out.push(await publishRecord(this.context(r.key), r.bytes));
      this.store.markRepublished(r, this.scheduler.now());
    }
    return out;
  }
}
