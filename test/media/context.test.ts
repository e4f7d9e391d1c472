/**
 * SFrameContext (RFC 9605 §4.4): round trips for every suite, the per-key counter (never
 * repeated, never wrapped), key usage and KID rules, tampering, the replay window, and
 * parameter checks.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  SFRAME_MAX_VALUE,
  SFRAME_SUITE,
  SFrameContext,
  SFrameError,
  decodeHeader,
  isSFrameError,
  sframeSuite,
  type SFrameErrorCode,
  type SFrameSuiteId,
} from '../../node-core/media';
import { toHex, utf8 } from '../../node-core/util/bytes';

const SUITES = Object.values(SFRAME_SUITE) as SFrameSuiteId[];
const BASE_KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const META = utf8('frame 1, video, keyframe');

function pair(suite: SFrameSuiteId, kid: bigint | number = 3, replayWindow?: number) {
  const sender = new SFrameContext({ suite });
  sender.addKey(kid, BASE_KEY, 'encrypt');
  const receiver = new SFrameContext(replayWindow === undefined ? { suite } : { suite, replayWindow });
  receiver.addKey(kid, BASE_KEY, 'decrypt');
  return { sender, receiver };
}

function expectCode(f: () => unknown, code: SFrameErrorCode): void {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(SFrameError);
  expect((thrown as SFrameError).code).toBe(code);
}

describe.each(SUITES.map((s) => [sframeSuite(s).name, s] as const))('%s', (_name, suite) => {
  const nt = sframeSuite(suite).nt;

  it('round trips any plaintext, metadata, KID and counter', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.oneof(fc.integer({ min: 0, max: 20 }), fc.bigInt({ min: 0n, max: SFRAME_MAX_VALUE })),
        fc.oneof(fc.integer({ min: 0, max: 300 }), fc.bigInt({ min: 0n, max: SFRAME_MAX_VALUE })),
        (pt, meta, kid, ctr) => {
          const { sender, receiver } = pair(suite, kid);
          const ct = sender.encrypt(kid, ctr, meta, pt);
          const h = decodeHeader(ct);
          expect(ct.length).toBe(h.length + pt.length + nt);
          const out = receiver.decrypt(ct, meta);
          expect(out.kid).toBe(BigInt(kid));
          expect(out.ctr).toBe(BigInt(ctr));
          expect(toHex(out.plaintext)).toBe(toHex(pt));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('the automatic counter counts 0, 1, 2, … and each frame decrypts', () => {
    const { sender, receiver } = pair(suite);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const ct = sender.encrypt(3, undefined, META, utf8(`frame ${i}`));
      expect(decodeHeader(ct).ctr).toBe(BigInt(i));
      seen.add(toHex(ct));
      expect(new TextDecoder().decode(receiver.decrypt(ct, META).plaintext)).toBe(`frame ${i}`);
    }
    expect(seen.size).toBe(20);
    expect(sender.nextCounter(3)).toBe(20n);
  });

  it('the same plaintext under successive counters gives unrelated ciphertexts', () => {
    const { sender } = pair(suite);
    const pt = new Uint8Array(64);
    const a = sender.encrypt(3, undefined, META, pt);
    const b = sender.encrypt(3, undefined, META, pt);
    expect(toHex(a.subarray(2, 34))).not.toBe(toHex(b.subarray(2, 34)));
  });

  it('a changed bit in the header, the ciphertext or the tag, or other metadata, is refused', () => {
    const { sender, receiver } = pair(suite, 300, 0);
    const pt = utf8('a video frame of some length, long enough to cover several bytes');
    const ct = sender.encrypt(300, 1000, META, pt);
    const hl = decodeHeader(ct).length;
    expect(hl).toBe(5);
    for (let i = 0; i < ct.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = ct.slice();
        bad[i]! ^= bit;
        let result: unknown;
        try {
          result = receiver.decrypt(bad, META);
        } catch (e) {
          result = e;
        }
        expect(result).toBeInstanceOf(SFrameError);
        // Past the header, the only possible failure is the tag check.
        if (i >= hl) expect((result as SFrameError).code).toBe('auth-failed');
      }
    }
    // A changed CTR in the header keeps the KID and the form: only the tag can catch it.
    const ctrChanged = ct.slice();
    ctrChanged[hl - 1]! ^= 0x04;
    expectCode(() => receiver.decrypt(ctrChanged, META), 'auth-failed');
    const meta = META.slice();
    meta[0]! ^= 1;
    expectCode(() => receiver.decrypt(ct, meta), 'auth-failed');
    expectCode(() => receiver.decrypt(ct.subarray(0, ct.length - 1), META), 'auth-failed');
    // Untouched, it still decrypts: failures changed nothing.
    expect(toHex(receiver.decrypt(ct, META).plaintext)).toBe(toHex(pt));
  });

  it('a ciphertext shorter than the tag is refused as such', () => {
    const { sender, receiver } = pair(suite);
    const ct = sender.encrypt(3, undefined, META, new Uint8Array(0));
    expect(ct.length).toBe(1 + nt);
    expect(toHex(receiver.decrypt(ct, META).plaintext)).toBe('');
    expectCode(() => receiver.decrypt(ct.subarray(0, ct.length - 1), META), 'short-ciphertext');
    expectCode(() => receiver.decrypt(ct.subarray(0, 1), META), 'short-ciphertext');
  });
});

describe('counters', () => {
  it('an explicit CTR must be above every CTR used; the automatic counter continues after it', () => {
    const ctx = new SFrameContext({ suite: 4 });
    ctx.addKey(1, BASE_KEY, 'encrypt');
    ctx.encrypt(1, 10, META, new Uint8Array(1));
    expect(ctx.nextCounter(1)).toBe(11n);
    expectCode(() => ctx.encrypt(1, 10, META, new Uint8Array(1)), 'counter-reused');
    expectCode(() => ctx.encrypt(1, 3, META, new Uint8Array(1)), 'counter-reused');
    expect(ctx.nextCounter(1)).toBe(11n);
    expect(decodeHeader(ctx.encrypt(1, undefined, META, new Uint8Array(1))).ctr).toBe(11n);
    expect(decodeHeader(ctx.encrypt(1, 500n, META, new Uint8Array(1))).ctr).toBe(500n);
    expect(decodeHeader(ctx.encrypt(1, undefined, META, new Uint8Array(1))).ctr).toBe(501n);
  });

  it('refuses to wrap: after CTR 2^64 - 1 the key encrypts nothing more', () => {
    const sender = new SFrameContext({ suite: 1 });
    sender.addKey(9, BASE_KEY, 'encrypt', { nextCtr: SFRAME_MAX_VALUE - 1n });
    const receiver = new SFrameContext({ suite: 1 });
    receiver.addKey(9, BASE_KEY, 'decrypt');
    const a = sender.encrypt(9, undefined, META, utf8('penultimate'));
    const b = sender.encrypt(9, undefined, META, utf8('last'));
    expect(receiver.decrypt(a, META).ctr).toBe(SFRAME_MAX_VALUE - 1n);
    expect(receiver.decrypt(b, META).ctr).toBe(SFRAME_MAX_VALUE);
    expect(sender.nextCounter(9)).toBe(SFRAME_MAX_VALUE + 1n);
    expectCode(() => sender.encrypt(9, undefined, META, utf8('one more')), 'counter-exhausted');
    expectCode(() => sender.encrypt(9, SFRAME_MAX_VALUE, META, utf8('one more')), 'counter-exhausted');
  });

  it('an explicit CTR of 2^64 - 1 uses the counter up at once', () => {
    const ctx = new SFrameContext({ suite: 5 });
    ctx.addKey(2, BASE_KEY, 'encrypt');
    ctx.encrypt(2, SFRAME_MAX_VALUE, META, new Uint8Array(0));
    expectCode(() => ctx.encrypt(2, undefined, META, new Uint8Array(0)), 'counter-exhausted');
  });

  it('a stored counter resumes where it stopped (RFC 9605 §9.1)', () => {
    const first = new SFrameContext({ suite: 4 });
    first.addKey(4, BASE_KEY, 'encrypt');
    for (let i = 0; i < 5; i++) first.encrypt(4, undefined, META, new Uint8Array(8));
    const stored = first.nextCounter(4);
    const second = new SFrameContext({ suite: 4 });
    second.addKey(4, BASE_KEY, 'encrypt', { nextCtr: stored });
    expect(decodeHeader(second.encrypt(4, undefined, META, new Uint8Array(8))).ctr).toBe(5n);
  });
});

describe('keys and KIDs', () => {
  it('a key serves one direction only (RFC 9605 §4.4.1)', () => {
    const { sender, receiver } = pair(4);
    const ct = sender.encrypt(3, undefined, META, utf8('x'));
    expectCode(() => sender.decrypt(ct, META), 'wrong-usage');
    expectCode(() => receiver.encrypt(3, undefined, META, utf8('x')), 'wrong-usage');
    expectCode(() => receiver.nextCounter(3), 'wrong-usage');
    expect(sender.keyUsage(3)).toBe('encrypt');
    expect(receiver.keyUsage(3)).toBe('decrypt');
    expect(receiver.keyUsage(4)).toBeUndefined();
  });

  it('unknown KIDs are reported so the caller can hold the frame until the key arrives', () => {
    const { sender } = pair(4, 77);
    const receiver = new SFrameContext({ suite: 4 });
    const ct = sender.encrypt(77, undefined, META, utf8('early frame'));
    expectCode(() => receiver.decrypt(ct, META), 'unknown-kid');
    receiver.addKey(77, BASE_KEY, 'decrypt');
    expect(new TextDecoder().decode(receiver.decrypt(ct, META).plaintext)).toBe('early frame');
    expectCode(() => sender.encrypt(78, undefined, META, utf8('x')), 'unknown-kid');
  });

  it('a KID holds one key; an encryption KID is never added twice in one context', () => {
    const ctx = new SFrameContext({ suite: 4 });
    ctx.addKey(1, BASE_KEY, 'encrypt');
    expectCode(() => ctx.addKey(1, BASE_KEY, 'encrypt'), 'duplicate-kid');
    expectCode(() => ctx.addKey(1, BASE_KEY, 'decrypt'), 'duplicate-kid');
    ctx.encrypt(1, undefined, META, new Uint8Array(1));
    expect(ctx.removeKey(1)).toBe(true);
    expect(ctx.removeKey(1)).toBe(false);
    // Re-adding would restart the counter at 0 and repeat a (key, nonce) pair.
    expectCode(() => ctx.addKey(1, BASE_KEY, 'encrypt'), 'duplicate-kid');
    // A decryption key may come and go.
    ctx.addKey(2, BASE_KEY, 'decrypt');
    expect(ctx.removeKey(2)).toBe(true);
    ctx.addKey(2, BASE_KEY, 'decrypt');
    expect(ctx.kids()).toEqual([2n]);
  });

  it('a removed key decrypts nothing more', () => {
    const { sender, receiver } = pair(4);
    const ct = sender.encrypt(3, undefined, META, utf8('x'));
    receiver.removeKey(3);
    expectCode(() => receiver.decrypt(ct, META), 'unknown-kid');
    receiver.addKey(3, BASE_KEY, 'decrypt');
    receiver.clear();
    expect(receiver.kids()).toEqual([]);
    expectCode(() => receiver.decrypt(ct, META), 'unknown-kid');
  });

  it('keys of different KIDs are independent (rotation: both epochs decrypt side by side)', () => {
    const sender = new SFrameContext({ suite: 4 });
    const receiver = new SFrameContext({ suite: 4 });
    const other = BASE_KEY.map((b) => b ^ 0xff);
    sender.addKey(0, BASE_KEY, 'encrypt');
    sender.addKey(1, other, 'encrypt');
    receiver.addKey(0, BASE_KEY, 'decrypt');
    receiver.addKey(1, other, 'decrypt');
    const a = sender.encrypt(0, undefined, META, utf8('old epoch'));
    const b = sender.encrypt(1, undefined, META, utf8('new epoch'));
    // Both start at CTR 0 (different keys, so no nonce is shared); the headers differ by KID.
    expect(decodeHeader(a).ctr).toBe(0n);
    expect(decodeHeader(b).ctr).toBe(0n);
    expect(new TextDecoder().decode(receiver.decrypt(b, META).plaintext)).toBe('new epoch');
    // A frame of KID 1 relabelled as KID 0 does not pass (and does not burn KID 0's CTR 0).
    const relabelled = b.slice();
    relabelled[0] = 0x00;
    expectCode(() => receiver.decrypt(relabelled, META), 'auth-failed');
    expect(new TextDecoder().decode(receiver.decrypt(a, META).plaintext)).toBe('old epoch');
  });

  it('the base key can be wiped by the caller after adding it', () => {
    const key = BASE_KEY.slice();
    const sender = new SFrameContext({ suite: 1 });
    sender.addKey(5, key, 'encrypt');
    key.fill(0);
    const receiver = new SFrameContext({ suite: 1 });
    receiver.addKey(5, BASE_KEY, 'decrypt');
    const ct = sender.encrypt(5, undefined, META, utf8('still keyed'));
    expect(new TextDecoder().decode(receiver.decrypt(ct, META).plaintext)).toBe('still keyed');
  });
});

describe('replay window', () => {
  it('is on by default: a frame is accepted once', () => {
    const { sender, receiver } = pair(4);
    expect(receiver.replayWindow).toBe(1024);
    const ct = sender.encrypt(3, undefined, META, utf8('once'));
    receiver.decrypt(ct, META);
    expectCode(() => receiver.decrypt(ct, META), 'replay');
    expectCode(() => receiver.decrypt(ct.slice(), META), 'replay');
  });

  it('accepts reordering inside the window and refuses what falls below it', () => {
    const { sender, receiver } = pair(4, 3, 16);
    const cts = Array.from({ length: 40 }, (_, i) => sender.encrypt(3, undefined, META, utf8(`f${i}`)));
    receiver.decrypt(cts[20]!, META);
    receiver.decrypt(cts[5]!, META); // 20 - 5 = 15 < 16: inside
    expectCode(() => receiver.decrypt(cts[4]!, META), 'replay'); // 16 below the top: outside
    receiver.decrypt(cts[19]!, META);
    expectCode(() => receiver.decrypt(cts[19]!, META), 'replay');
    receiver.decrypt(cts[39]!, META); // a jump forward
    expectCode(() => receiver.decrypt(cts[20]!, META), 'replay'); // 19 below 39 now: outside
    receiver.decrypt(cts[24]!, META); // never seen, still inside
    receiver.decrypt(cts[30]!, META);
    expectCode(() => receiver.decrypt(cts[24]!, META), 'replay');
    expectCode(() => receiver.decrypt(cts[39]!, META), 'replay');
  });

  it('after a jump forward, CTRs between the old top and the new one are still fresh', () => {
    const { sender, receiver } = pair(4, 3, 8);
    const cts = Array.from({ length: 12 }, (_, i) => sender.encrypt(3, undefined, META, utf8(`f${i}`)));
    for (const i of [0, 1, 2, 3]) receiver.decrypt(cts[i]!, META);
    receiver.decrypt(cts[6]!, META);
    for (const i of [4, 5]) receiver.decrypt(cts[i]!, META);
    for (const i of [0, 1, 2, 3, 4, 5, 6]) expectCode(() => receiver.decrypt(cts[i]!, META), 'replay');
    // The window of 8 ends at 6 now; with 11 it ends at 11 and 3 drops out of it.
    receiver.decrypt(cts[11]!, META);
    for (const i of [7, 8, 9, 10]) receiver.decrypt(cts[i]!, META);
    for (const i of [3, 4, 11]) expectCode(() => receiver.decrypt(cts[i]!, META), 'replay');
  });

  it('matches a model of "accept each CTR once, and nothing 16 or more below the highest"', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 80 }), { maxLength: 120 }), (order) => {
        const { sender, receiver } = pair(4, 3, 16);
        const cts = new Map<number, Uint8Array>();
        for (const c of [...new Set(order)].sort((x, y) => x - y)) cts.set(c, sender.encrypt(3, c, META, Uint8Array.of(c)));
        const accepted = new Set<number>();
        let top = -1;
        for (const c of order) {
          const fresh = !accepted.has(c) && (top < 0 || c > top || top - c < 16);
          let ok: boolean;
          try {
            receiver.decrypt(cts.get(c)!, META);
            ok = true;
          } catch (e) {
            expect(isSFrameError(e, 'replay')).toBe(true);
            ok = false;
          }
          expect(ok).toBe(fresh);
          if (ok) {
            accepted.add(c);
            top = Math.max(top, c);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a forged frame does not burn its CTR', () => {
    const { sender, receiver } = pair(4);
    const ct = sender.encrypt(3, undefined, META, utf8('genuine'));
    const forged = ct.slice();
    forged[forged.length - 1]! ^= 1;
    expectCode(() => receiver.decrypt(forged, META), 'auth-failed');
    expect(new TextDecoder().decode(receiver.decrypt(ct, META).plaintext)).toBe('genuine');
  });

  it('each KID has its own window', () => {
    const sender = new SFrameContext({ suite: 4 });
    const receiver = new SFrameContext({ suite: 4, replayWindow: 4 });
    for (const kid of [0, 1]) {
      sender.addKey(kid, BASE_KEY, 'encrypt');
      receiver.addKey(kid, BASE_KEY, 'decrypt');
    }
    const a = sender.encrypt(0, 100, META, utf8('a'));
    const b = sender.encrypt(1, 0, META, utf8('b'));
    receiver.decrypt(a, META);
    receiver.decrypt(b, META);
  });

  it('replayWindow 0 turns the check off', () => {
    const { sender, receiver } = pair(4, 3, 0);
    const ct = sender.encrypt(3, undefined, META, utf8('again'));
    receiver.decrypt(ct, META);
    expect(new TextDecoder().decode(receiver.decrypt(ct, META).plaintext)).toBe('again');
  });
});

describe('parameter checks', () => {
  it('the constructor checks the suite and the window', () => {
    expect(() => new SFrameContext({ suite: 6 as SFrameSuiteId })).toThrow(RangeError);
    expect(() => new SFrameContext({ suite: 0 as SFrameSuiteId })).toThrow(/suite/);
    expect(() => new SFrameContext({ suite: '4' as unknown as SFrameSuiteId })).toThrow(TypeError);
    expect(() => new SFrameContext({ suite: 4, replayWindow: -1 })).toThrow(/replayWindow/);
    expect(() => new SFrameContext({ suite: 4, replayWindow: 1.5 })).toThrow(RangeError);
    expect(() => new SFrameContext({ suite: 4, replayWindow: (1 << 16) + 1 })).toThrow(RangeError);
    expect(() => new SFrameContext(null as unknown as { suite: 4 })).toThrow(TypeError);
    expect(new SFrameContext({ suite: 4, replayWindow: 1 << 16 }).replayWindow).toBe(65536);
  });

  it('addKey checks its parameters and changes nothing on error', () => {
    const ctx = new SFrameContext({ suite: 4 });
    expect(() => ctx.addKey(-1, BASE_KEY, 'encrypt')).toThrow(/kid/);
    expect(() => ctx.addKey(1, BASE_KEY.subarray(0, 15), 'encrypt')).toThrow(/baseKey/);
    expect(() => ctx.addKey(1, 'key' as unknown as Uint8Array, 'encrypt')).toThrow(TypeError);
    expect(() => ctx.addKey(1, BASE_KEY, 'both' as 'encrypt')).toThrow(/usage/);
    expect(() => ctx.addKey(1, BASE_KEY, 'decrypt', { nextCtr: 5 })).toThrow(/nextCtr/);
    expect(() => ctx.addKey(1, BASE_KEY, 'encrypt', { nextCtr: -5 })).toThrow(/nextCtr/);
    expect(ctx.kids()).toEqual([]);
    ctx.addKey(1, BASE_KEY, 'encrypt');
    expect(ctx.kids()).toEqual([1n]);
  });

  it('encrypt and decrypt check their parameters', () => {
    const { sender, receiver } = pair(4);
    expect(() => sender.encrypt(3, -1, META, new Uint8Array(0))).toThrow(/ctr/);
    expect(() => sender.encrypt(3, undefined, 'meta' as unknown as Uint8Array, new Uint8Array(0))).toThrow(/metadata/);
    expect(() => sender.encrypt(3, undefined, META, [1] as unknown as Uint8Array)).toThrow(/plaintext/);
    expect(sender.nextCounter(3)).toBe(0n);
    expect(() => receiver.decrypt([0] as unknown as Uint8Array, META)).toThrow(/ciphertext/);
    expect(() => receiver.decrypt(new Uint8Array(20), undefined as unknown as Uint8Array)).toThrow(/metadata/);
  });
});
