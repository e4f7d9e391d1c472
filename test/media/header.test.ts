/**
 * The SFrame header codec (RFC 9605 §4.3) beyond the published vectors: a corpus of bad headers
 * with the one error each must give, round trips over the whole 64-bit range, and the rule that
 * the decoder throws nothing but SFrameError.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SFRAME_MAX_HEADER_BYTES, SFRAME_MAX_VALUE, SFrameError, decodeHeader, encodeHeader } from '../../node-core/media';
import { fromHex, toHex } from '../../node-core/util/bytes';

const u64 = fc.bigInt({ min: 0n, max: SFRAME_MAX_VALUE });
/** Values spread over every encoded length, not only the huge ones a uniform draw favours. */
const anyLength = fc.integer({ min: 0, max: 64 }).chain((bits) =>
  bits === 0 ? fc.constant(0n) : fc.bigInt({ min: 1n << BigInt(bits - 1), max: (1n << BigInt(bits)) - 1n }),
);
const value = fc.oneof(u64, anyLength);

describe('bad headers: one error each', () => {
  const bad: [string, string][] = [
    ['', 'no config byte'],
    ['80', 'X set, 1-byte KID missing'],
    ['08', 'Y set, 1-byte CTR missing'],
    ['f0ffffffffffffff', 'X set, 8-byte KID has only 7 bytes'],
    ['0f01020304050607', 'Y set, 8-byte CTR has only 7 bytes'],
    ['8808', 'KID 8 present but the CTR byte is missing'],
    ['8007', 'KID 7 in extended form (belongs in the config byte)'],
    ['8000', 'KID 0 in extended form'],
    ['0807', 'CTR 7 in extended form'],
    ['090008', 'CTR 8 with a leading zero byte'],
    ['900001', 'KID 1 in two bytes'],
    ['f000ffffffffffffff', 'KID with a leading zero in 8 bytes'],
    ['8808000008', 'CTR with leading zeros after a good KID'],
  ];
  it.each(bad)('%s (%s)', (h) => {
    expect(() => decodeHeader(fromHex(h))).toThrow(expect.objectContaining({ name: 'SFrameError', code: 'malformed-header' }));
  });

  it('the nearest good neighbours of those headers decode', () => {
    expect(decodeHeader(fromHex('8008'))).toEqual({ kid: 8n, ctr: 0n, length: 2 });
    expect(decodeHeader(fromHex('0808'))).toEqual({ kid: 0n, ctr: 8n, length: 2 });
    expect(decodeHeader(fromHex('77'))).toEqual({ kid: 7n, ctr: 7n, length: 1 });
    expect(decodeHeader(fromHex('880808'))).toEqual({ kid: 8n, ctr: 8n, length: 3 });
  });
});

describe('round trips', () => {
  it('decode(encode(kid, ctr)) gives (kid, ctr) and the whole header', () => {
    fc.assert(
      fc.property(value, value, (kid, ctr) => {
        const h = encodeHeader(kid, ctr);
        expect(h.length).toBeLessThanOrEqual(SFRAME_MAX_HEADER_BYTES);
        expect(decodeHeader(h)).toEqual({ kid, ctr, length: h.length });
      }),
      { numRuns: 2000 },
    );
  });

  it('the header is as short as §4.3 says: 1 byte, plus the minimal length of each value ≥ 8', () => {
    const minimal = (v: bigint) => (v < 8n ? 0 : Math.ceil(v.toString(16).length / 2));
    fc.assert(
      fc.property(value, value, (kid, ctr) => {
        expect(encodeHeader(kid, ctr).length).toBe(1 + minimal(kid) + minimal(ctr));
      }),
    );
  });

  it('different (kid, ctr) pairs never share a header', () => {
    fc.assert(
      fc.property(value, value, value, value, (k1, c1, k2, c2) => {
        fc.pre(k1 !== k2 || c1 !== c2);
        expect(toHex(encodeHeader(k1, c1))).not.toBe(toHex(encodeHeader(k2, c2)));
      }),
    );
  });

  it('decoding arbitrary bytes gives SFrameError or a header that re-encodes to the bytes read', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        let h;
        try {
          h = decodeHeader(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(SFrameError);
          return;
        }
        expect(toHex(encodeHeader(h.kid, h.ctr))).toBe(toHex(bytes.subarray(0, h.length)));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('parameter checks', () => {
  it('encodeHeader names the bad parameter', () => {
    expect(() => encodeHeader(-1, 0)).toThrow(RangeError);
    expect(() => encodeHeader(-1, 0)).toThrow(/kid/);
    expect(() => encodeHeader(0, 1.5)).toThrow(/ctr/);
    expect(() => encodeHeader(0, SFRAME_MAX_VALUE + 1n)).toThrow(RangeError);
    expect(() => encodeHeader(Number.MAX_SAFE_INTEGER + 1, 0)).toThrow(RangeError);
    expect(() => encodeHeader('1' as unknown as number, 0)).toThrow(TypeError);
    expect(() => encodeHeader(0, null as unknown as number)).toThrow(/ctr must be a number or a bigint/);
  });

  it('decodeHeader wants a Uint8Array', () => {
    expect(() => decodeHeader([0] as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => decodeHeader([0] as unknown as Uint8Array)).toThrow(/data/);
  });

  it('the largest values encode in 17 bytes', () => {
    expect(toHex(encodeHeader(SFRAME_MAX_VALUE, SFRAME_MAX_VALUE))).toBe('ff' + 'ff'.repeat(16));
  });
});
