/**
 * What a client of live streams offers the app, the CLI and the benchmarks: a broadcaster that
 * sends media frames and a viewer that receives them. Implemented by stream-client.ts over the
 * network; app tests may implement it in memory.
 */
import type { MediaFrame } from '../../stream/media-frame';

export interface BroadcastOptions {
  /** Target bitrate in bits per second (what the receipt must allow). */
  readonly bitrate: number;
  /** Viewers the stream should serve. */
  readonly maxViewers: number;
  /** Publish as a public stream (listed in the DHT, key readable by anyone) — or null/absent for a private one. */
  readonly public?: { readonly title: string; readonly description: string } | null;
}

export interface BroadcastStats {
  /** Viewers now, as the landing node last reported (its own and the distribution nodes'). */
  readonly viewers: number;
  /** Distribution nodes serving the stream (the landing node included). */
  readonly nodes: number;
  readonly framesSent: number;
  readonly bytesSent: number;
  /** Frames not sent because the link to the landing node was backed up (skipped to the next keyframe). */
  readonly framesSkipped: number;
  /** Bits per second sent over the last few seconds. */
  readonly bitrateBps: number;
  /** Bytes the relays sent to viewers and nodes, as reported. */
  readonly relayBytesOut: number;
  /** Frames the relays dropped for slow viewers, as reported. */
  readonly relayFramesDropped: number;
}

export interface StreamBroadcaster {
  readonly streamId: Uint8Array;
  /** The private invite (node-core/stream/invite.ts encodeInvite): send it only inside a chat. */
  readonly invite: Uint8Array;
  readonly isPublic: boolean;
  /**
   * Encrypts, signs and sends one frame. Returns false when it was skipped (backpressure, or a
   * non-key frame while waiting for the next keyframe); the caller should ask its encoder for a
   * keyframe when that happens.
   */
  sendFrame(frame: MediaFrame): boolean;
  stats(): BroadcastStats;
  /** Called whenever the landing node reports (viewer count, relay traffic). Returns an unsubscribe function. */
  onStats(cb: (s: BroadcastStats) => void): () => void;
  /** Called once when the stream ends for any reason other than stop(). */
  onEnded(cb: (reason: string) => void): () => void;
  stop(): Promise<void>;
}

export interface ViewerStats {
  /** Frames that arrived whole (before signature checks). */
  readonly framesReceived: number;
  /** Frames that verified, decrypted and were handed out. */
  readonly framesPlayed: number;
  /** Frames dropped: bad or missing signatures, failed decryption, incomplete frames. */
  readonly framesDropped: number;
  readonly badSignatures: number;
  readonly bytesReceived: number;
  readonly bitrateBps: number;
  /** Video frames per second handed out over the last few seconds. */
  readonly fps: number;
  /** capture → hand-out latency of the last frame, ms (broadcaster's and viewer's clocks). */
  readonly latencyMs: number;
}

export interface StreamViewer {
  readonly streamId: Uint8Array;
  onFrame(cb: (f: MediaFrame) => void): () => void;
  /** Called once when the stream ends or the viewer is cut off (not after leave()). */
  onEnded(cb: (reason: string) => void): () => void;
  stats(): ViewerStats;
  leave(): Promise<void>;
}

export interface PublicStreamInfo {
  readonly streamId: Uint8Array;
  readonly title: string;
  /** An invite made from the public record: join with it like with a private one. */
  readonly invite: Uint8Array;
}
