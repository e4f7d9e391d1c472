/**
 * Node ids and the static crypto puzzle (S/Kademlia §4.1), and the XOR metric (Kademlia §2.1).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  bucketIndex,
  checkNodeId,
  commonPrefixLength,
  compareDistance,
  findPuzzleKey,
  leadingZeroBits,
  nodeIdOf,
  randomIdInBucket,
  satisfiesPuzzle,
  xorDistance,
} from '../../node-core/dht';
import { fromHex, toHex } from '../../node-core/util/bytes';
import { keyPair, seededSuite, suite } from './helpers';

const id32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

/** Distance as a bigint, for brute-force comparisons. */
function big(b: Uint8Array): bigint {
  return BigInt(`0x${toHex(b) || '0'}`);
}

describe('leadingZeroBits', () => {
  it('counts zero bits from the most significant end', () => {
    expect(leadingZeroBits(fromHex('80'))).toBe(0);
    expect(leadingZeroBits(fromHex('01'))).toBe(7);
    expect(leadingZeroBits(fromHex('0001'))).toBe(15);
    expect(leadingZeroBits(fromHex('000000'))).toBe(24);
    expect(leadingZeroBits(fromHex('00' + '7f'))).toBe(9);
    expect(leadingZeroBits(new Uint8Array(0))).toBe(0);
  });
});

describe('node ids and the static puzzle', () => {
  it('a node id is SHA-256 of the identity key', () => {
    const k = keyPair('a');
    expect(toHex(nodeIdOf(suite, k.publicKey))).toBe(toHex(suite.sha256(k.publicKey)));
  });

  for (const c1 of [0, 1, 4, 8, 10]) {
    it(`findPuzzleKey gives a key meeting a ${c1}-bit puzzle, and checkNodeId accepts it`, () => {
      const k = findPuzzleKey(seededSuite(1000 + c1), c1);
      expect(toHex(k.publicKey)).toBe(toHex(suite.ed25519PublicKey(k.secretKey)));
      expect(toHex(k.nodeId)).toBe(toHex(suite.sha256(k.publicKey)));
      expect(leadingZeroBits(suite.sha256(k.nodeId))).toBeGreaterThanOrEqual(c1);
      expect(satisfiesPuzzle(suite, k.nodeId, c1)).toBe(true);
      expect(checkNodeId(suite, k.publicKey, k.nodeId, c1)).toBe(true);
      expect(k.attempts).toBeGreaterThanOrEqual(1);
    });
  }

  it('a key meeting a 10-bit puzzle by chance is rare: most random keys fail it', () => {
    let pass = 0;
    const s = seededSuite(77);
    for (let i = 0; i < 200; i++) {
      const pk = s.ed25519PublicKey(s.randomBytes(32));
      if (satisfiesPuzzle(suite, nodeIdOf(suite, pk), 10)) pass++;
    }
    expect(pass).toBeLessThan(5); // expected 200/1024 ≈ 0.2
  });

  it('checkNodeId refuses an id that is not the hash of the key, and a key that misses the puzzle', () => {
    const k = findPuzzleKey(seededSuite(5), 6);
    const other = findPuzzleKey(seededSuite(6), 6);
    expect(checkNodeId(suite, k.publicKey, other.nodeId, 6)).toBe(false);
    const flipped = k.nodeId.slice();
    flipped[31]! ^= 1;
    expect(checkNodeId(suite, k.publicKey, flipped, 6)).toBe(false);
    // Find a key that fails an 8-bit puzzle (almost every key does) and check it is refused.
    const s = seededSuite(9);
    let pk: Uint8Array;
    do pk = s.ed25519PublicKey(s.randomBytes(32));
    while (satisfiesPuzzle(suite, nodeIdOf(suite, pk), 8));
    expect(checkNodeId(suite, pk, nodeIdOf(suite, pk), 8)).toBe(false);
    expect(checkNodeId(suite, pk, nodeIdOf(suite, pk), 0)).toBe(true);
    expect(checkNodeId(suite, pk.subarray(0, 31), nodeIdOf(suite, pk), 0)).toBe(false);
  });

  it('findPuzzleKey gives up after maxAttempts, and refuses bad parameters', () => {
    // A 32-bit puzzle within 3 attempts: practically impossible.
    expect(() => findPuzzleKey(seededSuite(1), 32, { maxAttempts: 3 })).toThrow(/no key/);
    expect(() => findPuzzleKey(suite, 33)).toThrow(RangeError);
    expect(() => findPuzzleKey(suite, -1)).toThrow(RangeError);
    expect(() => findPuzzleKey(suite, 1.5)).toThrow(RangeError);
    expect(() => findPuzzleKey(suite, 4, { maxAttempts: 0 })).toThrow(RangeError);
    expect(() => satisfiesPuzzle(suite, new Uint8Array(31), 1)).toThrow(RangeError);
  });
});

describe('XOR metric', () => {
  it('xorDistance is symmetric, zero only for equal ids, and satisfies the triangle inequality', () => {
    fc.assert(
      fc.property(id32, id32, id32, (a, b, c) => {
        expect(toHex(xorDistance(a, b))).toBe(toHex(xorDistance(b, a)));
        expect(big(xorDistance(a, a))).toBe(0n);
        if (toHex(a) !== toHex(b)) expect(big(xorDistance(a, b))).toBeGreaterThan(0n);
        expect(big(xorDistance(a, c))).toBeLessThanOrEqual(big(xorDistance(a, b)) + big(xorDistance(b, c)));
      }),
    );
  });

  it('compareDistance orders like the integer distances', () => {
    fc.assert(
      fc.property(id32, id32, id32, (t, a, b) => {
        const da = big(xorDistance(t, a));
        const db = big(xorDistance(t, b));
        const c = compareDistance(t, a, b);
        expect(Math.sign(c)).toBe(da < db ? -1 : da > db ? 1 : 0);
      }),
    );
  });

  it('bucketIndex is the common prefix length; ids in bucket i are at distance in [2^(255-i), 2^(256-i))', () => {
    fc.assert(
      fc.property(id32, id32, (a, b) => {
        fc.pre(toHex(a) !== toHex(b));
        const i = bucketIndex(a, b);
        expect(i).toBe(commonPrefixLength(a, b));
        const d = big(xorDistance(a, b));
        expect(d >= 1n << BigInt(255 - i)).toBe(true);
        expect(d < 1n << BigInt(256 - i)).toBe(true);
      }),
    );
    const a = new Uint8Array(32);
    expect(() => bucketIndex(a, a)).toThrow(RangeError);
    expect(commonPrefixLength(a, a)).toBe(256);
  });

  it('randomIdInBucket gives an id in the requested bucket', () => {
    fc.assert(
      fc.property(id32, fc.integer({ min: 0, max: 255 }), id32, (self, i, random) => {
        expect(bucketIndex(self, randomIdInBucket(self, i, random))).toBe(i);
      }),
    );
    expect(() => randomIdInBucket(new Uint8Array(32), 256, new Uint8Array(32))).toThrow(RangeError);
  });

  it('argument checks name the parameter', () => {
    expect(() => xorDistance(new Uint8Array(31), new Uint8Array(32))).toThrow(/a must be 32 bytes/);
    expect(() => compareDistance(new Uint8Array(32), new Uint8Array(32), 'x' as unknown as Uint8Array)).toThrow(TypeError);
  });
});
