/**
 * Input checking and the edges of the curve primitives, for both suites: wrong types and lengths
 * throw errors naming the parameter, low-order X25519 peers throw weak-key, and Ed25519
 * verification is strict (S < L, canonical A, no small-order A, cofactorless equation) in the
 * same way in both suites.
 */
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { CryptoError, type CryptoSuite } from '../../node-core/crypto/api';
import {
  isCanonicalPointEncoding,
  isCanonicalScalar,
  isSmallOrderEncoding,
} from '../../node-core/crypto/ed25519-strict';
import { SUITES, hex, toHex } from './suites';

const Point = ed25519.Point;
const L = Point.Fn.ORDER;
const P = 2n ** 255n - 19n;
const le32 = (n: bigint): Uint8Array => numberToBytesLE(n, 32);
const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const challenge = (r: Uint8Array, a: Uint8Array, m: Uint8Array): bigint => bytesToNumberLE(sha512(cat(r, a, m))) % L;

const b = (n: number) => new Uint8Array(n);

function expectThrows(f: () => unknown, type: typeof TypeError | typeof RangeError, param: string): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(type);
  expect((caught as Error).message).toContain(param);
}

describe.each(SUITES)('$name suite: argument checks', (s: CryptoSuite) => {
  const notBytes = [undefined, null, 'abc', [1, 2, 3], new ArrayBuffer(32), 42] as unknown as Uint8Array[];

  it('wrong types throw TypeError naming the parameter', () => {
    for (const bad of notBytes) {
      expectThrows(() => s.sha256(bad), TypeError, 'data');
      expectThrows(() => s.sha3_256(bad), TypeError, 'data');
      expectThrows(() => s.hmacSha256(bad, b(1)), TypeError, 'key');
      expectThrows(() => s.hmacSha256(b(1), bad), TypeError, 'data');
      expectThrows(() => s.hkdfSha256(bad, b(0), b(0), 32), TypeError, 'ikm');
      expectThrows(() => s.hkdfSha256(b(1), bad, b(0), 32), TypeError, 'salt');
      expectThrows(() => s.hkdfSha256(b(1), b(0), bad, 32), TypeError, 'info');
      expectThrows(() => s.ed25519PublicKey(bad), TypeError, 'secretKey');
      expectThrows(() => s.ed25519Sign(bad, b(32)), TypeError, 'message');
      expectThrows(() => s.ed25519Sign(b(1), bad), TypeError, 'secretKey');
      expectThrows(() => s.x25519PublicKey(bad), TypeError, 'secretKey');
      expectThrows(() => s.x25519(bad, b(32)), TypeError, 'secretKey');
      expectThrows(() => s.x25519(b(32), bad), TypeError, 'peerPublicKey');
      expectThrows(() => s.aeadSeal(bad, b(12), b(1)), TypeError, 'key');
      expectThrows(() => s.aeadSeal(b(32), bad, b(1)), TypeError, 'nonce');
      expectThrows(() => s.aeadSeal(b(32), b(12), bad), TypeError, 'plaintext');
      expectThrows(() => s.aeadOpen(b(32), b(12), bad), TypeError, 'sealed');
      expectThrows(() => s.aesCtr(bad, b(16)), TypeError, 'key');
      expectThrows(() => s.aesCtr(b(16), bad), TypeError, 'iv');
      expectThrows(() => s.aesCtr(b(16), b(16)).update(bad), TypeError, 'data');
      expectThrows(() => s.runningSha256().update(bad), TypeError, 'data');
      // `undefined` means "no AAD" / "no seed"; anything else that is not bytes is refused.
      if (bad !== undefined) {
        expectThrows(() => s.runningSha256(bad), TypeError, 'data');
        expectThrows(() => s.aeadSeal(b(32), b(12), b(1), bad), TypeError, 'aad');
        expectThrows(() => s.aeadOpen(b(32), b(12), b(16), bad), TypeError, 'aad');
      }
    }
  });

  it('wrong lengths throw RangeError naming the parameter', () => {
    for (const n of [0, 31, 33, 64]) {
      expectThrows(() => s.ed25519PublicKey(b(n)), RangeError, 'secretKey');
      expectThrows(() => s.ed25519Sign(b(3), b(n)), RangeError, 'secretKey');
      expectThrows(() => s.x25519PublicKey(b(n)), RangeError, 'secretKey');
      expectThrows(() => s.x25519(b(n), b(32)), RangeError, 'secretKey');
      expectThrows(() => s.x25519(b(32), b(n)), RangeError, 'peerPublicKey');
      expectThrows(() => s.aeadSeal(b(n), b(12), b(1)), RangeError, 'key');
      expectThrows(() => s.aeadOpen(b(n), b(12), b(16)), RangeError, 'key');
    }
    for (const n of [0, 8, 11, 13, 24]) {
      expectThrows(() => s.aeadSeal(b(32), b(n), b(1)), RangeError, 'nonce');
      expectThrows(() => s.aeadOpen(b(32), b(n), b(16)), RangeError, 'nonce');
    }
    for (const n of [0, 15, 24, 31, 33]) expectThrows(() => s.aesCtr(b(n), b(16)), RangeError, 'key');
    for (const n of [0, 12, 15, 17]) expectThrows(() => s.aesCtr(b(16), b(n)), RangeError, 'iv');
    for (const n of [0, -1, 1.5, 8161, Number.NaN]) expectThrows(() => s.hkdfSha256(b(1), b(0), b(0), n), RangeError, 'length');
    for (const n of [-1, 0.5, Number.POSITIVE_INFINITY, 2 ** 30]) expectThrows(() => s.randomBytes(n), RangeError, 'length');
  });

  it('randomBytes returns the length asked for, and different bytes each time', () => {
    expect(s.randomBytes(0)).toHaveLength(0);
    expect(s.randomBytes(100_000)).toHaveLength(100_000);
    expect(toHex(s.randomBytes(32))).not.toBe(toHex(s.randomBytes(32)));
    expect(s.randomBytes(16)).toBeInstanceOf(Uint8Array);
  });

  it('aeadOpen of input shorter than the tag fails authentication', () => {
    for (const n of [0, 1, 15]) {
      expect(() => s.aeadOpen(b(32), b(12), b(n))).toThrow(CryptoError);
    }
  });

  it('ed25519Verify returns false instead of throwing for malformed arguments', () => {
    const sk = b(32).fill(3);
    const pk = s.ed25519PublicKey(sk);
    const sig = s.ed25519Sign(b(5), sk);
    for (const bad of [undefined, null, 'x', 12, [1], b(0), b(63), b(65)] as unknown as Uint8Array[]) {
      expect(s.ed25519Verify(bad, b(5), pk)).toBe(false);
    }
    for (const bad of [undefined, null, 'x', 12, [1], b(0), b(31), b(33)] as unknown as Uint8Array[]) {
      expect(s.ed25519Verify(sig, b(5), bad)).toBe(false);
    }
    expect(s.ed25519Verify(sig, 'hello' as unknown as Uint8Array, pk)).toBe(false);
    expect(s.ed25519Verify(sig, b(5), pk)).toBe(true);
  });
});

/** Every 32-byte u that X25519 maps to the all-zero output (RFC 7748 §6.1). */
function lowOrderU(): Uint8Array[] {
  const base = [
    0n,
    1n,
    P - 1n,
    // The two u-coordinates of points of order 8.
    325606250916557431795983626356110631294008115727848805560023387167927233504n,
    39382357235489614581723060781553021112529911719440698176882885853963445705823n,
  ];
  const out: Uint8Array[] = [];
  for (const u of base) {
    for (const v of [u, u + P]) {
      if (v >= 2n ** 255n) continue;
      out.push(le32(v)); // canonical or non-canonical (>= p) encoding
      out.push(le32(v + 2n ** 255n)); // with the top bit set, which X25519 ignores (RFC 7748 §5)
    }
  }
  return out;
}

describe.each(SUITES)('$name suite: X25519 weak keys', (s: CryptoSuite) => {
  it.each(lowOrderU().map((u) => ({ u: toHex(u) })))('peer $u throws weak-key', ({ u }) => {
    for (const sk of [b(32).fill(1), hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')]) {
      let caught: unknown;
      try {
        s.x25519(sk, hex(u));
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(CryptoError);
      expect((caught as CryptoError).code).toBe('weak-key');
    }
  });

  it('a point of large order on the twist is not a weak key', () => {
    // u = 2 is not on the curve but on its twist; RFC 7748 asks implementations to accept it.
    const out = s.x25519(b(32).fill(1), le32(2n));
    expect(out.some((x) => x !== 0)).toBe(true);
  });
});

describe('ed25519-strict byte rules', () => {
  it('isCanonicalScalar draws the line exactly at L', () => {
    expect(isCanonicalScalar(le32(0n))).toBe(true);
    expect(isCanonicalScalar(le32(L - 1n))).toBe(true);
    expect(isCanonicalScalar(le32(L))).toBe(false);
    expect(isCanonicalScalar(le32(L + 1n))).toBe(false);
    expect(isCanonicalScalar(le32(2n ** 256n - 1n))).toBe(false);
    expect(isCanonicalScalar(le32(2n ** 252n))).toBe(true);
  });

  it('isCanonicalPointEncoding draws the line exactly at p, ignoring the sign bit', () => {
    for (const sign of [0n, 2n ** 255n]) {
      expect(isCanonicalPointEncoding(le32(sign + P - 1n))).toBe(true);
      expect(isCanonicalPointEncoding(le32(sign + P))).toBe(false);
      expect(isCanonicalPointEncoding(le32(sign + P + 18n))).toBe(false);
      expect(isCanonicalPointEncoding(le32(sign + 0n))).toBe(true);
      expect(isCanonicalPointEncoding(le32(sign + 2n ** 255n - 20n))).toBe(true);
    }
  });

  it('the small-order list is every point of order dividing 8, plus the x = 0 sign-bit encodings', () => {
    for (const h of ED25519_TORSION_SUBGROUP) {
      expect(Point.fromHex(h).isSmallOrder()).toBe(true);
      expect(isSmallOrderEncoding(hex(h))).toBe(true);
    }
    expect(isSmallOrderEncoding(le32(1n + 2n ** 255n))).toBe(true);
    expect(isSmallOrderEncoding(le32(P - 1n + 2n ** 255n))).toBe(true);
    expect(isSmallOrderEncoding(Point.BASE.toBytes())).toBe(false);
    // Eight distinct points: multiples of a generator of the torsion subgroup.
    const t = Point.fromHex(ED25519_TORSION_SUBGROUP[1]!);
    const seen = new Set<string>();
    for (let i = 0n; i < 8n; i++) seen.add(toHex(t.multiplyUnsafe(i).toBytes()));
    expect(seen).toEqual(new Set(ED25519_TORSION_SUBGROUP));
  });
});

describe.each(SUITES)('$name suite: strict Ed25519 verification', (s: CryptoSuite) => {
  const msg = new TextEncoder().encode('strict verification');
  const a = 0x1234567890abcdef1234567890abcdefn % L;
  const A = Point.BASE.multiply(a);
  const aBytes = A.toBytes();

  /** A valid signature by the scalar `a` with nonce `r`, built by hand (RFC 8032 §5.1.6 steps 4–6). */
  function signWith(r: bigint, pub: Uint8Array, priv: bigint, rPoint = Point.BASE.multiply(r)) {
    const rBytes = rPoint.toBytes();
    const k = challenge(rBytes, pub, msg);
    return cat(rBytes, le32((r + k * priv) % L));
  }

  it('accepts a hand-built signature (the construction below is sound)', () => {
    expect(s.ed25519Verify(signWith(777n, aBytes, a), msg, aBytes)).toBe(true);
  });

  it('rejects S >= L (non-canonical S, RFC 8032 §5.1.7 step 1): S + L, and S = L', () => {
    const sk = b(32).fill(5);
    const pk = s.ed25519PublicKey(sk);
    const sig = s.ed25519Sign(msg, sk);
    expect(s.ed25519Verify(sig, msg, pk)).toBe(true);
    const S = bytesToNumberLE(sig.subarray(32));
    const malleated = cat(sig.subarray(0, 32), le32(S + L));
    expect(s.ed25519Verify(malleated, msg, pk)).toBe(false);
    expect(s.ed25519Verify(cat(sig.subarray(0, 32), le32(L)), msg, pk)).toBe(false);
    // Without the S < L check the malleated signature would satisfy the group equation.
    const check = Point.BASE.multiplyUnsafe((S + L) % L).subtract(Point.fromBytes(pk).multiplyUnsafe(challenge(sig.subarray(0, 32), pk, msg)));
    expect(toHex(check.toBytes())).toBe(toHex(sig.subarray(0, 32)));
  });

  it('rejects small-order public keys, even with a signature that satisfies the equation', () => {
    for (const h of ED25519_TORSION_SUBGROUP) {
      const pk = hex(h);
      // With A of small order, [S]B - [k]A is [S]B plus a torsion point; for A = identity, R = [S]B works.
      const S = 4242n;
      const R = Point.BASE.multiply(S).subtract(Point.fromHex(h).multiplyUnsafe(challenge(Point.BASE.multiply(S).toBytes(), pk, msg)));
      const sig = cat(R.toBytes(), le32(S));
      expect(s.ed25519Verify(sig, msg, pk)).toBe(false);
    }
    // The identity with the sign bit set (x = 0, x_0 = 1, RFC 8032 §5.1.3 step 4).
    const S = 99n;
    expect(s.ed25519Verify(cat(Point.BASE.multiply(S).toBytes(), le32(S)), msg, le32(1n + 2n ** 255n))).toBe(false);
  });

  it('rejects a non-canonical public key encoding (y >= p)', () => {
    // y = 1 + p is the identity written non-canonically; any signature over it must fail.
    const pk = le32(1n + P);
    const S = 12n;
    expect(s.ed25519Verify(cat(Point.BASE.multiply(S).toBytes(), le32(S)), msg, pk)).toBe(false);
  });

  it('rejects a non-canonical R encoding even when it names the right point', () => {
    // R = identity: [S]B - [k]A = O needs S = k·a. Written as y = 1 + p it must fail;
    // written canonically the same construction verifies (R of small order is not excluded).
    const nonCanonicalR = le32(1n + P);
    const k1 = challenge(nonCanonicalR, aBytes, msg);
    expect(s.ed25519Verify(cat(nonCanonicalR, le32((k1 * a) % L)), msg, aBytes)).toBe(false);
    const canonicalR = Point.ZERO.toBytes();
    const k2 = challenge(canonicalR, aBytes, msg);
    expect(s.ed25519Verify(cat(canonicalR, le32((k2 * a) % L)), msg, aBytes)).toBe(true);
  });

  it('uses the cofactorless equation: a mixed-order key passes only when the torsion cancels', () => {
    // A' = aB + T with T of order 8. The cofactored equation accepts every signature below;
    // the cofactorless one only those whose challenge k is a multiple of 8.
    const T = Point.fromHex(ED25519_TORSION_SUBGROUP[1]!);
    const mixed = A.add(T).toBytes();
    let accepted = 0;
    let rejected = 0;
    for (let r = 1n; r <= 40n; r++) {
      const sig = signWith(r, mixed, a);
      const k = challenge(sig.subarray(0, 32), mixed, msg);
      // The noble library's own cofactored check accepts all of them.
      expect(ed25519.verify(sig, msg, mixed, { zip215: true })).toBe(true);
      const ok = s.ed25519Verify(sig, msg, mixed);
      expect(ok).toBe(k % 8n === 0n);
      if (ok) accepted++;
      else rejected++;
    }
    expect(rejected).toBeGreaterThan(0);
    expect(accepted + rejected).toBe(40);
  });

  it('rejects a public key that is not on the curve', () => {
    // Find a y whose x^2 is not a square: decoding fails.
    let y = 2n;
    for (;;) {
      try {
        Point.fromBytes(le32(y));
        y++;
      } catch {
        break;
      }
    }
    const sig = signWith(5n, aBytes, a);
    expect(s.ed25519Verify(sig, msg, le32(y))).toBe(false);
  });
});
