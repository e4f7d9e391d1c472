/**
 * An in-process DHT network for tests and the `dht` benchmark: hundreds to thousands of DHT nodes
 * (node-core/dht DhtNode) over an in-memory transport with a fake clock. Test helper, not a test
 * file.
 *
 * - SimClock: a manual clock with a timer heap. Everything — message delivery, request timeouts —
 *   is a timer; `DhtSim.run(promise)` runs due timers, lets promise reactions settle (one
 *   macrotask per step), then jumps the clock to the next timer, until the promise settles. It
 *   fails after a bounded number of steps, or at once when nothing is left to run.
 * - Transport: every request and answer is encoded with node-core/dht/messages.ts and decoded on
 *   the other side (so nothing unencodable passes), delivered after a per-message latency drawn
 *   from a seeded PRNG. Requests carry the requester's contact; whether the receiver learns from it
 *   is an option (off by default, so routing tables stay as built and runs stay comparable).
 * - Nodes: each has a puzzle-valid identity key (findPuzzleKey with seeded randomness, cached per
 *   seed and difficulty) and, unless `addressOf` says otherwise, its own /16.
 * - Routing tables are filled directly ("converged" tables): for each node, up to k nodes per
 *   bucket, chosen at random among all nodes of that bucket — as a long-running network's tables
 *   would look, without simulating the joins.
 * - Adversaries (a fraction of nodes, chosen at random) collude. Behaviours:
 *     drop         never answers anything;
 *     lie          answers FIND_NODE/FIND_VALUE with the adversarial nodes closest to the target
 *                  (an eclipse attempt), never with records; accepts STOREs and shares what it got;
 *     bad-records  lies about contacts like 'lie', and answers FIND_VALUE with a bad record: an
 *                  older version of the record some adversary captured (replay), or else a forged
 *                  one (a higher sequence with a broken owner signature) or an expired one.
 *   `behaviour: 'mixed'` deals the three behaviours round-robin among the adversaries.
 *
 * The crypto suite is node:crypto's (nodeSuite) for Ed25519 with @noble's SHA-256 (faster for the
 * many short hashes of puzzle checks), randomness from the seeded PRNG, and a memo of Ed25519
 * verifications (the same record is verified by many nodes; the answer cannot change).
 */
import { setImmediate as macrotask } from 'node:timers/promises';
import type { CryptoSuite } from '../../node-core/crypto/api';
import { nobleSuite } from '../../node-core/crypto/noble';
import { nodeSuite } from '../../node-core/io/crypto-node';
import {
  type Contact,
  type DhtMessage,
  type DhtRequest,
  type DhtResponse,
  type DhtRpc,
  DhtNode,
  type DhtNodeOptions,
  type LookupParams,
  type NodeAddress,
  type RecordPolicy,
  type StoreResult,
  type ValueLookupResult,
  type PublishOutcome,
  DEFAULT_MAX_TTL_MS,
  DEFAULT_MAX_VALUE_BYTES,
  MAX_CONTACTS_PER_ANSWER,
  bucketIndex,
  compareDistance,
  decodeDhtMessage,
  encodeDhtMessage,
  findPuzzleKey,
  lookupValue,
  namespaceKeyRule,
  parseRecord,
} from '../../node-core/dht';
import type { Scheduler } from '../../node-core/onion/channel';
import { concatBytes, toHex } from '../../node-core/util/bytes';
import { Prng } from '../fuzz/prng';

// ---- the clock --------------------------------------------------------------------------------

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class SimClock implements Scheduler {
  private clock: number;
  private seq = 0;
  private heap: Timer[] = [];
  /** Timers run so far. */
  tasksRun = 0;

  constructor(start = 1_700_000_000_000) {
    this.clock = start;
  }

  now(): number {
    return this.clock;
  }

  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    if (typeof fn !== 'function') throw new TypeError('fn must be a function');
    if (typeof ms !== 'number' || Number.isNaN(ms)) throw new TypeError('ms must be a number');
    const t: Timer = { at: this.clock + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }

  defer(fn: () => void): void {
    this.setTimeout(fn, 0);
  }

  /** When the earliest live timer is due, or null. */
  nextAt(): number | null {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
    return this.heap.length > 0 ? this.heap[0]!.at : null;
  }

  /** Runs every timer due now (those they add for now too). Returns how many ran. */
  runDue(maxTasks = 10_000_000): number {
    let n = 0;
    for (;;) {
      const next = this.nextAt();
      if (next === null || next > this.clock) return n;
      const t = this.pop()!;
      if (++n > maxTasks) throw new Error(`SimClock: more than ${maxTasks} timers at one instant`);
      this.tasksRun++;
      t.fn();
    }
  }

  /** Moves the clock to `at` (never backwards) without running anything. */
  jumpTo(at: number): void {
    this.clock = Math.max(this.clock, at);
  }

  private less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

export class NotSettledError extends Error {
  override readonly name = 'NotSettledError';
}

/**
 * Runs `clock` until `promise` settles: due timers, then one macrotask so promise reactions run,
 * then a jump to the next timer. Fails after `maxSteps`, or at once when nothing is left to run.
 */
export async function settle<T>(clock: SimClock, promise: Promise<T>, maxSteps = 2_000_000): Promise<T> {
  type State = { done: false } | { done: true; ok: true; value: T } | { done: true; ok: false; error: unknown };
  const box: { state: State } = { state: { done: false } };
  promise.then(
    (value) => (box.state = { done: true, ok: true, value }),
    (error: unknown) => (box.state = { done: true, ok: false, error }),
  );
  for (let step = 0; step < maxSteps; step++) {
    clock.runDue();
    await macrotask();
    const s = box.state;
    if (s.done) {
      if (s.ok) return s.value;
      throw s.error;
    }
    const next = clock.nextAt();
    if (next === null) throw new NotSettledError('the network is idle, no timer is left, and the promise has not settled');
    clock.jumpTo(next);
  }
  throw new NotSettledError(`the promise did not settle within ${maxSteps} steps`);
}

// ---- crypto -----------------------------------------------------------------------------------

/** The simulation's suite: see the header. Not for anything but simulations. */
export function simSuite(prng: Prng): CryptoSuite {
  const memo = new Map<string, boolean>();
  return {
    ...nodeSuite,
    sha256: nobleSuite.sha256,
    randomBytes: (n: number) => prng.bytes(n),
    ed25519Verify(signature, message, publicKey) {
      const key = toHex(signature) + toHex(message) + toHex(publicKey);
      let v = memo.get(key);
      if (v === undefined) {
        v = nodeSuite.ed25519Verify(signature, message, publicKey);
        if (memo.size > 500_000) memo.clear();
        memo.set(key, v);
      }
      return v;
    },
  };
}

export interface SimKey {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly nodeId: Uint8Array;
}

const keyCache = new Map<string, SimKey[]>();

/** `count` puzzle-valid identity keys for difficulty `c1`, deterministic in `seed` (cached). */
export function simKeys(count: number, c1: number, seed: number): SimKey[] {
  const id = `${c1}:${seed}`;
  let keys = keyCache.get(id);
  if (keys === undefined) {
    keys = [];
    keyCache.set(id, keys);
  }
  while (keys.length < count) {
    // One PRNG per key index, so key i is the same whatever was asked for before.
    const prng = new Prng((Math.imul(seed, 0x01000193) ^ Math.imul(keys.length + 1, 0x9e3779b1)) >>> 0);
    const k = findPuzzleKey(simSuite(prng), c1);
    keys.push({ secretKey: k.secretKey, publicKey: k.publicKey, nodeId: k.nodeId });
  }
  return keys.slice(0, count);
}

// ---- the network ------------------------------------------------------------------------------

export type Behaviour = 'honest' | 'drop' | 'lie' | 'bad-records';

export interface SimOptions {
  readonly nodes: number;
  /** Puzzle difficulty c1 (default 4 to keep key generation quick). */
  readonly puzzleBits?: number;
  readonly seed?: number;
  /** Fraction of adversarial nodes, 0..1 (default 0). */
  readonly adversarial?: number;
  /** What adversaries do (default 'mixed'). */
  readonly behaviour?: Exclude<Behaviour, 'honest'> | 'mixed';
  readonly k?: number;
  /** Defaults for lookups started through the sim. */
  readonly lookup?: LookupParams;
  /** One-way latency bounds in ms (default 5..50). */
  readonly latencyMs?: readonly [number, number];
  /** Address of node i (default: 1.0.0.1 + i·/16, i.e. a distinct /16 per node). */
  readonly addressOf?: (i: number) => NodeAddress;
  /** Receivers learn requesters' contacts (default false). */
  readonly learn?: boolean;
  /** Namespaces of the key rule (default ['presence', 'sim']). */
  readonly namespaces?: readonly string[];
  /** Extra routing-table and store options for every node. */
  readonly table?: DhtNodeOptions['table'];
  readonly store?: DhtNodeOptions['store'];
}

export interface SimNode {
  readonly index: number;
  readonly key: SimKey;
  readonly contact: Contact;
  readonly behaviour: Behaviour;
  readonly dht: DhtNode;
}

/** Default address of node i: its own /16 (1.0.0.1, 1.1.0.1, …, 1.255.0.1, 2.0.0.1, …). */
export function distinctSubnetAddress(i: number): NodeAddress {
  return { host: `${1 + (i >> 8)}.${i & 255}.0.1`, port: 7000 };
}

export class DhtSim {
  readonly clock = new SimClock();
  readonly prng: Prng;
  readonly suite: CryptoSuite;
  readonly nodes: SimNode[] = [];
  readonly honest: SimNode[] = [];
  readonly adversaries: SimNode[] = [];
  readonly puzzleBits: number;
  readonly policy: RecordPolicy;
  readonly k: number;
  /** Requests delivered to a node (answered or not). */
  requestsDelivered = 0;
  private readonly byId = new Map<string, SimNode>();
  private readonly identities = new Set<string>();
  private readonly latency: readonly [number, number];
  private readonly learn: boolean;
  private readonly lookupDefaults: LookupParams;
  private readonly nodeOptions: Pick<SimOptions, 'table' | 'store'>;
  /** What the colluding adversaries captured from STOREs: key hex → signed records. */
  private readonly captured = new Map<string, Uint8Array[]>();

  constructor(options: SimOptions) {
    const seed = options.seed ?? 1;
    this.prng = new Prng(seed);
    this.suite = simSuite(this.prng);
    this.puzzleBits = options.puzzleBits ?? 4;
    this.k = options.k ?? 20;
    this.latency = options.latencyMs ?? [5, 50];
    this.learn = options.learn ?? false;
    this.lookupDefaults = { k: this.k, ...options.lookup };
    this.nodeOptions = { table: options.table, store: options.store };
    const identities = this.identities;
    this.policy = {
      maxTtlMs: DEFAULT_MAX_TTL_MS,
      maxValueBytes: DEFAULT_MAX_VALUE_BYTES,
      keyRule: namespaceKeyRule(this.suite, options.namespaces ?? ['presence', 'sim']),
      isDhtNode: (key) => identities.has(toHex(key)),
    };
    const keys = simKeys(options.nodes, this.puzzleBits, seed);
    const addressOf = options.addressOf ?? distinctSubnetAddress;
    const adversarialCount = Math.round((options.adversarial ?? 0) * options.nodes);
    const order = keys.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = this.prng.below(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const adversarial = new Set(order.slice(0, adversarialCount));
    const kinds: Exclude<Behaviour, 'honest'>[] = ['lie', 'drop', 'bad-records'];
    let dealt = 0;
    keys.forEach((key, index) => {
      let behaviour: Behaviour = 'honest';
      if (adversarial.has(index)) {
        const b = options.behaviour ?? 'mixed';
        behaviour = b === 'mixed' ? kinds[dealt++ % kinds.length]! : b;
      }
      const node = this.makeNode(index, key, addressOf(index), behaviour);
      this.nodes.push(node);
      (behaviour === 'honest' ? this.honest : this.adversaries).push(node);
      this.byId.set(toHex(node.contact.nodeId), node);
      this.identities.add(toHex(key.publicKey));
    });
    this.fillTables();
  }

  private makeNode(index: number, key: SimKey, address: NodeAddress, behaviour: Behaviour): SimNode {
    const holder: { node?: SimNode } = {};
    const dht = new DhtNode({
      suite: this.suite,
      scheduler: this.clock,
      identitySecretKey: key.secretKey,
      addresses: [address],
      puzzleBits: this.puzzleBits,
      policy: this.policy,
      rpc: this.rpcFor(() => holder.node!),
      table: { ...this.nodeOptions.table, k: this.k },
      store: this.nodeOptions.store,
      lookup: this.lookupDefaults,
    });
    const node: SimNode = { index, key, contact: dht.contact, behaviour, dht };
    holder.node = node;
    return node;
  }

  /** Converged tables: per node and bucket, up to k random nodes of that bucket. */
  private fillTables(): void {
    for (const node of this.nodes) {
      const buckets = new Map<number, SimNode[]>();
      for (const other of this.nodes) {
        if (other === node) continue;
        const b = bucketIndex(node.contact.nodeId, other.contact.nodeId);
        let list = buckets.get(b);
        if (list === undefined) buckets.set(b, (list = []));
        list.push(other);
      }
      const now = this.clock.now();
      for (const list of buckets.values()) {
        for (let i = list.length - 1; i > 0; i--) {
          const j = this.prng.below(i + 1);
          [list[i], list[j]] = [list[j]!, list[i]!];
        }
        let added = 0;
        for (const other of list) {
          if (added >= this.k) break;
          const r = node.dht.table.offer(other.contact, now);
          if (r.kind === 'added') added++;
        }
      }
    }
  }

  node(index: number): SimNode {
    const n = this.nodes[index];
    if (n === undefined) throw new RangeError(`no node ${index}`);
    return n;
  }

  /** A random honest node. */
  randomHonest(): SimNode {
    return this.prng.pick(this.honest);
  }

  private delay(): number {
    return this.prng.int(this.latency[0], this.latency[1]);
  }

  /** The DhtRpc a node uses: messages encoded, delivered after a latency, answers decoded. */
  private rpcFor(self: () => SimNode): DhtRpc {
    const call = (peer: Contact, request: DhtRequest): Promise<DhtResponse> =>
      new Promise<DhtResponse>((resolve, reject) => {
        const from = self();
        const wire = encodeDhtMessage(request);
        this.clock.setTimeout(() => {
          const to = this.byId.get(toHex(peer.nodeId));
          if (to === undefined) return; // nobody there: silence
          this.requestsDelivered++;
          const decoded = decodeDhtMessage(wire) as DhtRequest;
          const answer = this.answer(to, from, decoded);
          if (answer === null) return;
          const back = encodeDhtMessage(answer);
          this.clock.setTimeout(() => {
            let m: DhtMessage;
            try {
              m = decodeDhtMessage(back);
            } catch (e) {
              reject(e as Error);
              return;
            }
            resolve(m as DhtResponse);
          }, this.delay());
        }, this.delay());
      });
    return {
      findNode: async (peer, target) => {
        const m = await call(peer, { type: 'find-node', target, sender: self().contact });
        if (m.type !== 'nodes') throw new Error(`unexpected answer ${m.type}`);
        return m.contacts;
      },
      findValue: async (peer, key) => {
        const m = await call(peer, { type: 'find-value', key, sender: self().contact });
        if (m.type !== 'value') throw new Error(`unexpected answer ${m.type}`);
        return { records: m.records, contacts: m.contacts };
      },
      store: async (peer, record) => {
        const m = await call(peer, { type: 'store', record, sender: self().contact });
        if (m.type !== 'store-result') throw new Error(`unexpected answer ${m.type}`);
        return m.result;
      },
      ping: async (peer) => {
        const nonce = this.prng.bytes(8);
        const m = await call(peer, { type: 'ping', nonce, sender: self().contact });
        return m.type === 'pong' && toHex(m.nonce) === toHex(nonce);
      },
    };
  }

  /** What `to` answers to `request` from `from` (null: no answer). */
  private answer(to: SimNode, from: SimNode, request: DhtRequest): DhtResponse | null {
    switch (to.behaviour) {
      case 'honest':
        return to.dht.handle(request, this.learn ? from.contact.identityKey : null);
      case 'drop':
        return null;
      case 'lie':
      case 'bad-records':
        return this.adversarialAnswer(to, request);
    }
  }

  /** The adversarial nodes closest to `target` (what colluders claim are the closest nodes). */
  private adversarialContacts(target: Uint8Array, exclude: SimNode): Contact[] {
    return this.adversaries
      .filter((a) => a !== exclude)
      .map((a) => a.contact)
      .sort((a, b) => compareDistance(target, a.nodeId, b.nodeId))
      .slice(0, Math.min(this.k, MAX_CONTACTS_PER_ANSWER));
  }

  private adversarialAnswer(to: SimNode, request: DhtRequest): DhtResponse {
    switch (request.type) {
      case 'ping':
        return { type: 'pong', nonce: request.nonce };
      case 'find-node':
        return { type: 'nodes', contacts: this.adversarialContacts(request.target, to) };
      case 'store': {
        const key = toHex(parseRecord(request.record).claimed.key);
        const list = this.captured.get(key) ?? [];
        if (!list.some((r) => toHex(r) === toHex(request.record))) list.push(request.record);
        this.captured.set(key, list);
        return { type: 'store-result', result: { ok: true, status: 'stored' } };
      }
      case 'find-value': {
        const contacts = this.adversarialContacts(request.key, to);
        if (to.behaviour === 'lie') return { type: 'value', records: [], contacts };
        return { type: 'value', records: [this.badRecord(request.key)], contacts };
      }
    }
  }

  /** A replay of the oldest captured version, else a forged or an expired record for `key`. */
  private badRecord(key: Uint8Array): Uint8Array {
    const captured = this.captured.get(toHex(key)) ?? [];
    if (captured.length > 0) {
      const oldest = captured
        .map((b) => ({ b, seq: parseRecord(b).claimed.sequence }))
        .sort((x, y) => (x.seq < y.seq ? -1 : x.seq > y.seq ? 1 : 0))[0]!;
      const newest = captured.reduce((m, b) => (parseRecord(b).claimed.sequence > m ? parseRecord(b).claimed.sequence : m), 0n);
      if (oldest.seq < newest) return oldest.b; // a valid, older version: 'replayed'
      return this.prng.below(2) === 0 ? forge(oldest.b) : expire(oldest.b);
    }
    // Nothing captured: a structurally valid record under the key with garbage signatures.
    return garbageRecord(key, this.clock.now(), this.prng);
  }

  /** Runs the network until `promise` settles (bounded). */
  run<T>(promise: Promise<T>, maxSteps?: number): Promise<T> {
    return settle(this.clock, promise, maxSteps);
  }

  /** `publisher` co-signs and publishes an owner-signed record (lookup with d = 4 unless given). */
  publish(publisher: SimNode, ownerSigned: Uint8Array, params?: LookupParams): Promise<PublishOutcome> {
    return this.run(publisher.dht.publish(ownerSigned, params));
  }

  /** A FIND_VALUE lookup from `from` that leaves routing tables untouched (for comparable runs). */
  lookup(from: SimNode, key: Uint8Array, params?: LookupParams): Promise<ValueLookupResult> {
    return this.run(this.lookupValue(from, key, params));
  }

  /** The lookup promise itself, for running many at once inside one `run`. */
  lookupValue(from: SimNode, key: Uint8Array, params?: LookupParams): Promise<ValueLookupResult> {
    const p = { ...this.lookupDefaults, ...params };
    return lookupValue(
      {
        suite: this.suite,
        rpc: this.rpcFor(() => from),
        scheduler: this.clock,
        puzzleBits: this.puzzleBits,
        seeds: from.dht.table.closest(key, p.k ?? this.k),
        selfId: from.contact.nodeId,
        params: p,
      },
      key,
      this.policy,
    );
  }

  /** Nodes (honest and not) holding a valid record under `key` in their store. */
  holders(key: Uint8Array): SimNode[] {
    return this.nodes.filter((n) => n.dht.store.get(key, this.clock.now()).length > 0);
  }

  /** The k nodes closest to `key` in the whole network. */
  trueClosest(key: Uint8Array, n = this.k): SimNode[] {
    return [...this.nodes].sort((a, b) => compareDistance(key, a.contact.nodeId, b.contact.nodeId)).slice(0, n);
  }
}

// ---- bad records ------------------------------------------------------------------------------

/** The same record claiming a higher sequence: the owner signature no longer verifies. */
function forge(signed: Uint8Array): Uint8Array {
  const out = signed.slice();
  // sequence is at offset 1 + 32 + 32; bump its lowest byte (carry ignored: any change breaks it).
  out[72] = (out[72]! + 1) & 0xff;
  return out;
}

/** The same record with an expiry in the past (signatures break too; it fails as 'expired' first). */
function expire(signed: Uint8Array): Uint8Array {
  const out = signed.slice();
  out.fill(0, 73, 81);
  out[80] = 1;
  return out;
}

function garbageRecord(key: Uint8Array, now: number, prng: Prng): Uint8Array {
  const w: Uint8Array[] = [Uint8Array.of(1), key, prng.bytes(32)];
  const u64 = (v: bigint): Uint8Array => {
    const b = new Uint8Array(8);
    for (let i = 7; i >= 0; i--) {
      b[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return b;
  };
  w.push(u64(1_000_000n), u64(BigInt(now + 3_600_000)), Uint8Array.of(0, 4), prng.bytes(4), prng.bytes(64));
  w.push(u64(BigInt(now)), prng.bytes(32), prng.bytes(64));
  return concatBytes(...w);
}
