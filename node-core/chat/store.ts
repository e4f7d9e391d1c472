/**
 * ChatStore: where the chat protocol keeps everything that must survive a broken channel or a
 * restart, and what a chat UI reads. Two implementations pass one contract suite
 * (test/chat/store-contract.ts): MemoryChatStore (memory-store.ts, for tests and ephemeral
 * profiles) and SqliteChatStore (node-core/io/storage/chat-store.ts).
 *
 * The data:
 *   - per peer, a conversation: the two item streams' cursors (ConversationState);
 *   - items: every item either side put in its stream (frames.ts), with its seq, its send time
 *     and, for messages (text, file offers), a status; read receipts and file cancel/done items
 *     are items too, but not messages;
 *   - held items: incoming items that arrived ahead of a gap, stored until the gap is filled;
 *   - file transfers and their bytes; contacts.
 *
 * Rules every implementation follows (each method's comment has the details):
 *   - Every method is atomic: it applies fully or, when it throws, changes nothing.
 *   - `appendOutgoing` gives an item the next seq of our stream and stores it in one step.
 *   - `deliverIncoming` stores the next item of the peer's stream (and every held item it
 *     unblocks) together with the moved receive cursor, so an item is stored exactly once; any
 *     other seq changes nothing. Items are applied here (read receipts mark our messages read,
 *     file offers open a transfer, cancels end one), in the same step.
 *   - Statuses only move forward: pending → sent → delivered → read (outgoing), received → read
 *     (incoming).
 *   - Peers and ids are lower-case hex strings: a peer is its 32-byte Ed25519 key (64 digits),
 *     message and file ids are 16 bytes (32 digits).
 *   - Caller mistakes (a bad argument, an item that does not fit the stored state) throw
 *     TypeError or RangeError naming the parameter; storage failures throw the store's own
 *     error (StorageError for SQLite).
 *
 * Does not: enforce the protocol's windows or timers (Conversation does), or decide what to do
 * with a peer's frames.
 */
import { MAX_IDENTITY_LENGTH } from '../crypto/identity';
import { assertBytes, fromHex, toHex } from '../util/bytes';
import { checkTime } from '../util/codec';
import {
  type ChatItem,
  type FileCancelReason,
  ID_BYTES,
  MAX_CHUNK_BYTES,
  MAX_SEQ,
  MIN_CHUNK_BYTES,
  SHA256_BYTES,
  type SeqRange,
  fileNameProblem,
} from './frames';

/** Outgoing: pending → sent → delivered → read. Incoming: received → read. */
export type MessageStatus = 'pending' | 'sent' | 'delivered' | 'read' | 'received';
export type Direction = 'in' | 'out';

/** What a UI shows: a text or a file offer, in either direction. */
export interface ChatMessage {
  /** Hex of the 16 random bytes the sender chose. */
  readonly id: string;
  /** The other party's key, hex. */
  readonly peer: string;
  readonly direction: Direction;
  /** The item's seq in its sender's stream. */
  readonly seq: number;
  readonly kind: 'text' | 'file';
  readonly text?: string;
  readonly file?: { readonly fileId: string; readonly name: string; readonly size: number };
  /** The sender's clock when the message was written (ms). */
  readonly sentAt: number;
  /** Our clock when an incoming message was stored (ms). */
  readonly receivedAt?: number;
  readonly status: MessageStatus;
}

/** One stored item of either stream. */
export interface StoredItem {
  readonly seq: number;
  readonly direction: Direction;
  readonly item: ChatItem;
  readonly sentAt: number;
  readonly receivedAt?: number;
  readonly status: MessageStatus;
}

/** The cursors of one conversation; all zero (and `held` empty) for a peer never seen. */
export interface ConversationState {
  readonly peer: string;
  /** The highest seq given to an item of our stream (0: none yet). */
  readonly lastOutSeq: number;
  /** The peer acknowledged every item of our stream up to this seq. */
  readonly peerCumAck: number;
  /** Every item of the peer's stream up to this seq is stored (and was delivered, in order). */
  readonly recvCursor: number;
  /** Seqs of the peer's stream above recvCursor that are stored as held, ascending. */
  readonly held: readonly number[];
  /** The seq of the newest incoming message (text or file offer); 0 when none. */
  readonly lastInMessageSeq: number;
  /** We sent a read receipt up to this seq of the peer's stream. */
  readonly readUpTo: number;
  /** The peer's read receipts cover our stream up to this seq. */
  readonly peerReadUpTo: number;
}

/** A message whose status moved. */
export interface StatusChange {
  readonly id: string;
  readonly seq: number;
  readonly status: 'sent' | 'delivered' | 'read';
}

export type TransferState = 'preparing' | 'active' | 'complete' | 'failed' | 'cancelled';

/**
 * A file transfer. `out`: a file we offered; its bytes were copied into the store while it was
 * 'preparing' and it is 'active' once offered, until the peer reports it done ('complete') or
 * either side ends it. `in`: a file the peer offered; 'active' while we pull it, `bytes` counting
 * what is stored, in order from the start.
 */
export interface FileTransfer {
  readonly peer: string;
  readonly fileId: string;
  readonly direction: Direction;
  readonly messageId: string;
  readonly name: string;
  readonly size: number;
  readonly sha256: Uint8Array;
  readonly chunkSize: number;
  readonly bytes: number;
  readonly state: TransferState;
  /** Why a 'failed' or 'cancelled' transfer ended. */
  readonly reason?: FileCancelReason;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface NewOutgoingFile {
  readonly fileId: string;
  readonly messageId: string;
  readonly name: string;
  readonly size: number;
  readonly sha256: Uint8Array;
  readonly chunkSize: number;
}

export interface AppendResult {
  readonly item: StoredItem;
  /** The transfer the item changed (file offer, cancel, done). */
  readonly transfer?: FileTransfer;
}

export interface DeliverResult {
  /** The items stored by this call, in stream order (empty when the seq was not the next one). */
  readonly delivered: readonly StoredItem[];
  /** Our messages whose status moved (read receipts among the delivered items). */
  readonly statusChanges: readonly StatusChange[];
  /** Transfers the delivered items opened or changed. */
  readonly transfers: readonly FileTransfer[];
}

export interface Contact {
  readonly key: string;
  readonly name: string;
  /** The contact's identity string (`<namespace>.<app>.account.<base58 key>`), when known. */
  readonly identity?: string;
  readonly addedAt: number;
}

export interface ConversationSummary {
  readonly peer: string;
  /** The contact's name, when the peer is a contact. */
  readonly name?: string;
  /** The newest message of either direction. */
  readonly last?: ChatMessage;
  /** Incoming messages not yet marked read. */
  readonly unread: number;
}

export interface ListMessagesOptions {
  /** Only messages stored before the message with this id (paging back); default: the newest. */
  readonly before?: string;
  /** At most this many (1..1000). */
  readonly limit: number;
}

/** Options of {@link ChatStore.searchMessages}. */
export interface SearchMessagesOptions {
  /** Only this peer's conversation (hex key); default: every conversation. */
  readonly peer?: string;
  /** At most this many (1..1000). */
  readonly limit: number;
}

/** Longest search query, in UTF-16 code units. */
export const MAX_SEARCH_QUERY = 1024;

export interface ChatStore {
  // ---- the conversation engine -----------------------------------------------------------

  /** The conversation's cursors (all zero for an unknown peer; nothing is created). */
  conversationState(peer: string): Promise<ConversationState>;

  /**
   * Gives `item` the next seq of our stream and stores it as 'pending', in one step, applying
   * it: a file offer activates its prepared transfer (which must match it and be fully copied);
   * a read receipt (upTo ≤ recvCursor) marks incoming messages up to upTo read; a file cancel
   * ends our transfer of that file (role 'sender': our 'out' one, 'receiver': our 'in' one),
   * which must not have ended already; a file done completes our fully stored 'in' transfer.
   */
  appendOutgoing(peer: string, item: ChatItem, sentAt: number): Promise<AppendResult>;

  /** Our items with seq > afterSeq not yet acknowledged (pending or sent), oldest first, at most `limit`. */
  outgoing(peer: string, afterSeq: number, limit: number): Promise<StoredItem[]>;

  /** Marks the given items of our stream sent (pending ones only). */
  markSent(peer: string, seqs: readonly number[]): Promise<StatusChange[]>;

  /**
   * Marks our items up to `cumulative` and inside `ranges` delivered (pending or sent ones) and
   * moves peerCumAck up (never down). Acknowledging a seq above lastOutSeq is a RangeError.
   */
  applyAck(peer: string, cumulative: number, ranges: readonly SeqRange[]): Promise<StatusChange[]>;

  /**
   * Stores an item of the peer's stream that arrived ahead of a gap (seq ≥ recvCursor + 2).
   * Returns false, changing nothing, when that seq is already stored or held.
   */
  holdIncoming(peer: string, seq: number, sentAt: number, item: ChatItem): Promise<boolean>;

  /**
   * Stores the item with seq = recvCursor + 1, then every held item that follows without a gap,
   * moving recvCursor past them and applying each (see the header); any other seq changes
   * nothing and returns an empty result. An item whose effect names something unknown (a
   * cancel of a file we do not have, a read receipt beyond our stream) is stored without it.
   */
  deliverIncoming(peer: string, seq: number, sentAt: number, item: ChatItem, receivedAt: number): Promise<DeliverResult>;

  // ---- file transfers --------------------------------------------------------------------

  /** Opens an 'out' transfer in state 'preparing', with no bytes yet. */
  createOutgoingFile(peer: string, file: NewOutgoingFile, now: number): Promise<FileTransfer>;

  /**
   * Appends bytes at `offset` (which must equal the transfer's `bytes`) to a 'preparing' out or
   * an 'active' in transfer, never past its size. Durable when it resolves.
   */
  appendFileBytes(peer: string, fileId: string, direction: Direction, offset: number, data: Uint8Array, now: number): Promise<FileTransfer>;

  /** `length` stored bytes of a transfer from `offset` (within its stored bytes). */
  readFileBytes(peer: string, fileId: string, direction: Direction, offset: number, length: number): Promise<Uint8Array>;

  /** Removes a transfer that is still 'preparing', and its bytes. */
  discardFile(peer: string, fileId: string, direction: Direction): Promise<void>;

  transfer(peer: string, fileId: string, direction: Direction): Promise<FileTransfer | undefined>;

  /** Every transfer, or a peer's, oldest first. */
  transfers(peer?: string): Promise<FileTransfer[]>;

  // ---- what a UI reads -------------------------------------------------------------------

  /** Conversations with at least one message, the most recently active first. */
  listConversations(): Promise<ConversationSummary[]>;

  /** A page of a conversation's messages in the order they were stored, oldest first. */
  listMessages(peer: string, options: ListMessagesOptions): Promise<ChatMessage[]>;

  /**
   * Text messages of either direction whose text contains `query` (1..MAX_SEARCH_QUERY
   * characters), compared case-insensitively (both lower-cased with String#toLowerCase), newest
   * first (reverse storage order), at most `options.limit`. Reads only.
   */
  searchMessages(query: string, options: SearchMessagesOptions): Promise<ChatMessage[]>;

  /**
   * Adds a contact, or updates one's name (and identity string, when given), keeping when it
   * was added.
   */
  addContact(key: Uint8Array | string, name: string, identity?: string): Promise<Contact>;

  /** Every contact, by name. */
  contacts(): Promise<Contact[]>;

  /** Removes a contact (its conversation stays); false when it was not one. */
  removeContact(key: Uint8Array | string): Promise<boolean>;
}

// ---- shared rules, for the implementations (internal to node-core) ---------------------------

/** Long enough for an identity string used as a name. */
export const MAX_CONTACT_NAME = MAX_IDENTITY_LENGTH;

const HEX64 = /^[0-9a-f]{64}$/;
const HEX32 = /^[0-9a-f]{32}$/;

export function checkPeer(peer: unknown, name = 'peer'): asserts peer is string {
  if (typeof peer !== 'string') throw new TypeError(`${name} must be a string`);
  if (!HEX64.test(peer)) throw new RangeError(`${name} must be 64 lower-case hex digits (a 32-byte key)`);
}

export function checkId(id: unknown, name: string): asserts id is string {
  if (typeof id !== 'string') throw new TypeError(`${name} must be a string`);
  if (!HEX32.test(id)) throw new RangeError(`${name} must be 32 lower-case hex digits (16 bytes)`);
}

/** A contact key given as 32 bytes or as hex, as hex. */
export function contactKey(key: unknown, name = 'key'): string {
  if (key instanceof Uint8Array) {
    assertBytes(key, name, 32);
    return toHex(key);
  }
  checkPeer(key, name);
  return key;
}

export function checkContactName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new TypeError('name must be a string');
  if (name.trim().length === 0 || name.length > MAX_CONTACT_NAME) {
    throw new RangeError(`name must be 1..${MAX_CONTACT_NAME} characters, not only spaces`);
  }
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new RangeError('name must not contain control characters');
}

export function checkIdentityText(identity: unknown): asserts identity is string | undefined {
  if (identity === undefined) return;
  if (typeof identity !== 'string') throw new TypeError('identity must be a string');
  if (identity.length > MAX_IDENTITY_LENGTH || !/^[\x21-\x7e]+$/.test(identity)) {
    throw new RangeError(`identity must be 1..${MAX_IDENTITY_LENGTH} printable ASCII characters without spaces`);
  }
}

export function checkSeqArg(v: unknown, name: string, min = 0): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${name} must be an integer`);
  if (v < min || v > MAX_SEQ) throw new RangeError(`${name} must be in ${min}..${MAX_SEQ}, got ${v}`);
}

export function checkCount(v: unknown, name: string, max: number): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${name} must be an integer`);
  if (v < 1 || v > max) throw new RangeError(`${name} must be in 1..${max}, got ${v}`);
}

export function checkDirection(d: unknown): asserts d is Direction {
  if (d !== 'in' && d !== 'out') throw new RangeError("direction must be 'in' or 'out'");
}

export function checkOffset(v: unknown, name: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative safe integer`);
}

export { checkTime };

/** Checks acknowledgement ranges as a store receives them (ascending, disjoint, above cumulative). */
export function checkAckArgs(cumulative: unknown, ranges: unknown, lastOutSeq: number): asserts ranges is readonly SeqRange[] {
  checkSeqArg(cumulative, 'cumulative');
  if (!Array.isArray(ranges)) throw new TypeError('ranges must be an array');
  if (cumulative > lastOutSeq) throw new RangeError(`cumulative ${cumulative} acknowledges items never sent (the last is ${lastOutSeq})`);
  let floor = cumulative + 1;
  ranges.forEach((r: unknown, i) => {
    if (typeof r !== 'object' || r === null) throw new TypeError(`ranges[${i}] must be a range`);
    const { start, end } = r as SeqRange;
    checkSeqArg(start, `ranges[${i}].start`, 1);
    checkSeqArg(end, `ranges[${i}].end`, 1);
    if (start < floor || end < start) throw new RangeError(`ranges[${i}] must lie above cumulative and the ranges before it`);
    if (end > lastOutSeq) throw new RangeError(`ranges[${i}] acknowledges items never sent (the last is ${lastOutSeq})`);
    floor = end + 1;
  });
}

export function inRanges(seq: number, cumulative: number, ranges: readonly SeqRange[]): boolean {
  if (seq <= cumulative) return true;
  for (const r of ranges) if (seq >= r.start && seq <= r.end) return true;
  return false;
}

export function checkNewOutgoingFile(file: unknown): asserts file is NewOutgoingFile {
  if (typeof file !== 'object' || file === null) throw new TypeError('file must be an object');
  const f = file as NewOutgoingFile;
  checkId(f.fileId, 'file.fileId');
  checkId(f.messageId, 'file.messageId');
  if (typeof f.name !== 'string') throw new TypeError('file.name must be a string');
  const problem = fileNameProblem(f.name);
  if (problem !== null) throw new RangeError(`file.name ${problem}`);
  checkOffset(f.size, 'file.size');
  assertBytes(f.sha256, 'file.sha256', SHA256_BYTES);
  if (!Number.isInteger(f.chunkSize) || f.chunkSize < MIN_CHUNK_BYTES || f.chunkSize > MAX_CHUNK_BYTES) {
    throw new RangeError(`file.chunkSize must be in ${MIN_CHUNK_BYTES}..${MAX_CHUNK_BYTES}`);
  }
}

export function checkListOptions(options: unknown): asserts options is ListMessagesOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const o = options as ListMessagesOptions;
  checkCount(o.limit, 'options.limit', 1000);
  if (o.before !== undefined) checkId(o.before, 'options.before');
}

export function checkSearchArgs(query: unknown, options: unknown): asserts options is SearchMessagesOptions {
  if (typeof query !== 'string') throw new TypeError('query must be a string');
  if (query.length === 0 || query.length > MAX_SEARCH_QUERY) throw new RangeError(`query must be 1..${MAX_SEARCH_QUERY} characters`);
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const o = options as SearchMessagesOptions;
  checkCount(o.limit, 'options.limit', 1000);
  if (o.peer !== undefined) checkPeer(o.peer, 'options.peer');
}

/** The case-folded form both stores compare search queries and texts in. */
export function foldForSearch(text: string): string {
  return text.toLowerCase();
}

const RANK: Readonly<Record<MessageStatus, number>> = { pending: 0, received: 0, sent: 1, delivered: 2, read: 3 };

/** True when moving from `from` to `to` is forward. */
export function statusAdvances(from: MessageStatus, to: MessageStatus): boolean {
  return RANK[to] > RANK[from];
}

/** The state a transfer ends in when cancelled for `reason`. */
export function cancelledState(reason: FileCancelReason): 'cancelled' | 'failed' {
  return reason === 'cancelled' || reason === 'refused' ? 'cancelled' : 'failed';
}

/**
 * Which of our transfers a FILE_CANCEL names: `role` is who sent the cancel, relative to the file;
 * `ours` is true when we sent the cancel item.
 */
export function cancelTarget(role: 'sender' | 'receiver', ours: boolean): Direction {
  return (role === 'sender') === ours ? 'out' : 'in';
}

export function isEnded(state: TransferState): boolean {
  return state === 'complete' || state === 'failed' || state === 'cancelled';
}

/** The message a stored item shows as, or undefined for an item that is not a message. */
export function messageOf(peer: string, s: StoredItem): ChatMessage | undefined {
  const base = { peer, direction: s.direction, seq: s.seq, sentAt: s.sentAt, status: s.status };
  const received = s.receivedAt === undefined ? {} : { receivedAt: s.receivedAt };
  if (s.item.kind === 'text') return { id: toHex(s.item.messageId), ...base, kind: 'text', text: s.item.text, ...received };
  if (s.item.kind === 'file-offer') {
    const file = { fileId: toHex(s.item.fileId), name: s.item.name, size: s.item.size };
    return { id: toHex(s.item.messageId), ...base, kind: 'file', file, ...received };
  }
  return undefined;
}

/** The message id of a message item (hex), or null. */
export function messageIdOf(item: ChatItem): string | null {
  return item.kind === 'text' || item.kind === 'file-offer' ? toHex(item.messageId) : null;
}

export function idBytes(hex: string): Uint8Array {
  const b = fromHex(hex);
  if (b.length !== ID_BYTES) throw new RangeError('id must be 16 bytes');
  return b;
}
