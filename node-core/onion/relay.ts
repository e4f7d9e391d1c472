/**
 * The node side of onion circuits (reference flows/circuits.md, circuitlogic.md, relay/*;
 * DESIGN §3): CREATE/CREATED with ntor, EXTEND/EXTENDED, layered relay crypto, DESTROY
 * propagation both ways, RELAY_EARLY accounting, SENDME windows for ESCAPE data, ESCAPE
 * messages delivered to the node's application handler, and the node's limits:
 *
 * - CREATE rate per client IP (token bucket; authenticated nodes extending circuits are not
 *   counted, as in Tor's DoS defences, so a busy relay is not starved by its own network);
 * - a bounded backlog of CREATE handshakes waiting to be computed;
 * - a per-circuit queue cap for cells waiting on a congested link (overflow: DESTROY both ways);
 *   circuits waiting on one link are served in turn when it drains, so none starves another;
 * - an onion-layer rate limit per circuit and per node (seed 004 §6.1: the onion layer carries
 *   signalling and chat, not media): cells above the rate wait in the circuit's queue, so a
 *   circuit that keeps sending above it overflows its queue and is destroyed;
 * - at most MAX_RELAY_EARLY RELAY_EARLY cells per circuit; EXTEND only inside RELAY_EARLY.
 *
 * Not here: sockets (channels are injected), choosing paths (the client's), rendezvous.
 */
import { type Cell, CellCommand, CircIdAllocator, circIdOwnedByInitiator } from '../cell';
import {
  CircuitError,
  decodeCreate,
  decodeCreated,
  decodeDestroy,
  decodeExtend,
  decodeRelayCell,
  DestroyReason,
  encodeCreate,
  encodeCreated,
  encodeDestroy,
  encodeExtended,
  encodeRelayCell,
  fragmentMessage,
  HandshakeType,
  ntorServerHandle,
  NTOR_PSP,
  type NtorOnionKeyPair,
  Reassembler,
  RelayCommand,
  RelayHopCrypto,
  type LinkSpecifier,
} from '../circuit';
import type { CryptoSuite } from '../crypto/api';
import { toHex } from '../util/bytes';
import { TokenBucket } from '../util/token-bucket';
import { type CellChannel, NO_OBSERVER, type Observer, type Scheduler } from './channel';
import { DeliverWindow, PackageWindow } from './flow';

export const MAX_RELAY_EARLY = 8;
/** relay/establishrendezvous.md: a rendezvous cookie is 32 bytes (SHA-256 of 32 random bytes). */
export const RENDEZVOUS_COOKIE_LENGTH = 32;

export interface RelayLimits {
  /** CREATE cells per second per client IP, and the burst above it. */
  createsPerSecondPerIp: number;
  createBurstPerIp: number;
  /** CREATE handshakes waiting to be computed; above it new CREATEs are refused. */
  maxPendingCreates: number;
  /** Cells a circuit may have waiting (congested link or rate limit); above it: DESTROY. */
  maxCircuitQueue: number;
  /** Onion-layer rate per circuit (cells/s forwarded or originated) and its burst. */
  circuitCellsPerSecond: number;
  circuitCellBurst: number;
  /** Onion-layer rate for the whole node. */
  nodeCellsPerSecond: number;
  nodeCellBurst: number;
  /** Circuits the node carries at once. */
  maxCircuits: number;
  /** An EXTEND must reach the next node within this time. */
  extendTimeoutMs: number;
  /** Rendezvous points waiting to be joined at once, and how long one may wait. */
  maxRendezvousPoints: number;
  rendezvousTimeoutMs: number;
}

export const DEFAULT_RELAY_LIMITS: Readonly<RelayLimits> = Object.freeze({
  createsPerSecondPerIp: 3,
  createBurstPerIp: 90,
  maxPendingCreates: 256,
  maxCircuitQueue: 4000,
  circuitCellsPerSecond: 4000,
  circuitCellBurst: 8000,
  nodeCellsPerSecond: 50_000,
  nodeCellBurst: 100_000,
  maxCircuits: 20_000,
  extendTimeoutMs: 20_000,
  maxRendezvousPoints: 10_000,
  rendezvousTimeoutMs: 5 * 60_000,
});

/** What the node offers at the end of a circuit: a handler for complete ESCAPE messages. */
export interface CircuitEndpoint {
  /** A stable opaque id of the circuit at this node (for the handler's bookkeeping). */
  readonly key: string;
  /** The identity of the previous hop if it is an authenticated node, else null (a client). */
  readonly prevIdentity: Uint8Array | null;
  /** Sends a message back to the circuit's origin (fragmented, flow-controlled). */
  send(message: Uint8Array): void;
  /** Tears the circuit down. */
  destroy(reason?: DestroyReason): void;
  readonly isOpen: boolean;
}

export interface RelayApp {
  onMessage(endpoint: CircuitEndpoint, message: Uint8Array): void;
  onCircuitClosed?(endpoint: CircuitEndpoint): void;
}

export interface OpenChannelRequest {
  identity: Uint8Array;
  addresses: { host: string; port: number }[];
}

export interface OnionRelayOptions {
  suite: CryptoSuite;
  identity: Uint8Array;
  /** Current and previous onion keys (ntor B). */
  onionKeys: () => NtorOnionKeyPair[];
  scheduler: Scheduler;
  /** Opens (or reuses) an authenticated channel to another node, for EXTEND. */
  openChannel: (req: OpenChannelRequest) => Promise<CellChannel>;
  app: RelayApp;
  limits?: Partial<RelayLimits>;
  observer?: Observer;
  /** Reports a refused or destroyed circuit (logs, counters). */
  onEvent?: (e: { type: string; reason?: string; detail?: string }) => void;
}

/** A cell waiting to be sent; `onSent` runs once it is handed to the link. */
interface Queued {
  cell: Cell;
  onSent?: () => void;
}

interface Side {
  ch: CellChannel;
  circId: number;
  queue: Queued[];
  /** In its channel's list of sides waiting for the link to drain. */
  waiting: boolean;
}

/** Cells a waiting circuit may send per turn when its link drains (round-robin). */
const DRAIN_QUANTUM = 8;

interface RelayCircuit {
  key: string;
  prev: Side;
  next: Side | null;
  pendingExtend: { timer: { cancel(): void } } | null;
  crypto: RelayHopCrypto;
  earlyCount: number;
  reassembler: Reassembler;
  deliver: DeliverWindow;
  pkg: PackageWindow;
  outbox: Uint8Array[]; // ESCAPE fragments waiting for the package window
  bucket: TokenBucket;
  endpoint: CircuitEndpoint;
  closed: boolean;
  flushTimer: { cancel(): void } | null;
  /** Set on a circuit that established a rendezvous point, or joined one. */
  rendezvous: { cookie: string; peer: RelayCircuit | null; timer: { cancel(): void } | null } | null;
}

export interface RelayStats {
  circuits: number;
  created: number;
  refusedCreates: number;
  destroyed: number;
  cellsRelayed: number;
}

let nextEndpointKey = 1;

export class OnionRelay {
  private readonly limits: RelayLimits;
  private readonly byChannelCirc = new Map<string, { circuit: RelayCircuit; side: 'prev' | 'next' }>();
  private readonly allocators = new Map<number, CircIdAllocator>();
  private readonly channels = new Map<number, CellChannel>();
  private readonly blocked = new Set<number>();
  /** Per channel: circuit sides with cells queued behind its high-water mark, in service order. */
  private readonly waitingOn = new Map<number, { circuit: RelayCircuit; side: 'prev' | 'next' }[]>();
  private readonly ipBuckets = new Map<string, TokenBucket>();
  private readonly pendingCreates: { ch: CellChannel; cell: Cell }[] = [];
  /** Rendezvous points waiting for their second circuit, by cookie (hex). */
  private readonly rendezvousPoints = new Map<string, RelayCircuit>();
  private creating = false;
  private readonly nodeBucket: TokenBucket;
  private readonly observer: Observer;
  /** Observations cost a hex copy per cell; they are only made when someone listens. */
  private readonly observing: boolean;
  readonly stats: RelayStats = { circuits: 0, created: 0, refusedCreates: 0, destroyed: 0, cellsRelayed: 0 };

  constructor(private readonly opts: OnionRelayOptions) {
    this.limits = { ...DEFAULT_RELAY_LIMITS, ...opts.limits };
    this.nodeBucket = new TokenBucket(this.limits.nodeCellsPerSecond, this.limits.nodeCellBurst, opts.scheduler.now());
    this.observer = opts.observer ?? NO_OBSERVER;
    this.observing = opts.observer !== undefined && opts.observer !== NO_OBSERVER;
  }

  // ---- channel events ------------------------------------------------------------------------

  /** Feeds a circuit cell (CREATE, CREATED, RELAY, RELAY_EARLY, DESTROY) from a channel. */
  onCell(ch: CellChannel, cell: Cell): void {
    this.channels.set(ch.id, ch);
    const entry = this.byChannelCirc.get(key(ch, cell.circId));
    try {
      switch (cell.command) {
        case CellCommand.Create:
          if (entry) throw new CircuitError('protocol-violation', 'CREATE for a circuit id already in use');
          return this.queueCreate(ch, cell);
        case CellCommand.Created:
          if (!entry) return this.refuse(ch, cell.circId, 'CREATED for an unknown circuit');
          // On a circuit we have, a CREATED we did not ask for ends the whole circuit: answering
          // only with a DESTROY on that id would leave the circuit here and at its other side.
          if (entry.side !== 'next' || !entry.circuit.pendingExtend) throw new CircuitError('protocol-violation', 'unexpected CREATED');
          return this.onCreated(entry.circuit, cell);
        case CellCommand.Relay:
        case CellCommand.RelayEarly:
          if (!entry) return; // late cell for a circuit already gone: drop silently
          if (entry.side === 'prev') return this.onForward(entry.circuit, cell);
          return this.onBackward(entry.circuit, cell);
        case CellCommand.Destroy: {
          if (!entry) return;
          let reason: DestroyReason = DestroyReason.Destroyed;
          try {
            reason = decodeDestroy(cell.payload);
          } catch {
            reason = DestroyReason.Protocol;
          }
          this.teardown(entry.circuit, entry.side, reason === DestroyReason.Destroyed ? reason : DestroyReason.Destroyed, `peer sent DESTROY (${reason})`);
          return;
        }
        default:
          return; // stream cells belong to another layer
      }
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      if (entry) this.teardown(entry.circuit, null, DestroyReason.Protocol, detail);
      else this.refuse(ch, cell.circId, detail);
    }
  }

  /** The channel closed: every circuit on it is destroyed towards its other side. */
  onChannelClosed(ch: CellChannel): void {
    this.channels.delete(ch.id);
    this.allocators.delete(ch.id);
    this.blocked.delete(ch.id);
    this.waitingOn.delete(ch.id);
    for (const [k, { circuit, side }] of [...this.byChannelCirc]) {
      if (k.startsWith(`${ch.id}:`)) this.teardown(circuit, side, DestroyReason.ChannelClosed, 'link closed');
    }
    for (let i = this.pendingCreates.length - 1; i >= 0; i--) {
      if (this.pendingCreates[i]!.ch === ch) this.pendingCreates.splice(i, 1);
    }
  }

  /**
   * The channel can take more cells: the circuits waiting on it send in turn, DRAIN_QUANTUM
   * cells each, until the link fills again. A circuit that still has cells goes to the back of
   * the line, so one busy circuit cannot starve the others sharing the link (a plain
   * round-robin; Tor's circuit multiplexer weighs circuits by recent activity instead).
   */
  onChannelDrain(ch: CellChannel): void {
    this.blocked.delete(ch.id);
    const line = this.waitingOn.get(ch.id);
    if (!line) return;
    while (line.length && !this.blocked.has(ch.id)) {
      const { circuit, side } = line.shift()!;
      const s = circuit[side];
      if (!s) continue;
      s.waiting = false;
      if (circuit.closed) continue;
      // 'blocked' puts it back in line by itself; 'budget' means it has more and had its turn.
      if (this.flushSide(circuit, side, DRAIN_QUANTUM) === 'budget') this.wait(circuit, side);
    }
    if (!line.length && this.waitingOn.get(ch.id) === line) this.waitingOn.delete(ch.id);
  }

  get circuitCount(): number {
    return this.stats.circuits;
  }

  // ---- CREATE ----------------------------------------------------------------------------------

  private queueCreate(ch: CellChannel, cell: Cell): void {
    // The creator allocates ids with the MSB of its side of the link (binary/cell.md).
    if (circIdOwnedByInitiator(cell.circId) === ch.initiatedByUs) {
      return this.refuse(ch, cell.circId, 'CREATE with a circuit id of the wrong side');
    }
    if (ch.peerIdentity === null) {
      let bucket = this.ipBuckets.get(ch.remoteIp);
      if (!bucket) {
        bucket = new TokenBucket(this.limits.createsPerSecondPerIp, this.limits.createBurstPerIp, this.opts.scheduler.now());
        this.ipBuckets.set(ch.remoteIp, bucket);
        if (this.ipBuckets.size > 50_000) this.ipBuckets.delete(this.ipBuckets.keys().next().value!);
      }
      if (!bucket.take(this.opts.scheduler.now())) return this.refuse(ch, cell.circId, 'create-rate', DestroyReason.ResourceLimit);
    }
    if (this.pendingCreates.length >= this.limits.maxPendingCreates) {
      return this.refuse(ch, cell.circId, 'create-backlog', DestroyReason.ResourceLimit);
    }
    if (this.stats.circuits >= this.limits.maxCircuits) return this.refuse(ch, cell.circId, 'max-circuits', DestroyReason.ResourceLimit);
    this.pendingCreates.push({ ch, cell });
    if (!this.creating) {
      this.creating = true;
      this.opts.scheduler.defer(() => this.processCreates());
    }
  }

  private processCreates(): void {
    // A slice of the backlog per turn of the event loop, so links keep being served.
    for (let n = 0; n < 32 && this.pendingCreates.length; n++) {
      const { ch, cell } = this.pendingCreates.shift()!;
      if (ch.isOpen) this.handleCreate(ch, cell);
    }
    if (this.pendingCreates.length) this.opts.scheduler.defer(() => this.processCreates());
    else this.creating = false;
  }

  private handleCreate(ch: CellChannel, cell: Cell): void {
    let reply: Uint8Array;
    let keyMaterial: Uint8Array;
    try {
      const create = decodeCreate(cell.payload);
      ({ reply, keyMaterial } = ntorServerHandle(this.opts.suite, create.handshake, {
        nodeId: this.opts.identity,
        onionKeys: this.opts.onionKeys(),
        protocol: NTOR_PSP,
      }));
    } catch (err) {
      return this.refuse(ch, cell.circId, `bad CREATE: ${(err as Error).message}`);
    }
    const existing = this.byChannelCirc.get(key(ch, cell.circId));
    if (existing) {
      // Two CREATEs with one id in the same backlog: the first made a circuit. The peer is told
      // the id is dead, so that circuit goes too (as for a CREATE on an id already in use).
      return this.teardown(existing.circuit, null, DestroyReason.Protocol, 'duplicate circuit id');
    }
    const circuit = this.newCircuit(ch, cell.circId, keyMaterial);
    keyMaterial.fill(0);
    this.stats.created++;
    if (this.observing) this.observer.record({ type: 'circuit-created', circuit: circuit.key, prevIdentity: ch.peerIdentity ? toHex(ch.peerIdentity) : null, prevIp: ch.remoteIp });
    this.sendOn(circuit, 'prev', { circId: cell.circId, command: CellCommand.Created, payload: encodeCreated({ handshake: reply }) });
  }

  private newCircuit(ch: CellChannel, circId: number, keyMaterial: Uint8Array): RelayCircuit {
    const k = `c${nextEndpointKey++}`;
    const circuit: RelayCircuit = {
      key: k,
      prev: { ch, circId, queue: [], waiting: false },
      next: null,
      pendingExtend: null,
      crypto: new RelayHopCrypto(this.opts.suite, keyMaterial),
      earlyCount: 0,
      reassembler: new Reassembler(),
      deliver: new DeliverWindow(),
      pkg: new PackageWindow(),
      outbox: [],
      bucket: new TokenBucket(this.limits.circuitCellsPerSecond, this.limits.circuitCellBurst, this.opts.scheduler.now()),
      closed: false,
      flushTimer: null,
      rendezvous: null,
      endpoint: undefined as unknown as CircuitEndpoint,
    };
    const relay = this;
    circuit.endpoint = {
      key: k,
      prevIdentity: ch.peerIdentity,
      send: (message) => relay.sendMessage(circuit, message),
      destroy: (reason = DestroyReason.Finished) => relay.teardown(circuit, null, reason, 'closed by the node'),
      get isOpen() {
        return !circuit.closed;
      },
    };
    this.byChannelCirc.set(key(ch, circId), { circuit, side: 'prev' });
    ch.inUse++;
    this.stats.circuits++;
    return circuit;
  }

  // ---- forward (towards the end of the circuit) ------------------------------------------------

  private onForward(c: RelayCircuit, cell: Cell): void {
    if (cell.command === CellCommand.RelayEarly) {
      c.earlyCount++;
      if (c.earlyCount > MAX_RELAY_EARLY) throw new CircuitError('protocol-violation', `more than ${MAX_RELAY_EARLY} RELAY_EARLY cells`);
    }
    const { recognized, payload } = c.crypto.decryptForward(cell.payload);
    if (this.observing) this.observer.record({ type: 'relay-forward', circuit: c.key, recognized, payload: toHex(payload) });
    if (!recognized) {
      const peer = c.rendezvous?.peer;
      if (peer && !peer.closed) {
        // A spliced rendezvous: the cell is end-to-end encrypted between the two clients; pass it
        // to the other circuit under that circuit's backward layer (relay/rendezvous.md).
        if (cell.command !== CellCommand.Relay) throw new CircuitError('protocol-violation', 'RELAY_EARLY across a rendezvous');
        this.stats.cellsRelayed++;
        this.sendOn(peer, 'prev', { circId: peer.prev.circId, command: CellCommand.Relay, payload: peer.crypto.encryptBackward(payload, false) });
        return;
      }
      if (!c.next) throw new CircuitError('unrecognized-cell', 'unrecognized relay cell at the last hop');
      this.stats.cellsRelayed++;
      this.sendOn(c, 'next', { circId: c.next.circId, command: cell.command, payload });
      return;
    }
    const relayCell = decodeRelayCell(payload);
    switch (relayCell.command) {
      case RelayCommand.Extend:
        if (cell.command !== CellCommand.RelayEarly) throw new CircuitError('protocol-violation', 'EXTEND outside RELAY_EARLY');
        return this.onExtend(c, relayCell.data);
      case RelayCommand.Escape: {
        if (!c.deliver.receive()) throw new CircuitError('protocol-violation', 'ESCAPE beyond the flow-control window');
        if (c.deliver.sendmeDue) {
          // The window reopens only when the SENDME leaves (flow.ts), not while it waits.
          c.deliver.sendmeQueued();
          this.originate(c, RelayCommand.Sendme, new Uint8Array(0), () => c.deliver.sendmeSent());
        }
        const message = c.reassembler.push(relayCell.data);
        if (message && this.observing) {
          // The whole application message that ended here (fragments split keys across cells).
          this.observer.record({ type: 'app-message', circuit: c.key, fromNode: c.prev.ch.peerIdentity !== null, message: toHex(message) });
        }
        if (message) this.opts.app.onMessage(c.endpoint, message);
        return;
      }
      case RelayCommand.Sendme:
        if (!c.pkg.sendme()) throw new CircuitError('protocol-violation', 'unexpected SENDME');
        this.pumpOutbox(c);
        return;
      case RelayCommand.Drop:
        return;
      case RelayCommand.EstablishRendezvous:
        return this.onEstablishRendezvous(c, relayCell.data);
      case RelayCommand.JoinRendezvous:
        return this.onJoinRendezvous(c, relayCell.data);
      default:
        throw new CircuitError('unknown-relay-command', `relay command ${relayCell.command} is not accepted by a node`);
    }
  }

  // ---- rendezvous points (relay/rendezvous.md, establishrendezvous.md, joinrendezvous.md) ----

  private onEstablishRendezvous(c: RelayCircuit, data: Uint8Array): void {
    if (c.next || c.rendezvous) throw new CircuitError('protocol-violation', 'ESTABLISH_RENDEZVOUS on a circuit that is extended or already a rendezvous');
    if (data.length !== RENDEZVOUS_COOKIE_LENGTH) throw new CircuitError('protocol-violation', `rendezvous cookie of ${data.length} bytes`);
    const cookie = toHex(data);
    if (this.rendezvousPoints.has(cookie)) throw new CircuitError('protocol-violation', 'rendezvous cookie already in use');
    if (this.rendezvousPoints.size >= this.limits.maxRendezvousPoints) {
      return this.teardown(c, null, DestroyReason.ResourceLimit, 'too many rendezvous points');
    }
    const timer = this.opts.scheduler.setTimeout(
      () => this.teardown(c, null, DestroyReason.Timeout, 'rendezvous point not joined in time'),
      this.limits.rendezvousTimeoutMs,
    );
    c.rendezvous = { cookie, peer: null, timer };
    this.rendezvousPoints.set(cookie, c);
    if (this.observing) this.observer.record({ type: 'rendezvous-established', circuit: c.key });
    this.originate(c, RelayCommand.RendezvousEstablished, new Uint8Array(0));
  }

  private onJoinRendezvous(c: RelayCircuit, data: Uint8Array): void {
    if (c.next || c.rendezvous) throw new CircuitError('protocol-violation', 'JOIN_RENDEZVOUS on a circuit that is extended or already a rendezvous');
    if (data.length < RENDEZVOUS_COOKIE_LENGTH) throw new CircuitError('protocol-violation', 'JOIN_RENDEZVOUS without a cookie');
    const cookieBytes = data.subarray(0, RENDEZVOUS_COOKIE_LENGTH);
    const cookie = toHex(cookieBytes);
    const point = this.rendezvousPoints.get(cookie);
    if (!point || point.closed) return this.teardown(c, null, DestroyReason.Protocol, 'no rendezvous point with that cookie');
    this.rendezvousPoints.delete(cookie);
    point.rendezvous!.timer?.cancel();
    point.rendezvous = { cookie, peer: c, timer: null };
    c.rendezvous = { cookie, peer: point, timer: null };
    if (this.observing) this.observer.record({ type: 'rendezvous-joined', circuit: c.key, peerCircuit: point.key });
    // The joiner learns the join worked; the establisher gets the joiner's handshake.
    this.originate(c, RelayCommand.RendezvousJoined1, cookieBytes.slice());
    this.originate(point, RelayCommand.RendezvousJoined2, data.slice());
  }

  private onExtend(c: RelayCircuit, data: Uint8Array): void {
    if (c.next || c.pendingExtend) throw new CircuitError('protocol-violation', 'EXTEND on a circuit that is already extended');
    const extend = decodeExtend(data);
    const identity = (extend.linkSpecifiers.find((s) => s.type === 'ed25519') as Extract<LinkSpecifier, { type: 'ed25519' }>).identity;
    if (sameKey(identity, this.opts.identity) || (c.prev.ch.peerIdentity && sameKey(identity, c.prev.ch.peerIdentity))) {
      throw new CircuitError('protocol-violation', 'EXTEND back to this node or the previous hop');
    }
    const addresses = extend.linkSpecifiers.flatMap((s) =>
      s.type === 'ipv4' ? [{ host: [...s.address].join('.'), port: s.port }] : s.type === 'ipv6' ? [{ host: ipv6Text(s.address), port: s.port }] : [],
    );
    const timer = this.opts.scheduler.setTimeout(
      () => this.teardown(c, null, DestroyReason.Timeout, 'EXTEND timed out'),
      this.limits.extendTimeoutMs,
    );
    c.pendingExtend = { timer };
    if (this.observing) this.observer.record({ type: 'extend', circuit: c.key, nextIdentity: toHex(identity) });
    this.opts.openChannel({ identity, addresses }).then(
      (ch) => {
        if (c.closed) return;
        if (!ch.isOpen) return this.teardown(c, null, DestroyReason.ConnectFailed, 'next hop link closed');
        this.channels.set(ch.id, ch);
        let alloc = ch.circIds ?? this.allocators.get(ch.id);
        if (!alloc) {
          alloc = new CircIdAllocator({ initiator: ch.initiatedByUs, random: this.opts.suite });
          this.allocators.set(ch.id, alloc);
        }
        const circId = alloc.allocate();
        c.next = { ch, circId, queue: [], waiting: false };
        ch.inUse++;
        this.byChannelCirc.set(key(ch, circId), { circuit: c, side: 'next' });
        this.sendOn(c, 'next', { circId, command: CellCommand.Create, payload: encodeCreate(extend.create) });
      },
      (err: Error & { code?: string }) => {
        if (c.closed) return;
        const reason = err.code === 'wrong-identity' ? DestroyReason.WrongIdentity : DestroyReason.ConnectFailed;
        this.teardown(c, null, reason, `cannot extend: ${err.message}`);
      },
    );
  }

  private onCreated(c: RelayCircuit, cell: Cell): void {
    const created = decodeCreated(cell.payload);
    c.pendingExtend!.timer.cancel();
    c.pendingExtend = null;
    this.originate(c, RelayCommand.Extended, encodeExtended(created));
  }

  // ---- backward (towards the client) ---------------------------------------------------------

  private onBackward(c: RelayCircuit, cell: Cell): void {
    if (cell.command !== CellCommand.Relay) throw new CircuitError('protocol-violation', 'RELAY_EARLY travelling backward');
    this.stats.cellsRelayed++;
    this.sendOn(c, 'prev', { circId: c.prev.circId, command: CellCommand.Relay, payload: c.crypto.encryptBackward(cell.payload, false) });
  }

  /** A relay cell from this node to the client. */
  private originate(c: RelayCircuit, command: RelayCommand, data: Uint8Array, onSent?: () => void): void {
    const payload = c.crypto.encryptBackward(encodeRelayCell({ command, data }), true);
    this.sendOn(c, 'prev', { circId: c.prev.circId, command: CellCommand.Relay, payload }, onSent);
  }

  private sendMessage(c: RelayCircuit, message: Uint8Array): void {
    if (c.closed) return;
    for (const f of fragmentMessage(message)) c.outbox.push(f);
    if (c.outbox.length > this.limits.maxCircuitQueue) {
      return this.teardown(c, null, DestroyReason.ResourceLimit, 'reply queue overflow');
    }
    this.pumpOutbox(c);
  }

  private pumpOutbox(c: RelayCircuit): void {
    while (c.outbox.length && c.pkg.open && !c.closed) {
      c.pkg.take();
      this.originate(c, RelayCommand.Escape, c.outbox.shift()!);
    }
  }

  // ---- sending with queues and rate limits ----------------------------------------------------

  private sendOn(c: RelayCircuit, side: 'prev' | 'next', cell: Cell, onSent?: () => void): void {
    if (c.closed) return;
    const s = c[side]!;
    s.queue.push(onSent ? { cell, onSent } : { cell });
    if (s.queue.length > this.limits.maxCircuitQueue) {
      this.teardown(c, null, DestroyReason.ResourceLimit, 'circuit queue overflow');
      return;
    }
    this.flush(c);
  }

  private flush(c: RelayCircuit): void {
    for (const side of ['prev', 'next'] as const) {
      if (this.flushSide(c, side, Infinity) === 'limited') return;
    }
  }

  /**
   * Sends up to `budget` of one side's queued cells. Stops when the queue is empty, the link is
   * above its high-water mark (the side then waits in the channel's line for a drain), the
   * rate limit has no token (a timer flushes later), or the budget is spent.
   */
  private flushSide(c: RelayCircuit, side: 'prev' | 'next', budget: number): 'empty' | 'blocked' | 'limited' | 'budget' {
    const s = c[side];
    if (!s) return 'empty';
    let sent = 0;
    while (s.queue.length && !c.closed) {
      if (!s.ch.isOpen) return 'empty'; // the channel's close tears the circuit down
      if (this.blocked.has(s.ch.id)) {
        this.wait(c, side);
        return 'blocked';
      }
      if (sent >= budget) return 'budget';
      const { cell, onSent } = s.queue[0]!;
      const counts = cell.command === CellCommand.Relay || cell.command === CellCommand.RelayEarly;
      if (counts) {
        const now = this.opts.scheduler.now();
        // Both buckets must have a token before either is charged, or a circuit would lose
        // tokens while the node's bucket is empty.
        if (c.bucket.available(now) < 1 || this.nodeBucket.available(now) < 1) {
          this.scheduleFlush(c);
          return 'limited';
        }
        c.bucket.take(now);
        this.nodeBucket.take(now);
      }
      s.queue.shift();
      sent++;
      if (!s.ch.send(cell)) this.blocked.add(s.ch.id);
      onSent?.();
    }
    return 'empty';
  }

  /** Puts a side with queued cells in its channel's line for the next drain (once). */
  private wait(c: RelayCircuit, side: 'prev' | 'next'): void {
    const s = c[side]!;
    if (s.waiting) return;
    s.waiting = true;
    let line = this.waitingOn.get(s.ch.id);
    if (!line) {
      line = [];
      this.waitingOn.set(s.ch.id, line);
    }
    line.push({ circuit: c, side });
  }

  private scheduleFlush(c: RelayCircuit): void {
    if (c.flushTimer) return;
    const wait = Math.max(1, Math.ceil(1000 / Math.min(this.limits.circuitCellsPerSecond, this.limits.nodeCellsPerSecond)));
    c.flushTimer = this.opts.scheduler.setTimeout(() => {
      c.flushTimer = null;
      this.flush(c);
    }, wait);
  }

  // ---- teardown ----------------------------------------------------------------------------------

  private refuse(ch: CellChannel, circId: number, detail: string, reason: DestroyReason = DestroyReason.Protocol): void {
    this.stats.refusedCreates++;
    this.opts.onEvent?.({ type: 'refused', reason: reasonName(reason), detail });
    // Circuit id 0 belongs to no circuit (binary/cell.md): there is nothing to DESTROY.
    if (ch.isOpen && circId !== 0) ch.send({ circId, command: CellCommand.Destroy, payload: encodeDestroy(reason) });
  }

  /**
   * Destroys a circuit. `from` is the side the teardown came from (that side gets no DESTROY);
   * null when this node decided (both sides are told).
   */
  private teardown(c: RelayCircuit, from: 'prev' | 'next' | null, reason: DestroyReason, detail: string): void {
    if (c.closed) return;
    c.closed = true;
    c.flushTimer?.cancel();
    c.pendingExtend?.timer.cancel();
    this.stats.circuits--;
    this.stats.destroyed++;
    this.opts.onEvent?.({ type: 'destroyed', reason: reasonName(reason), detail });
    if (c.rendezvous) {
      c.rendezvous.timer?.cancel();
      if (this.rendezvousPoints.get(c.rendezvous.cookie) === c) this.rendezvousPoints.delete(c.rendezvous.cookie);
      // Both halves of a spliced rendezvous end together.
      const peer = c.rendezvous.peer;
      if (peer && !peer.closed) this.opts.scheduler.defer(() => this.teardown(peer, null, DestroyReason.Destroyed, 'the other half of the rendezvous closed'));
    }
    for (const side of ['prev', 'next'] as const) {
      const s = c[side];
      if (!s) continue;
      this.byChannelCirc.delete(key(s.ch, s.circId));
      s.ch.inUse = Math.max(0, s.ch.inUse - 1);
      if (side === 'next') (s.ch.circIds ?? this.allocators.get(s.ch.id))?.free(s.circId);
      if (side !== from && s.ch.isOpen) {
        const r = side === 'prev' && from === 'next' ? DestroyReason.Destroyed : reason;
        s.ch.send({ circId: s.circId, command: CellCommand.Destroy, payload: encodeDestroy(r) });
      }
      s.queue.length = 0;
    }
    this.opts.app.onCircuitClosed?.(c.endpoint);
  }
}

function key(ch: CellChannel, circId: number): string {
  return `${ch.id}:${circId}`;
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function ipv6Text(b: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return parts.join(':');
}

function reasonName(r: DestroyReason): string {
  for (const [name, v] of Object.entries(DestroyReason)) if (v === r) return name;
  return String(r);
}

export { HandshakeType };
