/**
 * The one contract suite every ChatStore implementation passes (the rules are in
 * node-core/chat/store.ts). store.test.ts runs it against MemoryChatStore and SqliteChatStore.
 * Test helper, not a test file.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatItem, ChatStore, NewOutgoingFile } from '../../node-core/chat';
import { fromHex, toHex } from '../../node-core/util/bytes';
import { snapshot } from './helpers';

export interface StoreUnderTest {
  readonly store: ChatStore;
  close(): void;
}

const PEER = 'b0'.repeat(32);
const OTHER = 'c1'.repeat(32);
const T0 = 1_700_000_000_000;

let idCounter = 0;
function id(): Uint8Array {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setUint32(12, ++idCounter);
  return b;
}
const text = (t: string): ChatItem => ({ kind: 'text', messageId: id(), text: t });

function newFile(bytes: Uint8Array, overrides: Partial<NewOutgoingFile> = {}): NewOutgoingFile {
  return { fileId: toHex(id()), messageId: toHex(id()), name: 'photo.jpg', size: bytes.length, sha256: sha256(bytes), chunkSize: 1024, ...overrides };
}

function offerOf(f: NewOutgoingFile): ChatItem {
  return { kind: 'file-offer', messageId: fromHex(f.messageId), fileId: fromHex(f.fileId), name: f.name, size: f.size, sha256: f.sha256, chunkSize: f.chunkSize };
}

/** Expects `fn` to reject with `type`, and the store's view of `peer` to be unchanged. */
async function refusedWithoutChange(store: ChatStore, peer: string, fn: () => Promise<unknown>, type: new (...a: never[]) => Error, message?: RegExp): Promise<void> {
  const before = await snapshot(store, peer);
  const err = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a rejection').toBeInstanceOf(type);
  if (message) expect((err as Error).message).toMatch(message);
  expect(await snapshot(store, peer)).toEqual(before);
}

export function chatStoreContract(name: string, open: () => StoreUnderTest): void {
  describe(`ChatStore contract: ${name}`, () => {
    const opened: StoreUnderTest[] = [];
    const fresh = (): ChatStore => {
      const h = open();
      opened.push(h);
      return h.store;
    };
    afterEach(() => {
      for (const h of opened.splice(0)) h.close();
    });

    it('knows nothing of a new peer and creates nothing by asking', async () => {
      const s = fresh();
      expect(await s.conversationState(PEER)).toEqual({
        peer: PEER,
        lastOutSeq: 0,
        peerCumAck: 0,
        recvCursor: 0,
        held: [],
        lastInMessageSeq: 0,
        readUpTo: 0,
        peerReadUpTo: 0,
      });
      expect(await s.listConversations()).toEqual([]);
      expect(await s.listMessages(PEER, { limit: 10 })).toEqual([]);
      expect(await s.outgoing(PEER, 0, 10)).toEqual([]);
      expect(await s.transfers()).toEqual([]);
    });

    it('gives outgoing items consecutive seqs, stores them pending, and lists unacknowledged ones in order', async () => {
      const s = fresh();
      const a = await s.appendOutgoing(PEER, text('one'), T0);
      const b = await s.appendOutgoing(PEER, text('two'), T0 + 1);
      const c = await s.appendOutgoing(OTHER, text('elsewhere'), T0 + 2);
      expect([a.item.seq, b.item.seq, c.item.seq]).toEqual([1, 2, 1]);
      expect(a.item).toMatchObject({ direction: 'out', status: 'pending', sentAt: T0 });
      expect(a.transfer).toBeUndefined();
      expect((await s.conversationState(PEER)).lastOutSeq).toBe(2);
      expect((await s.outgoing(PEER, 0, 10)).map((i) => i.seq)).toEqual([1, 2]);
      expect((await s.outgoing(PEER, 1, 10)).map((i) => i.seq)).toEqual([2]);
      expect((await s.outgoing(PEER, 0, 1)).map((i) => i.seq)).toEqual([1]);
      const msgs = await s.listMessages(PEER, { limit: 10 });
      expect(msgs.map((m) => [m.text, m.direction, m.seq, m.status, m.kind])).toEqual([
        ['one', 'out', 1, 'pending', 'text'],
        ['two', 'out', 2, 'pending', 'text'],
      ]);
      expect(msgs[0]!.id).toBe(toHex((a.item.item as { messageId: Uint8Array }).messageId));
      expect(msgs[0]!.peer).toBe(PEER);
    });

    it('marks items sent, then delivered by cumulative and selective acknowledgements, never backwards', async () => {
      const s = fresh();
      for (let i = 1; i <= 6; i++) await s.appendOutgoing(PEER, text(`m${i}`), T0 + i);
      const sent = await s.markSent(PEER, [1, 2, 3, 99]);
      expect(sent.map((c) => [c.seq, c.status])).toEqual([
        [1, 'sent'],
        [2, 'sent'],
        [3, 'sent'],
      ]);
      expect(await s.markSent(PEER, [1])).toEqual([]);
      const acked = await s.applyAck(PEER, 2, [{ start: 4, end: 5 }]);
      expect(acked.map((c) => [c.seq, c.status])).toEqual([
        [1, 'delivered'],
        [2, 'delivered'],
        [4, 'delivered'],
        [5, 'delivered'],
      ]);
      expect((await s.conversationState(PEER)).peerCumAck).toBe(2);
      expect((await s.outgoing(PEER, 0, 10)).map((i) => i.seq)).toEqual([3, 6]);
      // Replayed and older acknowledgements change nothing.
      expect(await s.applyAck(PEER, 2, [{ start: 4, end: 5 }])).toEqual([]);
      expect(await s.applyAck(PEER, 1, [])).toEqual([]);
      expect((await s.conversationState(PEER)).peerCumAck).toBe(2);
      expect(await s.markSent(PEER, [4])).toEqual([]);
      const statuses = (await s.listMessages(PEER, { limit: 10 })).map((m) => m.status);
      expect(statuses).toEqual(['delivered', 'delivered', 'sent', 'delivered', 'delivered', 'pending']);
    });

    it('refuses acknowledgements of items never sent, changing nothing', async () => {
      const s = fresh();
      await s.appendOutgoing(PEER, text('x'), T0);
      await refusedWithoutChange(s, PEER, () => s.applyAck(PEER, 2, []), RangeError, /never sent/);
      await refusedWithoutChange(s, PEER, () => s.applyAck(PEER, 0, [{ start: 2, end: 3 }]), RangeError, /never sent/);
      await refusedWithoutChange(s, PEER, () => s.applyAck(PEER, 0, [{ start: 1, end: 1 }, { start: 1, end: 1 }]), RangeError);
      await refusedWithoutChange(s, OTHER, () => s.applyAck(OTHER, 1, []), RangeError);
    });

    it('delivers the next incoming item with the cursor, holds items ahead of a gap, and drains them in order', async () => {
      const s = fresh();
      expect(await s.holdIncoming(PEER, 3, T0 + 3, text('three'))).toBe(true);
      expect(await s.holdIncoming(PEER, 3, T0 + 3, text('three again'))).toBe(false);
      expect(await s.holdIncoming(PEER, 4, T0 + 4, text('four'))).toBe(true);
      expect((await s.conversationState(PEER)).held).toEqual([3, 4]);
      expect(await s.listMessages(PEER, { limit: 10 })).toEqual([]);
      const first = await s.deliverIncoming(PEER, 1, T0 + 1, text('one'), T0 + 10);
      expect(first.delivered.map((d) => d.seq)).toEqual([1]);
      expect(first.delivered[0]).toMatchObject({ direction: 'in', status: 'received', receivedAt: T0 + 10, sentAt: T0 + 1 });
      const second = await s.deliverIncoming(PEER, 2, T0 + 2, text('two'), T0 + 20);
      expect(second.delivered.map((d) => d.seq)).toEqual([2, 3, 4]);
      const st = await s.conversationState(PEER);
      expect([st.recvCursor, st.held, st.lastInMessageSeq]).toEqual([4, [], 4]);
      const msgs = await s.listMessages(PEER, { limit: 10 });
      expect(msgs.map((m) => [m.text, m.seq, m.status, m.receivedAt])).toEqual([
        ['one', 1, 'received', T0 + 10],
        ['two', 2, 'received', T0 + 20],
        ['three', 3, 'received', T0 + 20],
        ['four', 4, 'received', T0 + 20],
      ]);
    });

    it('changes nothing for an incoming seq that is not the next one, or already held', async () => {
      const s = fresh();
      await s.deliverIncoming(PEER, 1, T0, text('one'), T0);
      const before = await snapshot(s, PEER);
      expect(await s.deliverIncoming(PEER, 1, T0, text('one, replayed'), T0 + 5)).toEqual({ delivered: [], statusChanges: [], transfers: [] });
      expect(await s.deliverIncoming(PEER, 3, T0, text('three, early'), T0 + 5)).toEqual({ delivered: [], statusChanges: [], transfers: [] });
      expect(await s.holdIncoming(PEER, 1, T0, text('old'))).toBe(false);
      expect(await snapshot(s, PEER)).toEqual(before);
      await refusedWithoutChange(s, PEER, () => s.holdIncoming(PEER, 2, T0, text('next')), RangeError, /deliver it/);
      expect(await s.deliverIncoming(OTHER, 2, T0, text('x'), T0)).toEqual({ delivered: [], statusChanges: [], transfers: [] });
      expect(await s.listConversations()).toHaveLength(1);
    });

    it('applies read receipts both ways: ours marks incoming messages read, the peer’s marks ours read', async () => {
      const s = fresh();
      await s.deliverIncoming(PEER, 1, T0, text('hi'), T0);
      await s.deliverIncoming(PEER, 2, T0, text('there'), T0);
      await refusedWithoutChange(s, PEER, () => s.appendOutgoing(PEER, { kind: 'read', upTo: 3 }, T0), RangeError, /beyond/);
      const r = await s.appendOutgoing(PEER, { kind: 'read', upTo: 1 }, T0);
      expect(r.item.seq).toBe(1);
      expect((await s.listMessages(PEER, { limit: 10 })).filter((m) => m.direction === 'in').map((m) => m.status)).toEqual(['read', 'received']);
      expect((await s.conversationState(PEER)).readUpTo).toBe(1);
      expect((await s.listConversations())[0]!.unread).toBe(1);
      // Read receipts are items but not messages.
      expect((await s.listMessages(PEER, { limit: 10 })).length).toBe(2);
      // Our messages 2 and 3; the peer reads up to 2 (and claims 9: clamped to what we sent).
      await s.appendOutgoing(PEER, text('a'), T0);
      await s.appendOutgoing(PEER, text('b'), T0);
      await s.markSent(PEER, [2]);
      const res = await s.deliverIncoming(PEER, 3, T0, { kind: 'read', upTo: 2 }, T0);
      expect(res.statusChanges.map((c) => [c.seq, c.status])).toEqual([[2, 'read']]);
      const res2 = await s.deliverIncoming(PEER, 4, T0, { kind: 'read', upTo: 9 }, T0);
      expect(res2.statusChanges.map((c) => [c.seq, c.status])).toEqual([[3, 'read']]);
      expect((await s.conversationState(PEER)).peerReadUpTo).toBe(3);
      // A later acknowledgement does not take 'read' back to 'delivered'.
      expect(await s.applyAck(PEER, 3, [])).toEqual([]);
      const mine = (await s.listMessages(PEER, { limit: 10 })).filter((m) => m.direction === 'out');
      expect(mine.map((m) => m.status)).toEqual(['read', 'read']);
      // Incoming read receipts are not messages and do not count as unread.
      expect((await s.conversationState(PEER)).lastInMessageSeq).toBe(2);
    });

    it('copies an outgoing file in, offers it only when complete and matching, and reads its bytes back', async () => {
      const s = fresh();
      const bytes = new Uint8Array(2500).map((_, i) => i * 7);
      const f = newFile(bytes);
      const t = await s.createOutgoingFile(PEER, f, T0);
      expect(t).toMatchObject({ direction: 'out', state: 'preparing', bytes: 0, size: 2500, name: 'photo.jpg', chunkSize: 1024 });
      await refusedWithoutChange(s, PEER, () => s.createOutgoingFile(PEER, f, T0), RangeError, /already used/);
      await refusedWithoutChange(s, PEER, () => s.appendOutgoing(PEER, offerOf(f), T0), RangeError, /prepared, fully copied/);
      await refusedWithoutChange(s, PEER, () => s.appendFileBytes(PEER, f.fileId, 'out', 5, bytes.subarray(0, 10), T0), RangeError, /offset must be 0/);
      await s.appendFileBytes(PEER, f.fileId, 'out', 0, bytes.subarray(0, 2000), T0 + 1);
      await refusedWithoutChange(s, PEER, () => s.appendFileBytes(PEER, f.fileId, 'out', 2000, new Uint8Array(501), T0), RangeError, /past the file/);
      await refusedWithoutChange(s, PEER, () => s.readFileBytes(PEER, f.fileId, 'out', 1990, 20), RangeError, /past the stored/);
      const done = await s.appendFileBytes(PEER, f.fileId, 'out', 2000, bytes.subarray(2000), T0 + 2);
      expect(done.bytes).toBe(2500);
      await refusedWithoutChange(s, PEER, () => s.appendOutgoing(PEER, offerOf({ ...f, name: 'other.jpg' }), T0), RangeError);
      const offered = await s.appendOutgoing(PEER, offerOf(f), T0 + 3);
      expect(offered.transfer).toMatchObject({ state: 'active', bytes: 2500, fileId: f.fileId });
      expect(toHex(await s.readFileBytes(PEER, f.fileId, 'out', 0, 2500))).toBe(toHex(bytes));
      expect(toHex(await s.readFileBytes(PEER, f.fileId, 'out', 1024, 1024))).toBe(toHex(bytes.subarray(1024, 2048)));
      expect((await s.readFileBytes(PEER, f.fileId, 'out', 2500, 0)).length).toBe(0);
      await refusedWithoutChange(s, PEER, () => s.appendFileBytes(PEER, f.fileId, 'out', 2500, new Uint8Array(1), T0), RangeError, /active/);
      await refusedWithoutChange(s, PEER, () => s.discardFile(PEER, f.fileId, 'out'), RangeError, /preparing/);
      const m = (await s.listMessages(PEER, { limit: 1 }))[0]!;
      expect(m).toMatchObject({ kind: 'file', file: { fileId: f.fileId, name: 'photo.jpg', size: 2500 }, id: f.messageId });
      expect(m.text).toBeUndefined();
    });

    it('discards a preparing file entirely', async () => {
      const s = fresh();
      const f = newFile(new Uint8Array(10));
      await s.createOutgoingFile(PEER, f, T0);
      await s.appendFileBytes(PEER, f.fileId, 'out', 0, new Uint8Array(5), T0);
      await s.discardFile(PEER, f.fileId, 'out');
      expect(await s.transfer(PEER, f.fileId, 'out')).toBeUndefined();
      expect(await s.transfers()).toEqual([]);
      await s.discardFile(PEER, f.fileId, 'out');
    });

    it('opens an incoming transfer with the offer, stores its bytes in order, completes it with a done item', async () => {
      const s = fresh();
      const bytes = new Uint8Array(3000).map((_, i) => i);
      const f = newFile(bytes, { chunkSize: 1024 });
      const res = await s.deliverIncoming(PEER, 1, T0, offerOf(f), T0 + 1);
      expect(res.transfers).toHaveLength(1);
      expect(res.transfers[0]).toMatchObject({ direction: 'in', state: 'active', bytes: 0, size: 3000, fileId: f.fileId, messageId: f.messageId });
      expect(toHex(res.transfers[0]!.sha256)).toBe(toHex(f.sha256));
      await refusedWithoutChange(s, PEER, () => s.appendOutgoing(PEER, { kind: 'file-done', fileId: fromHex(f.fileId) }, T0), RangeError, /every byte/);
      await s.appendFileBytes(PEER, f.fileId, 'in', 0, bytes.subarray(0, 1024), T0 + 2);
      await refusedWithoutChange(s, PEER, () => s.appendFileBytes(PEER, f.fileId, 'in', 2048, bytes.subarray(2048), T0), RangeError, /offset must be 1024/);
      await s.appendFileBytes(PEER, f.fileId, 'in', 1024, bytes.subarray(1024), T0 + 3);
      const done = await s.appendOutgoing(PEER, { kind: 'file-done', fileId: fromHex(f.fileId) }, T0 + 4);
      expect(done.transfer).toMatchObject({ state: 'complete', bytes: 3000, updatedAt: T0 + 4 });
      expect(toHex(await s.readFileBytes(PEER, f.fileId, 'in', 0, 3000))).toBe(toHex(bytes));
      // A second offer with the same file id opens nothing new.
      const again = await s.deliverIncoming(PEER, 2, T0, offerOf({ ...f, messageId: toHex(id()) }), T0);
      expect(again.transfers).toEqual([]);
      expect((await s.transfer(PEER, f.fileId, 'in'))!.state).toBe('complete');
    });

    it('ends transfers by cancel items from either side, and the peer’s done item completes ours', async () => {
      const s = fresh();
      // Incoming, cancelled by its sender.
      const fin = newFile(new Uint8Array(10));
      await s.deliverIncoming(PEER, 1, T0, offerOf(fin), T0);
      const c = await s.deliverIncoming(PEER, 2, T0, { kind: 'file-cancel', fileId: fromHex(fin.fileId), role: 'sender', reason: 'unavailable' }, T0 + 1);
      expect(c.transfers.map((t) => [t.direction, t.state, t.reason])).toEqual([['in', 'failed', 'unavailable']]);
      // Outgoing, refused by the receiver; another completed by it.
      const bytes = new Uint8Array(10).fill(1);
      const out1 = newFile(bytes);
      const out2 = newFile(bytes);
      for (const f of [out1, out2]) {
        await s.createOutgoingFile(PEER, f, T0);
        await s.appendFileBytes(PEER, f.fileId, 'out', 0, bytes, T0);
        await s.appendOutgoing(PEER, offerOf(f), T0);
      }
      const r = await s.deliverIncoming(PEER, 3, T0, { kind: 'file-cancel', fileId: fromHex(out1.fileId), role: 'receiver', reason: 'refused' }, T0);
      expect(r.transfers.map((t) => [t.direction, t.state, t.reason])).toEqual([['out', 'cancelled', 'refused']]);
      const d = await s.deliverIncoming(PEER, 4, T0, { kind: 'file-done', fileId: fromHex(out2.fileId) }, T0);
      expect(d.transfers.map((t) => [t.direction, t.state])).toEqual([['out', 'complete']]);
      // Items naming unknown or ended transfers are stored without effect.
      const none = await s.deliverIncoming(PEER, 5, T0, { kind: 'file-done', fileId: fromHex(out1.fileId) }, T0);
      expect(none.delivered).toHaveLength(1);
      expect(none.transfers).toEqual([]);
      expect((await s.transfer(PEER, out1.fileId, 'out'))!.state).toBe('cancelled');
      // Our own cancel: of an ended transfer it is refused; of an active one it ends it.
      await refusedWithoutChange(s, PEER, () => s.appendOutgoing(PEER, { kind: 'file-cancel', fileId: fromHex(out2.fileId), role: 'sender', reason: 'cancelled' }, T0), RangeError);
      const fin2 = newFile(new Uint8Array(10));
      await s.deliverIncoming(PEER, 6, T0, offerOf(fin2), T0);
      const mine = await s.appendOutgoing(PEER, { kind: 'file-cancel', fileId: fromHex(fin2.fileId), role: 'receiver', reason: 'cancelled' }, T0 + 9);
      expect(mine.transfer).toMatchObject({ direction: 'in', state: 'cancelled', reason: 'cancelled' });
      expect((await s.transfers(PEER)).map((t) => t.fileId)).toEqual([fin.fileId, out1.fileId, out2.fileId, fin2.fileId]);
      expect(await s.transfers(OTHER)).toEqual([]);
    });

    it('pages messages back with `before`, oldest first within a page', async () => {
      const s = fresh();
      for (let i = 1; i <= 5; i++) {
        await s.appendOutgoing(PEER, text(`out${i}`), T0 + i);
        await s.deliverIncoming(PEER, i, T0 + i, text(`in${i}`), T0 + i);
        await s.appendOutgoing(PEER, { kind: 'read', upTo: i }, T0 + i);
      }
      const last4 = await s.listMessages(PEER, { limit: 4 });
      expect(last4.map((m) => m.text)).toEqual(['out4', 'in4', 'out5', 'in5']);
      const before = await s.listMessages(PEER, { before: last4[0]!.id, limit: 4 });
      expect(before.map((m) => m.text)).toEqual(['out2', 'in2', 'out3', 'in3']);
      const first = await s.listMessages(PEER, { before: before[0]!.id, limit: 4 });
      expect(first.map((m) => m.text)).toEqual(['out1', 'in1']);
      await expect(s.listMessages(PEER, { before: 'ab'.repeat(16), limit: 4 })).rejects.toThrow(RangeError);
      await expect(s.listMessages(PEER, { limit: 0 })).rejects.toThrow(RangeError);
      await expect(s.listMessages(PEER, { limit: 1001 })).rejects.toThrow(RangeError);
    });

    it('lists conversations by latest message with unread counts and contact names', async () => {
      const s = fresh();
      await s.deliverIncoming(PEER, 1, T0, text('from b0'), T0);
      await s.deliverIncoming(OTHER, 1, T0, text('from c1'), T0);
      await s.deliverIncoming(OTHER, 2, T0, text('again c1'), T0);
      await s.addContact(fromHex(OTHER), 'Carol');
      let list = await s.listConversations();
      expect(list.map((c) => [c.peer, c.name, c.unread, c.last?.text])).toEqual([
        [OTHER, 'Carol', 2, 'again c1'],
        [PEER, undefined, 1, 'from b0'],
      ]);
      await s.appendOutgoing(PEER, text('reply'), T0);
      list = await s.listConversations();
      expect(list.map((c) => [c.peer, c.last?.text, c.last?.direction])).toEqual([
        [PEER, 'reply', 'out'],
        [OTHER, 'again c1', 'in'],
      ]);
      expect('name' in list[0]!).toBe(false);
    });

    it('adds, renames, lists and removes contacts, by key bytes or hex', async () => {
      const s = fresh();
      const c = await s.addContact(fromHex(PEER), 'Bob', 'sirius.chat.account.Bob');
      expect(c).toEqual({ key: PEER, name: 'Bob', identity: 'sirius.chat.account.Bob', addedAt: 1_700_000_000_000 });
      await s.addContact(OTHER, 'Alice');
      await s.addContact(PEER, 'Bobby');
      expect(await s.contacts()).toEqual([
        { key: OTHER, name: 'Alice', addedAt: 1_700_000_000_000 },
        { key: PEER, name: 'Bobby', identity: 'sirius.chat.account.Bob', addedAt: 1_700_000_000_000 },
      ]);
      expect(await s.removeContact(fromHex(OTHER))).toBe(true);
      expect(await s.removeContact(OTHER)).toBe(false);
      expect((await s.contacts()).map((x) => x.name)).toEqual(['Bobby']);
      await expect(s.addContact(new Uint8Array(31), 'x')).rejects.toThrow(RangeError);
      await expect(s.addContact('B0'.repeat(32), 'x')).rejects.toThrow(RangeError);
      await expect(s.addContact(PEER, '   ')).rejects.toThrow(RangeError);
      await expect(s.addContact(PEER, 'a\nb')).rejects.toThrow(RangeError);
      await expect(s.addContact(PEER, 'ok', 'has space')).rejects.toThrow(RangeError);
      await expect(s.addContact(PEER, 7 as unknown as string)).rejects.toThrow(TypeError);
      expect((await s.contacts()).map((x) => x.name)).toEqual(['Bobby']);
    });

    it('searches text messages case-insensitively, newest first, in one conversation or all', async () => {
      const s = fresh();
      await s.appendOutgoing(PEER, text('Lunch at noon?'), T0);
      await s.deliverIncoming(PEER, 1, T0, text('yes, LUNCH sounds good'), T0 + 1);
      await s.appendOutgoing(PEER, { kind: 'read', upTo: 1 }, T0 + 2);
      await s.deliverIncoming(OTHER, 1, T0, text('Grüße zum Mittagessen, lunch?'), T0 + 3);
      await s.appendOutgoing(OTHER, text('no thanks'), T0 + 4);
      const bytes = new Uint8Array(10).fill(1);
      const f = newFile(bytes, { name: 'lunch.jpg' });
      await s.createOutgoingFile(PEER, f, T0);
      await s.appendFileBytes(PEER, f.fileId, 'out', 0, bytes, T0);
      await s.appendOutgoing(PEER, offerOf(f), T0 + 5);

      const all = await s.searchMessages('lunch', { limit: 10 });
      expect(all.map((m) => [m.peer, m.direction, m.text])).toEqual([
        [OTHER, 'in', 'Grüße zum Mittagessen, lunch?'],
        [PEER, 'in', 'yes, LUNCH sounds good'],
        [PEER, 'out', 'Lunch at noon?'],
      ]);
      expect(all.every((m) => m.kind === 'text')).toBe(true);
      expect((await s.searchMessages('GRÜSSE'.slice(0, 3), { limit: 10 })).map((m) => m.text)).toEqual(['Grüße zum Mittagessen, lunch?']);
      expect((await s.searchMessages('LuNcH', { peer: PEER, limit: 10 })).map((m) => m.text)).toEqual(['yes, LUNCH sounds good', 'Lunch at noon?']);
      expect((await s.searchMessages('lunch', { limit: 1 })).map((m) => m.peer)).toEqual([OTHER]);
      expect(await s.searchMessages('dinner', { limit: 10 })).toEqual([]);
      expect(await s.searchMessages('lunch', { peer: 'd2'.repeat(32), limit: 10 })).toEqual([]);
      // Wildcards of SQL LIKE or of regular expressions have no special meaning.
      expect(await s.searchMessages('%', { limit: 10 })).toEqual([]);
      expect(await s.searchMessages('.*', { limit: 10 })).toEqual([]);

      const before = await snapshot(s, PEER);
      await expect(s.searchMessages('', { limit: 10 })).rejects.toThrow(RangeError);
      await expect(s.searchMessages('x'.repeat(1025), { limit: 10 })).rejects.toThrow(/query/);
      await expect(s.searchMessages(5 as unknown as string, { limit: 10 })).rejects.toThrow(TypeError);
      await expect(s.searchMessages('lunch', { limit: 0 })).rejects.toThrow(/options\.limit/);
      await expect(s.searchMessages('lunch', { limit: 1001 })).rejects.toThrow(RangeError);
      await expect(s.searchMessages('lunch', { peer: 'XY', limit: 5 })).rejects.toThrow(/options\.peer/);
      await expect(s.searchMessages('lunch', null as unknown as { limit: number })).rejects.toThrow(TypeError);
      expect(await snapshot(s, PEER)).toEqual(before);
    });

    it('checks every argument, naming it, and changes nothing', async () => {
      const s = fresh();
      await s.appendOutgoing(PEER, text('x'), T0);
      await refusedWithoutChange(s, PEER, () => s.appendOutgoing('zz', text('y'), T0), RangeError, /peer/);
      await refusedWithoutChange(s, PEER, () => s.appendOutgoing(PEER, { kind: 'text', messageId: new Uint8Array(3), text: 'y' }, T0), RangeError, /messageId/);
      await refusedWithoutChange(s, PEER, () => s.appendOutgoing(PEER, text('y'), -1), RangeError, /sentAt/);
      await refusedWithoutChange(s, PEER, () => s.appendOutgoing(PEER, { kind: 'text', messageId: id(), text: 'a'.repeat(65_537) }, T0), RangeError, /65537/);
      await refusedWithoutChange(s, PEER, () => s.deliverIncoming(PEER, 0, T0, text('y'), T0), RangeError, /seq/);
      await refusedWithoutChange(s, PEER, () => s.holdIncoming(PEER, 3, T0, { kind: 'nope' } as unknown as ChatItem), RangeError, /kind/);
      await refusedWithoutChange(s, PEER, () => s.outgoing(PEER, 0, 0), RangeError, /limit/);
      await refusedWithoutChange(s, PEER, () => s.markSent(PEER, [0]), RangeError, /seqs\[0\]/);
      await refusedWithoutChange(s, PEER, () => s.readFileBytes(PEER, 'nothex', 'in', 0, 1), RangeError, /fileId/);
      await refusedWithoutChange(s, PEER, () => s.transfer(PEER, 'ab'.repeat(16), 'sideways' as 'in'), RangeError, /direction/);
      await refusedWithoutChange(s, PEER, () => s.createOutgoingFile(PEER, newFile(new Uint8Array(1), { chunkSize: 100 }), T0), RangeError, /chunkSize/);
      await refusedWithoutChange(s, PEER, () => s.createOutgoingFile(PEER, newFile(new Uint8Array(1), { name: '../x' }), T0), RangeError, /name/);
      await refusedWithoutChange(s, PEER, () => s.appendFileBytes(PEER, 'ab'.repeat(16), 'in', 0, new Uint8Array(1), T0), RangeError, /no such transfer/);
      await refusedWithoutChange(s, PEER, () => s.conversationState(42 as unknown as string), TypeError, /peer/);
    });
  });
}
