/**
 * Iterative lookups over d disjoint paths (S/Kademlia, Baumgart & Mies 2007, §4.4 "Lookup over
 * disjoint paths"; Kademlia §2.3 for the iterative node lookup; PSP reference dht/overview.md
 * "How DHT Works").
 *
 * - The initiator takes the k closest contacts it knows (`seeds`, usually its routing table's
 *   closest to the target) and deals them round-robin into d paths.
 * - Each path runs like a Kademlia lookup with its own candidate list: up to `alpha` parallel
 *   requests, always to the closest candidate not yet queried; a path ends when the k closest
 *   candidates it knows (not counting failed ones) have all answered, or, for FIND_VALUE, once
 *   `quorumPerPath` of its answers carried a valid record.
 * - Disjointness (§4.4): a node is queried by at most one path in the whole lookup; a path that
 *   meets a node another path already claimed skips it.
 * - Every answer is checked: a contact whose id is not SHA-256 of its key or fails the puzzle, or
 *   a record that does not verify (record.ts) or is for another key, makes the whole answer count
 *   as misbehaviour — none of it is used and the peer is reported. The lookup result holds the
 *   newest valid record seen among all answers (record.ts `compareNewest`).
 * - Each request has a timeout from the injected Scheduler; silence counts as failure.
 *
 * Counters for evaluation: `messages` (requests sent; each expects one answer), `hops` (for
 * FIND_VALUE the hop distance of the first node that supplied the chosen record, for FIND_NODE that
 * of the closest node found; a seed is hop 1, a node learnt from a hop-h node is hop h+1).
 *
 * `publishRecord` finds the k closest nodes to a record's key and sends each a STORE (Kademlia
 * §2.3 STORE, seed 004 §3 replication).
 *
 * Does not: touch the routing table (callbacks report who answered, failed or misbehaved), cache
 * values along the path (`closestWithoutValue` names the node a caller may store a copy at), or
 * encode messages (the DhtRpc implementation does).
 */
import type { CryptoSuite } from '../crypto/api';
import type { Scheduler } from '../onion/channel';
import { assertBytes, equalBytes } from '../util/bytes';
import { type Contact, checkContactShape, isValidContact } from './contact';
import { type DhtErrorCode, DhtError } from './errors';
import { NODE_ID_LENGTH, checkPuzzleBits, compareDistanceUnchecked } from './id';
import { checkPositiveInt, idKey } from './internal';
import { MAX_CONTACTS_PER_ANSWER, MAX_RECORDS_PER_ANSWER } from './messages';
import { type RecordPolicy, type SignedRecord, type VerifiedRecord, checkRecordPolicy, compareNewest, parseRecord, verifyRecord } from './record';
import { DEFAULT_K } from './routing';
import type { StoreResult } from './store';

/** How a lookup reaches other nodes. Implementations encode messages.ts messages over some transport. */
export interface DhtRpc {
  findNode(peer: Contact, target: Uint8Array): Promise<readonly Contact[]>;
  /** `records` are signed records in wire form, unverified: the lookup verifies them. */
  findValue(peer: Contact, key: Uint8Array): Promise<{ readonly records?: readonly SignedRecord[]; readonly contacts: readonly Contact[] }>;
  store(peer: Contact, record: SignedRecord): Promise<StoreResult>;
  ping(peer: Contact): Promise<boolean>;
}

export const DEFAULT_ALPHA = 3;
export const DEFAULT_DISJOINT_PATHS = 4;
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_REQUESTS = 400;

export interface LookupParams {
  /** Bucket size and result size (default 20). */
  readonly k?: number;
  /** Parallel requests per path (default 3). */
  readonly alpha?: number;
  /** Disjoint paths (default 4; 1 is plain Kademlia). */
  readonly d?: number;
  readonly requestTimeoutMs?: number;
  /** Hard cap on requests for one lookup (default 400). */
  readonly maxRequests?: number;
  /** FIND_VALUE: answers with a valid record after which a path ends (default 1). */
  readonly quorumPerPath?: number;
}

export type FailureReason = 'timeout' | 'error';
export type MisbehaviourReason = 'bad-contact' | 'bad-record' | 'wrong-key-record' | 'too-many-items';

export interface LookupContext {
  readonly suite: CryptoSuite;
  readonly rpc: DhtRpc;
  readonly scheduler: Scheduler;
  /** The network's puzzle difficulty c1. */
  readonly puzzleBits: number;
  /** Contacts to start from, e.g. routing table `closest(target, k)`. */
  readonly seeds: readonly Contact[];
  /** Our own node id, never queried (null for a client that is not a DHT node). */
  readonly selfId?: Uint8Array | null;
  readonly params?: LookupParams;
  readonly onResponse?: (peer: Contact) => void;
  readonly onFailure?: (peer: Contact, reason: FailureReason) => void;
  readonly onMisbehaviour?: (peer: Contact, reason: MisbehaviourReason) => void;
}

export interface NodeLookupResult {
  /** Up to k nodes that answered, closest to the target first. */
  readonly closest: Contact[];
  readonly messages: number;
  readonly hops: number;
  readonly responded: number;
  readonly failed: number;
  readonly misbehaved: number;
}

export interface ValueLookupResult extends NodeLookupResult {
  /** The newest valid record for the key among all answers, or null. */
  readonly record: VerifiedRecord | null;
  /** Every distinct valid record seen, newest first. */
  readonly records: VerifiedRecord[];
  /** Records that failed verification (forged, expired, wrong key …). */
  readonly invalidRecords: number;
  /** Who sent each record that failed, and why ('wrong-key' also for a record of another key). */
  readonly rejectedRecords: { readonly peer: Contact; readonly code: DhtErrorCode }[];
  /** The closest node that answered without the chosen record (Kademlia's caching target). */
  readonly closestWithoutValue: Contact | null;
}

export interface PublishResult {
  /** Nodes that answered STORE with ok. */
  readonly stored: number;
  readonly results: { readonly peer: Contact; readonly result: StoreResult | FailureReason }[];
  /** Requests of the node lookup plus the STOREs. */
  readonly messages: number;
  readonly lookup: NodeLookupResult;
}

class RequestTimeout extends Error {
  override readonly name = 'RequestTimeout';
}

/** `promise`, or a RequestTimeout rejection after `ms` on the scheduler's clock. */
function withTimeout<T>(scheduler: Scheduler, start: () => Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = scheduler.setTimeout(() => {
      if (settled) return;
      settled = true;
      reject(new RequestTimeout(`no answer within ${ms} ms`));
    }, ms);
    let p: Promise<T>;
    try {
      p = start();
    } catch (e) {
      settled = true;
      timer.cancel();
      reject(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    Promise.resolve(p).then(
      (v) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        resolve(v);
      },
      (e: unknown) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

type CandidateState = 'new' | 'pending' | 'answered' | 'failed' | 'bad' | 'taken';

interface Candidate {
  readonly contact: Contact;
  readonly key: string;
  readonly hop: number;
  state: CandidateState;
  /** FIND_VALUE: the valid records this node answered with. */
  records: VerifiedRecord[];
}

interface Path {
  readonly index: number;
  readonly candidates: Candidate[];
  readonly known: Set<string>;
  inFlight: number;
  finished: boolean;
  valueAnswers: number;
}

interface Resolved {
  readonly k: number;
  readonly alpha: number;
  readonly d: number;
  readonly requestTimeoutMs: number;
  readonly maxRequests: number;
  readonly quorumPerPath: number;
}

function resolveParams(p: LookupParams | undefined): Resolved {
  if (p !== undefined && (typeof p !== 'object' || p === null)) throw new TypeError('params must be an object');
  const r: Resolved = {
    k: p?.k ?? DEFAULT_K,
    alpha: p?.alpha ?? DEFAULT_ALPHA,
    d: p?.d ?? DEFAULT_DISJOINT_PATHS,
    requestTimeoutMs: p?.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    maxRequests: p?.maxRequests ?? DEFAULT_MAX_REQUESTS,
    quorumPerPath: p?.quorumPerPath ?? 1,
  };
  checkPositiveInt(r.k, 'params.k', 1024);
  checkPositiveInt(r.alpha, 'params.alpha', 64);
  checkPositiveInt(r.d, 'params.d', 64);
  checkPositiveInt(r.requestTimeoutMs, 'params.requestTimeoutMs');
  checkPositiveInt(r.maxRequests, 'params.maxRequests');
  checkPositiveInt(r.quorumPerPath, 'params.quorumPerPath', 1024);
  return r;
}

function checkContext(ctx: unknown): asserts ctx is LookupContext {
  if (typeof ctx !== 'object' || ctx === null) throw new TypeError('ctx must be an object');
  const c = ctx as LookupContext;
  if (typeof c.suite !== 'object' || c.suite === null) throw new TypeError('ctx.suite must be a CryptoSuite');
  if (typeof c.rpc !== 'object' || c.rpc === null) throw new TypeError('ctx.rpc must be a DhtRpc');
  if (typeof c.scheduler !== 'object' || c.scheduler === null) throw new TypeError('ctx.scheduler must be a Scheduler');
  checkPuzzleBits(c.puzzleBits, 'ctx.puzzleBits');
  if (!Array.isArray(c.seeds)) throw new TypeError('ctx.seeds must be an array of contacts');
  c.seeds.forEach((s, i) => checkContactShape(s, `ctx.seeds[${i}]`));
  if (c.selfId !== undefined && c.selfId !== null) assertBytes(c.selfId, 'ctx.selfId', NODE_ID_LENGTH);
}

type Mode = { readonly kind: 'node' } | { readonly kind: 'value'; readonly policy: RecordPolicy };

/** One lookup's state. Internal; use lookupNode / lookupValue. */
class DisjointLookup {
  private readonly claimed = new Map<string, number>();
  private readonly paths: Path[] = [];
  private readonly all = new Map<string, Candidate>();
  private readonly p: Resolved;
  private messages = 0;
  private failed = 0;
  private misbehaved = 0;
  private invalidRecords = 0;
  private readonly rejectedRecords: { peer: Contact; code: DhtErrorCode }[] = [];
  private done = false;
  private resolve!: () => void;
  private reject!: (e: unknown) => void;
  private readonly selfKey: string | null;

  constructor(
    private readonly ctx: LookupContext,
    private readonly target: Uint8Array,
    private readonly mode: Mode,
  ) {
    this.p = resolveParams(ctx.params);
    this.selfKey = ctx.selfId ? idKey(ctx.selfId) : null;
  }

  run(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      for (let i = 0; i < this.p.d; i++) this.paths.push({ index: i, candidates: [], known: new Set(), inFlight: 0, finished: false, valueAnswers: 0 });
      // S/Kademlia §4.4: the k closest known contacts, distributed into d buckets.
      const seeds = this.ctx.seeds
        .filter((s) => idKey(s.nodeId) !== this.selfKey && isValidContact(this.ctx.suite, s, this.ctx.puzzleBits))
        .sort((a, b) => compareDistanceUnchecked(this.target, a.nodeId, b.nodeId));
      const unique: Contact[] = [];
      const seen = new Set<string>();
      for (const s of seeds) {
        const key = idKey(s.nodeId);
        if (seen.has(key)) continue;
        seen.add(key);
        unique.push(s);
        if (unique.length >= this.p.k) break;
      }
      unique.forEach((s, i) => this.addCandidate(this.paths[i % this.p.d]!, s, 1));
      for (const path of this.paths) this.pump(path);
      this.checkDone();
    });
  }

  private addCandidate(path: Path, contact: Contact, hop: number): void {
    const key = idKey(contact.nodeId);
    if (key === this.selfKey || path.known.has(key)) return;
    const owner = this.claimed.get(key);
    if (owner !== undefined && owner !== path.index) return; // another path's node (§4.4)
    path.known.add(key);
    const c: Candidate = { contact, key, hop, state: 'new', records: [] };
    // Insert in distance order (lists stay short: at most a few hundred entries).
    const list = path.candidates;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareDistanceUnchecked(this.target, list[mid]!.contact.nodeId, contact.nodeId) < 0) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, c);
  }

  private pump(path: Path): void {
    while (!path.finished && path.inFlight < this.p.alpha) {
      const next = this.nextCandidate(path);
      if (next === null) break;
      if (this.messages >= this.p.maxRequests) {
        path.finished = true;
        break;
      }
      this.query(path, next);
    }
    if (!path.finished && path.inFlight === 0 && this.nextCandidate(path) === null) path.finished = true;
  }

  /** The closest 'new' candidate among the path's k closest live ones, or null. */
  private nextCandidate(path: Path): Candidate | null {
    let live = 0;
    for (const c of path.candidates) {
      if (c.state === 'failed' || c.state === 'bad' || c.state === 'taken') continue;
      if (c.state === 'new') {
        const owner = this.claimed.get(c.key);
        if (owner !== undefined && owner !== path.index) {
          c.state = 'taken';
          continue;
        }
      }
      if (++live > this.p.k) return null;
      if (c.state === 'new') return c;
    }
    return null;
  }

  private query(path: Path, c: Candidate): void {
    c.state = 'pending';
    this.claimed.set(c.key, path.index);
    this.all.set(c.key, c);
    path.inFlight++;
    this.messages++;
    const peer = c.contact;
    const call =
      this.mode.kind === 'node'
        ? () => this.ctx.rpc.findNode(peer, this.target).then((contacts) => ({ contacts, records: undefined as readonly Uint8Array[] | undefined }))
        : () => this.ctx.rpc.findValue(peer, this.target);
    withTimeout(this.ctx.scheduler, call, this.p.requestTimeoutMs)
      .then(
        (answer) => {
          path.inFlight--;
          this.onAnswer(path, c, answer);
        },
        (e: unknown) => {
          path.inFlight--;
          c.state = 'failed';
          this.failed++;
          this.ctx.onFailure?.(peer, e instanceof RequestTimeout ? 'timeout' : 'error');
        },
      )
      .then(() => {
        this.pump(path);
        this.checkDone();
      })
      // A programming error (a throwing callback, a broken policy) ends the lookup with it.
      .catch((e: unknown) => {
        if (this.done) return;
        this.done = true;
        this.reject(e);
      });
  }

  private misbehave(c: Candidate, reason: MisbehaviourReason): void {
    c.state = 'bad';
    this.misbehaved++;
    this.ctx.onMisbehaviour?.(c.contact, reason);
  }

  private onAnswer(path: Path, c: Candidate, answer: unknown): void {
    const a = answer as { contacts?: unknown; records?: unknown } | null;
    const contacts = a?.contacts;
    const records = a?.records;
    if (!Array.isArray(contacts) || (records !== undefined && !Array.isArray(records))) {
      this.misbehave(c, 'bad-contact');
      return;
    }
    if (contacts.length > MAX_CONTACTS_PER_ANSWER || (records !== undefined && records.length > MAX_RECORDS_PER_ANSWER)) {
      this.misbehave(c, 'too-many-items');
      return;
    }
    // Validate everything first: one bad item discards the whole answer.
    const good: Contact[] = [];
    for (const x of contacts as unknown[]) {
      try {
        checkContactShape(x);
      } catch {
        this.misbehave(c, 'bad-contact');
        return;
      }
      if (!isValidContact(this.ctx.suite, x, this.ctx.puzzleBits)) {
        this.misbehave(c, 'bad-contact');
        return;
      }
      good.push(x);
    }
    const valid: VerifiedRecord[] = [];
    if (this.mode.kind === 'value' && records !== undefined) {
      for (const bytes of records as unknown[]) {
        let rec: VerifiedRecord;
        try {
          if (!(bytes instanceof Uint8Array)) throw new DhtError('malformed', 'record is not bytes');
          rec = verifyRecord(this.ctx.suite, parseRecord(bytes), this.ctx.scheduler.now(), this.mode.policy);
        } catch (e) {
          if (!(e instanceof DhtError)) throw e;
          this.invalidRecords++;
          this.rejectedRecords.push({ peer: c.contact, code: e.code });
          this.misbehave(c, 'bad-record');
          return;
        }
        if (!equalBytes(rec.key, this.target)) {
          this.invalidRecords++;
          this.rejectedRecords.push({ peer: c.contact, code: 'wrong-key' });
          this.misbehave(c, 'wrong-key-record');
          return;
        }
        valid.push(rec);
      }
    }
    c.state = 'answered';
    c.records = valid;
    this.ctx.onResponse?.(c.contact);
    for (const x of good) this.addCandidate(path, x, c.hop + 1);
    if (valid.length > 0) {
      path.valueAnswers++;
      if (path.valueAnswers >= this.p.quorumPerPath) path.finished = true;
    }
  }

  private checkDone(): void {
    if (this.done) return;
    for (const p of this.paths) if (!p.finished || p.inFlight > 0) return;
    this.done = true;
    this.resolve();
  }

  nodeResult(): NodeLookupResult {
    const answered = [...this.all.values()].filter((c) => c.state === 'answered');
    answered.sort((a, b) => compareDistanceUnchecked(this.target, a.contact.nodeId, b.contact.nodeId));
    return {
      closest: answered.slice(0, this.p.k).map((c) => c.contact),
      messages: this.messages,
      hops: answered[0]?.hop ?? 0,
      responded: answered.length,
      failed: this.failed,
      misbehaved: this.misbehaved,
    };
  }

  valueResult(): ValueLookupResult {
    const base = this.nodeResult();
    const answered = [...this.all.values()].filter((c) => c.state === 'answered');
    const distinct = new Map<string, VerifiedRecord>();
    for (const c of answered) for (const r of c.records) distinct.set(idKey(r.cosignature), r);
    const records = [...distinct.values()].sort(compareNewest);
    const best = records[0] ?? null;
    let hops = 0;
    let closestWithoutValue: Contact | null = null;
    if (best !== null) {
      const suppliers = answered.filter((c) => c.records.some((r) => equalBytes(r.bytes, best.bytes)));
      hops = Math.min(...suppliers.map((c) => c.hop));
      const without = answered
        .filter((c) => !c.records.some((r) => equalBytes(r.ownerSigned, best.ownerSigned)))
        .sort((a, b) => compareDistanceUnchecked(this.target, a.contact.nodeId, b.contact.nodeId));
      closestWithoutValue = without[0]?.contact ?? null;
    }
    return { ...base, hops, record: best, records, invalidRecords: this.invalidRecords, rejectedRecords: [...this.rejectedRecords], closestWithoutValue };
  }
}

/** FIND_NODE over d disjoint paths: the k closest nodes to `target` that answered. */
export async function lookupNode(ctx: LookupContext, target: Uint8Array): Promise<NodeLookupResult> {
  checkContext(ctx);
  assertBytes(target, 'target', NODE_ID_LENGTH);
  const l = new DisjointLookup(ctx, target.slice(), { kind: 'node' });
  await l.run();
  return l.nodeResult();
}

/** FIND_VALUE over d disjoint paths: the newest valid record for `key` (records checked with `policy`). */
export async function lookupValue(ctx: LookupContext, key: Uint8Array, policy: RecordPolicy): Promise<ValueLookupResult> {
  checkContext(ctx);
  assertBytes(key, 'key', 32);
  checkRecordPolicy(policy);
  const l = new DisjointLookup(ctx, key.slice(), { kind: 'value', policy });
  await l.run();
  return l.valueResult();
}

/**
 * Publishes a signed record: a node lookup for its key, then STORE to each of the k closest nodes
 * that answered. `record` must parse (RangeError otherwise); verification is each receiver's job.
 */
export async function publishRecord(ctx: LookupContext, record: Uint8Array): Promise<PublishResult> {
  checkContext(ctx);
  assertBytes(record, 'record');
  let key: Uint8Array;
  try {
    key = parseRecord(record).claimed.key;
  } catch (e) {
    if (e instanceof DhtError) throw new RangeError(`record is not a signed record: ${e.message}`);
    throw e;
  }
  const lookup = await lookupNode(ctx, key);
  const p = resolveParams(ctx.params);
  const results = await Promise.all(
    lookup.closest.map(async (peer) => {
      try {
        const result = await withTimeout(ctx.scheduler, () => ctx.rpc.store(peer, record), p.requestTimeoutMs);
        return { peer, result };
      } catch (e) {
        const reason: FailureReason = e instanceof RequestTimeout ? 'timeout' : 'error';
        ctx.onFailure?.(peer, reason);
        return { peer, result: reason };
      }
    }),
  );
  const stored = results.filter((r) => typeof r.result === 'object' && r.result.ok).length;
  return { stored, results, messages: lookup.messages + lookup.closest.length, lookup };
}
