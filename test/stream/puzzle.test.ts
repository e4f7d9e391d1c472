/**
 * The viewer-ID puzzle (node-core/stream/puzzle.ts): challenge layout and tag, solving, and each
 * refusal of checkPuzzleSolution in its order; one challenge buys one ID through the ledger.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  PUZZLE_CHALLENGE_LENGTH,
  ReceiptLedger,
  StreamError,
  checkPuzzleSolution,
  leadingZeroBits,
  makePuzzleChallenge,
  parsePuzzleChallenge,
  solvePuzzle,
} from '../../node-core/stream';
import { Writer, concatBytes, toHex, utf8 } from '../../node-core/util/bytes';
import { MINUTE, NOW, PUZZLE_SECRET, bytesOf, challenge, expectCode, suite } from './helpers';

function nonceBytes(n: bigint): Uint8Array {
  return new Writer().u64(n).finish();
}

describe('leadingZeroBits', () => {
  it('counts from the most significant bit of the first byte', () => {
    expect(leadingZeroBits(Uint8Array.of(0x80))).toBe(0);
    expect(leadingZeroBits(Uint8Array.of(0x01))).toBe(7);
    expect(leadingZeroBits(Uint8Array.of(0x00, 0x40))).toBe(9);
    expect(leadingZeroBits(Uint8Array.of(0x00, 0x00, 0x00))).toBe(24);
    expect(leadingZeroBits(new Uint8Array(0))).toBe(0);
  });
});

describe('challenges', () => {
  it('are format | difficulty | expiresAt | salt | HMAC tag over the label and those bytes', () => {
    const c = challenge(12);
    expect(c.length).toBe(PUZZLE_CHALLENGE_LENGTH);
    expect(c[0]).toBe(1);
    expect(c[1]).toBe(12);
    expect(toHex(c.subarray(2, 10))).toBe((NOW + 2 * MINUTE).toString(16).padStart(16, '0'));
    expect(toHex(c.subarray(10, 26))).toBe('33'.repeat(16));
    expect(toHex(c.subarray(26))).toBe(toHex(suite.hmacSha256(PUZZLE_SECRET, concatBytes(utf8('PSP-STREAM-PUZZLE-v1'), c.subarray(0, 26)))));
    const p = parsePuzzleChallenge(c);
    expect(p.difficulty).toBe(12);
    expect(p.expiresAt).toBe(NOW + 2 * MINUTE);
  });

  it('get a random salt when none is given', () => {
    const a = makePuzzleChallenge(suite, PUZZLE_SECRET, { now: NOW });
    const b = makePuzzleChallenge(suite, PUZZLE_SECRET, { now: NOW });
    expect(toHex(parsePuzzleChallenge(a).salt)).not.toBe(toHex(parsePuzzleChallenge(b).salt));
  });

  it('refuse truncation, trailing bytes, an unknown format and a difficulty out of range', () => {
    const c = challenge();
    for (let n = 0; n < c.length; n++) expectCode(() => parsePuzzleChallenge(c.subarray(0, n)), 'malformed');
    expectCode(() => parsePuzzleChallenge(concatBytes(c, Uint8Array.of(0))), 'malformed');
    const v2 = c.slice();
    v2[0] = 2;
    expectCode(() => parsePuzzleChallenge(v2), 'unsupported-version');
    for (const d of [0, 41, 255]) {
      const x = c.slice();
      x[1] = d;
      expectCode(() => parsePuzzleChallenge(x), 'malformed');
    }
  });

  it('check their options', () => {
    expect(() => makePuzzleChallenge(suite, bytesOf(31, 1), { now: NOW })).toThrow(RangeError);
    expect(() => makePuzzleChallenge(suite, PUZZLE_SECRET, { now: NOW, difficulty: 0 })).toThrow(RangeError);
    expect(() => makePuzzleChallenge(suite, PUZZLE_SECRET, { now: NOW, difficulty: 41 })).toThrow(RangeError);
    expect(() => makePuzzleChallenge(suite, PUZZLE_SECRET, { now: NOW, ttlMs: 0 })).toThrow(RangeError);
    expect(() => makePuzzleChallenge(suite, PUZZLE_SECRET, { now: -5 })).toThrow(RangeError);
  });
});

describe('solving and checking', () => {
  it('a solution has the required leading zero bits, and the oracle accepts it', () => {
    const c = challenge(10);
    const nonce = solvePuzzle(suite, c);
    expect(nonce).not.toBeNull();
    expect(leadingZeroBits(suite.sha256(concatBytes(c, nonceBytes(nonce!))))).toBeGreaterThanOrEqual(10);
    const checked = checkPuzzleSolution(suite, PUZZLE_SECRET, c, nonce!, NOW + MINUTE);
    expect(toHex(checked.salt)).toBe('33'.repeat(16));
  });

  it('the solver returns the first nonce that works from its start, and null when it runs out', () => {
    const c = challenge(6);
    const first = solvePuzzle(suite, c)!;
    for (let n = 0n; n < first; n++) {
      expect(leadingZeroBits(suite.sha256(concatBytes(c, nonceBytes(n))))).toBeLessThan(6);
    }
    expect(solvePuzzle(suite, c, { startNonce: first })).toBe(first);
    expect(solvePuzzle(suite, c, { maxAttempts: Number(first) })).toBeNull();
    // The in-place counter carries across bytes.
    const high = solvePuzzle(suite, c, { startNonce: 0xfffffen })!;
    expect(high).toBeGreaterThanOrEqual(0xfffffen);
    expect(leadingZeroBits(suite.sha256(concatBytes(c, nonceBytes(high))))).toBeGreaterThanOrEqual(6);
  });

  it('refuses a nonce without enough work', () => {
    const c = challenge(12);
    let bad = 0n;
    while (leadingZeroBits(suite.sha256(concatBytes(c, nonceBytes(bad)))) >= 12) bad++;
    expectCode(() => checkPuzzleSolution(suite, PUZZLE_SECRET, c, bad, NOW), 'insufficient-work');
  });

  it('refuses a challenge this oracle did not make, or whose difficulty was lowered', () => {
    const c = challenge(12);
    const nonce = solvePuzzle(suite, c)!;
    expectCode(() => checkPuzzleSolution(suite, bytesOf(32, 0x01), c, nonce, NOW), 'bad-challenge');
    const easier = c.slice();
    easier[1] = 1;
    const easyNonce = solvePuzzle(suite, easier)!;
    expectCode(() => checkPuzzleSolution(suite, PUZZLE_SECRET, easier, easyNonce, NOW), 'bad-challenge');
  });

  it('refuses an expired challenge, and one below the current minimum difficulty', () => {
    const c = challenge(6);
    const nonce = solvePuzzle(suite, c)!;
    expectCode(() => checkPuzzleSolution(suite, PUZZLE_SECRET, c, nonce, NOW + 2 * MINUTE), 'expired');
    expectCode(() => checkPuzzleSolution(suite, PUZZLE_SECRET, c, nonce, NOW, { minDifficulty: 7 }), 'insufficient-work');
    expect(checkPuzzleSolution(suite, PUZZLE_SECRET, c, nonce, NOW, { minDifficulty: 6 }).difficulty).toBe(6);
  });

  it('one challenge buys one ID: the oracle spends its salt', () => {
    const c = challenge(6);
    const nonce = solvePuzzle(suite, c)!;
    const ledger = new ReceiptLedger();
    const a = checkPuzzleSolution(suite, PUZZLE_SECRET, c, nonce, NOW);
    expect(ledger.spendId(a.salt, a.expiresAt, NOW)).toBe('spent');
    const b = checkPuzzleSolution(suite, PUZZLE_SECRET, c, nonce, NOW + 1);
    expect(ledger.spendId(b.salt, b.expiresAt, NOW + 1)).toBe('already-spent');
  });

  it('checks its parameters', () => {
    const c = challenge(4);
    expect(() => checkPuzzleSolution(suite, PUZZLE_SECRET, c, -1n, NOW)).toThrow(RangeError);
    expect(() => checkPuzzleSolution(suite, PUZZLE_SECRET, c, 1 as never, NOW)).toThrow(TypeError);
    expect(() => checkPuzzleSolution(suite, PUZZLE_SECRET, c, 1n, NOW, { minDifficulty: 0 })).toThrow(RangeError);
    expect(() => solvePuzzle(suite, c, { maxAttempts: 0 })).toThrow(RangeError);
    expect(() => solvePuzzle(suite, c, { startNonce: 2n ** 64n })).toThrow(RangeError);
  });

  it('checking throws nothing but StreamError on arbitrary challenges and nonces', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 50, maxLength: 60 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (c, n) => {
        try {
          checkPuzzleSolution(suite, PUZZLE_SECRET, c, n, NOW);
          expect.unreachable('a random challenge passed');
        } catch (e) {
          expect(e).toBeInstanceOf(StreamError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
