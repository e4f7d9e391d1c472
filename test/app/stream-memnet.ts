/**
 * An in-memory StreamNetwork (app/services/stream.ts) for service tests: a broadcaster's frames
 * reach every viewer that joined with its invite, through the real frame layout
 * (encodeMediaFrame → decodeMediaFrame, as a viewer gets them after decryption). Viewer counts
 * are reported to the broadcaster as a landing node would. Test helper, not a test file.
 *
 * Knobs for tests: `backpressure` makes sendFrame skip frames (then it waits for a keyframe, as
 * the real broadcaster does), `failStart` / `failJoin` make the next call fail, `holdStart`
 * keeps startBroadcast pending until released.
 */
import { randomBytes } from 'node:crypto';
import type { StreamNetwork } from '../../app/services/stream';
import type { ClientIdentity, ClientSession } from '../../node-core/io/client/session';
import type { BroadcastOptions, BroadcastStats, PublicStreamInfo, StreamBroadcaster, StreamViewer, ViewerStats } from '../../node-core/io/client/stream-api';
import { decodeInvite, encodeInvite } from '../../node-core/stream/invite';
import { decodeMediaFrame, encodeMediaFrame, type MediaFrame } from '../../node-core/stream/media-frame';
import { equalBytes, toHex } from '../../node-core/util/bytes';

type Listener<T extends unknown[]> = (...args: T) => void;

class Listeners<T extends unknown[]> {
  private readonly set = new Set<Listener<T>>();
  add(cb: Listener<T>): () => void {
    this.set.add(cb);
    return () => {
      this.set.delete(cb);
    };
  }
  call(...args: T): void {
    for (const cb of [...this.set]) cb(...args);
  }
  get size(): number {
    return this.set.size;
  }
}

export class MemoryViewer implements StreamViewer {
  readonly frames = new Listeners<[MediaFrame]>();
  readonly ended = new Listeners<[string]>();
  received = 0;
  left = false;
  constructor(
    readonly streamId: Uint8Array,
    private readonly owner: MemoryBroadcaster,
  ) {}
  onFrame(cb: (f: MediaFrame) => void): () => void {
    return this.frames.add(cb);
  }
  onEnded(cb: (reason: string) => void): () => void {
    return this.ended.add(cb);
  }
  stats(): ViewerStats {
    return { framesReceived: this.received, framesPlayed: this.received, framesDropped: 0, badSignatures: 0, bytesReceived: 0, bitrateBps: 1000, fps: 25, latencyMs: 12 };
  }
  async leave(): Promise<void> {
    this.left = true;
    this.owner.removeViewer(this);
  }
  /** Called by the broadcaster with the frame's wire bytes. */
  deliver(bytes: Uint8Array): void {
    this.received++;
    this.frames.call(decodeMediaFrame(bytes));
  }
}

export class MemoryBroadcaster implements StreamBroadcaster {
  readonly viewers = new Set<MemoryViewer>();
  readonly statsListeners = new Listeners<[BroadcastStats]>();
  readonly endedListeners = new Listeners<[string]>();
  /** Every frame handed to sendFrame, and whether it was sent. */
  readonly log: Array<{ frame: MediaFrame; sent: boolean }> = [];
  stopped = false;
  private waitingForKey = false;
  private sent = 0;
  private skipped = 0;

  constructor(
    readonly streamId: Uint8Array,
    readonly invite: Uint8Array,
    readonly options: BroadcastOptions,
    private readonly net: MemoryStreamNetwork,
    readonly session: ClientSession,
    readonly identity: ClientIdentity,
  ) {}

  get isPublic(): boolean {
    return this.options.public != null;
  }

  sendFrame(frame: MediaFrame): boolean {
    if (this.stopped) throw new Error('the broadcast has stopped');
    const bytes = encodeMediaFrame(frame);
    const key = frame.track === 'video' && frame.keyframe;
    if (this.net.backpressure) this.waitingForKey = true;
    if (this.waitingForKey && key && !this.net.backpressure) this.waitingForKey = false;
    // Audio passes while video waits for its keyframe; a backed-up link skips everything.
    const skip = this.net.backpressure || (this.waitingForKey && frame.track === 'video');
    this.log.push({ frame, sent: !skip });
    if (skip) {
      this.skipped++;
      return false;
    }
    this.sent++;
    for (const v of this.viewers) v.deliver(bytes);
    return true;
  }

  stats(): BroadcastStats {
    return {
      viewers: this.viewers.size,
      nodes: 1,
      framesSent: this.sent,
      bytesSent: 0,
      framesSkipped: this.skipped,
      bitrateBps: 64_000,
      relayBytesOut: 0,
      relayFramesDropped: 0,
    };
  }

  onStats(cb: (s: BroadcastStats) => void): () => void {
    return this.statsListeners.add(cb);
  }

  onEnded(cb: (reason: string) => void): () => void {
    return this.endedListeners.add(cb);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.net.remove(this);
    for (const v of [...this.viewers]) {
      this.viewers.delete(v);
      v.ended.call('The broadcaster ended the stream.');
    }
  }

  addViewer(v: MemoryViewer): void {
    this.viewers.add(v);
    this.statsListeners.call(this.stats());
  }

  removeViewer(v: MemoryViewer): void {
    if (this.viewers.delete(v)) this.statsListeners.call(this.stats());
  }

  /** The landing node cut the stream (as the network would). */
  end(reason: string): void {
    this.stopped = true;
    this.net.remove(this);
    this.endedListeners.call(reason);
    for (const v of [...this.viewers]) {
      this.viewers.delete(v);
      v.ended.call(reason);
    }
  }
}

export class MemoryStreamNetwork implements StreamNetwork {
  readonly streams = new Map<string, MemoryBroadcaster>();
  readonly keys = new Map<string, Uint8Array>();
  backpressure = false;
  failStart: Error | null = null;
  failJoin: Error | null = null;
  private held: Array<() => void> | null = null;

  /** startBroadcast calls wait until release() (to test what happens meanwhile). */
  holdStart(): void {
    this.held = [];
  }

  release(): void {
    const waiting = this.held ?? [];
    this.held = null;
    for (const go of waiting) go();
  }

  async startBroadcast(session: ClientSession, identity: ClientIdentity, opts: BroadcastOptions): Promise<StreamBroadcaster> {
    if (this.held !== null) await new Promise<void>((resolve) => this.held?.push(resolve));
    if (this.failStart) {
      const e = this.failStart;
      this.failStart = null;
      throw e;
    }
    const streamId = new Uint8Array(randomBytes(16));
    const streamKey = new Uint8Array(randomBytes(32));
    const invite = encodeInvite({
      streamId,
      landing: new Uint8Array(randomBytes(32)),
      address: { host: '127.0.0.1', port: 7100 },
      keys: { streamKey, signingKey: new Uint8Array(randomBytes(32)), epoch: 0, suite: 4 },
    });
    const b = new MemoryBroadcaster(streamId, invite, opts, this, session, identity);
    this.streams.set(toHex(streamId), b);
    this.keys.set(toHex(streamId), streamKey);
    return b;
  }

  async joinStream(_session: ClientSession, invite: Uint8Array): Promise<StreamViewer> {
    if (this.failJoin) {
      const e = this.failJoin;
      this.failJoin = null;
      throw e;
    }
    const decoded = decodeInvite(invite);
    const id = toHex(decoded.streamId);
    const b = this.streams.get(id);
    if (b === undefined) throw new Error('no such stream on the network');
    if (!equalBytes(this.keys.get(id) ?? new Uint8Array(0), decoded.keys.streamKey)) throw new Error('the stream key does not match');
    const v = new MemoryViewer(decoded.streamId, b);
    b.addViewer(v);
    return v;
  }

  async listPublicStreams(): Promise<PublicStreamInfo[]> {
    return [...this.streams.values()]
      .filter((b) => b.isPublic)
      .map((b) => ({ streamId: b.streamId, title: b.options.public?.title ?? '', invite: b.invite }));
  }

  remove(b: MemoryBroadcaster): void {
    this.streams.delete(toHex(b.streamId));
  }
}
