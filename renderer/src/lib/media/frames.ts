/**
 * The plain logic of the media pipelines, without WebCodecs objects, so it can be tested anywhere:
 * the encoder configurations to try, when to force a keyframe, how encoded frames are batched into
 * `broadcast.frames` calls (with backpressure), and a checksum of pixels for the end-to-end test.
 *
 * DESIGN §3 "Media": VP8 or H.264 video in realtime latency mode with a keyframe about every 2 s,
 * Opus audio; a group per keyframe interval, an object per frame.
 */
import type { MethodParams, MethodResult } from '../../../../app/contract';
import { MAX_BATCH_BYTES, MAX_FRAMES_PER_BATCH } from '../../../../app/contract';

/** One encoded frame as it crosses the bridge (base64 bytes). */
export type WireFrame = MethodParams<'broadcast.frames'>['frames'][number];
export type FramesAnswer = MethodResult<'broadcast.frames'>;

/** A keyframe about every 2 s (DESIGN §3 "Media"). */
export const KEYFRAME_INTERVAL_US = 2_000_000;
/** Frames the video encoder may hold before new frames are skipped (encoder backpressure). */
export const MAX_ENCODE_QUEUE = 2;
/** The H.264 fallback: Constrained Baseline, level 3.1. */
export const H264_CODEC = 'avc1.42E01F';
export const OPUS_SAMPLE_RATE = 48_000;
export const OPUS_BITRATE = 64_000;

/** Rounds down to an even number ≥ 2 (H.264 4:2:0 needs even dimensions). */
export function evenDimension(n: number): number {
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 2) throw new RangeError('n must be a finite number of at least 2');
  return Math.max(2, Math.floor(n / 2) * 2);
}

/**
 * The video encoder configurations to try, best first: VP8, then H.264 in "avc" format (so the
 * encoder hands out an avcC description for the decoder). Realtime latency mode, the target
 * bitrate, the capture frame rate.
 */
export function videoEncoderCandidates(width: number, height: number, bitrate: number, framerate: number): VideoEncoderConfig[] {
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < 2 || v > 8192) throw new RangeError(`${name} must be an integer in 2..8192`);
  }
  if (!Number.isInteger(bitrate) || bitrate < 1) throw new RangeError('bitrate must be a positive integer');
  if (typeof framerate !== 'number' || !Number.isFinite(framerate) || framerate <= 0) throw new RangeError('framerate must be a positive number');
  const common = { bitrate, framerate, latencyMode: 'realtime' as const };
  return [
    { codec: 'vp8', width, height, ...common },
    { codec: H264_CODEC, width: evenDimension(width), height: evenDimension(height), avc: { format: 'avc' }, ...common },
  ];
}

/** The first candidate `isSupported` accepts, or null. A check that throws counts as unsupported. */
export async function chooseConfig<C>(candidates: readonly C[], isSupported: (c: C) => Promise<{ supported?: boolean }>): Promise<C | null> {
  if (!Array.isArray(candidates)) throw new TypeError('candidates must be an array');
  if (typeof isSupported !== 'function') throw new TypeError('isSupported must be a function');
  for (const c of candidates) {
    try {
      if ((await isSupported(c)).supported === true) return c;
    } catch {
      // not this one
    }
  }
  return null;
}

/** Decides which frames the encoder must make keyframes: the first, every interval, and on request. */
export class KeyframeClock {
  #last: number | null = null;
  #forced = true;
  readonly intervalUs: number;

  constructor(intervalUs = KEYFRAME_INTERVAL_US) {
    if (!Number.isSafeInteger(intervalUs) || intervalUs <= 0) throw new RangeError('intervalUs must be a positive integer');
    this.intervalUs = intervalUs;
  }

  /** The next frame is to be a keyframe (the relay asked, or the encoder was reconfigured). */
  force(): void {
    this.#forced = true;
  }

  /** Whether the frame at `timestampUs` is to be a keyframe; records it when it is. */
  next(timestampUs: number): boolean {
    if (typeof timestampUs !== 'number' || !Number.isFinite(timestampUs)) throw new TypeError('timestampUs must be a finite number');
    const due = this.#forced || this.#last === null || timestampUs - this.#last >= this.intervalUs || timestampUs < this.#last;
    if (due) {
      this.#forced = false;
      this.#last = timestampUs;
    }
    return due;
  }
}

/** Bytes a base64 text decodes to. */
export function base64Length(text: string): number {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - padding;
}

export interface BatcherOptions {
  /** Sends one batch (`broadcast.frames`); rejects when the call failed. */
  readonly send: (frames: WireFrame[]) => Promise<FramesAnswer>;
  /** The encoder should make its next frame a keyframe. */
  readonly onKeyframeWanted: () => void;
  /** A batch could not be sent (the frames in it are gone). */
  readonly onError: (error: unknown) => void;
  /** Frames waiting before video is dropped up to the next keyframe (default 240). */
  readonly maxQueuedFrames?: number;
  /** Bytes waiting before video is dropped (default 8 MiB). */
  readonly maxQueuedBytes?: number;
}

export interface BatcherStats {
  /** Frames the backend took. */
  readonly accepted: number;
  /** Frames the backend skipped (its broadcaster was backed up). */
  readonly skippedRemote: number;
  /** Frames dropped here because calls could not keep up. */
  readonly droppedLocal: number;
  readonly queued: number;
  readonly inFlight: boolean;
}

/**
 * Turns encoded frames into `broadcast.frames` calls: one call at a time, in order, each taking
 * what queued up while the previous one was on its way (at most 64 frames and 4 MiB). When the
 * queue grows past its bounds the calls cannot keep up: queued video is dropped and further video
 * is dropped until a keyframe (audio goes on), and the encoder is asked for one — the same
 * skip-to-keyframe rule the relays follow (DESIGN §3 "Live streams").
 */
export class FrameBatcher {
  readonly #opts: Required<BatcherOptions>;
  #queue: Array<{ frame: WireFrame; bytes: number }> = [];
  #queuedBytes = 0;
  #inFlight = false;
  #waitForKey = false;
  #closed = false;
  #accepted = 0;
  #skippedRemote = 0;
  #droppedLocal = 0;

  constructor(opts: BatcherOptions) {
    if (typeof opts !== 'object' || opts === null) throw new TypeError('opts must be an object');
    for (const key of ['send', 'onKeyframeWanted', 'onError'] as const) {
      if (typeof opts[key] !== 'function') throw new TypeError(`opts.${key} must be a function`);
    }
    const maxQueuedFrames = opts.maxQueuedFrames ?? 240;
    const maxQueuedBytes = opts.maxQueuedBytes ?? 8 * 1024 * 1024;
    if (!Number.isSafeInteger(maxQueuedFrames) || maxQueuedFrames < 1) throw new RangeError('opts.maxQueuedFrames must be a positive integer');
    if (!Number.isSafeInteger(maxQueuedBytes) || maxQueuedBytes < 1) throw new RangeError('opts.maxQueuedBytes must be a positive integer');
    this.#opts = { ...opts, maxQueuedFrames, maxQueuedBytes };
  }

  get stats(): BatcherStats {
    return { accepted: this.#accepted, skippedRemote: this.#skippedRemote, droppedLocal: this.#droppedLocal, queued: this.#queue.length, inFlight: this.#inFlight };
  }

  /** Queues one encoded frame and sends when no call is on its way. */
  push(frame: WireFrame): void {
    if (typeof frame !== 'object' || frame === null) throw new TypeError('frame must be an object');
    if (this.#closed) return;
    if (frame.track === 'video') {
      if (frame.keyframe) this.#waitForKey = false;
      else if (this.#waitForKey) {
        this.#droppedLocal++;
        return;
      }
    }
    const bytes = base64Length(frame.data) + base64Length(frame.description);
    this.#queue.push({ frame, bytes });
    this.#queuedBytes += bytes;
    if (this.#queue.length > this.#opts.maxQueuedFrames || this.#queuedBytes > this.#opts.maxQueuedBytes) this.#overflow();
    this.#pump();
  }

  /** Stops sending; queued frames are dropped. */
  close(): void {
    this.#closed = true;
    this.#queue = [];
    this.#queuedBytes = 0;
  }

  #overflow(): void {
    const kept = this.#queue.filter((q) => q.frame.track !== 'video');
    this.#droppedLocal += this.#queue.length - kept.length;
    // Audio alone past the bounds: the oldest goes.
    while (kept.length > this.#opts.maxQueuedFrames) {
      kept.shift();
      this.#droppedLocal++;
    }
    this.#queue = kept;
    this.#queuedBytes = kept.reduce((sum, q) => sum + q.bytes, 0);
    this.#waitForKey = true;
    this.#opts.onKeyframeWanted();
  }

  #pump(): void {
    if (this.#inFlight || this.#closed || this.#queue.length === 0) return;
    const batch: WireFrame[] = [];
    let bytes = 0;
    const budget = Math.min(MAX_BATCH_BYTES, 4 * 1024 * 1024);
    while (this.#queue.length > 0 && batch.length < MAX_FRAMES_PER_BATCH) {
      const next = this.#queue[0]!;
      if (batch.length > 0 && bytes + next.bytes > budget) break;
      this.#queue.shift();
      this.#queuedBytes -= next.bytes;
      bytes += next.bytes;
      batch.push(next.frame);
    }
    this.#inFlight = true;
    let sending: Promise<FramesAnswer>;
    try {
      sending = this.#opts.send(batch);
    } catch (e) {
      sending = Promise.reject(e);
    }
    sending.then(
      (answer) => {
        this.#accepted += answer.accepted;
        this.#skippedRemote += answer.skipped;
        if (answer.wantKeyframe) this.#opts.onKeyframeWanted();
      },
      (error: unknown) => {
        this.#droppedLocal += batch.length;
        if (!this.#closed) this.#opts.onError(error);
        // What follows the lost frames cannot be decoded without a keyframe.
        this.#waitForKey = true;
        this.#opts.onKeyframeWanted();
      },
    ).finally(() => {
      this.#inFlight = false;
      this.#pump();
    });
  }
}

/** FNV-1a (32 bit) of `bytes`, as 8 hex digits: a cheap fingerprint of sampled pixels. */
export function fnv1a(bytes: Uint8Array | Uint8ClampedArray): string {
  if (!(bytes instanceof Uint8Array) && !(bytes instanceof Uint8ClampedArray)) throw new TypeError('bytes must be a Uint8Array or Uint8ClampedArray');
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i]!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/** A moving rate over the last `windowMs`: events (or amounts) per second. */
export class RateMeter {
  #samples: Array<{ at: number; amount: number }> = [];
  readonly windowMs: number;
  constructor(windowMs = 2000) {
    if (!Number.isFinite(windowMs) || windowMs <= 0) throw new RangeError('windowMs must be a positive number');
    this.windowMs = windowMs;
  }
  add(at: number, amount = 1): void {
    if (!Number.isFinite(at) || !Number.isFinite(amount)) throw new TypeError('at and amount must be finite numbers');
    this.#samples.push({ at, amount });
    this.#trim(at);
  }
  perSecond(now: number): number {
    this.#trim(now);
    const total = this.#samples.reduce((sum, s) => sum + s.amount, 0);
    return (total * 1000) / this.windowMs;
  }
  #trim(now: number): void {
    while (this.#samples.length > 0 && this.#samples[0]!.at <= now - this.windowMs) this.#samples.shift();
  }
}

/** `1_534_000` → "1.5 Mbit/s", `640_000` → "640 kbit/s", below 1 kbit/s "0 kbit/s". */
export function formatBitrate(bps: number): string {
  if (typeof bps !== 'number' || !Number.isFinite(bps) || bps < 0) throw new RangeError('bps must be a finite non-negative number');
  if (bps >= 1_000_000) {
    const mbps = bps / 1_000_000;
    return `${mbps < 10 ? Math.round(mbps * 10) / 10 : Math.round(mbps)} Mbit/s`;
  }
  return `${Math.round(bps / 1000)} kbit/s`;
}
