/**
 * An in-memory network for the onion layer: a fake clock, in-memory cell channels and nodes and
 * clients wired the way node-core/io/node/node.ts and node-core/io/client/onion-client.ts wire
 * them, all in one process, so tests can build circuits through many nodes, stall or close links,
 * flood nodes and inspect every cell without sockets, real timers or wall-clock waits.
 *
 * - FakeScheduler: a manual clock. `setTimeout` queues timers that run only when the clock is
 *   advanced past them; `defer` queues work that runs on `runUntilIdle()` (and inside `advance`).
 * - MemChannel: one end of an in-memory link. `send` encodes the cell to its wire bytes (so
 *   nothing unencodable passes), and delivers the decoded copy to the other end through
 *   `defer`, one cell per task, so order is preserved and a burst of cells sent in one task
 *   piles up in the link exactly as it would in a socket buffer. A high-water mark makes `send`
 *   return false and a later drain is reported to the owner; `pause()` stalls a direction as a
 *   peer that stops reading would. `close()` closes both ends and tells both owners.
 * - MemNode: an OnionRelay + MessageRouter + CircuitClient with fresh identity and onion keys;
 *   its links to other nodes are authenticated (peerIdentity set on both ends).
 * - MemClient: a CircuitClient (+ CircuitManager) whose links to entry nodes are anonymous.
 * - MemNet.until(promise): runs the network (deferred work, microtasks, then the clock, timer
 *   by timer) until the promise settles and the network is quiet; fails after a bounded number
 *   of steps, or at once when nothing is left to run.
 */
import { setImmediate as macrotask } from 'node:timers/promises';
import { type Cell, CellCommand, decodeCell, encodeCell, NEED_MORE } from '../../node-core/cell';
import type { CryptoSuite } from '../../node-core/crypto/api';
import { nobleSuite } from '../../node-core/crypto/noble';
import { MessageRouter } from '../../node-core/message/router';
import type { CellChannel, NodeTarget, Observer, Scheduler } from '../../node-core/onion/channel';
import { CircuitClient } from '../../node-core/onion/client';
import { CircuitManager, type CircuitManagerOptions } from '../../node-core/onion/manager';
import { OnionRelay, type OpenChannelRequest, type RelayLimits } from '../../node-core/onion/relay';
import { equalBytes, toHex } from '../../node-core/util/bytes';

// ---- the clock --------------------------------------------------------------------------------

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

export class FakeScheduler implements Scheduler {
  private clock: number;
  private seq = 0;
  private timers: Timer[] = [];
  private deferred: (() => void)[] = [];
  private head = 0;
  /** Tasks run so far (deferred work and timers). */
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
    const timer: Timer = { at: this.clock + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return {
      cancel: () => {
        const i = this.timers.indexOf(timer);
        if (i >= 0) this.timers.splice(i, 1);
      },
    };
  }

  defer(fn: () => void): void {
    if (typeof fn !== 'function') throw new TypeError('fn must be a function');
    this.deferred.push(fn);
  }

  /** Timers not yet run. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Deferred tasks not yet run. */
  get pendingDeferred(): number {
    return this.deferred.length - this.head;
  }

  /** True if something can run without moving the clock. */
  hasWork(): boolean {
    return this.pendingDeferred > 0 || this.dueTimer() !== null;
  }

  /** When the earliest timer is due, or null when there is none. */
  nextTimerAt(): number | null {
    let best: Timer | null = null;
    for (const t of this.timers) if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    return best ? best.at : null;
  }

  /**
   * Runs deferred work and timers that are due, without moving the clock, until nothing is left.
   * Throws if more than `maxTasks` run (a livelock); an exception from a task propagates.
   */
  runUntilIdle(maxTasks = 2_000_000): number {
    let n = 0;
    for (;;) {
      if (++n > maxTasks) throw new Error(`FakeScheduler: more than ${maxTasks} tasks without becoming idle`);
      if (this.head < this.deferred.length) {
        const fn = this.deferred[this.head++]!;
        if (this.head > 4096 && this.head * 2 > this.deferred.length) {
          this.deferred = this.deferred.slice(this.head);
          this.head = 0;
        }
        this.tasksRun++;
        fn();
        continue;
      }
      const due = this.dueTimer();
      if (!due) return n - 1;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.tasksRun++;
      due.fn();
    }
  }

  /** Moves the clock forward by `ms`, running every timer that falls due on the way (in order). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ms must be a non-negative number, got ${ms}`);
    const target = this.clock + ms;
    for (;;) {
      this.runUntilIdle();
      const next = this.nextTimerAt();
      if (next === null || next > target) break;
      this.clock = Math.max(this.clock, next);
    }
    this.clock = target;
    this.runUntilIdle();
  }

  /** Moves the clock to `at` (not backwards) without running anything. */
  jumpTo(at: number): void {
    this.clock = Math.max(this.clock, at);
  }

  private dueTimer(): Timer | null {
    let best: Timer | null = null;
    for (const t of this.timers) {
      if (t.at > this.clock) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

// ---- channels ---------------------------------------------------------------------------------

/** Who gets a channel end's events (a node or a client). */
export interface ChannelOwner {
  onCell(ch: MemChannel, cell: Cell): void;
  onChannelDrain(ch: MemChannel): void;
  onChannelClosed(ch: MemChannel): void;
}

export interface ChannelEndSpec {
  owner: ChannelOwner;
  /** What this end knows of the peer's identity (null: the peer is an anonymous client). */
  peerIdentity: Uint8Array | null;
  /** The address the peer appears to come from. */
  remoteIp: string;
  /** Cells this end may have waiting in the link before `send` returns false. */
  highWaterMark?: number;
}

let nextChannelId = 1;

/** One end of an in-memory link. Cells sent here are delivered to `peer`. */
export class MemChannel implements CellChannel {
  readonly id = nextChannelId++;
  readonly peerIdentity: Uint8Array | null;
  readonly remoteIp: string;
  readonly owner: ChannelOwner;
  inUse = 0;
  peer!: MemChannel;
  /** Cells this end sent, in order, as the peer will decode them. */
  readonly log: Cell[] = [];
  /** Keep `log` (off for bulk traffic if memory matters). */
  logging = true;
  highWaterMark: number;
  /** The most cells that ever waited in this direction of the link. */
  maxBuffered = 0;
  closeReason: string | null = null;
  private open = true;
  private paused = false;
  private readonly buffer: Cell[] = [];
  private blocked = false;

  constructor(
    private readonly sched: FakeScheduler,
    readonly initiatedByUs: boolean,
    spec: ChannelEndSpec,
  ) {
    this.owner = spec.owner;
    this.peerIdentity = spec.peerIdentity;
    this.remoteIp = spec.remoteIp;
    this.highWaterMark = spec.highWaterMark ?? 10_000;
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Cells sent from this end and not yet delivered to the peer. */
  get buffered(): number {
    return this.buffer.length;
  }

  send(cell: Cell): boolean {
    if (!this.open) return false;
    // Through the wire format and back: what the peer gets is exactly what a socket would carry.
    const decoded = decodeCell(encodeCell(cell));
    if (decoded === NEED_MORE) throw new Error('MemChannel: a whole cell did not decode');
    const wire = decoded.cell;
    if (this.logging) this.log.push(wire);
    this.buffer.push(wire);
    this.maxBuffered = Math.max(this.maxBuffered, this.buffer.length);
    if (!this.paused) this.sched.defer(() => this.deliverOne());
    if (this.buffer.length >= this.highWaterMark) {
      this.blocked = true;
      return false;
    }
    return true;
  }

  /** Stops delivering cells sent from this end (the peer stopped reading). */
  pause(): void {
    this.paused = true;
  }

  /** Delivers what waited and continues normally. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (let i = 0; i < this.buffer.length; i++) this.sched.defer(() => this.deliverOne());
  }

  /** Closes both ends; both owners hear of it in a later task. Undelivered cells are lost. */
  close(reason: string): void {
    if (!this.open) return;
    for (const end of [this, this.peer]) {
      end.open = false;
      end.closeReason = reason;
      end.buffer.length = 0;
    }
    this.sched.defer(() => this.owner.onChannelClosed(this));
    this.sched.defer(() => this.peer.owner.onChannelClosed(this.peer));
  }

  /** Cells of `command` this end sent (all if omitted). */
  sent(command?: CellCommand): Cell[] {
    return command === undefined ? [...this.log] : this.log.filter((c) => c.command === command);
  }

  private deliverOne(): void {
    if (this.paused || !this.open) return;
    const cell = this.buffer.shift();
    if (!cell) return;
    this.peer.owner.onCell(this.peer, cell);
    if (this.blocked && this.open && this.buffer.length <= Math.floor(this.highWaterMark / 2)) {
      this.blocked = false;
      this.owner.onChannelDrain(this);
    }
  }
}

/** A connected pair: `a` is the initiator's end, `b` the responder's. */
export function channelPair(sched: FakeScheduler, a: ChannelEndSpec, b: ChannelEndSpec): [MemChannel, MemChannel] {
  const ea = new MemChannel(sched, true, a);
  const eb = new MemChannel(sched, false, b);
  ea.peer = eb;
  eb.peer = ea;
  return [ea, eb];
}

// ---- nodes and clients ----------------------------------------------------------------------------

export class ConnectError extends Error {
  override readonly name = 'ConnectError';
  constructor(
    readonly code: 'connect-failed',
    message: string,
  ) {
    super(message);
  }
}

export interface MemNodeOptions {
  /** The node's advertised IPv4 address (default 10.<n>.0.1). */
  host?: string;
  limits?: Partial<RelayLimits>;
  /** Record what the relay sees (Observer events) in `observations`. */
  observe?: boolean;
  name?: string;
}

/** An onion node: relays circuits, answers application messages, builds its own circuits. */
export class MemNode implements ChannelOwner {
  readonly name: string;
  readonly secretKey: Uint8Array;
  readonly identity: Uint8Array;
  readonly onionSecret: Uint8Array;
  readonly onionPublic: Uint8Array;
  readonly host: string;
  readonly router: MessageRouter;
  readonly relay: OnionRelay;
  readonly client: CircuitClient;
  readonly observations: Record<string, unknown>[] = [];
  readonly events: { type: string; reason?: string; detail?: string }[] = [];
  /** Authenticated links to other nodes, by the peer's identity (hex). */
  readonly links = new Map<string, MemChannel>();
  /** Every channel end this node owns, open or closed. */
  readonly ends: MemChannel[] = [];
  /** A node that is down refuses connections. */
  down = false;

  constructor(
    readonly net: MemNet,
    opts: MemNodeOptions = {},
  ) {
    const suite = net.suite;
    const n = net.nodes.length + 1;
    this.name = opts.name ?? `n${n}`;
    this.host = opts.host ?? `10.${n}.0.1`;
    this.secretKey = suite.randomBytes(32);
    this.identity = suite.ed25519PublicKey(this.secretKey);
    this.onionSecret = suite.randomBytes(32);
    this.onionPublic = suite.x25519PublicKey(this.onionSecret);
    this.router = new MessageRouter();
    const observer: Observer | undefined = opts.observe ? { record: (e) => this.observations.push(e) } : undefined;
    this.relay = new OnionRelay({
      suite,
      identity: this.identity,
      onionKeys: () => [{ secret: this.onionSecret, public: this.onionPublic }],
      scheduler: net.sched,
      openChannel: (req) => this.openChannel(req),
      app: this.router,
      ...(opts.limits ? { limits: opts.limits } : {}),
      ...(observer ? { observer } : {}),
      onEvent: (e) => this.events.push(e),
    });
    this.client = new CircuitClient({
      suite,
      scheduler: net.sched,
      connect: (t) => this.openChannel({ identity: t.identity, addresses: t.addresses }),
    });
  }

  get target(): NodeTarget {
    return { identity: this.identity, onionKey: this.onionPublic, addresses: [{ host: this.host, port: 443 }] };
  }

  get hex(): string {
    return toHex(this.identity);
  }

  /** An authenticated channel to another node: an open link is reused, else one is made. */
  async openChannel(req: OpenChannelRequest): Promise<CellChannel> {
    const k = toHex(req.identity);
    const open = this.links.get(k);
    if (open?.isOpen) return open;
    const peer = this.net.nodeByIdentity(req.identity);
    this.net.connectAttempts.push({ from: this.name, to: peer?.name ?? k });
    if (!peer || peer.down || this.down) throw new ConnectError('connect-failed', `cannot connect to ${peer?.name ?? 'an unknown node'}`);
    const [mine, theirs] = channelPair(
      this.net.sched,
      { owner: this, peerIdentity: peer.identity, remoteIp: peer.host },
      { owner: peer, peerIdentity: this.identity, remoteIp: this.host },
    );
    this.adopt(mine);
    peer.adopt(theirs);
    return mine;
  }

  /** @internal Registers a channel end this node owns. */
  adopt(ch: MemChannel): void {
    this.ends.push(ch);
    this.net.channels.push(ch);
    if (ch.peerIdentity && this.net.nodeByIdentity(ch.peerIdentity)) {
      const k = toHex(ch.peerIdentity);
      if (!this.links.get(k)?.isOpen) this.links.set(k, ch);
    }
  }

  /** The open link from this node to `other` (this node's end). */
  linkTo(other: MemNode): MemChannel | undefined {
    const ch = this.links.get(other.hex);
    return ch?.isOpen ? ch : undefined;
  }

  /** Open channel ends towards clients (anonymous peers). */
  get clientEnds(): MemChannel[] {
    return this.ends.filter((e) => e.isOpen && e.peerIdentity === null);
  }

  /** The node dies: every link closes and new connections are refused. */
  kill(): void {
    this.down = true;
    for (const e of this.ends) e.close('node down');
  }

  onCell(ch: MemChannel, cell: Cell): void {
    // As node-core/io/node/node.ts routes: our own circuits first, else the relay.
    if (this.client.owns(ch, cell.circId)) this.client.onCell(ch, cell);
    else this.relay.onCell(ch, cell);
  }

  onChannelDrain(ch: MemChannel): void {
    this.relay.onChannelDrain(ch);
    this.client.onChannelDrain(ch);
  }

  onChannelClosed(ch: MemChannel): void {
    if (ch.peerIdentity) {
      const k = toHex(ch.peerIdentity);
      if (this.links.get(k) === ch) this.links.delete(k);
    }
    this.relay.onChannelClosed(ch);
    this.client.onChannelClosed(ch);
  }
}

export interface MemClientOptions {
  /** The address the client's links come from (default 192.168.<n>.2). */
  ip?: string;
  manager?: Partial<Omit<CircuitManagerOptions, 'client' | 'suite'>>;
  /** High-water mark of the client's ends of its links. */
  highWaterMark?: number;
  /** A suite for the manager's path choices (default the network's). */
  managerSuite?: CryptoSuite;
}

/** A client: anonymous links to entry nodes, circuits over them, a circuit manager. */
export class MemClient implements ChannelOwner {
  readonly ip: string;
  readonly circuits: CircuitClient;
  readonly manager: CircuitManager;
  readonly links = new Map<string, MemChannel>();
  /** Cells that arrived for no circuit of ours (answers to hand-made cells). */
  readonly stray: { ch: MemChannel; cell: Cell }[] = [];
  readonly managerEvents: { type: string; circuit?: number; error?: string }[] = [];

  constructor(
    readonly net: MemNet,
    private readonly opts: MemClientOptions = {},
  ) {
    this.ip = opts.ip ?? `192.168.${net.clients.length + 1}.2`;
    this.circuits = new CircuitClient({ suite: net.suite, scheduler: net.sched, connect: (t) => this.connect(t) });
    this.manager = new CircuitManager({
      client: this.circuits,
      suite: opts.managerSuite ?? net.suite,
      nodes: () => net.targets(),
      onEvent: (e) => this.managerEvents.push(e),
      ...opts.manager,
    });
  }

  /** An anonymous channel to the node `t` names: an open one is reused, else one is made. */
  async connect(t: NodeTarget): Promise<MemChannel> {
    const k = toHex(t.identity);
    const open = this.links.get(k);
    if (open?.isOpen) return open;
    const node = this.net.nodeByIdentity(t.identity);
    this.net.connectAttempts.push({ from: this.ip, to: node?.name ?? k });
    if (!node || node.down) throw new ConnectError('connect-failed', `cannot connect to ${node?.name ?? 'an unknown node'}`);
    const [mine, theirs] = channelPair(
      this.net.sched,
      {
        owner: this,
        peerIdentity: node.identity,
        remoteIp: node.host,
        ...(this.opts.highWaterMark ? { highWaterMark: this.opts.highWaterMark } : {}),
      },
      { owner: node, peerIdentity: null, remoteIp: this.ip },
    );
    this.net.channels.push(mine);
    node.adopt(theirs);
    this.links.set(k, mine);
    return mine;
  }

  /** A new anonymous link to `node` (not shared with circuits built by `build`). */
  newLink(node: MemNode): MemChannel {
    const [mine, theirs] = channelPair(
      this.net.sched,
      { owner: this, peerIdentity: node.identity, remoteIp: node.host },
      { owner: node, peerIdentity: null, remoteIp: this.ip },
    );
    this.net.channels.push(mine);
    node.adopt(theirs);
    return mine;
  }

  onCell(ch: MemChannel, cell: Cell): void {
    if (this.circuits.owns(ch, cell.circId)) this.circuits.onCell(ch, cell);
    else this.stray.push({ ch, cell });
  }

  onChannelDrain(ch: MemChannel): void {
    this.circuits.onChannelDrain(ch);
  }

  onChannelClosed(ch: MemChannel): void {
    for (const [k, v] of this.links) if (v === ch) this.links.delete(k);
    this.circuits.onChannelClosed(ch);
  }
}

// ---- the network -----------------------------------------------------------------------------------

export class NotSettledError extends Error {
  override readonly name = 'NotSettledError';
}

export class MemNet {
  readonly sched = new FakeScheduler();
  readonly nodes: MemNode[] = [];
  readonly clients: MemClient[] = [];
  /** Every channel end created, in order (node ends and client ends). */
  readonly channels: MemChannel[] = [];
  /** Every connection attempt: who dialled whom. */
  readonly connectAttempts: { from: string; to: string }[] = [];

  constructor(readonly suite: CryptoSuite = nobleSuite) {}

  addNode(opts?: MemNodeOptions): MemNode {
    const n = new MemNode(this, opts);
    this.nodes.push(n);
    return n;
  }

  addNodes(count: number, opts?: MemNodeOptions): MemNode[] {
    return Array.from({ length: count }, () => this.addNode(opts));
  }

  addClient(opts?: MemClientOptions): MemClient {
    const c = new MemClient(this, opts);
    this.clients.push(c);
    return c;
  }

  /** The directory: every node that is up. */
  targets(): NodeTarget[] {
    return this.nodes.filter((n) => !n.down).map((n) => n.target);
  }

  nodeByIdentity(identity: Uint8Array): MemNode | undefined {
    const k = toHex(identity);
    return this.nodes.find((n) => n.hex === k);
  }

  /**
   * Runs the network until `promise` settles and nothing more can run without moving the
   * clock; between rounds, lets microtasks run; when only timers are left, moves the clock to
   * the next one. Fails after `maxSteps` rounds, or at once when the network is idle with no
   * timer left and the promise still pending.
   */
  async until<T>(promise: Promise<T>, maxSteps = 20_000): Promise<T> {
    type State = { done: false } | { done: true; ok: true; value: T } | { done: true; ok: false; error: unknown };
    const box: { state: State } = { state: { done: false } };
    promise.then(
      (value) => (box.state = { done: true, ok: true, value }),
      (error: unknown) => (box.state = { done: true, ok: false, error }),
    );
    for (let step = 0; step < maxSteps; step++) {
      this.sched.runUntilIdle();
      await macrotask();
      if (this.sched.hasWork()) continue;
      const s = box.state;
      if (s.done) {
        if (s.ok) return s.value;
        throw s.error;
      }
      const next = this.sched.nextTimerAt();
      if (next === null) throw new NotSettledError('the network is idle, no timer is left, and the promise has not settled');
      this.sched.jumpTo(next);
    }
    throw new NotSettledError(`the promise did not settle within ${maxSteps} steps`);
  }

  /** Runs everything that can run without moving the clock (microtasks included). */
  async idle(maxSteps = 20_000): Promise<void> {
    for (let step = 0; step < maxSteps; step++) {
      this.sched.runUntilIdle();
      await macrotask();
      if (!this.sched.hasWork()) return;
    }
    throw new NotSettledError(`the network did not become idle within ${maxSteps} steps`);
  }

  /** Moves the clock forward by `ms`, timer by timer, letting microtasks run in between. */
  async advance(ms: number, maxSteps = 20_000): Promise<void> {
    const target = this.sched.now() + ms;
    for (let step = 0; step < maxSteps; step++) {
      await this.idle();
      const next = this.sched.nextTimerAt();
      if (next === null || next > target) {
        this.sched.jumpTo(target);
        await this.idle();
        return;
      }
      this.sched.jumpTo(next);
    }
    throw new NotSettledError(`advance(${ms}) did not finish within ${maxSteps} steps`);
  }

  /** Open circuits at every node's relay. */
  relayCircuits(): number[] {
    return this.nodes.map((n) => n.relay.circuitCount);
  }
}

// ---- assertions helpers -----------------------------------------------------------------------------

/**
 * Where two lists of byte strings first differ (-1 when equal in length and content). Deep
 * equality in the test framework walks typed arrays element by element, which is far too slow
 * for megabytes of messages.
 */
export function firstDifference(got: readonly Uint8Array[], want: readonly Uint8Array[]): number {
  const n = Math.max(got.length, want.length);
  for (let i = 0; i < n; i++) {
    const g = got[i];
    const w = want[i];
    if (!g || !w || !equalBytes(g, w)) return i;
  }
  return -1;
}

/** True if `a` and `b` hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return equalBytes(a, b);
}
