/**
 * IVF, the small container of VP8, VP9 and AV1 frames that libvpx's tools (vpxenc, vpxdec) and
 * ffmpeg read and write, and helpers that tell VP8 and VP9 key frames by their first bytes.
 * The CLI streams an IVF file as live video and records a received stream into one.
 *
 * IVF has no formal specification; the layout below is the one libvpx writes (ivfenc.c) and
 * reads (ivfdec.c). All integers are little-endian.
 *
 *   File header, 32 bytes
 *     0  signature            "DKIF"
 *     4  version              u16 = 0
 *     6  headerSize           u16 = 32
 *     8  fourcc               4 bytes, printable ASCII: "VP80", "VP90", "AV01"
 *    12  width                u16, pixels (1..16384)
 *    14  height               u16, pixels (1..16384)
 *    16  timebaseDenominator  u32 ≥ 1  \  a timestamp counts units of
 *    20  timebaseNumerator    u32 ≥ 1  /  numerator/denominator seconds (1/30: frame numbers at 30 fps)
 *    24  frameCount           u32, as declared (a writer that streams may leave 0; not enforced)
 *    28  unused               u32 (not checked)
 *   Then, per frame, a 12-byte header and the frame:
 *     0  size                 u32, 1..maxFrameSize (default 4 MiB)
 *     4  timestamp            u64, in timebase units, ≤ 2^53-1, never below the previous frame's
 *    12  data                 `size` bytes: one encoded frame (VP9: a frame or a superframe;
 *                             AV1: a temporal unit)
 *
 * Reading throws only IvfError, with one code per rule (IVF_ERROR_CODES); `IvfReader` takes the
 * bytes in chunks split anywhere, `readIvf` a whole file. Writing and the other helpers throw
 * TypeError/RangeError naming the parameter: their input is the caller's.
 *
 * Does not: look inside frames beyond the first bytes of VP8/VP9 frame headers, or read the
 * frame headers of AV1 (its key frames are not detected here).
 */
import { assertBytes } from '../util/bytes';
import { CodedError, isCodedError } from '../util/coded-error';

export const IVF_ERROR_CODES = [
  /** The file does not begin with "DKIF". */
  'bad-signature',
  /** The header's version is not 0. */
  'unsupported-version',
  /** A header field is out of range: header size ≠ 32, fourcc, width, height or a timebase part. */
  'bad-header',
  /** The input ended inside the file header or inside a frame. */
  'truncated',
  /** A frame header states a size above the reader's limit. */
  'frame-too-large',
  /** A frame of size 0, or a timestamp above 2^53-1 or below the previous frame's. */
  'bad-frame',
  /** The reader was given more unread bytes than one header and one frame; it is not being drained. */
  'buffer-overflow',
  /** A VP8 frame whose frame tag or key-frame header is malformed (RFC 6386 §9.1, §19.1). */
  'bad-codec-frame',
] as const;

export type IvfErrorCode = (typeof IVF_ERROR_CODES)[number];

export class IvfError extends CodedError<IvfErrorCode> {
  override readonly name = 'IvfError';
}

/** True when `e` is an IvfError (optionally with the given code). */
export function isIvfError(e: unknown, code?: IvfErrorCode): e is IvfError {
  return isCodedError(IvfError, e, code);
}

export const IVF_SIGNATURE = 'DKIF';
export const IVF_VERSION = 0;
export const IVF_HEADER_LENGTH = 32;
export const IVF_FRAME_HEADER_LENGTH = 12;
/** Where the u32 frame count sits in the file header. */
export const IVF_FRAME_COUNT_OFFSET = 24;
export const IVF_DEFAULT_MAX_FRAME_SIZE = 4 * 1024 * 1024;
/** The largest `maxFrameSize` a reader or writer accepts. */
export const IVF_MAX_FRAME_SIZE_LIMIT = 256 * 1024 * 1024;
/** Width and height limit (VP8 carries 14 bits of each, RFC 6386 §9.1). */
export const IVF_MAX_DIMENSION = 16384;

const SIGNATURE_BYTES = [0x44, 0x4b, 0x49, 0x46]; // "DKIF"
const FOURCC_RE = /^[\x20-\x7e]{4}$/;
const MAX_U32 = 0xffffffff;

/** The header fields a writer needs; `frameCount` is what it counts. */
export interface IvfHeaderInit {
  /** Four printable ASCII characters, e.g. "VP80". */
  readonly fourcc: string;
  readonly width: number;
  readonly height: number;
  /** Timestamps count timebaseNumerator/timebaseDenominator seconds. */
  readonly timebaseNumerator: number;
  readonly timebaseDenominator: number;
}

export interface IvfHeader extends IvfHeaderInit {
  /** The frame count the header declares (not necessarily the number of frames that follow). */
  readonly frameCount: number;
}

export interface IvfFrame {
  /** Presentation time in timebase units. */
  readonly timestamp: number;
  readonly data: Uint8Array;
}

export interface IvfFile {
  readonly header: IvfHeader;
  readonly frames: IvfFrame[];
}

export interface IvfLimits {
  /** Largest frame accepted, in bytes (1..IVF_MAX_FRAME_SIZE_LIMIT; default 4 MiB). */
  readonly maxFrameSize?: number;
}

function checkLimits(limits: unknown, name: string): number {
  if (typeof limits !== 'object' || limits === null) throw new TypeError(`${name} must be an object`);
  const v = (limits as IvfLimits).maxFrameSize;
  if (v === undefined) return IVF_DEFAULT_MAX_FRAME_SIZE;
  if (typeof v !== 'number') throw new TypeError(`${name}.maxFrameSize must be a number`);
  if (!Number.isInteger(v) || v < 1 || v > IVF_MAX_FRAME_SIZE_LIMIT) {
    throw new RangeError(`${name}.maxFrameSize must be an integer in 1..${IVF_MAX_FRAME_SIZE_LIMIT}, got ${v}`);
  }
  return v;
}

function checkInt(v: unknown, name: string, min: number, max: number): asserts v is number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${v}`);
}

function checkHeaderInit(h: unknown, name: string): asserts h is IvfHeaderInit {
  if (typeof h !== 'object' || h === null) throw new TypeError(`${name} must be an object`);
  const x = h as IvfHeaderInit;
  if (typeof x.fourcc !== 'string') throw new TypeError(`${name}.fourcc must be a string`);
  if (!FOURCC_RE.test(x.fourcc)) throw new RangeError(`${name}.fourcc must be 4 printable ASCII characters, got ${JSON.stringify(x.fourcc)}`);
  checkInt(x.width, `${name}.width`, 1, IVF_MAX_DIMENSION);
  checkInt(x.height, `${name}.height`, 1, IVF_MAX_DIMENSION);
  checkInt(x.timebaseNumerator, `${name}.timebaseNumerator`, 1, MAX_U32);
  checkInt(x.timebaseDenominator, `${name}.timebaseDenominator`, 1, MAX_U32);
}

function u16le(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}

function u32le(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
}

function putU16le(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
}

function putU32le(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

/** Decodes the 32-byte file header at `b[o..]` (the caller made sure 32 bytes are there). */
function decodeHeaderAt(b: Uint8Array, o: number): IvfHeader {
  for (let i = 0; i < 4; i++) {
    if (b[o + i] !== SIGNATURE_BYTES[i]) throw new IvfError('bad-signature', 'not an IVF file: it does not begin with "DKIF"');
  }
  const version = u16le(b, o + 4);
  if (version !== IVF_VERSION) throw new IvfError('unsupported-version', `IVF version ${version} is not supported (expected 0)`);
  const headerSize = u16le(b, o + 6);
  if (headerSize !== IVF_HEADER_LENGTH) throw new IvfError('bad-header', `IVF header size ${headerSize} is not 32`);
  let fourcc = '';
  for (let i = 8; i < 12; i++) fourcc += String.fromCharCode(b[o + i]!);
  if (!FOURCC_RE.test(fourcc)) throw new IvfError('bad-header', 'IVF fourcc is not 4 printable ASCII characters');
  const width = u16le(b, o + 12);
  const height = u16le(b, o + 14);
  if (width < 1 || width > IVF_MAX_DIMENSION || height < 1 || height > IVF_MAX_DIMENSION) {
    throw new IvfError('bad-header', `IVF frame size ${width}x${height} is out of range (1..${IVF_MAX_DIMENSION} each)`);
  }
  const timebaseDenominator = u32le(b, o + 16);
  const timebaseNumerator = u32le(b, o + 20);
  if (timebaseDenominator === 0 || timebaseNumerator === 0) {
    throw new IvfError('bad-header', `IVF timebase ${timebaseNumerator}/${timebaseDenominator} has a zero part`);
  }
  const frameCount = u32le(b, o + IVF_FRAME_COUNT_OFFSET);
  return { fourcc, width, height, timebaseNumerator, timebaseDenominator, frameCount };
}

/** Decodes a 32-byte IVF file header. Throws IvfError; `bytes` may be longer (the rest is ignored). */
export function decodeIvfHeader(bytes: Uint8Array): IvfHeader {
  assertBytes(bytes, 'bytes');
  if (bytes.length < IVF_HEADER_LENGTH) {
    checkSignaturePrefix(bytes, 0, bytes.length);
    throw new IvfError('truncated', `IVF header cut short: ${bytes.length} of 32 bytes`);
  }
  return decodeHeaderAt(bytes, 0);
}

function checkSignaturePrefix(b: Uint8Array, start: number, end: number): void {
  for (let i = 0; i < 4 && start + i < end; i++) {
    if (b[start + i] !== SIGNATURE_BYTES[i]) throw new IvfError('bad-signature', 'not an IVF file: it does not begin with "DKIF"');
  }
}

/** Encodes a file header. Throws TypeError/RangeError naming the field. */
export function encodeIvfHeader(header: IvfHeader): Uint8Array {
  checkHeaderInit(header, 'header');
  checkInt(header.frameCount, 'header.frameCount', 0, MAX_U32);
  const b = new Uint8Array(IVF_HEADER_LENGTH);
  b.set(SIGNATURE_BYTES, 0);
  putU16le(b, 4, IVF_VERSION);
  putU16le(b, 6, IVF_HEADER_LENGTH);
  for (let i = 0; i < 4; i++) b[8 + i] = header.fourcc.charCodeAt(i);
  putU16le(b, 12, header.width);
  putU16le(b, 14, header.height);
  putU32le(b, 16, header.timebaseDenominator);
  putU32le(b, 20, header.timebaseNumerator);
  putU32le(b, IVF_FRAME_COUNT_OFFSET, header.frameCount);
  // Bytes 28..31 are unused and written as 0.
  return b;
}

const EMPTY = new Uint8Array(0);
const MIN_CAPACITY = 64;

/**
 * Incremental IVF reader. `push` appends a chunk (split anywhere); `next` returns the next
 * complete frame or null when more bytes are needed; `header` is set once the file header has
 * been read (by `next`). At the end of the input, `end()` reports a file cut short.
 *
 * Contract with the caller: after each `push`, call `next` until it returns null. If the caller
 * stops draining, `push` refuses to buffer more than one file header and one maximal frame of
 * unread bytes (IvfError 'buffer-overflow'). Errors are reported as soon as the bytes that show
 * them have arrived (a bad signature after its first wrong byte, an oversized frame from its
 * 12-byte header). Once an IvfError is thrown the reader is poisoned: every later call throws it.
 */
export class IvfReader {
  #buf: Uint8Array = EMPTY;
  #start = 0;
  #end = 0;
  readonly #maxFrame: number;
  #header: IvfHeader | null = null;
  #lastTimestamp = -1;
  #frames = 0;
  #error: IvfError | undefined;

  constructor(limits: IvfLimits = {}) {
    this.#maxFrame = checkLimits(limits, 'limits');
  }

  /** The file header, once `next` has read it. */
  get header(): IvfHeader | null {
    return this.#header;
  }

  /** Frames returned so far. */
  get framesRead(): number {
    return this.#frames;
  }

  /** Bytes pushed but not yet returned. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** The error that poisoned this reader, if any. */
  get error(): IvfError | undefined {
    return this.#error;
  }

  #fail(err: IvfError): never {
    this.#error = err;
    throw err;
  }

  /** Appends a chunk. The chunk is copied; the caller may reuse it afterwards. */
  push(chunk: Uint8Array): void {
    assertBytes(chunk, 'chunk');
    if (this.#error) throw this.#error;
    const unread = this.#end - this.#start;
    const bound = IVF_HEADER_LENGTH + IVF_FRAME_HEADER_LENGTH + this.#maxFrame;
    if (unread > bound) {
      this.#fail(new IvfError('buffer-overflow', `IVF reader holds ${unread} unread bytes, more than one header and frame (${bound}); frames are not being read`));
    }
    const n = chunk.length;
    if (n === 0) return;
    if (this.#end + n > this.#buf.length) {
      const need = unread + n;
      if (need <= this.#buf.length >>> 1) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        const next = new Uint8Array(Math.max(need * 2, MIN_CAPACITY));
        next.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = next;
      }
      this.#start = 0;
      this.#end = unread;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += n;
  }

  /** The next complete frame, or null. Throws IvfError for bad input (and stays failed). */
  next(): IvfFrame | null {
    if (this.#error) throw this.#error;
    try {
      return this.#next();
    } catch (err) {
      if (err instanceof IvfError) this.#fail(err);
      throw err;
    }
  }

  #next(): IvfFrame | null {
    const b = this.#buf;
    const avail = this.#end - this.#start;
    if (!this.#header) {
      checkSignaturePrefix(b, this.#start, this.#end);
      if (avail < IVF_HEADER_LENGTH) return null;
      this.#header = decodeHeaderAt(b, this.#start);
      this.#start += IVF_HEADER_LENGTH;
      return this.#next();
    }
    if (avail < IVF_FRAME_HEADER_LENGTH) return null;
    const o = this.#start;
    const size = u32le(b, o);
    const index = this.#frames;
    if (size === 0) throw new IvfError('bad-frame', `IVF frame ${index} has size 0`);
    if (size > this.#maxFrame) throw new IvfError('frame-too-large', `IVF frame ${index} of ${size} bytes is above the limit of ${this.#maxFrame}`);
    const hi = u32le(b, o + 8);
    if (hi > 0x1fffff) throw new IvfError('bad-frame', `IVF frame ${index}: timestamp is above 2^53-1`);
    const timestamp = hi * 0x100000000 + u32le(b, o + 4);
    if (timestamp < this.#lastTimestamp) {
      throw new IvfError('bad-frame', `IVF frame ${index}: timestamp ${timestamp} is below the previous frame's (${this.#lastTimestamp})`);
    }
    if (avail < IVF_FRAME_HEADER_LENGTH + size) return null;
    const data = b.slice(o + IVF_FRAME_HEADER_LENGTH, o + IVF_FRAME_HEADER_LENGTH + size);
    this.#start += IVF_FRAME_HEADER_LENGTH + size;
    this.#lastTimestamp = timestamp;
    this.#frames++;
    if (this.#start === this.#end) {
      this.#start = 0;
      this.#end = 0;
      // A very large chunk may have grown the array; give the memory back.
      if (this.#buf.length > 2 * (this.#maxFrame + IVF_HEADER_LENGTH + IVF_FRAME_HEADER_LENGTH)) this.#buf = EMPTY;
    }
    return { timestamp, data };
  }

  /**
   * Declares the end of the input. Throws IvfError('truncated') when the file header is missing
   * or a frame was cut short; call it after draining with `next`.
   */
  end(): void {
    if (this.#error) throw this.#error;
    if (this.next() !== null) {
      throw new Error('IvfReader.end: complete frames are still buffered; call next() until it returns null first');
    }
    const unread = this.#end - this.#start;
    if (!this.#header) this.#fail(new IvfError('truncated', `IVF input ended inside the file header (${unread} of 32 bytes)`));
    if (unread !== 0) this.#fail(new IvfError('truncated', `IVF input ended inside frame ${this.#frames} (${unread} bytes left over)`));
  }
}

/** Reads a whole IVF file. Throws IvfError. */
export function readIvf(bytes: Uint8Array, limits: IvfLimits = {}): IvfFile {
  assertBytes(bytes, 'bytes');
  const reader = new IvfReader(limits);
  const frames: IvfFrame[] = [];
  // Fed in slices no longer than one maximal frame so the reader's drain bound holds.
  const step = IVF_FRAME_HEADER_LENGTH + checkLimits(limits, 'limits');
  for (let off = 0; off < bytes.length; off += step) {
    reader.push(bytes.subarray(off, off + step));
    for (let f = reader.next(); f !== null; f = reader.next()) frames.push(f);
  }
  reader.end();
  return { header: reader.header!, frames };
}

/**
 * Writes IVF: `header()` gives the 32-byte file header with the frames counted so far (write it
 * first, and again over the first 32 bytes when done if the count matters), `frame()` the bytes of
 * one frame. Refuses frames a reader with the same limit would refuse (TypeError/RangeError).
 */
export class IvfWriter {
  readonly #init: IvfHeaderInit;
  readonly #maxFrame: number;
  #count = 0;
  #lastTimestamp = -1;

  constructor(header: IvfHeaderInit, limits: IvfLimits = {}) {
    checkHeaderInit(header, 'header');
    this.#maxFrame = checkLimits(limits, 'limits');
    const { fourcc, width, height, timebaseNumerator, timebaseDenominator } = header;
    this.#init = { fourcc, width, height, timebaseNumerator, timebaseDenominator };
  }

  get frameCount(): number {
    return this.#count;
  }

  /** The header fields, declaring the frames written so far. */
  get fields(): IvfHeader {
    return { ...this.#init, frameCount: this.#count };
  }

  /** The 32-byte file header declaring the frames written so far. */
  header(): Uint8Array {
    return encodeIvfHeader(this.fields);
  }

  /** The 12-byte frame header followed by `data`. `timestamp` is in timebase units, never decreasing. */
  frame(data: Uint8Array, timestamp: number): Uint8Array {
    assertBytes(data, 'data');
    if (data.length === 0) throw new RangeError('data must not be empty');
    if (data.length > this.#maxFrame) throw new RangeError(`data must be at most ${this.#maxFrame} bytes, got ${data.length}`);
    checkInt(timestamp, 'timestamp', 0, Number.MAX_SAFE_INTEGER);
    if (timestamp < this.#lastTimestamp) throw new RangeError(`timestamp ${timestamp} is below the previous frame's (${this.#lastTimestamp})`);
    if (this.#count === MAX_U32) throw new RangeError('an IVF file holds at most 2^32-1 frames');
    const out = new Uint8Array(IVF_FRAME_HEADER_LENGTH + data.length);
    putU32le(out, 0, data.length);
    putU32le(out, 4, timestamp % 0x100000000);
    putU32le(out, 8, Math.floor(timestamp / 0x100000000));
    out.set(data, IVF_FRAME_HEADER_LENGTH);
    this.#lastTimestamp = timestamp;
    this.#count++;
    return out;
  }
}

/** A whole IVF file: the header (counting `frames`) and the frames. Throws TypeError/RangeError. */
export function writeIvf(header: IvfHeaderInit, frames: readonly IvfFrame[], limits: IvfLimits = {}): Uint8Array {
  const w = new IvfWriter(header, limits);
  if (!Array.isArray(frames)) throw new TypeError('frames must be an array');
  const parts = frames.map((f, i) => {
    if (typeof f !== 'object' || f === null) throw new TypeError(`frames[${i}] must be an object`);
    try {
      return w.frame(f.data, f.timestamp);
    } catch (e) {
      if (e instanceof TypeError) throw new TypeError(`frames[${i}]: ${e.message}`);
      if (e instanceof RangeError) throw new RangeError(`frames[${i}]: ${e.message}`);
      throw e;
    }
  });
  const head = w.header();
  let total = head.length;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  out.set(head, 0);
  let off = head.length;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * A timestamp in timebase units as microseconds, rounded to the nearest (halves up). Throws
 * RangeError when the result does not fit Number.MAX_SAFE_INTEGER.
 */
export function ivfTimestampToUs(timestamp: number, header: Pick<IvfHeaderInit, 'timebaseNumerator' | 'timebaseDenominator'>): number {
  checkInt(timestamp, 'timestamp', 0, Number.MAX_SAFE_INTEGER);
  if (typeof header !== 'object' || header === null) throw new TypeError('header must be an object');
  checkInt(header.timebaseNumerator, 'header.timebaseNumerator', 1, MAX_U32);
  checkInt(header.timebaseDenominator, 'header.timebaseDenominator', 1, MAX_U32);
  const den = BigInt(header.timebaseDenominator);
  const us = (BigInt(timestamp) * BigInt(header.timebaseNumerator) * 1_000_000n + den / 2n) / den;
  if (us > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`timestamp ${timestamp} is beyond 2^53-1 microseconds`);
  return Number(us);
}

/**
 * The WebCodecs codec string for an IVF fourcc, or null for one this module does not know.
 * VP9 and AV1 get a generic 8-bit profile-0 string (the decoders read the real profile from
 * the bitstream): "vp09.00.10.08" and "av01.0.08M.08".
 */
export function ivfCodecString(fourcc: string): string | null {
  if (typeof fourcc !== 'string') throw new TypeError('fourcc must be a string');
  switch (fourcc) {
    case 'VP80':
      return 'vp8';
    case 'VP90':
      return 'vp09.00.10.08';
    case 'AV01':
      return 'av01.0.08M.08';
    default:
      return null;
  }
}

/** The IVF fourcc for a WebCodecs codec string ("vp8", "vp09.…", "av01.…"), or null (e.g. H.264). */
export function ivfFourccForCodec(codec: string): string | null {
  if (typeof codec !== 'string') throw new TypeError('codec must be a string');
  if (codec === 'vp8') return 'VP80';
  if (codec === 'vp9' || codec.startsWith('vp09.')) return 'VP90';
  if (codec.startsWith('av01.')) return 'AV01';
  return null;
}

/** The fields of a VP8 frame tag and, for a key frame, of the start of its header. */
export interface Vp8FrameTag {
  readonly keyframe: boolean;
  /** 0..7 (RFC 6386 §9.1: 0..3 are defined). */
  readonly version: number;
  readonly showFrame: boolean;
  /** Size of the first data partition, after the 3- or 10-byte uncompressed chunk. */
  readonly firstPartitionSize: number;
  /** Key frames only: the frame size and the upscaling codes (RFC 6386 §9.1). */
  readonly width?: number;
  readonly height?: number;
  readonly horizontalScale?: number;
  readonly verticalScale?: number;
}

/**
 * Parses the uncompressed data chunk of a VP8 frame (RFC 6386 §9.1, §19.1): a 3-byte
 * little-endian frame tag — bit 0 frame type (0 = key frame), bits 1-3 version, bit 4 show_frame,
 * bits 5-23 first_part_size — and, for a key frame, the start code 9d 01 2a and two 16-bit
 * little-endian fields of 14 bits size and 2 bits scale. Throws IvfError('bad-codec-frame') when
 * the frame is too short, a key frame lacks the start code or has a zero size, or the first
 * partition does not fit the frame.
 */
export function parseVp8FrameTag(data: Uint8Array): Vp8FrameTag {
  assertBytes(data, 'data');
  if (data.length < 3) throw new IvfError('bad-codec-frame', `VP8 frame of ${data.length} bytes is shorter than its 3-byte frame tag`);
  const tag = data[0]! | (data[1]! << 8) | (data[2]! << 16);
  // RFC 6386 §9.1: "A 1-bit frame type (0 for key frames, 1 for interframes)."
  const keyframe = (tag & 1) === 0;
  const version = (tag >>> 1) & 7;
  const showFrame = ((tag >>> 4) & 1) === 1;
  const firstPartitionSize = (tag >>> 5) & 0x7ffff;
  if (!keyframe) {
    if (3 + firstPartitionSize > data.length) throw new IvfError('bad-codec-frame', 'VP8 frame: the first partition does not fit the frame');
    return { keyframe, version, showFrame, firstPartitionSize };
  }
  if (data.length < 10) throw new IvfError('bad-codec-frame', `VP8 key frame of ${data.length} bytes is shorter than its 10-byte header`);
  // RFC 6386 §9.1: key frames carry the start code 0x9d 0x01 0x2a after the frame tag.
  if (data[3] !== 0x9d || data[4] !== 0x01 || data[5] !== 0x2a) throw new IvfError('bad-codec-frame', 'VP8 key frame without the start code 9d 01 2a');
  const h = data[6]! | (data[7]! << 8);
  const v = data[8]! | (data[9]! << 8);
  const width = h & 0x3fff;
  const height = v & 0x3fff;
  if (width === 0 || height === 0) throw new IvfError('bad-codec-frame', `VP8 key frame of size ${width}x${height}`);
  if (10 + firstPartitionSize > data.length) throw new IvfError('bad-codec-frame', 'VP8 key frame: the first partition does not fit the frame');
  return { keyframe, version, showFrame, firstPartitionSize, width, height, horizontalScale: h >>> 14, verticalScale: v >>> 14 };
}

/** True when `data` is a well-formed VP8 key frame (parseVp8FrameTag); false otherwise, never throws for bytes. */
export function isVp8Keyframe(data: Uint8Array): boolean {
  assertBytes(data, 'data');
  try {
    return parseVp8FrameTag(data).keyframe;
  } catch (e) {
    if (e instanceof IvfError) return false;
    throw e;
  }
}

/**
 * True when `data` (a VP9 frame or superframe) begins with a key frame: the uncompressed header
 * (VP9 Bitstream Specification v0.6 §6.2) has frame_marker 2, show_existing_frame 0, frame_type 0
 * (KEY_FRAME) and the frame sync code 49 83 42. False otherwise; never throws for bytes.
 */
export function isVp9Keyframe(data: Uint8Array): boolean {
  assertBytes(data, 'data');
  let bit = 0;
  const read = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++, bit++) {
      const byte = data[bit >>> 3];
      if (byte === undefined) return -1;
      v = (v << 1) | ((byte >>> (7 - (bit & 7))) & 1);
    }
    return v;
  };
  if (read(2) !== 2) return false; // frame_marker
  const low = read(1);
  const high = read(1);
  if (low < 0 || high < 0) return false;
  if (((high << 1) | low) === 3 && read(1) !== 0) return false; // reserved_zero
  if (read(1) !== 0) return false; // show_existing_frame
  if (read(1) !== 0) return false; // frame_type: 0 = KEY_FRAME
  if (read(1) < 0 || read(1) < 0) return false; // show_frame, error_resilient_mode
  return read(8) === 0x49 && read(8) === 0x83 && read(8) === 0x42; // frame_sync_code
}

/**
 * Whether a frame of an IVF file with this fourcc is a key frame: VP8 and VP9 by their headers;
 * null for a fourcc whose key frames this module cannot tell.
 */
export function ivfFrameIsKey(fourcc: string, data: Uint8Array): boolean | null {
  if (typeof fourcc !== 'string') throw new TypeError('fourcc must be a string');
  assertBytes(data, 'data');
  if (fourcc === 'VP80') return isVp8Keyframe(data);
  if (fourcc === 'VP90') return isVp9Keyframe(data);
  return null;
}
