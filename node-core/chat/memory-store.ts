/**
 * MemoryChatStore: the ChatStore (store.ts) kept in memory — for tests and for profiles that
 * must leave nothing on disk. File bytes live in memory too. It follows the same rules as
 * SqliteChatStore and passes the same contract suite; every method validates everything before
 * it changes anything, so a method that throws leaves the store as it was. Returned objects are
 * copies.
 */
import { toHex } from '../util/bytes';
import { type ChatItem, type SeqRange, checkItem } from './frames';
import {
  type AppendResult,
  type ChatMessage,
  type ChatStore,
  type Contact,
  type ConversationState,
  type ConversationSummary,
  type DeliverResult,
  type Direction,
  type FileTransfer,
  type ListMessagesOptions,
  type MessageStatus,
  type NewOutgoingFile,
  type SearchMessagesOptions,
  type StatusChange,
  type StoredItem,
  cancelTarget,
  cancelledState,
  checkAckArgs,
  checkContactName,
  checkCount,
  checkDirection,
  checkId,
  checkIdentityText,
  checkListOptions,
  checkNewOutgoingFile,
  checkOffset,
  checkPeer,
  checkSearchArgs,
  checkSeqArg,
  checkTime,
  contactKey,
  foldForSearch,
  isEnded,
  messageIdOf,
  messageOf,
  statusAdvances,
} from './store';

interface ItemRec {
  seq: number;
  direction: Direction;
  item: ChatItem;
  sentAt: number;
  receivedAt?: number;
  status: MessageStatus;
  /** Store-wide insertion order. */
  order: number;
}

interface ConvRec {
  peer: string;
  lastOutSeq: number;
  peerCumAck: number;
  recvCursor: number;
  lastInMessageSeq: number;
  readUpTo: number;
  peerReadUpTo: number;
  out: Map<number, ItemRec>;
  in: Map<number, ItemRec>;
  held: Map<number, { sentAt: number; item: ChatItem }>;
  /** Message items of both directions in insertion order. */
  messages: ItemRec[];
}

interface TransferRec {
  t: FileTransfer;
  data: Uint8Array;
}

export interface MemoryChatStoreOptions {
  /** The clock for times the store stamps itself (contacts). Default Date.now. */
  readonly now?: () => number;
}

const copy = <T>(v: T): T => structuredClone(v);

function stored(r: ItemRec): StoredItem {
  const base = { seq: r.seq, direction: r.direction, item: copy(r.item), sentAt: r.sentAt, status: r.status };
  return r.receivedAt === undefined ? base : { ...base, receivedAt: r.receivedAt };
}

export class MemoryChatStore implements ChatStore {
  private readonly convs = new Map<string, ConvRec>();
  private readonly files = new Map<string, TransferRec>();
  private readonly contactMap = new Map<string, Contact>();
  private order = 0;
  private readonly clock: () => number;

  constructor(options: MemoryChatStoreOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('options.now must be a function');
    this.clock = options.now ?? Date.now;
  }

  private conv(peer: string): ConvRec | undefined {
    return this.convs.get(peer);
  }

  private convOrNew(peer: string): ConvRec {
    let c = this.convs.get(peer);
    if (c === undefined) {
      c = {
        peer,
        lastOutSeq: 0,
        peerCumAck: 0,
        recvCursor: 0,
        lastInMessageSeq: 0,
        readUpTo: 0,
        peerReadUpTo: 0,
        out: new Map(),
        in: new Map(),
        held: new Map(),
        messages: [],
      };
      this.convs.set(peer, c);
    }
    return c;
  }

  private fileKey(peer: string, fileId: string, direction: Direction): string {
    return `${peer}/${fileId}/${direction}`;
  }

  private file(peer: string, fileId: string, direction: Direction): TransferRec | undefined {
    return this.files.get(this.fileKey(peer, fileId, direction));
  }

  private setTransfer(rec: TransferRec, changes: Partial<FileTransfer>, now: number): FileTransfer {
    rec.t = { ...rec.t, ...changes, updatedAt: Math.max(rec.t.updatedAt, now) };
    return copy(rec.t);
  }

  async conversationState(peer: string): Promise<ConversationState> {
    checkPeer(peer);
    const c = this.conv(peer);
    if (c === undefined) {
      return { peer, lastOutSeq: 0, peerCumAck: 0, recvCursor: 0, held: [], lastInMessageSeq: 0, readUpTo: 0, peerReadUpTo: 0 };
    }
    return {
      peer,
      lastOutSeq: c.lastOutSeq,
      peerCumAck: c.peerCumAck,
      recvCursor: c.recvCursor,
      held: [...c.held.keys()].sort((a, b) => a - b),
      lastInMessageSeq: c.lastInMessageSeq,
      readUpTo: c.readUpTo,
      peerReadUpTo: c.peerReadUpTo,
    };
  }

  async appendOutgoing(peer: string, item: ChatItem, sentAt: number): Promise<AppendResult> {
    checkPeer(peer);
    checkItem(item);
    checkTime(sentAt, 'sentAt');
    const existing = this.conv(peer);
    const lastOutSeq = existing?.lastOutSeq ?? 0;
    if (lastOutSeq >= 0xffff_ffff) throw new RangeError('the conversation has used every sequence number');
    // Validate the item's effect before changing anything.
    let fileRec: TransferRec | undefined;
    let fileChanges: Partial<FileTransfer> | undefined;
    if (item.kind === 'file-offer') {
      fileRec = this.file(peer, toHex(item.fileId), 'out');
      const t = fileRec?.t;
      if (
        t === undefined ||
        t.state !== 'preparing' ||
        t.bytes !== t.size ||
        t.messageId !== toHex(item.messageId) ||
        t.name !== item.name ||
        t.size !== item.size ||
        t.chunkSize !== item.chunkSize ||
        toHex(t.sha256) !== toHex(item.sha256)
      ) {
        throw new RangeError('item: a file offer needs a prepared, fully copied outgoing file with the same fields');
      }
      fileChanges = { state: 'active' };
    } else if (item.kind === 'read') {
      if (item.upTo > (existing?.recvCursor ?? 0)) throw new RangeError('item.upTo is beyond the items received');
    } else if (item.kind === 'file-cancel') {
      fileRec = this.file(peer, toHex(item.fileId), cancelTarget(item.role, true));
      if (fileRec === undefined || isEnded(fileRec.t.state)) throw new RangeError('item: no transfer of that file is going on');
      fileChanges = { state: cancelledState(item.reason), reason: item.reason };
    } else if (item.kind === 'file-done') {
      fileRec = this.file(peer, toHex(item.fileId), 'in');
      if (fileRec === undefined || fileRec.t.state !== 'active' || fileRec.t.bytes !== fileRec.t.size) {
        throw new RangeError('item: file done needs an active incoming transfer with every byte stored');
      }
      fileChanges = { state: 'complete' };
    }

    const c = this.convOrNew(peer);
    const rec: ItemRec = { seq: c.lastOutSeq + 1, direction: 'out', item: copy(item), sentAt, status: 'pending', order: ++this.order };
    c.lastOutSeq = rec.seq;
    c.out.set(rec.seq, rec);
    if (messageIdOf(item) !== null) c.messages.push(rec);
    if (item.kind === 'read') {
      c.readUpTo = Math.max(c.readUpTo, item.upTo);
      for (const r of c.in.values()) if (r.seq <= item.upTo && r.status === 'received' && messageIdOf(r.item) !== null) r.status = 'read';
    }
    const transfer = fileRec !== undefined && fileChanges !== undefined ? this.setTransfer(fileRec, fileChanges, sentAt) : undefined;
    return transfer === undefined ? { item: stored(rec) } : { item: stored(rec), transfer };
  }

  async outgoing(peer: string, afterSeq: number, limit: number): Promise<StoredItem[]> {
    checkPeer(peer);
    checkSeqArg(afterSeq, 'afterSeq');
    checkCount(limit, 'limit', 100_000);
    const c = this.conv(peer);
    const out: StoredItem[] = [];
    if (c === undefined) return out;
    for (let s = afterSeq + 1; s <= c.lastOutSeq && out.length < limit; s++) {
      const r = c.out.get(s);
      if (r !== undefined && (r.status === 'pending' || r.status === 'sent')) out.push(stored(r));
    }
    return out;
  }

  async markSent(peer: string, seqs: readonly number[]): Promise<StatusChange[]> {
    checkPeer(peer);
    if (!Array.isArray(seqs)) throw new TypeError('seqs must be an array');
    seqs.forEach((s, i) => checkSeqArg(s, `seqs[${i}]`, 1));
    const c = this.conv(peer);
    const changes: StatusChange[] = [];
    if (c === undefined) return changes;
    for (const s of seqs) {
      const r = c.out.get(s);
      if (r === undefined || r.status !== 'pending') continue;
      r.status = 'sent';
      const id = messageIdOf(r.item);
      if (id !== null) changes.push({ id, seq: s, status: 'sent' });
    }
    return changes;
  }

  async applyAck(peer: string, cumulative: number, ranges: readonly SeqRange[]): Promise<StatusChange[]> {
    checkPeer(peer);
    const c = this.conv(peer);
    checkAckArgs(cumulative, ranges, c?.lastOutSeq ?? 0);
    const changes: StatusChange[] = [];
    if (c === undefined) return changes;
    const mark = (s: number): void => {
      const r = c.out.get(s);
      if (r === undefined || (r.status !== 'pending' && r.status !== 'sent')) return;
      r.status = 'delivered';
      const id = messageIdOf(r.item);
      if (id !== null) changes.push({ id, seq: s, status: 'delivered' });
    };
    for (let s = c.peerCumAck + 1; s <= cumulative; s++) mark(s);
    // checkAckArgs put every range above `cumulative` and at or below lastOutSeq.
    for (const r of ranges) for (let s = r.start; s <= r.end; s++) mark(s);
    c.peerCumAck = Math.max(c.peerCumAck, cumulative);
    return changes;
  }

  async holdIncoming(peer: string, seq: number, sentAt: number, item: ChatItem): Promise<boolean> {
    checkPeer(peer);
    checkSeqArg(seq, 'seq', 1);
    checkTime(sentAt, 'sentAt');
    checkItem(item);
    const cursor = this.conv(peer)?.recvCursor ?? 0;
    if (seq === cursor + 1) throw new RangeError('seq is the next item: deliver it instead of holding it');
    if (seq <= cursor) return false;
    const c = this.convOrNew(peer);
    if (c.held.has(seq)) return false;
    c.held.set(seq, { sentAt, item: copy(item) });
    return true;
  }

  async deliverIncoming(peer: string, seq: number, sentAt: number, item: ChatItem, receivedAt: number): Promise<DeliverResult> {
    checkPeer(peer);
    checkSeqArg(seq, 'seq', 1);
    checkTime(sentAt, 'sentAt');
    checkItem(item);
    checkTime(receivedAt, 'receivedAt');
    const result = { delivered: [] as StoredItem[], statusChanges: [] as StatusChange[], transfers: [] as FileTransfer[] };
    if (seq !== (this.conv(peer)?.recvCursor ?? 0) + 1) return result;
    const c = this.convOrNew(peer);
    let next: { seq: number; sentAt: number; item: ChatItem } | undefined = { seq, sentAt, item: copy(item) };
    while (next !== undefined) {
      c.held.delete(next.seq);
      const rec: ItemRec = { seq: next.seq, direction: 'in', item: next.item, sentAt: next.sentAt, receivedAt, status: 'received', order: ++this.order };
      c.in.set(rec.seq, rec);
      c.recvCursor = rec.seq;
      if (messageIdOf(rec.item) !== null) {
        c.messages.push(rec);
        c.lastInMessageSeq = rec.seq;
      }
      this.applyIncoming(c, rec.item, receivedAt, result);
      result.delivered.push(stored(rec));
      const h = c.held.get(rec.seq + 1);
      next = h === undefined ? undefined : { seq: rec.seq + 1, ...h };
    }
    return result;
  }

  private applyIncoming(c: ConvRec, item: ChatItem, now: number, result: { statusChanges: StatusChange[]; transfers: FileTransfer[] }): void {
    switch (item.kind) {
      case 'text':
        return;
      case 'file-offer': {
        const fileId = toHex(item.fileId);
        const key = this.fileKey(c.peer, fileId, 'in');
        if (this.files.has(key)) return;
        const t: FileTransfer = {
          peer: c.peer,
          fileId,
          direction: 'in',
          messageId: toHex(item.messageId),
          name: item.name,
          size: item.size,
          sha256: item.sha256.slice(),
          chunkSize: item.chunkSize,
          bytes: 0,
          state: 'active',
          createdAt: now,
          updatedAt: now,
        };
        this.files.set(key, { t, data: new Uint8Array(0) });
        result.transfers.push(copy(t));
        return;
      }
      case 'read': {
        const upTo = Math.min(item.upTo, c.lastOutSeq);
        for (let s = c.peerReadUpTo + 1; s <= upTo; s++) {
          const r = c.out.get(s);
          const id = r === undefined ? null : messageIdOf(r.item);
          if (r === undefined || id === null || !statusAdvances(r.status, 'read')) continue;
          r.status = 'read';
          result.statusChanges.push({ id, seq: s, status: 'read' });
        }
        c.peerReadUpTo = Math.max(c.peerReadUpTo, upTo);
        return;
      }
      case 'file-cancel': {
        const rec = this.file(c.peer, toHex(item.fileId), cancelTarget(item.role, false));
        if (rec === undefined || isEnded(rec.t.state)) return;
        result.transfers.push(this.setTransfer(rec, { state: cancelledState(item.reason), reason: item.reason }, now));
        return;
      }
      case 'file-done': {
        const rec = this.file(c.peer, toHex(item.fileId), 'out');
        if (rec === undefined || rec.t.state !== 'active') return;
        result.transfers.push(this.setTransfer(rec, { state: 'complete' }, now));
        return;
      }
    }
  }

  // ---- files ------------------------------------------------------------------------------

  async createOutgoingFile(peer: string, file: NewOutgoingFile, now: number): Promise<FileTransfer> {
    checkPeer(peer);
    checkNewOutgoingFile(file);
    checkTime(now, 'now');
    const key = this.fileKey(peer, file.fileId, 'out');
    if (this.files.has(key)) throw new RangeError('file.fileId is already used for a file sent to this peer');
    const t: FileTransfer = {
      peer,
      fileId: file.fileId,
      direction: 'out',
      messageId: file.messageId,
      name: file.name,
      size: file.size,
      sha256: file.sha256.slice(),
      chunkSize: file.chunkSize,
      bytes: 0,
      state: 'preparing',
      createdAt: now,
      updatedAt: now,
    };
    this.files.set(key, { t, data: new Uint8Array(0) });
    return copy(t);
  }

  async appendFileBytes(peer: string, fileId: string, direction: Direction, offset: number, data: Uint8Array, now: number): Promise<FileTransfer> {
    checkPeer(peer);
    checkId(fileId, 'fileId');
    checkDirection(direction);
    checkOffset(offset, 'offset');
    if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array');
    if (data.length === 0) throw new RangeError('data must not be empty');
    checkTime(now, 'now');
    const rec = this.file(peer, fileId, direction);
    if (rec === undefined) throw new RangeError('fileId: no such transfer');
    const { t } = rec;
    const writable = direction === 'out' ? t.state === 'preparing' : t.state === 'active';
    if (!writable) throw new RangeError(`fileId: the transfer is ${t.state}; bytes cannot be added`);
    if (offset !== t.bytes) throw new RangeError(`offset must be ${t.bytes} (the bytes stored so far), got ${offset}`);
    if (offset + data.length > t.size) throw new RangeError(`data goes past the file's size (${t.size})`);
    if (rec.data.length < offset + data.length) {
      let cap = Math.max(64, rec.data.length);
      while (cap < offset + data.length) cap *= 2;
      const grown = new Uint8Array(Math.min(cap, t.size));
      grown.set(rec.data.subarray(0, t.bytes));
      rec.data = grown;
    }
    rec.data.set(data, offset);
    return this.setTransfer(rec, { bytes: offset + data.length }, now);
  }

  async readFileBytes(peer: string, fileId: string, direction: Direction, offset: number, length: number): Promise<Uint8Array> {
    checkPeer(peer);
    checkId(fileId, 'fileId');
    checkDirection(direction);
    checkOffset(offset, 'offset');
    checkOffset(length, 'length');
    const rec = this.file(peer, fileId, direction);
    if (rec === undefined) throw new RangeError('fileId: no such transfer');
    if (offset + length > rec.t.bytes) throw new RangeError(`offset + length goes past the stored bytes (${rec.t.bytes})`);
    return rec.data.slice(offset, offset + length);
  }

  async discardFile(peer: string, fileId: string, direction: Direction): Promise<void> {
    checkPeer(peer);
    checkId(fileId, 'fileId');
    checkDirection(direction);
    const rec = this.file(peer, fileId, direction);
    if (rec === undefined) return;
    if (rec.t.state !== 'preparing') throw new RangeError(`fileId: only a preparing transfer can be discarded (this one is ${rec.t.state})`);
    this.files.delete(this.fileKey(peer, fileId, direction));
  }

  async transfer(peer: string, fileId: string, direction: Direction): Promise<FileTransfer | undefined> {
    checkPeer(peer);
    checkId(fileId, 'fileId');
    checkDirection(direction);
    const rec = this.file(peer, fileId, direction);
    return rec === undefined ? undefined : copy(rec.t);
  }

  async transfers(peer?: string): Promise<FileTransfer[]> {
    if (peer !== undefined) checkPeer(peer);
    return [...this.files.values()].filter((r) => peer === undefined || r.t.peer === peer).map((r) => copy(r.t));
  }

  // ---- UI ---------------------------------------------------------------------------------

  async listConversations(): Promise<ConversationSummary[]> {
    const out: { s: ConversationSummary; order: number }[] = [];
    for (const c of this.convs.values()) {
      const last = c.messages[c.messages.length - 1];
      if (last === undefined) continue;
      let unread = 0;
      for (const r of c.messages) if (r.direction === 'in' && r.status === 'received') unread++;
      const name = this.contactMap.get(c.peer)?.name;
      const s: ConversationSummary = { peer: c.peer, last: messageOf(c.peer, stored(last))!, unread, ...(name === undefined ? {} : { name }) };
      out.push({ s, order: last.order });
    }
    return out.sort((a, b) => b.order - a.order).map((x) => x.s);
  }

  async listMessages(peer: string, options: ListMessagesOptions): Promise<ChatMessage[]> {
    checkPeer(peer);
    checkListOptions(options);
    const c = this.conv(peer);
    if (c === undefined) {
      if (options.before !== undefined) throw new RangeError('options.before: no such message');
      return [];
    }
    let end = c.messages.length;
    if (options.before !== undefined) {
      const i = c.messages.findIndex((r) => messageIdOf(r.item) === options.before);
      if (i < 0) throw new RangeError('options.before: no such message');
      end = i;
    }
    return c.messages.slice(Math.max(0, end - options.limit), end).map((r) => messageOf(peer, stored(r))!);
  }

  async searchMessages(query: string, options: SearchMessagesOptions): Promise<ChatMessage[]> {
    checkSearchArgs(query, options);
    const needle = foldForSearch(query);
    const hits: { peer: string; r: ItemRec }[] = [];
    for (const c of this.convs.values()) {
      if (options.peer !== undefined && c.peer !== options.peer) continue;
      for (const r of c.messages) if (r.item.kind === 'text' && foldForSearch(r.item.text).includes(needle)) hits.push({ peer: c.peer, r });
    }
    return hits
      .sort((a, b) => b.r.order - a.r.order)
      .slice(0, options.limit)
      .map(({ peer, r }) => messageOf(peer, stored(r))!);
  }

  async addContact(key: Uint8Array | string, name: string, identity?: string): Promise<Contact> {
    const k = contactKey(key);
    checkContactName(name);
    checkIdentityText(identity);
    const existing = this.contactMap.get(k);
    const id = identity ?? existing?.identity;
    const contact: Contact = { key: k, name, ...(id === undefined ? {} : { identity: id }), addedAt: existing?.addedAt ?? this.clock() };
    this.contactMap.set(k, contact);
    return { ...contact };
  }

  async contacts(): Promise<Contact[]> {
    return [...this.contactMap.values()].map((c) => ({ ...c })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.key < b.key ? -1 : 1));
  }

  async removeContact(key: Uint8Array | string): Promise<boolean> {
    return this.contactMap.delete(contactKey(key));
  }
}
