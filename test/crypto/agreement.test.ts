/**
 * nobleSuite and nodeSuite must be interchangeable: identical bytes for identical inputs and the
 * same accept/reject decision for forged or damaged signatures and ciphertexts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoError, type CryptoSuite } from '../../node-core/crypto/api';
import { nobleSuite } from '../../node-core/crypto/noble';
import { nodeSuite } from '../../node-core/io/crypto-node';
import { toHex } from './suites';

const bytes = (max: number, min = 0) => fc.uint8Array({ minLength: min, maxLength: max });
const key32 = bytes(32, 32);

/** Runs `f` on a suite and reports either its bytes or the error code/class it threw. */
function outcome(f: () => Uint8Array | boolean): string {
  try {
    const r = f();
    return typeof r === 'boolean' ? String(r) : toHex(r);
  } catch (e) {
    if (e instanceof CryptoError) return `CryptoError:${e.code}`;
    return `threw:${(e as Error).name}`;
  }
}

function both(f: (s: CryptoSuite) => Uint8Array | boolean): void {
  const a = outcome(() => f(nobleSuite));
  const b = outcome(() => f(nodeSuite));
  expect(b).toBe(a);
}

/** Applies a list of cut points (any numbers) to split `data` into consecutive pieces. */
function split(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(data.subarray(prev, p));
    prev = p;
  }
  out.push(data.subarray(prev));
  return out;
}

describe('nobleSuite and nodeSuite agree', () => {
  it('sha256, sha3_256 and hmacSha256', () => {
    fc.assert(
      fc.property(bytes(300), bytes(200), (data, key) => {
        both((s) => s.sha256(data));
        both((s) => s.sha3_256(data));
        both((s) => s.hmacSha256(key, data));
      }),
      { numRuns: 300 },
    );
  });

  it('runningSha256 over random pieces, with clones taken midway', () => {
    fc.assert(
      fc.property(bytes(600), fc.array(fc.nat(), { maxLength: 8 }), bytes(40), (data, cuts, seed) => {
        const run = (s: CryptoSuite): string[] => {
          const h = s.runningSha256(seed);
          const seen: string[] = [];
          let fork = h.clone();
          for (const piece of split(data, cuts)) {
            h.update(piece);
            seen.push(toHex(h.digest()));
            fork = h.clone();
          }
          fork.update(new Uint8Array([1]));
          seen.push(toHex(fork.digest()), toHex(h.digest()));
          return seen;
        };
        const a = run(nobleSuite);
        expect(run(nodeSuite)).toEqual(a);
        // The running digest over all pieces is the one-shot digest of seed || data.
        const whole = new Uint8Array(seed.length + data.length);
        whole.set(seed);
        whole.set(data, seed.length);
        expect(a[a.length - 1]).toBe(toHex(nobleSuite.sha256(whole)));
      }),
      { numRuns: 200 },
    );
  });

  it('hkdfSha256 for random inputs and output lengths', () => {
    fc.assert(
      fc.property(bytes(80), bytes(80), bytes(80), fc.integer({ min: 1, max: 255 * 32 }), (ikm, salt, info, len) => {
        both((s) => s.hkdfSha256(ikm, salt, info, len));
      }),
      { numRuns: 100 },
    );
  });

  it('ed25519 public keys, signatures and verification', () => {
    fc.assert(
      fc.property(key32, bytes(300), (sk, msg) => {
        const pk = nobleSuite.ed25519PublicKey(sk);
        expect(nodeSuite.ed25519PublicKey(sk)).toEqual(pk);
        const sig = nobleSuite.ed25519Sign(msg, sk);
        expect(nodeSuite.ed25519Sign(msg, sk)).toEqual(sig);
        expect(nobleSuite.ed25519Verify(sig, msg, pk)).toBe(true);
        expect(nodeSuite.ed25519Verify(sig, msg, pk)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('ed25519 verification of tampered signatures, messages and keys', () => {
    const tamper = fc.record({
      where: fc.constantFrom('sig', 'msg', 'pk'),
      index: fc.nat(),
      xor: fc.integer({ min: 1, max: 255 }),
    });
    fc.assert(
      fc.property(key32, bytes(100, 1), tamper, (sk, msg, t) => {
        const pk = nobleSuite.ed25519PublicKey(sk);
        const sig = nobleSuite.ed25519Sign(msg, sk);
        const target = t.where === 'sig' ? sig.slice() : t.where === 'msg' ? msg.slice() : pk.slice();
        target[t.index % target.length]! ^= t.xor;
        const args: [Uint8Array, Uint8Array, Uint8Array] =
          t.where === 'sig' ? [target, msg, pk] : t.where === 'msg' ? [sig, target, pk] : [sig, msg, target];
        const a = nobleSuite.ed25519Verify(...args);
        const b = nodeSuite.ed25519Verify(...args);
        expect(b).toBe(a);
        expect(a).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('ed25519 verification of arbitrary bytes (never throws, same answer)', () => {
    fc.assert(
      fc.property(bytes(70), bytes(40), bytes(34), (sig, msg, pk) => {
        both((s) => s.ed25519Verify(sig, msg, pk));
      }),
      { numRuns: 500 },
    );
  });

  it('x25519 public keys and shared secrets for random keys', () => {
    fc.assert(
      fc.property(key32, key32, (a, b) => {
        const pa = nobleSuite.x25519PublicKey(a);
        const pb = nobleSuite.x25519PublicKey(b);
        expect(nodeSuite.x25519PublicKey(a)).toEqual(pa);
        expect(nodeSuite.x25519PublicKey(b)).toEqual(pb);
        const k1 = nobleSuite.x25519(a, pb);
        expect(nodeSuite.x25519(a, pb)).toEqual(k1);
        expect(nodeSuite.x25519(b, pa)).toEqual(k1);
      }),
      { numRuns: 100 },
    );
  });

  it('x25519 against arbitrary 32-byte peer values (points on the curve or its twist)', () => {
    fc.assert(
      fc.property(key32, key32, (sk, peer) => {
        both((s) => s.x25519(sk, peer));
      }),
      { numRuns: 200 },
    );
  });

  it('chacha20-poly1305 seal and open', () => {
    fc.assert(
      fc.property(key32, bytes(12, 12), bytes(600), bytes(60), (key, nonce, pt, aad) => {
        const sealed = nobleSuite.aeadSeal(key, nonce, pt, aad);
        expect(nodeSuite.aeadSeal(key, nonce, pt, aad)).toEqual(sealed);
        expect(nodeSuite.aeadOpen(key, nonce, sealed, aad)).toEqual(pt);
        expect(nobleSuite.aeadOpen(key, nonce, sealed, aad)).toEqual(pt);
        // Omitting the AAD equals passing an empty one.
        both((s) => s.aeadSeal(key, nonce, pt));
        expect(toHex(nodeSuite.aeadSeal(key, nonce, pt))).toBe(toHex(nobleSuite.aeadSeal(key, nonce, pt, new Uint8Array(0))));
      }),
      { numRuns: 200 },
    );
  });

  it('chacha20-poly1305 rejects tampered input in both suites', () => {
    fc.assert(
      fc.property(
        key32,
        bytes(12, 12),
        bytes(100),
        bytes(20),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.constantFrom('sealed', 'aad', 'truncate', 'key', 'nonce'),
        (key, nonce, pt, aad, index, xor, where) => {
          const sealed = nobleSuite.aeadSeal(key, nonce, pt, aad);
          let args: [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
          if (where === 'sealed') {
            const t = sealed.slice();
            t[index % t.length]! ^= xor;
            args = [key, nonce, t, aad];
          } else if (where === 'aad') {
            const t = new Uint8Array(aad.length + 1);
            t.set(aad);
            t[aad.length] = xor;
            args = [key, nonce, sealed, t];
          } else if (where === 'truncate') {
            args = [key, nonce, sealed.subarray(0, index % sealed.length), aad];
          } else if (where === 'key') {
            const t = key.slice();
            t[index % 32]! ^= xor;
            args = [t, nonce, sealed, aad];
          } else {
            const t = nonce.slice();
            t[index % 12]! ^= xor;
            args = [key, t, sealed, aad];
          }
          const a = outcome(() => nobleSuite.aeadOpen(...args));
          expect(a).toBe('CryptoError:auth-failed');
          expect(outcome(() => nodeSuite.aeadOpen(...args))).toBe(a);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('aes-ctr streams fed in different random piece splits', () => {
    const iv = fc.oneof(
      bytes(16, 16),
      // Counter blocks about to carry across many bytes, and to wrap at 2^128.
      fc.tuple(bytes(8, 8), fc.integer({ min: 0, max: 3 })).map(([head, low]) => {
        const b = new Uint8Array(16).fill(0xff);
        b.set(head.subarray(0, 4));
        b[15] = 0xff - low;
        return b;
      }),
    );
    fc.assert(
      fc.property(
        fc.oneof(bytes(16, 16), bytes(32, 32)),
        iv,
        bytes(2000),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (key, counter, data, cutsA, cutsB) => {
          // Each suite gets its own split; all four results must equal the one-shot encryption.
          const oneShot = toHex(nobleSuite.aesCtr(key, counter).update(data));
          for (const [s, cuts] of [
            [nobleSuite, cutsA],
            [nodeSuite, cutsB],
            [nodeSuite, cutsA],
            [nobleSuite, cutsB],
          ] as const) {
            const stream = s.aesCtr(key, counter);
            const got = split(data, cuts)
              .map((p) => toHex(stream.update(p)))
              .join('');
            expect(got).toBe(oneShot);
          }
          expect(toHex(nodeSuite.aesCtr(key, counter).update(data))).toBe(oneShot);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('aes-ctr on 509-byte relay cell payloads, one stream per direction', () => {
    fc.assert(
      fc.property(bytes(16, 16), bytes(16, 16), fc.array(bytes(509, 509), { minLength: 1, maxLength: 6 }), (key, iv, cells) => {
        const a = nobleSuite.aesCtr(key, iv);
        const b = nodeSuite.aesCtr(key, iv);
        for (const cell of cells) expect(b.update(cell)).toEqual(a.update(cell));
      }),
      { numRuns: 100 },
    );
  });

  it('aes-ctr streams do not share state and do not alias their inputs', () => {
    for (const s of [nobleSuite, nodeSuite]) {
      const key = new Uint8Array(16).fill(7);
      const iv = new Uint8Array(16);
      const first = s.aesCtr(key, iv);
      key.fill(9); // changing the caller's arrays afterwards must not change the stream
      iv.fill(1);
      const again = s.aesCtr(new Uint8Array(16).fill(7), new Uint8Array(16));
      const data = new Uint8Array(40);
      const a = first.update(data);
      expect(a).toEqual(again.update(data));
      expect(data).toEqual(new Uint8Array(40));
      // The keystream moves on: the next 40 bytes differ from the first 40.
      expect(first.update(data)).not.toEqual(a);
    }
  });
});
