/**
 * Live streams in the app (DESIGN §3 "Live streams" and "Media"; seed 004 §8): the service behind
 * the contract's `broadcast.*`, `view.*` and `streams.public` methods and the `broadcast.stats`,
 * `view.frames`, `view.stats` and `view.ended` events, for one profile.
 *
 * - The renderer captures and encodes (WebCodecs); `broadcast.frames` hands the encoded chunks to
 *   the profile's StreamBroadcaster, which encrypts, signs and sends them. The broadcaster may
 *   skip frames (backpressure, or waiting for the next keyframe); the answer then asks the
 *   renderer's encoder for a keyframe.
 * - A viewer's decrypted, verified frames go to the renderer in `view.frames` batches (a few ms
 *   of frames, at most 64), where WebCodecs decodes them.
 * - The stream invite travels only inside an end-to-end chat message, as the text
 *   `sirius-stream:<base58>` (app/contract formatStreamInvite; seed 004 §8.2): no node learns
 *   the stream key. The message sent is also pushed as `chat.message`, so the chat shows it.
 * - One broadcast and one view at a time per profile. Everything stops when the profile is
 *   locked or closed (`stopAll`).
 * - Camera and microphone: `onMediaAccess(true)` when a broadcast starts and `(false)` when it
 *   ends, so the desktop app's permission policy (main/security.ts isAllowedPermission, fed by the
 *   backend's 'media-access' message) allows capture only while a broadcast runs.
 *
 * The network side comes in through a StreamNetwork (the three functions of
 * node-core/io/client/stream-client.ts), so tests run the service over an in-memory network.
 *
 * Does not: capture, encode or decode media (the renderer does), or keep streams across restarts.
 */
import { Buffer } from 'node:buffer';
import {
  MAX_FRAMES_PER_BATCH,
  MAX_MEDIA_FRAME_BYTES,
  MAX_STREAM_TITLE,
  formatStreamInvite,
  parseStreamInvite,
  type EventPayload,
  type MethodParams,
  type MethodResult,
} from '../contract';
import type { ClientIdentity, ClientSession } from '../../node-core/io/client/session';
import type {
  BroadcastOptions,
  BroadcastStats,
  PublicStreamInfo,
  StreamBroadcaster,
  StreamViewer,
  ViewerStats,
} from '../../node-core/io/client/stream-api';
import type { Logger } from '../../node-core/io/log';
import { decodeInvite } from '../../node-core/stream/invite';
import { encodeMediaFrame, type MediaFrame } from '../../node-core/stream/media-frame';
import { isStreamError } from '../../node-core/stream/errors';
import { toHex } from '../../node-core/util/bytes';
import { ServiceError, type ServiceHandlers } from './dispatch';

/** The network side of streams: node-core/io/client/stream-client.ts, or an in-memory one in tests. */
export interface StreamNetwork {
  startBroadcast(session: ClientSession, identity: ClientIdentity, opts: BroadcastOptions): Promise<StreamBroadcaster>;
  joinStream(session: ClientSession, invite: Uint8Array): Promise<StreamViewer>;
  listPublicStreams(session: ClientSession): Promise<PublicStreamInfo[]>;
}

/** A StreamNetwork for builds without the stream client: every call says streams are unavailable. */
export const unavailableStreamNetwork: StreamNetwork = Object.freeze({
  startBroadcast: () => Promise.reject(new ServiceError('stream.unavailable', 'Live streams are not available in this version of the app.')),
  joinStream: () => Promise.reject(new ServiceError('stream.unavailable', 'Live streams are not available in this version of the app.')),
  listPublicStreams: () => Promise.reject(new ServiceError('stream.unavailable', 'Live streams are not available in this version of the app.')),
});

/** The methods this service answers. */
export const STREAM_METHODS = [
  'broadcast.start',
  'broadcast.frames',
  'broadcast.stop',
  'broadcast.status',
  'broadcast.shareInvite',
  'view.join',
  'view.leave',
  'view.status',
  'streams.public',
] as const;
export type StreamMethodName = (typeof STREAM_METHODS)[number];
export type StreamEventName = 'broadcast.stats' | 'view.frames' | 'view.stats' | 'view.ended' | 'chat.message';
export type StreamHandlers = Pick<ServiceHandlers, StreamMethodName>;

/** The online profile's session and identity. */
export interface StreamContext {
  readonly session: ClientSession;
  readonly identity: ClientIdentity;
}

export interface StreamServiceOptions {
  readonly network: StreamNetwork;
  /** The online profile's session and identity; throws a ServiceError when there is none. */
  readonly context: () => StreamContext;
  /** Sends a chat text to `peer` (hex key), as chat.send does, and answers the message. */
  readonly sendChat: (peer: string, text: string) => Promise<MethodResult<'chat.send'>>;
  /** Pushes an event to the UI (the services check it against the contract). */
  readonly emit: <E extends StreamEventName>(event: E, payload: EventPayload<E>) => void;
  /** Camera and microphone on (a broadcast started) or off (it ended). */
  readonly onMediaAccess?: (active: boolean) => void;
  readonly log: Logger;
  /** broadcast.stats and view.stats while live (default 1000 ms). */
  readonly statsMs?: number;
  /** How long received frames wait to be sent as one view.frames batch (default 10 ms). */
  readonly frameBatchMs?: number;
  /** stopAll waits this long at most for the network to confirm, so a lock never hangs on it (default 5000 ms). */
  readonly stopWaitMs?: number;
}

type BroadcastStatus = MethodResult<'broadcast.status'>;
type ViewerStatus = MethodResult<'view.status'>;
type ContractFrame = MethodParams<'broadcast.frames'>['frames'][number];

interface LiveBroadcast {
  readonly broadcaster: StreamBroadcaster;
  readonly streamId: string;
  readonly offs: Array<() => void>;
  readonly timer: ReturnType<typeof setInterval>;
}

interface LiveView {
  readonly viewer: StreamViewer;
  readonly streamId: string;
  readonly offs: Array<() => void>;
  readonly timer: ReturnType<typeof setInterval>;
  pending: MediaFrame[];
  pendingBytes: number;
  flushTimer: ReturnType<typeof setTimeout> | null;
}

/** Received frames are sent on at once when this many bytes wait. */
const FLUSH_BYTES = 4 * 1024 * 1024;


const IDLE_FIGURES: EventPayload<'view.stats'> = Object.freeze({
  framesReceived: 0,
  framesPlayed: 0,
  framesDropped: 0,
  badSignatures: 0,
  bitrateBps: 0,
  fps: 0,
  latencyMs: 0,
});
const IDLE_VIEWER: ViewerStatus = Object.freeze({ watching: false, ...IDLE_FIGURES });

function messageOf(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return (m.split('\n')[0] ?? '').slice(0, 200).replace(/[.\s]+$/, '');
}

/** A non-negative integer from a figure another component reported (NaN and negatives become 0). */
function countOf(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) && x > 0 ? Math.min(Math.floor(x), Number.MAX_SAFE_INTEGER) : 0;
}

function rateOf(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : 0;
}

function reasonText(reason: unknown, fallback: string): string {
  const text = typeof reason === 'string' ? reason.trim().slice(0, 300) : '';
  return text.length > 0 ? text : fallback;
}

/** Bytes of padded base64 already checked by the contract schema. */
function base64Bytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

function base64Of(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * A contract frame as a MediaFrame, checked against the frame layout (media-frame.ts) so a
 * frame the broadcaster would refuse is refused before any frame of the batch is sent.
 */
export function mediaFrameFromContract(f: ContractFrame, index = 0): MediaFrame {
  if (typeof f !== 'object' || f === null) throw new TypeError('f must be an object');
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError('index must be a non-negative integer');
  const common = {
    keyframe: f.keyframe,
    timestampUs: f.timestampUs,
    capturedAtMs: f.capturedAtMs,
    codec: f.codec,
    description: base64Bytes(f.description),
    data: base64Bytes(f.data),
  };
  const frame: MediaFrame =
    f.track === 'video'
      ? { track: 'video', ...common, width: f.width, height: f.height }
      : { track: 'audio', ...common, sampleRate: f.sampleRate, channels: f.channels };
  try {
    encodeMediaFrame(frame);
  } catch (e) {
    throw new ServiceError('broadcast.invalid_frame', `Frame ${index + 1} of the batch cannot be sent: ${messageOf(e)}.`);
  }
  return frame;
}

/** A MediaFrame as the contract's frame (base64 bytes). */
export function mediaFrameToContract(f: MediaFrame): ContractFrame {
  const common = {
    keyframe: f.keyframe,
    timestampUs: f.timestampUs,
    capturedAtMs: f.capturedAtMs,
    codec: f.codec,
    description: base64Of(f.description),
    data: base64Of(f.data),
  };
  return f.track === 'video'
    ? { track: 'video', ...common, width: f.width, height: f.height }
    : { track: 'audio', ...common, sampleRate: f.sampleRate, channels: f.channels };
}

export class StreamService {
  private broadcast: LiveBroadcast | null = null;
  private view: LiveView | null = null;
  /** A broadcast.start / view.join is on its way (the slot is taken). */
  private starting = false;
  private joining = false;
  /** Bumped by stopAll: a start or join that resolves afterwards is undone. */
  private gen = 0;
  private mediaAccess = false;
  private lastBroadcast: BroadcastStatus = { live: false, viewers: 0, nodes: 0, bitrateBps: 0, framesSent: 0, framesSkipped: 0, relayBytesOut: 0, relayFramesDropped: 0 };
  private readonly statsMs: number;
  private readonly frameBatchMs: number;
  private readonly stopWaitMs: number;

  constructor(private readonly opts: StreamServiceOptions) {
    if (typeof opts !== 'object' || opts === null) throw new TypeError('opts must be an object');
    const n = opts.network;
    if (typeof n !== 'object' || n === null || typeof n.startBroadcast !== 'function' || typeof n.joinStream !== 'function' || typeof n.listPublicStreams !== 'function') {
      throw new TypeError('opts.network must have startBroadcast, joinStream and listPublicStreams functions');
    }
    for (const key of ['context', 'sendChat', 'emit'] as const) {
      if (typeof opts[key] !== 'function') throw new TypeError(`opts.${key} must be a function`);
    }
    if (opts.onMediaAccess !== undefined && typeof opts.onMediaAccess !== 'function') throw new TypeError('opts.onMediaAccess must be a function');
    this.statsMs = opts.statsMs ?? 1000;
    this.frameBatchMs = opts.frameBatchMs ?? 10;
    this.stopWaitMs = opts.stopWaitMs ?? 5000;
    if (!Number.isSafeInteger(this.statsMs) || this.statsMs < 10) throw new RangeError('opts.statsMs must be an integer of at least 10');
    if (!Number.isSafeInteger(this.frameBatchMs) || this.frameBatchMs < 0) throw new RangeError('opts.frameBatchMs must be a non-negative integer');
    if (!Number.isSafeInteger(this.stopWaitMs) || this.stopWaitMs < 0) throw new RangeError('opts.stopWaitMs must be a non-negative integer');
  }

  /** The handlers of STREAM_METHODS, for the services' table. */
  handlers(): StreamHandlers {
    return {
      'broadcast.start': (p) => this.start(p),
      'broadcast.frames': (p) => this.frames(p),
      'broadcast.stop': () => this.stop(),
      'broadcast.status': () => this.broadcastStatus(),
      'broadcast.shareInvite': (p) => this.shareInvite(p),
      'view.join': (p) => this.join(p),
      'view.leave': () => this.leave(),
      'view.status': () => this.viewerStatus(),
      'streams.public': () => this.publicStreams(),
    };
  }

  /** Whether a broadcast runs (for tests and diagnostics). */
  get broadcasting(): boolean {
    return this.broadcast !== null;
  }

  /** Whether a stream is being watched. */
  get watching(): boolean {
    return this.view !== null;
  }

  /**
   * Ends the broadcast and the view (the profile is being locked or closed, or its network
   * changed); a start or join still on its way is undone when it resolves. The UI hears
   * `broadcast.stats` with live: false and `view.ended` with `reason`.
   */
  async stopAll(reason: string): Promise<void> {
    if (typeof reason !== 'string' || reason.trim().length === 0) throw new TypeError('reason must be a non-empty string');
    this.gen++;
    const b = this.broadcast;
    const v = this.view;
    const jobs: Promise<void>[] = [];
    if (b !== null) {
      this.endBroadcast(b, reason);
      jobs.push(b.broadcaster.stop().catch((e: unknown) => this.opts.log.warn({ err: messageOf(e) }, 'stopping the broadcast failed')));
    }
    if (v !== null) {
      this.endView(v, reason, true);
      jobs.push(v.viewer.leave().catch((e: unknown) => this.opts.log.warn({ err: messageOf(e) }, 'leaving the stream failed')));
    }
    if (jobs.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.opts.log.warn('the stream network did not confirm the stop in time; going on');
        resolve();
      }, this.stopWaitMs);
      timer.unref?.();
    });
    await Promise.race([Promise.all(jobs), bound]);
    clearTimeout(timer);
  }

  // ---- broadcasting ------------------------------------------------------------------------

  private async start(p: MethodParams<'broadcast.start'>): Promise<MethodResult<'broadcast.start'>> {
    if (this.broadcast !== null || this.starting) throw new ServiceError('broadcast.already', 'Already broadcasting: stop the current broadcast first.');
    const ctx = this.opts.context();
    const gen = this.gen;
    this.starting = true;
    let broadcaster: StreamBroadcaster;
    try {
      const options: BroadcastOptions = {
        bitrate: p.bitrate,
        maxViewers: p.maxViewers,
        public: p.public ? { title: p.public.title, description: p.public.description } : null,
      };
      broadcaster = await this.opts.network.startBroadcast(ctx.session, ctx.identity, options);
    } catch (e) {
      if (e instanceof ServiceError) throw e;
      this.opts.log.info({ err: messageOf(e) }, 'a broadcast did not start');
      throw new ServiceError('broadcast.failed', `The broadcast could not start: ${messageOf(e)}.`);
    } finally {
      this.starting = false;
    }
    if (gen !== this.gen) {
      await broadcaster.stop().catch(() => undefined);
      throw new ServiceError('broadcast.stopped', 'The broadcast was stopped before it started: your profile was locked.');
    }
    const streamId = toHex(broadcaster.streamId);
    const live: LiveBroadcast = {
      broadcaster,
      streamId,
      offs: [],
      timer: setInterval(() => {
        if (this.broadcast === live) this.emitBroadcastStats();
      }, this.statsMs),
    };
    live.timer.unref?.();
    this.broadcast = live;
    live.offs.push(
      broadcaster.onStats(() => {
        if (this.broadcast === live) this.emitBroadcastStats();
      }),
      broadcaster.onEnded((reason) => {
        if (this.broadcast !== live) return;
        this.opts.log.info({ stream: streamId.slice(0, 8) }, 'the broadcast ended');
        this.endBroadcast(live, reasonText(reason, 'The broadcast ended.'));
      }),
    );
    this.setMediaAccess(true);
    this.emitBroadcastStats();
    return { streamId, isPublic: broadcaster.isPublic };
  }

  private requireBroadcast(): LiveBroadcast {
    const b = this.broadcast;
    if (b === null) throw new ServiceError('broadcast.not_broadcasting', 'Not broadcasting: start a broadcast first.');
    return b;
  }

  /** Synchronous on purpose: frames reach the broadcaster in the order the calls arrived. */
  private frames(p: MethodParams<'broadcast.frames'>): MethodResult<'broadcast.frames'> {
    const b = this.requireBroadcast();
    // Every frame is checked before any is sent: a bad batch changes nothing.
    const frames = p.frames.map((f, i) => mediaFrameFromContract(f, i));
    let accepted = 0;
    let skipped = 0;
    for (const frame of frames) {
      if (this.broadcast !== b) {
        skipped++;
        continue;
      }
      let sent: boolean;
      try {
        sent = b.broadcaster.sendFrame(frame);
      } catch (e) {
        this.opts.log.warn({ err: messageOf(e) }, 'a frame was not sent');
        sent = false;
      }
      if (sent) accepted++;
      else skipped++;
    }
    // A skipped frame means the broadcaster waits for the next keyframe (stream-api.ts sendFrame).
    return { accepted, skipped, wantKeyframe: skipped > 0 };
  }

  private async stop(): Promise<BroadcastStatus> {
    const b = this.requireBroadcast();
    this.endBroadcast(b, null);
    try {
      await b.broadcaster.stop();
    } catch (e) {
      this.opts.log.warn({ err: messageOf(e) }, 'stopping the broadcast failed');
    }
    return this.broadcastStatus();
  }

  private async shareInvite(p: MethodParams<'broadcast.shareInvite'>): Promise<MethodResult<'broadcast.shareInvite'>> {
    const b = this.requireBroadcast();
    const message = await this.opts.sendChat(p.peer, formatStreamInvite(b.broadcaster.invite));
    // The UI did not write this message itself: it learns of it like of an incoming one.
    this.opts.emit('chat.message', message);
    return message;
  }

  private liveStatus(b: LiveBroadcast): BroadcastStatus {
    let s: BroadcastStats;
    try {
      s = b.broadcaster.stats();
    } catch (e) {
      this.opts.log.warn({ err: messageOf(e) }, 'broadcast figures unavailable');
      return { ...this.lastBroadcast, live: true, streamId: b.streamId, isPublic: b.broadcaster.isPublic };
    }
    return {
      live: true,
      streamId: b.streamId,
      isPublic: b.broadcaster.isPublic,
      viewers: countOf(s.viewers),
      nodes: countOf(s.nodes),
      bitrateBps: rateOf(s.bitrateBps),
      framesSent: countOf(s.framesSent),
      framesSkipped: countOf(s.framesSkipped),
      relayBytesOut: rateOf(s.relayBytesOut),
      relayFramesDropped: countOf(s.relayFramesDropped),
    };
  }

  private broadcastStatus(): BroadcastStatus {
    const b = this.broadcast;
    if (b === null) return { ...this.lastBroadcast };
    this.lastBroadcast = this.liveStatus(b);
    return { ...this.lastBroadcast };
  }

  private emitBroadcastStats(): void {
    this.opts.emit('broadcast.stats', this.broadcastStatus());
  }

  /** Detaches a broadcast; its last figures stay as the status, with `reason` when it ended by itself. */
  private endBroadcast(b: LiveBroadcast, reason: string | null): void {
    if (this.broadcast !== b) return;
    const final = this.liveStatus(b);
    this.broadcast = null;
    clearInterval(b.timer);
    for (const off of b.offs.splice(0)) off();
    this.lastBroadcast = { ...final, live: false, viewers: 0, ...(reason !== null ? { endedReason: reason } : {}) };
    this.setMediaAccess(false);
    this.opts.emit('broadcast.stats', { ...this.lastBroadcast });
  }

  private setMediaAccess(active: boolean): void {
    if (this.mediaAccess === active) return;
    this.mediaAccess = active;
    try {
      this.opts.onMediaAccess?.(active);
    } catch (e) {
      this.opts.log.warn({ err: messageOf(e) }, 'the camera permission could not be changed');
    }
  }

  // ---- viewing -----------------------------------------------------------------------------

  private async join(p: MethodParams<'view.join'>): Promise<MethodResult<'view.join'>> {
    if (this.view !== null || this.joining) throw new ServiceError('view.already', 'Already watching a stream: leave it first.');
    const bytes = parseStreamInvite(p.invite.trim());
    if (bytes === null) throw new ServiceError('view.not_invite', 'That is not a stream invite (it starts with “sirius-stream:”).');
    try {
      decodeInvite(bytes);
    } catch (e) {
      if (isStreamError(e)) throw new ServiceError('view.not_invite', `That is not a stream invite: ${messageOf(e)}.`);
      throw e;
    }
    const ctx = this.opts.context();
    const gen = this.gen;
    this.joining = true;
    let viewer: StreamViewer;
    try {
      viewer = await this.opts.network.joinStream(ctx.session, bytes);
    } catch (e) {
      if (e instanceof ServiceError) throw e;
      this.opts.log.info({ err: messageOf(e) }, 'joining a stream failed');
      throw new ServiceError('view.failed', `Could not join the stream: ${messageOf(e)}.`);
    } finally {
      this.joining = false;
    }
    if (gen !== this.gen) {
      await viewer.leave().catch(() => undefined);
      throw new ServiceError('view.stopped', 'Joining was cancelled: your profile was locked.');
    }
    const streamId = toHex(viewer.streamId);
    const live: LiveView = {
      viewer,
      streamId,
      offs: [],
      timer: setInterval(() => {
        if (this.view === live) this.opts.emit('view.stats', this.viewerFigures(live));
      }, this.statsMs),
      pending: [],
      pendingBytes: 0,
      flushTimer: null,
    };
    live.timer.unref?.();
    this.view = live;
    live.offs.push(
      viewer.onFrame((f) => this.onViewerFrame(live, f)),
      viewer.onEnded((reason) => {
        if (this.view !== live) return;
        this.opts.log.info({ stream: streamId.slice(0, 8) }, 'the stream being watched ended');
        this.endView(live, reasonText(reason, 'The stream ended.'), true);
      }),
    );
    return { streamId };
  }

  private async leave(): Promise<ViewerStatus> {
    const v = this.view;
    if (v === null) throw new ServiceError('view.not_watching', 'Not watching a stream.');
    this.endView(v, null, false);
    try {
      await v.viewer.leave();
    } catch (e) {
      this.opts.log.warn({ err: messageOf(e) }, 'leaving the stream failed');
    }
    return this.viewerStatus();
  }

  private viewerFigures(v: LiveView): EventPayload<'view.stats'> {
    let s: ViewerStats;
    try {
      s = v.viewer.stats();
    } catch (e) {
      this.opts.log.warn({ err: messageOf(e) }, 'viewer figures unavailable');
      return { ...IDLE_FIGURES };
    }
    return {
      framesReceived: countOf(s.framesReceived),
      framesPlayed: countOf(s.framesPlayed),
      framesDropped: countOf(s.framesDropped),
      badSignatures: countOf(s.badSignatures),
      bitrateBps: rateOf(s.bitrateBps),
      fps: rateOf(s.fps),
      latencyMs: typeof s.latencyMs === 'number' && Number.isFinite(s.latencyMs) ? s.latencyMs : 0,
    };
  }

  private viewerStatus(): ViewerStatus {
    const v = this.view;
    if (v === null) return { ...IDLE_VIEWER };
    return { watching: true, streamId: v.streamId, ...this.viewerFigures(v) };
  }

  private onViewerFrame(v: LiveView, f: MediaFrame): void {
    if (this.view !== v) return;
    if (f.data.length > MAX_MEDIA_FRAME_BYTES) {
      this.opts.log.warn({ bytes: f.data.length }, 'a received frame is larger than the app takes; dropped');
      return;
    }
    v.pending.push(f);
    v.pendingBytes += f.data.length + f.description.length;
    if (v.pending.length >= MAX_FRAMES_PER_BATCH || v.pendingBytes >= FLUSH_BYTES) this.flush(v);
    else if (v.flushTimer === null) {
      v.flushTimer = setTimeout(() => {
        v.flushTimer = null;
        this.flush(v);
      }, this.frameBatchMs);
      v.flushTimer.unref?.();
    }
  }

  private flush(v: LiveView): void {
    if (v.flushTimer !== null) clearTimeout(v.flushTimer);
    v.flushTimer = null;
    const frames = v.pending.splice(0);
    v.pendingBytes = 0;
    if (frames.length === 0 || this.view !== v) return;
    this.opts.emit('view.frames', { streamId: v.streamId, frames: frames.map(mediaFrameToContract) });
  }

  /** Detaches a view; frames still waiting are sent first, then `view.ended` when `tell`. */
  private endView(v: LiveView, reason: string | null, tell: boolean): void {
    if (this.view !== v) return;
    if (reason !== null) this.flush(v);
    this.view = null;
    clearInterval(v.timer);
    if (v.flushTimer !== null) clearTimeout(v.flushTimer);
    v.flushTimer = null;
    v.pending = [];
    for (const off of v.offs.splice(0)) off();
    if (tell && reason !== null) this.opts.emit('view.ended', { streamId: v.streamId, reason });
  }

  // ---- public streams ----------------------------------------------------------------------

  private async publicStreams(): Promise<MethodResult<'streams.public'>> {
    const ctx = this.opts.context();
    let list: PublicStreamInfo[];
    try {
      list = await this.opts.network.listPublicStreams(ctx.session);
    } catch (e) {
      if (e instanceof ServiceError) throw e;
      this.opts.log.info({ err: messageOf(e) }, 'listing public streams failed');
      throw new ServiceError('streams.failed', `The public streams could not be fetched: ${messageOf(e)}.`);
    }
    const out: MethodResult<'streams.public'> = [];
    for (const s of Array.isArray(list) ? list : []) {
      // What the network lists is a stranger's data: entries that do not fit are left out.
      try {
        if (!(s.streamId instanceof Uint8Array) || s.streamId.length !== 16) continue;
        if (typeof s.title !== 'string') continue;
        out.push({ streamId: toHex(s.streamId), title: s.title.slice(0, MAX_STREAM_TITLE), invite: formatStreamInvite(s.invite) });
      } catch {
        continue;
      }
      if (out.length >= 1000) break;
    }
    return out;
  }
}
