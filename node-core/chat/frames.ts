/**
 * The frames of the chat protocol: what two apps exchange over a private channel (DESIGN §3,
 * "Rendezvous and private chat"; seed 004 §7) once the rendezvous handshake has given them an
 * ordered, end-to-end encrypted pipe of binary messages. One channel message carries one frame.
 * Frames that carry items (DATA) may also travel through an offline mailbox.
 *
 * Encoding (all integers big-endian; `u64` values are limited to 2^53 − 1 so they fit a JS
 * number; times are milliseconds since the Unix epoch):
 *
 *   frame      = version u8 (= 1) | type u8 | body          at most 131,072 bytes in all
 *
 *   type 0x01 HELLO       flags u8 | window u16 | recvCursor u32 | lastSeq u32 | ranges
 *       flags bit 0: the sender wants a HELLO back (the other bits are 0). window: how far past
 *       recvCursor the sender accepts items (1..65535). recvCursor: every item of the peer's
 *       stream up to this seq is stored. lastSeq: the highest seq the sender has assigned in its
 *       own stream (0 = none).
 *   type 0x02 DATA        seq u32 (≥ 1) | sentAt u64 | item
 *   type 0x03 ACK         cumulative u32 | ranges
 *   type 0x04 TYPING      active u8 (0 or 1)
 *   type 0x05 FILE_PULL   fileId [16] | offset u64 | length u32 (1..1,048,576)
 *   type 0x06 FILE_CHUNK  fileId [16] | offset u64 | data (1..65,536 bytes, the rest of the frame)
 *
 *   ranges     = count u8 (0..8) | count × (start u32 | end u32)
 *       Items stored above the cumulative point (selective acknowledgement): inclusive ranges in
 *       ascending order, each start ≥ end of the one before + 2 (ranges neither touch nor
 *       overlap), and the first start ≥ cumulative + 2. So every set has exactly one encoding.
 *
 *   item       = kind u8 | fields
 *   kind 0x01 TEXT         messageId [16] | text (UTF-8, 1..65,536 bytes, the rest of the item)
 *   kind 0x02 FILE_OFFER   messageId [16] | fileId [16] | size u64 | sha256 [32] |
 *                          chunkSize u32 (512..65,536) | nameLength u8 (1..255) | name (UTF-8;
 *                          no control characters, '/' or '\', not '.' or '..')
 *   kind 0x03 READ         upTo u32 (≥ 1): the reader has read the peer's items up to this seq
 *   kind 0x04 FILE_CANCEL  fileId [16] | role u8 (0 = sent by the file's sender, 1 = by its
 *                          receiver) | reason u8 (1 cancelled, 2 hash-mismatch, 3 unavailable,
 *                          4 refused)
 *   kind 0x05 FILE_DONE    fileId [16]: the receiver has the whole file and its SHA-256 matched
 *
 * Semantics, in short (conversation.ts has the details): each direction of a conversation is a
 * stream of items numbered from 1. DATA frames carry them; the receiver stores them in order,
 * exactly once, and acknowledges what it stored (ACK, and the ack part of HELLO). TYPING is
 * unreliable. Files are pulled by the receiver: FILE_PULL asks for `length` bytes from `offset`
 * (a multiple of the offer's chunk size), and the sender answers with FILE_CHUNK frames of
 * exactly one chunk each (the last chunk of a file may be shorter), so a chunk is the same bytes
 * every time it is sent.
 *
 * Every decoder throws only ChatError; encoders check their input and throw TypeError or
 * RangeError naming the field. What a decoder accepts re-encodes to the same bytes.
 */
import { Reader, Writer, assertBytes, utf8 } from '../util/bytes';
import { expectEnd, readTime, reader, writeTime } from '../util/codec';
import { ChatError, type ChatErrorCode } from './errors';

export const CHAT_FRAME_VERSION = 1;
/** Largest frame of any type (128 KiB). */
export const MAX_FRAME_BYTES = 131_072;
/** Largest text of one message in UTF-8 bytes (64 KiB). */
export const MAX_TEXT_BYTES = 65_536;
export const MIN_CHUNK_BYTES = 512;
export const MAX_CHUNK_BYTES = 65_536;
/** Largest range one FILE_PULL may ask for (1 MiB). */
export const MAX_PULL_BYTES = 1_048_576;
export const MAX_FILE_NAME_BYTES = 255;
export const MAX_ACK_RANGES = 8;
export const MAX_SEQ = 0xffff_ffff;
export const MAX_WINDOW = 0xffff;
export const ID_BYTES = 16;
export const SHA256_BYTES = 32;

export const FRAME_TYPE = { hello: 0x01, data: 0x02, ack: 0x03, typing: 0x04, filePull: 0x05, fileChunk: 0x06 } as const;
export const ITEM_KIND = { text: 0x01, fileOffer: 0x02, read: 0x03, fileCancel: 0x04, fileDone: 0x05 } as const;

export const FILE_CANCEL_REASONS = ['cancelled', 'hash-mismatch', 'unavailable', 'refused'] as const;
/** Why a transfer ended without the file: a user cancelled or refused it, its bytes did not match, its sender lost it. */
export type FileCancelReason = (typeof FILE_CANCEL_REASONS)[number];
/** Which end of a transfer sent a FILE_CANCEL. */
export type FileRole = 'sender' | 'receiver';

export interface TextItem {
  readonly kind: 'text';
  readonly messageId: Uint8Array;
  readonly text: string;
}
export interface FileOfferItem {
  readonly kind: 'file-offer';
  readonly messageId: Uint8Array;
  readonly fileId: Uint8Array;
  readonly name: string;
  readonly size: number;
  readonly sha256: Uint8Array;
  readonly chunkSize: number;
}
export interface ReadItem {
  readonly kind: 'read';
  readonly upTo: number;
}
export interface FileCancelItem {
  readonly kind: 'file-cancel';
  readonly fileId: Uint8Array;
  readonly role: FileRole;
  readonly reason: FileCancelReason;
}
export interface FileDoneItem {
  readonly kind: 'file-done';
  readonly fileId: Uint8Array;
}
/** One entry of a direction's reliable stream. */
export type ChatItem = TextItem | FileOfferItem | ReadItem | FileCancelItem | FileDoneItem;

/** An inclusive range of sequence numbers. */
export interface SeqRange {
  readonly start: number;
  readonly end: number;
}

export interface HelloFrame {
  readonly type: 'hello';
  readonly replyWanted: boolean;
  readonly window: number;
  readonly recvCursor: number;
  readonly lastSeq: number;
  readonly ranges: readonly SeqRange[];
}
export interface DataFrame {
  readonly type: 'data';
  readonly seq: number;
  readonly sentAt: number;
  readonly item: ChatItem;
}
export interface AckFrame {
  readonly type: 'ack';
  readonly cumulative: number;
  readonly ranges: readonly SeqRange[];
}
export interface TypingFrame {
  readonly type: 'typing';
  readonly active: boolean;
}
export interface FilePullFrame {
  readonly type: 'file-pull';
  readonly fileId: Uint8Array;
  readonly offset: number;
  readonly length: number;
}
export interface FileChunkFrame {
  readonly type: 'file-chunk';
  readonly fileId: Uint8Array;
  readonly offset: number;
  readonly data: Uint8Array;
}
export type ChatFrame = HelloFrame | DataFrame | AckFrame | TypingFrame | FilePullFrame | FileChunkFrame;

// ---- shared checks --------------------------------------------------------------------------

const fail = (code: ChatErrorCode, message: string): ChatError => new ChatError(code, message);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw fail('bad-utf8', `${what} is not valid UTF-8`);
  }
}

function checkInt(v: unknown, name: string, min: number, max: number): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${name} must be an integer`);
  if (v < min || v > max) throw new RangeError(`${name} must be in ${min}..${max}, got ${v}`);
}

/** Why `name` is not acceptable as a file name, or null when it is. Internal helper. */
export function fileNameProblem(name: string): string | null {
  const n = utf8(name).length;
  if (n < 1 || n > MAX_FILE_NAME_BYTES) return `must be 1..${MAX_FILE_NAME_BYTES} UTF-8 bytes, got ${n}`;
  if (name === '.' || name === '..') return "must not be '.' or '..'";
  if (LONE_SURROGATE.test(name)) return 'must not contain a lone surrogate';
  if (/[\u0000-\u001f\u007f/\\]/.test(name)) return "must not contain control characters, '/' or '\\'";
  return null;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkText(text: unknown, name: string): asserts text is string {
  if (typeof text !== 'string') throw new TypeError(`${name} must be a string`);
  if (LONE_SURROGATE.test(text)) throw new RangeError(`${name} contains a lone surrogate (it cannot be encoded as UTF-8)`);
  const n = utf8(text).length;
  if (n < 1) throw new RangeError(`${name} must not be empty`);
  if (n > MAX_TEXT_BYTES) throw new RangeError(`${name} is ${n} UTF-8 bytes; at most ${MAX_TEXT_BYTES} are allowed`);
}

/** Checks a list of selective-acknowledgement ranges above `cumulative` (see the header). */
function checkRanges(ranges: unknown, cumulative: number, name: string): asserts ranges is readonly SeqRange[] {
  if (!Array.isArray(ranges)) throw new TypeError(`${name} must be an array`);
  if (ranges.length > MAX_ACK_RANGES) throw new RangeError(`${name} may hold at most ${MAX_ACK_RANGES} ranges`);
  let floor = cumulative + 2;
  ranges.forEach((r: unknown, i) => {
    if (typeof r !== 'object' || r === null) throw new TypeError(`${name}[${i}] must be a range`);
    const { start, end } = r as SeqRange;
    checkInt(start, `${name}[${i}].start`, floor, MAX_SEQ);
    checkInt(end, `${name}[${i}].end`, start, MAX_SEQ);
    floor = end + 2;
  });
}

function readRanges(r: Reader, cumulative: number, what: string): SeqRange[] {
  const count = r.u8(`${what} range count`);
  if (count > MAX_ACK_RANGES) throw fail('malformed', `${what}: ${count} ranges, at most ${MAX_ACK_RANGES} are allowed`);
  const out: SeqRange[] = [];
  let floor = cumulative + 2;
  for (let i = 0; i < count; i++) {
    const start = r.u32(`${what} range start`);
    const end = r.u32(`${what} range end`);
    if (start < floor || end < start) {
      throw fail('malformed', `${what}: range ${i} (${start}..${end}) is out of order, overlaps or touches the one before`);
    }
    out.push({ start, end });
    floor = end + 2;
  }
  return out;
}

function writeRanges(w: Writer, ranges: readonly SeqRange[]): void {
  w.u8(ranges.length);
  for (const r of ranges) w.u32(r.start).u32(r.end);
}

function readSafeU64(r: Reader, what: string): number {
  const v = r.u64(what);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail('malformed', `${what} ${v} is out of range`);
  return Number(v);
}

const REASON_CODES: Readonly<Record<FileCancelReason, number>> = { cancelled: 1, 'hash-mismatch': 2, unavailable: 3, refused: 4 };

// ---- items ----------------------------------------------------------------------------------

/** Checks an item's fields; throws TypeError/RangeError naming the field under `name`. */
export function checkItem(item: unknown, name = 'item'): asserts item is ChatItem {
  if (typeof item !== 'object' || item === null) throw new TypeError(`${name} must be a chat item`);
  const it = item as ChatItem;
  switch (it.kind) {
    case 'text':
      assertBytes(it.messageId, `${name}.messageId`, ID_BYTES);
      checkText(it.text, `${name}.text`);
      return;
    case 'file-offer': {
      assertBytes(it.messageId, `${name}.messageId`, ID_BYTES);
      assertBytes(it.fileId, `${name}.fileId`, ID_BYTES);
      if (typeof it.name !== 'string') throw new TypeError(`${name}.name must be a string`);
      const problem = fileNameProblem(it.name);
      if (problem !== null) throw new RangeError(`${name}.name ${problem}`);
      checkInt(it.size, `${name}.size`, 0, Number.MAX_SAFE_INTEGER);
      assertBytes(it.sha256, `${name}.sha256`, SHA256_BYTES);
      checkInt(it.chunkSize, `${name}.chunkSize`, MIN_CHUNK_BYTES, MAX_CHUNK_BYTES);
      return;
    }
    case 'read':
      checkInt(it.upTo, `${name}.upTo`, 1, MAX_SEQ);
      return;
    case 'file-cancel':
      assertBytes(it.fileId, `${name}.fileId`, ID_BYTES);
      if (it.role !== 'sender' && it.role !== 'receiver') throw new RangeError(`${name}.role must be 'sender' or 'receiver'`);
      if (!FILE_CANCEL_REASONS.includes(it.reason)) throw new RangeError(`${name}.reason must be one of ${FILE_CANCEL_REASONS.join(', ')}`);
      return;
    case 'file-done':
      assertBytes(it.fileId, `${name}.fileId`, ID_BYTES);
      return;
    default:
      throw new RangeError(`${name}.kind ${String((it as { kind: unknown }).kind)} is not a chat item kind`);
  }
}

function writeItem(w: Writer, item: ChatItem): void {
  switch (item.kind) {
    case 'text':
      w.u8(ITEM_KIND.text).bytes(item.messageId).bytes(utf8(item.text));
      return;
    case 'file-offer': {
      const name = utf8(item.name);
      w.u8(ITEM_KIND.fileOffer).bytes(item.messageId).bytes(item.fileId).u64(BigInt(item.size)).bytes(item.sha256);
      w.u32(item.chunkSize).u8(name.length).bytes(name);
      return;
    }
    case 'read':
      w.u8(ITEM_KIND.read).u32(item.upTo);
      return;
    case 'file-cancel':
      w.u8(ITEM_KIND.fileCancel).bytes(item.fileId).u8(item.role === 'sender' ? 0 : 1).u8(REASON_CODES[item.reason]);
      return;
    case 'file-done':
      w.u8(ITEM_KIND.fileDone).bytes(item.fileId);
      return;
  }
}

function readItem(r: Reader): ChatItem {
  const kind = r.u8('item kind');
  switch (kind) {
    case ITEM_KIND.text: {
      const messageId = r.bytes(ID_BYTES, 'text message id').slice();
      const raw = r.rest();
      if (raw.length === 0) throw fail('malformed', 'text item: the text is empty');
      if (raw.length > MAX_TEXT_BYTES) throw fail('oversize', `text item: ${raw.length} bytes of text, at most ${MAX_TEXT_BYTES} are allowed`);
      return { kind: 'text', messageId, text: decodeUtf8(raw, 'text item: the text') };
    }
    case ITEM_KIND.fileOffer: {
      const messageId = r.bytes(ID_BYTES, 'file offer message id').slice();
      const fileId = r.bytes(ID_BYTES, 'file offer file id').slice();
      const size = readSafeU64(r, 'file offer size');
      const sha256 = r.bytes(SHA256_BYTES, 'file offer sha256').slice();
      const chunkSize = r.u32('file offer chunk size');
      if (chunkSize < MIN_CHUNK_BYTES || chunkSize > MAX_CHUNK_BYTES) {
        throw fail('malformed', `file offer: chunk size ${chunkSize} is outside ${MIN_CHUNK_BYTES}..${MAX_CHUNK_BYTES}`);
      }
      const nameLength = r.u8('file offer name length');
      if (nameLength === 0) throw fail('malformed', 'file offer: the name is empty');
      const name = decodeUtf8(r.bytes(nameLength, 'file offer name'), 'file offer: the name');
      const problem = fileNameProblem(name);
      if (problem !== null) throw fail('malformed', `file offer: the name ${problem}`);
      expectEnd(r, 'file offer', fail);
      return { kind: 'file-offer', messageId, fileId, name, size, sha256, chunkSize };
    }
    case ITEM_KIND.read: {
      const upTo = r.u32('read receipt');
      if (upTo === 0) throw fail('malformed', 'read receipt: upTo must be at least 1');
      expectEnd(r, 'read receipt', fail);
      return { kind: 'read', upTo };
    }
    case ITEM_KIND.fileCancel: {
      const fileId = r.bytes(ID_BYTES, 'file cancel file id').slice();
      const role = r.u8('file cancel role');
      if (role > 1) throw fail('malformed', `file cancel: role ${role} is neither 0 nor 1`);
      const code = r.u8('file cancel reason');
      const reason = FILE_CANCEL_REASONS[code - 1];
      if (reason === undefined) throw fail('malformed', `file cancel: reason ${code} is unknown`);
      expectEnd(r, 'file cancel', fail);
      return { kind: 'file-cancel', fileId, role: role === 0 ? 'sender' : 'receiver', reason };
    }
    case ITEM_KIND.fileDone: {
      const fileId = r.bytes(ID_BYTES, 'file done file id').slice();
      expectEnd(r, 'file done', fail);
      return { kind: 'file-done', fileId };
    }
    default:
      throw fail('unknown-type', `item kind ${kind} is unknown`);
  }
}

/** The bytes of an item alone (as stores keep it). */
export function encodeItem(item: ChatItem): Uint8Array {
  checkItem(item);
  const w = new Writer();
  writeItem(w, item);
  return w.finish();
}

/** Parses an item encoded by `encodeItem`. Throws ChatError. */
export function decodeItem(bytes: Uint8Array): ChatItem {
  assertBytes(bytes, 'bytes');
  if (bytes.length > MAX_FRAME_BYTES) throw fail('oversize', `item of ${bytes.length} bytes is larger than a frame`);
  const r = reader(bytes, 'chat item', fail);
  const item = readItem(r);
  expectEnd(r, 'chat item', fail);
  return item;
}

// ---- frames ---------------------------------------------------------------------------------

/** Checks a frame's fields (TypeError/RangeError naming the field). */
function checkFrame(frame: unknown): asserts frame is ChatFrame {
  if (typeof frame !== 'object' || frame === null) throw new TypeError('frame must be a chat frame');
  const f = frame as ChatFrame;
  switch (f.type) {
    case 'hello':
      if (typeof f.replyWanted !== 'boolean') throw new TypeError('frame.replyWanted must be a boolean');
      checkInt(f.window, 'frame.window', 1, MAX_WINDOW);
      checkInt(f.recvCursor, 'frame.recvCursor', 0, MAX_SEQ);
      checkInt(f.lastSeq, 'frame.lastSeq', 0, MAX_SEQ);
      checkRanges(f.ranges, f.recvCursor, 'frame.ranges');
      return;
    case 'data':
      checkInt(f.seq, 'frame.seq', 1, MAX_SEQ);
      checkInt(f.sentAt, 'frame.sentAt', 0, Number.MAX_SAFE_INTEGER);
      checkItem(f.item, 'frame.item');
      return;
    case 'ack':
      checkInt(f.cumulative, 'frame.cumulative', 0, MAX_SEQ);
      checkRanges(f.ranges, f.cumulative, 'frame.ranges');
      return;
    case 'typing':
      if (typeof f.active !== 'boolean') throw new TypeError('frame.active must be a boolean');
      return;
    case 'file-pull':
      assertBytes(f.fileId, 'frame.fileId', ID_BYTES);
      checkInt(f.offset, 'frame.offset', 0, Number.MAX_SAFE_INTEGER);
      checkInt(f.length, 'frame.length', 1, MAX_PULL_BYTES);
      return;
    case 'file-chunk':
      assertBytes(f.fileId, 'frame.fileId', ID_BYTES);
      checkInt(f.offset, 'frame.offset', 0, Number.MAX_SAFE_INTEGER);
      assertBytes(f.data, 'frame.data');
      if (f.data.length < 1 || f.data.length > MAX_CHUNK_BYTES) throw new RangeError(`frame.data must be 1..${MAX_CHUNK_BYTES} bytes`);
      return;
    default:
      throw new RangeError(`frame.type ${String((f as { type: unknown }).type)} is not a chat frame type`);
  }
}

export function encodeFrame(frame: ChatFrame): Uint8Array {
  checkFrame(frame);
  const w = new Writer().u8(CHAT_FRAME_VERSION);
  switch (frame.type) {
    case 'hello':
      w.u8(FRAME_TYPE.hello).u8(frame.replyWanted ? 1 : 0).u16(frame.window).u32(frame.recvCursor).u32(frame.lastSeq);
      writeRanges(w, frame.ranges);
      break;
    case 'data':
      w.u8(FRAME_TYPE.data).u32(frame.seq);
      writeTime(w, frame.sentAt, 'frame.sentAt');
      writeItem(w, frame.item);
      break;
    case 'ack':
      w.u8(FRAME_TYPE.ack).u32(frame.cumulative);
      writeRanges(w, frame.ranges);
      break;
    case 'typing':
      w.u8(FRAME_TYPE.typing).u8(frame.active ? 1 : 0);
      break;
    case 'file-pull':
      w.u8(FRAME_TYPE.filePull).bytes(frame.fileId).u64(BigInt(frame.offset)).u32(frame.length);
      break;
    case 'file-chunk':
      w.u8(FRAME_TYPE.fileChunk).bytes(frame.fileId).u64(BigInt(frame.offset)).bytes(frame.data);
      break;
  }
  const out = w.finish();
  // Every layout above fits by construction (the largest, a DATA frame with 64 KiB of text, is
  // 65,567 bytes); this guards the limit should a layout ever grow.
  if (out.length > MAX_FRAME_BYTES) throw new RangeError(`frame encodes to ${out.length} bytes, over ${MAX_FRAME_BYTES}`);
  return out;
}

/** Parses one frame. Throws ChatError (and TypeError only when `bytes` is not a Uint8Array). */
export function decodeFrame(bytes: Uint8Array): ChatFrame {
  assertBytes(bytes, 'bytes');
  if (bytes.length > MAX_FRAME_BYTES) throw fail('oversize', `frame of ${bytes.length} bytes, at most ${MAX_FRAME_BYTES} are allowed`);
  const r = reader(bytes, 'chat frame', fail);
  const version = r.u8('version');
  if (version !== CHAT_FRAME_VERSION) throw fail('unsupported-version', `chat frame version ${version} is not supported (expected ${CHAT_FRAME_VERSION})`);
  const type = r.u8('type');
  let frame: ChatFrame;
  switch (type) {
    case FRAME_TYPE.hello: {
      const flags = r.u8('hello flags');
      if ((flags & ~1) !== 0) throw fail('malformed', `hello: unknown flags 0x${flags.toString(16)}`);
      const window = r.u16('hello window');
      if (window === 0) throw fail('malformed', 'hello: window must be at least 1');
      const recvCursor = r.u32('hello receive cursor');
      const lastSeq = r.u32('hello last seq');
      const ranges = readRanges(r, recvCursor, 'hello');
      frame = { type: 'hello', replyWanted: flags === 1, window, recvCursor, lastSeq, ranges };
      break;
    }
    case FRAME_TYPE.data: {
      const seq = r.u32('data seq');
      if (seq === 0) throw fail('malformed', 'data: seq must be at least 1');
      const sentAt = readTime(r, 'data sentAt', fail);
      frame = { type: 'data', seq, sentAt, item: readItem(r) };
      break;
    }
    case FRAME_TYPE.ack: {
      const cumulative = r.u32('ack cumulative');
      frame = { type: 'ack', cumulative, ranges: readRanges(r, cumulative, 'ack') };
      break;
    }
    case FRAME_TYPE.typing: {
      const v = r.u8('typing state');
      if (v > 1) throw fail('malformed', `typing: state ${v} is neither 0 nor 1`);
      frame = { type: 'typing', active: v === 1 };
      break;
    }
    case FRAME_TYPE.filePull: {
      const fileId = r.bytes(ID_BYTES, 'file pull file id').slice();
      const offset = readSafeU64(r, 'file pull offset');
      const length = r.u32('file pull length');
      if (length === 0) throw fail('malformed', 'file pull: length must be at least 1');
      if (length > MAX_PULL_BYTES) throw fail('oversize', `file pull: ${length} bytes asked, at most ${MAX_PULL_BYTES} are allowed`);
      frame = { type: 'file-pull', fileId, offset, length };
      break;
    }
    case FRAME_TYPE.fileChunk: {
      const fileId = r.bytes(ID_BYTES, 'file chunk file id').slice();
      const offset = readSafeU64(r, 'file chunk offset');
      const data = r.rest().slice();
      if (data.length === 0) throw fail('malformed', 'file chunk: no data');
      if (data.length > MAX_CHUNK_BYTES) throw fail('oversize', `file chunk: ${data.length} bytes, at most ${MAX_CHUNK_BYTES} are allowed`);
      frame = { type: 'file-chunk', fileId, offset, data };
      break;
    }
    default:
      throw fail('unknown-type', `chat frame type ${type} is unknown`);
  }
  expectEnd(r, 'chat frame', fail);
  return frame;
}
