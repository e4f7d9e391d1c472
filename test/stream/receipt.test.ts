/**
 * Oracle receipts and viewer identification IDs (node-core/stream/receipt.ts): exact layout,
 * round trips, every malformed case, each verification failure in its order, threshold-1 trust
 * over the configured oracles, the one-time-spend ledger, and decoders that throw nothing but
 * StreamError.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_ORACLE_MAX_CLOCK_SKEW_MS,
  MAX_RECEIPT_LENGTH,
  MIN_RECEIPT_LENGTH,
  ReceiptLedger,
  StreamError,
  issueReceipt,
  issueViewerId,
  parseReceipt,
  parseViewerId,
  receiptShortfall,
  verifyReceipt,
  verifyViewerId,
} from '../../node-core/stream';
import { Writer, concatBytes, toHex, utf8 } from '../../node-core/util/bytes';
import { ALLOWED, MINUTE, NETWORK, NOW, ORACLE, ORACLE_2, STRANGER, TRUST, bytesOf, expectCode, receipt, suite, viewerId } from './helpers';

/** A receipt body assembled by hand, signed by `key` — for cases the issuer refuses to make. */
function handReceipt(fields: { format?: number; network?: string; issuedAt?: number; expiresAt?: number; bitrate?: number; viewers?: number; flags?: number }, key = ORACLE) {
  const w = new Writer()
    .u8(fields.format ?? 1)
    .bytes(bytesOf(16, 0x11))
    .bytes(key.publicKey);
  const net = utf8(fields.network ?? NETWORK);
  w.u8(net.length).bytes(net);
  w.u64(BigInt(fields.issuedAt ?? NOW)).u64(BigInt(fields.expiresAt ?? NOW + MINUTE));
  w.u32(fields.bitrate ?? 1000).u32(fields.viewers ?? 10).u8(fields.flags ?? 0);
  const body = w.finish();
  const sig = suite.ed25519Sign(suite.sha256(concatBytes(utf8('PSP-STREAM-RECEIPT-v1'), body)), key.secretKey);
  return concatBytes(body, sig);
}

describe('receipt layout', () => {
  it('is format | receiptId | oracle | network | issuedAt | expiresAt | maxBitrate | maxViewers | flags | signature', () => {
    const b = receipt();
    expect(b.length).toBe(1 + 16 + 32 + 1 + 6 + 8 + 8 + 4 + 4 + 1 + 64);
    expect(b[0]).toBe(1);
    expect(toHex(b.subarray(1, 17))).toBe('11'.repeat(16));
    expect(toHex(b.subarray(17, 49))).toBe(toHex(ORACLE.publicKey));
    expect(b[49]).toBe(6);
    expect(new TextDecoder().decode(b.subarray(50, 56))).toBe('devnet');
    expect(toHex(b.subarray(56, 64))).toBe(NOW.toString(16).padStart(16, '0'));
    expect(toHex(b.subarray(72, 76))).toBe((4_000_000).toString(16).padStart(8, '0'));
    expect(toHex(b.subarray(76, 80))).toBe((500).toString(16).padStart(8, '0'));
    expect(b[80]).toBe(1);
    // The signature is Ed25519 over SHA-256(context ‖ everything before it).
    const digest = suite.sha256(concatBytes(utf8('PSP-STREAM-RECEIPT-v1'), b.subarray(0, 81)));
    expect(suite.ed25519Verify(b.subarray(81), digest, ORACLE.publicKey)).toBe(true);
  });

  it('names no identity: only the id, the oracle, the network, the times and the allowance', () => {
    const u = parseReceipt(receipt());
    expect(Object.keys(u.claimed).sort()).toEqual(['allowed', 'expiresAt', 'issuedAt', 'network', 'oracle', 'receiptId']);
  });

  it('draws a fresh random receipt id when none is given', () => {
    const a = parseReceipt(issueReceipt(suite, { network: NETWORK, issuedAt: NOW, expiresAt: NOW + MINUTE, allowed: ALLOWED }, ORACLE.secretKey));
    const b = parseReceipt(issueReceipt(suite, { network: NETWORK, issuedAt: NOW, expiresAt: NOW + MINUTE, allowed: ALLOWED }, ORACLE.secretKey));
    expect(a.claimed.receiptId.length).toBe(16);
    expect(toHex(a.claimed.receiptId)).not.toBe(toHex(b.claimed.receiptId));
  });

  it('round-trips through parse and verify', () => {
    const bytes = receipt({ allowed: { maxBitrate: 1, maxViewers: 0xffffffff, publicAllowed: false } });
    const v = verifyReceipt(suite, parseReceipt(bytes), NOW, TRUST);
    expect(v.allowed).toEqual({ maxBitrate: 1, maxViewers: 0xffffffff, publicAllowed: false });
    expect(v.network).toBe(NETWORK);
    expect(v.issuedAt).toBe(NOW);
    expect(v.expiresAt).toBe(NOW + 10 * MINUTE);
    expect(toHex(v.bytes)).toBe(toHex(bytes));
    expect(MIN_RECEIPT_LENGTH).toBe(140);
    expect(MAX_RECEIPT_LENGTH).toBe(171);
    expect(receipt({ network: 'a' }).length).toBe(MIN_RECEIPT_LENGTH);
    expect(receipt({ network: 'n'.repeat(32) }).length).toBe(MAX_RECEIPT_LENGTH);
  });
});

describe('receipt parsing refuses', () => {
  it('every truncation and a trailing byte', () => {
    const b = receipt();
    for (let n = 0; n < b.length; n++) expectCode(() => parseReceipt(b.subarray(0, n)), 'malformed');
    expectCode(() => parseReceipt(concatBytes(b, Uint8Array.of(0))), 'malformed');
  });

  it('an unknown format', () => {
    expectCode(() => parseReceipt(handReceipt({ format: 2 })), 'unsupported-version');
  });

  it('an expiry not after the issue time, zero limits, unknown flags, a bad network name', () => {
    expectCode(() => parseReceipt(handReceipt({ expiresAt: NOW })), 'malformed');
    expectCode(() => parseReceipt(handReceipt({ bitrate: 0 })), 'malformed');
    expectCode(() => parseReceipt(handReceipt({ viewers: 0 })), 'malformed');
    expectCode(() => parseReceipt(handReceipt({ flags: 2 })), 'malformed');
    expectCode(() => parseReceipt(handReceipt({ network: 'Dev' })), 'malformed');
    expectCode(() => parseReceipt(handReceipt({ network: '-dev' })), 'malformed');
    expect(parseReceipt(handReceipt({ flags: 1 })).claimed.allowed.publicAllowed).toBe(true);
  });

  it('a time past 2^53 and an oversize input', () => {
    const b = handReceipt({});
    const big = b.slice();
    big[56] = 0xff; // issuedAt's top byte
    expectCode(() => parseReceipt(big), 'malformed');
    expectCode(() => parseReceipt(new Uint8Array(MAX_RECEIPT_LENGTH + 1).fill(1)), 'malformed');
  });

  it('throws TypeError for a non-byte input', () => {
    expect(() => parseReceipt('receipt' as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('throws nothing but StreamError on arbitrary bytes and on mutations of a valid receipt', () => {
    const valid = receipt();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 220 }), (b) => {
        try {
          parseReceipt(b);
        } catch (e) {
          expect(e).toBeInstanceOf(StreamError);
        }
      }),
      { numRuns: 400 },
    );
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const m = valid.slice();
        m[i] = m[i]! ^ x;
        try {
          verifyReceipt(suite, parseReceipt(m), NOW, TRUST);
          // Only an unchanged receipt could verify; every flipped byte is covered by the signature.
          expect.unreachable('a modified receipt verified');
        } catch (e) {
          expect(e).toBeInstanceOf(StreamError);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('receipt verification', () => {
  it('accepts a receipt from any one of the configured oracles (threshold 1)', () => {
    expect(verifyReceipt(suite, parseReceipt(receipt({}, ORACLE_2)), NOW, TRUST).oracle).toEqual(ORACLE_2.publicKey);
    expect(verifyReceipt(suite, parseReceipt(receipt({}, ORACLE)), NOW, { network: NETWORK, oracleKeys: [ORACLE.publicKey] }).network).toBe(NETWORK);
  });

  it('refuses a receipt signed by a key that is not a configured oracle', () => {
    expectCode(() => verifyReceipt(suite, parseReceipt(receipt({}, STRANGER)), NOW, TRUST), 'unknown-oracle');
  });

  it('refuses another network', () => {
    expectCode(() => verifyReceipt(suite, parseReceipt(receipt({ network: 'mainnet' })), NOW, TRUST), 'wrong-network');
  });

  it('refuses at and after expiry, accepts the millisecond before', () => {
    const u = parseReceipt(receipt());
    expect(verifyReceipt(suite, u, NOW + 10 * MINUTE - 1, TRUST).receiptId).toEqual(bytesOf(16, 0x11));
    expectCode(() => verifyReceipt(suite, u, NOW + 10 * MINUTE, TRUST), 'expired');
    expectCode(() => verifyReceipt(suite, u, NOW + 11 * MINUTE, TRUST), 'expired');
  });

  it('refuses a receipt issued beyond the allowed clock skew ahead', () => {
    const u = parseReceipt(receipt({ issuedAt: NOW + DEFAULT_ORACLE_MAX_CLOCK_SKEW_MS, expiresAt: NOW + 20 * MINUTE }));
    expect(verifyReceipt(suite, u, NOW, TRUST).issuedAt).toBe(NOW + DEFAULT_ORACLE_MAX_CLOCK_SKEW_MS);
    expectCode(() => verifyReceipt(suite, u, NOW - 1, TRUST), 'not-yet-valid');
    expectCode(() => verifyReceipt(suite, u, NOW, { ...TRUST, maxClockSkewMs: 0 }), 'not-yet-valid');
  });

  it('refuses a receipt that lives longer than allowed (15 minutes by default)', () => {
    const u = parseReceipt(receipt({ expiresAt: NOW + 15 * MINUTE + 1 }));
    expectCode(() => verifyReceipt(suite, u, NOW, TRUST), 'ttl-too-long');
    expect(verifyReceipt(suite, u, NOW, { ...TRUST, maxTtlMs: 16 * MINUTE }).expiresAt).toBe(NOW + 15 * MINUTE + 1);
  });

  it('refuses a bad signature, and checks the bytes rather than the claimed fields', () => {
    const b = receipt();
    const tampered = b.slice();
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1;
    expectCode(() => verifyReceipt(suite, parseReceipt(tampered), NOW, TRUST), 'bad-signature');
    // Raising the allowance after signing breaks the signature.
    const raised = b.slice();
    raised[72] = 0xff;
    expectCode(() => verifyReceipt(suite, parseReceipt(raised), NOW, TRUST), 'bad-signature');
    // Editing the parsed object does not change what is verified.
    const u = parseReceipt(b);
    const edited = { ...u, claimed: { ...u.claimed, allowed: { ...u.claimed.allowed, maxViewers: 1_000_000 } } };
    expect(verifyReceipt(suite, edited, NOW, TRUST).allowed.maxViewers).toBe(500);
  });

  it('a viewer ID does not parse as a receipt, nor a receipt as a viewer ID', () => {
    const id = viewerId();
    expectCode(() => parseReceipt(id), 'malformed');
    expectCode(() => parseViewerId(receipt()), 'malformed');
  });

  it('checks its parameters', () => {
    const u = parseReceipt(receipt());
    expect(() => verifyReceipt(suite, u, -1, TRUST)).toThrow(RangeError);
    expect(() => verifyReceipt(suite, u, NOW, { network: NETWORK, oracleKeys: [] })).toThrow(RangeError);
    expect(() => verifyReceipt(suite, u, NOW, { network: NETWORK, oracleKeys: [ORACLE.publicKey, ORACLE.publicKey] })).toThrow(RangeError);
    expect(() => verifyReceipt(suite, u, NOW, { network: 'Bad Net', oracleKeys: [ORACLE.publicKey] })).toThrow(RangeError);
    expect(() => verifyReceipt(suite, { bytes: 'x' } as never, NOW, TRUST)).toThrow(TypeError);
    expect(() => receipt({ expiresAt: NOW })).toThrow(RangeError);
    expect(() => receipt({ receiptId: bytesOf(15, 1) })).toThrow(RangeError);
    expect(() => receipt({ allowed: { maxBitrate: 0, maxViewers: 1, publicAllowed: true } })).toThrow(RangeError);
    expect(() => receipt({ allowed: { maxBitrate: 1, maxViewers: 1, publicAllowed: 1 as never } })).toThrow(TypeError);
    expect(() => issueReceipt(suite, { network: NETWORK, issuedAt: NOW, expiresAt: NOW + 1, allowed: ALLOWED }, bytesOf(31, 1))).toThrow(RangeError);
  });
});

describe('receiptShortfall', () => {
  const r = parseReceipt(receipt({ allowed: { maxBitrate: 2_000_000, maxViewers: 50, publicAllowed: false } })).claimed;

  it('is empty when the request fits, and names each field that exceeds the allowance', () => {
    expect(receiptShortfall(r, { bitrate: 2_000_000, maxViewers: 50, public: false })).toEqual([]);
    expect(receiptShortfall(r, { bitrate: 2_000_001, maxViewers: 51, public: true })).toEqual(['bitrate', 'maxViewers', 'public']);
    expect(receiptShortfall(r, { bitrate: 1, maxViewers: 1, public: true })).toEqual(['public']);
  });

  it('checks its parameters', () => {
    expect(() => receiptShortfall(r, { bitrate: 0, maxViewers: 1, public: false })).toThrow(RangeError);
    expect(() => receiptShortfall(r, null as never)).toThrow(TypeError);
  });
});

describe('ReceiptLedger', () => {
  const verified = (id: number, expiresAt = NOW + 10 * MINUTE) =>
    verifyReceipt(suite, parseReceipt(receipt({ receiptId: bytesOf(16, id), expiresAt })), NOW, TRUST);

  it('spends a receipt once; a second use is refused until it expires', () => {
    const ledger = new ReceiptLedger();
    const r = verified(1);
    expect(ledger.spend(r, NOW)).toBe('spent');
    expect(ledger.spend(r, NOW + 1)).toBe('already-spent');
    expect(ledger.spend(r, NOW + 10 * MINUTE - 1)).toBe('already-spent');
    expect(ledger.has(r.receiptId, NOW)).toBe(true);
    // At expiry the receipt no longer verifies, and the ledger says so rather than record it.
    expect(ledger.spend(r, NOW + 10 * MINUTE)).toBe('expired');
    expect(ledger.spend(verified(2), NOW)).toBe('spent');
    expect(ledger.size).toBe(2);
  });

  it('is bounded: full of live entries it refuses; expired entries make room', () => {
    const ledger = new ReceiptLedger({ capacity: 3 });
    expect(ledger.spend(verified(1, NOW + MINUTE), NOW)).toBe('spent');
    expect(ledger.spend(verified(2, NOW + 2 * MINUTE), NOW)).toBe('spent');
    expect(ledger.spend(verified(3, NOW + 3 * MINUTE), NOW)).toBe('spent');
    expect(ledger.spend(verified(4), NOW)).toBe('full');
    expect(ledger.has(bytesOf(16, 4), NOW)).toBe(false);
    // Nothing live is ever evicted: the first receipt is still refused.
    expect(ledger.spend(verified(1, NOW + MINUTE), NOW + 1)).toBe('already-spent');
    // Once the first expires, there is room for one more.
    expect(ledger.spend(verified(4), NOW + MINUTE)).toBe('spent');
    expect(ledger.size).toBe(3);
    expect(ledger.spend(verified(5), NOW + MINUTE)).toBe('full');
    expect(ledger.prune(NOW + 3 * MINUTE)).toBe(2);
    expect(ledger.size).toBe(1);
    expect(ledger.prune(NOW + 3 * MINUTE)).toBe(0);
  });

  it('spends raw ids (an oracle spends puzzle salts the same way) and checks its parameters', () => {
    const ledger = new ReceiptLedger({ capacity: 10 });
    expect(ledger.spendId(bytesOf(16, 9), NOW + 5, NOW)).toBe('spent');
    expect(ledger.spendId(bytesOf(16, 9), NOW + 5, NOW + 4)).toBe('already-spent');
    expect(ledger.spendId(bytesOf(16, 9), NOW + 5, NOW + 5)).toBe('expired');
    expect(() => ledger.spendId(bytesOf(15, 9), NOW + 5, NOW)).toThrow(RangeError);
    expect(() => ledger.spendId(bytesOf(16, 9), -1, NOW)).toThrow(RangeError);
    expect(() => new ReceiptLedger({ capacity: 0 })).toThrow(RangeError);
  });
});

describe('viewer identification IDs', () => {
  it('have the layout format | sessionId | oracle | network | issuedAt | expiresAt | signature', () => {
    const b = viewerId();
    expect(b.length).toBe(1 + 16 + 32 + 1 + 6 + 8 + 8 + 64);
    expect(b[0]).toBe(1);
    expect(toHex(b.subarray(1, 17))).toBe('22'.repeat(16));
    const digest = suite.sha256(concatBytes(utf8('PSP-STREAM-VIEWER-ID-v1'), b.subarray(0, b.length - 64)));
    expect(suite.ed25519Verify(b.subarray(b.length - 64), digest, ORACLE.publicKey)).toBe(true);
  });

  it('round-trip and verify; the session id is random when not given', () => {
    const v = verifyViewerId(suite, parseViewerId(viewerId()), NOW + MINUTE, TRUST);
    expect(toHex(v.sessionId)).toBe('22'.repeat(16));
    const a = parseViewerId(issueViewerId(suite, { network: NETWORK, issuedAt: NOW, expiresAt: NOW + MINUTE }, ORACLE.secretKey));
    const b = parseViewerId(issueViewerId(suite, { network: NETWORK, issuedAt: NOW, expiresAt: NOW + MINUTE }, ORACLE.secretKey));
    expect(toHex(a.claimed.sessionId)).not.toBe(toHex(b.claimed.sessionId));
  });

  it('refuse an unknown oracle, another network, expiry, a future issue time, a long life, a bad signature', () => {
    expectCode(() => verifyViewerId(suite, parseViewerId(viewerId({}, STRANGER)), NOW, TRUST), 'unknown-oracle');
    expectCode(() => verifyViewerId(suite, parseViewerId(viewerId({ network: 'other' })), NOW, TRUST), 'wrong-network');
    expectCode(() => verifyViewerId(suite, parseViewerId(viewerId()), NOW + 60 * MINUTE, TRUST), 'expired');
    expectCode(() => verifyViewerId(suite, parseViewerId(viewerId({ issuedAt: NOW + 6 * MINUTE, expiresAt: NOW + 9 * MINUTE })), NOW, TRUST), 'not-yet-valid');
    expectCode(() => verifyViewerId(suite, parseViewerId(viewerId({ expiresAt: NOW + 25 * 60 * MINUTE })), NOW, TRUST), 'ttl-too-long');
    const bad = viewerId();
    bad[5] = bad[5]! ^ 0x80;
    expectCode(() => verifyViewerId(suite, parseViewerId(bad), NOW, TRUST), 'bad-signature');
  });

  it('refuse every truncation, trailing bytes and an unknown format', () => {
    const b = viewerId();
    for (let n = 0; n < b.length; n++) expectCode(() => parseViewerId(b.subarray(0, n)), 'malformed');
    expectCode(() => parseViewerId(concatBytes(b, Uint8Array.of(1))), 'malformed');
    const v2 = b.slice();
    v2[0] = 2;
    expectCode(() => parseViewerId(v2), 'unsupported-version');
  });

  it('parsing throws nothing but StreamError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        try {
          parseViewerId(b);
        } catch (e) {
          expect(e).toBeInstanceOf(StreamError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
