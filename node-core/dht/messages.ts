/**
 * DHT messages (PSP reference dht/messages.md: FIND_NODE, PING and the value messages, there as
 * one protobuf `Message`; Kademlia §2.3 for the four RPCs). Here each message has its own strict
 * binary body; request ids and request/response matching belong to the envelope that carries
 * them (node-core/message/envelope.ts), not to these codecs.
 *
 *   message      = format u8 (1) | type u8 | body, nothing after the body
 *   PING (1)         nonce 8 | sender?
 *   PONG (2)         nonce 8
 *   FIND_NODE (3)    target 32 | sender?
 *   NODES (4)        count u8 (0..20) | contacts
 *   FIND_VALUE (5)   key 32 | sender?
 *   VALUE (6)        recordCount u8 (0..8) | recordCount × (length u16 | signed record)
 *                    | contactCount u8 (0..20) | contacts
 *   STORE (7)        length u16 | signed record | sender?
 *   STORE_RESULT (8) status u8 (0 stored, 1 unchanged, 2 refused) [| code u8 when refused: index
 *                    in DHT_ERROR_CODES]
 *   sender?          u8 0 (absent) | u8 1 followed by a contact — the requester's own contact, which
 *                    the receiver may add to its table only when the link proved that identity key
 *   contact          see contact.ts
 *
 * Decoders check the layout, the bounds (≤ 20 contacts, ≤ 8 records, record sizes), that no node
 * id appears twice in one answer and no record twice, and that each record parses (record.ts
 * `parseRecord`); they throw only DhtError. Contacts are not checked against the puzzle here, and
 * records are not verified: the receiver does both (lookup.ts, store.ts).
 *
 * Does not: carry request ids, or authenticate the sender (the link does).
 */
import { Writer, assertBytes, equalBytes } from '../util/bytes';
import { type Contact, MAX_CONTACT_LENGTH, readContact, writeContact } from './contact';
import { DHT_ERROR_CODES, DhtError } from './errors';
import { NODE_ID_LENGTH } from './id';
import { checkInput, expectEnd, idKey, readFormat, reader } from './internal';
import { MAX_SIGNED_RECORD_LENGTH, parseRecord } from './record';
import type { StoreResult } from './store';

export const DHT_MESSAGE_FORMAT = 1;
export const MAX_CONTACTS_PER_ANSWER = 20;
export const MAX_RECORDS_PER_ANSWER = 8;
export const PING_NONCE_LENGTH = 8;
/** The longest message: a VALUE with 8 records of the largest size and 20 of the largest contacts. */
export const MAX_DHT_MESSAGE_LENGTH =
  2 + 1 + MAX_RECORDS_PER_ANSWER * (2 + MAX_SIGNED_RECORD_LENGTH) + 1 + MAX_CONTACTS_PER_ANSWER * MAX_CONTACT_LENGTH;

export const DhtMessageType = Object.freeze({
  Ping: 1,
  Pong: 2,
  FindNode: 3,
  Nodes: 4,
  FindValue: 5,
  Value: 6,
  Store: 7,
  StoreResult: 8,
} as const);
export type DhtMessageType = (typeof DhtMessageType)[keyof typeof DhtMessageType];

export type DhtMessage =
  | { readonly type: 'ping'; readonly nonce: Uint8Array; readonly sender: Contact | null }
  | { readonly type: 'pong'; readonly nonce: Uint8Array }
  | { readonly type: 'find-node'; readonly target: Uint8Array; readonly sender: Contact | null }
  | { readonly type: 'nodes'; readonly contacts: readonly Contact[] }
  | { readonly type: 'find-value'; readonly key: Uint8Array; readonly sender: Contact | null }
  /** `records` are signed records (record.ts layout), unverified. */
  | { readonly type: 'value'; readonly records: readonly Uint8Array[]; readonly contacts: readonly Contact[] }
  | { readonly type: 'store'; readonly record: Uint8Array; readonly sender: Contact | null }
  | { readonly type: 'store-result'; readonly result: StoreResult };

export type DhtRequest = Extract<DhtMessage, { type: 'ping' | 'find-node' | 'find-value' | 'store' }>;
export type DhtResponse = Extract<DhtMessage, { type: 'pong' | 'nodes' | 'value' | 'store-result' }>;

const STORE_STATUS = { stored: 0, unchanged: 1, refused: 2 } as const;

function writeSender(w: Writer, sender: Contact | null | undefined, name: string): void {
  if (sender === null || sender === undefined) {
    w.u8(0);
    return;
  }
  w.u8(1);
  writeContact(w, sender, name);
}

function writeContacts(w: Writer, contacts: unknown, name: string): void {
  if (!Array.isArray(contacts)) throw new TypeError(`${name} must be an array`);
  if (contacts.length > MAX_CONTACTS_PER_ANSWER) throw new RangeError(`${name} must hold at most ${MAX_CONTACTS_PER_ANSWER} contacts, got ${contacts.length}`);
  const seen = new Set<string>();
  w.u8(contacts.length);
  contacts.forEach((c: Contact, i) => {
    writeContact(w, c, `${name}[${i}]`);
    const k = idKey(c.nodeId);
    if (seen.has(k)) throw new RangeError(`${name}[${i}] repeats an earlier node id`);
    seen.add(k);
  });
}

function writeRecord(w: Writer, record: unknown, name: string): void {
  assertBytes(record, name);
  if (record.length > MAX_SIGNED_RECORD_LENGTH) throw new RangeError(`${name} must be at most ${MAX_SIGNED_RECORD_LENGTH} bytes, got ${record.length}`);
  try {
    parseRecord(record);
  } catch (e) {
    if (e instanceof DhtError) throw new RangeError(`${name} is not a signed record: ${e.message}`);
    throw e;
  }
  w.u16(record.length).bytes(record);
}

/** Encodes a DHT message. TypeError/RangeError naming the field on anything unencodable. */
export function encodeDhtMessage(m: DhtMessage): Uint8Array {
  if (typeof m !== 'object' || m === null) throw new TypeError('message must be an object');
  const w = new Writer().u8(DHT_MESSAGE_FORMAT);
  switch (m.type) {
    case 'ping':
      assertBytes(m.nonce, 'message.nonce', PING_NONCE_LENGTH);
      w.u8(DhtMessageType.Ping).bytes(m.nonce);
      writeSender(w, m.sender, 'message.sender');
      break;
    case 'pong':
      assertBytes(m.nonce, 'message.nonce', PING_NONCE_LENGTH);
      w.u8(DhtMessageType.Pong).bytes(m.nonce);
      break;
    case 'find-node':
      assertBytes(m.target, 'message.target', NODE_ID_LENGTH);
      w.u8(DhtMessageType.FindNode).bytes(m.target);
      writeSender(w, m.sender, 'message.sender');
      break;
    case 'nodes':
      w.u8(DhtMessageType.Nodes);
      writeContacts(w, m.contacts, 'message.contacts');
      break;
    case 'find-value':
      assertBytes(m.key, 'message.key', 32);
      w.u8(DhtMessageType.FindValue).bytes(m.key);
      writeSender(w, m.sender, 'message.sender');
      break;
    case 'value': {
      w.u8(DhtMessageType.Value);
      if (!Array.isArray(m.records)) throw new TypeError('message.records must be an array');
      if (m.records.length > MAX_RECORDS_PER_ANSWER) throw new RangeError(`message.records must hold at most ${MAX_RECORDS_PER_ANSWER} records`);
      w.u8(m.records.length);
      m.records.forEach((r, i) => {
        writeRecord(w, r, `message.records[${i}]`);
        for (let j = 0; j < i; j++) if (equalBytes(m.records[j]!, r)) throw new RangeError(`message.records[${i}] repeats an earlier record`);
      });
      writeContacts(w, m.contacts, 'message.contacts');
      break;
    }
    case 'store':
      w.u8(DhtMessageType.Store);
      writeRecord(w, m.record, 'message.record');
      writeSender(w, m.sender, 'message.sender');
      break;
    case 'store-result': {
      const r = m.result;
      if (typeof r !== 'object' || r === null) throw new TypeError('message.result must be an object');
      w.u8(DhtMessageType.StoreResult);
      if (r.ok) {
        if (r.status !== 'stored' && r.status !== 'unchanged') throw new RangeError(`message.result.status must be 'stored' or 'unchanged'`);
        w.u8(STORE_STATUS[r.status]);
      } else {
        const code = DHT_ERROR_CODES.indexOf(r.code);
        if (code < 0) throw new RangeError(`message.result.code must be one of DHT_ERROR_CODES, got ${String(r.code)}`);
        w.u8(STORE_STATUS.refused).u8(code);
      }
      break;
    }
    default:
      throw new RangeError(`message.type ${String((m as { type: unknown }).type)} is not a DHT message type`);
  }
  return w.finish();
}

type R = ReturnType<typeof reader>;

function readSender(r: R, what: string): Contact | null {
  const flag = r.u8(`${what} sender flag`);
  if (flag === 0) return null;
  if (flag !== 1) throw new DhtError('malformed', `${what}: sender flag ${flag} is neither 0 nor 1`);
  return readContact(r, `${what} sender`);
}

function readContacts(r: R, what: string): Contact[] {
  const n = r.u8(`${what} contact count`);
  if (n > MAX_CONTACTS_PER_ANSWER) throw new DhtError('malformed', `${what}: ${n} contacts, at most ${MAX_CONTACTS_PER_ANSWER}`);
  const out: Contact[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const c = readContact(r, `${what} contact ${i}`);
    const k = idKey(c.nodeId);
    if (seen.has(k)) throw new DhtError('malformed', `${what}: contact ${i} repeats an earlier node id`);
    seen.add(k);
    out.push(c);
  }
  return out;
}

function readRecord(r: R, what: string): Uint8Array {
  const len = r.u16(`${what} length`);
  if (len > MAX_SIGNED_RECORD_LENGTH) throw new DhtError('oversize', `${what}: ${len} bytes, at most ${MAX_SIGNED_RECORD_LENGTH}`);
  const bytes = r.bytes(len, what).slice();
  parseRecord(bytes);
  return bytes;
}

/** Decodes a DHT message. Throws only DhtError (TypeError for a non-Uint8Array). */
export function decodeDhtMessage(bytes: Uint8Array): DhtMessage {
  checkInput(bytes, 'bytes');
  if (bytes.length > MAX_DHT_MESSAGE_LENGTH) throw new DhtError('oversize', `DHT message of ${bytes.length} bytes, at most ${MAX_DHT_MESSAGE_LENGTH}`);
  const what = 'DHT message';
  const r = reader(bytes, what);
  readFormat(r, DHT_MESSAGE_FORMAT, what);
  const type = r.u8('type');
  let m: DhtMessage;
  switch (type) {
    case DhtMessageType.Ping:
      m = { type: 'ping', nonce: r.bytes(PING_NONCE_LENGTH, 'nonce').slice(), sender: readSender(r, 'PING') };
      break;
    case DhtMessageType.Pong:
      m = { type: 'pong', nonce: r.bytes(PING_NONCE_LENGTH, 'nonce').slice() };
      break;
    case DhtMessageType.FindNode:
      m = { type: 'find-node', target: r.bytes(NODE_ID_LENGTH, 'target').slice(), sender: readSender(r, 'FIND_NODE') };
      break;
    case DhtMessageType.Nodes:
      m = { type: 'nodes', contacts: readContacts(r, 'NODES') };
      break;
    case DhtMessageType.FindValue:
      m = { type: 'find-value', key: r.bytes(32, 'key').slice(), sender: readSender(r, 'FIND_VALUE') };
      break;
    case DhtMessageType.Value: {
      const n = r.u8('record count');
      if (n > MAX_RECORDS_PER_ANSWER) throw new DhtError('malformed', `VALUE: ${n} records, at most ${MAX_RECORDS_PER_ANSWER}`);
      const records: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        const rec = readRecord(r, `VALUE record ${i}`);
        if (records.some((x) => equalBytes(x, rec))) throw new DhtError('malformed', `VALUE: record ${i} repeats an earlier record`);
        records.push(rec);
      }
      m = { type: 'value', records, contacts: readContacts(r, 'VALUE') };
      break;
    }
    case DhtMessageType.Store: {
      const record = readRecord(r, 'STORE record');
      m = { type: 'store', record, sender: readSender(r, 'STORE') };
      break;
    }
    case DhtMessageType.StoreResult: {
      const status = r.u8('status');
      if (status === STORE_STATUS.stored) m = { type: 'store-result', result: { ok: true, status: 'stored' } };
      else if (status === STORE_STATUS.unchanged) m = { type: 'store-result', result: { ok: true, status: 'unchanged' } };
      else if (status === STORE_STATUS.refused) {
        const index = r.u8('code');
        const code = DHT_ERROR_CODES[index];
        if (code === undefined) throw new DhtError('malformed', `STORE_RESULT: unknown error code ${index}`);
        m = { type: 'store-result', result: { ok: false, code, message: `refused by the peer: ${code}` } };
      } else throw new DhtError('malformed', `STORE_RESULT: unknown status ${status}`);
      break;
    }
    default:
      throw new DhtError('malformed', `${what}: unknown type ${type}`);
  }
  expectEnd(r, what);
  return m;
}
