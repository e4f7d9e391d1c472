/**
 * The one compliance suite every IdentityRegistry implementation passes (the rules are in
 * node-core/authority/registry.ts). registry.test.ts runs it against MemoryIdentityRegistry and
 * SqliteIdentityRegistry. Test helper, not a test file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { IdentityRegistry, VerifiedRegistration } from '../../node-core/authority';
import { toHex } from '../../node-core/util/bytes';
import { T0, identityOf, keyPair, nonceFor, verifiedRegistration } from './helpers';

export interface RegistryHandle {
  readonly registry: IdentityRegistry;
  /** Releases resources (files, connections). */
  close(): void | Promise<void>;
}

const alice = keyPair('compliance-alice');
const bob = keyPair('compliance-bob');

export function registryCompliance(name: string, open: () => RegistryHandle | Promise<RegistryHandle>): void {
  describe(`IdentityRegistry compliance: ${name}`, () => {
    const handles: RegistryHandle[] = [];
    const fresh = async (): Promise<IdentityRegistry> => {
      const h = await open();
      handles.push(h);
      return h.registry;
    };
    afterEach(async () => {
      for (const h of handles.splice(0)) await h.close();
    });

    it('knows nothing at first', async () => {
      const r = await fresh();
      expect(await r.get(alice.publicKey)).toBeUndefined();
      expect(await r.isRegistered(alice.publicKey)).toBe(false);
    });

    it('creates a record with every field, and stamps registeredAt/updatedAt with now', async () => {
      const r = await fresh();
      const reg = verifiedRegistration(alice);
      expect(await r.register(reg, T0 + 5)).toBe('created');
      expect(await r.isRegistered(alice.publicKey)).toBe(true);
      expect(await r.isRegistered(bob.publicKey)).toBe(false);
      const rec = (await r.get(alice.publicKey))!;
      expect(toHex(rec.publicKey)).toBe(toHex(alice.publicKey));
      expect(rec.identity).toBe(identityOf(alice));
      expect(rec.displayName).toBe('Alice');
      expect(rec.createdAt).toBe(T0);
      expect(toHex(rec.nonce)).toBe(toHex(reg.nonce));
      expect(toHex(rec.digest)).toBe(toHex(reg.digest));
      expect(toHex(rec.registration)).toBe(toHex(reg.bytes));
      expect(rec.registeredAt).toBe(T0 + 5);
      expect(rec.updatedAt).toBe(T0 + 5);
    });

    it('stores a registration without a display name as having none', async () => {
      const r = await fresh();
      await r.register(verifiedRegistration(alice, { displayName: undefined }), T0);
      const rec = (await r.get(alice.publicKey))!;
      expect(rec.displayName).toBeUndefined();
      expect('displayName' in rec).toBe(false);
    });

    it('treats the same registration again as unchanged (replay-safe)', async () => {
      const r = await fresh();
      const reg = verifiedRegistration(alice);
      await r.register(reg, T0);
      expect(await r.register(reg, T0 + 100)).toBe('unchanged');
      expect((await r.get(alice.publicKey))!.updatedAt).toBe(T0);
    });

    it('replaces with a newer registration of the same key, keeping registeredAt', async () => {
      const r = await fresh();
      await r.register(verifiedRegistration(alice), T0);
      const newer = verifiedRegistration(alice, { createdAt: T0 + 1000, displayName: 'Alice B.', identity: identityOf(alice, 'chat') }, T0 + 1000);
      expect(await r.register(newer, T0 + 2000)).toBe('updated');
      const rec = (await r.get(alice.publicKey))!;
      expect(rec.displayName).toBe('Alice B.');
      expect(rec.identity).toBe(identityOf(alice, 'chat'));
      expect(rec.createdAt).toBe(T0 + 1000);
      expect(rec.registeredAt).toBe(T0);
      expect(rec.updatedAt).toBe(T0 + 2000);
    });

    it('never lets a replayed OLD registration overwrite a newer one', async () => {
      const r = await fresh();
      const old = verifiedRegistration(alice);
      const newer = verifiedRegistration(alice, { createdAt: T0 + 1000, displayName: 'New' }, T0 + 1000);
      await r.register(old, T0);
      await r.register(newer, T0 + 1000);
      expect(await r.register(old, T0 + 1001)).toBe('unchanged');
      expect((await r.get(alice.publicKey))!.displayName).toBe('New');
      // Arriving in the other order gives the same result.
      const r2 = await fresh();
      expect(await r2.register(newer, T0 + 1000)).toBe('created');
      expect(await r2.register(old, T0 + 1001)).toBe('unchanged');
      expect((await r2.get(alice.publicKey))!.displayName).toBe('New');
    });

    it('settles two registrations of the same millisecond the same way in either order', async () => {
      const a = verifiedRegistration(alice, { nonce: nonceFor('tie-a'), displayName: 'A' });
      const b = verifiedRegistration(alice, { nonce: nonceFor('tie-b'), displayName: 'B' });
      const r1 = await fresh();
      await r1.register(a, T0);
      await r1.register(b, T0);
      const r2 = await fresh();
      await r2.register(b, T0);
      await r2.register(a, T0);
      const w1 = (await r1.get(alice.publicKey))!;
      const w2 = (await r2.get(alice.publicKey))!;
      expect(toHex(w1.digest)).toBe(toHex(w2.digest));
      const larger = toHex(a.digest) > toHex(b.digest) ? a : b;
      expect(toHex(w1.digest)).toBe(toHex(larger.digest));
    });

    it('keeps keys apart', async () => {
      const r = await fresh();
      await r.register(verifiedRegistration(alice), T0);
      expect(await r.register(verifiedRegistration(bob, { displayName: 'Bob' }), T0)).toBe('created');
      expect((await r.get(alice.publicKey))!.displayName).toBe('Alice');
      expect((await r.get(bob.publicKey))!.displayName).toBe('Bob');
    });

    it('hands out copies: changing a returned record changes nothing stored', async () => {
      const r = await fresh();
      await r.register(verifiedRegistration(alice), T0);
      const rec = (await r.get(alice.publicKey))!;
      rec.publicKey.fill(0);
      rec.registration.fill(0);
      const again = (await r.get(alice.publicKey))!;
      expect(toHex(again.publicKey)).toBe(toHex(alice.publicKey));
      expect(again.registration.some((x) => x !== 0)).toBe(true);
    });

    it('refuses bad arguments and changes nothing', async () => {
      const r = await fresh();
      await r.register(verifiedRegistration(alice), T0);
      const good = verifiedRegistration(bob);
      const broken: VerifiedRegistration[] = [
        null as never,
        { ...good, publicKey: new Uint8Array(31) },
        { ...good, digest: 'x' as never },
        { ...good, createdAt: -1 },
      ];
      for (const b of broken) await expect(r.register(b, T0)).rejects.toThrow(/must/);
      await expect(r.register(good, Number.NaN)).rejects.toThrow(RangeError);
      await expect(r.get(new Uint8Array(3))).rejects.toThrow(RangeError);
      await expect(r.isRegistered('abc' as never)).rejects.toThrow(TypeError);
      expect(await r.isRegistered(bob.publicKey)).toBe(false);
      expect((await r.get(alice.publicKey))!.displayName).toBe('Alice');
    });
  });
}
