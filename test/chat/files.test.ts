/**
 * File transfer: the offer is a reliable item, the receiver pulls chunks from its stored
 * progress, chunks are idempotent, transfers resume after a broken channel and after a restart
 * (from where they stopped, not from zero), the SHA-256 is checked at the end, and either side
 * can cancel. Runs against both stores.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, describe, expect, it } from 'vitest';
import { type ChatStore, Conversation, encodeFrame } from '../../node-core/chat';
import { fromHex, toHex } from '../../node-core/util/bytes';
import { ALICE, ALICE_KEY, BOB, BOB_KEY, Capture, Pair, StoreHandle, type StoreKind, memFile, pattern, recorder, newSeen, seededRandom, snapshot } from './helpers';

afterAll(() => StoreHandle.removeAll());

const LIMITS = Object.freeze({ fileChunkSize: 4096, filePullWindow: 4 });

async function received(store: ChatStore, peer: string, fileId: string, size: number): Promise<string> {
  return toHex(await store.readFileBytes(peer, fileId, 'in', 0, size));
}

describe.each(['memory', 'sqlite'] as const)('file transfer (%s store)', (kind: StoreKind) => {
  it('sends a file over a lossy, reordering channel; both sides see it complete with the right bytes', async () => {
    const p = await Pair.create(kind, { loss: 0.05, duplicate: 0.1, jitter: 30 }, LIMITS);
    p.connect();
    const bytes = pattern(100_003);
    const m = await p.alice.conv.sendFile(memFile('report.pdf', bytes));
    expect(m).toMatchObject({ kind: 'file', direction: 'out', status: 'pending', file: { name: 'report.pdf', size: 100_003 } });
    const fileId = m.file!.fileId;
    await p.clock.until(() => p.alice.seen.complete.includes(fileId) && !p.alice.conv.hasUnacked() && !p.bob.conv.hasUnacked(), 600_000, 'file complete');
    expect(p.bob.seen.complete).toEqual([fileId]);
    expect(p.bob.seen.messages[0]).toMatchObject({ kind: 'file', id: m.id, file: { fileId, name: 'report.pdf', size: 100_003 } });
    expect(await received(p.bob.handle.store, ALICE, fileId, bytes.length)).toBe(toHex(bytes));
    expect((await p.bob.handle.store.transfer(ALICE, fileId, 'in'))!.state).toBe('complete');
    expect((await p.alice.handle.store.transfer(BOB, fileId, 'out'))!.state).toBe('complete');
    const inProgress = p.bob.seen.progress.filter((x) => x.direction === 'in').map((x) => x.bytes);
    expect(inProgress).toEqual([...inProgress].sort((a, b) => a - b));
    expect(inProgress.at(-1)).toBe(100_003);
    expect(p.alice.seen.progress.filter((x) => x.direction === 'out').at(-1)).toMatchObject({ bytes: 100_003, total: 100_003 });
    expect(p.linkErrors).toEqual([]);
    expect(p.bob.seen.protocolErrors).toEqual([]);
    p.close();
  });

  it('resumes after a broken channel from the stored progress', async () => {
    const p = await Pair.create(kind, {}, LIMITS);
    p.connect();
    const bytes = pattern(100_000, 5);
    const { file } = await p.alice.conv.sendFile(memFile('big.bin', bytes));
    const fileId = file!.fileId;
    await p.clock.until(() => (p.bob.seen.progress.at(-1)?.bytes ?? 0) >= 40_000, 60_000, 'part of the file');
    p.disconnect();
    await p.clock.advance(10_000);
    const stored = (await p.bob.handle.store.transfer(ALICE, fileId, 'in'))!.bytes;
    expect(stored).toBeGreaterThanOrEqual(40_000);
    expect(stored).toBeLessThan(100_000);
    expect(p.bob.conv.hasUnacked()).toBe(true);
    const link = p.connect(true);
    await p.clock.until(() => p.bob.seen.complete.includes(fileId), 60_000, 'file complete');
    const pulls = link.logB.sent.filter((s) => s.frame.type === 'file-pull').map((s) => s.frame as { offset: number });
    expect(pulls[0]!.offset).toBe(stored);
    expect(Math.min(...pulls.map((x) => x.offset))).toBe(stored);
    const chunkOffsets = link.logA.sent.filter((s) => s.frame.type === 'file-chunk').map((s) => (s.frame as { offset: number }).offset);
    expect(Math.min(...chunkOffsets)).toBe(stored);
    expect(await received(p.bob.handle.store, ALICE, fileId, bytes.length)).toBe(toHex(bytes));
    p.close();
  });

  it('resumes after both sides restart (the database reopened) from the stored progress', async () => {
    const p = await Pair.create(kind, {}, LIMITS);
    p.connect();
    const bytes = pattern(90_000, 6);
    const { file } = await p.alice.conv.sendFile(memFile('big.bin', bytes));
    const fileId = file!.fileId;
    await p.clock.until(() => (p.bob.seen.progress.at(-1)?.bytes ?? 0) >= 30_000, 60_000, 'part of the file');
    p.disconnect();
    await p.alice.restart();
    await p.bob.restart();
    const stored = (await p.bob.handle.store.transfer(ALICE, fileId, 'in'))!.bytes;
    expect(stored).toBeGreaterThanOrEqual(30_000);
    expect(p.bob.conv.hasUnacked()).toBe(true);
    const link = p.connect(true);
    await p.clock.until(() => p.bob.seen.complete.includes(fileId) && p.alice.seen.complete.includes(fileId), 60_000, 'file complete');
    const pulls = link.logB.sent.filter((s) => s.frame.type === 'file-pull').map((s) => (s.frame as { offset: number }).offset);
    expect(pulls[0]).toBe(stored);
    expect(await received(p.bob.handle.store, ALICE, fileId, bytes.length)).toBe(toHex(bytes));
    if (kind === 'sqlite') {
      const path = (p.bob.handle.store as import('../../node-core/io/storage').SqliteChatStore).filePath(ALICE, fileId, 'in')!;
      expect(path.endsWith('.part')).toBe(false);
    }
    expect(p.bob.seen.messages).toHaveLength(1);
    p.close();
  });

  it('detects a SHA-256 mismatch: the transfer fails clearly on both sides', async () => {
    const p = await Pair.create(kind, {}, LIMITS);
    // Alice's store hands out one wrong byte (a damaged disk, or a lying sender).
    const real = p.alice.handle.store;
    const lying: ChatStore = Object.create(real) as ChatStore;
    lying.readFileBytes = async (...args) => {
      const b = await real.readFileBytes(...args);
      if (args[2] === 'out' && args[3] === 4096 && b.length > 0) b[0] = b[0]! ^ 1;
      return b;
    };
    p.alice.handle.store = lying;
    await p.alice.restart(false);
    p.connect();
    const bytes = pattern(20_000, 8);
    const { file } = await p.alice.conv.sendFile(memFile('x.bin', bytes));
    const fileId = file!.fileId;
    await p.clock.until(() => p.alice.seen.failed.length > 0, 60_000, 'the sender learns of the failure');
    expect(p.bob.seen.failed).toEqual([{ fileId, reason: 'hash-mismatch' }]);
    expect(p.bob.seen.protocolErrors).toEqual(['file-mismatch']);
    expect(p.bob.seen.complete).toEqual([]);
    expect(p.alice.seen.failed).toEqual([{ fileId, reason: 'hash-mismatch' }]);
    expect(await real.transfer(BOB, fileId, 'out')).toMatchObject({ state: 'failed', reason: 'hash-mismatch' });
    expect(await p.bob.handle.store.transfer(ALICE, fileId, 'in')).toMatchObject({ state: 'failed', reason: 'hash-mismatch' });
    await p.clock.advance(500);
    expect(p.bob.conv.hasUnacked()).toBe(false);
    p.alice.handle.store = real;
    p.close();
  });

  it('refuses to offer a file whose bytes do not match the given SHA-256, leaving nothing behind', async () => {
    const p = await Pair.create(kind, {}, LIMITS);
    const before = await snapshot(p.alice.handle.store, BOB);
    const bytes = pattern(10_000, 9);
    await expect(p.alice.conv.sendFile(memFile('x.bin', bytes, sha256(pattern(10_000, 10))))).rejects.toThrow(/file\.sha256 does not match/);
    await expect(p.alice.conv.sendFile({ ...memFile('x.bin', bytes), read: async () => new Uint8Array(3) })).rejects.toThrow(/must return/);
    await expect(p.alice.conv.sendFile(memFile('a/b', bytes))).rejects.toThrow(/file\.name/);
    await expect(p.alice.conv.sendFile({ ...memFile('x', bytes), size: -1 })).rejects.toThrow(/file\.size/);
    expect(await snapshot(p.alice.handle.store, BOB)).toEqual(before);
    if (p.alice.handle.filesDir !== null) {
      const { readdirSync } = await import('node:fs');
      expect(readdirSync(p.alice.handle.filesDir)).toEqual([]);
    }
    p.close();
  });

  it('lets the receiver cancel: the sender is told and stops serving; the receiver stops pulling', async () => {
    const p = await Pair.create(kind, { delay: 20 }, LIMITS);
    const link = p.connect(true);
    const bytes = pattern(200_000, 11);
    const { file } = await p.alice.conv.sendFile(memFile('x.bin', bytes));
    const fileId = file!.fileId;
    await p.clock.until(() => (p.bob.seen.progress.at(-1)?.bytes ?? 0) >= 20_000, 60_000, 'part of the file');
    await p.bob.conv.cancelFile(fileId);
    const cancelledAt = p.clock.sched.now();
    await p.clock.advance(5000);
    expect(p.alice.seen.failed).toEqual([{ fileId, reason: 'cancelled' }]);
    expect(p.bob.seen.failed).toEqual([]);
    expect(await p.alice.handle.store.transfer(BOB, fileId, 'out')).toMatchObject({ state: 'cancelled', reason: 'cancelled' });
    expect(await p.bob.handle.store.transfer(ALICE, fileId, 'in')).toMatchObject({ state: 'cancelled', reason: 'cancelled' });
    expect(link.logB.sent.filter((s) => s.frame.type === 'file-pull' && s.at > cancelledAt)).toEqual([]);
    const lastChunk = Math.max(...link.logA.sent.filter((s) => s.frame.type === 'file-chunk').map((s) => s.at));
    expect(lastChunk).toBeLessThanOrEqual(cancelledAt + 20);
    // A pull for the cancelled file gets nothing.
    const chunksBefore = link.logA.sent.length;
    await p.alice.conv.receiveFrame(encodeFrame({ type: 'file-pull', fileId: fromHex(fileId), offset: 0, length: 4096 }));
    expect(link.logA.sent.length).toBe(chunksBefore);
    await expect(p.bob.conv.cancelFile(fileId)).rejects.toThrow(RangeError);
    expect(p.bob.conv.hasUnacked()).toBe(false);
    p.close();
  });

  it('refuses an offer over maxFileSize automatically; the sender sees the refusal', async () => {
    const p = await Pair.create(kind, {}, LIMITS);
    (p.bob.limits as { maxFileSize?: number }).maxFileSize = 10_000;
    await p.bob.restart();
    const link = p.connect(true);
    const { file } = await p.alice.conv.sendFile(memFile('huge.bin', pattern(20_000, 12)));
    const fileId = file!.fileId;
    await p.clock.advance(500);
    expect(p.bob.seen.messages).toHaveLength(1);
    expect(p.bob.seen.failed).toEqual([{ fileId, reason: 'refused' }]);
    expect(p.alice.seen.failed).toEqual([{ fileId, reason: 'refused' }]);
    expect(link.logB.sent.filter((s) => s.frame.type === 'file-pull')).toEqual([]);
    expect(p.bob.conv.hasUnacked()).toBe(false);
    p.close();
  });

  it('treats chunk and pull frames as idempotent: replays change nothing', async () => {
    const p = await Pair.create(kind, {}, LIMITS);
    const link = p.connect(true);
    const bytes = pattern(30_000, 13);
    const { file } = await p.alice.conv.sendFile(memFile('x.bin', bytes));
    await p.clock.until(() => p.alice.seen.complete.includes(file!.fileId) && !p.bob.conv.hasUnacked() && !p.alice.conv.hasUnacked(), 60_000, 'complete');
    await p.clock.advance(1000);
    const before = [await snapshot(p.bob.handle.store, ALICE), await snapshot(p.alice.handle.store, BOB)];
    for (const s of link.logA.sent) if (s.frame.type === 'file-chunk') await p.bob.conv.receiveFrame(encodeFrame(s.frame));
    for (const s of link.logB.sent) if (s.frame.type === 'file-pull') await p.alice.conv.receiveFrame(encodeFrame(s.frame));
    await p.clock.advance(1000);
    expect([await snapshot(p.bob.handle.store, ALICE), await snapshot(p.alice.handle.store, BOB)]).toEqual(before);
    expect(p.bob.seen.protocolErrors).toEqual([]);
    expect(p.alice.seen.protocolErrors).toEqual([]);
    expect(p.bob.seen.complete).toEqual([file!.fileId]);
    p.close();
  });

  it('sends an empty file', async () => {
    const p = await Pair.create(kind, {}, LIMITS);
    p.connect();
    const { file } = await p.alice.conv.sendFile(memFile('empty.txt', new Uint8Array(0)));
    await p.clock.until(() => p.alice.seen.complete.includes(file!.fileId), 10_000, 'complete');
    expect(p.bob.seen.complete).toEqual([file!.fileId]);
    p.close();
  });
});

describe('file transfer, stored but not yet checked', () => {
  it('is checked when the conversation opens, and the done item goes out on the next channel', async () => {
    const store = new StoreHandle('memory', 'bob').store;
    const bytes = pattern(5000, 14);
    const fileId = new Uint8Array(16).fill(7);
    const offer = { kind: 'file-offer' as const, messageId: new Uint8Array(16).fill(8), fileId, name: 'x', size: 5000, sha256: sha256(bytes), chunkSize: 1024 };
    await store.deliverIncoming(ALICE, 1, 1, offer, 1);
    await store.appendFileBytes(ALICE, toHex(fileId), 'in', 0, bytes, 2);
    const seen = newSeen();
    const { Clock } = await import('./helpers');
    const clock = new Clock();
    const bob = await Conversation.open({ self: BOB_KEY, peer: ALICE_KEY, store, scheduler: clock.sched, random: seededRandom(3), events: recorder(seen) });
    await bob.whenIdle();
    expect(seen.complete).toEqual([toHex(fileId)]);
    expect((await store.transfer(ALICE, toHex(fileId), 'in'))!.state).toBe('complete');
    const cap = new Capture();
    bob.attach(cap);
    await clock.advance(2000);
    expect(cap.of('data').map((f) => f.item.kind)).toContain('file-done');
    bob.close();
  });
});
