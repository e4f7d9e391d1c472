/**
 * Conversation behaviour a peer or a user sees: message size limits, statuses and read
 * receipts, bad and replayed frames changing nothing, the inbound rate limit, ordering with
 * held items and the receive window, resuming at once after HELLO, the mailbox path, typing
 * indicators, the send window and retransmission backoff, and argument checks.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ChatFrame,
  type ChatItem,
  type ChatStore,
  Conversation,
  MAX_TEXT_BYTES,
  MemoryChatStore,
  encodeFrame,
} from '../../node-core/chat';
import { concatBytes, fromHex, toHex } from '../../node-core/util/bytes';
import { ALICE, ALICE_KEY, BOB, BOB_KEY, Capture, Clock, Pair, StoreHandle, User, seededRandom, snapshot } from './helpers';

afterAll(() => StoreHandle.removeAll());

const T0 = 1_700_000_000_000;
let k = 0;
const mid = (): Uint8Array => {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setUint32(0, ++k);
  return b;
};
const textItem = (text: string): ChatItem => ({ kind: 'text', messageId: mid(), text });
const data = (seq: number, item: ChatItem = textItem(`m${seq}`)): Uint8Array => encodeFrame({ type: 'data', seq, sentAt: T0, item });
const frame = (f: ChatFrame): Uint8Array => encodeFrame(f);

/** A lone Bob whose frames go to a Capture (Alice is played by the test). */
async function loneBob(limits = {}, store: ChatStore = new MemoryChatStore({ now: () => T0 })): Promise<{ clock: Clock; bob: User; cap: Capture }> {
  const clock = new Clock();
  const handle = new StoreHandle('memory', 'bob');
  handle.store = store;
  const bob = await new User(clock, handle, BOB_KEY, ALICE_KEY, limits, 2).open();
  const cap = new Capture();
  bob.conv.attach(cap);
  await clock.idle();
  return { clock, bob, cap };
}

describe('message size', () => {
  it('sends 65,536 bytes of UTF-8 end to end, and refuses 65,537 with a RangeError, storing nothing', async () => {
    const p = await Pair.create('memory');
    p.connect();
    const exact = 'é'.repeat(MAX_TEXT_BYTES / 2);
    const m = await p.alice.conv.sendText(exact);
    expect(m.status).toBe('pending');
    await p.clock.advance(200);
    expect(p.bob.seen.messages.map((x) => x.text)).toEqual([exact]);
    const before = await snapshot(p.alice.handle.store, BOB);
    await expect(p.alice.conv.sendText('a'.repeat(MAX_TEXT_BYTES + 1))).rejects.toThrow(RangeError);
    await expect(p.alice.conv.sendText('é'.repeat(MAX_TEXT_BYTES / 2) + 'a')).rejects.toThrow(/65537 UTF-8 bytes; a message holds at most 65536/);
    await expect(p.alice.conv.sendText('')).rejects.toThrow(RangeError);
    await expect(p.alice.conv.sendText(5 as unknown as string)).rejects.toThrow(TypeError);
    await p.clock.advance(200);
    expect(await snapshot(p.alice.handle.store, BOB)).toEqual(before);
    expect(p.bob.seen.messages).toHaveLength(1);
    p.close();
  });
});

describe('statuses and read receipts', () => {
  it('moves an outgoing message pending → sent → delivered → read, and sends one receipt per new read point', async () => {
    const p = await Pair.create('memory');
    const m = await p.alice.conv.sendText('hello');
    expect(m).toMatchObject({ direction: 'out', status: 'pending', seq: 1, kind: 'text', peer: BOB, text: 'hello' });
    expect(m.id).toMatch(/^[0-9a-f]{32}$/);
    expect(p.alice.conv.hasUnacked()).toBe(true);
    p.connect();
    await p.clock.advance(100);
    expect(p.alice.seen.statuses.get(m.id)).toEqual(['sent', 'delivered']);
    expect(p.alice.conv.hasUnacked()).toBe(false);
    expect(p.bob.seen.messages[0]).toMatchObject({ id: m.id, direction: 'in', status: 'received', peer: ALICE, sentAt: m.sentAt });
    expect((await p.bob.handle.store.listConversations())[0]!.unread).toBe(1);
    await p.bob.conv.markRead();
    await p.clock.advance(100);
    expect(p.alice.seen.statuses.get(m.id)).toEqual(['sent', 'delivered', 'read']);
    expect((await p.alice.handle.store.listMessages(BOB, { limit: 5 }))[0]!.status).toBe('read');
    expect((await p.bob.handle.store.listMessages(ALICE, { limit: 5 }))[0]!.status).toBe('read');
    expect((await p.bob.handle.store.listConversations())[0]!.unread).toBe(0);
    const seqBefore = (await p.bob.handle.store.conversationState(ALICE)).lastOutSeq;
    await p.bob.conv.markRead();
    expect((await p.bob.handle.store.conversationState(ALICE)).lastOutSeq).toBe(seqBefore);
    // The read receipt (an item of Bob's stream) does not make Alice's unread count move.
    expect((await p.alice.handle.store.listConversations())[0]!.unread).toBe(0);
    p.close();
  });
});

describe('bad and replayed frames', () => {
  it('are rejected or ignored without any change to the store or what the user sees', async () => {
    const p = await Pair.create('memory');
    const link = p.connect(true);
    for (let i = 0; i < 3; i++) await p.alice.conv.sendText(`a${i}`);
    for (let i = 0; i < 2; i++) await p.bob.conv.sendText(`b${i}`);
    await p.clock.advance(200);
    expect(p.bob.seen.messages).toHaveLength(3);
    const fromAlice = link.logA.sent.map((s) => encodeFrame(s.frame));
    const bob = p.bob.conv;
    const cap = new Capture();
    p.disconnect();
    bob.attach(cap);
    await p.clock.advance(2000);
    const before = await snapshot(p.bob.handle.store, ALICE);
    const seenBefore = p.bob.seen.messages.length;
    const statsBefore = bob.stats();

    const validData = fromAlice.find((f) => f[1] === 0x02)!;
    const bad: [string, Uint8Array, string][] = [
      ['oversized', new Uint8Array(131_073).fill(1), 'oversize'],
      ['version 2', fromHex('020401'), 'unsupported-version'],
      ['unknown type', fromHex('0109'), 'unknown-type'],
      ['truncated data header', validData.subarray(0, 9), 'malformed'],
      ['next seq, text not UTF-8', concatBytes(fromHex('010200000004'), new Uint8Array(8), fromHex('01'), mid(), fromHex('ff')), 'bad-utf8'],
      ['next seq, unknown item kind', concatBytes(fromHex('010200000004'), new Uint8Array(8), fromHex('07')), 'unknown-type'],
      ['ack of items never sent', frame({ type: 'ack', cumulative: 3, ranges: [] }), 'bad-state'],
      ['ack range beyond what was sent', frame({ type: 'ack', cumulative: 2, ranges: [{ start: 4, end: 9 }] }), 'bad-state'],
      ['hello claiming items never sent', frame({ type: 'hello', replyWanted: true, window: 10, recvCursor: 7, lastSeq: 3, ranges: [] }), 'bad-state'],
      ['pull of a file never offered', frame({ type: 'file-pull', fileId: mid(), offset: 0, length: 10 }), 'bad-state'],
      ['chunk of a file never offered', frame({ type: 'file-chunk', fileId: mid(), offset: 0, data: new Uint8Array(5) }), 'bad-state'],
    ];
    for (const [what, bytes, code] of bad) {
      p.bob.seen.protocolErrors.length = 0;
      await bob.receiveFrame(bytes);
      expect(p.bob.seen.protocolErrors, what).toEqual([code]);
    }
    // Every strict prefix of every frame Alice sent: rejected or a harmless duplicate.
    for (const f of fromAlice) for (let n = 0; n < f.length; n++) await bob.receiveFrame(f.subarray(0, n));
    // A frame that is not DATA cannot come through the mailbox.
    p.bob.seen.protocolErrors.length = 0;
    await bob.receiveFrame(frame({ type: 'typing', active: true }), 'mailbox');
    expect(p.bob.seen.protocolErrors).toEqual(['bad-state']);
    // Replays of everything Alice ever sent, twice: duplicates, nothing new.
    p.bob.seen.protocolErrors.length = 0;
    for (let r = 0; r < 2; r++) for (const f of fromAlice) if (f[1] !== 0x04) await bob.receiveFrame(f);
    for (const f of fromAlice) if (f[1] === 0x02) await bob.receiveFrame(f, 'mailbox');
    await p.clock.advance(100);
    expect(p.bob.seen.protocolErrors).toEqual([]);
    expect(bob.stats().duplicates).toBeGreaterThan(statsBefore.duplicates);

    expect(await snapshot(p.bob.handle.store, ALICE)).toEqual(before);
    expect(p.bob.seen.messages).toHaveLength(seenBefore);
    expect(p.bob.seen.errors).toEqual([]);
    // Every ACK Bob sent meanwhile says what he had before: cursor 3, nothing held.
    for (const a of cap.of('ack')) expect(a).toEqual({ type: 'ack', cumulative: 3, ranges: [] });
    p.close();
  });

  it('acknowledges only what the store kept: a failed write is neither shown nor acknowledged, and the retransmission delivers it once', async () => {
    const store = new MemoryChatStore({ now: () => T0 });
    let failNext = true;
    const flaky: ChatStore = Object.create(store) as ChatStore;
    flaky.deliverIncoming = async (...args) => {
      if (failNext) {
        failNext = false;
        throw new Error('disk full');
      }
      return store.deliverIncoming(...args);
    };
    const { clock, bob, cap } = await loneBob({}, flaky);
    const f = data(1, textItem('once'));
    await expect(bob.conv.receiveFrame(f)).rejects.toThrow('disk full');
    await clock.idle();
    expect(bob.seen.messages).toEqual([]);
    expect(cap.of('ack').every((a) => a.cumulative === 0)).toBe(true);
    await bob.conv.receiveFrame(f);
    await bob.conv.receiveFrame(f);
    await clock.idle();
    expect(bob.seen.messages.map((m) => m.text)).toEqual(['once']);
    expect(cap.of('ack').at(-1)).toEqual({ type: 'ack', cumulative: 1, ranges: [] });
  });
});

describe('inbound rate limit', () => {
  it('drops and counts frames over the bucket; nothing else changes', async () => {
    const { clock, bob } = await loneBob({ inboundRate: 10, inboundBurst: 20 });
    for (let s = 1; s <= 50; s++) await bob.conv.receiveFrame(data(s));
    await clock.idle();
    expect(bob.conv.stats().rateLimited).toBe(30);
    expect(bob.seen.messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await bob.handle.store.conversationState(ALICE)).held).toEqual([]);
    await clock.advance(1000);
    for (let s = 21; s <= 35; s++) await bob.conv.receiveFrame(data(s));
    expect(bob.conv.stats().rateLimited).toBe(35);
    expect(bob.seen.messages).toHaveLength(30);
    // The mailbox path is not rate-limited (the caller fetched those frames itself).
    for (let s = 31; s <= 60; s++) await bob.conv.receiveFrame(data(s), 'mailbox');
    expect(bob.seen.messages).toHaveLength(60);
  });

  it('the sender’s retransmission covers what the limit dropped', async () => {
    const p = await Pair.create('memory', {}, { inboundRate: 20, inboundBurst: 10 });
    p.connect();
    for (let i = 0; i < 200; i++) await p.alice.conv.sendText(`m${i}`);
    await p.clock.until(() => p.bob.seen.messages.length === 200 && !p.alice.conv.hasUnacked(), 600_000, 'all delivered');
    expect(p.bob.seen.messages.map((m) => m.text)).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`));
    expect(p.bob.conv.stats().rateLimited).toBeGreaterThan(0);
    p.close();
  });
});

describe('ordering and the receive window', () => {
  it('holds items ahead of a gap in the store (across a restart), announces them, and shows all in order once the gap fills', async () => {
    const { clock, bob, cap } = await loneBob();
    await bob.conv.receiveFrame(data(3, textItem('three')));
    await bob.conv.receiveFrame(data(2, textItem('two')));
    await bob.conv.receiveFrame(data(5, textItem('five')));
    await clock.idle();
    expect(bob.seen.messages).toEqual([]);
    expect(cap.of('ack').at(-1)).toEqual({ type: 'ack', cumulative: 0, ranges: [{ start: 2, end: 3 }, { start: 5, end: 5 }] });
    await bob.restart();
    const cap2 = new Capture();
    bob.conv.attach(cap2);
    await clock.idle();
    expect(cap2.of('hello')[0]).toMatchObject({ recvCursor: 0, ranges: [{ start: 2, end: 3 }, { start: 5, end: 5 }], replyWanted: true });
    await bob.conv.receiveFrame(data(1, textItem('one')));
    await clock.idle();
    expect(bob.seen.messages.map((m) => m.text)).toEqual(['one', 'two', 'three']);
    expect(cap2.of('ack').at(-1)).toEqual({ type: 'ack', cumulative: 3, ranges: [{ start: 5, end: 5 }] });
  });

  it('drops items beyond the receive window (not held, not acknowledged)', async () => {
    const { clock, bob, cap } = await loneBob({ recvWindow: 16 });
    await bob.conv.receiveFrame(data(17));
    await bob.conv.receiveFrame(data(16));
    await clock.idle();
    expect(bob.conv.stats().outOfWindow).toBe(1);
    expect((await bob.handle.store.conversationState(ALICE)).held).toEqual([16]);
    expect(cap.of('ack').at(-1)).toEqual({ type: 'ack', cumulative: 0, ranges: [{ start: 16, end: 16 }] });
  });
});

describe('resuming', () => {
  it('retransmits at once after the HELLO exchange on a new channel, whatever the backed-off timers say', async () => {
    const p = await Pair.create('memory', { loss: 1 });
    p.connect();
    for (let i = 0; i < 5; i++) await p.alice.conv.sendText(`m${i}`);
    await p.clock.advance(20_000);
    expect(p.bob.seen.messages).toEqual([]);
    // A working channel: everything arrives within a few link delays (5 ms), far below any timer.
    (p.linkOptions as { loss?: number }).loss = 0;
    p.connect();
    await p.clock.advance(50);
    expect(p.bob.seen.messages.map((m) => m.text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    await p.clock.advance(50);
    expect(p.alice.conv.hasUnacked()).toBe(false);
    p.close();
  });

  it('answers a HELLO arriving mid-channel with its own and retransmits everything unacknowledged at once', async () => {
    const { clock, bob, cap } = await loneBob();
    // The HELLO exchange of this channel (Alice has nothing of Bob's yet).
    await bob.conv.receiveFrame(frame({ type: 'hello', replyWanted: false, window: 256, recvCursor: 0, lastSeq: 0, ranges: [] }));
    for (let i = 0; i < 3; i++) await bob.conv.sendText(`b${i}`);
    await clock.advance(10);
    const dataCount = () => cap.of('data').length;
    expect(dataCount()).toBe(3);
    // Alice's side reconnected and says it holds item 1 only; Bob's timers are far from due.
    await bob.conv.receiveFrame(frame({ type: 'hello', replyWanted: true, window: 256, recvCursor: 1, lastSeq: 0, ranges: [] }));
    await clock.idle();
    expect(cap.of('data').slice(3).map((f) => f.seq)).toEqual([2, 3]);
    expect(cap.of('hello').at(-1)).toMatchObject({ replyWanted: false, recvCursor: 0, lastSeq: 3 });
  });

  it('delivers through the mailbox, and the HELLO then tells the sender so: nothing is sent again', async () => {
    const p = await Pair.create('memory');
    for (let i = 0; i < 3; i++) await p.alice.conv.sendText(`offline ${i}`);
    const frames = await p.alice.conv.pendingFrames(1 << 20);
    expect(frames).toHaveLength(3);
    const small = await p.alice.conv.pendingFrames(frames[0]!.length + frames[1]!.length);
    expect(small.map(toHex)).toEqual(frames.slice(0, 2).map(toHex));
    expect(await p.alice.conv.pendingFrames(1)).toEqual([]);
    for (const f of frames) await p.bob.conv.receiveFrame(f, 'mailbox');
    expect(p.bob.seen.messages.map((m) => m.text)).toEqual(['offline 0', 'offline 1', 'offline 2']);
    expect(p.alice.conv.hasUnacked()).toBe(true);
    const link = p.connect(true);
    await p.clock.advance(100);
    expect(link.logA.sent.filter((s) => s.frame.type === 'data')).toEqual([]);
    expect(p.alice.conv.hasUnacked()).toBe(false);
    expect(await p.alice.conv.pendingFrames(1 << 20)).toEqual([]);
    expect([...p.alice.seen.statuses.values()].every((s) => s.at(-1) === 'delivered')).toBe(true);
    expect(p.bob.seen.messages).toHaveLength(3);
    await expect(p.alice.conv.pendingFrames(0)).rejects.toThrow(RangeError);
    p.close();
  });
});

describe('typing', () => {
  it('sends at most one TYPING per interval, expires on the receiver, and ends when a message arrives', async () => {
    const p = await Pair.create('memory');
    const link = p.connect(true);
    await p.clock.advance(50);
    const typingFrames = () => link.logA.sent.filter((s) => s.frame.type === 'typing');
    for (let i = 0; i < 5; i++) {
      p.alice.conv.setTyping(true);
      await p.clock.advance(200);
    }
    expect(typingFrames()).toHaveLength(1);
    expect(p.bob.seen.typing).toEqual([true]);
    // No refresh: the indicator switches itself off after typingTimeout (6 s).
    await p.clock.advance(6000);
    expect(p.bob.seen.typing).toEqual([true, false]);
    // Active again (refresh is due), then stop 100 ms later: the stop waits for the interval.
    p.alice.conv.setTyping(true);
    await p.clock.advance(100);
    p.alice.conv.setTyping(false);
    await p.clock.advance(100);
    expect(typingFrames().map((s) => (s.frame as { active: boolean }).active)).toEqual([true, true]);
    await p.clock.advance(3000);
    const frames = typingFrames();
    expect(frames.map((s) => (s.frame as { active: boolean }).active)).toEqual([true, true, false]);
    expect(frames[2]!.at - frames[1]!.at).toBe(3000);
    expect(p.bob.seen.typing).toEqual([true, false, true, false]);
    // A message from the typist ends the indicator at once.
    p.alice.conv.setTyping(true);
    await p.clock.advance(3100);
    expect(p.bob.seen.typing.at(-1)).toBe(true);
    await p.alice.conv.sendText('done typing');
    await p.clock.advance(50);
    expect(p.bob.seen.typing.at(-1)).toBe(false);
    p.close();
  });
});

describe('windows and retransmission', () => {
  it('keeps at most sendWindow items in flight, and at most the peer’s announced window', async () => {
    const p = await Pair.create('memory', { delay: 1000 }, { rtoInitial: 5000 });
    (p.alice.limits as { sendWindow?: number }).sendWindow = 4;
    await p.alice.restart();
    const link = p.connect(true);
    for (let i = 0; i < 10; i++) await p.alice.conv.sendText(`m${i}`);
    await p.clock.advance(2500);
    const seqsBeforeAck = (until: number) =>
      link.logA.sent.filter((s) => s.frame.type === 'data' && s.at < until).map((s) => (s.frame as { seq: number }).seq);
    // HELLO both ways takes 1 s; the first ACK returns 1 s after the first items.
    expect(seqsBeforeAck(T0 + 2000)).toEqual([1, 2, 3, 4]);
    await p.clock.until(() => p.bob.seen.messages.length === 10, 60_000, 'all delivered');
    p.close();

    const q = await Pair.create('memory', { delay: 1000 }, { rtoInitial: 5000 });
    (q.bob.limits as { recvWindow?: number }).recvWindow = 3;
    await q.bob.restart();
    const link2 = q.connect(true);
    for (let i = 0; i < 10; i++) await q.alice.conv.sendText(`m${i}`);
    await q.clock.advance(2500);
    const early = link2.logA.sent.filter((s) => s.frame.type === 'data' && s.at < 2000 + T0);
    expect(early.map((s) => (s.frame as { seq: number }).seq)).toEqual([1, 2, 3]);
    expect(link2.logB.sent.find((s) => s.frame.type === 'hello')?.frame).toMatchObject({ window: 3 });
    await q.clock.until(() => q.bob.seen.messages.length === 10, 60_000, 'all delivered');
    q.close();
  });

  it('backs the retransmission timer off by doubling up to rtoMax (RFC 6298 §5.5)', async () => {
    const p = await Pair.create('memory', { loss: 1 }, { rtoInitial: 1000, rtoMax: 30_000 });
    const link = p.connect(true);
    await p.alice.conv.sendText('lost');
    await p.clock.advance(200_000);
    const times = link.logA.sent.filter((s) => s.frame.type === 'data').map((s) => s.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // The first retransmission after the initial RTO, then each wait doubled (§5.5, §5.6).
    expect(gaps.slice(0, 7)).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(p.alice.conv.stats().retransmissions).toBe(times.length - 1);
    p.close();
  });
});

describe('API', () => {
  it('checks its options', async () => {
    const store = new MemoryChatStore();
    const clock = new Clock();
    const base = { self: ALICE_KEY, peer: BOB_KEY, store, scheduler: clock.sched, random: seededRandom(1) };
    expect(() => new Conversation({ ...base, self: new Uint8Array(31) })).toThrow(/opts\.self/);
    expect(() => new Conversation({ ...base, peer: ALICE_KEY })).toThrow(RangeError);
    expect(() => new Conversation({ ...base, store: {} as ChatStore })).toThrow(TypeError);
    expect(() => new Conversation({ ...base, scheduler: {} as never })).toThrow(TypeError);
    expect(() => new Conversation({ ...base, random: 1 as never })).toThrow(TypeError);
    expect(() => new Conversation({ ...base, limits: { sendWindow: 0 } })).toThrow(/limits\.sendWindow/);
    expect(() => new Conversation({ ...base, limits: { rtoMin: 5000, rtoInitial: 1000 } })).toThrow(/limits\.rtoInitial/);
    expect(() => new Conversation({ ...base, limits: { fileChunkSize: 100 } })).toThrow(/limits\.fileChunkSize/);
    const c = await Conversation.open({ ...base, random: () => new Uint8Array(3) });
    await expect(c.sendText('x')).rejects.toThrow(/opts\.random/);
    expect(() => c.attach({} as never)).toThrow(TypeError);
    expect(() => c.setTyping('yes' as never)).toThrow(TypeError);
    await expect(c.receiveFrame('x' as never)).rejects.toThrow(TypeError);
    await expect(c.receiveFrame(new Uint8Array(3), 'post' as never)).rejects.toThrow(RangeError);
    c.close();
    await expect(c.sendText('x')).rejects.toThrow(/closed/);
    await expect(c.markRead()).rejects.toThrow(/closed/);
    expect(() => c.attach(new Capture())).toThrow(/closed/);
    await c.receiveFrame(data(1));
    expect(await store.listMessages(BOB, { limit: 5 })).toEqual([]);
  });

  it('survives a transport that throws, and sends nothing on a closed one', async () => {
    const { clock, bob } = await loneBob();
    let calls = 0;
    bob.conv.attach({
      send: () => {
        calls++;
        throw new Error('broken pipe');
      },
      isOpen: true,
    });
    await bob.conv.sendText('still stored');
    await clock.advance(3000);
    expect(calls).toBeGreaterThan(0);
    const closed = new Capture();
    closed.isOpen = false;
    bob.conv.attach(closed);
    await clock.advance(3000);
    expect(closed.frames).toEqual([]);
    expect((await bob.handle.store.listMessages(ALICE, { limit: 5 })).map((m) => m.text)).toEqual(['still stored']);
    expect(bob.seen.errors).toEqual([]);
  });
});
