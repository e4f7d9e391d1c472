/**
 * Acceptance: two conversations over an in-memory channel that loses 5 % of frames, duplicates
 * 10 % and reorders them (random delays), on a fake clock. 1,000 messages each way, the channel
 * broken three times, and three restarts of each side (the conversation closed and opened again
 * from the same store; for SQLite the database file is closed and reopened). Every message must
 * be shown exactly once, in order, on the other side, and stored that way; every one of ours
 * must end up delivered.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ALICE, BOB, Pair, StoreHandle, type User } from './helpers';

afterAll(() => StoreHandle.removeAll());

const N = 1000;

async function expectExactlyOnceInOrder(receiver: User, sender: User, prefix: string, senderKey: string, receiverKey: string): Promise<void> {
  const expected = Array.from({ length: N }, (_, i) => `${prefix}${i}`);
  // What the events showed, across every restart.
  expect(receiver.seen.messages.map((m) => m.text)).toEqual(expected);
  expect(new Set(receiver.seen.messages.map((m) => m.id)).size).toBe(N);
  expect(receiver.seen.messages.map((m) => m.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
  // What the receiver's store holds, in the order it was stored.
  const stored = await receiver.handle.store.listMessages(senderKey, { limit: 1000 });
  const incoming = [...stored];
  let before = incoming[0]?.id;
  while (incoming.filter((m) => m.direction === 'in').length < N && before !== undefined) {
    const page = await receiver.handle.store.listMessages(senderKey, { before, limit: 1000 });
    if (page.length === 0) break;
    incoming.unshift(...page);
    before = page[0]!.id;
  }
  expect(incoming.filter((m) => m.direction === 'in').map((m) => m.text)).toEqual(expected);
  // Every message the sender stored reached 'delivered' (or 'read').
  const out = await sender.handle.store.listMessages(receiverKey, { limit: 1000 });
  let page = out;
  const all = [...out];
  while (page.length > 0) {
    page = await sender.handle.store.listMessages(receiverKey, { before: page[0]!.id, limit: 1000 });
    all.unshift(...page);
  }
  const mine = all.filter((m) => m.direction === 'out');
  expect(mine.map((m) => m.text)).toEqual(expected);
  expect(mine.every((m) => m.status === 'delivered' || m.status === 'read')).toBe(true);
}

describe.each(['memory', 'sqlite'] as const)('reliability (%s store)', (kind) => {
  it('1,000 messages each way over a lossy, duplicating, reordering channel with restarts: each shown exactly once, in order', async () => {
    const p = await Pair.create(kind, { loss: 0.05, duplicate: 0.1, delay: 5, jitter: 40 });
    p.connect();
    const restartAlice = new Set([180, 520, 830]);
    const restartBob = new Set([330, 610, 940]);
    const breakChannel = new Set([90, 420, 720]);
    for (let i = 0; i < N; i++) {
      await Promise.all([p.alice.conv.sendText(`a${i}`), p.bob.conv.sendText(`b${i}`)]);
      if (i % 10 === 9) await p.clock.advance(15 + (i % 7) * 10);
      if (breakChannel.has(i)) {
        p.disconnect();
        await p.clock.advance(500);
        p.connect();
      }
      if (restartAlice.has(i)) {
        p.disconnect();
        await p.alice.restart();
        p.connect();
      }
      if (restartBob.has(i)) {
        p.disconnect();
        await p.bob.restart();
        p.connect();
      }
    }
    await p.clock.until(
      () =>
        p.alice.seen.messages.length >= N &&
        p.bob.seen.messages.length >= N &&
        !p.alice.conv.hasUnacked() &&
        !p.bob.conv.hasUnacked(),
      30 * 60_000,
      'both sides have everything',
    );
    expect(p.alice.restarts).toBe(3);
    expect(p.bob.restarts).toBe(3);
    expect(p.linkErrors).toEqual([]);
    expect(p.alice.seen.errors).toEqual([]);
    expect(p.bob.seen.errors).toEqual([]);
    expect(p.alice.seen.protocolErrors).toEqual([]);
    expect(p.bob.seen.protocolErrors).toEqual([]);
    await expectExactlyOnceInOrder(p.bob, p.alice, 'a', ALICE, BOB);
    await expectExactlyOnceInOrder(p.alice, p.bob, 'b', BOB, ALICE);
    // The loss was real: the protocol had to retransmit and saw duplicates.
    const stats = [p.alice.conv.stats(), p.bob.conv.stats()];
    expect(stats.some((s) => s.retransmissions > 0)).toBe(true);
    expect(stats.some((s) => s.duplicates > 0)).toBe(true);
    p.close();
  });
});
