/** fast-check arbitraries for chat frames and items, shared by the chat tests and fuzz seeds. */
import fc from 'fast-check';
import {
  type ChatFrame,
  type ChatItem,
  FILE_CANCEL_REASONS,
  MAX_CHUNK_BYTES,
  MAX_PULL_BYTES,
  MAX_SEQ,
  MIN_CHUNK_BYTES,
  type SeqRange,
} from '../../node-core/chat';

const id = fc.uint8Array({ minLength: 16, maxLength: 16 });
const seq = fc.oneof(fc.constantFrom(1, 2, MAX_SEQ - 1, MAX_SEQ), fc.integer({ min: 1, max: MAX_SEQ }));
const time = fc.oneof(fc.constantFrom(0, 1_700_000_000_000, Number.MAX_SAFE_INTEGER), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
const u53 = fc.oneof(fc.constantFrom(0, 1, Number.MAX_SAFE_INTEGER), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));

/** Non-empty text with no lone surrogates, mixing ASCII and multi-byte characters. */
export const textArb = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 });

/** A valid file name. */
export const fileNameArb = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 30 })
  .map((s) => s.replace(/[\u0000-\u001f\u007f/\\]/g, '_'))
  .filter((s) => s !== '.' && s !== '..' && new TextEncoder().encode(s).length <= 255);

export const itemArb: fc.Arbitrary<ChatItem> = fc.oneof(
  fc.record({ kind: fc.constant('text' as const), messageId: id, text: textArb }),
  fc.record({
    kind: fc.constant('file-offer' as const),
    messageId: id,
    fileId: id,
    name: fileNameArb,
    size: u53,
    sha256: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    chunkSize: fc.integer({ min: MIN_CHUNK_BYTES, max: MAX_CHUNK_BYTES }),
  }),
  fc.record({ kind: fc.constant('read' as const), upTo: seq }),
  fc.record({
    kind: fc.constant('file-cancel' as const),
    fileId: id,
    role: fc.constantFrom('sender' as const, 'receiver' as const),
    reason: fc.constantFrom(...FILE_CANCEL_REASONS),
  }),
  fc.record({ kind: fc.constant('file-done' as const), fileId: id }),
);

/** A cumulative point and up to 8 valid selective ranges above it. */
export const ackArb: fc.Arbitrary<{ cumulative: number; ranges: SeqRange[] }> = fc
  .tuple(fc.integer({ min: 0, max: 1_000_000 }), fc.array(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 50 })), { maxLength: 8 }))
  .map(([cumulative, parts]) => {
    const ranges: SeqRange[] = [];
    let floor = cumulative + 2;
    for (const [gap, len] of parts) {
      const start = floor + gap - 1;
      ranges.push({ start, end: start + len });
      floor = start + len + 2;
    }
    return { cumulative, ranges };
  });

export const frameArb: fc.Arbitrary<ChatFrame> = fc.oneof(
  fc
    .tuple(fc.boolean(), fc.integer({ min: 1, max: 0xffff }), ackArb, fc.integer({ min: 0, max: MAX_SEQ }))
    .map(([replyWanted, window, a, lastSeq]) => ({ type: 'hello' as const, replyWanted, window, recvCursor: a.cumulative, lastSeq, ranges: a.ranges })),
  fc.record({ type: fc.constant('data' as const), seq, sentAt: time, item: itemArb }),
  ackArb.map((a) => ({ type: 'ack' as const, ...a })),
  fc.record({ type: fc.constant('typing' as const), active: fc.boolean() }),
  fc.record({ type: fc.constant('file-pull' as const), fileId: id, offset: u53, length: fc.integer({ min: 1, max: MAX_PULL_BYTES }) }),
  fc.record({ type: fc.constant('file-chunk' as const), fileId: id, offset: u53, data: fc.uint8Array({ minLength: 1, maxLength: 300 }) }),
);
