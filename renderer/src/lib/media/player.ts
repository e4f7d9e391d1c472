/**
 * The viewer's media player (DESIGN §3 "Media"): `view.frames` → WebCodecs VideoDecoder and
 * AudioDecoder → a <canvas> and an AudioContext, with video kept in step with the audio clock.
 *
 * - Each video keyframe says its codec, size and decoder description; the decoder is configured
 *   (again) from a keyframe whose parameters differ, and after any (re)configuration or decoder
 *   error, frames are dropped until the next keyframe.
 * - Audio buffers are scheduled on the AudioContext at their timestamps (after a short jitter
 *   buffer); that schedule is the clock: a decoded video frame is drawn once the audio clock has
 *   reached its timestamp. Without audio (none in the stream, or the browser does not let the
 *   page play sound yet), frames are drawn as they are decoded.
 * - For tests and the overlay, the canvas carries `data-frames-drawn` (frames drawn so far) and
 *   `data-last-checksum` (FNV-1a of a 16×16 sample of the picture, every few frames).
 */
import { base64ToBytes } from '../base64';
import { RateMeter, fnv1a, type WireFrame } from './frames';

export interface PlayerStats {
  readonly framesDrawn: number;
  /** Frames dropped here: waiting for a keyframe, decoder behind, or late for the audio clock. */
  readonly framesDropped: number;
  readonly fps: number;
  /** Capture → display of the last frame drawn (the broadcaster's and this computer's clocks). */
  readonly latencyMs: number | null;
  readonly width: number;
  readonly height: number;
  readonly videoCodec: string | null;
  /** 'playing' with sound; 'blocked' until the page may play sound; 'none' without audio. */
  readonly audio: 'playing' | 'blocked' | 'none';
}

/** Seconds of audio buffered before playing: absorbs uneven arrival. */
const JITTER_S = 0.15;
/**
 * More audio than this scheduled ahead means the schedule fell behind what arrives (it was set by
 * a late first buffer, or a burst came): it starts again from the newest buffer, so the delay
 * does not stay at its worst.
 */
const MAX_LEAD_S = 0.8;
/** A video frame this much behind the audio clock is dropped instead of drawn. */
const LATE_US = 150_000;
/**
 * A video frame this much ahead of the audio clock means the clocks are apart (an audio output
 * with a long or misreported latency, or audio that restarted after a burst): it is drawn now.
 * It stays below what the present queue holds (MAX_PRESENT_QUEUE frames, 0.4 s at 30 fps), so a
 * frame is never held until the queue overflows and drops it.
 */
const AHEAD_US = 300_000;
/** The audio clock counts as running when audio was scheduled within this time. */
const AUDIO_FRESH_MS = 1000;
/** Draw a checksum every this many frames. */
const CHECKSUM_EVERY = 5;
const MAX_DECODE_QUEUE = 12;
const MAX_PRESENT_QUEUE = 12;

interface Pending {
  readonly frame: VideoFrame;
  readonly capturedAtMs: number;
}

export class StreamPlayer {
  readonly #canvas: HTMLCanvasElement;
  readonly #ctx: CanvasRenderingContext2D;
  readonly #sample: CanvasRenderingContext2D | null;
  #closed = false;

  #video: VideoDecoder | null = null;
  #videoKey = '';
  #videoCodec: string | null = null;
  #waitForKey = true;
  #captured = new Map<number, number>();
  #queue: Pending[] = [];

  #audioCtx: AudioContext | null = null;
  #audio: AudioDecoder | null = null;
  #audioKey = '';
  #anchor: { ctxTime: number; ts: number } | null = null;
  /** Buffers scheduled and not yet played: stopped when the schedule starts again. */
  #scheduled: Array<{ source: AudioBufferSourceNode; when: number }> = [];
  #lastAudioAt = 0;
  #hadAudio = false;

  #drawn = 0;
  #dropped = 0;
  #latency: number | null = null;
  readonly #fps = new RateMeter(2000);
  #raf = 0;

  constructor(canvas: HTMLCanvasElement) {
    if (!(canvas instanceof HTMLCanvasElement)) throw new TypeError('canvas must be an HTMLCanvasElement');
    const ctx = canvas.getContext('2d');
    if (ctx === null) throw new Error('The canvas cannot draw 2D.');
    this.#canvas = canvas;
    this.#ctx = ctx;
    const sample = document.createElement('canvas');
    sample.width = 16;
    sample.height = 16;
    this.#sample = sample.getContext('2d', { willReadFrequently: true });
    canvas.dataset.framesDrawn = '0';
    if (typeof AudioContext === 'function') {
      try {
        this.#audioCtx = new AudioContext({ latencyHint: 'interactive' });
        void this.#audioCtx.resume().catch(() => undefined);
      } catch {
        this.#audioCtx = null;
      }
    }
    this.#raf = requestAnimationFrame(() => this.#tick());
  }

  static supported(): boolean {
    return typeof VideoDecoder === 'function' && typeof EncodedVideoChunk === 'function';
  }

  get stats(): PlayerStats {
    const now = performance.now();
    return {
      framesDrawn: this.#drawn,
      framesDropped: this.#dropped,
      fps: Math.round(this.#fps.perSecond(now) * 10) / 10,
      latencyMs: this.#latency,
      width: this.#canvas.width,
      height: this.#canvas.height,
      videoCodec: this.#videoCodec,
      audio: !this.#hadAudio ? 'none' : this.#audioCtx?.state === 'running' ? 'playing' : 'blocked',
    };
  }

  /** Tries to start sound; call it from a click (browsers allow sound after a user gesture). */
  async resumeAudio(): Promise<void> {
    await this.#audioCtx?.resume();
  }

  /** Decodes a batch of frames (in order). Frames that cannot be used are counted and dropped. */
  push(frames: readonly WireFrame[]): void {
    if (!Array.isArray(frames)) throw new TypeError('frames must be an array');
    if (this.#closed) return;
    for (const f of frames) {
      try {
        if (f.track === 'video') this.#pushVideo(f);
        else this.#pushAudio(f);
      } catch {
        this.#dropped++;
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    cancelAnimationFrame(this.#raf);
    for (const d of [this.#video, this.#audio]) {
      if (d !== null && d.state !== 'closed') {
        try {
          d.close();
        } catch {
          // closed already
        }
      }
    }
    this.#video = null;
    this.#audio = null;
    for (const p of this.#queue.splice(0)) p.frame.close();
    void this.#audioCtx?.close().catch(() => undefined);
    this.#audioCtx = null;
  }

  // ---- video -------------------------------------------------------------------------------

  #pushVideo(f: Extract<WireFrame, { track: 'video' }>): void {
    if (f.keyframe) {
      const key = `${f.codec}|${f.width}x${f.height}|${f.description}`;
      if (this.#video === null || this.#video.state === 'closed' || key !== this.#videoKey) this.#configureVideo(f, key);
      if (this.#video !== null) this.#waitForKey = false;
    }
    const decoder = this.#video;
    if (decoder === null || this.#waitForKey) {
      this.#dropped++;
      return;
    }
    if (decoder.decodeQueueSize > MAX_DECODE_QUEUE) {
      // The decoder is behind: skip to the next keyframe rather than fall further back.
      this.#dropped++;
      this.#waitForKey = true;
      return;
    }
    this.#captured.set(f.timestampUs, f.capturedAtMs);
    if (this.#captured.size > 64) {
      const oldest = this.#captured.keys().next().value;
      if (oldest !== undefined) this.#captured.delete(oldest);
    }
    decoder.decode(new EncodedVideoChunk({ type: f.keyframe ? 'key' : 'delta', timestamp: f.timestampUs, data: base64ToBytes(f.data) }));
  }

  #configureVideo(f: Extract<WireFrame, { track: 'video' }>, key: string): void {
    if (this.#video === null || this.#video.state === 'closed') {
      this.#video = new VideoDecoder({
        output: (frame) => this.#onVideoFrame(frame),
        error: () => {
          // A broken decoder is replaced at the next keyframe.
          this.#video = null;
          this.#videoKey = '';
          this.#waitForKey = true;
        },
      });
    }
    const description = f.description.length > 0 ? base64ToBytes(f.description) : undefined;
    try {
      this.#video.configure({
        codec: f.codec,
        codedWidth: f.width,
        codedHeight: f.height,
        optimizeForLatency: true,
        ...(description !== undefined ? { description } : {}),
      });
      this.#videoKey = key;
      this.#videoCodec = f.codec;
    } catch {
      this.#video.close();
      this.#video = null;
      this.#videoKey = '';
      this.#waitForKey = true;
    }
  }

  #onVideoFrame(frame: VideoFrame): void {
    if (this.#closed) {
      frame.close();
      return;
    }
    const capturedAtMs = this.#captured.get(frame.timestamp) ?? 0;
    this.#captured.delete(frame.timestamp);
    this.#queue.push({ frame, capturedAtMs });
    while (this.#queue.length > MAX_PRESENT_QUEUE) {
      this.#queue.shift()!.frame.close();
      this.#dropped++;
    }
    // Without an audio clock, frames are shown as they come.
    if (this.#audioClockUs() === null) this.#presentLatest();
  }

  /** Draws the newest queued frame; older ones are skipped. */
  #presentLatest(): void {
    const last = this.#queue.pop();
    for (const p of this.#queue.splice(0)) {
      p.frame.close();
      this.#dropped++;
    }
    if (last !== undefined) this.#draw(last);
  }

  #tick(): void {
    if (this.#closed) return;
    this.#raf = requestAnimationFrame(() => this.#tick());
    if (this.#queue.length === 0) return;
    const clock = this.#audioClockUs();
    if (clock === null) {
      this.#presentLatest();
      return;
    }
    let due: Pending | null = null;
    while (this.#queue.length > 0 && this.#queue[0]!.frame.timestamp <= clock) {
      const next = this.#queue.shift()!;
      if (due !== null) {
        due.frame.close();
        this.#dropped++;
      }
      due = next;
    }
    if (due !== null) {
      if (clock - due.frame.timestamp > LATE_US && this.#queue.length > 0) {
        due.frame.close();
        this.#dropped++;
      } else this.#draw(due);
      return;
    }
    // Nothing due yet; a frame far ahead of the clock means the two timelines are apart.
    if (this.#queue[0]!.frame.timestamp - clock > AHEAD_US) this.#presentLatest();
  }

  #draw(p: Pending): void {
    const frame = p.frame;
    try {
      const w = frame.displayWidth;
      const h = frame.displayHeight;
      if (this.#canvas.width !== w || this.#canvas.height !== h) {
        this.#canvas.width = w;
        this.#canvas.height = h;
      }
      this.#ctx.drawImage(frame, 0, 0, w, h);
      this.#drawn++;
      const now = performance.now();
      this.#fps.add(now);
      if (p.capturedAtMs > 0) this.#latency = Math.round(Date.now() - p.capturedAtMs);
      this.#canvas.dataset.framesDrawn = String(this.#drawn);
      if (this.#sample !== null && this.#drawn % CHECKSUM_EVERY === 1) {
        this.#sample.drawImage(frame, 0, 0, 16, 16);
        this.#canvas.dataset.lastChecksum = fnv1a(this.#sample.getImageData(0, 0, 16, 16).data);
      }
    } finally {
      frame.close();
    }
  }

  // ---- audio -------------------------------------------------------------------------------

  #pushAudio(f: Extract<WireFrame, { track: 'audio' }>): void {
    const ctx = this.#audioCtx;
    if (ctx === null || typeof AudioDecoder !== 'function') return;
    this.#hadAudio = true;
    const key = `${f.codec}|${f.sampleRate}|${f.channels}|${f.description}`;
    if (this.#audio === null || this.#audio.state === 'closed' || key !== this.#audioKey) {
      if (this.#audio !== null && this.#audio.state !== 'closed') this.#audio.close();
      this.#audio = new AudioDecoder({
        output: (data) => this.#onAudioData(data),
        error: () => {
          this.#audio = null;
          this.#audioKey = '';
        },
      });
      const description = f.description.length > 0 ? base64ToBytes(f.description) : undefined;
      try {
        this.#audio.configure({ codec: f.codec, sampleRate: f.sampleRate, numberOfChannels: f.channels, ...(description !== undefined ? { description } : {}) });
        this.#audioKey = key;
      } catch {
        this.#audio.close();
        this.#audio = null;
        this.#audioKey = '';
        return;
      }
    }
    if (this.#audio.decodeQueueSize > 32) return;
    this.#audio.decode(new EncodedAudioChunk({ type: 'key', timestamp: f.timestampUs, data: base64ToBytes(f.data) }));
  }

  #onAudioData(data: AudioData): void {
    try {
      const ctx = this.#audioCtx;
      if (this.#closed || ctx === null || ctx.state !== 'running' || data.numberOfFrames === 0) {
        this.#anchor = null;
        return;
      }
      const buffer = ctx.createBuffer(data.numberOfChannels, data.numberOfFrames, data.sampleRate);
      const plane = new Float32Array(data.numberOfFrames);
      for (let ch = 0; ch < data.numberOfChannels; ch++) {
        data.copyTo(plane, { planeIndex: ch, format: 'f32-planar' });
        buffer.copyToChannel(plane, ch);
      }
      const now = ctx.currentTime;
      let when = this.#anchor === null ? -1 : this.#anchor.ctxTime + (data.timestamp - this.#anchor.ts) / 1e6;
      // First buffer, an underrun (late), or too far ahead: the schedule starts again from here,
      // and what was scheduled for later is not played.
      if (this.#anchor === null || when < now || when > now + MAX_LEAD_S) {
        this.#anchor = { ctxTime: now + JITTER_S, ts: data.timestamp };
        when = this.#anchor.ctxTime;
        for (const s of this.#scheduled) if (s.when >= when - 1e-3) s.source.stop();
      }
      this.#scheduled = this.#scheduled.filter((s) => s.when + (s.source.buffer?.duration ?? 0) > now);
      const source = ctx.createBufferSource();
      source.buffer = buffer;
      source.connect(ctx.destination);
      source.start(when);
      this.#scheduled.push({ source, when });
      this.#lastAudioAt = performance.now();
    } finally {
      data.close();
    }
  }

  /** The media time being heard now (µs), or null when there is no running audio clock. */
  #audioClockUs(): number | null {
    const ctx = this.#audioCtx;
    const anchor = this.#anchor;
    if (ctx === null || anchor === null || ctx.state !== 'running') return null;
    if (performance.now() - this.#lastAudioAt > AUDIO_FRESH_MS) return null;
    const outputLatency = Number.isFinite(ctx.outputLatency) ? ctx.outputLatency : 0;
    return anchor.ts + (ctx.currentTime - outputLatency - anchor.ctxTime) * 1e6;
  }
}
