/**
 * The chat frame codec (node-core/chat/frames.ts): the byte layouts written in its header
 * (vectors below, hand-assembled from that description), a corpus of bad frames with one
 * expected error code each, truncation, size limits, and properties: every valid frame
 * round-trips, and the decoders throw nothing but ChatError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChatFrame,
  ChatError,
  type ChatErrorCode,
  MAX_FRAME_BYTES,
  MAX_TEXT_BYTES,
  decodeFrame,
  decodeItem,
  encodeFrame,
  encodeItem,
} from '../../node-core/chat';
import { concatBytes, fromHex, toHex } from '../../node-core/util/bytes';
import { frameArb, itemArb } from './arbitraries';

const MID = fromHex('000102030405060708090a0b0c0d0e0f');
const FID = new Uint8Array(16).fill(0xff);
const FID_HEX = 'ff'.repeat(16);
const T = 1_700_000_000_000; // 0x0000018bcfe56800

/** Each vector: the frame and its bytes, written field by field as the header describes them. */
const VECTORS: { name: string; frame: ChatFrame; hex: string[] }[] = [
  {
    name: 'HELLO asking for a reply',
    frame: { type: 'hello', replyWanted: true, window: 256, recvCursor: 3, lastSeq: 10, ranges: [{ start: 5, end: 6 }] },
    hex: ['01', '01', '01', '0100', '00000003', '0000000a', '01', '00000005', '00000006'],
  },
  {
    name: 'DATA carrying a text',
    frame: { type: 'data', seq: 1, sentAt: T, item: { kind: 'text', messageId: MID, text: 'hi' } },
    hex: ['01', '02', '00000001', '0000018bcfe56800', '01', '000102030405060708090a0b0c0d0e0f', '6869'],
  },
  {
    name: 'DATA carrying a file offer',
    frame: {
      type: 'data',
      seq: 2,
      sentAt: 0,
      item: { kind: 'file-offer', messageId: MID, fileId: FID, name: 'a b.txt', size: 200_000, sha256: new Uint8Array(32).fill(0x11), chunkSize: 32_768 },
    },
    hex: ['01', '02', '00000002', '0000000000000000', '02', '000102030405060708090a0b0c0d0e0f', FID_HEX, '0000000000030d40', '11'.repeat(32), '00008000', '07', '6120622e747874'],
  },
  {
    name: 'DATA carrying a read receipt',
    frame: { type: 'data', seq: 3, sentAt: 0, item: { kind: 'read', upTo: 7 } },
    hex: ['01', '02', '00000003', '0000000000000000', '03', '00000007'],
  },
  {
    name: 'DATA carrying a file cancel (by the receiver, hash mismatch)',
    frame: { type: 'data', seq: 4, sentAt: 0, item: { kind: 'file-cancel', fileId: FID, role: 'receiver', reason: 'hash-mismatch' } },
    hex: ['01', '02', '00000004', '0000000000000000', '04', FID_HEX, '01', '02'],
  },
  {
    name: 'DATA carrying a file done',
    frame: { type: 'data', seq: 5, sentAt: 0, item: { kind: 'file-done', fileId: FID } },
    hex: ['01', '02', '00000005', '0000000000000000', '05', FID_HEX],
  },
  {
    name: 'ACK with two selective ranges',
    frame: { type: 'ack', cumulative: 5, ranges: [{ start: 7, end: 9 }, { start: 12, end: 12 }] },
    hex: ['01', '03', '00000005', '02', '00000007', '00000009', '0000000c', '0000000c'],
  },
  { name: 'TYPING on', frame: { type: 'typing', active: true }, hex: ['01', '04', '01'] },
  {
    name: 'FILE_PULL',
    frame: { type: 'file-pull', fileId: FID, offset: 32_768, length: 1_048_576 },
    hex: ['01', '05', FID_HEX, '0000000000008000', '00100000'],
  },
  {
    name: 'FILE_CHUNK',
    frame: { type: 'file-chunk', fileId: FID, offset: 0, data: fromHex('aabbcc') },
    hex: ['01', '06', FID_HEX, '0000000000000000', 'aabbcc'],
  },
];

function expectChatError(fn: () => unknown, code: ChatErrorCode): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ChatError(${code})`).toBeInstanceOf(ChatError);
  expect((thrown as ChatError).code, (thrown as Error).message).toBe(code);
}

const hex = (parts: string[]): Uint8Array => fromHex(parts.join(''));

describe('chat frame vectors', () => {
  it.each(VECTORS)('$name: decodes to the frame and re-encodes to the same bytes', ({ frame, hex: parts }) => {
    const bytes = hex(parts);
    expect(toHex(encodeFrame(frame))).toBe(toHex(bytes));
    expect(decodeFrame(bytes)).toEqual(frame);
  });

  it.each(VECTORS)('$name: every strict prefix is rejected as malformed', ({ hex: parts }) => {
    const bytes = hex(parts);
    for (let n = 0; n < bytes.length; n++) {
      const prefix = bytes.subarray(0, n);
      // A text or chunk with part of its bytes is still a complete frame (those run to the end).
      let whole = false;
      try {
        decodeFrame(prefix);
        whole = true;
      } catch (e) {
        expect(e).toBeInstanceOf(ChatError);
        expect(['malformed', 'bad-utf8']).toContain((e as ChatError).code);
      }
      if (whole) expect(['02', '06']).toContain(parts[1]);
    }
  });
});

/** Bad frames, each with the one code it must give. */
const DATA_HEAD = ['01', '02', '00000001', '0000000000000000'];
const BAD: { name: string; hex: string[]; code: ChatErrorCode }[] = [
  { name: 'empty input', hex: [], code: 'malformed' },
  { name: 'version 2', hex: ['02', '04', '01'], code: 'unsupported-version' },
  { name: 'version 0', hex: ['00', '04', '01'], code: 'unsupported-version' },
  { name: 'version only', hex: ['01'], code: 'malformed' },
  { name: 'unknown frame type', hex: ['01', '07'], code: 'unknown-type' },
  { name: 'frame type 0', hex: ['01', '00'], code: 'unknown-type' },
  { name: 'hello with an unknown flag', hex: ['01', '01', '02', '0100', '00000000', '00000000', '00'], code: 'malformed' },
  { name: 'hello with window 0', hex: ['01', '01', '00', '0000', '00000000', '00000000', '00'], code: 'malformed' },
  { name: 'hello with a trailing byte', hex: ['01', '01', '00', '0100', '00000000', '00000000', '00', '00'], code: 'malformed' },
  { name: 'data seq 0', hex: ['01', '02', '00000000', '0000000000000000', '03', '00000001'], code: 'malformed' },
  { name: 'data sentAt past 2^53', hex: ['01', '02', '00000001', '0020000000000000', '03', '00000001'], code: 'malformed' },
  { name: 'unknown item kind', hex: [...DATA_HEAD, '06'], code: 'unknown-type' },
  { name: 'item kind 0', hex: [...DATA_HEAD, '00'], code: 'unknown-type' },
  { name: 'empty text', hex: [...DATA_HEAD, '01', '00'.repeat(16)], code: 'malformed' },
  { name: 'text that is not UTF-8', hex: [...DATA_HEAD, '01', '00'.repeat(16), '68ff69'], code: 'bad-utf8' },
  { name: 'text with an encoded surrogate', hex: [...DATA_HEAD, '01', '00'.repeat(16), 'eda080'], code: 'bad-utf8' },
  { name: 'text with an overlong encoding', hex: [...DATA_HEAD, '01', '00'.repeat(16), 'c0af'], code: 'bad-utf8' },
  { name: 'file offer with chunk size 511', hex: [...DATA_HEAD, '02', '00'.repeat(32), '0000000000000001', '11'.repeat(32), '000001ff', '01', '61'], code: 'malformed' },
  { name: 'file offer with chunk size 65537', hex: [...DATA_HEAD, '02', '00'.repeat(32), '0000000000000001', '11'.repeat(32), '00010001', '01', '61'], code: 'malformed' },
  { name: 'file offer with size past 2^53', hex: [...DATA_HEAD, '02', '00'.repeat(32), 'ffffffffffffffff', '11'.repeat(32), '00008000', '01', '61'], code: 'malformed' },
  { name: 'file offer with an empty name', hex: [...DATA_HEAD, '02', '00'.repeat(32), '0000000000000001', '11'.repeat(32), '00008000', '00'], code: 'malformed' },
  { name: "file offer named '..'", hex: [...DATA_HEAD, '02', '00'.repeat(32), '0000000000000001', '11'.repeat(32), '00008000', '02', '2e2e'], code: 'malformed' },
  { name: 'file offer name with a slash', hex: [...DATA_HEAD, '02', '00'.repeat(32), '0000000000000001', '11'.repeat(32), '00008000', '03', '612f62'], code: 'malformed' },
  { name: 'file offer name with a backslash', hex: [...DATA_HEAD, '02', '00'.repeat(32), '0000000000000001', '11'.repeat(32), '00008000', '03', '615c62'], code: 'malformed' },
  { name: 'file offer name with a newline', hex: [...DATA_HEAD, '02', '00'.repeat(32), '0000000000000001', '11'.repeat(32), '00008000', '02', '610a'], code: 'malformed' },
  { name: 'file offer name not UTF-8', hex: [...DATA_HEAD, '02', '00'.repeat(32), '0000000000000001', '11'.repeat(32), '00008000', '01', 'ff'], code: 'bad-utf8' },
  { name: 'file offer with a trailing byte', hex: [...DATA_HEAD, '02', '00'.repeat(32), '0000000000000001', '11'.repeat(32), '00008000', '01', '61', '00'], code: 'malformed' },
  { name: 'read receipt up to 0', hex: [...DATA_HEAD, '03', '00000000'], code: 'malformed' },
  { name: 'read receipt with a trailing byte', hex: [...DATA_HEAD, '03', '00000001', '00'], code: 'malformed' },
  { name: 'file cancel with role 2', hex: [...DATA_HEAD, '04', '00'.repeat(16), '02', '01'], code: 'malformed' },
  { name: 'file cancel with reason 0', hex: [...DATA_HEAD, '04', '00'.repeat(16), '00', '00'], code: 'malformed' },
  { name: 'file cancel with reason 5', hex: [...DATA_HEAD, '04', '00'.repeat(16), '00', '05'], code: 'malformed' },
  { name: 'file done with a trailing byte', hex: [...DATA_HEAD, '05', '00'.repeat(16), '00'], code: 'malformed' },
  { name: 'ack with 9 ranges', hex: ['01', '03', '00000000', '09', ...Array.from({ length: 9 }, (_, i) => `${(i * 4 + 2).toString(16).padStart(8, '0')}${(i * 4 + 2).toString(16).padStart(8, '0')}`)], code: 'malformed' },
  { name: 'ack range touching the cumulative point', hex: ['01', '03', '00000005', '01', '00000006', '00000007'], code: 'malformed' },
  { name: 'ack range below the cumulative point', hex: ['01', '03', '00000005', '01', '00000003', '00000004'], code: 'malformed' },
  { name: 'ack range ending before it starts', hex: ['01', '03', '00000005', '01', '00000009', '00000008'], code: 'malformed' },
  { name: 'ack ranges touching each other', hex: ['01', '03', '00000000', '02', '00000002', '00000003', '00000004', '00000005'], code: 'malformed' },
  { name: 'ack ranges overlapping', hex: ['01', '03', '00000000', '02', '00000002', '00000005', '00000004', '00000006'], code: 'malformed' },
  { name: 'ack ranges out of order', hex: ['01', '03', '00000000', '02', '00000008', '00000009', '00000002', '00000003'], code: 'malformed' },
  { name: 'ack with a trailing byte', hex: ['01', '03', '00000000', '00', '00'], code: 'malformed' },
  { name: 'typing state 2', hex: ['01', '04', '02'], code: 'malformed' },
  { name: 'typing with a trailing byte', hex: ['01', '04', '01', '00'], code: 'malformed' },
  { name: 'file pull of 0 bytes', hex: ['01', '05', '00'.repeat(16), '0000000000000000', '00000000'], code: 'malformed' },
  { name: 'file pull over 1 MiB', hex: ['01', '05', '00'.repeat(16), '0000000000000000', '00100001'], code: 'oversize' },
  { name: 'file pull offset past 2^53', hex: ['01', '05', '00'.repeat(16), '0020000000000000', '00000001'], code: 'malformed' },
  { name: 'file chunk without data', hex: ['01', '06', '00'.repeat(16), '0000000000000000'], code: 'malformed' },
];

describe('bad chat frames', () => {
  it.each(BAD)('$name: $code', ({ hex: parts, code }) => {
    expectChatError(() => decodeFrame(hex(parts)), code);
  });

  it('refuses a frame over 128 KiB before reading it', () => {
    const big = new Uint8Array(MAX_FRAME_BYTES + 1);
    big.set(hex(['01', '06', '00'.repeat(16), '0000000000000000']));
    expectChatError(() => decodeFrame(big), 'oversize');
  });

  it('refuses a text over 64 KiB and a chunk over 64 KiB', () => {
    const text = concatBytes(hex([...DATA_HEAD, '01', '00'.repeat(16)]), new Uint8Array(MAX_TEXT_BYTES + 1).fill(0x61));
    expectChatError(() => decodeFrame(text), 'oversize');
    const chunk = concatBytes(hex(['01', '06', '00'.repeat(16), '0000000000000000']), new Uint8Array(65_537));
    expectChatError(() => decodeFrame(chunk), 'oversize');
  });

  it('refuses input that is not bytes with a TypeError', () => {
    expect(() => decodeFrame('0104' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => decodeItem([1] as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('decodeItem refuses an item followed by more bytes, and an unknown kind', () => {
    expectChatError(() => decodeItem(fromHex('0300000001ff')), 'malformed');
    expectChatError(() => decodeItem(fromHex('09')), 'unknown-type');
  });
});

describe('chat frame limits', () => {
  it('a text of exactly 65,536 UTF-8 bytes fits in a frame under 128 KiB', () => {
    const text = 'é'.repeat(MAX_TEXT_BYTES / 2);
    const bytes = encodeFrame({ type: 'data', seq: 1, sentAt: T, item: { kind: 'text', messageId: MID, text } });
    expect(bytes.length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    const back = decodeFrame(bytes);
    expect(back.type === 'data' && back.item.kind === 'text' && back.item.text === text).toBe(true);
  });

  it('the encoder refuses 65,537 bytes of text, an empty text and a lone surrogate, naming the field', () => {
    const item = (text: string) => ({ kind: 'text' as const, messageId: MID, text });
    expect(() => encodeItem(item('a'.repeat(MAX_TEXT_BYTES + 1)))).toThrow(/item\.text is 65537 UTF-8 bytes/);
    expect(() => encodeItem(item('a'.repeat(MAX_TEXT_BYTES + 1)))).toThrow(RangeError);
    expect(() => encodeItem(item(''))).toThrow(RangeError);
    expect(() => encodeItem(item('a\uD800b'))).toThrow(/lone surrogate/);
  });

  it('the encoder refuses bad fields with TypeError or RangeError', () => {
    expect(() => encodeFrame({ type: 'data', seq: 0, sentAt: 0, item: { kind: 'read', upTo: 1 } })).toThrow(RangeError);
    expect(() => encodeFrame({ type: 'ack', cumulative: 5, ranges: [{ start: 6, end: 7 }] })).toThrow(/frame\.ranges\[0\]\.start/);
    expect(() => encodeFrame({ type: 'ack', cumulative: 0, ranges: Array.from({ length: 9 }, (_, i) => ({ start: 4 * i + 2, end: 4 * i + 2 })) })).toThrow(RangeError);
    expect(() => encodeFrame({ type: 'file-pull', fileId: FID, offset: 0, length: 0 })).toThrow(RangeError);
    expect(() => encodeFrame({ type: 'file-chunk', fileId: FID, offset: 0, data: new Uint8Array(0) })).toThrow(RangeError);
    expect(() => encodeFrame({ type: 'file-chunk', fileId: new Uint8Array(15), offset: 0, data: new Uint8Array(1) })).toThrow(RangeError);
    expect(() => encodeFrame({ type: 'typing', active: 1 as unknown as boolean })).toThrow(TypeError);
    expect(() => encodeFrame({ type: 'nope' } as unknown as ChatFrame)).toThrow(RangeError);
    const offer = { kind: 'file-offer' as const, messageId: MID, fileId: FID, size: 1, sha256: new Uint8Array(32), chunkSize: 32_768 };
    expect(() => encodeItem({ ...offer, name: 'x/y' })).toThrow(/item\.name/);
    expect(() => encodeItem({ ...offer, name: 'n'.repeat(256) })).toThrow(/item\.name/);
    expect(() => encodeItem({ ...offer, name: 'ok', chunkSize: 100 })).toThrow(/item\.chunkSize/);
    expect(() => encodeItem({ ...offer, name: 'ok', size: -1 })).toThrow(/item\.size/);
  });
});

describe('chat frame properties', () => {
  it('every valid frame encodes within the limit and decodes to itself; items alone too', () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        const bytes = encodeFrame(frame);
        expect(bytes.length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
        expect(decodeFrame(bytes)).toEqual(frame);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(itemArb, (item) => {
        expect(decodeItem(encodeItem(item))).toEqual(item);
      }),
      { numRuns: 300 },
    );
  });

  it('the decoders throw nothing but ChatError, and what they accept re-encodes to the input', () => {
    const check = (bytes: Uint8Array): void => {
      try {
        const f = decodeFrame(bytes);
        expect(toHex(encodeFrame(f))).toBe(toHex(bytes));
      } catch (e) {
        if (!(e instanceof ChatError)) throw e;
      }
      try {
        const it = decodeItem(bytes);
        expect(toHex(encodeItem(it))).toBe(toHex(bytes));
      } catch (e) {
        if (!(e instanceof ChatError)) throw e;
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), check), { numRuns: 1000 });
    // Mutations of valid frames reach deeper than random bytes.
    fc.assert(
      fc.property(frameArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (frame, at, value) => {
        const bytes = encodeFrame(frame).slice();
        bytes[at % bytes.length] = value;
        check(bytes);
        check(bytes.subarray(0, at % (bytes.length + 1)));
      }),
      { numRuns: 1000 },
    );
  });
});
