/**
 * The plaintext of one stream frame: what the broadcaster SFrame-encrypts and the viewer gets
 * back after decrypting (group.ts carries the ciphertext; relays never see this layout). One
 * stream multiplexes a video and an audio track; each frame says which, and carries what a
 * decoder that joins late needs (codec, dimensions or sample rate, the decoder description),
 * so a viewer can start at any keyframe (DESIGN §3 "Media": WebCodecs H.264 or VP8, Opus).
 *
 *   version      u8 = 1
 *   track        u8   0 video, 1 audio
 *   flags        u8   bit 0: key (a video keyframe, or the audio frame that starts a group of an
 *                     audio-only stream); the other bits are 0
 *   timestampUs  u64  presentation time in microseconds since the broadcast began (≤ 2^53-1)
 *   capturedAtMs u64  wall-clock time of capture, ms since the Unix epoch (latency overlay)
 *   codecLen     u8   1..64, then the WebCodecs codec string, ASCII printable (e.g. "vp8",
 *                     "avc1.42E01F", "opus")
 *   video:       width u16 (1..8192) | height u16 (1..8192)
 *   audio:       sampleRate u32 (8000..384000) | channels u8 (1..8)
 *   descLen      u16  0..2048, then the decoder description (e.g. an avcC record; empty for VP8)
 *   data         the rest: the encoded chunk, 1.. bytes
 *
 * `decodeMediaFrame` throws only StreamError ('malformed'); the encoder throws TypeError or
 * RangeError naming the field.
 */
import { Writer, assertBytes } from '../util/bytes';
import { checkInput } from '../util/codec';
import { checkBoolean, checkInt, checkObject, dec, fail } from './internal';

export const MEDIA_FRAME_VERSION = 1;
export const MAX_CODEC_LENGTH = 64;
export const MAX_DESCRIPTION_LENGTH = 2048;
export const MAX_VIDEO_DIMENSION = 8192;

export type MediaTrack = 'video' | 'audio';

interface FrameCommon {
  /** A video keyframe, or the first audio frame of a group in an audio-only stream. */
  readonly keyframe: boolean;
  /** Presentation time, µs since the broadcast began. */
  readonly timestampUs: number;
  /** Wall-clock capture time, ms since the Unix epoch. */
  readonly capturedAtMs: number;
  /** WebCodecs codec string. */
  readonly codec: string;
  /** Decoder description (avcC for H.264); empty when the codec needs none. */
  readonly description: Uint8Array;
  /** The encoded chunk. */
  readonly data: Uint8Array;
}

export interface VideoFrameData extends FrameCommon {
  readonly track: 'video';
  readonly width: number;
  readonly height: number;
}

export interface AudioFrameData extends FrameCommon {
  readonly track: 'audio';
  readonly sampleRate: number;
  readonly channels: number;
}

export type MediaFrame = VideoFrameData | AudioFrameData;

const CODEC_RE = /^[\x21-\x7e]{1,64}$/;

function checkFrame(f: unknown): asserts f is MediaFrame {
  checkObject(f, 'frame');
  const x = f as MediaFrame;
  if (x.track !== 'video' && x.track !== 'audio') throw new TypeError(`frame.track must be 'video' or 'audio'`);
  checkBoolean(x.keyframe, 'frame.keyframe');
  checkInt(x.timestampUs, 'frame.timestampUs', 0, Number.MAX_SAFE_INTEGER);
  checkInt(x.capturedAtMs, 'frame.capturedAtMs', 0, Number.MAX_SAFE_INTEGER);
  if (typeof x.codec !== 'string' || !CODEC_RE.test(x.codec)) throw new RangeError('frame.codec must be 1..64 printable ASCII characters');
  assertBytes(x.description, 'frame.description');
  if (x.description.length > MAX_DESCRIPTION_LENGTH) throw new RangeError(`frame.description must be at most ${MAX_DESCRIPTION_LENGTH} bytes`);
  assertBytes(x.data, 'frame.data');
  if (x.data.length === 0) throw new RangeError('frame.data must not be empty');
  if (x.track === 'video') {
    checkInt(x.width, 'frame.width', 1, MAX_VIDEO_DIMENSION);
    checkInt(x.height, 'frame.height', 1, MAX_VIDEO_DIMENSION);
  } else {
    checkInt(x.sampleRate, 'frame.sampleRate', 8000, 384_000);
    checkInt(x.channels, 'frame.channels', 1, 8);
  }
}

export function encodeMediaFrame(frame: MediaFrame): Uint8Array {
  checkFrame(frame);
  const w = new Writer()
    .u8(MEDIA_FRAME_VERSION)
    .u8(frame.track === 'video' ? 0 : 1)
    .u8(frame.keyframe ? 1 : 0)
    .u64(BigInt(frame.timestampUs))
    .u64(BigInt(frame.capturedAtMs))
    .u8(frame.codec.length)
    .bytes(new TextEncoder().encode(frame.codec));
  if (frame.track === 'video') w.u16(frame.width).u16(frame.height);
  else w.u32(frame.sampleRate).u8(frame.channels);
  return w.u16(frame.description.length).bytes(frame.description).bytes(frame.data).finish();
}

function safe(v: bigint, name: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail('malformed', `${name} is out of range`);
  return Number(v);
}

export function decodeMediaFrame(bytes: Uint8Array): MediaFrame {
  checkInput(bytes, 'bytes');
  const r = dec.reader(bytes, 'media frame');
  {
    const version = r.u8();
    if (version !== MEDIA_FRAME_VERSION) throw fail('malformed', `unknown media frame version ${version}`);
    const track = r.u8();
    if (track > 1) throw fail('malformed', `unknown track ${track}`);
    const flags = r.u8();
    if (flags & ~1) throw fail('malformed', 'unknown media frame flags');
    const timestampUs = safe(r.u64(), 'timestampUs');
    const capturedAtMs = safe(r.u64(), 'capturedAtMs');
    const codecLen = r.u8();
    if (codecLen < 1 || codecLen > MAX_CODEC_LENGTH) throw fail('malformed', `codec length ${codecLen} is out of range`);
    const codec = String.fromCharCode(...r.bytes(codecLen));
    if (!CODEC_RE.test(codec)) throw fail('malformed', 'codec is not printable ASCII');
    const common = { keyframe: (flags & 1) === 1, timestampUs, capturedAtMs, codec };
    let frame: MediaFrame;
    if (track === 0) {
      const width = r.u16();
      const height = r.u16();
      if (width < 1 || width > MAX_VIDEO_DIMENSION || height < 1 || height > MAX_VIDEO_DIMENSION) throw fail('malformed', 'video dimensions are out of range');
      const description = r.bytes(r.u16()).slice();
      if (description.length > MAX_DESCRIPTION_LENGTH) throw fail('malformed', 'description is too long');
      frame = { track: 'video', ...common, width, height, description, data: r.rest().slice() };
    } else {
      const sampleRate = r.u32();
      const channels = r.u8();
      if (sampleRate < 8000 || sampleRate > 384_000 || channels < 1 || channels > 8) throw fail('malformed', 'audio parameters are out of range');
      const description = r.bytes(r.u16()).slice();
      if (description.length > MAX_DESCRIPTION_LENGTH) throw fail('malformed', 'description is too long');
      frame = { track: 'audio', ...common, sampleRate, channels, description, data: r.rest().slice() };
    }
    if (frame.data.length === 0) throw fail('malformed', 'empty media frame');
    return frame;
  }
}
