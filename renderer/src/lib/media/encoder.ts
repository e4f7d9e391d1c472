/**
 * The broadcaster's media pipeline (DESIGN §3 "Media"): raw camera frames → WebCodecs
 * VideoEncoder (VP8, or H.264 "avc1.42E01F" with avcC descriptions where VP8 is unsupported;
 * realtime latency mode; the target bitrate; a keyframe about every 2 s and whenever asked) and
 * microphone buffers → AudioEncoder (Opus) → batches of `broadcast.frames` calls (./frames
 * FrameBatcher).
 *
 * Backpressure, step by step: a camera frame that arrives while the encoder still holds more
 * than MAX_ENCODE_QUEUE frames is skipped; a queue of calls that cannot keep up drops video up to
 * the next keyframe; an answer with `wantKeyframe` (the broadcaster skipped frames) forces the
 * next keyframe.
 *
 * Time: both tracks are stamped on one clock, µs since the pipeline started (performance.now());
 * `capturedAtMs` is the same instant as wall-clock time, for the viewer's latency figure.
 */
import { bytesToBase64 } from '../base64';
import { readAudioData, readVideoFrames, type FrameSource } from './capture';
import {
  FrameBatcher,
  KeyframeClock,
  MAX_ENCODE_QUEUE,
  OPUS_BITRATE,
  OPUS_SAMPLE_RATE,
  chooseConfig,
  videoEncoderCandidates,
  type FramesAnswer,
  type WireFrame,
} from './frames';

export interface PipelineOptions {
  readonly stream: MediaStream;
  /** Target video bitrate, bits per second (audio adds OPUS_BITRATE). */
  readonly bitrate: number;
  /** `broadcast.frames`. */
  readonly send: (frames: WireFrame[]) => Promise<FramesAnswer>;
  /** A batch could not be sent. */
  readonly onSendError: (error: unknown) => void;
  /** The pipeline cannot go on (no encoder for any codec, the tracks ended). */
  readonly onFatal: (problem: string) => void;
}

export interface PipelineStats {
  readonly videoCodec: string | null;
  readonly width: number;
  readonly height: number;
  readonly audio: boolean;
  readonly framesEncoded: number;
  /** Camera frames skipped because the encoder was behind. */
  readonly framesSkipped: number;
  readonly keyframes: number;
  readonly accepted: number;
  readonly skippedRemote: number;
  readonly droppedLocal: number;
}

/** A copy of a decoder description (an ArrayBuffer or a view of one). */
function copyBytes(source: AllowSharedBufferSource | undefined): Uint8Array<ArrayBuffer> {
  if (source === undefined) return new Uint8Array(0);
  const view = ArrayBuffer.isView(source) ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength) : new Uint8Array(source);
  const out = new Uint8Array(view.length);
  out.set(view);
  return out;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class BroadcastPipeline {
  readonly #opts: PipelineOptions;
  readonly #batcher: FrameBatcher;
  readonly #keys = new KeyframeClock();
  /** performance.now() when the pipeline started: the time origin of every timestamp. */
  readonly #t0 = performance.now();
  #stream: MediaStream;
  #sources: FrameSource[] = [];
  #stopped = false;

  // video
  #video: VideoEncoder | null = null;
  #videoConfig: VideoEncoderConfig | null = null;
  #configuring = false;
  #videoCodecChoice: string | null = null;
  #description: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  #decoderCodec: string | null = null;
  #videoErrors = 0;
  #encoded = 0;
  #skipped = 0;
  #keyframes = 0;

  // audio
  #audio: AudioEncoder | null = null;
  #audioFormat: { sampleRate: number; channels: number } | null = null;
  #audioOffsetUs: number | null = null;
  #audioKeys = new KeyframeClock();
  #audioFailed = false;
  #audioDescription: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  /** What the decoder is to be configured with, as the encoder's metadata says (else the input's). */
  #audioDecoderFormat: { sampleRate: number; channels: number } | null = null;

  private constructor(opts: PipelineOptions) {
    this.#opts = opts;
    this.#stream = opts.stream;
    this.#batcher = new FrameBatcher({
      send: opts.send,
      onKeyframeWanted: () => this.requestKeyframe(),
      onError: opts.onSendError,
    });
  }

  /** Whether this browser has the WebCodecs encoders the pipeline needs. */
  static supported(): boolean {
    return typeof VideoEncoder === 'function' && typeof AudioEncoder === 'function' && typeof VideoFrame === 'function';
  }

  /** Starts encoding the stream's video and audio tracks. */
  static start(opts: PipelineOptions): BroadcastPipeline {
    if (typeof opts !== 'object' || opts === null) throw new TypeError('opts must be an object');
    if (!(opts.stream instanceof MediaStream)) throw new TypeError('opts.stream must be a MediaStream');
    if (!Number.isSafeInteger(opts.bitrate) || opts.bitrate < 1) throw new RangeError('opts.bitrate must be a positive integer');
    for (const key of ['send', 'onSendError', 'onFatal'] as const) {
      if (typeof opts[key] !== 'function') throw new TypeError(`opts.${key} must be a function`);
    }
    if (!BroadcastPipeline.supported()) throw new Error('This browser has no WebCodecs encoders.');
    const pipeline = new BroadcastPipeline(opts);
    pipeline.#attach(opts.stream);
    return pipeline;
  }

  get stats(): PipelineStats {
    const b = this.#batcher.stats;
    return {
      videoCodec: this.#videoConfig?.codec ?? null,
      width: this.#videoConfig?.width ?? 0,
      height: this.#videoConfig?.height ?? 0,
      audio: this.#audio !== null,
      framesEncoded: this.#encoded,
      framesSkipped: this.#skipped,
      keyframes: this.#keyframes,
      accepted: b.accepted,
      skippedRemote: b.skippedRemote,
      droppedLocal: b.droppedLocal,
    };
  }

  /** The next video frame becomes a keyframe. */
  requestKeyframe(): void {
    this.#keys.force();
    this.#audioKeys.force();
  }

  /** Continues from another camera or microphone (the encoders stay; a keyframe follows). */
  setStream(stream: MediaStream): void {
    if (!(stream instanceof MediaStream)) throw new TypeError('stream must be a MediaStream');
    if (this.#stopped) return;
    this.#detach();
    this.#stream = stream;
    this.requestKeyframe();
    this.#attach(stream);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#detach();
    this.#batcher.close();
    for (const encoder of [this.#video, this.#audio]) {
      if (encoder !== null && encoder.state !== 'closed') {
        try {
          encoder.close();
        } catch {
          // already closed by an error
        }
      }
    }
    this.#video = null;
    this.#audio = null;
  }

  #nowUs(): number {
    return Math.max(0, Math.round((performance.now() - this.#t0) * 1000));
  }

  #capturedAtMs(timestampUs: number): number {
    return Math.round(performance.timeOrigin + this.#t0 + timestampUs / 1000);
  }

  #attach(stream: MediaStream): void {
    const videoTrack = stream.getVideoTracks()[0];
    const audioTrack = stream.getAudioTracks()[0];
    if (videoTrack === undefined && audioTrack === undefined) {
      this.#opts.onFatal('There is no camera or microphone to broadcast from.');
      return;
    }
    const ended = (error?: unknown): void => {
      if (this.#stopped || this.#stream !== stream) return;
      this.#opts.onFatal(error === undefined ? 'The camera or microphone stopped.' : `The camera or microphone stopped: ${messageOf(error)}.`);
    };
    if (videoTrack !== undefined) this.#sources.push(readVideoFrames(videoTrack, (f) => this.#onVideoFrame(f), ended));
    if (audioTrack !== undefined && !this.#audioFailed) this.#sources.push(readAudioData(audioTrack, (d) => this.#onAudioData(d), ended));
  }

  #detach(): void {
    for (const s of this.#sources.splice(0)) s.stop();
    // A new microphone may have another format: the audio encoder is made again for it.
    this.#audioOffsetUs = null;
  }

  #hasVideo(): boolean {
    return this.#stream.getVideoTracks().length > 0;
  }

  // ---- video -------------------------------------------------------------------------------

  #onVideoFrame(frame: VideoFrame): void {
    try {
      if (this.#stopped || this.#configuring) return;
      const width = frame.displayWidth;
      const height = frame.displayHeight;
      if (width < 2 || height < 2) return;
      const cfg = this.#videoConfig;
      const fresh = this.#video === null || this.#video.state === 'closed' || cfg === null;
      const resized = cfg !== null && (cfg.codec === 'vp8' ? cfg.width !== width || cfg.height !== height : cfg.width !== (width & ~1) || cfg.height !== (height & ~1));
      if (fresh || resized) {
        void this.#configureVideo(width, height);
        return;
      }
      const encoder = this.#video!;
      // Encoder backpressure: a frame the encoder cannot take now is skipped, not queued.
      if (encoder.encodeQueueSize > MAX_ENCODE_QUEUE) {
        this.#skipped++;
        return;
      }
      const timestamp = this.#nowUs();
      const keyFrame = this.#keys.next(timestamp);
      const stamped = new VideoFrame(frame, { timestamp });
      try {
        encoder.encode(stamped, { keyFrame });
      } finally {
        stamped.close();
      }
    } catch (e) {
      this.#videoFailed(e);
    } finally {
      frame.close();
    }
  }

  async #configureVideo(width: number, height: number): Promise<void> {
    this.#configuring = true;
    try {
      const track = this.#stream.getVideoTracks()[0];
      const framerate = Math.min(60, Math.max(1, track?.getSettings().frameRate ?? 30));
      const candidates = videoEncoderCandidates(width, height, this.#opts.bitrate, framerate).filter(
        (c) => this.#videoCodecChoice === null || c.codec === this.#videoCodecChoice,
      );
      const config = await chooseConfig(candidates, (c) => VideoEncoder.isConfigSupported(c));
      if (this.#stopped) return;
      if (config === null) {
        this.#opts.onFatal('This browser cannot encode video as VP8 or H.264.');
        return;
      }
      this.#videoCodecChoice = config.codec;
      if (this.#video === null || this.#video.state === 'closed') {
        this.#video = new VideoEncoder({
          output: (chunk, metadata) => this.#onVideoChunk(chunk, metadata),
          error: (e) => this.#videoFailed(e),
        });
      }
      this.#video.configure(config);
      this.#videoConfig = config;
      this.#description = new Uint8Array(0);
      this.#decoderCodec = null;
      this.#keys.force();
    } catch (e) {
      this.#videoFailed(e);
    } finally {
      this.#configuring = false;
    }
  }

  #videoFailed(e: unknown): void {
    if (this.#stopped) return;
    this.#videoErrors++;
    if (this.#video !== null && this.#video.state !== 'closed') {
      try {
        this.#video.close();
      } catch {
        // closed by the error already
      }
    }
    this.#video = null;
    this.#videoConfig = null;
    if (this.#videoErrors >= 5) this.#opts.onFatal(`The video encoder keeps failing: ${messageOf(e)}.`);
    // Otherwise the next camera frame configures a new encoder, starting with a keyframe.
  }

  #onVideoChunk(chunk: EncodedVideoChunk, metadata: EncodedVideoChunkMetadata | undefined): void {
    if (this.#stopped) return;
    const cfg = this.#videoConfig;
    if (cfg === null) return;
    const decoderConfig = metadata?.decoderConfig;
    if (decoderConfig !== undefined) {
      // "avc" format: the avcC record the decoder needs comes with the keyframes' metadata.
      this.#description = copyBytes(decoderConfig.description);
      this.#decoderCodec = decoderConfig.codec;
    }
    const data = new Uint8Array(chunk.byteLength);
    chunk.copyTo(data);
    if (data.length === 0) return;
    const keyframe = chunk.type === 'key';
    this.#videoErrors = 0;
    this.#encoded++;
    if (keyframe) this.#keyframes++;
    this.#batcher.push({
      track: 'video',
      keyframe,
      timestampUs: Math.max(0, chunk.timestamp),
      capturedAtMs: this.#capturedAtMs(Math.max(0, chunk.timestamp)),
      codec: this.#decoderCodec ?? cfg.codec,
      width: decoderConfig?.codedWidth ?? cfg.width,
      height: decoderConfig?.codedHeight ?? cfg.height,
      // Only keyframes carry the description: a viewer (re)configures its decoder from them.
      description: keyframe ? bytesToBase64(this.#description) : '',
      data: bytesToBase64(data),
    });
  }

  // ---- audio -------------------------------------------------------------------------------

  #onAudioData(data: AudioData): void {
    try {
      if (this.#stopped || this.#audioFailed) return;
      const format = { sampleRate: data.sampleRate, channels: Math.min(2, data.numberOfChannels) };
      if (this.#audio === null || this.#audio.state === 'closed' || this.#audioFormat?.sampleRate !== format.sampleRate || this.#audioFormat.channels !== format.channels) {
        this.#configureAudio(format);
        if (this.#audio === null) return;
      }
      if (this.#audioOffsetUs === null) this.#audioOffsetUs = this.#nowUs() - data.timestamp;
      if (this.#audio.encodeQueueSize > 16) return;
      this.#audio.encode(data);
    } catch (e) {
      this.#audioError(e);
    } finally {
      data.close();
    }
  }

  #configureAudio(format: { sampleRate: number; channels: number }): void {
    if (this.#audio !== null && this.#audio.state !== 'closed') this.#audio.close();
    this.#audio = null;
    // Opus takes 8, 12, 16, 24 or 48 kHz; anything else is refused by the encoder check below.
    const config: AudioEncoderConfig = { codec: 'opus', sampleRate: format.sampleRate, numberOfChannels: format.channels, bitrate: OPUS_BITRATE };
    const encoder = new AudioEncoder({
      output: (chunk, metadata) => this.#onAudioChunk(chunk, metadata, format),
      error: (e) => this.#audioError(e),
    });
    try {
      encoder.configure(config);
    } catch (e) {
      encoder.close();
      this.#audioError(e);
      return;
    }
    this.#audio = encoder;
    this.#audioFormat = format;
    this.#audioDecoderFormat = null;
    this.#audioOffsetUs = null;
  }

  #audioError(e: unknown): void {
    if (this.#stopped || this.#audioFailed) return;
    // Audio is not worth ending the broadcast for: it goes on without sound.
    this.#audioFailed = true;
    if (this.#audio !== null && this.#audio.state !== 'closed') {
      try {
        this.#audio.close();
      } catch {
        // closed already
      }
    }
    this.#audio = null;
    if (!this.#hasVideo()) this.#opts.onFatal(`The microphone cannot be encoded as Opus: ${messageOf(e)}.`);
  }

  #onAudioChunk(chunk: EncodedAudioChunk, metadata: EncodedAudioChunkMetadata | undefined, format: { sampleRate: number; channels: number }): void {
    if (this.#stopped) return;
    const decoderConfig = metadata?.decoderConfig;
    if (decoderConfig !== undefined) {
      this.#audioDescription = copyBytes(decoderConfig.description);
      this.#audioDecoderFormat = { sampleRate: decoderConfig.sampleRate, channels: decoderConfig.numberOfChannels };
    }
    const out = this.#audioDecoderFormat ?? format;
    const data = new Uint8Array(chunk.byteLength);
    chunk.copyTo(data);
    if (data.length === 0) return;
    const timestampUs = Math.max(0, chunk.timestamp + (this.#audioOffsetUs ?? 0));
    // In a stream without video, audio frames start the groups (media-frame.ts "key").
    const keyframe = !this.#hasVideo() && this.#audioKeys.next(timestampUs);
    this.#batcher.push({
      track: 'audio',
      keyframe,
      timestampUs,
      capturedAtMs: this.#capturedAtMs(timestampUs),
      codec: 'opus',
      sampleRate: out.sampleRate > 0 ? out.sampleRate : OPUS_SAMPLE_RATE,
      channels: out.channels > 0 ? out.channels : format.channels,
      description: bytesToBase64(this.#audioDescription),
      data: bytesToBase64(data),
    });
  }
}
