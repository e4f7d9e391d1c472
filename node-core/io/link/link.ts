/**
 * A PSP link: one TLS 1.3 connection carrying cells (flows/tls.md), driven from a TLS socket.
 *
 * The driver owns the socket and the timers; the handshake logic is the pure state machine of
 * node-core/link/handshake.ts. Once open, a link emits 'cell' for every circuit/stream cell,
 * answers nothing by itself except keep-alive PADDING, and enforces its limits:
 * - cell rate: a token bucket per link; a peer over it is cut off (code 'limit');
 * - queued bytes: a peer that stops reading while we have more than `maxQueuedBytes` for it is
 *   cut off; above `queueHighWater`, `send` returns false and 'drain' follows;
 * - handshake time, idle time (no circuits), dead peer (nothing received).
 * Any malformed cell or handshake closes the link with a LinkError naming the reason; other links
 * are never affected.
 */
import { EventEmitter } from 'node:events';
import type { TLSSocket } from 'node:tls';
import { type Cell, CellCommand, CellDecoder, CellError, encodeCell, NEED_MORE } from '../../cell';
import type { CryptoSuite } from '../../crypto/api';
import {
  InitiatorHandshake,
  ResponderHandshake,
  type HandshakeAction,
  type IdentityKeys,
} from '../../link/handshake';
import { LinkError } from '../../link/errors';
import { TLS_EXPORTER_CONTEXT, TLS_EXPORTER_LABEL, TLS_EXPORTER_LENGTH } from '../../link/messages';
import { TokenBucket } from '../../util/token-bucket';
import { type Logger, redact, silentLogger } from '../log';
import { base58 } from '@scure/base';
import type { LinkLimits } from './limits';

const HANDSHAKE_COMMANDS = new Set<number>([
  CellCommand.Versions,
  CellCommand.Certs,
  CellCommand.AuthChallenge,
  CellCommand.Authenticate,
  CellCommand.AuthBypass,
]);

export type LinkDirection = 'inbound' | 'outbound';

export interface LinkStats {
  cellsIn: number;
  cellsOut: number;
  bytesIn: number;
  bytesOut: number;
  openedAt: number;
}

export interface LinkEvents {
  open: [];
  cell: [cell: Cell];
  drain: [];
  close: [reason: LinkError];
}

export interface LinkParams {
  socket: TLSSocket;
  direction: LinkDirection;
  suite: CryptoSuite;
  limits: LinkLimits;
  /** Our identity: required for inbound links (we are a node); optional outbound (anonymous). */
  identity?: IdentityKeys;
  /** Outbound: the node identity we expect to reach. Inbound: the only initiator accepted. */
  expectedPeer?: Uint8Array;
  /** Inbound: whether anonymous clients may connect. */
  allowBypass?: boolean;
  /** SHA-256 of the responder's TLS certificate (ours when inbound). */
  tlsCertHash: Uint8Array;
  log?: Logger;
  now?: () => number;
}

export function identityLabel(key: Uint8Array | null): string {
  return key ? base58.encode(key) : 'anonymous';
}

export class Link extends EventEmitter<LinkEvents> {
  readonly direction: LinkDirection;
  /** The peer's proven identity key, or null for an anonymous client. Valid once open. */
  peerIdentity: Uint8Array | null = null;
  version = 0;
  readonly stats: LinkStats;
  /** Circuits/streams using this link; an idle link (0) closes after idleTimeoutMs. */
  inUse = 0;
  /** A promise that settles when the handshake finishes or fails. */
  readonly ready: Promise<void>;

  private readonly socket: TLSSocket;
  /** The crypto suite the link was made with (reused by layers above it). */
  readonly suite: CryptoSuite;
  private readonly limits: LinkLimits;
  private readonly decoder: CellDecoder;
  private readonly bucket: TokenBucket;
  private readonly handshake: InitiatorHandshake | ResponderHandshake;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly addr: string;
  private state: 'handshake' | 'open' | 'closed' = 'handshake';
  private closeReason: LinkError | null = null;
  private lastSent: number;
  private lastReceived: number;
  private lastTraffic: number;
  private timer: NodeJS.Timeout | null = null;
  private readonly handshakeTimer: NodeJS.Timeout;
  private resolveReady!: () => void;
  private rejectReady!: (e: LinkError) => void;

  constructor(p: LinkParams) {
    super();
    this.direction = p.direction;
    this.socket = p.socket;
    this.suite = p.suite;
    this.limits = p.limits;
    this.now = p.now ?? (() => Date.now());
    this.log = p.log ?? silentLogger();
    this.addr = redact(p.socket.remoteAddress ?? 'unknown');
    const t = this.now();
    this.stats = { cellsIn: 0, cellsOut: 0, bytesIn: 0, bytesOut: 0, openedAt: t };
    this.lastSent = this.lastReceived = this.lastTraffic = t;
    this.decoder = new CellDecoder({ maxVarPayload: p.limits.handshakeMaxVarPayload });
    this.bucket = new TokenBucket(p.limits.cellsPerSecond, p.limits.cellBurst, t);
    this.ready = new Promise<void>((res, rej) => {
      this.resolveReady = res;
      this.rejectReady = rej;
    });
    this.ready.catch(() => undefined); // observed through 'close' as well

    const exporter = new Uint8Array(
      p.socket.exportKeyingMaterial(TLS_EXPORTER_LENGTH, TLS_EXPORTER_LABEL, Buffer.from(TLS_EXPORTER_CONTEXT)),
    );
    if (p.direction === 'outbound') {
      this.handshake = new InitiatorHandshake({
        suite: p.suite,
        ...(p.identity ? { identity: p.identity } : {}),
        ...(p.expectedPeer ? { expectedPeer: p.expectedPeer } : {}),
        peerTlsCertHash: p.tlsCertHash,
        exporter,
      });
    } else {
      if (!p.identity) throw new TypeError('an inbound link needs our identity');
      this.handshake = new ResponderHandshake({
        suite: p.suite,
        identity: p.identity,
        allowBypass: p.allowBypass ?? true,
        ...(p.expectedPeer ? { expectedPeer: p.expectedPeer } : {}),
        ownTlsCertHash: p.tlsCertHash,
        exporter,
      });
    }

    this.handshakeTimer = setTimeout(
      () => this.fail(new LinkError('timeout', `link handshake did not finish within ${p.limits.handshakeTimeoutMs} ms`)),
      p.limits.handshakeTimeoutMs,
    );
    this.handshakeTimer.unref();

    // Cells are small and latency matters more than packet count: no Nagle delay.
    p.socket.setNoDelay(true);
    p.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    p.socket.on('drain', () => this.emit('drain'));
    p.socket.on('error', (err) => this.fail(new LinkError('closed', `socket error: ${err.message}`)));
    p.socket.on('close', () => this.fail(new LinkError('closed', 'connection closed')));

    if (this.handshake instanceof InitiatorHandshake) this.apply(this.handshake.start());
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Bytes written to the socket that it has not yet flushed. */
  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  /**
   * Sends a cell on an open link. Returns false when the queue is above its high-water mark
   * (wait for 'drain'); a peer that lets the queue pass maxQueuedBytes is cut off. `onWritten`,
   * when given, runs once the cell's bytes have left our queue (handed to the kernel), or with
   * an error when the link closes first; media fan-outs count what is in flight with it.
   */
  send(cell: Cell, onWritten?: (err?: Error | null) => void): boolean {
    if (this.state !== 'open') throw new LinkError('closed', 'link is not open');
    if (HANDSHAKE_COMMANDS.has(cell.command)) throw new TypeError('handshake cells are sent by the handshake only');
    return this.write(encodeCell(cell), cell.command !== CellCommand.Padding, onWritten);
  }

  private write(bytes: Uint8Array, traffic: boolean, onWritten?: (err?: Error | null) => void): boolean {
    if (onWritten) this.socket.write(bytes, onWritten);
    else this.socket.write(bytes);
    const t = this.now();
    this.lastSent = t;
    if (traffic) this.lastTraffic = t;
    this.stats.cellsOut++;
    this.stats.bytesOut += bytes.length;
    const queued = this.socket.writableLength;
    if (queued > this.limits.maxQueuedBytes) {
      this.fail(new LinkError('limit', `peer is not reading: ${queued} bytes queued (limit ${this.limits.maxQueuedBytes})`));
      return false;
    }
    return queued < this.limits.queueHighWater;
  }

  /** Closes the link (locally requested). */
  close(reason = 'closed locally'): void {
    this.fail(new LinkError('closed', reason), false);
  }

  private apply(actions: HandshakeAction[]): void {
    for (const a of actions) {
      if (this.closeReason) return;
      if (a.type === 'send') this.write(a.bytes, false);
      else this.onOpen(a.version, a.peerIdentity);
    }
  }

  private onOpen(version: number, peer: Uint8Array | null): void {
    clearTimeout(this.handshakeTimer);
    this.state = 'open';
    this.version = version;
    this.peerIdentity = peer;
    this.decoder.setLimits({ maxVarPayload: this.limits.maxVarPayload });
    this.lastTraffic = this.now();
    const tick = Math.max(50, Math.min(this.limits.keepaliveMs, this.limits.idleTimeoutMs, this.limits.deadPeerMs) / 3);
    this.timer = setInterval(() => this.onTick(), tick);
    this.timer.unref();
    this.log.info({ direction: this.direction, peer: identityLabel(peer), addr: this.addr, version }, 'link open');
    this.resolveReady();
    this.emit('open');
  }

  private onTick(): void {
    if (this.state !== 'open') return;
    const t = this.now();
    if (t - this.lastReceived >= this.limits.deadPeerMs) {
      this.fail(new LinkError('timeout', `nothing received for ${t - this.lastReceived} ms`));
      return;
    }
    if (this.inUse === 0 && t - this.lastTraffic >= this.limits.idleTimeoutMs) {
      this.fail(new LinkError('closed', 'idle link closed'), false);
      return;
    }
    if (t - this.lastSent >= this.limits.keepaliveMs) {
      this.write(encodeCell({ circId: 0, command: CellCommand.Padding, payload: new Uint8Array(0) }), false);
    }
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.stats.bytesIn += chunk.length;
    this.lastReceived = this.now();
    try {
      this.decoder.push(chunk);
      for (;;) {
        const cell = this.decoder.next();
        if (cell === NEED_MORE) break;
        this.stats.cellsIn++;
        if (!this.bucket.take(this.now())) {
          throw new LinkError('limit', `peer exceeded ${this.limits.cellsPerSecond} cells/s (burst ${this.limits.cellBurst})`);
        }
        this.onCell(cell);
        if (this.closeReason) return;
      }
    } catch (err) {
      if (err instanceof LinkError) this.fail(err);
      else if (err instanceof CellError) this.fail(new LinkError('malformed', `bad cell: ${err.code}: ${err.message}`));
      else this.fail(new LinkError('protocol', `internal error handling a cell: ${(err as Error).message}`));
    }
  }

  private onCell(cell: Cell): void {
    if (this.state === 'handshake') {
      this.apply(this.handshake.receive(cell));
      return;
    }
    if (cell.command === CellCommand.Padding) return;
    if (HANDSHAKE_COMMANDS.has(cell.command)) {
      throw new LinkError('protocol', `handshake cell ${CellCommand[cell.command]} on an open link`);
    }
    this.lastTraffic = this.now();
    this.emit('cell', cell);
  }

  private fail(reason: LinkError, peerFault = true): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    this.closeReason = reason;
    clearTimeout(this.handshakeTimer);
    if (this.timer) clearInterval(this.timer);
    const fields = { direction: this.direction, peer: identityLabel(this.peerIdentity), addr: this.addr, code: reason.code, wasOpen };
    if (peerFault && reason.code !== 'closed') this.log.warn(fields, `link closed: ${reason.message}`);
    else this.log.info(fields, `link closed: ${reason.message}`);
    this.socket.destroy();
    this.rejectReady(reason);
    this.emit('close', reason);
  }

  get closedBecause(): LinkError | null {
    return this.closeReason;
  }
}
