/**
 * The stream messages (node-core/stream/messages.ts): round trips of every kind, exact layouts,
 * every truncation and malformed field with its error, the `accept` filter, encoders refusing
 * what they cannot send, and a decoder that throws nothing but StreamError on arbitrary bytes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MAX_MEDIA_PAYLOAD,
  MAX_STREAM_MESSAGE_LENGTH,
  REFUSE_REASONS,
  STREAM_MESSAGE_KINDS,
  StreamError,
  StreamMessageType,
  decodeStreamMessage,
  encodeMediaPacket,
  encodeStreamMessage,
  type StreamMessage,
} from '../../node-core/stream';
import { Writer, concatBytes, toHex, utf8 } from '../../node-core/util/bytes';
import { DIST, KEYS, LANDING, STREAM_ID, bytesOf, challenge, expectCode, receipt, sampleMessages, viewerId } from './helpers';

const SAMPLES = sampleMessages();
const sample = <K extends StreamMessage['type']>(type: K): Extract<StreamMessage, { type: K }> =>
  SAMPLES.find((m) => m.type === type) as Extract<StreamMessage, { type: K }>;

function withByte(b: Uint8Array, i: number, v: number): Uint8Array {
  const x = b.slice();
  x[i] = v;
  return x;
}

describe('round trips', () => {
  it('every kind has a sample, in type-code order', () => {
    expect(new Set(SAMPLES.map((m) => m.type))).toEqual(new Set(STREAM_MESSAGE_KINDS));
    expect(STREAM_MESSAGE_KINDS.length).toBe(Object.keys(StreamMessageType).length);
  });

  it.each(SAMPLES.map((m, i) => [`${i} ${m.type}`, m] as const))('%s decodes to itself and re-encodes to the same bytes', (_, m) => {
    const bytes = encodeStreamMessage(m);
    const back = decodeStreamMessage(bytes);
    expect(back).toEqual(m);
    expect(toHex(encodeStreamMessage(back))).toBe(toHex(bytes));
  });

  it('a public create-stream keeps its UTF-8 title and multi-line description', () => {
    const m = SAMPLES[1] as Extract<StreamMessage, { type: 'create-stream' }>;
    const back = decodeStreamMessage(encodeStreamMessage(m)) as typeof m;
    expect(back.public?.title).toBe('Évening stream 🎥');
    expect(back.public?.description).toBe('line one\nline two');
    expect(back.distribution[1]?.address.host).toBe('2001:db8::1');
  });

  it('addresses come back in canonical form', () => {
    const m = { ...sample('redirect'), address: { host: '2001:DB8:0:0:0:0:0:1', port: 80 } };
    expect((decodeStreamMessage(encodeStreamMessage(m)) as typeof m).address.host).toBe('2001:db8::1');
  });
});

describe('layouts', () => {
  it('media: type | streamId | groupSeq | frameSeq | flags | part | parts | payload', () => {
    const b = encodeStreamMessage(sample('media'));
    expect(toHex(b)).toBe(
      '20' + toHex(STREAM_ID) + '00000007' + '00000000' + '01' + '00' + '02' + 'aa'.repeat(40),
    );
  });

  it('the largest media packet is exactly one stream message', () => {
    const m = { ...sample('media'), payload: new Uint8Array(MAX_MEDIA_PAYLOAD) };
    expect(encodeStreamMessage(m).length).toBe(MAX_STREAM_MESSAGE_LENGTH);
    expect(() => encodeStreamMessage({ ...m, payload: new Uint8Array(MAX_MEDIA_PAYLOAD + 1) })).toThrow(RangeError);
    expect(toHex(encodeMediaPacket({ ...m, payload: Uint8Array.of(1) }))).toBe(toHex(encodeStreamMessage({ ...m, payload: Uint8Array.of(1) })));
  });

  it('refused: reason code | hasStream | streamId', () => {
    expect(toHex(encodeStreamMessage({ type: 'refused', reason: 'full', streamId: null }))).toBe('12' + '06' + '00');
    expect(toHex(encodeStreamMessage({ type: 'refused', reason: 'not-subscribed', streamId: STREAM_ID }))).toBe('12' + '0d' + '01' + toHex(STREAM_ID));
    expect(REFUSE_REASONS.indexOf('full')).toBe(6);
  });

  it('join: streamId | u16 length | viewer ID; group signature: streamId | groupSeq | throughFrame | signature', () => {
    const id = viewerId();
    const j = encodeStreamMessage({ type: 'join', streamId: STREAM_ID, viewerId: id });
    expect(toHex(j)).toBe('10' + toHex(STREAM_ID) + id.length.toString(16).padStart(4, '0') + toHex(id));
    const s = encodeStreamMessage(sample('group-signature'));
    expect(toHex(s)).toBe('21' + toHex(STREAM_ID) + '00000007' + '00000005' + 'cc'.repeat(64));
  });

  it('usage report: sessionId | role | periodStart | periodEnd | downBytes | upBytes', () => {
    const b = encodeStreamMessage(sample('usage-report'));
    expect(b.length).toBe(1 + 16 + 1 + 8 * 4);
    expect(b[17]).toBe(1);
  });
});

describe('decoding refuses', () => {
  it.each(SAMPLES.map((m, i) => [`${i} ${m.type}`, m] as const))('%s: every truncation', (_, m) => {
    const b = encodeStreamMessage(m);
    // A media payload is the rest of the message: cutting inside it leaves a shorter payload.
    const firstValid = m.type === 'media' ? b.length - m.payload.length + 1 : b.length;
    for (let n = 0; n < firstValid; n++) expectCode(() => decodeStreamMessage(b.subarray(0, n)), 'malformed');
  });

  it.each(SAMPLES.filter((m) => m.type !== 'media').map((m, i) => [`${i} ${m.type}`, m] as const))('%s: a trailing byte', (_, m) => {
    expectCode(() => decodeStreamMessage(concatBytes(encodeStreamMessage(m), Uint8Array.of(0))), 'malformed');
  });

  it('an unknown type, and a kind the caller does not accept', () => {
    for (const t of [0x00, 0x04, 0x16, 0x22, 0x56, 0xff]) expectCode(() => decodeStreamMessage(Uint8Array.of(t)), 'unknown-type');
    const join = encodeStreamMessage(sample('join'));
    expectCode(() => decodeStreamMessage(join, ['media', 'group-signature']), 'unknown-type');
    expect(decodeStreamMessage(join, ['join', 'leave']).type).toBe('join');
  });

  it('a message longer than one stream message', () => {
    const b = concatBytes(encodeStreamMessage(sample('media')), new Uint8Array(MAX_STREAM_MESSAGE_LENGTH));
    expectCode(() => decodeStreamMessage(b), 'malformed');
  });

  it('media: keyframe flag not matching frame 0, unknown flags, bad parts, an empty payload', () => {
    const b = encodeStreamMessage(sample('media')); // frame 0, keyframe, part 0 of 2
    const FLAGS = 25;
    const PART = 26;
    const PARTS = 27;
    expectCode(() => decodeStreamMessage(withByte(b, FLAGS, 0)), 'malformed');
    expectCode(() => decodeStreamMessage(withByte(b, FLAGS, 3)), 'malformed');
    expectCode(() => decodeStreamMessage(withByte(withByte(b, 24, 1), FLAGS, 1)), 'malformed'); // frame 1 marked keyframe
    expectCode(() => decodeStreamMessage(withByte(b, PARTS, 0)), 'malformed');
    expectCode(() => decodeStreamMessage(withByte(b, PARTS, 17)), 'malformed');
    expectCode(() => decodeStreamMessage(withByte(b, PART, 2)), 'malformed');
    expect((decodeStreamMessage(withByte(b, PARTS, 16)) as { parts: number }).parts).toBe(16);
    expectCode(() => decodeStreamMessage(b.subarray(0, 28)), 'malformed');
  });

  it('refused: an undefined reason or presence flag', () => {
    expectCode(() => decodeStreamMessage(Uint8Array.of(0x12, REFUSE_REASONS.length, 0)), 'malformed');
    expectCode(() => decodeStreamMessage(Uint8Array.of(0x12, 0, 2)), 'malformed');
  });

  it('usage report: an undefined role, a period ending before it starts', () => {
    const b = encodeStreamMessage(sample('usage-report'));
    expectCode(() => decodeStreamMessage(withByte(b, 17, 0)), 'malformed');
    expectCode(() => decodeStreamMessage(withByte(b, 17, 3)), 'malformed');
    const ended = encodeStreamMessage({ ...sample('usage-report'), periodStart: 10, periodEnd: 10 });
    expectCode(() => decodeStreamMessage(withByte(ended, 33, 9)), 'malformed'); // periodEnd's last byte 10 → 9
  });

  it('counters past 2^53', () => {
    const b = encodeStreamMessage(sample('stream-report'));
    expectCode(() => decodeStreamMessage(withByte(b, 1 + 16 + 4 + 2, 0x01)), 'malformed'); // bytesIn's top byte
  });

  it('attach-distribution: a node as its own parent, capacity 0, a bad parent address', () => {
    const m = sample('attach-distribution');
    const own = new Writer().u8(0x40).bytes(STREAM_ID).bytes(DIST).bytes(DIST).u8(4).bytes(Uint8Array.of(10, 0, 0, 1)).u16(7000).u32(5).finish();
    expectCode(() => decodeStreamMessage(own), 'malformed');
    const b = encodeStreamMessage(m);
    expectCode(() => decodeStreamMessage(concatBytes(b.subarray(0, b.length - 4), new Uint8Array(4))), 'malformed');
    const family = 1 + 16 + 32 + 32;
    expectCode(() => decodeStreamMessage(withByte(b, family, 5)), 'malformed');
    expectCode(() => decodeStreamMessage(withByte(withByte(b, family + 5, 0), family + 6, 0)), 'malformed'); // port 0
    expectCode(() => decodeStreamMessage(withByte(b, family + 1, 224)), 'malformed'); // multicast
  });

  it('create-stream: a bad embedded receipt, zero limits, too many or repeated nodes, bad public fields', () => {
    const r = receipt();
    const head = (receiptBytes: Uint8Array, bitrate = 1000, viewers = 10) =>
      new Writer().u8(0x01).u16(receiptBytes.length).bytes(receiptBytes).u32(bitrate).u32(viewers);
    const node = (w: Writer, id: Uint8Array) => w.bytes(id).u8(4).bytes(Uint8Array.of(10, 0, 0, 2)).u16(9);
    expect(decodeStreamMessage(head(r).u8(0).u8(0).finish()).type).toBe('create-stream');
    expectCode(() => decodeStreamMessage(head(withByte(r, 0, 2)).u8(0).u8(0).finish()), 'unsupported-version');
    expectCode(() => decodeStreamMessage(head(r.subarray(0, r.length - 1)).u8(0).u8(0).finish()), 'malformed');
    expectCode(() => decodeStreamMessage(new Writer().u8(0x01).u16(500).bytes(new Uint8Array(500)).finish()), 'malformed');
    expectCode(() => decodeStreamMessage(head(r, 0).u8(0).u8(0).finish()), 'malformed');
    expectCode(() => decodeStreamMessage(head(r, 1, 0).u8(0).u8(0).finish()), 'malformed');
    expectCode(() => decodeStreamMessage(head(r).u8(9).finish()), 'malformed');
    const twice = head(r).u8(2);
    node(twice, DIST);
    node(twice, DIST);
    expectCode(() => decodeStreamMessage(twice.u8(0).finish()), 'malformed');
    expectCode(() => decodeStreamMessage(head(r).u8(0).u8(2).finish()), 'malformed');
    const pub = (title: Uint8Array, description: Uint8Array, suite = 4) =>
      head(r).u8(0).u8(1).u8(title.length).bytes(title).u16(description.length).bytes(description)
        .bytes(KEYS.streamKey).bytes(KEYS.signingKey).u32(1).u16(suite).finish();
    expect((decodeStreamMessage(pub(utf8('ok'), utf8('two\nlines'))) as { public: { title: string } }).public.title).toBe('ok');
    expectCode(() => decodeStreamMessage(pub(new Uint8Array(0), new Uint8Array(0))), 'malformed');
    expectCode(() => decodeStreamMessage(pub(utf8('a\nb'), new Uint8Array(0))), 'malformed');
    expectCode(() => decodeStreamMessage(pub(utf8('tab\there'), new Uint8Array(0))), 'malformed');
    expectCode(() => decodeStreamMessage(pub(Uint8Array.of(0xc3, 0x28), new Uint8Array(0))), 'malformed'); // invalid UTF-8
    expectCode(() => decodeStreamMessage(pub(Uint8Array.of(0xed, 0xa0, 0x80), new Uint8Array(0))), 'malformed'); // a surrogate
    expectCode(() => decodeStreamMessage(pub(utf8('t'), new Uint8Array(1025).fill(0x61))), 'malformed');
    expectCode(() => decodeStreamMessage(pub(new Uint8Array(129).fill(0x61), new Uint8Array(0))), 'malformed');
    expectCode(() => decodeStreamMessage(pub(utf8('t'), new Uint8Array(0), 9)), 'malformed');
    expectCode(() => decodeStreamMessage(pub(utf8('t'), Uint8Array.of(0x7f), 4)), 'malformed'); // DEL
  });

  it('join, viewer-id, challenge, solution, receipt: embedded documents must parse', () => {
    const id = viewerId();
    const badId = withByte(id, 0, 9);
    expectCode(() => decodeStreamMessage(new Writer().u8(0x10).bytes(STREAM_ID).u16(badId.length).bytes(badId).finish()), 'unsupported-version');
    expectCode(() => decodeStreamMessage(new Writer().u8(0x10).bytes(STREAM_ID).u16(300).bytes(new Uint8Array(300)).finish()), 'malformed');
    expectCode(() => decodeStreamMessage(concatBytes(Uint8Array.of(0x53), badId)), 'unsupported-version');
    expectCode(() => decodeStreamMessage(concatBytes(Uint8Array.of(0x51), withByte(challenge(), 1, 0))), 'malformed');
    expectCode(() => decodeStreamMessage(concatBytes(Uint8Array.of(0x52), withByte(challenge(), 0, 3), new Uint8Array(8))), 'unsupported-version');
    expectCode(() => decodeStreamMessage(concatBytes(Uint8Array.of(0x55), receipt().subarray(1))), 'unsupported-version');
  });

  it('receipt-request: zero limits, a bad flag, an oversize credential', () => {
    const base = () => new Writer().u8(0x54).u32(5).u32(5);
    expect(decodeStreamMessage(base().u8(1).u16(0).finish()).type).toBe('receipt-request');
    expectCode(() => decodeStreamMessage(new Writer().u8(0x54).u32(0).u32(5).u8(0).u16(0).finish()), 'malformed');
    expectCode(() => decodeStreamMessage(base().u8(2).u16(0).finish()), 'malformed');
    expectCode(() => decodeStreamMessage(base().u8(0).u16(4097).bytes(new Uint8Array(4097)).finish()), 'malformed');
  });

  it('throws nothing but StreamError on arbitrary bytes, even behind a valid type byte', () => {
    const codes = Object.values(StreamMessageType);
    fc.assert(
      fc.property(fc.constantFrom(...codes), fc.uint8Array({ maxLength: 400 }), (t, rest) => {
        try {
          const m = decodeStreamMessage(concatBytes(Uint8Array.of(t), rest));
          // What decodes re-encodes to exactly the input.
          expect(toHex(encodeStreamMessage(m))).toBe(toHex(concatBytes(Uint8Array.of(t), rest)));
        } catch (e) {
          expect(e).toBeInstanceOf(StreamError);
        }
      }),
      { numRuns: 1500 },
    );
  });
});

describe('encoding refuses what it cannot send', () => {
  it('with TypeError or RangeError naming the field', () => {
    const media = sample('media');
    expect(() => encodeStreamMessage({ ...media, keyframe: false })).toThrow(/keyframe/);
    expect(() => encodeStreamMessage({ ...media, parts: 0 })).toThrow(RangeError);
    expect(() => encodeStreamMessage({ ...media, part: 2 })).toThrow(/part/);
    expect(() => encodeStreamMessage({ ...media, payload: new Uint8Array(0) })).toThrow(/payload/);
    expect(() => encodeStreamMessage({ ...media, streamId: bytesOf(15, 1) })).toThrow(/streamId/);
    expect(() => encodeStreamMessage({ ...media, groupSeq: 2 ** 32 })).toThrow(/groupSeq/);
    const create = SAMPLES[1] as Extract<StreamMessage, { type: 'create-stream' }>;
    expect(() => encodeStreamMessage({ ...create, receipt: receipt().subarray(1) })).toThrow(/message\.receipt/);
    expect(() => encodeStreamMessage({ ...create, params: { bitrate: 0, maxViewers: 1 } })).toThrow(/bitrate/);
    expect(() => encodeStreamMessage({ ...create, distribution: [create.distribution[0]!, create.distribution[0]!] })).toThrow(/repeats/);
    expect(() => encodeStreamMessage({ ...create, distribution: Array.from({ length: 9 }, (_, i) => ({ identity: bytesOf(32, i), address: { host: '10.0.0.1', port: 1 } })) })).toThrow(RangeError);
    expect(() => encodeStreamMessage({ ...create, distribution: [{ identity: DIST, address: { host: 'example.org', port: 1 } }] })).toThrow(/host/);
    expect(() => encodeStreamMessage({ ...create, public: { ...create.public!, title: '' } })).toThrow(/title/);
    expect(() => encodeStreamMessage({ ...create, public: { ...create.public!, title: 'a\nb' } })).toThrow(/title/);
    expect(() => encodeStreamMessage({ ...create, public: { ...create.public!, title: 'lone \ud800' } })).toThrow(/title/);
    expect(() => encodeStreamMessage({ ...create, public: { ...create.public!, keys: { ...KEYS, suite: 7 as never } } })).toThrow(/suite/);
    expect(() => encodeStreamMessage({ type: 'refused', reason: 'nope' as never, streamId: null })).toThrow(/reason/);
    expect(() => encodeStreamMessage({ ...sample('usage-report'), role: 'x' as never })).toThrow(/role/);
    expect(() => encodeStreamMessage({ ...sample('usage-report'), periodEnd: 1 })).toThrow(/periodEnd/);
    expect(() => encodeStreamMessage({ ...sample('stream-report'), bytesOut: 2 ** 53 })).toThrow(/bytesOut/);
    expect(() => encodeStreamMessage({ ...sample('attach-distribution'), parent: DIST })).toThrow(/parent/);
    expect(() => encodeStreamMessage({ ...sample('solution'), nonce: 2n ** 64n })).toThrow(/nonce/);
    expect(() => encodeStreamMessage({ ...sample('receipt-request'), credential: new Uint8Array(4097) })).toThrow(/credential/);
    expect(() => encodeStreamMessage({ type: 'redirect', streamId: STREAM_ID, node: LANDING, address: { host: '10.0.0.1', port: 0 } })).toThrow(/port/);
    expect(() => encodeStreamMessage({ type: 'nope' } as never)).toThrow(RangeError);
    expect(() => encodeStreamMessage(null as never)).toThrow(TypeError);
  });
});
