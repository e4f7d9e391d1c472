import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CircIdAllocator, circIdOwnedByInitiator } from '../../node-core/cell';
import type { RandomSource } from '../../node-core/cell';

/** Secure random bytes, as a CryptoSuite would give. */
const secureRandom: RandomSource = {
  randomBytes: (length: number) => globalThis.crypto.getRandomValues(new Uint8Array(length)),
};

/** A random source that replays the given 32-bit values (big-endian), then repeats the last. */
function scripted(values: number[]): RandomSource {
  let i = 0;
  return {
    randomBytes(length: number): Uint8Array {
      if (length !== 4) throw new Error(`unexpected length ${length}`);
      const v = values[Math.min(i++, values.length - 1)]!;
      return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    },
  };
}

describe('circIdOwnedByInitiator', () => {
  it('is the most significant bit (binary/cell.md "Circuit ID")', () => {
    expect(circIdOwnedByInitiator(1)).toBe(false);
    expect(circIdOwnedByInitiator(0x7fffffff)).toBe(false);
    expect(circIdOwnedByInitiator(0x80000000)).toBe(true);
    expect(circIdOwnedByInitiator(0xffffffff)).toBe(true);
  });

  it('refuses 0 and values that are not u32', () => {
    expect(() => circIdOwnedByInitiator(0)).toThrow(RangeError);
    expect(() => circIdOwnedByInitiator(2 ** 32)).toThrow(RangeError);
    expect(() => circIdOwnedByInitiator(-1)).toThrow(RangeError);
    expect(() => circIdOwnedByInitiator(1.5)).toThrow(RangeError);
    expect(() => circIdOwnedByInitiator('1' as unknown as number)).toThrow(TypeError);
  });
});

describe('CircIdAllocator', () => {
  it('gives each side ids with its own MSB, never 0', () => {
    for (const initiator of [true, false]) {
      const alloc = new CircIdAllocator({ initiator, random: secureRandom });
      for (let i = 0; i < 500; i++) {
        const id = alloc.allocate();
        expect(id).toBeGreaterThan(0);
        expect(id).toBeLessThanOrEqual(0xffffffff);
        expect(circIdOwnedByInitiator(id)).toBe(initiator);
      }
      expect(alloc.size).toBe(500);
    }
  });

  it('maps random bits to ids: MSB forced, the other 31 bits kept', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.boolean(), (v, initiator) => {
        const id = new CircIdAllocator({ initiator, random: scripted([v, 5]) }).allocate();
        const low31 = v & 0x7fffffff;
        if (!initiator && low31 === 0) return id === 5; // 0 is skipped
        return id === (initiator ? 0x80000000 + low31 : low31);
      }),
    );
  });

  it('skips 0 and ids in use; freeing makes an id available again', () => {
    const alloc = new CircIdAllocator({ initiator: false, random: scripted([0x80000000, 42, 42, 0xffffffff, 42]) });
    expect(alloc.allocate()).toBe(42); // 0x80000000 has low 31 bits 0 → id 0, skipped
    expect(alloc.allocate()).toBe(0x7fffffff); // 42 in use, skipped
    expect(alloc.has(42)).toBe(true);
    expect(alloc.free(42)).toBe(true);
    expect(alloc.free(42)).toBe(false);
    expect(alloc.has(42)).toBe(false);
    expect(alloc.allocate()).toBe(42);
    expect(alloc.size).toBe(2);
  });

  it('gives up with RangeError when no free id turns up', () => {
    const alloc = new CircIdAllocator({ initiator: true, random: scripted([7]) });
    expect(alloc.allocate()).toBe(0x80000007);
    expect(() => alloc.allocate()).toThrow(RangeError);
    expect(alloc.size).toBe(1);
  });

  it('checks its arguments', () => {
    expect(() => new CircIdAllocator(undefined as never)).toThrow(TypeError);
    expect(() => new CircIdAllocator({ initiator: 1 as unknown as boolean, random: secureRandom })).toThrow(/initiator/);
    expect(() => new CircIdAllocator({ initiator: true, random: {} as RandomSource })).toThrow(/random/);
    const bad = new CircIdAllocator({ initiator: true, random: { randomBytes: () => new Uint8Array(2) } });
    expect(() => bad.allocate()).toThrow(TypeError);
    const alloc = new CircIdAllocator({ initiator: true, random: secureRandom });
    expect(() => alloc.free(0)).toThrow(RangeError);
  });
});
