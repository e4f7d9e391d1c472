/**
 * IP literals in directory documents: parsing (RFC 4291 §2.2 text forms), canonical output
 * (RFC 5952 §4) and the usability rules of node-core/directory/address.ts.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addressProblem, formatIp, parseIpLiteral } from '../../node-core/directory';
import { toHex } from '../../node-core/util/bytes';

describe('parseIpLiteral / formatIp', () => {
  it.each([
    ['127.0.0.1', 4, '7f000001', '127.0.0.1'],
    ['10.1.2.3', 4, '0a010203', '10.1.2.3'],
    ['::1', 6, '00000000000000000000000000000001', '::1'],
    ['2001:DB8:0:0:0:0:0:1', 6, '20010db8000000000000000000000001', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', 6, '20010db8000000000000ff0000428329', '2001:db8::ff00:42:8329'],
    // RFC 5952 §4.2.3: the longest run of zero groups is shortened; on a tie, the first.
    ['1:0:0:1:0:0:0:1', 6, '00010000000000010000000000000001', '1:0:0:1::1'],
    ['1:0:0:1:1:0:0:1', 6, '00010000000000010001000000000001', '1::1:1:0:0:1'],
    // RFC 5952 §4.2.2: a single zero group is not shortened.
    ['1:0:1:1:1:1:1:1', 6, '00010000000100010001000100010001', '1:0:1:1:1:1:1:1'],
    ['::ffff:1.2.3.4', 6, '00000000000000000000ffff01020304', '::ffff:102:304'],
    ['64:ff9b::192.0.2.33', 6, '0064ff9b0000000000000000c0000221', '64:ff9b::c000:221'],
    ['1:2:3:4:5:6:7::', 6, '00010002000300040005000600070000', '1:2:3:4:5:6:7:0'],
  ])('%s', (text, family, hex, canonical) => {
    const ip = parseIpLiteral(text);
    expect(ip).not.toBeNull();
    expect(ip!.family).toBe(family);
    expect(toHex(ip!.bytes)).toBe(hex);
    expect(formatIp(ip!)).toBe(canonical);
    expect(toHex(parseIpLiteral(canonical)!.bytes)).toBe(hex);
  });

  it.each([
    '',
    '01.2.3.4',
    '256.1.1.1',
    '1.2.3',
    '1.2.3.4.5',
    ' 1.2.3.4',
    '::1::',
    ':::',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '12345::',
    'fe80::1%eth0',
    '[::1]',
    '::1.2.3',
    ':1.2.3.4',
    '1:2:3:4:5:6:7:8::',
    'g::1',
    'localhost',
  ])('refuses %j', (text) => {
    expect(parseIpLiteral(text)).toBeNull();
  });

  it('formats any 16 bytes to a literal that parses back to the same bytes, and is stable', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.boolean(), (bytes, sparse) => {
        // Sparse inputs get runs of zero groups, where the shortening rules matter.
        const b = sparse ? bytes.map((x, i) => ((i >> 1) % 3 === 0 ? 0 : x)) : bytes;
        const text = formatIp({ family: 6, bytes: b });
        const back = parseIpLiteral(text);
        expect(back?.family).toBe(6);
        expect(toHex(back!.bytes)).toBe(toHex(b));
        expect(formatIp(back!)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});

describe('addressProblem', () => {
  const p = (text: string, port = 9001): string | null => addressProblem(parseIpLiteral(text)!, port);
  it('accepts loopback, private and public unicast', () => {
    for (const a of ['127.0.0.1', '10.0.0.1', '192.168.1.1', '8.8.8.8', '::1', '2001:db8::1', 'fd00::1']) expect(p(a)).toBeNull();
  });
  it.each([
    ['0.0.0.0', 9001],
    ['0.1.2.3', 9001],
    ['224.0.0.1', 9001],
    ['239.255.255.255', 9001],
    ['240.0.0.1', 9001],
    ['255.255.255.255', 9001],
    ['::', 9001],
    ['ff02::1', 9001],
    ['fe80::1', 9001],
    ['::ffff:127.0.0.1', 9001],
    ['127.0.0.1', 0],
  ])('refuses %s port %d', (text, port) => {
    expect(p(text, port)).toEqual(expect.any(String));
  });
});
