/**
 * The presence node's mailbox store (node-core/rendezvous/mailbox-store.ts): who may receive,
 * quotas per owner and per node, item size, TTL, duplicates, rates, fetch and ack, and that a
 * refused deposit changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { DEFAULT_MAILBOX_STORE_LIMITS, MailboxStore, MAX_MAILBOX_ITEM_LENGTH, type DepositResult } from '../../node-core/rendezvous';
import { toHex } from '../../node-core/util/bytes';
import { bob, bobAnnounce, carol, carolAnnounce, fakeEnvelope, mailboxItem, NOW } from './helpers';

const DAY = 24 * 3600_000;

/** Distinct items of `size` bytes sealed (in layout) to Bob's key. */
function items(n: number, size = 100, key = bobAnnounce.public): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => {
    const e = fakeEnvelope(key, size - 67);
    e[67] = i & 0xff;
    e[68] = (i >> 8) & 0xff;
    return e;
  });
}

function reason(r: DepositResult): string {
  return r.ok ? 'ok' : r.reason;
}

function bobStore(limits = {}): MailboxStore {
  const s = new MailboxStore({ depositsPerMinutePerOwner: 100_000, depositsPerMinutePerSource: 100_000, ...limits });
  expect(s.noteOwner(bob.publicKey, bobAnnounce.public, NOW)).toBe(true);
  return s;
}

describe('MailboxStore', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_MAILBOX_STORE_LIMITS.maxItemsPerOwner).toBe(200);
    expect(DEFAULT_MAILBOX_STORE_LIMITS.maxBytesPerOwner).toBe(4 * 1024 * 1024);
    expect(DEFAULT_MAILBOX_STORE_LIMITS.maxItemBytes).toBe(MAX_MAILBOX_ITEM_LENGTH);
    expect(DEFAULT_MAILBOX_STORE_LIMITS.maxItemBytes).toBeLessThanOrEqual(64 * 1024);
    expect(DEFAULT_MAILBOX_STORE_LIMITS.ttlMs).toBe(7 * DAY);
  });

  it('stores, counts, fetches oldest first and deletes on ack', () => {
    const s = bobStore();
    const real = mailboxItem();
    const [a, b] = items(2);
    for (const it of [real, a!, b!]) expect(s.deposit(bob.publicKey, it, NOW).ok).toBe(true);
    expect(s.count(bob.publicKey, NOW)).toBe(3);
    const got = s.fetch(bob.publicKey, 10, NOW);
    expect(got.map((e) => toHex(e.bytes))).toEqual([real, a!, b!].map(toHex));
    expect(got.map((e) => toHex(e.id))).toEqual([real, a!, b!].map((x) => toHex(sha256(x))));
    expect(s.fetch(bob.publicKey, 2, NOW)).toHaveLength(2);
    // Fetching removes nothing; acking does, and unknown ids are ignored.
    expect(s.count(bob.publicKey, NOW)).toBe(3);
    expect(s.ack(bob.publicKey, [got[0]!.id, sha256(new Uint8Array(1))], NOW)).toBe(1);
    expect(s.fetch(bob.publicKey, 10, NOW).map((e) => toHex(e.bytes))).toEqual([a!, b!].map(toHex));
    expect(s.totalBytes).toBe(a!.length + b!.length);
  });

  it('fetch keeps within a byte budget, 36 bytes of framing per item', () => {
    const s = bobStore();
    for (const it of items(5, 1000)) s.deposit(bob.publicKey, it, NOW);
    expect(s.fetch(bob.publicKey, 10, NOW, 3 * 1036)).toHaveLength(3);
    expect(s.fetch(bob.publicKey, 10, NOW, 3 * 1036 - 1)).toHaveLength(2);
    expect(s.fetch(bob.publicKey, 10, NOW, 0)).toHaveLength(0);
  });

  it('takes deposits only for owners bound here within the TTL, sealed to a key they announced', () => {
    const s = new MailboxStore();
    const item = mailboxItem();
    expect(reason(s.deposit(bob.publicKey, item, NOW))).toBe('not-found');
    expect(s.knows(bob.publicKey, NOW)).toBe(false);
    s.noteOwner(bob.publicKey, bobAnnounce.public, NOW);
    expect(s.knows(bob.publicKey, NOW)).toBe(true);
    // Sealed to Carol's key but deposited for Bob: Bob never announced that key here.
    expect(reason(s.deposit(bob.publicKey, items(1, 100, carolAnnounce.public)[0]!, NOW))).toBe('not-found');
    expect(reason(s.deposit(carol.publicKey, items(1, 100, carolAnnounce.public)[0]!, NOW))).toBe('not-found');
    expect(reason(s.deposit(bob.publicKey, item, NOW + 7 * DAY))).toBe('ok');
    expect(s.knows(bob.publicKey, NOW + 7 * DAY + 1)).toBe(false);
    expect(reason(s.deposit(bob.publicKey, items(1)[0]!, NOW + 7 * DAY + 1))).toBe('not-found');
    // A new announcement opens the mailbox again.
    s.noteOwner(bob.publicKey, bobAnnounce.public, NOW + 8 * DAY);
    expect(reason(s.deposit(bob.publicKey, items(1)[0]!, NOW + 8 * DAY))).toBe('ok');
  });

  it('remembers a bounded number of announcement keys per owner', () => {
    const s = new MailboxStore({ maxKeysPerOwner: 2 });
    const keys = [1, 2, 3].map((n) => new Uint8Array(32).fill(n));
    for (const k of keys) s.noteOwner(bob.publicKey, k, NOW);
    expect(reason(s.deposit(bob.publicKey, fakeEnvelope(keys[0]!), NOW))).toBe('not-found');
    expect(reason(s.deposit(bob.publicKey, fakeEnvelope(keys[1]!), NOW))).toBe('ok');
    expect(reason(s.deposit(bob.publicKey, fakeEnvelope(keys[2]!), NOW))).toBe('ok');
  });

  it('holds at most maxItemsPerOwner items; a full mailbox refuses and keeps what it has', () => {
    const s = bobStore();
    const all = items(201);
    for (const it of all.slice(0, 200)) expect(reason(s.deposit(bob.publicKey, it, NOW))).toBe('ok');
    const before = s.totalBytes;
    expect(reason(s.deposit(bob.publicKey, all[200]!, NOW))).toBe('refused');
    expect(s.count(bob.publicKey, NOW)).toBe(200);
    expect(s.totalBytes).toBe(before);
    // After an ack there is room again.
    s.ack(bob.publicKey, [sha256(all[0]!)], NOW);
    expect(reason(s.deposit(bob.publicKey, all[200]!, NOW))).toBe('ok');
  });

  it('holds at most maxBytesPerOwner bytes (4 MiB by default)', () => {
    const s = bobStore();
    const big = items(65, 65_000);
    let stored = 0;
    for (const it of big) if (s.deposit(bob.publicKey, it, NOW).ok) stored++;
    expect(stored).toBe(Math.floor((4 * 1024 * 1024) / 65_000));
    expect(s.totalBytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(s.totalBytes).toBe(stored * 65_000);
  });

  it('refuses items over the item size limit', () => {
    const s = bobStore({ maxItemBytes: 1000 });
    expect(reason(s.deposit(bob.publicKey, items(1, 1000)[0]!, NOW))).toBe('ok');
    expect(reason(s.deposit(bob.publicKey, items(1, 1001)[0]!, NOW))).toBe('refused');
    expect(() => new MailboxStore({ maxItemBytes: MAX_MAILBOX_ITEM_LENGTH + 1 })).toThrow(/maxItemBytes/);
  });

  it('holds at most maxTotalBytes across owners', () => {
    const s = bobStore({ maxTotalBytes: 2500 });
    s.noteOwner(carol.publicKey, carolAnnounce.public, NOW);
    expect(reason(s.deposit(bob.publicKey, items(1, 1000)[0]!, NOW))).toBe('ok');
    expect(reason(s.deposit(carol.publicKey, items(1, 1000, carolAnnounce.public)[0]!, NOW))).toBe('ok');
    expect(reason(s.deposit(carol.publicKey, items(2, 1000, carolAnnounce.public)[1]!, NOW))).toBe('refused');
    expect(s.totalBytes).toBe(2000);
  });

  it('stores a duplicate item id once', () => {
    const s = bobStore();
    const item = mailboxItem();
    const first = s.deposit(bob.publicKey, item, NOW);
    const second = s.deposit(bob.publicKey, item.slice(), NOW);
    expect(first.ok && !first.duplicate).toBe(true);
    expect(second.ok && second.duplicate).toBe(true);
    expect(s.count(bob.publicKey, NOW)).toBe(1);
    expect(s.totalBytes).toBe(item.length);
  });

  it('drops items after the TTL; the TTL is capped at 30 days', () => {
    const s = bobStore({ ttlMs: DAY });
    const [a, b] = items(2);
    s.deposit(bob.publicKey, a!, NOW);
    s.deposit(bob.publicKey, b!, NOW + 1000);
    expect(s.count(bob.publicKey, NOW + DAY - 1)).toBe(2);
    expect(s.count(bob.publicKey, NOW + DAY)).toBe(1);
    expect(s.fetch(bob.publicKey, 10, NOW + DAY).map((e) => toHex(e.bytes))).toEqual([toHex(b!)]);
    expect(s.expire(NOW + DAY + 1000)).toBe(1);
    expect(s.totalBytes).toBe(0);
    // Bob was bound more than a TTL ago and has nothing left: forgotten.
    expect(s.ownerCount).toBe(0);
    expect(() => new MailboxStore({ ttlMs: 30 * DAY + 1 })).toThrow(/ttlMs/);
    expect(new MailboxStore({ ttlMs: 30 * DAY }).limits.ttlMs).toBe(30 * DAY);
  });

  it('rate-limits deposits per owner and per depositing circuit', () => {
    const s = new MailboxStore({ depositsPerMinutePerOwner: 5, depositsPerMinutePerSource: 3 });
    s.noteOwner(bob.publicKey, bobAnnounce.public, NOW);
    const all = items(20);
    const results = all.slice(0, 4).map((it) => reason(s.deposit(bob.publicKey, it, NOW, 'c1')));
    expect(results).toEqual(['ok', 'ok', 'ok', 'refused']);
    // Another circuit may go on, up to the owner's rate.
    expect(all.slice(4, 7).map((it) => reason(s.deposit(bob.publicKey, it, NOW, 'c2')))).toEqual(['ok', 'ok', 'refused']);
    // Both refill with time (5 per minute for the owner).
    expect(reason(s.deposit(bob.publicKey, all[7]!, NOW + 12_000, 'c3'))).toBe('ok');
    expect(s.count(bob.publicKey, NOW + 12_000)).toBe(6);
    s.forgetSource('c1');
    expect(reason(s.deposit(bob.publicKey, all[8]!, NOW + 24_000, 'c1'))).toBe('ok');
  });

  it('refuses malformed items without changing anything', () => {
    const s = bobStore();
    const bad = fakeEnvelope(bobAnnounce.public, 15);
    expect(reason(s.deposit(bob.publicKey, bad, NOW))).toBe('malformed');
    expect(reason(s.deposit(bob.publicKey, fakeEnvelope(bobAnnounce.public, 40, 9), NOW))).toBe('malformed');
    expect(s.count(bob.publicKey, NOW)).toBe(0);
    expect(s.totalBytes).toBe(0);
  });

  it('remembers a bounded number of owners, never dropping one that holds items', () => {
    const s = new MailboxStore({ maxOwners: 2 });
    const owners = [1, 2, 3].map((n) => new Uint8Array(32).fill(n));
    expect(s.noteOwner(owners[0]!, bobAnnounce.public, NOW)).toBe(true);
    expect(s.deposit(owners[0]!, items(1)[0]!, NOW).ok).toBe(true);
    expect(s.noteOwner(owners[1]!, bobAnnounce.public, NOW)).toBe(true);
    // The third replaces the second (no items), not the first.
    expect(s.noteOwner(owners[2]!, bobAnnounce.public, NOW)).toBe(true);
    expect(s.knows(owners[0]!, NOW)).toBe(true);
    expect(s.knows(owners[1]!, NOW)).toBe(false);
    expect(s.deposit(owners[2]!, items(1)[0]!, NOW).ok).toBe(true);
    // Both remembered owners hold items now: a fourth is refused.
    expect(s.noteOwner(new Uint8Array(32).fill(4), bobAnnounce.public, NOW)).toBe(false);
    expect(s.ownerCount).toBe(2);
  });

  it('checks its parameters', () => {
    const s = new MailboxStore();
    expect(() => s.noteOwner(new Uint8Array(31), bobAnnounce.public, NOW)).toThrow(/owner/);
    expect(() => s.noteOwner(bob.publicKey, bobAnnounce.public, -1)).toThrow(/now/);
    expect(() => s.deposit(bob.publicKey, 'x' as never, NOW)).toThrow(TypeError);
    expect(() => s.fetch(bob.publicKey, -1, NOW)).toThrow(/max/);
    expect(() => s.ack(bob.publicKey, [new Uint8Array(3)], NOW)).toThrow(/ids\[0\]/);
    expect(() => new MailboxStore({ maxItemsPerOwner: 0 })).toThrow(/maxItemsPerOwner/);
  });
});
