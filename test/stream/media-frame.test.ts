import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamError } from '../../node-core/stream';
import { decodeMediaFrame, encodeMediaFrame, type MediaFrame } from '../../node-core/stream/media-frame';
import {
  MAX_PUBLIC_STREAMS_PER_RECORD,
  PUBLIC_TITLE_FIELD,
  decodePublicStreams,
  encodePublicStreams,
  publicStreamsKey,
  publicTitle,
} from '../../node-core/stream/public-streams';
import { deriveRecordKey } from '../../node-core/dht';
import { toHex } from '../../node-core/util/bytes';
import { KEYS, STREAM_ID, suite } from './helpers';

const video: MediaFrame = {
  track: 'video',
  keyframe: true,
  timestampUs: 1_000_000,
  capturedAtMs: 1_790_000_000_000,
  codec: 'avc1.42E01F',
  width: 1280,
  height: 720,
  description: new Uint8Array([1, 0x42, 0xe0, 0x1f]),
  data: new Uint8Array([0, 0, 0, 1, 0x65]),
};
const audio: MediaFrame = {
  track: 'audio',
  keyframe: false,
  timestampUs: 20_000,
  capturedAtMs: 1_790_000_000_020,
  codec: 'opus',
  sampleRate: 48_000,
  channels: 2,
  description: new Uint8Array(0),
  data: new Uint8Array([0xfc, 0xff]),
};

function decodeError(bytes: Uint8Array): StreamError {
  try {
    decodeMediaFrame(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(StreamError);
    return e as StreamError;
  }
  throw new Error('decoded');
}

describe('media frames (the plaintext of a stream frame)', () => {
  it('round-trips video and audio frames', () => {
    for (const f of [video, audio]) expect(decodeMediaFrame(encodeMediaFrame(f))).toEqual(f);
  });

  it('round-trips any valid frame', () => {
    const frame = fc.oneof(
      fc.record({
        track: fc.constant('video' as const),
        keyframe: fc.boolean(),
        timestampUs: fc.nat(),
        capturedAtMs: fc.nat(),
        codec: fc.stringMatching(/^[a-z0-9.]{1,64}$/),
        width: fc.integer({ min: 1, max: 8192 }),
        height: fc.integer({ min: 1, max: 8192 }),
        description: fc.uint8Array({ maxLength: 64 }),
        data: fc.uint8Array({ minLength: 1, maxLength: 256 }),
      }),
      fc.record({
        track: fc.constant('audio' as const),
        keyframe: fc.boolean(),
        timestampUs: fc.nat(),
        capturedAtMs: fc.nat(),
        codec: fc.stringMatching(/^[a-z0-9.]{1,64}$/),
        sampleRate: fc.integer({ min: 8000, max: 384_000 }),
        channels: fc.integer({ min: 1, max: 8 }),
        description: fc.uint8Array({ maxLength: 64 }),
        data: fc.uint8Array({ minLength: 1, maxLength: 256 }),
      }),
    );
    fc.assert(
      fc.property(frame, (f) => {
        expect(decodeMediaFrame(encodeMediaFrame(f))).toEqual(f);
      }),
    );
  });

  it('refuses bad layouts with a StreamError', () => {
    const good = encodeMediaFrame(video);
    const patched = (i: number, v: number) => {
      const b = good.slice();
      b[i] = v;
      return b;
    };
    expect(decodeError(patched(0, 2)).message).toMatch(/version/);
    expect(decodeError(patched(1, 7)).message).toMatch(/track/);
    expect(decodeError(patched(2, 0x81)).message).toMatch(/flags/);
    expect(decodeError(patched(19, 0)).message).toMatch(/codec length/);
    expect(decodeError(patched(20, 0x0a)).message).toMatch(/printable/);
    // zero width
    const w = 20 + video.codec.length;
    expect(decodeError(Object.assign(good.slice(), { [w]: 0, [w + 1]: 0 })).message).toMatch(/dimensions/);
    // no data
    expect(decodeError(encodeMediaFrame(video).slice(0, good.length - video.data.length)).message).toMatch(/empty/);
    for (let cut = 0; cut < good.length - video.data.length; cut++) expect(() => decodeMediaFrame(good.slice(0, cut))).toThrow(StreamError);
  });

  it('refuses to encode bad frames, naming the field', () => {
    expect(() => encodeMediaFrame({ ...video, codec: '' })).toThrow(/codec/);
    expect(() => encodeMediaFrame({ ...video, width: 0 })).toThrow(/width/);
    expect(() => encodeMediaFrame({ ...audio, channels: 9 })).toThrow(/channels/);
    expect(() => encodeMediaFrame({ ...video, data: new Uint8Array(0) })).toThrow(/data/);
    expect(() => encodeMediaFrame({ ...video, description: new Uint8Array(2049) })).toThrow(/description/);
    expect(() => encodeMediaFrame({ ...video, track: 'text' } as never)).toThrow(/track/);
  });
});

describe('public streams in the DHT', () => {
  it('lists up to the record limit, round-trips, and keys each landing node’s record by its identity', () => {
    const entries = Array.from({ length: MAX_PUBLIC_STREAMS_PER_RECORD }, (_, i) => ({
      streamId: STREAM_ID.map((b) => b ^ i),
      keys: KEYS,
      title: 'x'.repeat(PUBLIC_TITLE_FIELD.maxBytes),
    }));
    const value = encodePublicStreams(entries);
    expect(value.length).toBeLessThanOrEqual(1024);
    expect(decodePublicStreams(value)).toEqual(entries);
    expect(decodePublicStreams(encodePublicStreams([]))).toEqual([]);
    expect(() => encodePublicStreams([...entries, entries[0]!])).toThrow(RangeError);
    const landing = new Uint8Array(32).fill(7);
    expect(toHex(publicStreamsKey(suite, landing))).toBe(toHex(deriveRecordKey(suite, 'public-streams', landing)));
  });

  it('cuts titles to one line of at most 64 bytes on a character boundary', () => {
    expect(publicTitle('a\nb')).toBe('a b');
    expect(publicTitle('   ')).toBe('Untitled');
    const t = publicTitle('é'.repeat(40));
    expect(new TextEncoder().encode(t).length).toBeLessThanOrEqual(64);
    expect(t).toBe('é'.repeat(32));
  });

  it('refuses malformed values with a StreamError', () => {
    const good = encodePublicStreams([{ streamId: STREAM_ID, keys: KEYS, title: 'T' }]);
    for (const bad of [good.slice(0, good.length - 1), Uint8Array.of(...good, 0), Uint8Array.of(2, 0), Uint8Array.of(1, 200)]) {
      expect(() => decodePublicStreams(bad)).toThrow(StreamError);
    }
  });
});
