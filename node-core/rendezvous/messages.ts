/**
 * The wire formats of introductions and offline mailboxes at presence nodes (seed 004 §7.1:
 * "limiting the amount of creation requests … allowing node to be able to request cancellation
 * … specify the rate limit … capping the amount of channels … The client should be notified
 * about reaching the cap"; PSP reference application/forwardpresence.md and
 * forwardpresenceresult.md, whose protobuf payloads are replaced by the strict binary codecs
 * below). All integers are big-endian; every decoder refuses trailing bytes and out-of-range
 * values and throws only PresenceMessageError.
 *
 * Event 5 ForwardPresence (application message Request from the introducer's circuit):
 *   request body  = the introduction envelope exactly as sealIntroduction made it
 *   response body = outcome u8: 0 accepted, 1 denied, 2 offline, 3 busy, 4 rate-limited,
 *                   5 timeout, 6 replayed, 7 unknown-recipient, 8 cancelled
 *   A Notice with an empty body cancels every pending introduction of that circuit.
 *
 * Event 4000 PresenceControl (over the owner's announcing circuit):
 *   requests (owner → node)      0x01 settings       maxPending u16 (1..1024) | perMinute u16 (1..6000)
 *                                0x02 decision       handle u32 | accept u8 (0/1)
 *                                0x03 mailbox-fetch  max u16 (≥ 1)
 *                                0x04 mailbox-ack    count u16 (1..1024) | count × id (32), distinct
 *   responses                    0x00 ok
 *                                0x83 items          count u16 | count × { id 32 | length u32 | item }
 *                                                    where id = SHA-256(item), ids distinct
 *   notices (node → owner)       0x81 introduction   handle u32 | envelope
 *                                0x82 cancelled      handle u32
 *                                0x84 cap-reached    pending u16 | cap u16 | refused u32
 *                                0x85 mailbox-waiting count u16
 *
 * Event 4001 Mailbox (Request from a depositor's circuit):
 *   request  0x01 deposit  recipient identity key (32) | sealed mailbox item (mailbox.ts)
 *   response 0x00 ok (refusals are the router's error answers: Refused, NotFound, Malformed)
 *
 * Envelopes and items are checked only as far as a presence node can: the outer fields of the
 * sealed envelope (version, keys, lengths). Every message must fit one application message
 * (node-core/circuit/fragment.ts MAX_MESSAGE_LENGTH, minus the 7-byte header).
 *
 * Does not: open envelopes (introduction.ts, mailbox.ts), keep state (forwarder.ts,
 * mailbox-store.ts), or send anything.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { MAX_MESSAGE_LENGTH } from '../circuit/fragment';
import { ENVELOPE_HEADER } from '../message/envelope';
import { CodedError, isCodedError } from '../util/coded-error';
import { assertBytes, equalBytes, Reader, toHex, Writer } from '../util/bytes';
import { INTRODUCTION_VERSION } from './introduction';
import { MAILBOX_ITEM_VERSION } from './mailbox';
import { parseSealedEnvelope, type SealedEnvelope, type SealFail } from './sealing';

// ---------------------------------------------------------------------------------------------
// Errors

export const PRESENCE_MESSAGE_ERROR_CODES = [
  /** Cut short, trailing bytes, a length or value out of range, a bad envelope. */
  'malformed',
  /** An envelope's version byte names a format this code does not know. */
  'unsupported-version',
  /** The leading type byte is not one this message may carry. */
  'unknown-type',
] as const;
export type PresenceMessageErrorCode = (typeof PRESENCE_MESSAGE_ERROR_CODES)[number];

export class PresenceMessageError extends CodedError<PresenceMessageErrorCode> {
  override readonly name = 'PresenceMessageError';
}

/** True when `e` is a PresenceMessageError (optionally with the given code). */
export function isPresenceMessageError(e: unknown, code?: PresenceMessageErrorCode): e is PresenceMessageError {
  return isCodedError(PresenceMessageError, e, code);
}

const fail = (code: PresenceMessageErrorCode, message: string): PresenceMessageError => new PresenceMessageError(code, message);
const sealFail: SealFail = (code, message) => fail(code === 'unsupported-version' ? code : 'malformed', message);

function reader(bytes: Uint8Array, what: string): Reader {
  return new Reader(bytes, (field) => fail('malformed', `${what}: input ends inside ${field}`));
}

function expectEnd(r: Reader, what: string): void {
  if (r.remaining !== 0) throw fail('malformed', `${what}: ${r.remaining} unexpected trailing bytes`);
}

// ---------------------------------------------------------------------------------------------
// Limits

/** The largest body of one application message. */
export const MAX_PRESENCE_BODY_LENGTH = MAX_MESSAGE_LENGTH - ENVELOPE_HEADER;
/** The largest introduction envelope a presence node forwards: it must fit notice 0x81 (type | handle). */
export const MAX_INTRODUCTION_ENVELOPE_LENGTH = MAX_PRESENCE_BODY_LENGTH - 5;
/** The largest mailbox item: one must fit a fetch answer (type | count | id | length). */
export const MAX_MAILBOX_ITEM_LENGTH = MAX_PRESENCE_BODY_LENGTH - 3 - 36;
export const MIN_MAX_PENDING = 1;
export const MAX_MAX_PENDING = 1024;
export const MIN_PER_MINUTE = 1;
export const MAX_PER_MINUTE = 6000;
/** Most ids one mailbox-ack may carry. */
export const MAX_ACK_IDS = 1024;
export const MAILBOX_ITEM_ID_LENGTH = 32;

// ---------------------------------------------------------------------------------------------
// Sealed envelopes as the node sees them

/**
 * The outer fields of an introduction envelope, checked as a presence node can: version,
 * keys, lengths, and at most MAX_INTRODUCTION_ENVELOPE_LENGTH bytes.
 */
export function parseIntroductionEnvelope(bytes: Uint8Array): SealedEnvelope {
  assertBytes(bytes, 'bytes');
  if (bytes.length > MAX_INTRODUCTION_ENVELOPE_LENGTH) {
    throw fail('malformed', `introduction envelope of ${bytes.length} bytes; at most ${MAX_INTRODUCTION_ENVELOPE_LENGTH}`);
  }
  return parseSealedEnvelope(bytes, { version: INTRODUCTION_VERSION, what: 'introduction envelope' }, sealFail);
}

/** The outer fields of a sealed mailbox item (at most MAX_MAILBOX_ITEM_LENGTH bytes). */
export function parseMailboxItemEnvelope(bytes: Uint8Array): SealedEnvelope {
  assertBytes(bytes, 'bytes');
  if (bytes.length > MAX_MAILBOX_ITEM_LENGTH) {
    throw fail('malformed', `mailbox item of ${bytes.length} bytes; at most ${MAX_MAILBOX_ITEM_LENGTH}`);
  }
  return parseSealedEnvelope(bytes, { version: MAILBOX_ITEM_VERSION, what: 'mailbox item' }, sealFail);
}

/** SHA-256 (FIPS 180-4) of a mailbox item's bytes: its id at presence nodes and for the owner. */
export function mailboxItemId(item: Uint8Array): Uint8Array {
  assertBytes(item, 'item');
  return sha256(item);
}

// ---------------------------------------------------------------------------------------------
// ForwardPresence outcome

/** Outcome names, indexed by their code on the wire. */
export const INTRODUCTION_OUTCOMES = [
  'accepted',
  'denied',
  /** No live owner circuit at this node. */
  'offline',
  /** The owner's cap (or the node's) on pending introductions is reached. */
  'busy',
  'rate-limited',
  /** The owner did not decide in time. */
  'timeout',
  /** The same introduction (by introductionId) was forwarded recently. */
  'replayed',
  'unknown-recipient',
  'cancelled',
] as const;
export type IntroductionOutcome = (typeof INTRODUCTION_OUTCOMES)[number];

export function encodeIntroductionOutcome(outcome: IntroductionOutcome): Uint8Array {
  const code = INTRODUCTION_OUTCOMES.indexOf(outcome);
  if (code < 0) throw new RangeError(`outcome must be one of ${INTRODUCTION_OUTCOMES.join(', ')}, got ${String(outcome)}`);
  return Uint8Array.of(code);
}

export function decodeIntroductionOutcome(bytes: Uint8Array): IntroductionOutcome {
  assertBytes(bytes, 'bytes');
  if (bytes.length !== 1) throw fail('malformed', `introduction outcome must be 1 byte, got ${bytes.length}`);
  const o = INTRODUCTION_OUTCOMES[bytes[0]!];
  if (o === undefined) throw fail('unknown-type', `introduction outcome ${bytes[0]} is not defined`);
  return o;
}

// ---------------------------------------------------------------------------------------------
// PresenceControl

export const ControlType = Object.freeze({
  Ok: 0x00,
  Settings: 0x01,
  Decision: 0x02,
  MailboxFetch: 0x03,
  MailboxAck: 0x04,
  Introduction: 0x81,
  Cancelled: 0x82,
  MailboxItems: 0x83,
  CapReached: 0x84,
  MailboxWaiting: 0x85,
} as const);

export interface PresenceSettings {
  /** Introductions waiting for the owner's decision at once (1..1024). */
  maxPending: number;
  /** Introductions forwarded per minute (1..6000). */
  perMinute: number;
}

export type ControlRequest =
  | ({ type: 'settings' } & PresenceSettings)
  | { type: 'decision'; handle: number; accept: boolean }
  | { type: 'mailbox-fetch'; max: number }
  | { type: 'mailbox-ack'; ids: Uint8Array[] };

export interface MailboxEntry {
  /** SHA-256 of `bytes`. */
  id: Uint8Array;
  /** The sealed item. */
  bytes: Uint8Array;
}

export type ControlResponse = { type: 'ok' } | { type: 'mailbox-items'; items: MailboxEntry[] };

export interface CapReached {
  /** Introductions pending for the owner when the notice was made. */
  pending: number;
  /** The owner's cap on pending introductions. */
  cap: number;
  /** Introductions refused (busy or rate-limited) since the previous such notice. */
  refused: number;
}

export type ControlNotice =
  | { type: 'introduction'; handle: number; envelope: Uint8Array }
  | { type: 'cancelled'; handle: number }
  | ({ type: 'cap-reached' } & CapReached)
  | { type: 'mailbox-waiting'; count: number };

function checkInt(v: unknown, name: string, min: number, max: number): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${String(v)}`);
  }
}

function checkObject(v: unknown, name: string): void {
  if (typeof v !== 'object' || v === null) throw new TypeError(`${name} must be an object`);
}

/** Checks a list of distinct 32-byte item ids (1..MAX_ACK_IDS). */
function checkIds(ids: unknown, name: string): asserts ids is Uint8Array[] {
  if (!Array.isArray(ids)) throw new TypeError(`${name} must be an array of 32-byte ids`);
  checkInt(ids.length, `${name}.length`, 1, MAX_ACK_IDS);
  const seen = new Set<string>();
  ids.forEach((id: unknown, i) => {
    assertBytes(id, `${name}[${i}]`, MAILBOX_ITEM_ID_LENGTH);
    const h = toHex(id);
    if (seen.has(h)) throw new RangeError(`${name}[${i}] is listed twice`);
    seen.add(h);
  });
}

function checkSettings(s: PresenceSettings, name: string): void {
  checkInt(s.maxPending, `${name}.maxPending`, MIN_MAX_PENDING, MAX_MAX_PENDING);
  checkInt(s.perMinute, `${name}.perMinute`, MIN_PER_MINUTE, MAX_PER_MINUTE);
}

export function encodeControlRequest(req: ControlRequest): Uint8Array {
  checkObject(req, 'request');
  switch (req.type) {
    case 'settings':
      checkSettings(req, 'request');
      return new Writer().u8(ControlType.Settings).u16(req.maxPending).u16(req.perMinute).finish();
    case 'decision':
      checkInt(req.handle, 'request.handle', 0, 0xffffffff);
      if (typeof req.accept !== 'boolean') throw new TypeError('request.accept must be a boolean');
      return new Writer().u8(ControlType.Decision).u32(req.handle).u8(req.accept ? 1 : 0).finish();
    case 'mailbox-fetch':
      checkInt(req.max, 'request.max', 1, 0xffff);
      return new Writer().u8(ControlType.MailboxFetch).u16(req.max).finish();
    case 'mailbox-ack': {
      checkIds(req.ids, 'request.ids');
      const w = new Writer().u8(ControlType.MailboxAck).u16(req.ids.length);
      for (const id of req.ids) w.bytes(id);
      return w.finish();
    }
    default:
      throw new RangeError(`request.type ${String((req as { type: unknown }).type)} is not a PresenceControl request`);
  }
}

export function decodeControlRequest(bytes: Uint8Array): ControlRequest {
  assertBytes(bytes, 'bytes');
  const what = 'presence control request';
  const r = reader(bytes, what);
  const type = r.u8('type');
  let out: ControlRequest;
  switch (type) {
    case ControlType.Settings: {
      const maxPending = r.u16('maxPending');
      const perMinute = r.u16('perMinute');
      if (maxPending < MIN_MAX_PENDING || maxPending > MAX_MAX_PENDING) {
        throw fail('malformed', `${what}: maxPending ${maxPending} outside ${MIN_MAX_PENDING}..${MAX_MAX_PENDING}`);
      }
      if (perMinute < MIN_PER_MINUTE || perMinute > MAX_PER_MINUTE) {
        throw fail('malformed', `${what}: perMinute ${perMinute} outside ${MIN_PER_MINUTE}..${MAX_PER_MINUTE}`);
      }
      out = { type: 'settings', maxPending, perMinute };
      break;
    }
    case ControlType.Decision: {
      const handle = r.u32('handle');
      const accept = r.u8('accept');
      if (accept > 1) throw fail('malformed', `${what}: accept must be 0 or 1, got ${accept}`);
      out = { type: 'decision', handle, accept: accept === 1 };
      break;
    }
    case ControlType.MailboxFetch: {
      const max = r.u16('max');
      if (max === 0) throw fail('malformed', `${what}: fetch of 0 items`);
      out = { type: 'mailbox-fetch', max };
      break;
    }
    case ControlType.MailboxAck: {
      const n = r.u16('count');
      if (n === 0 || n > MAX_ACK_IDS) throw fail('malformed', `${what}: ${n} ids; 1..${MAX_ACK_IDS} allowed`);
      const ids: Uint8Array[] = [];
      const seen = new Set<string>();
      for (let i = 0; i < n; i++) {
        const id = r.bytes(MAILBOX_ITEM_ID_LENGTH, `id ${i}`).slice();
        const h = toHex(id);
        if (seen.has(h)) throw fail('malformed', `${what}: id ${i} is listed twice`);
        seen.add(h);
        ids.push(id);
      }
      out = { type: 'mailbox-ack', ids };
      break;
    }
    default:
      throw fail('unknown-type', `${what}: type 0x${type.toString(16).padStart(2, '0')} is not a request`);
  }
  expectEnd(r, what);
  return out;
}

export function encodeControlResponse(res: ControlResponse): Uint8Array {
  checkObject(res, 'response');
  if (res.type === 'ok') return Uint8Array.of(ControlType.Ok);
  if (res.type !== 'mailbox-items') {
    throw new RangeError(`response.type ${String((res as { type: unknown }).type)} is not a PresenceControl response`);
  }
  if (!Array.isArray(res.items)) throw new TypeError('response.items must be an array');
  checkInt(res.items.length, 'response.items.length', 0, 0xffff);
  const w = new Writer().u8(ControlType.MailboxItems).u16(res.items.length);
  let size = 3;
  const seen = new Set<string>();
  res.items.forEach((e, i) => {
    checkObject(e, `response.items[${i}]`);
    assertBytes(e.id, `response.items[${i}].id`, MAILBOX_ITEM_ID_LENGTH);
    assertBytes(e.bytes, `response.items[${i}].bytes`);
    if (e.bytes.length > MAX_MAILBOX_ITEM_LENGTH) {
      throw new RangeError(`response.items[${i}].bytes is ${e.bytes.length} bytes; at most ${MAX_MAILBOX_ITEM_LENGTH}`);
    }
    if (!equalBytes(e.id, sha256(e.bytes))) throw new RangeError(`response.items[${i}].id is not the SHA-256 of its bytes`);
    const h = toHex(e.id);
    if (seen.has(h)) throw new RangeError(`response.items[${i}] repeats an earlier item`);
    seen.add(h);
    size += 36 + e.bytes.length;
    w.bytes(e.id).u32(e.bytes.length).bytes(e.bytes);
  });
  if (size > MAX_PRESENCE_BODY_LENGTH) {
    throw new RangeError(`response.items take ${size} bytes; one message carries at most ${MAX_PRESENCE_BODY_LENGTH}`);
  }
  return w.finish();
}

export function decodeControlResponse(bytes: Uint8Array): ControlResponse {
  assertBytes(bytes, 'bytes');
  const what = 'presence control response';
  if (bytes.length > MAX_PRESENCE_BODY_LENGTH) throw fail('malformed', `${what} of ${bytes.length} bytes is too long`);
  const r = reader(bytes, what);
  const type = r.u8('type');
  if (type === ControlType.Ok) {
    expectEnd(r, what);
    return { type: 'ok' };
  }
  if (type !== ControlType.MailboxItems) {
    throw fail('unknown-type', `${what}: type 0x${type.toString(16).padStart(2, '0')} is not a response`);
  }
  const n = r.u16('count');
  const items: MailboxEntry[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const id = r.bytes(MAILBOX_ITEM_ID_LENGTH, `item ${i} id`).slice();
    const len = r.u32(`item ${i} length`);
    if (len > MAX_MAILBOX_ITEM_LENGTH) throw fail('malformed', `${what}: item ${i} of ${len} bytes; at most ${MAX_MAILBOX_ITEM_LENGTH}`);
    const item = r.bytes(len, `item ${i}`).slice();
    // The id is the item's hash: a node cannot hand out one item under another's id.
    if (!equalBytes(id, sha256(item))) throw fail('malformed', `${what}: item ${i} does not match its id`);
    const h = toHex(id);
    if (seen.has(h)) throw fail('malformed', `${what}: item ${i} repeats an earlier item`);
    seen.add(h);
    items.push({ id, bytes: item });
  }
  expectEnd(r, what);
  return { type: 'mailbox-items', items };
}

export function encodeControlNotice(notice: ControlNotice): Uint8Array {
  checkObject(notice, 'notice');
  switch (notice.type) {
    case 'introduction':
      checkInt(notice.handle, 'notice.handle', 0, 0xffffffff);
      assertBytes(notice.envelope, 'notice.envelope');
      try {
        parseIntroductionEnvelope(notice.envelope);
      } catch (e) {
        if (e instanceof PresenceMessageError) throw new RangeError(`notice.envelope: ${e.message}`);
        throw e;
      }
      return new Writer().u8(ControlType.Introduction).u32(notice.handle).bytes(notice.envelope).finish();
    case 'cancelled':
      checkInt(notice.handle, 'notice.handle', 0, 0xffffffff);
      return new Writer().u8(ControlType.Cancelled).u32(notice.handle).finish();
    case 'cap-reached':
      checkInt(notice.pending, 'notice.pending', 0, 0xffff);
      checkInt(notice.cap, 'notice.cap', 0, 0xffff);
      checkInt(notice.refused, 'notice.refused', 0, 0xffffffff);
      return new Writer().u8(ControlType.CapReached).u16(notice.pending).u16(notice.cap).u32(notice.refused).finish();
    case 'mailbox-waiting':
      checkInt(notice.count, 'notice.count', 0, 0xffff);
      return new Writer().u8(ControlType.MailboxWaiting).u16(notice.count).finish();
    default:
      throw new RangeError(`notice.type ${String((notice as { type: unknown }).type)} is not a PresenceControl notice`);
  }
}

export function decodeControlNotice(bytes: Uint8Array): ControlNotice {
  assertBytes(bytes, 'bytes');
  const what = 'presence control notice';
  const r = reader(bytes, what);
  const type = r.u8('type');
  let out: ControlNotice;
  switch (type) {
    case ControlType.Introduction: {
      const handle = r.u32('handle');
      const envelope = r.rest().slice();
      parseIntroductionEnvelope(envelope);
      out = { type: 'introduction', handle, envelope };
      break;
    }
    case ControlType.Cancelled:
      out = { type: 'cancelled', handle: r.u32('handle') };
      break;
    case ControlType.CapReached: {
      const pending = r.u16('pending');
      const cap = r.u16('cap');
      const refused = r.u32('refused');
      out = { type: 'cap-reached', pending, cap, refused };
      break;
    }
    case ControlType.MailboxWaiting:
      out = { type: 'mailbox-waiting', count: r.u16('count') };
      break;
    default:
      throw fail('unknown-type', `${what}: type 0x${type.toString(16).padStart(2, '0')} is not a notice`);
  }
  expectEnd(r, what);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Mailbox

export const MailboxType = Object.freeze({ Ok: 0x00, Deposit: 0x01 } as const);

export interface MailboxDeposit {
  type: 'deposit';
  /** The owner's Ed25519 identity key. */
  recipient: Uint8Array;
  /** The sealed mailbox item (mailbox.ts). */
  item: Uint8Array;
}

export function encodeMailboxRequest(req: MailboxDeposit): Uint8Array {
  checkObject(req, 'request');
  if (req.type !== 'deposit') throw new RangeError(`request.type ${String(req.type)} is not a Mailbox request`);
  assertBytes(req.recipient, 'request.recipient', 32);
  assertBytes(req.item, 'request.item');
  try {
    parseMailboxItemEnvelope(req.item);
  } catch (e) {
    if (e instanceof PresenceMessageError) throw new RangeError(`request.item: ${e.message}`);
    throw e;
  }
  return new Writer().u8(MailboxType.Deposit).bytes(req.recipient).bytes(req.item).finish();
}

export function decodeMailboxRequest(bytes: Uint8Array): MailboxDeposit {
  assertBytes(bytes, 'bytes');
  const what = 'mailbox request';
  const r = reader(bytes, what);
  const type = r.u8('type');
  if (type !== MailboxType.Deposit) throw fail('unknown-type', `${what}: type 0x${type.toString(16).padStart(2, '0')} is not a request`);
  const recipient = r.bytes(32, 'recipient').slice();
  const item = r.rest().slice();
  parseMailboxItemEnvelope(item);
  return { type: 'deposit', recipient, item };
}

/** The one successful answer of Mailbox and of most PresenceControl requests. */
export function encodeOk(): Uint8Array {
  return Uint8Array.of(0x00);
}

export function decodeMailboxResponse(bytes: Uint8Array): { type: 'ok' } {
  assertBytes(bytes, 'bytes');
  if (bytes.length !== 1) throw fail('malformed', `mailbox response must be 1 byte, got ${bytes.length}`);
  if (bytes[0] !== MailboxType.Ok) throw fail('unknown-type', `mailbox response type 0x${bytes[0]!.toString(16).padStart(2, '0')}`);
  return { type: 'ok' };
}
