/**
 * The one contract suite every SubscriptionRegistry implementation passes (the rules are in
 * node-core/io/storage/subscription-registry.ts). registry.test.ts runs it against
 * MemorySubscriptionRegistry and SqliteSubscriptionRegistry. Test helper, not a test file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ReceiptRecord, Subscription, SubscriptionRegistry } from '../../node-core/io/storage/subscription-registry';
import type { NormalisedUsage } from '../../node-core/stream/usage';
import { toHex } from '../../node-core/util/bytes';
import { compareBytes } from '../../node-core/util/codec';
import { ALICE, BOB, ORACLE_1, ORACLE_2, T0, bytesOf } from './helpers';

export interface RegistryUnderTest {
  readonly registry: SubscriptionRegistry;
  /** Closes it and opens the same store again (for persistence; the memory one gives itself back). */
  reopen(): SubscriptionRegistry;
  close(): void;
}

const SUB: Subscription = { identity: ALICE.publicKey, maxBitrate: 4_000_000, maxViewers: 100, publicAllowed: true, expiresAt: T0 + 86_400_000 };

function receiptRecord(over: Partial<ReceiptRecord> = {}): ReceiptRecord {
  return { receiptId: bytesOf(16, 0x11), identity: ALICE.publicKey, oracle: ORACLE_1.publicKey, issuedAt: T0, expiresAt: T0 + 600_000, source: 'own', ...over };
}

function usage(over: Partial<NormalisedUsage> = {}): NormalisedUsage {
  return {
    sessionId: bytesOf(16, 0x51),
    periodStart: T0,
    periodEnd: T0 + 60_000,
    status: 'disputed',
    viewer: { downBytes: 1000, upBytes: 10 },
    distribution: [
      { node: ORACLE_1.publicKey, downBytes: 3000, upBytes: 10 },
      { node: ORACLE_2.publicKey, downBytes: 4000, upBytes: 0 },
    ].sort((x, y) => compareBytes(x.node, y.node)),
    accepted: { downBytes: 1200, upBytes: 10 },
    disputes: [{ direction: 'down', higher: 'distribution', viewerBytes: 1000, distributionBytes: 7000 }],
    ...over,
  };
}

export function registryContract(name: string, make: () => RegistryUnderTest): void {
  describe(`${name}: the SubscriptionRegistry contract`, () => {
    let current: RegistryUnderTest | null = null;
    const open = (): RegistryUnderTest => (current = make());
    afterEach(() => {
      current?.close();
      current = null;
    });

    it('creates, replaces, lists and removes subscriptions, one per identity', async () => {
      const { registry: r } = open();
      expect(await r.getSubscription(ALICE.publicKey)).toBeUndefined();
      expect(await r.putSubscription(SUB, T0)).toBe('created');
      expect(await r.getSubscription(ALICE.publicKey)).toEqual({ ...SUB, updatedAt: T0 });
      expect(await r.putSubscription({ ...SUB, maxViewers: 7, publicAllowed: false }, T0 + 5)).toBe('updated');
      expect(await r.getSubscription(ALICE.publicKey)).toEqual({ ...SUB, maxViewers: 7, publicAllowed: false, updatedAt: T0 + 5 });
      await r.putSubscription({ ...SUB, identity: BOB.publicKey }, T0);
      const listed = await r.listSubscriptions();
      expect(listed.map((s) => toHex(s.identity))).toEqual([ALICE.publicKey, BOB.publicKey].map(toHex).sort());
      expect(await r.removeSubscription(ALICE.publicKey)).toBe(true);
      expect(await r.removeSubscription(ALICE.publicKey)).toBe(false);
      expect(await r.getSubscription(ALICE.publicKey)).toBeUndefined();
      expect(await r.listSubscriptions()).toHaveLength(1);
    });

    it('refuses bad subscriptions with TypeError/RangeError and changes nothing', async () => {
      const { registry: r } = open();
      await r.putSubscription(SUB, T0);
      await expect(r.putSubscription({ ...SUB, maxBitrate: 0 }, T0)).rejects.toThrow(/subscription\.maxBitrate/);
      await expect(r.putSubscription({ ...SUB, maxViewers: 2 ** 32 }, T0)).rejects.toThrow(RangeError);
      await expect(r.putSubscription({ ...SUB, identity: bytesOf(31, 1) }, T0)).rejects.toThrow(/subscription\.identity/);
      await expect(r.putSubscription({ ...SUB, publicAllowed: 1 as unknown as boolean }, T0)).rejects.toThrow(TypeError);
      await expect(r.putSubscription({ ...SUB, expiresAt: -1 }, T0)).rejects.toThrow(/expiresAt/);
      await expect(r.getSubscription(bytesOf(3, 0))).rejects.toThrow(RangeError);
      expect(await r.getSubscription(ALICE.publicKey)).toEqual({ ...SUB, updatedAt: T0 });
    });

    it('records a receipt once: a repeat is a duplicate, another record under its id a conflict', async () => {
      const { registry: r } = open();
      expect(await r.recordReceipt(receiptRecord(), T0)).toBe('recorded');
      expect(await r.recordReceipt(receiptRecord(), T0 + 1)).toBe('duplicate');
      expect(await r.recordReceipt(receiptRecord({ source: 'shared' }), T0 + 1)).toBe('duplicate');
      expect(await r.recordReceipt(receiptRecord({ identity: BOB.publicKey }), T0 + 1)).toBe('conflict');
      expect(await r.getReceipt(bytesOf(16, 0x11))).toEqual(receiptRecord());
      expect(await r.getReceipt(bytesOf(16, 0x12))).toBeUndefined();
      await expect(r.recordReceipt(receiptRecord({ expiresAt: T0 }), T0)).rejects.toThrow(/record\.expiresAt/);
      await expect(r.recordReceipt(receiptRecord({ receiptId: bytesOf(16, 0x13), source: 'other' as 'own' }), T0)).rejects.toThrow(/record\.source/);
      expect(await r.getReceipt(bytesOf(16, 0x13))).toBeUndefined();
    });

    it('prunes receipt records that expired before a time', async () => {
      const { registry: r } = open();
      await r.recordReceipt(receiptRecord(), T0);
      await r.recordReceipt(receiptRecord({ receiptId: bytesOf(16, 0x22), expiresAt: T0 + 10 * 600_000, source: 'shared', oracle: ORACLE_2.publicKey }), T0);
      expect(await r.pruneReceipts(T0 + 600_000)).toBe(0);
      expect(await r.pruneReceipts(T0 + 600_001)).toBe(1);
      expect(await r.getReceipt(bytesOf(16, 0x11))).toBeUndefined();
      expect((await r.getReceipt(bytesOf(16, 0x22)))?.source).toBe('shared');
    });

    it('stores normalised usage once per slot, with its reporters and their disputes', async () => {
      const { registry: r } = open();
      const a = usage();
      const b = usage({ periodStart: T0 + 60_000, periodEnd: T0 + 120_000, status: 'unconfirmed', viewer: null, distribution: [{ node: ORACLE_1.publicKey, downBytes: 5, upBytes: 0 }], accepted: { downBytes: 5, upBytes: 0 }, disputes: [] });
      expect(await r.recordUsage([a, b], T0 + 200_000)).toBe(2);
      expect(await r.recordUsage([{ ...a, accepted: { downBytes: 1, upBytes: 1 } }], T0 + 200_000)).toBe(0);
      expect(await r.usageOf(a.sessionId)).toEqual([a, b]);
      expect(await r.usageOf(bytesOf(16, 0x52))).toEqual([]);
      expect(await r.reporterStats(ORACLE_1.publicKey)).toEqual({ periods: 2, disputed: 1 });
      expect(await r.reporterStats(ORACLE_2.publicKey)).toEqual({ periods: 1, disputed: 1 });
      expect(await r.reporterStats(ALICE.publicKey)).toEqual({ periods: 0, disputed: 0 });
    });

    it('refuses an inconsistent usage batch whole, before writing any of it', async () => {
      const { registry: r } = open();
      const good = usage();
      const bad = usage({ periodStart: T0 + 60_000, periodEnd: T0 + 120_000, status: 'confirmed' }); // has a dispute
      await expect(r.recordUsage([good, bad], T0)).rejects.toThrow(/records\[1\]/);
      await expect(r.recordUsage([usage({ viewer: null, distribution: [] })], T0)).rejects.toThrow(RangeError);
      await expect(r.recordUsage([usage({ distribution: [usage().distribution[0]!, usage().distribution[0]!] })], T0)).rejects.toThrow(/repeats a node/);
      expect(await r.usageOf(good.sessionId)).toEqual([]);
    });

    it('keeps everything across a reopen', async () => {
      const t = open();
      await t.registry.putSubscription(SUB, T0);
      await t.registry.recordReceipt(receiptRecord(), T0);
      await t.registry.recordUsage([usage()], T0);
      const r = t.reopen();
      expect(await r.getSubscription(ALICE.publicKey)).toEqual({ ...SUB, updatedAt: T0 });
      expect(await r.getReceipt(bytesOf(16, 0x11))).toEqual(receiptRecord());
      expect(await r.usageOf(usage().sessionId)).toEqual([usage()]);
    });

    it('refuses every call once closed', async () => {
      const t = open();
      t.registry.close();
      await expect(t.registry.getSubscription(ALICE.publicKey)).rejects.toMatchObject({ name: 'StorageError', code: 'closed' });
      await expect(t.registry.recordReceipt(receiptRecord(), T0)).rejects.toMatchObject({ code: 'closed' });
    });
  });
}
