/**
 * Conversation: one 1:1 chat with a peer above private channels (DESIGN §3, "Rendezvous and
 * private chat"). A channel is an ordered pipe that breaks whenever a circuit fails; this layer
 * makes the conversation reliable across broken channels, restarts and lossy transports, and
 * also takes frames fetched from an offline mailbox. The frame formats are in frames.ts.
 *
 * Reliability (each direction is a stream of items numbered from 1):
 *   - Sending: an item is stored with its seq (ChatStore.appendOutgoing) before it is ever sent.
 *     Up to min(sendWindow, the peer's announced window) items past the peer's cumulative
 *     acknowledgement are in flight. Each is retransmitted when its timer expires; the timeout is
 *     computed as in RFC 6298 (§2: SRTT/RTTVAR, §3: Karn's rule — no samples from retransmitted
 *     items, §5.5: the timer backs off by doubling, up to rtoMax). An item with at least three
 *     items above it selectively acknowledged is retransmitted at once, once per timeout (the
 *     duplicate threshold of RFC 5681 §3.2, counted on selective acknowledgements as in
 *     RFC 6675 §5).
 *   - Receiving: the next item is stored together with the receive cursor
 *     (ChatStore.deliverIncoming), then shown (onMessage) — so exactly once and in order. Items
 *     ahead of a gap, up to recvWindow past the cursor, are stored as held and delivered when
 *     the gap fills; items beyond the window are dropped (the sender retransmits them). Old
 *     seqs are duplicates and change nothing. The receiver acknowledges only what it stored:
 *     the cursor (cumulative) and up to 8 ranges of held items (selective).
 *   - Resuming: `attach` sends HELLO (cursor, held ranges, window, own last seq) asking for a
 *     reply. A HELLO acknowledges like an ACK; the first one on a channel, and any that asks for
 *     a reply (the peer has just attached), make its receiver retransmit everything still
 *     unacknowledged at once and resume its file pulls. Nothing but HELLO is sent on a new
 *     channel until one arrives or the current retransmission timeout passes.
 *   - Mailbox: `pendingFrames` gives the unacknowledged DATA frames for an offline mailbox;
 *     `receiveFrame(frame, 'mailbox')` takes them on the other side (DATA only, no rate limit).
 *   - Statuses of our messages: pending (stored) → sent (transmitted once) → delivered
 *     (acknowledged) → read (the peer's read receipt, a reliable item, covers it).
 *
 * Files: the offer is a reliable item; the receiver pulls chunk-aligned ranges (FILE_PULL) from
 * its stored progress, at most filePullWindow chunks ahead, and stores chunks strictly in order
 * (out-of-order chunks inside the window wait in memory). A pull that brings no progress within
 * the timeout is asked again, with backoff. When every byte is stored the receiver checks the
 * SHA-256 announced in the offer and sends FILE_DONE, or FILE_CANCEL(hash-mismatch) and reports
 * the failure. Outgoing files are copied into the store first (so a restart can serve them).
 *
 * Protection: inbound frames from a channel pass a token bucket (inboundRate frames/s, burst
 * inboundBurst); frames over it are dropped and counted. Every frame is size-checked and decoded
 * by frames.ts; a frame that does not decode, or that contradicts the conversation (acknowledges
 * items never sent, asks for a file that is not offered), is reported through onProtocolError
 * and changes nothing.
 *
 * Typing: unreliable TYPING frames, at most one per typingInterval; the receiver's indicator
 * switches itself off after typingTimeout without a refresh, and when a message arrives.
 *
 * Everything that touches the store runs one operation at a time, in arrival order. Event
 * handlers that throw are ignored (they cannot disturb the protocol).
 *
 * Does not: encrypt or authenticate frames (the channel and the mailbox do), decide when to
 * build a channel (hasUnacked tells the caller that something waits for the peer), or pace the
 * chunks it serves beyond what the peer pulls (the channel's own flow control does).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { Scheduler } from '../onion/channel';
import { assertBytes, equalBytes, toHex, utf8 } from '../util/bytes';
import { TokenBucket } from '../util/token-bucket';
import { ChatError, isChatError } from './errors';
import {
  type ChatFrame,
  type ChatItem,
  type DataFrame,
  type FileCancelReason,
  type FileChunkFrame,
  type FilePullFrame,
  type HelloFrame,
  ID_BYTES,
  MAX_ACK_RANGES,
  MAX_CHUNK_BYTES,
  MAX_PULL_BYTES,
  MAX_TEXT_BYTES,
  MAX_WINDOW,
  MIN_CHUNK_BYTES,
  SHA256_BYTES,
  type SeqRange,
  decodeFrame,
  encodeFrame,
  fileNameProblem,
} from './frames';
import {
  type ChatMessage,
  type ChatStore,
  type DeliverResult,
  type FileTransfer,
  type StatusChange,
  type StoredItem,
  idBytes,
  inRanges,
  messageOf,
} from './store';

export interface ChatTransport {
  send(frame: Uint8Array): void;
  readonly isOpen: boolean;
}

export interface ChatLimits {
  /** Items in flight past the peer's cumulative acknowledgement (also capped by the peer's window). */
  sendWindow: number;
  /** How far past our cursor we accept items (announced in HELLO), 1..65535. */
  recvWindow: number;
  /** Retransmission timeout before any round-trip sample, ms (RFC 6298 §2.1). */
  rtoInitial: number;
  rtoMin: number;
  rtoMax: number;
  /** Inbound frames per second from a channel (token bucket rate) and its burst. */
  inboundRate: number;
  inboundBurst: number;
  /** At most one TYPING frame per this many ms. */
  typingInterval: number;
  /** The peer's typing indicator switches off after this many ms without a refresh. */
  typingTimeout: number;
  /** Chunk size of files we offer (512..65536). */
  fileChunkSize: number;
  /** Chunks a receiver asks for ahead of its stored progress. */
  filePullWindow: number;
  /** Largest file we send or accept; larger offers are refused. */
  maxFileSize: number;
}

export const DEFAULT_CHAT_LIMITS: Readonly<ChatLimits> = Object.freeze({
  sendWindow: 64,
  recvWindow: 256,
  rtoInitial: 1000,
  rtoMin: 200,
  rtoMax: 60_000,
  inboundRate: 200,
  inboundBurst: 400,
  typingInterval: 3000,
  typingTimeout: 6000,
  fileChunkSize: 32_768,
  filePullWindow: 16,
  maxFileSize: 2 ** 31,
});

/** The window we assume for a peer that has not said (no HELLO yet). */
const DEFAULT_PEER_WINDOW = 64;
/** Bytes read from a file source, and hashed, per step. */
const COPY_STEP = 1_048_576;
/** Selective-acknowledgement count above an item that triggers its early retransmission. */
const DUP_THRESHOLD = 3;

export interface ConversationEvents {
  /** A new incoming message, exactly once, in order (after it is stored). */
  onMessage?(m: ChatMessage): void;
  /** An outgoing message's status moved. */
  onStatus?(id: string, status: 'sent' | 'delivered' | 'read'): void;
  onTyping?(active: boolean): void;
  onFileProgress?(fileId: string, bytes: number, total: number, direction: 'in' | 'out'): void;
  /** An incoming file is stored and its SHA-256 matched, or the peer confirmed an outgoing one. */
  onFileComplete?(fileId: string): void;
  /** A transfer ended without the file: the peer cancelled or refused it, or the bytes did not match. */
  onFileFailed?(fileId: string, reason: FileCancelReason): void;
  /** A bad frame: reported, nothing changed. */
  onProtocolError?(err: ChatError): void;
  /** A failure of background work (the store failing while acknowledging or resuming). */
  onError?(err: unknown): void;
}

export interface ConversationOptions {
  /** Own Ed25519 identity key (32 bytes). */
  self: Uint8Array;
  /** The peer's Ed25519 identity key (32 bytes). */
  peer: Uint8Array;
  store: ChatStore;
  scheduler: Scheduler;
  random: (n: number) => Uint8Array;
  limits?: Partial<ChatLimits>;
  events?: ConversationEvents;
}

/** A file to send: its bytes come from `read`, which must return exactly `length` bytes. */
export interface OutgoingFile {
  name: string;
  size: number;
  sha256: Uint8Array;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export interface ConversationStats {
  framesIn: number;
  framesOut: number;
  /** Dropped by the inbound rate limit. */
  rateLimited: number;
  /** Did not decode, or contradicted the conversation. */
  rejected: number;
  /** Items and chunks received again. */
  duplicates: number;
  /** Items beyond the receive window. */
  outOfWindow: number;
  retransmissions: number;
}

interface FlightEntry {
  readonly seq: number;
  readonly item: StoredItem;
  readonly frame: Uint8Array;
  /** Still 'pending' in the store and not yet queued for markSent. */
  unmarked: boolean;
  /** Transmitted since the current channel's HELLO exchange. */
  sentThisSession: boolean;
  lastSentAt: number;
  transmissions: number;
  rto: number;
  deadline: number | null;
  fastRetransmitted: boolean;
}

interface Pull {
  readonly fileId: string;
  readonly id: Uint8Array;
  readonly size: number;
  readonly chunkSize: number;
  received: number;
  requestedEnd: number;
  readonly buffer: Map<number, Uint8Array>;
  timer: { cancel(): void } | null;
  rto: number;
}

function checkLimits(l: ChatLimits): void {
  const int = (name: keyof ChatLimits, min: number, max: number): void => {
    const v = l[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new RangeError(`limits.${name} must be an integer in ${min}..${max}, got ${String(v)}`);
    }
  };
  int('sendWindow', 1, MAX_WINDOW);
  int('recvWindow', 1, MAX_WINDOW);
  int('rtoMin', 1, 3_600_000);
  int('rtoInitial', l.rtoMin, 3_600_000);
  int('rtoMax', l.rtoInitial, 3_600_000);
  if (!(l.inboundRate > 0) || !Number.isFinite(l.inboundRate)) throw new RangeError('limits.inboundRate must be a positive number');
  int('inboundBurst', 1, 1_000_000);
  int('typingInterval', 1, 3_600_000);
  int('typingTimeout', 1, 3_600_000);
  int('fileChunkSize', MIN_CHUNK_BYTES, MAX_CHUNK_BYTES);
  int('filePullWindow', 1, 1024);
  int('maxFileSize', 0, Number.MAX_SAFE_INTEGER);
}

function checkText(text: unknown): asserts text is string {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text)) {
    throw new RangeError('text contains a lone surrogate (it cannot be encoded as UTF-8)');
  }
  const n = utf8(text).length;
  if (n === 0) throw new RangeError('text must not be empty');
  if (n > MAX_TEXT_BYTES) throw new RangeError(`text is ${n} UTF-8 bytes; a message holds at most ${MAX_TEXT_BYTES}`);
}

/** Sorted seqs as at most `max` inclusive ranges, lowest first. */
function toRanges(seqs: Iterable<number>, max: number): SeqRange[] {
  const sorted = [...seqs].sort((a, b) => a - b);
  const out: SeqRange[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && s === last.end + 1) out[out.length - 1] = { start: last.start, end: s };
    else {
      if (out.length === max) break;
      out.push({ start: s, end: s });
    }
  }
  return out;
}

export class Conversation {
  /** The peer's key, hex (as the store names the conversation). */
  readonly peerKey: string;
  private readonly store: ChatStore;
  private readonly scheduler: Scheduler;
  private readonly random: (n: number) => Uint8Array;
  private readonly limits: Readonly<ChatLimits>;
  private readonly events: ConversationEvents;
  private readonly bucket: TokenBucket;
  private readonly ready: Promise<void>;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  // stream state, as stored
  private lastOutSeq = 0;
  private peerCumAck = 0;
  private recvCursor = 0;
  private lastInMessageSeq = 0;
  private readUpTo = 0;
  private readonly held = new Set<number>();

  // sending
  private readonly flight = new Map<number, FlightEntry>();
  private loadedThrough = 0;
  private peerWindow = DEFAULT_PEER_WINDOW;
  private srtt: number | null = null;
  private rttvar = 0;
  private rto: number;
  private rtxTimer: { cancel(): void; at: number } | null = null;
  private readonly toMark = new Set<number>();
  private markScheduled = false;

  // the channel
  private transport: ChatTransport | null = null;
  private helloDone = false;
  private helloTimer: { cancel(): void } | null = null;
  private ackScheduled = false;

  // typing
  private typingWanted = false;
  private typingSent = false;
  private typingSentAt = -Infinity;
  private typingTimer: { cancel(): void } | null = null;
  private remoteTyping = false;
  private remoteTypingTimer: { cancel(): void } | null = null;

  // files
  private readonly activeIn = new Map<string, FileTransfer>();
  private readonly pulls = new Map<string, Pull>();
  private readonly served = new Map<string, number>();

  private readonly counters: ConversationStats = {
    framesIn: 0,
    framesOut: 0,
    rateLimited: 0,
    rejected: 0,
    duplicates: 0,
    outOfWindow: 0,
    retransmissions: 0,
  };

  constructor(opts: ConversationOptions) {
    if (typeof opts !== 'object' || opts === null) throw new TypeError('opts must be an object');
    assertBytes(opts.self, 'opts.self', 32);
    assertBytes(opts.peer, 'opts.peer', 32);
    if (equalBytes(opts.self, opts.peer)) throw new RangeError('opts.peer must differ from opts.self');
    const s = opts.store as Partial<ChatStore> | undefined;
    if (typeof s !== 'object' || s === null || typeof s.appendOutgoing !== 'function' || typeof s.deliverIncoming !== 'function') {
      throw new TypeError('opts.store must be a ChatStore');
    }
    const sch = opts.scheduler as Partial<Scheduler> | undefined;
    if (typeof sch !== 'object' || sch === null || typeof sch.now !== 'function' || typeof sch.setTimeout !== 'function' || typeof sch.defer !== 'function') {
      throw new TypeError('opts.scheduler must be a Scheduler');
    }
    if (typeof opts.random !== 'function') throw new TypeError('opts.random must be a function');
    if (opts.limits !== undefined && (typeof opts.limits !== 'object' || opts.limits === null)) throw new TypeError('opts.limits must be an object');
    if (opts.events !== undefined && (typeof opts.events !== 'object' || opts.events === null)) throw new TypeError('opts.events must be an object');
    const limits = { ...DEFAULT_CHAT_LIMITS, ...opts.limits };
    checkLimits(limits);
    this.limits = Object.freeze(limits);
    this.peerKey = toHex(opts.peer);
    this.store = opts.store;
    this.scheduler = opts.scheduler;
    this.random = opts.random;
    this.events = opts.events ?? {};
    this.rto = limits.rtoInitial;
    this.bucket = new TokenBucket(limits.inboundRate, limits.inboundBurst, this.scheduler.now());
    this.ready = this.load();
    this.ready.catch(() => undefined);
    // An incoming file whose bytes were all stored before a restart is checked at once.
    this.background(async () => {
      for (const t of [...this.activeIn.values()]) if (t.bytes === t.size) await this.finishIncoming(t.fileId);
    });
  }

  /** Creates a conversation and waits until its state is loaded from the store. */
  static async open(opts: ConversationOptions): Promise<Conversation> {
    const c = new Conversation(opts);
    await c.ready;
    return c;
  }

  private async load(): Promise<void> {
    const s = await this.store.conversationState(this.peerKey);
    this.lastOutSeq = s.lastOutSeq;
    this.peerCumAck = s.peerCumAck;
    this.loadedThrough = s.peerCumAck;
    this.recvCursor = s.recvCursor;
    this.lastInMessageSeq = s.lastInMessageSeq;
    this.readUpTo = s.readUpTo;
    for (const h of s.held) this.held.add(h);
    for (const t of await this.store.transfers(this.peerKey)) {
      if (t.direction === 'in' && t.state === 'active') this.activeIn.set(t.fileId, t);
    }
  }

  // ---- the operation queue -------------------------------------------------------------

  /** Runs `fn` after every operation queued before it (and after loading). */
  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(() => this.ready).then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Queues work nobody waits for (none once closed); its failure goes to onError. */
  private background(fn: () => Promise<void>): void {
    if (this.closed) return;
    this.enqueue(fn).catch((e: unknown) => this.emit(() => this.events.onError?.(e)));
  }

  /** Resolves when every operation queued so far (and any they queued) has finished. */
  async whenIdle(): Promise<void> {
    let t: Promise<unknown>;
    do {
      t = this.tail;
      await t;
    } while (t !== this.tail);
  }

  private emit(fn: () => void): void {
    try {
      fn();
    } catch {
      // A failing event handler must not disturb the protocol.
    }
  }

  private report(err: ChatError): void {
    this.counters.rejected++;
    this.emit(() => this.events.onProtocolError?.(err));
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the conversation is closed');
  }

  // ---- the channel ---------------------------------------------------------------------

  private get canSend(): boolean {
    return this.transport !== null && this.transport.isOpen;
  }

  private send(frame: ChatFrame): void {
    const t = this.transport;
    if (t === null || !t.isOpen) return;
    try {
      t.send(encodeFrame(frame));
      this.counters.framesOut++;
    } catch {
      // A channel that fails while sending is as good as broken: retransmission covers it.
    }
  }

  private sendRaw(bytes: Uint8Array): void {
    const t = this.transport;
    if (t === null || !t.isOpen) return;
    try {
      t.send(bytes);
      this.counters.framesOut++;
    } catch {
      // As in send().
    }
  }

  /** A channel to the peer is up: exchange HELLO, then resume sending and file pulls. */
  attach(t: ChatTransport): void {
    this.assertOpen();
    if (typeof t !== 'object' || t === null || typeof t.send !== 'function') throw new TypeError('t must be a ChatTransport');
    this.detach();
    this.transport = t;
    this.enqueue(async () => {
      if (this.transport !== t) return;
      this.sendHello(true);
      this.helloTimer = this.scheduler.setTimeout(() => {
        this.helloTimer = null;
        if (this.transport === t && !this.helloDone) this.resume();
      }, this.rto);
    }).catch((e: unknown) => this.emit(() => this.events.onError?.(e)));
    if (this.typingWanted) this.flushTyping();
  }

  /** The channel broke: stop sending on it. Nothing is lost. */
  detach(): void {
    this.transport = null;
    this.helloDone = false;
    this.helloTimer?.cancel();
    this.helloTimer = null;
    this.rtxTimer?.cancel();
    this.rtxTimer = null;
    for (const e of this.flight.values()) {
      e.sentThisSession = false;
      e.deadline = null;
    }
    for (const p of this.pulls.values()) p.timer?.cancel();
    this.pulls.clear();
    this.typingTimer?.cancel();
    this.typingTimer = null;
    this.typingSent = false;
    this.setRemoteTyping(false);
  }

  /** Cancels every timer; later calls fail. Operations already queued still finish. */
  close(): void {
    if (this.closed) return;
    this.detach();
    this.closed = true;
    this.remoteTypingTimer?.cancel();
    this.remoteTypingTimer = null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private sendHello(replyWanted: boolean): void {
    this.send({
      type: 'hello',
      replyWanted,
      window: this.limits.recvWindow,
      recvCursor: this.recvCursor,
      lastSeq: this.lastOutSeq,
      ranges: toRanges(this.held, MAX_ACK_RANGES),
    });
  }

  /** After the HELLO exchange (or its timeout): send everything in flight now, resume pulls. */
  private resume(): void {
    this.helloDone = true;
    this.helloTimer?.cancel();
    this.helloTimer = null;
    for (const e of this.flight.values()) {
      e.sentThisSession = false;
      e.rto = this.rto;
    }
    this.background(async () => this.pump());
    for (const t of this.activeIn.values()) this.startPull(t);
  }

  // ---- receiving -----------------------------------------------------------------------

  /**
   * Takes one frame from the channel or, with source 'mailbox', from the offline mailbox (only
   * DATA frames, and no rate limit: the caller fetched them). Resolves when the frame has been
   * handled (an item it carried is stored); a bad frame is reported through onProtocolError
   * and changes nothing. Rejects only when the store fails.
   */
  async receiveFrame(frame: Uint8Array, source: 'channel' | 'mailbox' = 'channel'): Promise<void> {
    assertBytes(frame, 'frame');
    if (source !== 'channel' && source !== 'mailbox') throw new RangeError("source must be 'channel' or 'mailbox'");
    if (this.closed) return;
    this.counters.framesIn++;
    if (source === 'channel' && !this.bucket.take(this.scheduler.now())) {
      this.counters.rateLimited++;
      return;
    }
    let f: ChatFrame;
    try {
      f = decodeFrame(frame);
    } catch (e) {
      if (isChatError(e)) return this.report(e);
      throw e;
    }
    if (source === 'mailbox' && f.type !== 'data') {
      return this.report(new ChatError('bad-state', `a ${f.type} frame cannot come through the mailbox`));
    }
    switch (f.type) {
      case 'typing':
        return this.onTyping(f.active);
      case 'data':
        return this.enqueue(() => this.onData(f));
      case 'ack':
        await this.enqueue(() => this.onAck(f.cumulative, f.ranges));
        return;
      case 'hello':
        return this.enqueue(() => this.onHello(f));
      case 'file-pull':
        return this.enqueue(() => this.onPull(f));
      case 'file-chunk':
        return this.enqueue(() => this.onChunk(f));
    }
  }

  private async onData(f: DataFrame): Promise<void> {
    const { seq } = f;
    if (seq <= this.recvCursor || this.held.has(seq)) {
      this.counters.duplicates++;
    } else if (seq > this.recvCursor + this.limits.recvWindow) {
      this.counters.outOfWindow++;
    } else if (seq === this.recvCursor + 1) {
      const res = await this.store.deliverIncoming(this.peerKey, seq, f.sentAt, f.item, this.scheduler.now());
      await this.afterDeliver(res);
    } else if (await this.store.holdIncoming(this.peerKey, seq, f.sentAt, f.item)) {
      this.held.add(seq);
    }
    this.scheduleAck();
  }

  private async afterDeliver(res: DeliverResult): Promise<void> {
    for (const d of res.delivered) {
      this.recvCursor = Math.max(this.recvCursor, d.seq);
      this.held.delete(d.seq);
    }
    for (const d of res.delivered) {
      const m = messageOf(this.peerKey, d);
      if (m === undefined) continue;
      this.lastInMessageSeq = Math.max(this.lastInMessageSeq, d.seq);
      this.setRemoteTyping(false);
      this.emit(() => this.events.onMessage?.(m));
    }
    this.emitStatus(res.statusChanges);
    for (const t of res.transfers) await this.transferChanged(t, false);
  }

  private emitStatus(changes: readonly StatusChange[]): void {
    for (const c of changes) this.emit(() => this.events.onStatus?.(c.id, c.status));
  }

  /** Reacts to a transfer the store opened or changed; `local` when our own item changed it. */
  private async transferChanged(t: FileTransfer, local: boolean): Promise<void> {
    if (t.direction === 'in') {
      if (t.state === 'active') {
        this.activeIn.set(t.fileId, t);
        if (t.size > this.limits.maxFileSize) {
          await this.appendCancel(t, 'receiver', 'refused');
        } else if (t.bytes === t.size) {
          await this.finishIncoming(t.fileId);
        } else if (this.helloDone) {
          this.startPull(t);
        }
        return;
      }
      this.activeIn.delete(t.fileId);
      this.stopPull(t.fileId);
    } else {
      this.served.delete(t.fileId);
      if (t.state === 'complete') this.emit(() => this.events.onFileComplete?.(t.fileId));
    }
    if (!local && (t.state === 'failed' || t.state === 'cancelled')) {
      this.emit(() => this.events.onFileFailed?.(t.fileId, t.reason ?? 'cancelled'));
    }
  }

  private scheduleAck(): void {
    if (this.ackScheduled || !this.canSend) return;
    this.ackScheduled = true;
    this.scheduler.defer(() => {
      this.ackScheduled = false;
      this.send({ type: 'ack', cumulative: this.recvCursor, ranges: toRanges(this.held, MAX_ACK_RANGES) });
    });
  }

  /** Applies an acknowledgement (from ACK or HELLO); false when it was rejected. */
  private async onAck(cumulative: number, ranges: readonly SeqRange[]): Promise<boolean> {
    if (!this.ackPlausible(cumulative, ranges)) return false;
    const acked: FlightEntry[] = [];
    for (const e of this.flight.values()) if (inRanges(e.seq, cumulative, ranges)) acked.push(e);
    const news = cumulative > this.peerCumAck || acked.length > 0 || ranges.some((r) => r.end > this.loadedThrough);
    if (!news) return true;
    const changes = await this.store.applyAck(this.peerKey, cumulative, ranges);
    this.peerCumAck = Math.max(this.peerCumAck, cumulative);
    this.loadedThrough = Math.max(this.loadedThrough, this.peerCumAck);
    const now = this.scheduler.now();
    let sample: number | null = null;
    for (const e of acked) {
      this.flight.delete(e.seq);
      // RFC 6298 §3 (Karn): only items transmitted once give a round-trip sample.
      if (e.transmissions === 1 && e.sentThisSession) sample = now - e.lastSentAt;
    }
    if (sample !== null) this.rttSample(sample);
    this.emitStatus(changes);
    this.fastRetransmit(ranges);
    await this.pump();
    this.armRtxTimer();
    return true;
  }

  /** False (and reported) when an acknowledgement covers items we never sent. */
  private ackPlausible(cumulative: number, ranges: readonly SeqRange[]): boolean {
    if (cumulative <= this.lastOutSeq && ranges.every((r) => r.end <= this.lastOutSeq)) return true;
    this.report(new ChatError('bad-state', `acknowledgement of seq ${cumulative} and ranges beyond our last item ${this.lastOutSeq}`));
    return false;
  }

  /** RFC 6298 §2.2–2.4 with α = 1/8, β = 1/4, K = 4, clamped to [rtoMin, rtoMax]. */
  private rttSample(r: number): void {
    const sample = Math.max(0, r);
    if (this.srtt === null) {
      this.srtt = sample;
      this.rttvar = sample / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - sample);
      this.srtt = 0.875 * this.srtt + 0.125 * sample;
    }
    this.rto = Math.min(this.limits.rtoMax, Math.max(this.limits.rtoMin, Math.ceil(this.srtt + 4 * this.rttvar)));
  }

  private fastRetransmit(ranges: readonly SeqRange[]): void {
    if (ranges.length === 0 || !this.canSend || !this.helloDone) return;
    for (const e of this.flight.values()) {
      if (e.fastRetransmitted || !e.sentThisSession) continue;
      let above = 0;
      for (const r of ranges) if (r.start > e.seq) above += r.end - r.start + 1;
      if (above < DUP_THRESHOLD) continue;
      e.fastRetransmitted = true;
      this.transmit(e);
    }
  }

  /**
   * A HELLO acknowledges like an ACK. The first one on a channel, and any that asks for a reply
   * (the peer has just attached: whatever was on the way to it is lost), make us send everything
   * unacknowledged at once; a reply arriving after that changes nothing more.
   */
  private async onHello(f: HelloFrame): Promise<void> {
    if (!this.ackPlausible(f.recvCursor, f.ranges)) return;
    this.peerWindow = f.window;
    await this.onAck(f.recvCursor, f.ranges);
    if (f.replyWanted) this.sendHello(false);
    if (this.transport !== null && (!this.helloDone || f.replyWanted)) this.resume();
  }

  private onTyping(active: boolean): void {
    this.setRemoteTyping(active);
    if (active && this.remoteTyping && !this.closed) {
      this.remoteTypingTimer?.cancel();
      this.remoteTypingTimer = this.scheduler.setTimeout(() => {
        this.remoteTypingTimer = null;
        this.setRemoteTyping(false);
      }, this.limits.typingTimeout);
    }
  }

  private setRemoteTyping(active: boolean): void {
    if (!active) {
      this.remoteTypingTimer?.cancel();
      this.remoteTypingTimer = null;
    }
    if (active === this.remoteTyping) return;
    this.remoteTyping = active;
    this.emit(() => this.events.onTyping?.(active));
  }

  // ---- sending -------------------------------------------------------------------------

  private newEntry(item: StoredItem): FlightEntry {
    return {
      seq: item.seq,
      item,
      frame: encodeFrame({ type: 'data', seq: item.seq, sentAt: item.sentAt, item: item.item }),
      unmarked: item.status === 'pending',
      sentThisSession: false,
      lastSentAt: 0,
      transmissions: 0,
      rto: this.rto,
      deadline: null,
      fastRetransmitted: false,
    };
  }

  private get sendLimit(): number {
    return this.peerCumAck + Math.min(this.limits.sendWindow, this.peerWindow);
  }

  /** Loads items into the window from the store and transmits those not yet sent on this channel. */
  private async pump(): Promise<void> {
    if (this.closed) return;
    const upTo = Math.min(this.sendLimit, this.lastOutSeq);
    if (this.loadedThrough < upTo) {
      const items = await this.store.outgoing(this.peerKey, this.loadedThrough, upTo - this.loadedThrough);
      for (const it of items) if (it.seq <= upTo && !this.flight.has(it.seq)) this.flight.set(it.seq, this.newEntry(it));
      this.loadedThrough = Math.max(this.loadedThrough, upTo);
    }
    this.transmitNew();
  }

  /** A freshly stored item of ours: into the window if it fits, then out. */
  private addOutgoing(item: StoredItem): void {
    this.lastOutSeq = Math.max(this.lastOutSeq, item.seq);
    if (item.seq === this.loadedThrough + 1 && item.seq <= this.sendLimit) {
      this.flight.set(item.seq, this.newEntry(item));
      this.loadedThrough = item.seq;
      this.transmitNew();
    }
  }

  private transmitNew(): void {
    if (!this.canSend || !this.helloDone) return;
    // Items loaded before the peer announced a smaller window wait until it allows them.
    const limit = this.sendLimit;
    for (const e of this.flight.values()) if (!e.sentThisSession && e.seq <= limit) this.transmit(e);
    this.armRtxTimer();
  }

  private transmit(e: FlightEntry): void {
    if (!this.canSend) return;
    this.sendRaw(e.frame);
    const now = this.scheduler.now();
    e.transmissions++;
    if (e.transmissions > 1) this.counters.retransmissions++;
    e.sentThisSession = true;
    e.lastSentAt = now;
    e.deadline = now + e.rto;
    if (e.unmarked) {
      e.unmarked = false;
      this.toMark.add(e.seq);
      this.scheduleMarkSent();
    }
  }

  private scheduleMarkSent(): void {
    if (this.markScheduled) return;
    this.markScheduled = true;
    this.scheduler.defer(() => {
      this.markScheduled = false;
      const seqs = [...this.toMark];
      this.toMark.clear();
      if (seqs.length === 0) return;
      this.background(async () => this.emitStatus(await this.store.markSent(this.peerKey, seqs)));
    });
  }

  private armRtxTimer(): void {
    let next = Infinity;
    for (const e of this.flight.values()) if (e.deadline !== null && e.deadline < next) next = e.deadline;
    if (this.rtxTimer !== null && this.rtxTimer.at === next) return;
    this.rtxTimer?.cancel();
    this.rtxTimer = null;
    if (next === Infinity || !this.canSend) return;
    const handle = this.scheduler.setTimeout(() => {
      this.rtxTimer = null;
      this.onRtxTimer();
    }, next - this.scheduler.now());
    this.rtxTimer = { cancel: () => handle.cancel(), at: next };
  }

  private onRtxTimer(): void {
    if (!this.canSend || !this.helloDone) return;
    const now = this.scheduler.now();
    for (const e of this.flight.values()) {
      if (e.deadline === null || e.deadline > now) continue;
      // RFC 6298 §5.5: back the timer off by doubling, up to the maximum.
      e.rto = Math.min(this.limits.rtoMax, e.rto * 2);
      e.fastRetransmitted = false;
      this.transmit(e);
    }
    this.armRtxTimer();
  }

  private newId(): Uint8Array {
    const id = this.random(ID_BYTES);
    if (!(id instanceof Uint8Array) || id.length !== ID_BYTES) throw new TypeError(`opts.random(${ID_BYTES}) must return ${ID_BYTES} bytes`);
    return id.slice();
  }

  private async append(item: ChatItem): Promise<{ stored: StoredItem; transfer?: FileTransfer }> {
    const res = await this.store.appendOutgoing(this.peerKey, item, this.scheduler.now());
    this.addOutgoing(res.item);
    return res.transfer === undefined ? { stored: res.item } : { stored: res.item, transfer: res.transfer };
  }

  /** Stores a text message (status 'pending') and sends it when it can. */
  async sendText(text: string): Promise<ChatMessage> {
    checkText(text);
    this.assertOpen();
    const messageId = this.newId();
    return this.enqueue(async () => {
      const { stored } = await this.append({ kind: 'text', messageId, text });
      return messageOf(this.peerKey, stored)!;
    });
  }

  /**
   * Copies a file into the store (checking its SHA-256 against `file.sha256`), then offers it.
   * The peer pulls it whenever a channel is up, across restarts.
   */
  async sendFile(file: OutgoingFile): Promise<ChatMessage> {
    if (typeof file !== 'object' || file === null) throw new TypeError('file must be an object');
    if (typeof file.name !== 'string') throw new TypeError('file.name must be a string');
    const problem = fileNameProblem(file.name);
    if (problem !== null) throw new RangeError(`file.name ${problem}`);
    if (typeof file.size !== 'number' || !Number.isSafeInteger(file.size) || file.size < 0) {
      throw new RangeError('file.size must be a non-negative safe integer');
    }
    if (file.size > this.limits.maxFileSize) throw new RangeError(`file.size ${file.size} is over the limit of ${this.limits.maxFileSize} bytes`);
    assertBytes(file.sha256, 'file.sha256', SHA256_BYTES);
    if (typeof file.read !== 'function') throw new TypeError('file.read must be a function');
    this.assertOpen();
    await this.ready;
    const fileIdBytes = this.newId();
    const messageIdBytes = this.newId();
    const fileId = toHex(fileIdBytes);
    const chunkSize = this.limits.fileChunkSize;
    const expected = file.sha256.slice();
    await this.store.createOutgoingFile(
      this.peerKey,
      { fileId, messageId: toHex(messageIdBytes), name: file.name, size: file.size, sha256: expected, chunkSize },
      this.scheduler.now(),
    );
    try {
      const h = sha256.create();
      for (let off = 0; off < file.size; off += COPY_STEP) {
        const len = Math.min(COPY_STEP, file.size - off);
        const data = await file.read(off, len);
        if (!(data instanceof Uint8Array) || data.length !== len) {
          throw new RangeError(`file.read(${off}, ${len}) must return ${len} bytes`);
        }
        h.update(data);
        await this.store.appendFileBytes(this.peerKey, fileId, 'out', off, data, this.scheduler.now());
      }
      if (!equalBytes(h.digest(), expected)) throw new RangeError('file.sha256 does not match the bytes file.read returned');
    } catch (e) {
      await this.store.discardFile(this.peerKey, fileId, 'out').catch(() => undefined);
      throw e;
    }
    return this.enqueue(async () => {
      const { stored } = await this.append({
        kind: 'file-offer',
        messageId: messageIdBytes,
        fileId: fileIdBytes,
        name: file.name,
        size: file.size,
        sha256: expected,
        chunkSize,
      });
      return messageOf(this.peerKey, stored)!;
    });
  }

  /** Cancels a transfer going on in either direction (the peer is told reliably). */
  async cancelFile(fileId: string): Promise<void> {
    if (typeof fileId !== 'string' || !/^[0-9a-f]{32}$/.test(fileId)) throw new RangeError('fileId must be 32 lower-case hex digits');
    this.assertOpen();
    return this.enqueue(async () => {
      const incoming = await this.store.transfer(this.peerKey, fileId, 'in');
      if (incoming !== undefined && incoming.state === 'active') return this.appendCancel(incoming, 'receiver', 'cancelled');
      const outgoing = await this.store.transfer(this.peerKey, fileId, 'out');
      if (outgoing !== undefined && outgoing.state === 'active') return this.appendCancel(outgoing, 'sender', 'cancelled');
      throw new RangeError('fileId: no transfer of that file is going on');
    });
  }

  private async appendCancel(t: FileTransfer, role: 'sender' | 'receiver', reason: FileCancelReason): Promise<void> {
    const { transfer } = await this.append({ kind: 'file-cancel', fileId: idBytes(t.fileId), role, reason });
    if (transfer !== undefined) await this.transferChanged(transfer, reason === 'cancelled');
  }

  /** Sends a read receipt up to the newest incoming message (nothing when it is already read). */
  async markRead(): Promise<void> {
    this.assertOpen();
    return this.enqueue(async () => {
      const upTo = this.lastInMessageSeq;
      if (upTo <= this.readUpTo) return;
      await this.append({ kind: 'read', upTo });
      this.readUpTo = upTo;
    });
  }

  /** Says whether we are typing: unreliable, at most one frame per typingInterval. */
  setTyping(active: boolean): void {
    if (typeof active !== 'boolean') throw new TypeError('active must be a boolean');
    this.assertOpen();
    this.typingWanted = active;
    this.flushTyping();
  }

  private flushTyping(): void {
    if (!this.canSend) return;
    const now = this.scheduler.now();
    const want = this.typingWanted;
    const interval = this.limits.typingInterval;
    const due = now - this.typingSentAt >= interval;
    if (want === this.typingSent && !(want && due)) return;
    if (!due) {
      if (want !== this.typingSent && this.typingTimer === null) {
        this.typingTimer = this.scheduler.setTimeout(() => {
          this.typingTimer = null;
          this.flushTyping();
        }, this.typingSentAt + interval - now);
      }
      return;
    }
    this.send({ type: 'typing', active: want });
    this.typingSent = want;
    this.typingSentAt = now;
  }

  /** True while something waits for the peer: unacknowledged items, or files being received. */
  hasUnacked(): boolean {
    return this.flight.size > 0 || this.loadedThrough < this.lastOutSeq || this.activeIn.size > 0;
  }

  /** Encoded DATA frames not yet acknowledged, oldest first, together at most `maxBytes` (for the mailbox). */
  async pendingFrames(maxBytes: number): Promise<Uint8Array[]> {
    if (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new RangeError('maxBytes must be a positive safe integer');
    }
    this.assertOpen();
    return this.enqueue(async () => {
      const frames: Uint8Array[] = [];
      let total = 0;
      let after = this.peerCumAck;
      for (;;) {
        const items = await this.store.outgoing(this.peerKey, after, 64);
        if (items.length === 0) return frames;
        for (const it of items) {
          const f = this.flight.get(it.seq)?.frame ?? encodeFrame({ type: 'data', seq: it.seq, sentAt: it.sentAt, item: it.item });
          if (total + f.length > maxBytes) return frames;
          frames.push(f);
          total += f.length;
          after = it.seq;
        }
      }
    });
  }

  /** Counters since this object was created. */
  stats(): Readonly<ConversationStats> {
    return { ...this.counters };
  }

  // ---- files ---------------------------------------------------------------------------

  private pullWindowBytes(p: Pull): number {
    return this.limits.filePullWindow * p.chunkSize;
  }

  private startPull(t: FileTransfer): void {
    if (!this.canSend || t.bytes >= t.size) return;
    let p = this.pulls.get(t.fileId);
    if (p === undefined) {
      p = {
        fileId: t.fileId,
        id: idBytes(t.fileId),
        size: t.size,
        chunkSize: t.chunkSize,
        received: t.bytes,
        requestedEnd: t.bytes,
        buffer: new Map(),
        timer: null,
        rto: this.rto,
      };
      this.pulls.set(t.fileId, p);
    }
    this.requestPull(p, true);
  }

  private stopPull(fileId: string): void {
    const p = this.pulls.get(fileId);
    if (p === undefined) return;
    p.timer?.cancel();
    this.pulls.delete(fileId);
  }

  /** Sends FILE_PULL frames for [from, to) in pieces of at most MAX_PULL_BYTES, chunk-aligned. */
  private sendPulls(p: Pull, from: number, to: number): void {
    const step = Math.floor(MAX_PULL_BYTES / p.chunkSize) * p.chunkSize;
    for (let off = from; off < to; off += step) {
      this.send({ type: 'file-pull', fileId: p.id, offset: off, length: Math.min(step, to - off) });
    }
  }

  /**
   * Asks for more of a file. `again`: also ask once more for every chunk between the stored
   * progress and what was already asked that has not arrived (after a timeout or a new channel).
   */
  private requestPull(p: Pull, again: boolean): void {
    if (!this.canSend || this.pulls.get(p.fileId) !== p) return;
    const windowBytes = this.pullWindowBytes(p);
    p.requestedEnd = Math.max(p.requestedEnd, p.received);
    if (again) {
      let gapStart: number | null = null;
      for (let off = p.received; off < p.requestedEnd; off += p.chunkSize) {
        const missing = !p.buffer.has(off);
        if (missing && gapStart === null) gapStart = off;
        if (!missing && gapStart !== null) {
          this.sendPulls(p, gapStart, off);
          gapStart = null;
        }
      }
      if (gapStart !== null) this.sendPulls(p, gapStart, p.requestedEnd);
    }
    const target = Math.min(p.size, p.received + windowBytes);
    if (p.requestedEnd < target && (again || p.requestedEnd - p.received <= windowBytes / 2)) {
      this.sendPulls(p, p.requestedEnd, target);
      p.requestedEnd = target;
    }
    p.timer?.cancel();
    p.timer = this.scheduler.setTimeout(() => {
      p.timer = null;
      p.rto = Math.min(this.limits.rtoMax, p.rto * 2);
      this.requestPull(p, true);
    }, p.rto);
  }

  private async onPull(f: FilePullFrame): Promise<void> {
    const fileId = toHex(f.fileId);
    const t = await this.store.transfer(this.peerKey, fileId, 'out');
    if (t === undefined) return this.report(new ChatError('bad-state', `a pull for file ${fileId}, which we never offered`));
    if (t.state !== 'active' || !this.canSend) return;
    if (f.offset % t.chunkSize !== 0 || f.offset >= t.size) {
      return this.report(new ChatError('bad-state', `a pull at offset ${f.offset}, not a chunk of file ${fileId}`));
    }
    const end = Math.min(t.size, f.offset + f.length);
    let off = f.offset;
    for (; off < end && this.canSend; off += t.chunkSize) {
      const data = await this.store.readFileBytes(this.peerKey, fileId, 'out', off, Math.min(t.chunkSize, t.size - off));
      this.send({ type: 'file-chunk', fileId: f.fileId, offset: off, data });
    }
    const sent = Math.min(off, t.size);
    if (sent > (this.served.get(fileId) ?? 0)) {
      this.served.set(fileId, sent);
      this.emit(() => this.events.onFileProgress?.(fileId, sent, t.size, 'out'));
    }
  }

  private async onChunk(f: FileChunkFrame): Promise<void> {
    const fileId = toHex(f.fileId);
    const p = this.pulls.get(fileId);
    if (p === undefined) {
      // Chunks still on their way when a transfer ended or a channel broke are normal.
      if (this.activeIn.has(fileId)) return;
      if ((await this.store.transfer(this.peerKey, fileId, 'in')) !== undefined) return;
      return this.report(new ChatError('bad-state', `a chunk of file ${fileId}, which was never offered`));
    }
    if (f.offset % p.chunkSize !== 0 || f.offset >= p.size || f.data.length !== Math.min(p.chunkSize, p.size - f.offset)) {
      return this.report(new ChatError('bad-state', `a chunk at offset ${f.offset} of ${f.data.length} bytes does not fit file ${fileId}`));
    }
    if (f.offset < p.received || p.buffer.has(f.offset)) {
      this.counters.duplicates++;
      return;
    }
    if (f.offset > p.received) {
      if (f.offset < p.received + this.pullWindowBytes(p)) p.buffer.set(f.offset, f.data);
      return;
    }
    let data: Uint8Array | undefined = f.data;
    while (data !== undefined) {
      const t = await this.store.appendFileBytes(this.peerKey, fileId, 'in', p.received, data, this.scheduler.now());
      p.buffer.delete(p.received);
      p.received = t.bytes;
      const known = this.activeIn.get(fileId);
      if (known !== undefined) this.activeIn.set(fileId, t);
      data = p.buffer.get(p.received);
    }
    p.rto = this.rto;
    this.emit(() => this.events.onFileProgress?.(fileId, p.received, p.size, 'in'));
    if (p.received === p.size) {
      this.stopPull(fileId);
      await this.finishIncoming(fileId);
    } else {
      this.requestPull(p, false);
    }
  }

  /** Checks a fully stored incoming file and ends its transfer: done, or failed on a mismatch. */
  private async finishIncoming(fileId: string): Promise<void> {
    const t = await this.store.transfer(this.peerKey, fileId, 'in');
    if (t === undefined || t.state !== 'active' || t.bytes !== t.size) return;
    const h = sha256.create();
    for (let off = 0; off < t.size; off += COPY_STEP) {
      h.update(await this.store.readFileBytes(this.peerKey, fileId, 'in', off, Math.min(COPY_STEP, t.size - off)));
    }
    this.activeIn.delete(fileId);
    if (equalBytes(h.digest(), t.sha256)) {
      await this.append({ kind: 'file-done', fileId: idBytes(fileId) });
      this.emit(() => this.events.onFileComplete?.(fileId));
    } else {
      await this.append({ kind: 'file-cancel', fileId: idBytes(fileId), role: 'receiver', reason: 'hash-mismatch' });
      this.emit(() => this.events.onFileFailed?.(fileId, 'hash-mismatch'));
      const err = new ChatError('file-mismatch', `file ${fileId}: the received bytes do not match the SHA-256 of the offer`);
      this.emit(() => this.events.onProtocolError?.(err));
    }
  }
}
