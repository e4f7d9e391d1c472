/**
 * Stream sessions on a link (PSP reference flows/media.md "Extended StreamCreate cell";
 * binary/streamcreate.md, streamcreated.md, streamrelay.md, streamdestroy.md): live-stream
 * traffic rides variable-length cells straight on a TLS link — never inside onion circuits, whose
 * layer carries signalling and chat only and is rate-limited at every node (DESIGN §3).
 *
 * A session is named by a circuit id on its link, taken by the side that opens it from the link's
 * own id space (the MSB rule, cell/circid.ts), so sessions and circuits never collide:
 *   StreamCreate   opens a session; payload: its first stream message (create-stream, join,
 *                  relay-join or attach-distribution, node-core/stream/messages.ts)
 *   StreamCreated  the opener's request is accepted; payload: the answer (created or joined)
 *   StreamRelay    any later message, either way
 *   StreamDestroy  closes the session; payload: empty, or a last message (refused, redirect,
 *                  end-stream, leave)
 * Every payload is one stream message (≤ 65,535 bytes, the variable cell's limit).
 *
 * A peer that breaks these rules (a duplicate id, a cell for a session in the wrong state, more
 * sessions than allowed) has the offending session refused or the cell ignored; the link stays up
 * for the peer's other sessions. Messages are handed up as bytes: the consumer decodes them
 * (relays forward media without looking inside).
 */
import { EventEmitter } from 'node:events';
import { CellCommand, type Cell } from '../../cell';
import { decodeStreamMessage, encodeStreamMessage, type RefuseReason, type StreamMessage } from '../../stream';
import type { Link } from './link';
import { LinkChannel } from '../onion/runtime';

export const STREAM_COMMANDS: ReadonlySet<number> = new Set([
  CellCommand.StreamCreate,
  CellCommand.StreamCreated,
  CellCommand.StreamRelay,
  CellCommand.StreamDestroy,
]);

/** The session was closed by the peer with a last message (refused, redirect, …) or without one. */
export class StreamClosedError extends Error {
  override readonly name = 'StreamClosedError';
  constructor(
    message: string,
    readonly last: StreamMessage | null,
  ) {
    super(message);
  }
}

export interface StreamSessionEvents {
  /** A message from the peer (bytes as received). */
  message: [bytes: Uint8Array];
  /** The session ended: `last` is the peer's closing message if it sent one; `local` when we closed it. */
  close: [last: StreamMessage | null, reason: string, local: boolean];
}

export class StreamSession extends EventEmitter<StreamSessionEvents> {
  private state: 'opening' | 'pending' | 'open' | 'closed' = 'opening';
  /** The message that opened the session (inbound sessions). */
  first: StreamMessage | null = null;

  constructor(
    readonly mux: StreamMux,
    readonly id: number,
    readonly inbound: boolean,
  ) {
    super();
    if (inbound) this.state = 'pending';
  }

  get link(): Link {
    return this.mux.link;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Accepts an inbound session with its answer (created or joined). */
  accept(answer: StreamMessage): void {
    if (this.state !== 'pending') throw new Error('only a pending inbound session can be accepted');
    this.state = 'open';
    this.mux.sendCell(this.id, CellCommand.StreamCreated, encodeStreamMessage(answer));
  }

  /** Refuses a pending session, or closes an open one, with a reason. */
  refuse(reason: RefuseReason, streamId: Uint8Array | null = null): void {
    this.close({ type: 'refused', reason, streamId });
  }

  /**
   * Sends one message (already encoded). Returns false when the link is backed up (or the session
   * closed); `onWritten` runs once the bytes have left our queue.
   */
  send(bytes: Uint8Array, onWritten?: (err?: Error | null) => void): boolean {
    if (this.state !== 'open') {
      onWritten?.(new Error('session closed'));
      return false;
    }
    return this.mux.sendCell(this.id, CellCommand.StreamRelay, bytes, onWritten);
  }

  sendMessage(m: StreamMessage): boolean {
    return this.send(encodeStreamMessage(m));
  }

  /** Closes the session, telling the peer `last` if given. */
  close(last: StreamMessage | null = null, reason = 'closed locally'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.mux.sendCell(this.id, CellCommand.StreamDestroy, last ? encodeStreamMessage(last) : new Uint8Array(0));
    this.mux.forget(this.id);
    this.emit('close', null, reason, true);
  }

  /** @internal the mux's view */
  opened(): void {
    this.state = 'open';
  }

  /** @internal */
  closedByPeer(last: StreamMessage | null, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.emit('close', last, reason, false);
  }
}

export interface StreamMuxOptions {
  /** Called for a peer's new session with its first message; must accept or refuse it (now or later). */
  readonly onSession?: (session: StreamSession, first: StreamMessage) => void;
  /** Most sessions a peer may hold open on this link (default 64). */
  readonly maxInboundSessions?: number;
  /**
   * Take the link's stream cells directly (a client's own link). A node routes the cells of its
   * links itself (node.ts) and leaves this off.
   */
  readonly route?: boolean;
}

const muxes = new WeakMap<Link, StreamMux>();

export class StreamMux {
  private readonly sessions = new Map<number, StreamSession>();
  private readonly waiting = new Map<number, { resolve: (a: StreamMessage) => void; reject: (e: Error) => void }>();
  private readonly channel: LinkChannel;
  private inboundCount = 0;
  private onSession: StreamMuxOptions['onSession'];
  private readonly maxInbound: number;

  private constructor(
    readonly link: Link,
    options: StreamMuxOptions,
  ) {
    this.channel = LinkChannel.of(link);
    this.onSession = options.onSession;
    this.maxInbound = options.maxInboundSessions ?? 64;
    link.once('close', (err) => {
      for (const s of [...this.sessions.values()]) {
        this.forget(s.id);
        s.closedByPeer(null, `link closed: ${err.message}`);
      }
      for (const w of this.waiting.values()) w.reject(new StreamClosedError(`link closed: ${err.message}`, null));
      this.waiting.clear();
    });
  }

  /** The one mux of a link (created on first use). */
  static of(link: Link, options: StreamMuxOptions = {}): StreamMux {
    let m = muxes.get(link);
    if (!m) {
      m = new StreamMux(link, options);
      muxes.set(link, m);
      if (options.route) {
        const mux = m;
        link.on('cell', (cell) => {
          if (STREAM_COMMANDS.has(cell.command)) mux.onCell(cell);
        });
      }
    } else if (options.onSession) {
      m.onSession = options.onSession;
    }
    return m;
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * Opens a session with `first`; resolves with the session and the peer's answer, or rejects with
   * a StreamClosedError carrying the peer's refusal or redirect.
   */
  async open(first: StreamMessage, timeoutMs = 15_000): Promise<{ session: StreamSession; answer: StreamMessage }> {
    if (!this.link.isOpen) throw new StreamClosedError('link is not open', null);
    const id = this.channel.circIds.allocate();
    const session = new StreamSession(this, id, false);
    this.sessions.set(id, session);
    this.link.inUse++;
    const answer = new Promise<StreamMessage>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiting.delete(id);
        session.close(null, 'no answer');
        reject(new StreamClosedError(`no answer within ${timeoutMs} ms`, null));
      }, timeoutMs);
      t.unref();
      this.waiting.set(id, {
        resolve: (a) => {
          clearTimeout(t);
          resolve(a);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
    });
    this.sendCell(id, CellCommand.StreamCreate, encodeStreamMessage(first));
    const a = await answer;
    session.opened();
    return { session, answer: a };
  }

  /** Routes a stream cell of this link. */
  onCell(cell: Cell): void {
    const { circId, command, payload } = cell;
    const s = this.sessions.get(circId);
    switch (command) {
      case CellCommand.StreamCreate: {
        // The opener takes ids from its own half of the space (MSB set iff it initiated the link).
        if (circId >>> 31 !== (this.channel.initiatedByUs ? 0 : 1)) return this.refuseId(circId, 'protocol');
        if (s !== undefined) return this.refuseId(circId, 'duplicate');
        if (this.inboundCount >= this.maxInbound) return this.refuseId(circId, 'rate-limited');
        let first: StreamMessage;
        try {
          first = decodeStreamMessage(payload);
        } catch {
          return this.refuseId(circId, 'protocol');
        }
        if (!this.onSession) return this.refuseId(circId, 'protocol');
        const session = new StreamSession(this, circId, true);
        session.first = first;
        this.sessions.set(circId, session);
        this.inboundCount++;
        this.link.inUse++;
        this.onSession(session, first);
        return;
      }
      case CellCommand.StreamCreated: {
        const w = this.waiting.get(circId);
        if (!w) return;
        this.waiting.delete(circId);
        try {
          w.resolve(decodeStreamMessage(payload));
        } catch (err) {
          s?.close(null, 'malformed answer');
          w.reject(new StreamClosedError(`malformed answer: ${(err as Error).message}`, null));
        }
        return;
      }
      case CellCommand.StreamRelay:
        if (s?.isOpen) s.emit('message', payload);
        return;
      case CellCommand.StreamDestroy: {
        let last: StreamMessage | null = null;
        if (payload.length > 0) {
          try {
            last = decodeStreamMessage(payload);
          } catch {
            last = null;
          }
        }
        const w = this.waiting.get(circId);
        if (s) {
          this.forget(circId);
          s.closedByPeer(last, 'closed by peer');
        }
        if (w) {
          this.waiting.delete(circId);
          const why = last?.type === 'refused' ? `refused: ${last.reason}` : last?.type === 'redirect' ? 'redirected' : 'closed by peer';
          w.reject(new StreamClosedError(why, last));
        }
        return;
      }
    }
  }

  /** @internal */
  sendCell(circId: number, command: CellCommand, payload: Uint8Array, onWritten?: (err?: Error | null) => void): boolean {
    if (!this.link.isOpen) {
      onWritten?.(new Error('link closed'));
      return false;
    }
    return this.link.send({ circId, command, payload }, onWritten);
  }

  /** @internal */
  forget(id: number): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    if (s.inbound) this.inboundCount--;
    else this.channel.circIds.free(id);
    this.link.inUse = Math.max(0, this.link.inUse - 1);
  }

  private refuseId(circId: number, reason: RefuseReason): void {
    this.sendCell(circId, CellCommand.StreamDestroy, encodeStreamMessage({ type: 'refused', reason, streamId: null }));
  }
}
