/**
 * The IVF reader and writer (node-core/media/ivf.ts): the committed test pattern reads back with
 * the properties its README states and re-encodes to identical bytes; the bad-file corpus gives
 * one error code each, however the bytes are chunked; round trips and chunking under fast-check;
 * arbitrary and mutated input gives IvfError only; the writer refuses what a reader would refuse;
 * VP8 and VP9 key frames are told apart by their headers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  IVF_DEFAULT_MAX_FRAME_SIZE,
  IVF_ERROR_CODES,
  IVF_FRAME_COUNT_OFFSET,
  IVF_HEADER_LENGTH,
  IvfError,
  IvfReader,
  IvfWriter,
  decodeIvfHeader,
  encodeIvfHeader,
  isIvfError,
  isVp8Keyframe,
  isVp9Keyframe,
  ivfCodecString,
  ivfFourccForCodec,
  ivfFrameIsKey,
  ivfTimestampToUs,
  parseVp8FrameTag,
  readIvf,
  writeIvf,
  type IvfErrorCode,
  type IvfFrame,
  type IvfHeaderInit,
} from '../../node-core/media/ivf';
import { fromHex, toHex } from '../../node-core/util/bytes';
import corpus from './ivf-corpus/bad-ivf.json';

const FIXTURE = join(import.meta.dirname, '../fixtures/stream/test-pattern.ivf');

interface BadCase {
  name: string;
  hex: string;
  error: IvfErrorCode;
  maxFrameSize?: number;
}
const cases = corpus as BadCase[];

function errorCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof IvfError ? e.code : `not an IvfError: ${String(e)}`;
  }
  return 'none';
}

/** Feeds an IvfReader in chunks of `size`, draining after each push, then end(). */
function chunkedRead(bytes: Uint8Array, size: number, maxFrameSize?: number): IvfFrame[] {
  const r = new IvfReader(maxFrameSize === undefined ? {} : { maxFrameSize });
  const frames: IvfFrame[] = [];
  for (let off = 0; off < bytes.length; off += size) {
    r.push(bytes.subarray(off, off + size));
    for (let f = r.next(); f !== null; f = r.next()) frames.push(f);
  }
  r.end();
  return frames;
}

const headerInit: IvfHeaderInit = { fourcc: 'VP80', width: 16, height: 16, timebaseNumerator: 1, timebaseDenominator: 30 };

describe('the committed test pattern (test/fixtures/stream/test-pattern.ivf)', () => {
  const bytes = new Uint8Array(readFileSync(FIXTURE));
  const file = readIvf(bytes);

  it('is 180 VP8 frames of 640x360 at timebase 1/30 with key frames at 0, 60 and 120, under 1 MiB', () => {
    expect(bytes.length).toBeLessThan(1024 * 1024);
    expect(file.header).toEqual({ fourcc: 'VP80', width: 640, height: 360, timebaseNumerator: 1, timebaseDenominator: 30, frameCount: 180 });
    expect(file.frames.map((f) => f.timestamp)).toEqual(Array.from({ length: 180 }, (_, i) => i));
    const keys = file.frames.flatMap((f, i) => (isVp8Keyframe(f.data) ? [i] : []));
    expect(keys).toEqual([0, 60, 120]);
    // Every key frame states the picture size of the header (RFC 6386 §9.1).
    for (const k of keys) expect(parseVp8FrameTag(file.frames[k]!.data)).toMatchObject({ keyframe: true, width: 640, height: 360, showFrame: true });
    // Every frame is a different picture.
    expect(new Set(file.frames.map((f) => toHex(f.data))).size).toBe(180);
  });

  it('re-encodes to identical bytes, whole or through the writer frame by frame', () => {
    expect(toHex(writeIvf(file.header, file.frames))).toBe(toHex(bytes));
    const w = new IvfWriter(file.header);
    const parts = file.frames.map((f) => w.frame(f.data, f.timestamp));
    expect(w.frameCount).toBe(180);
    const joined = new Uint8Array(bytes.length);
    joined.set(w.header(), 0);
    let off = IVF_HEADER_LENGTH;
    for (const p of parts) {
      joined.set(p, off);
      off += p.length;
    }
    expect(off).toBe(bytes.length);
    expect(toHex(joined)).toBe(toHex(bytes));
  });

  it('reads the same through IvfReader in odd chunk sizes', () => {
    for (const size of [1, 7, 12, 4096, 100_003]) {
      expect(chunkedRead(bytes, size).map((f) => toHex(f.data))).toEqual(file.frames.map((f) => toHex(f.data)));
    }
  });
});

describe('bad IVF corpus (test/media/ivf-corpus/bad-ivf.json)', () => {
  it('has at least 30 cases with distinct names and known codes, and every reading code is used', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    for (const c of cases) expect(IVF_ERROR_CODES).toContain(c.error);
    const used = new Set(cases.map((c) => c.error));
    for (const code of IVF_ERROR_CODES.filter((c) => c !== 'buffer-overflow' && c !== 'bad-codec-frame')) expect(used).toContain(code);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const bytes = fromHex(c.hex);
    const limits = c.maxFrameSize === undefined ? {} : { maxFrameSize: c.maxFrameSize };
    expect(errorCode(() => readIvf(bytes, limits))).toBe(c.error);
    for (const size of [1, 2, 5, 12, 13, 31, 32, 33, 1000]) expect(errorCode(() => chunkedRead(bytes, size, c.maxFrameSize))).toBe(c.error);
  });

  it('a case stops being an error once its fault is repaired (the corpus is not refused for another reason)', () => {
    const good = writeIvf(headerInit, [{ timestamp: 0, data: Uint8Array.of(1, 2, 3, 4, 5) }]);
    expect(readIvf(good).frames).toHaveLength(1);
    // "width 0": the same header with width 16 reads.
    const widthZero = fromHex(cases.find((c) => c.name === 'width 0')!.hex);
    widthZero[12] = 16;
    expect(decodeIvfHeader(widthZero).width).toBe(16);
  });
});

describe('IvfReader', () => {
  it('reports a bad signature from the first wrong byte, before the header is complete', () => {
    const r = new IvfReader();
    r.push(Uint8Array.of(0x44, 0x4b));
    expect(r.next()).toBeNull();
    r.push(Uint8Array.of(0x00));
    expect(errorCode(() => r.next())).toBe('bad-signature');
  });

  it('gives the header once read, counts frames, and is poisoned after an error', () => {
    const bytes = writeIvf(headerInit, [
      { timestamp: 0, data: Uint8Array.of(9) },
      { timestamp: 3, data: Uint8Array.of(8, 7) },
    ]);
    const r = new IvfReader();
    expect(r.header).toBeNull();
    r.push(bytes.subarray(0, 40));
    expect(r.next()).toBeNull();
    expect(r.header).toMatchObject({ ...headerInit, frameCount: 2 });
    r.push(bytes.subarray(40));
    expect(r.next()).toEqual({ timestamp: 0, data: Uint8Array.of(9) });
    expect(r.next()).toEqual({ timestamp: 3, data: Uint8Array.of(8, 7) });
    expect(r.next()).toBeNull();
    expect(r.framesRead).toBe(2);
    expect(r.buffered).toBe(0);
    r.end();
    // A frame whose timestamp goes back poisons it for good.
    const bad = new IvfReader();
    bad.push(writeIvf(headerInit, [{ timestamp: 5, data: Uint8Array.of(1) }]));
    bad.next();
    bad.push(new IvfWriter(headerInit).frame(Uint8Array.of(2), 4));
    expect(errorCode(() => bad.next())).toBe('bad-frame');
    expect(errorCode(() => bad.next())).toBe('bad-frame');
    expect(errorCode(() => bad.push(Uint8Array.of(0)))).toBe('bad-frame');
    expect(errorCode(() => bad.end())).toBe('bad-frame');
    expect(bad.error?.code).toBe('bad-frame');
  });

  it('refuses to buffer more than a header and a frame when nobody reads', () => {
    const r = new IvfReader({ maxFrameSize: 16 });
    const chunk = new Uint8Array(IVF_HEADER_LENGTH + 12 + 17);
    r.push(chunk);
    expect(errorCode(() => r.push(Uint8Array.of(1)))).toBe('buffer-overflow');
  });

  it('returns frames that do not alias its buffer or the caller’s chunk', () => {
    const bytes = writeIvf(headerInit, [{ timestamp: 0, data: Uint8Array.of(1, 2, 3) }]);
    const r = new IvfReader();
    r.push(bytes);
    const f = r.next()!;
    bytes.fill(0);
    expect(Array.from(f.data)).toEqual([1, 2, 3]);
  });

  it('end() before draining is a programming error, not an IvfError', () => {
    const r = new IvfReader();
    r.push(writeIvf(headerInit, [{ timestamp: 0, data: Uint8Array.of(1) }]));
    expect(() => r.end()).toThrow(/call next\(\)/);
  });

  it('checks its arguments', () => {
    expect(() => new IvfReader({ maxFrameSize: 0 })).toThrow(RangeError);
    expect(() => new IvfReader({ maxFrameSize: 1.5 })).toThrow(/maxFrameSize/);
    expect(() => new IvfReader({ maxFrameSize: '4' as unknown as number })).toThrow(TypeError);
    expect(() => new IvfReader(null as unknown as object)).toThrow(TypeError);
    expect(() => new IvfReader().push([1, 2] as unknown as Uint8Array)).toThrow(/chunk/);
    expect(() => readIvf('DKIF' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => decodeIvfHeader(undefined as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('IvfWriter and encodeIvfHeader', () => {
  it('writes the layout libvpx writes: little-endian fields, denominator before numerator', () => {
    const h = encodeIvfHeader({ fourcc: 'VP80', width: 640, height: 360, timebaseNumerator: 1, timebaseDenominator: 30, frameCount: 180 });
    expect(toHex(h)).toBe('444b4946' + '0000' + '2000' + '56503830' + '8002' + '6801' + '1e000000' + '01000000' + 'b4000000' + '00000000');
    const w = new IvfWriter(headerInit);
    expect(toHex(w.frame(Uint8Array.of(0xaa, 0xbb), 0x1_0000_0002))).toBe('02000000' + '0200000001000000' + 'aabb');
    expect(w.fields.frameCount).toBe(1);
    expect(toHex(w.header().subarray(IVF_FRAME_COUNT_OFFSET, IVF_FRAME_COUNT_OFFSET + 4))).toBe('01000000');
  });

  it('refuses what a reader would refuse, naming the parameter, and then still works', () => {
    const w = new IvfWriter(headerInit, { maxFrameSize: 4 });
    w.frame(Uint8Array.of(1), 10);
    expect(() => w.frame(new Uint8Array(0), 11)).toThrow(/data must not be empty/);
    expect(() => w.frame(new Uint8Array(5), 11)).toThrow(RangeError);
    expect(() => w.frame(Uint8Array.of(1), 9)).toThrow(/timestamp/);
    expect(() => w.frame(Uint8Array.of(1), -1)).toThrow(RangeError);
    expect(() => w.frame(Uint8Array.of(1), 2 ** 53)).toThrow(RangeError);
    expect(() => w.frame('x' as unknown as Uint8Array, 11)).toThrow(TypeError);
    expect(w.frameCount).toBe(1);
    w.frame(Uint8Array.of(2), 10);
    expect(w.frameCount).toBe(2);
    for (const [patch, re] of [
      [{ fourcc: 'VP8' }, /header.fourcc/],
      [{ fourcc: 'VP8\n' }, /header.fourcc/],
      [{ width: 0 }, /header.width/],
      [{ height: 16385 }, /header.height/],
      [{ timebaseNumerator: 0 }, /header.timebaseNumerator/],
      [{ timebaseDenominator: 2 ** 32 }, /header.timebaseDenominator/],
    ] as const) {
      expect(() => new IvfWriter({ ...headerInit, ...patch })).toThrow(re);
    }
    expect(() => encodeIvfHeader({ ...headerInit, frameCount: -1 })).toThrow(/frameCount/);
    expect(() => writeIvf(headerInit, [{ timestamp: 1, data: Uint8Array.of(1) }, { timestamp: 0, data: Uint8Array.of(1) }])).toThrow(/frames\[1\]/);
  });
});

describe('properties', () => {
  const arbHeader = fc.record({
    fourcc: fc.constantFrom('VP80', 'VP90', 'AV01', 'ab c'),
    width: fc.integer({ min: 1, max: 16384 }),
    height: fc.integer({ min: 1, max: 16384 }),
    timebaseNumerator: fc.integer({ min: 1, max: 0xffffffff }),
    timebaseDenominator: fc.integer({ min: 1, max: 0xffffffff }),
  });
  const arbFrames = fc
    .array(fc.tuple(fc.nat({ max: 2 ** 40 }), fc.uint8Array({ minLength: 1, maxLength: 40 })), { maxLength: 12 })
    .map((xs) => {
      const ts = xs.map((x) => x[0]).sort((a, b) => a - b);
      return xs.map((x, i) => ({ timestamp: ts[i]!, data: x[1] }));
    });

  it('write then read gives the same header and frames, in any chunking', () => {
    fc.assert(
      fc.property(arbHeader, arbFrames, fc.integer({ min: 1, max: 50 }), (h, frames, size) => {
        const bytes = writeIvf(h, frames);
        const file = readIvf(bytes);
        expect(file.header).toEqual({ ...h, frameCount: frames.length });
        expect(file.frames).toEqual(frames);
        expect(chunkedRead(bytes, size)).toEqual(frames);
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary bytes, with or without a valid header in front, give frames or an IvfError only', () => {
    const head = encodeIvfHeader({ ...headerInit, frameCount: 0 });
    fc.assert(
      fc.property(fc.boolean(), fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 1, max: 64 }), (withHeader, tail, size) => {
        const bytes = withHeader ? new Uint8Array([...head, ...tail]) : tail;
        const whole = errorCode(() => readIvf(bytes, { maxFrameSize: 64 }));
        expect(whole).not.toMatch(/^not an IvfError/);
        expect(errorCode(() => chunkedRead(bytes, size, 64))).toBe(whole);
      }),
      { numRuns: 500 },
    );
  });

  it('a mutated or cut file either fails with an IvfError or re-encodes to the same bytes (count and unused fields aside)', () => {
    fc.assert(
      fc.property(
        arbFrames,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
        fc.option(fc.nat(), { nil: undefined }),
        (frames, flips, cut) => {
          const bytes = writeIvf(headerInit, frames);
          for (const [at, v] of flips) bytes[at % bytes.length] = v;
          const input = cut === undefined ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
          let file;
          try {
            file = readIvf(input);
          } catch (e) {
            expect(isIvfError(e)).toBe(true);
            return;
          }
          const again = writeIvf(file.header, file.frames);
          const blank = (b: Uint8Array) => {
            const c = b.slice();
            c.fill(0, IVF_FRAME_COUNT_OFFSET, IVF_HEADER_LENGTH);
            return toHex(c);
          };
          expect(blank(again)).toBe(blank(input));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('the VP8 and VP9 helpers never throw on bytes, and parseVp8FrameTag throws IvfError only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        expect(typeof isVp8Keyframe(b)).toBe('boolean');
        expect(typeof isVp9Keyframe(b)).toBe('boolean');
        const code = errorCode(() => parseVp8FrameTag(b));
        expect(['none', 'bad-codec-frame']).toContain(code);
        expect(isVp8Keyframe(b)).toBe(code === 'none' && parseVp8FrameTag(b).keyframe);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('VP8 frame tags (RFC 6386 §9.1)', () => {
  // A key frame tag: bit 0 = 0 (key), version 0, show_frame 1, first_part_size 2; start code;
  // width 640 with scale 0, height 360 with scale 2 (bits 14-15).
  const key = Uint8Array.of(0x50, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x81, 0xaa, 0xbb);

  it('reads a key frame’s tag, start code, size and scale', () => {
    expect(parseVp8FrameTag(key)).toEqual({ keyframe: true, version: 0, showFrame: true, firstPartitionSize: 2, width: 640, height: 360, horizontalScale: 0, verticalScale: 2 });
    expect(isVp8Keyframe(key)).toBe(true);
    expect(ivfFrameIsKey('VP80', key)).toBe(true);
  });

  it('reads an inter frame (bit 0 set) and refuses malformed ones', () => {
    // Inter frame: bit 0 = 1, version 1, show_frame 0, first_part_size 1.
    const inter = Uint8Array.of(0x23, 0x00, 0x00, 0xee);
    expect(parseVp8FrameTag(inter)).toEqual({ keyframe: false, version: 1, showFrame: false, firstPartitionSize: 1 });
    expect(isVp8Keyframe(inter)).toBe(false);
    const bad = (b: Uint8Array) => errorCode(() => parseVp8FrameTag(b));
    expect(bad(Uint8Array.of(0x50, 0x00))).toBe('bad-codec-frame'); // shorter than the tag
    expect(bad(key.subarray(0, 9))).toBe('bad-codec-frame'); // key frame shorter than 10 bytes
    const noStart = key.slice();
    noStart[4] = 0x02;
    expect(bad(noStart)).toBe('bad-codec-frame');
    expect(isVp8Keyframe(noStart)).toBe(false);
    const zeroWidth = key.slice();
    zeroWidth[6] = 0;
    zeroWidth[7] = 0xc0; // scale bits only
    expect(bad(zeroWidth)).toBe('bad-codec-frame');
    expect(bad(key.subarray(0, 11))).toBe('bad-codec-frame'); // first partition (2 bytes) does not fit
    expect(bad(Uint8Array.of(0x41, 0x00, 0x00))).toBe('bad-codec-frame'); // inter frame, partition of 2 in 0 bytes
    expect(() => parseVp8FrameTag(null as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('VP9 key frames (VP9 bitstream specification §6.2)', () => {
  // First bytes of frames encoded by Chromium's WebCodecs VP9 encoder (64x64): profile 0 key,
  // profile 0 inter, profile 2 key, profile 2 inter.
  it('are told from inter frames in profiles 0 and 2', () => {
    expect(isVp9Keyframe(fromHex('824983425003f003f6063824'))).toBe(true);
    expect(isVp9Keyframe(fromHex('860040929c28482000037000'))).toBe(false);
    expect(isVp9Keyframe(fromHex('924983422801f801fb031c12'))).toBe(true);
    expect(isVp9Keyframe(fromHex('96004092f0a1230000147d23'))).toBe(false);
    expect(ivfFrameIsKey('VP90', fromHex('824983425003f003f6063824'))).toBe(true);
  });

  it('in profile 3 (a reserved bit first), and not with a wrong marker, sync code, or too few bytes', () => {
    // marker 10, profile bits 1 1, reserved 0, show_existing 0, frame_type 0, show_frame 1 |
    // error_resilient 0, then the sync code 49 83 42 one bit later.
    const p3 = Uint8Array.of(0xb1, 0x24, 0xc1, 0xa1, 0x00);
    expect(isVp9Keyframe(p3)).toBe(true);
    expect(isVp9Keyframe(Uint8Array.of(0xf1, 0x24, 0xc1, 0xa1, 0x00))).toBe(false); // reserved bit set
    expect(isVp9Keyframe(fromHex('424983425003'))).toBe(false); // frame_marker 01
    expect(isVp9Keyframe(fromHex('824983435003'))).toBe(false); // sync code 49 83 43
    expect(isVp9Keyframe(fromHex('8a'))).toBe(false); // show_existing_frame
    expect(isVp9Keyframe(fromHex('824983'))).toBe(false); // cut inside the sync code
    expect(isVp9Keyframe(new Uint8Array(0))).toBe(false);
    expect(ivfFrameIsKey('AV01', p3)).toBeNull();
  });
});

describe('codec strings and timestamps', () => {
  it('map fourccs to WebCodecs codec strings and back', () => {
    expect(ivfCodecString('VP80')).toBe('vp8');
    expect(ivfCodecString('VP90')).toBe('vp09.00.10.08');
    expect(ivfCodecString('AV01')).toBe('av01.0.08M.08');
    expect(ivfCodecString('H264')).toBeNull();
    for (const f of ['VP80', 'VP90', 'AV01']) expect(ivfFourccForCodec(ivfCodecString(f)!)).toBe(f);
    expect(ivfFourccForCodec('vp9')).toBe('VP90');
    expect(ivfFourccForCodec('avc1.42E01F')).toBeNull();
    expect(() => ivfCodecString(1 as unknown as string)).toThrow(TypeError);
  });

  it('convert timebase units to microseconds, rounding to the nearest', () => {
    const tb = { timebaseNumerator: 1, timebaseDenominator: 30 };
    expect(ivfTimestampToUs(0, tb)).toBe(0);
    expect(ivfTimestampToUs(1, tb)).toBe(33_333);
    expect(ivfTimestampToUs(2, tb)).toBe(66_667);
    expect(ivfTimestampToUs(30, tb)).toBe(1_000_000);
    expect(ivfTimestampToUs(7, { timebaseNumerator: 1001, timebaseDenominator: 30000 })).toBe(233_567);
    expect(ivfTimestampToUs(2 ** 40, { timebaseNumerator: 1, timebaseDenominator: 1_000_000 })).toBe(2 ** 40);
    expect(() => ivfTimestampToUs(2 ** 52, { timebaseNumerator: 1, timebaseDenominator: 1 })).toThrow(RangeError);
    expect(() => ivfTimestampToUs(-1, tb)).toThrow(/timestamp/);
    expect(() => ivfTimestampToUs(1, { timebaseNumerator: 0, timebaseDenominator: 1 })).toThrow(/timebaseNumerator/);
  });

  it('keeps the default frame limit at 4 MiB', () => {
    expect(IVF_DEFAULT_MAX_FRAME_SIZE).toBe(4 * 1024 * 1024);
  });
});
