/**
 * The control and media messages of live streams (seed 004 §8.2–8.3; DESIGN §3 "Live streams";
 * PSP reference flows/media.md and flows/fanout.md, whose fan-out payloads these strict binary
 * codecs replace). Between creator ↔ landing node, landing ↔ distribution node, viewer ↔
 * distribution (or landing) node, and viewer or node ↔ oracle.
 *
 * Every message is `type u8 | fields`, at most MAX_STREAM_MESSAGE_LENGTH (65,535) bytes so one
 * fits a StreamRelay cell or one application message. Integers big-endian; times and counters u64
 * (≤ 2^53-1) in ms and bytes; streamId is 16 bytes; `node`/`parent`/`identity` are 32-byte Ed25519
 * identity keys; an address is `family u8 (4|6) | 4 or 16 bytes | port u16`. `decodeStreamMessage`
 * refuses trailing bytes and out-of-range values and throws only StreamError.
 *
 * Creator ↔ landing node (over a fresh anonymous circuit; the creator names no identity)
 *   0x01 create-stream   receiptLen u16 | receipt (receipt.ts) | bitrate u32 (≥1, bits/s) |
 *                        maxViewers u32 (≥1) | count u8 (0..8) × (identity 32 | address) with
 *                        distinct identities (distribution nodes offered, seed 004 §8.2) |
 *                        public u8 (0|1) | if 1: titleLen u8 (1..128) | title UTF-8 |
 *                        descriptionLen u16 (0..1024) | description UTF-8 | stream keys (70, invite.ts)
 *   0x02 created         streamId
 *   0x03 end-stream      streamId   (creator → landing: stop; landing → nodes and viewers: ended)
 * Viewer ↔ distribution or landing node
 *   0x10 join            streamId | viewerIdLen u16 | viewer identification ID (receipt.ts)
 *   0x11 joined          streamId
 *   0x12 refused         reason u8 (REFUSE_REASONS) | hasStream u8 (0|1) | streamId if 1
 *   0x13 leave           streamId
 *   0x14 redirect        streamId | node 32 | address   (join that node instead)
 *   0x15 viewer-change   streamId | sessionId 16 | present u8 (0|1)   (distribution → landing: a
 *                        viewer the landing node redirected arrived (1) or left (0), by the
 *                        sessionId of its viewer identification ID)
 * Media, broadcaster → landing → distribution → viewer, opaque to every relay
 *   0x20 media           streamId | groupSeq u32 | frameSeq u32 | flags u8 (bit 0 keyframe) |
 *                        part u8 | parts u8 (1..16, part < parts) | payload (1..MAX_MEDIA_PAYLOAD,
 *                        the rest: a piece of the frame's SFrame ciphertext). A group begins
 *                        with its keyframe: keyframe ⇔ frameSeq = 0.
 *   0x21 group-signature streamId | groupSeq u32 | throughFrame u32 | signature 64 (group.ts)
 * Reports
 *   0x30 stream-report   streamId | viewers u32 | nodes u16 | bytesIn u64 | bytesOut u64 |
 *                        framesDropped u64   (distribution → landing → broadcaster; counters are
 *                        cumulative since the stream began at the sender, so a lost report
 *                        loses nothing and rates come from differences)
 *   0x31 usage-report    sessionId 16 | role u8 (1 viewer, 2 distribution) | periodStart u64 |
 *                        periodEnd u64 (≥ periodStart) | downBytes u64 | upBytes u64
 *                        (viewer or distribution node → oracle, seed 004 §8.3)
 * Landing → distribution nodes (stacked fan-outs)
 *   0x40 attach-distribution  streamId | node 32 | parent 32 (≠ node) | parent address |
 *                        capacity u32 (≥1)   (sent to both: `node` subscribes to `parent` with
 *                        relay-join and serves up to `capacity` subscribers; `parent` accepts it)
 *   0x41 detach-distribution  streamId | node 32
 *   0x42 relay-join      streamId   (distribution node → its parent, on an authenticated link)
 * Viewer or creator ↔ oracle (over an onion route)
 *   0x50 challenge-request   (no fields)
 *   0x51 challenge       the 58-byte puzzle challenge (puzzle.ts)
 *   0x52 solution        challenge 58 | nonce u64
 *   0x53 viewer-id       the viewer identification ID
 *   0x54 receipt-request bitrate u32 (≥1) | maxViewers u32 (≥1) | public u8 (0|1) |
 *                        credentialLen u16 (0..4096) | credential (the oracle service's proof of
 *                        the creator's identity and subscription, opaque here)
 *   0x55 receipt         the receipt
 *
 * Embedded receipts, IDs and challenges are checked for layout (parseReceipt, parseViewerId,
 * parsePuzzleChallenge), not verified: that is the receiver's next step.
 *
 * Does not: keep state (fanout.ts), sign or verify groups (group.ts), or send anything.
 */
import type { NodeAddress } from '../directory/address';
import { Writer, assertBytes, toHex } from '../util/bytes';
import { checkInput } from '../util/codec';
import { StreamError } from './errors';
import type { Reader } from '../util/bytes';
import {
  STREAM_ID_LENGTH,
  type TextField,
  checkAddress,
  checkBoolean,
  checkCounter,
  checkInt,
  checkObject,
  checkText,
  dec,
  fail,
  readAddress,
  readCounter,
  readFlag,
  readText,
  writeAddress,
  writeCounter,
  writeText,
} from './internal';
import { type StreamKeys, checkStreamKeys, readStreamKeys, writeStreamKeys } from './invite';
import { PUZZLE_CHALLENGE_LENGTH, parsePuzzleChallenge } from './puzzle';
import { MAX_RECEIPT_LENGTH, MAX_VIEWER_ID_LENGTH, SESSION_ID_LENGTH, parseReceipt, parseViewerId } from './receipt';

// ---------------------------------------------------------------------------------------------
// Limits

export const MAX_STREAM_MESSAGE_LENGTH = 0xffff;
const MEDIA_HEADER = 1 + STREAM_ID_LENGTH + 4 + 4 + 1 + 1 + 1;
/** The largest payload of one media packet. */
export const MAX_MEDIA_PAYLOAD = MAX_STREAM_MESSAGE_LENGTH - MEDIA_HEADER;
/** Most packets one frame is split into. */
export const MAX_FRAME_PARTS = 16;
/** Largest frame: MAX_FRAME_PARTS full packets. */
export const MAX_FRAME_LENGTH = MAX_FRAME_PARTS * MAX_MEDIA_PAYLOAD;
/** Most distribution nodes a creator may offer in create-stream. */
export const MAX_OFFERED_NODES = 8;
export const MAX_CREDENTIAL_LENGTH = 4096;
export const TITLE_FIELD: TextField = { minBytes: 1, maxBytes: 128, lengthBits: 8, multiline: false };
export const DESCRIPTION_FIELD: TextField = { minBytes: 0, maxBytes: 1024, lengthBits: 16, multiline: true };
const MAX_U32 = 0xffffffff;

// ---------------------------------------------------------------------------------------------
// Types

export const StreamMessageType = Object.freeze({
  CreateStream: 0x01,
  Created: 0x02,
  EndStream: 0x03,
  Join: 0x10,
  Joined: 0x11,
  Refused: 0x12,
  Leave: 0x13,
  Redirect: 0x14,
  ViewerChange: 0x15,
  Media: 0x20,
  GroupSignature: 0x21,
  StreamReport: 0x30,
  UsageReport: 0x31,
  AttachDistribution: 0x40,
  DetachDistribution: 0x41,
  RelayJoin: 0x42,
  ChallengeRequest: 0x50,
  Challenge: 0x51,
  Solution: 0x52,
  ViewerIdIssued: 0x53,
  ReceiptRequest: 0x54,
  ReceiptIssued: 0x55,
} as const);

/** Why a request was refused, indexed by its code on the wire. */
export const REFUSE_REASONS = [
  'unspecified',
  /** No such stream here (never created, or forgotten). */
  'unknown-stream',
  /** The receipt does not verify (receipt.ts). */
  'bad-receipt',
  /** The receipt was spent before (ReceiptLedger). */
  'receipt-spent',
  /** The request asks more than the receipt allows (receiptShortfall). */
  'receipt-limits',
  /** The viewer identification ID does not verify. */
  'bad-viewer-id',
  /** No capacity left; try again later or elsewhere. */
  'full',
  'rate-limited',
  /** A message out of sequence, or one this party does not take. */
  'protocol',
  /** relay-join from a node the landing node did not attach. */
  'not-attached',
  /** The stream has ended. */
  'ended',
  /** Already joined, or a stream with this id exists. */
  'duplicate',
  /** The puzzle solution does not check (puzzle.ts), or its challenge was used. */
  'bad-solution',
  /** The oracle found no subscription that allows the request. */
  'not-subscribed',
  /** The subscriber stopped reading and was cut off (fanout.ts). */
  'too-slow',
] as const;
export type RefuseReason = (typeof REFUSE_REASONS)[number];

export interface StreamParameters {
  /** Target bitrate, bits per second, 1..2^32-1. */
  readonly bitrate: number;
  /** Viewers the creator wants served, 1..2^32-1. */
  readonly maxViewers: number;
}

export interface DistributionOffer {
  readonly identity: Uint8Array;
  readonly address: NodeAddress;
}

/** What the landing node publishes in the DHT for a public stream. */
export interface PublicMetadata {
  readonly title: string;
  readonly description: string;
  /** A public stream's keys are public: whoever may watch it may read them. */
  readonly keys: StreamKeys;
}

export interface MediaPacket {
  readonly type: 'media';
  readonly streamId: Uint8Array;
  readonly groupSeq: number;
  /** Frame number within its group; 0 is the group's keyframe. */
  readonly frameSeq: number;
  readonly keyframe: boolean;
  /** Index of this piece of the frame, 0..parts-1. */
  readonly part: number;
  /** Pieces of the frame, 1..MAX_FRAME_PARTS. */
  readonly parts: number;
  /** A piece of the frame's SFrame ciphertext. */
  readonly payload: Uint8Array;
}

export interface GroupSignatureMessage {
  readonly type: 'group-signature';
  readonly streamId: Uint8Array;
  readonly groupSeq: number;
  /** The last frame the signature covers: frames 0..throughFrame of the group, as sent. */
  readonly throughFrame: number;
  readonly signature: Uint8Array;
}

export interface StreamReport {
  readonly type: 'stream-report';
  readonly streamId: Uint8Array;
  /** Viewers served by the sender and the nodes below it. */
  readonly viewers: number;
  /** Distribution nodes at and below the sender (0..65535). */
  readonly nodes: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly framesDropped: number;
}

export type UsageRole = 'viewer' | 'distribution';

export interface UsageReport {
  readonly type: 'usage-report';
  readonly sessionId: Uint8Array;
  readonly role: UsageRole;
  readonly periodStart: number;
  readonly periodEnd: number;
  /** Media bytes from the node to the viewer in the period, as the reporter counted them. */
  readonly downBytes: number;
  /** Bytes from the viewer to the node in the period. */
  readonly upBytes: number;
}

export type StreamMessage =
  | {
      readonly type: 'create-stream';
      /** The receipt's bytes (receipt.ts), verified by the landing node. */
      readonly receipt: Uint8Array;
      readonly params: StreamParameters;
      readonly distribution: readonly DistributionOffer[];
      /** Present for a public stream; null for a private one. */
      readonly public: PublicMetadata | null;
    }
  | { readonly type: 'created'; readonly streamId: Uint8Array }
  | { readonly type: 'end-stream'; readonly streamId: Uint8Array }
  | { readonly type: 'join'; readonly streamId: Uint8Array; readonly viewerId: Uint8Array }
  | { readonly type: 'joined'; readonly streamId: Uint8Array }
  | { readonly type: 'refused'; readonly reason: RefuseReason; readonly streamId: Uint8Array | null }
  | { readonly type: 'leave'; readonly streamId: Uint8Array }
  | { readonly type: 'redirect'; readonly streamId: Uint8Array; readonly node: Uint8Array; readonly address: NodeAddress }
  | { readonly type: 'viewer-change'; readonly streamId: Uint8Array; readonly sessionId: Uint8Array; readonly present: boolean }
  | MediaPacket
  | GroupSignatureMessage
  | StreamReport
  | UsageReport
  | {
      readonly type: 'attach-distribution';
      readonly streamId: Uint8Array;
      readonly node: Uint8Array;
      readonly parent: Uint8Array;
      readonly parentAddress: NodeAddress;
      readonly capacity: number;
    }
  | { readonly type: 'detach-distribution'; readonly streamId: Uint8Array; readonly node: Uint8Array }
  | { readonly type: 'relay-join'; readonly streamId: Uint8Array }
  | { readonly type: 'challenge-request' }
  | { readonly type: 'challenge'; readonly challenge: Uint8Array }
  | { readonly type: 'solution'; readonly challenge: Uint8Array; readonly nonce: bigint }
  | { readonly type: 'viewer-id'; readonly viewerId: Uint8Array }
  | {
      readonly type: 'receipt-request';
      readonly params: StreamParameters;
      readonly public: boolean;
      readonly credential: Uint8Array;
    }
  | { readonly type: 'receipt'; readonly receipt: Uint8Array };

export type StreamMessageKind = StreamMessage['type'];

const TYPE_CODES: Readonly<Record<StreamMessageKind, number>> = {
  'create-stream': StreamMessageType.CreateStream,
  created: StreamMessageType.Created,
  'end-stream': StreamMessageType.EndStream,
  join: StreamMessageType.Join,
  joined: StreamMessageType.Joined,
  refused: StreamMessageType.Refused,
  leave: StreamMessageType.Leave,
  redirect: StreamMessageType.Redirect,
  'viewer-change': StreamMessageType.ViewerChange,
  media: StreamMessageType.Media,
  'group-signature': StreamMessageType.GroupSignature,
  'stream-report': StreamMessageType.StreamReport,
  'usage-report': StreamMessageType.UsageReport,
  'attach-distribution': StreamMessageType.AttachDistribution,
  'detach-distribution': StreamMessageType.DetachDistribution,
  'relay-join': StreamMessageType.RelayJoin,
  'challenge-request': StreamMessageType.ChallengeRequest,
  challenge: StreamMessageType.Challenge,
  solution: StreamMessageType.Solution,
  'viewer-id': StreamMessageType.ViewerIdIssued,
  'receipt-request': StreamMessageType.ReceiptRequest,
  receipt: StreamMessageType.ReceiptIssued,
};
const KIND_OF_CODE = new Map<number, StreamMessageKind>(Object.entries(TYPE_CODES).map(([k, v]) => [v, k as StreamMessageKind]));

/** Every message kind, in type-code order. */
export const STREAM_MESSAGE_KINDS: readonly StreamMessageKind[] = [...KIND_OF_CODE.entries()].sort((a, b) => a[0] - b[0]).map(([, k]) => k);

// ---------------------------------------------------------------------------------------------
// Field checks (encoders: TypeError/RangeError naming the field)

function checkStreamId(v: unknown, name: string): asserts v is Uint8Array {
  assertBytes(v, name, STREAM_ID_LENGTH);
}

function checkParams(p: unknown, name: string): asserts p is StreamParameters {
  checkObject(p, name);
  const x = p as StreamParameters;
  checkInt(x.bitrate, `${name}.bitrate`, 1, MAX_U32);
  checkInt(x.maxViewers, `${name}.maxViewers`, 1, MAX_U32);
}

function checkEmbedded(bytes: unknown, name: string, parse: (b: Uint8Array) => unknown, max: number): asserts bytes is Uint8Array {
  assertBytes(bytes, name);
  if (bytes.length > max) throw new RangeError(`${name} must be at most ${max} bytes, got ${bytes.length}`);
  try {
    parse(bytes);
  } catch (e) {
    if (e instanceof StreamError) throw new RangeError(`${name}: ${e.message}`);
    throw e;
  }
}

function checkMedia(m: MediaPacket, name: string): void {
  checkStreamId(m.streamId, `${name}.streamId`);
  checkInt(m.groupSeq, `${name}.groupSeq`, 0, MAX_U32);
  checkInt(m.frameSeq, `${name}.frameSeq`, 0, MAX_U32);
  checkBoolean(m.keyframe, `${name}.keyframe`);
  if (m.keyframe !== (m.frameSeq === 0)) throw new RangeError(`${name}: a group begins with its keyframe (keyframe exactly when frameSeq is 0)`);
  checkInt(m.parts, `${name}.parts`, 1, MAX_FRAME_PARTS);
  checkInt(m.part, `${name}.part`, 0, m.parts - 1);
  assertBytes(m.payload, `${name}.payload`);
  if (m.payload.length < 1 || m.payload.length > MAX_MEDIA_PAYLOAD) {
    throw new RangeError(`${name}.payload must be 1..${MAX_MEDIA_PAYLOAD} bytes, got ${m.payload.length}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

export function encodeStreamMessage(message: StreamMessage): Uint8Array {
  checkObject(message, 'message');
  const m = message;
  const code = (TYPE_CODES as Partial<Record<string, number>>)[m.type];
  if (code === undefined) throw new RangeError(`message.type ${String((m as { type: unknown }).type)} is not a stream message`);
  const w = new Writer().u8(code);
  switch (m.type) {
    case 'create-stream': {
      checkEmbedded(m.receipt, 'message.receipt', parseReceipt, MAX_RECEIPT_LENGTH);
      checkParams(m.params, 'message.params');
      if (!Array.isArray(m.distribution)) throw new TypeError('message.distribution must be an array');
      checkInt(m.distribution.length, 'message.distribution.length', 0, MAX_OFFERED_NODES);
      const seen = new Set<string>();
      m.distribution.forEach((d: DistributionOffer, i) => {
        checkObject(d, `message.distribution[${i}]`);
        assertBytes(d.identity, `message.distribution[${i}].identity`, 32);
        checkAddress(d.address, `message.distribution[${i}].address`);
        const k = toHex(d.identity);
        if (seen.has(k)) throw new RangeError(`message.distribution[${i}] repeats an earlier node`);
        seen.add(k);
      });
      if (m.public !== null) {
        checkObject(m.public, 'message.public');
        checkText(m.public.title, TITLE_FIELD, 'message.public.title');
        checkText(m.public.description, DESCRIPTION_FIELD, 'message.public.description');
        checkStreamKeys(m.public.keys, 'message.public.keys');
      }
      w.u16(m.receipt.length).bytes(m.receipt).u32(m.params.bitrate).u32(m.params.maxViewers).u8(m.distribution.length);
      m.distribution.forEach((d, i) => {
        w.bytes(d.identity);
        writeAddress(w, d.address, `message.distribution[${i}].address`);
      });
      if (m.public === null) {
        w.u8(0);
      } else {
        w.u8(1);
        writeText(w, m.public.title, TITLE_FIELD, 'message.public.title');
        writeText(w, m.public.description, DESCRIPTION_FIELD, 'message.public.description');
        writeStreamKeys(w, m.public.keys);
      }
      break;
    }
    case 'created':
    case 'end-stream':
    case 'joined':
    case 'leave':
    case 'relay-join':
      checkStreamId(m.streamId, 'message.streamId');
      w.bytes(m.streamId);
      break;
    case 'join':
      checkStreamId(m.streamId, 'message.streamId');
      checkEmbedded(m.viewerId, 'message.viewerId', parseViewerId, MAX_VIEWER_ID_LENGTH);
      w.bytes(m.streamId).u16(m.viewerId.length).bytes(m.viewerId);
      break;
    case 'refused': {
      const reason = REFUSE_REASONS.indexOf(m.reason);
      if (reason < 0) throw new RangeError(`message.reason must be one of ${REFUSE_REASONS.join(', ')}, got ${String(m.reason)}`);
      w.u8(reason);
      if (m.streamId === null) {
        w.u8(0);
      } else {
        checkStreamId(m.streamId, 'message.streamId');
        w.u8(1).bytes(m.streamId);
      }
      break;
    }
    case 'redirect':
      checkStreamId(m.streamId, 'message.streamId');
      assertBytes(m.node, 'message.node', 32);
      w.bytes(m.streamId).bytes(m.node);
      writeAddress(w, m.address, 'message.address');
      break;
    case 'viewer-change':
      checkStreamId(m.streamId, 'message.streamId');
      assertBytes(m.sessionId, 'message.sessionId', SESSION_ID_LENGTH);
      checkBoolean(m.present, 'message.present');
      w.bytes(m.streamId).bytes(m.sessionId).u8(m.present ? 1 : 0);
      break;
    case 'media':
      checkMedia(m, 'message');
      w.bytes(m.streamId).u32(m.groupSeq).u32(m.frameSeq).u8(m.keyframe ? 1 : 0).u8(m.part).u8(m.parts).bytes(m.payload);
      break;
    case 'group-signature':
      checkStreamId(m.streamId, 'message.streamId');
      checkInt(m.groupSeq, 'message.groupSeq', 0, MAX_U32);
      checkInt(m.throughFrame, 'message.throughFrame', 0, MAX_U32);
      assertBytes(m.signature, 'message.signature', 64);
      w.bytes(m.streamId).u32(m.groupSeq).u32(m.throughFrame).bytes(m.signature);
      break;
    case 'stream-report':
      checkStreamId(m.streamId, 'message.streamId');
      checkInt(m.viewers, 'message.viewers', 0, MAX_U32);
      checkInt(m.nodes, 'message.nodes', 0, 0xffff);
      w.bytes(m.streamId).u32(m.viewers).u16(m.nodes);
      writeCounter(w, m.bytesIn, 'message.bytesIn');
      writeCounter(w, m.bytesOut, 'message.bytesOut');
      writeCounter(w, m.framesDropped, 'message.framesDropped');
      break;
    case 'usage-report': {
      assertBytes(m.sessionId, 'message.sessionId', SESSION_ID_LENGTH);
      const role = m.role === 'viewer' ? 1 : m.role === 'distribution' ? 2 : 0;
      if (role === 0) throw new RangeError(`message.role must be 'viewer' or 'distribution', got ${String(m.role)}`);
      checkCounter(m.periodStart, 'message.periodStart');
      checkCounter(m.periodEnd, 'message.periodEnd');
      if (m.periodEnd < m.periodStart) throw new RangeError('message.periodEnd must not be before message.periodStart');
      w.bytes(m.sessionId).u8(role);
      writeCounter(w, m.periodStart, 'message.periodStart');
      writeCounter(w, m.periodEnd, 'message.periodEnd');
      writeCounter(w, m.downBytes, 'message.downBytes');
      writeCounter(w, m.upBytes, 'message.upBytes');
      break;
    }
    case 'attach-distribution':
      checkStreamId(m.streamId, 'message.streamId');
      assertBytes(m.node, 'message.node', 32);
      assertBytes(m.parent, 'message.parent', 32);
      if (toHex(m.node) === toHex(m.parent)) throw new RangeError('message.parent must differ from message.node');
      checkInt(m.capacity, 'message.capacity', 1, MAX_U32);
      w.bytes(m.streamId).bytes(m.node).bytes(m.parent);
      writeAddress(w, m.parentAddress, 'message.parentAddress');
      w.u32(m.capacity);
      break;
    case 'detach-distribution':
      checkStreamId(m.streamId, 'message.streamId');
      assertBytes(m.node, 'message.node', 32);
      w.bytes(m.streamId).bytes(m.node);
      break;
    case 'challenge-request':
      break;
    case 'challenge':
      checkEmbedded(m.challenge, 'message.challenge', parsePuzzleChallenge, PUZZLE_CHALLENGE_LENGTH);
      w.bytes(m.challenge);
      break;
    case 'solution':
      checkEmbedded(m.challenge, 'message.challenge', parsePuzzleChallenge, PUZZLE_CHALLENGE_LENGTH);
      if (typeof m.nonce !== 'bigint') throw new TypeError('message.nonce must be a bigint');
      if (m.nonce < 0n || m.nonce > 0xffffffffffffffffn) throw new RangeError('message.nonce must be in 0..2^64-1');
      w.bytes(m.challenge).u64(m.nonce);
      break;
    case 'viewer-id':
      checkEmbedded(m.viewerId, 'message.viewerId', parseViewerId, MAX_VIEWER_ID_LENGTH);
      w.bytes(m.viewerId);
      break;
    case 'receipt-request':
      checkParams(m.params, 'message.params');
      checkBoolean(m.public, 'message.public');
      assertBytes(m.credential, 'message.credential');
      if (m.credential.length > MAX_CREDENTIAL_LENGTH) {
        throw new RangeError(`message.credential must be at most ${MAX_CREDENTIAL_LENGTH} bytes, got ${m.credential.length}`);
      }
      w.u32(m.params.bitrate).u32(m.params.maxViewers).u8(m.public ? 1 : 0).u16(m.credential.length).bytes(m.credential);
      break;
    case 'receipt':
      checkEmbedded(m.receipt, 'message.receipt', parseReceipt, MAX_RECEIPT_LENGTH);
      w.bytes(m.receipt);
      break;
  }
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Decoding

function readStreamId(r: Reader): Uint8Array {
  return r.bytes(STREAM_ID_LENGTH, 'streamId').slice();
}

function readPositiveU32(r: Reader, what: string, field: string): number {
  const v = r.u32(field);
  if (v === 0) throw fail('malformed', `${what}: ${field} is 0`);
  return v;
}

/**
 * Decodes one stream message. With `accept`, a message of another kind is refused with
 * 'unknown-type' before its fields are read (a party takes only what its role receives).
 * Throws StreamError.
 */
export function decodeStreamMessage(bytes: Uint8Array, accept?: readonly StreamMessageKind[]): StreamMessage {
  checkInput(bytes, 'bytes');
  if (accept !== undefined && !Array.isArray(accept)) throw new TypeError('accept must be an array of message kinds');
  const what = 'stream message';
  if (bytes.length > MAX_STREAM_MESSAGE_LENGTH) throw fail('malformed', `${what} of ${bytes.length} bytes is too long`);
  const r = dec.reader(bytes, what);
  const code = r.u8('type');
  const kind = KIND_OF_CODE.get(code);
  if (kind === undefined) throw fail('unknown-type', `${what}: type 0x${code.toString(16).padStart(2, '0')} is not defined`);
  if (accept !== undefined && !accept.includes(kind)) throw fail('unknown-type', `${what}: ${kind} is not accepted here`);
  const w = `${kind} message`;
  let out: StreamMessage;
  switch (kind) {
    case 'create-stream': {
      const receiptLength = r.u16('receipt length');
      if (receiptLength > MAX_RECEIPT_LENGTH) throw fail('malformed', `${w}: receipt of ${receiptLength} bytes is too long`);
      const receipt = r.bytes(receiptLength, 'receipt').slice();
      parseReceipt(receipt);
      const bitrate = readPositiveU32(r, w, 'bitrate');
      const maxViewers = readPositiveU32(r, w, 'maxViewers');
      const n = r.u8('distribution count');
      if (n > MAX_OFFERED_NODES) throw fail('malformed', `${w}: ${n} distribution nodes, at most ${MAX_OFFERED_NODES}`);
      const distribution: DistributionOffer[] = [];
      const seen = new Set<string>();
      for (let i = 0; i < n; i++) {
        const identity = r.bytes(32, `distribution ${i} identity`).slice();
        const address = readAddress(r, `${w} distribution ${i}`);
        const k = toHex(identity);
        if (seen.has(k)) throw fail('malformed', `${w}: distribution node ${i} repeats an earlier node`);
        seen.add(k);
        distribution.push({ identity, address });
      }
      let pub: PublicMetadata | null = null;
      if (readFlag(r, 'public')) {
        const title = readText(r, TITLE_FIELD, `${w} title`);
        const description = readText(r, DESCRIPTION_FIELD, `${w} description`);
        const keys = readStreamKeys(r, `${w} keys`);
        pub = { title, description, keys };
      }
      out = { type: 'create-stream', receipt, params: { bitrate, maxViewers }, distribution, public: pub };
      break;
    }
    case 'created':
    case 'end-stream':
    case 'joined':
    case 'leave':
    case 'relay-join':
      out = { type: kind, streamId: readStreamId(r) };
      break;
    case 'join': {
      const streamId = readStreamId(r);
      const len = r.u16('viewer ID length');
      if (len > MAX_VIEWER_ID_LENGTH) throw fail('malformed', `${w}: viewer ID of ${len} bytes is too long`);
      const viewerId = r.bytes(len, 'viewer ID').slice();
      parseViewerId(viewerId);
      out = { type: 'join', streamId, viewerId };
      break;
    }
    case 'refused': {
      const reasonCode = r.u8('reason');
      const reason = REFUSE_REASONS[reasonCode];
      if (reason === undefined) throw fail('malformed', `${w}: reason ${reasonCode} is not defined`);
      const streamId = readFlag(r, 'hasStream') ? readStreamId(r) : null;
      out = { type: 'refused', reason, streamId };
      break;
    }
    case 'redirect': {
      const streamId = readStreamId(r);
      const node = r.bytes(32, 'node').slice();
      const address = readAddress(r, `${w} address`);
      out = { type: 'redirect', streamId, node, address };
      break;
    }
    case 'viewer-change': {
      const streamId = readStreamId(r);
      const sessionId = r.bytes(SESSION_ID_LENGTH, 'sessionId').slice();
      out = { type: 'viewer-change', streamId, sessionId, present: readFlag(r, 'present') };
      break;
    }
    case 'media': {
      const streamId = readStreamId(r);
      const groupSeq = r.u32('groupSeq');
      const frameSeq = r.u32('frameSeq');
      const flags = r.u8('flags');
      if (flags > 1) throw fail('malformed', `${w}: unknown flags 0x${flags.toString(16)}`);
      const keyframe = flags === 1;
      if (keyframe !== (frameSeq === 0)) throw fail('malformed', `${w}: keyframe flag ${flags} with frameSeq ${frameSeq} (a group begins with its keyframe)`);
      const part = r.u8('part');
      const parts = r.u8('parts');
      if (parts < 1 || parts > MAX_FRAME_PARTS) throw fail('malformed', `${w}: parts ${parts} outside 1..${MAX_FRAME_PARTS}`);
      if (part >= parts) throw fail('malformed', `${w}: part ${part} of ${parts}`);
      const payload = r.rest().slice();
      if (payload.length === 0) throw fail('malformed', `${w}: empty payload`);
      out = { type: 'media', streamId, groupSeq, frameSeq, keyframe, part, parts, payload };
      break;
    }
    case 'group-signature': {
      const streamId = readStreamId(r);
      const groupSeq = r.u32('groupSeq');
      const throughFrame = r.u32('throughFrame');
      const signature = r.bytes(64, 'signature').slice();
      out = { type: 'group-signature', streamId, groupSeq, throughFrame, signature };
      break;
    }
    case 'stream-report': {
      const streamId = readStreamId(r);
      const viewers = r.u32('viewers');
      const nodes = r.u16('nodes');
      const bytesIn = readCounter(r, `${w} bytesIn`);
      const bytesOut = readCounter(r, `${w} bytesOut`);
      const framesDropped = readCounter(r, `${w} framesDropped`);
      out = { type: 'stream-report', streamId, viewers, nodes, bytesIn, bytesOut, framesDropped };
      break;
    }
    case 'usage-report': {
      const sessionId = r.bytes(SESSION_ID_LENGTH, 'sessionId').slice();
      const roleCode = r.u8('role');
      if (roleCode !== 1 && roleCode !== 2) throw fail('malformed', `${w}: role ${roleCode} is not defined`);
      const periodStart = readCounter(r, `${w} periodStart`);
      const periodEnd = readCounter(r, `${w} periodEnd`);
      if (periodEnd < periodStart) throw fail('malformed', `${w}: period ends before it starts`);
      const downBytes = readCounter(r, `${w} downBytes`);
      const upBytes = readCounter(r, `${w} upBytes`);
      out = { type: 'usage-report', sessionId, role: roleCode === 1 ? 'viewer' : 'distribution', periodStart, periodEnd, downBytes, upBytes };
      break;
    }
    case 'attach-distribution': {
      const streamId = readStreamId(r);
      const node = r.bytes(32, 'node').slice();
      const parent = r.bytes(32, 'parent').slice();
      if (toHex(node) === toHex(parent)) throw fail('malformed', `${w}: a node cannot be its own parent`);
      const parentAddress = readAddress(r, `${w} parent address`);
      const capacity = readPositiveU32(r, w, 'capacity');
      out = { type: 'attach-distribution', streamId, node, parent, parentAddress, capacity };
      break;
    }
    case 'detach-distribution': {
      const streamId = readStreamId(r);
      out = { type: 'detach-distribution', streamId, node: r.bytes(32, 'node').slice() };
      break;
    }
    case 'challenge-request':
      out = { type: 'challenge-request' };
      break;
    case 'challenge': {
      const challenge = r.bytes(PUZZLE_CHALLENGE_LENGTH, 'challenge').slice();
      parsePuzzleChallenge(challenge);
      out = { type: 'challenge', challenge };
      break;
    }
    case 'solution': {
      const challenge = r.bytes(PUZZLE_CHALLENGE_LENGTH, 'challenge').slice();
      parsePuzzleChallenge(challenge);
      out = { type: 'solution', challenge, nonce: r.u64('nonce') };
      break;
    }
    case 'viewer-id': {
      const viewerId = r.rest().slice();
      parseViewerId(viewerId);
      out = { type: 'viewer-id', viewerId };
      break;
    }
    case 'receipt-request': {
      const bitrate = readPositiveU32(r, w, 'bitrate');
      const maxViewers = readPositiveU32(r, w, 'maxViewers');
      const pub = readFlag(r, 'public');
      const len = r.u16('credential length');
      if (len > MAX_CREDENTIAL_LENGTH) throw fail('malformed', `${w}: credential of ${len} bytes is too long`);
      const credential = r.bytes(len, 'credential').slice();
      out = { type: 'receipt-request', params: { bitrate, maxViewers }, public: pub, credential };
      break;
    }
    case 'receipt': {
      const receipt = r.rest().slice();
      parseReceipt(receipt);
      out = { type: 'receipt', receipt };
      break;
    }
  }
  dec.expectEnd(r, what);
  return out;
}

/** Encodes a media packet (shorthand for encodeStreamMessage). */
export function encodeMediaPacket(packet: Omit<MediaPacket, 'type'>): Uint8Array {
  checkObject(packet, 'packet');
  return encodeStreamMessage({ ...packet, type: 'media' });
}
