/**
 * The client side of onion circuits (reference flows/circuits.md, relay/relaycrypto.md;
 * DESIGN §3): builds circuits telescopically (CREATE to the first hop, then EXTEND inside
 * RELAY_EARLY to each further hop, with an ntor handshake per hop), sends and receives
 * application messages at any hop as fragmented ESCAPE cells under SENDME windows, and learns of
 * a circuit's end from DESTROY, a closed link or an unrecognized cell.
 *
 * `CircuitClient` owns the client's circuits across its channels: it allocates circuit ids,
 * dispatches incoming cells to circuits, and never sends more than MAX_RELAY_EARLY RELAY_EARLY
 * cells on one circuit. Which path to build, and why, is the CircuitManager's business.
 */
import { type Cell, CellCommand, CircIdAllocator } from '../cell';
import {
  CircuitError,
  ClientCircuitCrypto,
  decodeCreated,
  decodeDestroy,
  decodeExtended,
  decodeRelayCell,
  DestroyReason,
  encodeCreate,
  encodeDestroy,
  encodeExtend,
  encodeRelayCell,
  fragmentMessage,
  MAX_MESSAGE_LENGTH,
  HandshakeType,
  NTOR_PSP,
  ntorClientComplete,
  ntorClientCreate,
  Reassembler,
  RelayCommand,
  type LinkSpecifier,
  RELAY_DATA_MAX,
} from '../circuit';
import type { CryptoSuite } from '../crypto/api';
import { type CellChannel, type NodeTarget, type Scheduler } from './channel';
import { DeliverWindow, PackageWindow } from './flow';
import { MAX_RELAY_EARLY, RENDEZVOUS_COOKIE_LENGTH } from './relay';
import { concatBytes } from '../util/bytes';

export class CircuitClosedError extends Error {
  override readonly name = 'CircuitClosedError';
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

interface HopState {
  target: NodeTarget;
  reassembler: Reassembler;
  deliver: DeliverWindow;
  pkg: PackageWindow;
  outbox: Uint8Array[];
  /** Largest application message to and from this hop. */
  maxMessageLength: number;
}

export interface ClientCircuitEvents {
  onMessage?: (hopIndex: number, message: Uint8Array) => void;
  onClose?: (reason: CircuitClosedError) => void;
  /** At the rendezvous point's owner: the other client joined; `handshake` is its reply. */
  onRendezvousJoined?: (handshake: Uint8Array) => void;
}

/** The ntor instance of the end-to-end rendezvous handshake (relay/rendezvous.md). */
/**
 * The largest message the two ends of a rendezvous channel may agree on (the end-to-end hop is
 * reassembled only by the clients; the rendezvous node relays cells it cannot read).
 */
export const MAX_END_TO_END_MESSAGE_LENGTH = 256 * 1024;

export const NTOR_RENDEZVOUS = Object.freeze({ protoId: 'psp-hs-curve25519-sha256-01', serverSuffix: ':server', idLength: 32 });

let circuitSeq = 1;

export class ClientCircuit {
  readonly id = circuitSeq++;
  readonly hops: HopState[] = [];
  private readonly crypto: ClientCircuitCrypto;
  private earlySent = 0;
  /** The relay command that settles the pending wait (null: CREATED or EXTENDED). */
  private pendingCommand: RelayCommand | null = null;
  private pending: { resolve: (reply: Uint8Array) => void; reject: (e: Error) => void; timer: { cancel(): void } } | null = null;
  private closedBy: CircuitClosedError | null = null;
  readonly createdAt: number;
  events: ClientCircuitEvents = {};
  /** Bytes of application messages sent and received (for the UI and benchmarks). */
  readonly stats = { messagesSent: 0, messagesReceived: 0, cellsSent: 0, cellsReceived: 0 };

  constructor(
    private readonly owner: CircuitClient,
    readonly channel: CellChannel,
    readonly circId: number,
  ) {
    this.crypto = new ClientCircuitCrypto(owner.suite);
    this.createdAt = owner.scheduler.now();
  }

  get isOpen(): boolean {
    return this.closedBy === null;
  }

  get closeReason(): CircuitClosedError | null {
    return this.closedBy;
  }

  get length(): number {
    return this.hops.length;
  }

  /** The hops' identities in order (for path checks and the UI). */
  get path(): Uint8Array[] {
    return this.hops.map((h) => h.target.identity);
  }

  // ---- building -----------------------------------------------------------------------------

  /** CREATE to the channel's node. */
  async create(first: NodeTarget, timeoutMs: number): Promise<void> {
    this.assertIdle();
    if (this.hops.length) throw new Error('circuit already created');
    const { state, onionskin } = ntorClientCreate(this.owner.suite, { nodeId: first.identity, nodeOnionKey: first.onionKey, protocol: NTOR_PSP });
    const reply = this.await(timeoutMs, 'CREATE');
    this.rawSend({ circId: this.circId, command: CellCommand.Create, payload: encodeCreate({ handshakeType: HandshakeType.NtorV1Psp, handshake: onionskin }) });
    const km = ntorClientComplete(this.owner.suite, state, await reply);
    this.addHop(first, km);
  }

  /** EXTEND from the current last hop to `next`. */
  async extend(next: NodeTarget, timeoutMs: number): Promise<void> {
    this.assertIdle();
    if (!this.hops.length) throw new Error('create the circuit first');
    if (this.earlySent >= MAX_RELAY_EARLY) {
      throw new CircuitError('protocol-violation', `a circuit may not be extended more than ${MAX_RELAY_EARLY} times`);
    }
    const { state, onionskin } = ntorClientCreate(this.owner.suite, { nodeId: next.identity, nodeOnionKey: next.onionKey, protocol: NTOR_PSP });
    const data = encodeExtend({ linkSpecifiers: linkSpecifiersFor(next), create: { handshakeType: HandshakeType.NtorV1Psp, handshake: onionskin } });
    const reply = this.await(timeoutMs, 'EXTEND');
    this.sendRelay(this.hops.length - 1, RelayCommand.Extend, data, true);
    const km = ntorClientComplete(this.owner.suite, state, await reply);
    this.addHop(next, km);
  }

  // ---- rendezvous (relay/rendezvous.md) -------------------------------------------------------

  /** Makes the last hop a rendezvous point for `cookie` (32 bytes). */
  async establishRendezvous(cookie: Uint8Array, timeoutMs: number): Promise<void> {
    this.assertIdle();
    if (cookie.length !== RENDEZVOUS_COOKIE_LENGTH) throw new RangeError('cookie must be 32 bytes');
    const done = this.await(timeoutMs, 'ESTABLISH_RENDEZVOUS', RelayCommand.RendezvousEstablished);
    this.sendRelay(this.hops.length - 1, RelayCommand.EstablishRendezvous, cookie, false);
    await done;
  }

  /** Joins the rendezvous point at the last hop, handing `handshake` to the point's owner. */
  async joinRendezvous(cookie: Uint8Array, handshake: Uint8Array, timeoutMs: number): Promise<void> {
    this.assertIdle();
    if (cookie.length !== RENDEZVOUS_COOKIE_LENGTH) throw new RangeError('cookie must be 32 bytes');
    if (handshake.length > RELAY_DATA_MAX - RENDEZVOUS_COOKIE_LENGTH) throw new RangeError('handshake too long for one relay cell');
    const done = this.await(timeoutMs, 'JOIN_RENDEZVOUS', RelayCommand.RendezvousJoined1);
    this.sendRelay(this.hops.length - 1, RelayCommand.JoinRendezvous, concatBytes(cookie, handshake), false);
    await done;
  }

  /**
   * Adds the end-to-end layer shared with the other client as a virtual hop after the
   * rendezvous point. Both clients derive the same 128 bytes; the joiner swaps the directions
   * (its forward is the owner's backward).
   */
  addEndToEndHop(keyMaterial: Uint8Array, role: 'owner' | 'joiner', peer: NodeTarget, opts: { maxMessageLength?: number } = {}): number {
    if (keyMaterial.length !== 128) throw new RangeError('keyMaterial must be 128 bytes');
    const max = opts.maxMessageLength ?? MAX_MESSAGE_LENGTH;
    if (!Number.isInteger(max) || max < 1 || max > MAX_END_TO_END_MESSAGE_LENGTH) {
      throw new RangeError(`maxMessageLength must be an integer in 1..${MAX_END_TO_END_MESSAGE_LENGTH}, got ${String(max)}`);
    }
    const km = role === 'owner' ? keyMaterial.slice() : concatBytes(keyMaterial.subarray(32, 64), keyMaterial.subarray(0, 32), keyMaterial.subarray(96, 128), keyMaterial.subarray(64, 96));
    this.addHop(peer, km, max);
    return this.hops.length - 1;
  }

  /** Sends an EXTEND regardless of the client-side limit (tests of the node's limit only). */
  dangerouslyExtendPastLimit(next: NodeTarget, timeoutMs: number): Promise<void> {
    this.earlySent = Math.min(this.earlySent, MAX_RELAY_EARLY - 1);
    return this.extend(next, timeoutMs);
  }

  /**
   * Sends one relay cell to hop `hopIndex` with this circuit's crypto, ignoring the flow-control
   * windows and the RELAY_EARLY budget (tests of a node's own checks only: EXTEND in a plain
   * RELAY, ESCAPE past the window, commands a hop does not serve).
   */
  dangerouslySendRelay(hopIndex: number, command: RelayCommand, data: Uint8Array, early = false): void {
    if (this.closedBy) throw this.closedBy;
    if (!Number.isInteger(hopIndex) || hopIndex < 0 || hopIndex >= this.hops.length) {
      throw new RangeError(`hopIndex must be an integer in 0..${this.hops.length - 1}, got ${hopIndex}`);
    }
    if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array');
    if (typeof early !== 'boolean') throw new TypeError('early must be a boolean');
    this.sendRelay(hopIndex, command, data, early);
  }

  /**
   * A closed circuit sends nothing more: its id may already belong to a new circuit on the same
   * link, which a stray CREATE or EXTEND would break. One handshake at a time: a second would
   * take the first one's answer.
   */
  private assertIdle(): void {
    if (this.closedBy) throw this.closedBy;
    if (this.pending) throw new Error('a CREATE or EXTEND is already in progress on this circuit');
  }

  private addHop(target: NodeTarget, km: Uint8Array, maxMessageLength = MAX_MESSAGE_LENGTH): void {
    this.crypto.addHop(km);
    km.fill(0);
    this.hops.push({ target, reassembler: new Reassembler({ maxMessageLength }), deliver: new DeliverWindow(), pkg: new PackageWindow(), outbox: [], maxMessageLength });
  }

  private await(timeoutMs: number, what: string, expect?: RelayCommand): Promise<Uint8Array> {
    this.pendingCommand = expect ?? null;
    if (this.closedBy) return Promise.reject(this.closedBy);
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = this.owner.scheduler.setTimeout(() => {
        this.pending = null;
        const err = new CircuitClosedError('timeout', `${what} got no answer within ${timeoutMs} ms`);
        reject(err);
        this.destroy(DestroyReason.Timeout);
      }, timeoutMs);
      this.pending = { resolve, reject, timer };
    });
  }

  // ---- messages ------------------------------------------------------------------------------

  /** Sends an application message to hop `hopIndex` (default: the last hop). */
  send(message: Uint8Array, hopIndex = this.hops.length - 1): void {
    if (this.closedBy) throw this.closedBy;
    const hop = this.hops[hopIndex];
    if (!hop) throw new RangeError(`no hop ${hopIndex} on this circuit`);
    for (const f of fragmentMessage(message, undefined, hop.maxMessageLength)) hop.outbox.push(f);
    this.stats.messagesSent++;
    this.pump(hopIndex);
  }

  /** Cells waiting for flow-control credit, over all hops. */
  get queuedCells(): number {
    return this.hops.reduce((n, h) => n + h.outbox.length, 0);
  }

  pump(hopIndex?: number): void {
    const indices = hopIndex === undefined ? this.hops.map((_, i) => i) : [hopIndex];
    for (const i of indices) {
      const hop = this.hops[i]!;
      while (hop.outbox.length && hop.pkg.open && !this.closedBy && !this.owner.isBlocked(this.channel)) {
        hop.pkg.take();
        this.sendRelay(i, RelayCommand.Escape, hop.outbox.shift()!, false);
      }
    }
  }

  private sendRelay(hopIndex: number, command: RelayCommand, data: Uint8Array, early: boolean): void {
    const payload = this.crypto.encryptForward(encodeRelayCell({ command, data }), hopIndex);
    if (early) this.earlySent++;
    this.stats.cellsSent++;
    this.rawSend({ circId: this.circId, command: early ? CellCommand.RelayEarly : CellCommand.Relay, payload });
  }

  private rawSend(cell: Cell): void {
    if (!this.channel.isOpen) return this.close(new CircuitClosedError('link-closed', 'the link to the first hop closed'));
    if (!this.channel.send(cell)) this.owner.markBlocked(this.channel);
  }

  // ---- incoming ------------------------------------------------------------------------------

  /** @internal Called by CircuitClient. */
  handleCell(cell: Cell): void {
    try {
      switch (cell.command) {
        case CellCommand.Created: {
          if (!this.pending || this.hops.length) throw new CircuitError('protocol-violation', 'unexpected CREATED');
          return this.settle(decodeCreated(cell.payload).handshake);
        }
        case CellCommand.Relay: {
          if (!this.hops.length) throw new CircuitError('protocol-violation', 'RELAY before CREATED');
          const { hopIndex, payload } = this.crypto.decryptBackward(cell.payload);
          this.stats.cellsReceived++;
          return this.onRelay(hopIndex, payload);
        }
        case CellCommand.Destroy: {
          let reason = 'destroyed';
          try {
            const r = decodeDestroy(cell.payload);
            reason = Object.entries(DestroyReason).find(([, v]) => v === r)?.[0] ?? String(r);
          } catch {
            /* keep 'destroyed' */
          }
          return this.close(new CircuitClosedError(reason, `the circuit was destroyed (${reason})`));
        }
        default:
          throw new CircuitError('protocol-violation', `unexpected cell ${cell.command} on a client circuit`);
      }
    } catch (err) {
      this.destroy(DestroyReason.Protocol, err instanceof Error ? err.message : String(err));
    }
  }

  private onRelay(hopIndex: number, payload: Uint8Array): void {
    const rc = decodeRelayCell(payload);
    const hop = this.hops[hopIndex]!;
    switch (rc.command) {
      case RelayCommand.Extended:
        if (!this.pending || this.pendingCommand !== null || hopIndex !== this.hops.length - 1) {
          throw new CircuitError('protocol-violation', 'unexpected EXTENDED');
        }
        return this.settle(decodeExtended(rc.data).handshake);
      case RelayCommand.Escape: {
        if (!hop.deliver.receive()) throw new CircuitError('protocol-violation', 'ESCAPE beyond the flow-control window');
        if (hop.deliver.sendmeDue) {
          hop.deliver.sent();
          this.sendRelay(hopIndex, RelayCommand.Sendme, new Uint8Array(0), false);
        }
        const message = hop.reassembler.push(rc.data);
        if (message) {
          this.stats.messagesReceived++;
          this.events.onMessage?.(hopIndex, message);
        }
        return;
      }
      case RelayCommand.Sendme:
        if (!hop.pkg.sendme()) throw new CircuitError('protocol-violation', 'unearned SENDME');
        return this.pump(hopIndex);
      case RelayCommand.Truncated:
        return this.close(new CircuitClosedError('truncated', `hop ${hopIndex} truncated the circuit`));
      case RelayCommand.RendezvousEstablished:
      case RelayCommand.RendezvousJoined1:
        if (!this.pending || this.pendingCommand !== rc.command || hopIndex !== this.hops.length - 1) {
          throw new CircuitError('protocol-violation', `unexpected rendezvous answer ${rc.command}`);
        }
        return this.settle(rc.data);
      case RelayCommand.RendezvousJoined2:
        if (rc.data.length < RENDEZVOUS_COOKIE_LENGTH || !this.events.onRendezvousJoined) {
          throw new CircuitError('protocol-violation', 'unexpected RENDEZVOUS_JOINED_2');
        }
        return this.events.onRendezvousJoined(rc.data.slice(RENDEZVOUS_COOKIE_LENGTH));
      case RelayCommand.Drop:
        return;
      default:
        this.owner.onUnhandledRelay?.(this, hopIndex, rc.command, rc.data);
    }
  }

  private settle(reply: Uint8Array): void {
    const p = this.pending!;
    this.pending = null;
    p.timer.cancel();
    p.resolve(reply);
  }

  // ---- closing --------------------------------------------------------------------------------

  /** Tears the circuit down and tells the first hop (which tells the rest). */
  destroy(reason: DestroyReason = DestroyReason.Requested, detail?: string): void {
    if (this.closedBy) return;
    if (this.channel.isOpen) this.channel.send({ circId: this.circId, command: CellCommand.Destroy, payload: encodeDestroy(reason) });
    const name = Object.entries(DestroyReason).find(([, v]) => v === reason)?.[0] ?? String(reason);
    this.close(new CircuitClosedError(name, detail ?? `circuit closed (${name})`));
  }

  /** @internal */
  close(err: CircuitClosedError): void {
    if (this.closedBy) return;
    this.closedBy = err;
    if (this.pending) {
      this.pending.timer.cancel();
      this.pending.reject(err);
      this.pending = null;
    }
    this.owner.forget(this);
    this.events.onClose?.(err);
  }
}

export interface CircuitClientOptions {
  suite: CryptoSuite;
  scheduler: Scheduler;
  /** Opens or reuses a channel to a node (anonymous for clients, authenticated for nodes). */
  connect: (target: NodeTarget) => Promise<CellChannel>;
}

export class CircuitClient {
  readonly suite: CryptoSuite;
  readonly scheduler: Scheduler;
  private readonly circuits = new Map<string, ClientCircuit>();
  private readonly allocators = new Map<number, CircIdAllocator>();
  private readonly blocked = new Set<number>();
  /** Relay commands the circuit layer does not handle (rendezvous); set by higher layers. */
  onUnhandledRelay?: (circuit: ClientCircuit, hopIndex: number, command: number, data: Uint8Array) => void;

  constructor(private readonly opts: CircuitClientOptions) {
    this.suite = opts.suite;
    this.scheduler = opts.scheduler;
  }

  get openCircuits(): ClientCircuit[] {
    return [...this.circuits.values()];
  }

  /**
   * Builds a circuit through `path` (first element = entry). Rejects if any step fails.
   * `progress` hears the number of hops built after each step, starting with 0 before the
   * entry is dialled, so a caller learns which hop a failed build was trying to reach.
   */
  async build(path: NodeTarget[], timeoutMs = 15_000, progress?: (hopsBuilt: number) => void): Promise<ClientCircuit> {
    if (!Array.isArray(path)) throw new TypeError('path must be an array of NodeTarget');
    if (path.length === 0) throw new RangeError('path must have at least one hop');
    if (path.length > MAX_RELAY_EARLY + 1) throw new RangeError(`path longer than ${MAX_RELAY_EARLY + 1} hops`);
    if (progress !== undefined && typeof progress !== 'function') throw new TypeError('progress must be a function');
    progress?.(0);
    const ch = await this.opts.connect(path[0]!);
    const circuit = this.open(ch);
    try {
      await circuit.create(path[0]!, timeoutMs);
      progress?.(1);
      for (const hop of path.slice(1)) {
        await circuit.extend(hop, timeoutMs);
        progress?.(circuit.length);
      }
    } catch (err) {
      circuit.destroy(DestroyReason.Requested, (err as Error).message);
      throw err;
    }
    return circuit;
  }

  /** Starts a circuit on `ch` without building it (for tests that build step by step). */
  open(ch: CellChannel): ClientCircuit {
    let alloc = ch.circIds ?? this.allocators.get(ch.id);
    if (!alloc) {
      alloc = new CircIdAllocator({ initiator: ch.initiatedByUs, random: this.suite });
      this.allocators.set(ch.id, alloc);
    }
    const circuit = new ClientCircuit(this, ch, alloc.allocate());
    this.circuits.set(`${ch.id}:${circuit.circId}`, circuit);
    ch.inUse++;
    return circuit;
  }

  /** True if the cell belongs to one of our circuits (dispatch it with onCell). */
  owns(ch: CellChannel, circId: number): boolean {
    return this.circuits.has(`${ch.id}:${circId}`);
  }

  onCell(ch: CellChannel, cell: Cell): void {
    this.circuits.get(`${ch.id}:${cell.circId}`)?.handleCell(cell);
  }

  onChannelClosed(ch: CellChannel): void {
    this.blocked.delete(ch.id);
    this.allocators.delete(ch.id);
    for (const c of [...this.circuits.values()]) {
      if (c.channel === ch) c.close(new CircuitClosedError('link-closed', 'the link to the first hop closed'));
    }
  }

  onChannelDrain(ch: CellChannel): void {
    this.blocked.delete(ch.id);
    for (const c of this.circuits.values()) if (c.channel === ch) c.pump();
  }

  /** @internal */
  isBlocked(ch: CellChannel): boolean {
    return this.blocked.has(ch.id);
  }

  /** @internal */
  markBlocked(ch: CellChannel): void {
    this.blocked.add(ch.id);
  }

  /** @internal */
  forget(c: ClientCircuit): void {
    if (this.circuits.delete(`${c.channel.id}:${c.circId}`)) {
      (c.channel.circIds ?? this.allocators.get(c.channel.id))?.free(c.circId);
      c.channel.inUse = Math.max(0, c.channel.inUse - 1);
    }
  }
}

export function parseIPv4(host: string): Uint8Array | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return Uint8Array.from(parts);
}

export function parseIPv6(host: string): Uint8Array | null {
  const h = host.replace(/^\[|\]$/g, '');
  if (!/^[0-9a-fA-F:]+$/.test(h) || !h.includes(':')) return null;
  const [head, tail] = h.split('::') as [string, string | undefined];
  if (h.split('::').length > 2) return null;
  const a = head ? head.split(':') : [];
  const b = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail !== undefined ? 8 - a.length - b.length : 0;
  if (fill < 0 || (tail === undefined && a.length !== 8)) return null;
  const groups = [...a, ...Array<string>(fill).fill('0'), ...b];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = groups[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  }
  return out;
}

/** EXTEND's link specifiers for a node: its identity and its first IPv4 and IPv6 address. */
export function linkSpecifiersFor(target: Pick<NodeTarget, 'identity' | 'addresses'>): LinkSpecifier[] {
  const specs: LinkSpecifier[] = [{ type: 'ed25519', identity: target.identity }];
  for (const a of target.addresses) {
    const v4 = parseIPv4(a.host);
    if (v4) specs.push({ type: 'ipv4', address: v4, port: a.port });
    else {
      const v6 = parseIPv6(a.host);
      if (v6) specs.push({ type: 'ipv6', address: v6, port: a.port });
    }
    if (specs.length >= 3) break;
  }
  return dedupeSpecs(specs);
}

/** The addresses named by link specifiers, as a NodeTarget's `addresses`. */
export function addressesOf(specs: readonly LinkSpecifier[]): { host: string; port: number }[] {
  const out: { host: string; port: number }[] = [];
  for (const s of specs) {
    if (s.type === 'ipv4') out.push({ host: Array.from(s.address).join('.'), port: s.port });
    else if (s.type === 'ipv6') {
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(((s.address[i]! << 8) | s.address[i + 1]!).toString(16));
      out.push({ host: groups.join(':'), port: s.port });
    }
  }
  return out;
}

function dedupeSpecs(specs: LinkSpecifier[]): LinkSpecifier[] {
  const seen = new Set<string>();
  return specs.filter((s) => (seen.has(s.type) ? false : (seen.add(s.type), true)));
}
