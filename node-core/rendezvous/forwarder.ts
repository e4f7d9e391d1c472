/**
 * The presence node's introduction forwarder (seed 004 §7.1): introductions arrive on circuits
 * ending here, addressed only by the announcement key they are sealed to; each goes to the owner
 * who announced that key on a circuit ending here, and the introducer gets the owner's decision.
 *
 * Seed 004 §7.1 asks that "each communication channel has to be approved by the receiving client
 * application … limiting the amount of creation requests being processed by the single node at
 * any given moment … allowing node to be able to request cancellation for any request … specify
 * the rate limit … capping the amount of channels … notified about reaching the cap". Here:
 * - per owner: at most `maxPending` introductions wait for a decision, at most `perMinute` are
 *   forwarded per minute (the owner may change both); past either, the introducer is answered
 *   'busy' or 'rate-limited', the refusal is counted, and the owner is told ('cap-reached', at
 *   most one notice per `capNoticeIntervalMs`, carrying the count since the previous one);
 * - per introducer circuit: a token bucket on introductions;
 * - for the node: at most `maxPendingTotal` pending introductions;
 * - an introduction not decided within `timeoutMs` is answered 'timeout';
 * - an introduction id (SHA-256 of the envelope) forwarded in the last `replayTtlMs` (the
 *   introduction's maximum age) is answered 'replayed'; the cache is bounded;
 * - the introducer may cancel (every pending introduction of its circuit is answered
 *   'cancelled'); its circuit closing does the same; in both cases the owner is told.
 *
 * The owner's announcing circuit is his only channel here: `bindOwner` (after a successful
 * announcement on it) makes it so; when it closes, his pending introductions are answered
 * 'offline'. One announcement key belongs to one owner at this node: a second owner announcing
 * a key already bound to someone remembered here is not bound (nothing proves which of the two
 * holds the key's secret; the first keeps it).
 *
 * Pure: circuits are opaque string keys; time and timers come from the injected Scheduler;
 * notices to owners go out through `notify`.
 *
 * Does not: open or verify introductions (only the owner can), send messages, or learn who the
 * introducer is (the envelope names no one).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { Scheduler } from '../onion/channel';
import { assertBytes, fromHex, toHex } from '../util/bytes';
import { TokenBucket } from '../util/token-bucket';
import { DEFAULT_INTRODUCTION_MAX_AGE_MS } from './introduction';
import {
  MAX_MAX_PENDING,
  MAX_PER_MINUTE,
  MIN_MAX_PENDING,
  MIN_PER_MINUTE,
  parseIntroductionEnvelope,
  type ControlNotice,
  type IntroductionOutcome,
  type PresenceSettings,
} from './messages';

export interface ForwarderLimits {
  /** Default cap on one owner's pending introductions (1..1024; default 16). */
  maxPendingPerOwner: number;
  /** Default rate of introductions forwarded to one owner, per minute (1..6000; default 30). */
  perMinutePerOwner: number;
  /** Pending introductions at this node, all owners together (default 4096). */
  maxPendingTotal: number;
  /** Introductions one introducer circuit may send per minute (default 10), and its burst (default 5). */
  perCircuitPerMinute: number;
  perCircuitBurst: number;
  /** How long an owner has to decide (default 120 s). */
  timeoutMs: number;
  /** How long an introduction id is remembered (default: the introduction's maximum age, 10 min). */
  replayTtlMs: number;
  /** Introduction ids remembered at once (default 65,536; the oldest is forgotten first). */
  maxReplayEntries: number;
  /** At most one cap-reached notice per owner in this time (default 10 s). */
  capNoticeIntervalMs: number;
  /** Introducer circuits tracked at once (default 20,000; idle ones are forgotten first). */
  maxTrackedCircuits: number;
  /** Owners remembered at once (default 100,000). */
  maxOwners: number;
  /** How long an owner is remembered after his circuit closed, so introductions get 'offline' (default 24 h). */
  ownerMemoryMs: number;
  /** Announcement keys remembered per owner (default 4). */
  maxKeysPerOwner: number;
}

export const DEFAULT_FORWARDER_LIMITS: Readonly<ForwarderLimits> = Object.freeze({
  maxPendingPerOwner: 16,
  perMinutePerOwner: 30,
  maxPendingTotal: 4096,
  perCircuitPerMinute: 10,
  perCircuitBurst: 5,
  timeoutMs: 120_000,
  replayTtlMs: DEFAULT_INTRODUCTION_MAX_AGE_MS,
  maxReplayEntries: 65_536,
  capNoticeIntervalMs: 10_000,
  maxTrackedCircuits: 20_000,
  maxOwners: 100_000,
  ownerMemoryMs: 24 * 3600_000,
  maxKeysPerOwner: 4,
});

export interface ForwarderOptions {
  scheduler: Scheduler;
  /** Sends a PresenceControl notice to the owner's circuit `circuit`. */
  notify: (circuit: string, notice: ControlNotice) => void;
  limits?: Partial<ForwarderLimits>;
}

/** What `bindOwner` did. */
export type BindResult = 'bound' | 'renewed' | 'key-conflict';

/** What `decide` did. */
export type DecideResult = 'ok' | 'not-owner' | 'unknown-handle';

interface Pending {
  readonly handle: number;
  readonly owner: OwnerState;
  readonly from: string;
  readonly envelope: Uint8Array;
  readonly answer: (o: IntroductionOutcome) => void;
  timer: { cancel(): void };
}

interface OwnerState {
  readonly key: string;
  circuit: string | null;
  /** Announcement key (hex) → when last announced. */
  readonly keys: Map<string, number>;
  lastSeen: number;
  maxPending: number;
  perMinute: number;
  bucket: TokenBucket;
  readonly pending: Map<number, Pending>;
  nextHandle: number;
  refused: number;
  lastCapNoticeAt: number | null;
  capTimer: { cancel(): void } | null;
}

interface CircuitState {
  readonly bucket: TokenBucket;
  readonly pending: Set<Pending>;
}

function checkLimit(v: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${String(v)}`);
  }
}

function checkCircuit(v: unknown, name: string): asserts v is string {
  if (typeof v !== 'string' || v.length === 0) throw new TypeError(`${name} must be a non-empty string`);
}

function ownerBucket(perMinute: number, now: number): TokenBucket {
  return new TokenBucket(perMinute / 60, perMinute, now);
}

export class IntroductionForwarder {
  readonly limits: Readonly<ForwarderLimits>;
  private readonly scheduler: Scheduler;
  private readonly notifyOwner: (circuit: string, notice: ControlNotice) => void;
  /** Owner identity (hex) → state, least recently bound first. */
  private readonly owners = new Map<string, OwnerState>();
  /** Announcement key (hex) → owner identity (hex). */
  private readonly keyIndex = new Map<string, string>();
  /** Owner circuit → owner identity (hex). */
  private readonly ownerCircuits = new Map<string, string>();
  /** Introducer circuit → its state, least recently used first. */
  private readonly circuits = new Map<string, CircuitState>();
  /** Introduction id (hex) → when it may be forwarded again, oldest first. */
  private readonly replay = new Map<string, number>();
  private pendingTotal = 0;
  private stopped = false;

  constructor(options: ForwarderOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const { scheduler, notify } = options;
    if (typeof scheduler !== 'object' || scheduler === null || typeof scheduler.setTimeout !== 'function') {
      throw new TypeError('options.scheduler must be a Scheduler');
    }
    if (typeof notify !== 'function') throw new TypeError('options.notify must be a function');
    const limits = options.limits ?? {};
    if (typeof limits !== 'object' || limits === null) throw new TypeError('options.limits must be an object');
    const l = { ...DEFAULT_FORWARDER_LIMITS, ...limits };
    checkLimit(l.maxPendingPerOwner, 'options.limits.maxPendingPerOwner', MIN_MAX_PENDING, MAX_MAX_PENDING);
    checkLimit(l.perMinutePerOwner, 'options.limits.perMinutePerOwner', MIN_PER_MINUTE, MAX_PER_MINUTE);
    checkLimit(l.maxPendingTotal, 'options.limits.maxPendingTotal', 1);
    checkLimit(l.perCircuitPerMinute, 'options.limits.perCircuitPerMinute', 1, 1_000_000);
    checkLimit(l.perCircuitBurst, 'options.limits.perCircuitBurst', 1, 1_000_000);
    checkLimit(l.timeoutMs, 'options.limits.timeoutMs', 1);
    checkLimit(l.replayTtlMs, 'options.limits.replayTtlMs', 0);
    checkLimit(l.maxReplayEntries, 'options.limits.maxReplayEntries', 1);
    checkLimit(l.capNoticeIntervalMs, 'options.limits.capNoticeIntervalMs', 0);
    checkLimit(l.maxTrackedCircuits, 'options.limits.maxTrackedCircuits', 1);
    checkLimit(l.maxOwners, 'options.limits.maxOwners', 1);
    checkLimit(l.ownerMemoryMs, 'options.limits.ownerMemoryMs', 0);
    checkLimit(l.maxKeysPerOwner, 'options.limits.maxKeysPerOwner', 1, 64);
    this.limits = Object.freeze(l);
    this.scheduler = scheduler;
    this.notifyOwner = notify;
  }

  // ---- owners -------------------------------------------------------------------------------

  /**
   * `owner` announced `announcementKey` successfully on `circuit` (which ends here): from now on
   * introductions sealed to that key go to him over it. A different earlier circuit of his stops
   * being his; introductions still pending are offered again on the new one.
   */
  bindOwner(owner: Uint8Array, circuit: string, announcementKey: Uint8Array): BindResult {
    assertBytes(owner, 'owner', 32);
    checkCircuit(circuit, 'circuit');
    assertBytes(announcementKey, 'announcementKey', 32);
    const now = this.scheduler.now();
    const ownerHex = toHex(owner);
    const keyHex = toHex(announcementKey);
    const holder = this.keyIndex.get(keyHex);
    if (holder !== undefined && holder !== ownerHex) {
      const h = this.owners.get(holder);
      if (h && this.remembered(h, now) && h.keys.has(keyHex)) return 'key-conflict';
      this.keyIndex.delete(keyHex);
      if (h) h.keys.delete(keyHex);
    }
    // The circuit may have announced another owner before: it is his no longer.
    const previousOwner = this.ownerCircuits.get(circuit);
    if (previousOwner !== undefined && previousOwner !== ownerHex) {
      const p = this.owners.get(previousOwner);
      if (p) this.ownerGone(p);
    }

    let state = this.owners.get(ownerHex);
    let result: BindResult = 'renewed';
    if (!state) {
      this.makeRoomForOwner(now);
      state = {
        key: ownerHex,
        circuit: null,
        keys: new Map(),
        lastSeen: now,
        maxPending: this.limits.maxPendingPerOwner,
        perMinute: this.limits.perMinutePerOwner,
        bucket: ownerBucket(this.limits.perMinutePerOwner, now),
        pending: new Map(),
        nextHandle: 1,
        refused: 0,
        lastCapNoticeAt: null,
        capTimer: null,
      };
    }
    this.owners.delete(ownerHex);
    this.owners.set(ownerHex, state);
    state.lastSeen = now;
    state.keys.delete(keyHex);
    state.keys.set(keyHex, now);
    this.keyIndex.set(keyHex, ownerHex);
    while (state.keys.size > this.limits.maxKeysPerOwner) {
      const oldest = state.keys.keys().next().value!;
      state.keys.delete(oldest);
      if (this.keyIndex.get(oldest) === ownerHex) this.keyIndex.delete(oldest);
    }
    if (state.circuit !== circuit) {
      result = 'bound';
      if (state.circuit !== null) this.ownerCircuits.delete(state.circuit);
      state.circuit = circuit;
      this.ownerCircuits.set(circuit, ownerHex);
      // What waited for him is offered again on the circuit he now uses.
      for (const p of state.pending.values()) this.send(state, { type: 'introduction', handle: p.handle, envelope: p.envelope });
    }
    return result;
  }

  /** True when `circuit` is an owner's announcing circuit here. */
  isOwnerCircuit(circuit: string): boolean {
    checkCircuit(circuit, 'circuit');
    return this.ownerCircuits.has(circuit);
  }

  /** The owner (identity key) whose announcing circuit `circuit` is, if any. */
  ownerOf(circuit: string): Uint8Array | undefined {
    checkCircuit(circuit, 'circuit');
    const k = this.ownerCircuits.get(circuit);
    return k === undefined ? undefined : fromHex(k);
  }

  /** The live announcing circuit of `owner` here, if any. */
  circuitOf(owner: Uint8Array): string | undefined {
    assertBytes(owner, 'owner', 32);
    return this.owners.get(toHex(owner))?.circuit ?? undefined;
  }

  /** Sets the owner's caps (the owner's 'settings' request). Returns false when `circuit` is no owner's. */
  settings(circuit: string, settings: PresenceSettings): boolean {
    checkCircuit(circuit, 'circuit');
    if (typeof settings !== 'object' || settings === null) throw new TypeError('settings must be an object');
    checkLimit(settings.maxPending, 'settings.maxPending', MIN_MAX_PENDING, MAX_MAX_PENDING);
    checkLimit(settings.perMinute, 'settings.perMinute', MIN_PER_MINUTE, MAX_PER_MINUTE);
    const state = this.ownerByCircuit(circuit);
    if (!state) return false;
    state.maxPending = settings.maxPending;
    if (state.perMinute !== settings.perMinute) {
      const now = this.scheduler.now();
      // The new bucket starts with what was left, so changing the rate does not refill it.
      const left = Math.min(settings.perMinute, state.bucket.available(now));
      state.perMinute = settings.perMinute;
      state.bucket = ownerBucket(settings.perMinute, now);
      state.bucket.take(now, settings.perMinute - left);
    }
    return true;
  }

  /** The owner's decision on introduction `handle`, from his circuit `circuit`. */
  decide(circuit: string, handle: number, accept: boolean): DecideResult {
    checkCircuit(circuit, 'circuit');
    checkLimit(handle, 'handle', 0, 0xffffffff);
    if (typeof accept !== 'boolean') throw new TypeError('accept must be a boolean');
    const state = this.ownerByCircuit(circuit);
    if (!state) return 'not-owner';
    const p = state.pending.get(handle);
    if (!p) return 'unknown-handle';
    this.settle(p, accept ? 'accepted' : 'denied', false);
    return 'ok';
  }

  // ---- introducers --------------------------------------------------------------------------

  /**
   * An introduction `envelope` from circuit `from`. `answer` is called exactly once with the
   * outcome: at once when it is refused, later when the owner decides, it times out, is
   * cancelled, or the owner goes offline. Throws PresenceMessageError for an envelope a presence
   * node must refuse (then nothing changes and `answer` is never called).
   */
  introduce(from: string, envelope: Uint8Array, answer: (outcome: IntroductionOutcome) => void): void {
    checkCircuit(from, 'from');
    assertBytes(envelope, 'envelope');
    if (typeof answer !== 'function') throw new TypeError('answer must be a function');
    const { announcementKey } = parseIntroductionEnvelope(envelope);
    if (this.stopped) return answer('offline');
    const now = this.scheduler.now();

    const circuit = this.circuitState(from, now);
    if (!circuit.bucket.take(now)) return answer('rate-limited');

    const ownerHex = this.keyIndex.get(toHex(announcementKey));
    const owner = ownerHex === undefined ? undefined : this.owners.get(ownerHex);
    if (!owner || !this.remembered(owner, now)) return answer('unknown-recipient');
    if (owner.circuit === null) return answer('offline');

    const id = toHex(sha256(envelope));
    this.pruneReplay(now);
    const until = this.replay.get(id);
    if (until !== undefined && until > now) return answer('replayed');

    if (this.pendingTotal >= this.limits.maxPendingTotal) return answer('busy');
    if (owner.pending.size >= owner.maxPending) {
      this.refuse(owner, now);
      return answer('busy');
    }
    if (!owner.bucket.take(now)) {
      this.refuse(owner, now);
      return answer('rate-limited');
    }

    this.remember(id, now);
    const handle = this.allocateHandle(owner);
    const p: Pending = {
      handle,
      owner,
      from,
      envelope: envelope.slice(),
      answer,
      timer: { cancel: () => undefined },
    };
    owner.pending.set(handle, p);
    circuit.pending.add(p);
    this.pendingTotal++;
    p.timer = this.scheduler.setTimeout(() => this.settle(p, 'timeout', true), this.limits.timeoutMs);
    this.send(owner, { type: 'introduction', handle, envelope: p.envelope });
  }

  /** Cancels every pending introduction from `from` (answered 'cancelled', owners told). Returns how many. */
  cancelFrom(from: string): number {
    checkCircuit(from, 'from');
    const c = this.circuits.get(from);
    if (!c) return 0;
    const list = [...c.pending];
    for (const p of list) this.settle(p, 'cancelled', true);
    return list.length;
  }

  /**
   * A circuit ending here closed. If it was an owner's, he is offline: his pending
   * introductions are answered 'offline'. If it sent introductions, they are cancelled.
   */
  circuitClosed(circuit: string): void {
    checkCircuit(circuit, 'circuit');
    const ownerHex = this.ownerCircuits.get(circuit);
    if (ownerHex !== undefined) {
      const state = this.owners.get(ownerHex);
      if (state) this.ownerGone(state);
      this.ownerCircuits.delete(circuit);
    }
    this.cancelFrom(circuit);
    this.circuits.delete(circuit);
  }

  /** Answers everything pending 'offline' and cancels every timer; later introductions get 'offline'. */
  stop(): void {
    this.stopped = true;
    for (const owner of this.owners.values()) {
      owner.capTimer?.cancel();
      owner.capTimer = null;
      for (const p of [...owner.pending.values()]) this.settle(p, 'offline', false);
    }
  }

  /** Counters for tests and logs (no identities). */
  get stats(): { pending: number; owners: number; liveOwners: number; replayEntries: number; circuits: number } {
    return {
      pending: this.pendingTotal,
      owners: this.owners.size,
      liveOwners: this.ownerCircuits.size,
      replayEntries: this.replay.size,
      circuits: this.circuits.size,
    };
  }

  /** Pending introductions of `owner`. */
  pendingFor(owner: Uint8Array): number {
    assertBytes(owner, 'owner', 32);
    return this.owners.get(toHex(owner))?.pending.size ?? 0;
  }

  /** Forgets owners not seen within `ownerMemoryMs` and expired replay entries. */
  prune(): void {
    const now = this.scheduler.now();
    this.pruneReplay(now);
    for (const state of [...this.owners.values()]) if (!this.remembered(state, now)) this.forgetOwner(state);
  }

  // ---- internals ----------------------------------------------------------------------------

  private ownerByCircuit(circuit: string): OwnerState | undefined {
    const k = this.ownerCircuits.get(circuit);
    return k === undefined ? undefined : this.owners.get(k);
  }

  /** Bound now, or within `ownerMemoryMs` of his last announcement. */
  private remembered(state: OwnerState, now: number): boolean {
    return state.circuit !== null || now - state.lastSeen <= this.limits.ownerMemoryMs;
  }

  /** The owner's circuit is gone: pending introductions are answered 'offline'. */
  private ownerGone(state: OwnerState): void {
    if (state.circuit !== null) this.ownerCircuits.delete(state.circuit);
    state.circuit = null;
    state.lastSeen = this.scheduler.now();
    state.capTimer?.cancel();
    state.capTimer = null;
    for (const p of [...state.pending.values()]) this.settle(p, 'offline', false);
  }

  private forgetOwner(state: OwnerState): void {
    this.ownerGone(state);
    for (const k of state.keys.keys()) if (this.keyIndex.get(k) === state.key) this.keyIndex.delete(k);
    this.owners.delete(state.key);
  }

  private makeRoomForOwner(now: number): void {
    if (this.owners.size < this.limits.maxOwners) return;
    for (const state of [...this.owners.values()]) if (!this.remembered(state, now)) this.forgetOwner(state);
    if (this.owners.size < this.limits.maxOwners) return;
    // Still full: forget the offline owner bound longest ago (live owners are kept).
    for (const state of this.owners.values()) {
      if (state.circuit === null) {
        this.forgetOwner(state);
        return;
      }
    }
  }

  private circuitState(from: string, now: number): CircuitState {
    let c = this.circuits.get(from);
    if (c) {
      this.circuits.delete(from);
      this.circuits.set(from, c);
      return c;
    }
    if (this.circuits.size >= this.limits.maxTrackedCircuits) {
      for (const [k, v] of this.circuits) {
        if (v.pending.size === 0) {
          this.circuits.delete(k);
          break;
        }
      }
    }
    c = {
      bucket: new TokenBucket(this.limits.perCircuitPerMinute / 60, this.limits.perCircuitBurst, now),
      pending: new Set(),
    };
    this.circuits.set(from, c);
    return c;
  }

  private allocateHandle(owner: OwnerState): number {
    for (;;) {
      const h = owner.nextHandle;
      owner.nextHandle = (owner.nextHandle + 1) >>> 0;
      if (!owner.pending.has(h)) return h;
    }
  }

  private remember(id: string, now: number): void {
    this.replay.delete(id);
    while (this.replay.size >= this.limits.maxReplayEntries) this.replay.delete(this.replay.keys().next().value!);
    this.replay.set(id, now + this.limits.replayTtlMs);
  }

  private pruneReplay(now: number): void {
    // One TTL for all, so entries expire in insertion order.
    for (const [id, until] of this.replay) {
      if (until > now) break;
      this.replay.delete(id);
    }
  }

  private settle(p: Pending, outcome: IntroductionOutcome, tellOwner: boolean): void {
    const owner = p.owner;
    if (owner.pending.get(p.handle) !== p) return;
    owner.pending.delete(p.handle);
    this.circuits.get(p.from)?.pending.delete(p);
    this.pendingTotal--;
    p.timer.cancel();
    if (tellOwner && owner.circuit !== null) this.send(owner, { type: 'cancelled', handle: p.handle });
    p.answer(outcome);
  }

  /** Counts a refusal and tells the owner, at most once per `capNoticeIntervalMs`. */
  private refuse(owner: OwnerState, now: number): void {
    owner.refused = Math.min(owner.refused + 1, 0xffffffff);
    if (owner.capTimer !== null) return;
    const due = owner.lastCapNoticeAt === null ? now : owner.lastCapNoticeAt + this.limits.capNoticeIntervalMs;
    if (due <= now) {
      this.sendCapNotice(owner, now);
      return;
    }
    owner.capTimer = this.scheduler.setTimeout(() => {
      owner.capTimer = null;
      if (owner.refused > 0 && owner.circuit !== null) this.sendCapNotice(owner, this.scheduler.now());
    }, due - now);
  }

  private sendCapNotice(owner: OwnerState, now: number): void {
    owner.lastCapNoticeAt = now;
    const refused = owner.refused;
    owner.refused = 0;
    this.send(owner, { type: 'cap-reached', pending: Math.min(owner.pending.size, 0xffff), cap: owner.maxPending, refused });
  }

  private send(owner: OwnerState, notice: ControlNotice): void {
    if (owner.circuit === null) return;
    this.notifyOwner(owner.circuit, notice);
  }
}
