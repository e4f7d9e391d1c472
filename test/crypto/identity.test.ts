/**
 * Identity strings `<namespace>.<app>.account.<base58 key>` (PSP overview §4).
 */
import { ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { numberToBytesLE } from '@noble/curves/utils.js';
import { base58 } from '@scure/base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  IdentityError,
  MAX_IDENTITY_LENGTH,
  formatIdentity,
  parseIdentity,
  type IdentityErrorCode,
} from '../../node-core/crypto/identity';
import { nobleSuite } from '../../node-core/crypto/noble';
import { hex } from './suites';

const seed = (n: number) => new Uint8Array(32).fill(n);
const key1 = nobleSuite.ed25519PublicKey(seed(1));
const key1Text = base58.encode(key1);
// RFC 8032 §7.1 TEST 1 public key.
const rfcKey = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');

/** A public key whose base58 form starts with '1' (its first byte is zero). */
const zeroLeadKey = (() => {
  for (let i = 0; i < 100_000; i++) {
    const pk = nobleSuite.ed25519PublicKey(numberToBytesLE(BigInt(i), 32));
    if (pk[0] === 0) return pk;
  }
  throw new Error('no key with a leading zero byte found');
})();

describe('formatIdentity / parseIdentity: good identities', () => {
  const good = [
    { namespace: 'peerstream', app: 'client', publicKey: key1 },
    { namespace: 'peerstream', app: 'node', publicKey: rfcKey },
    { namespace: 'a', app: 'b', publicKey: key1 },
    { namespace: 'sirius-stream', app: 'desktop-2', publicKey: zeroLeadKey },
    { namespace: 'x'.repeat(32), app: '0'.repeat(32), publicKey: key1 },
    { namespace: '9', app: 'a-b-c', publicKey: rfcKey },
  ];

  it.each(good)('$namespace.$app round-trips', (parts) => {
    const text = formatIdentity(parts);
    expect(text).toBe(`${parts.namespace}.${parts.app}.account.${base58.encode(parts.publicKey)}`);
    expect(text.length).toBeLessThanOrEqual(MAX_IDENTITY_LENGTH);
    const id = parseIdentity(text);
    expect(id).toEqual({ namespace: parts.namespace, app: parts.app, publicKey: parts.publicKey, text });
    expect(formatIdentity(id)).toBe(text);
  });

  it('the RFC 8032 TEST 1 key has a fixed base58 form (Bitcoin alphabet)', () => {
    const text = formatIdentity({ namespace: 'peerstream', app: 'client', publicKey: rfcKey });
    const tail = text.split('.')[3]!;
    expect(tail).toMatch(/^[1-9A-HJ-NP-Za-km-z]{43,44}$/);
    expect(base58.decode(tail)).toEqual(rfcKey);
  });

  it('random Ed25519 keys round-trip', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (sk) => {
        const publicKey = nobleSuite.ed25519PublicKey(sk);
        const text = formatIdentity({ namespace: 'peerstream', app: 'client', publicKey });
        expect(parseIdentity(text).publicKey).toEqual(publicKey);
      }),
      { numRuns: 200 },
    );
  });
});

/** A 32-byte string that is not a point: the first y (from 2) with no square root. */
const notAPoint = (() => {
  // y = 2: (y^2 - 1)/(d y^2 + 1) is a non-square for edwards25519, so decoding fails.
  const b = new Uint8Array(32);
  b[0] = 2;
  return b;
})();

const P = 2n ** 255n - 19n;

describe('parseIdentity: bad identities', () => {
  const bad: Array<[string, IdentityErrorCode]> = [
    ['', 'bad-format'],
    ['peerstream', 'bad-format'],
    [`peerstream.client.${key1Text}`, 'bad-format'],
    [`peerstream.client.account.${key1Text}.extra`, 'bad-format'],
    [`peerstream.client.account.${key1Text} `, 'bad-format'],
    [` peerstream.client.account.${key1Text}`, 'bad-format'],
    [`peerstream.client.account.\n${key1Text}`, 'bad-format'],
    [`peer stream.client.account.${key1Text}`, 'bad-format'],
    [`peerstream.client.account.${key1Text.slice(0, 10)}\t${key1Text.slice(10)}`, 'bad-format'],
    [`.client.account.${key1Text}`, 'bad-namespace'],
    [`PeerStream.client.account.${key1Text}`, 'bad-namespace'],
    [`-peerstream.client.account.${key1Text}`, 'bad-namespace'],
    [`peerstream-.client.account.${key1Text}`, 'bad-namespace'],
    [`peer_stream.client.account.${key1Text}`, 'bad-namespace'],
    [`pëerstream.client.account.${key1Text}`, 'bad-namespace'],
    [`${'a'.repeat(33)}.client.account.${key1Text}`, 'bad-namespace'],
    [`peerstream..account.${key1Text}`, 'bad-app'],
    [`peerstream.Client.account.${key1Text}`, 'bad-app'],
    [`peerstream.client-.account.${key1Text}`, 'bad-app'],
    [`peerstream.-client.account.${key1Text}`, 'bad-app'],
    [`peerstream.cli/ent.account.${key1Text}`, 'bad-app'],
    [`peerstream.${'b'.repeat(33)}.account.${key1Text}`, 'bad-app'],
    [`peerstream.client.node.${key1Text}`, 'bad-kind'],
    [`peerstream.client.Account.${key1Text}`, 'bad-kind'],
    [`peerstream.client.accounts.${key1Text}`, 'bad-kind'],
    [`peerstream.client..${key1Text}`, 'bad-kind'],
    ['peerstream.client.account.', 'bad-key-encoding'],
    [`peerstream.client.account.${key1Text.slice(0, -1)}0`, 'bad-key-encoding'], // '0' is not base58
    [`peerstream.client.account.${key1Text.slice(0, -1)}O`, 'bad-key-encoding'], // nor 'O'
    [`peerstream.client.account.${key1Text.slice(0, -1)}I`, 'bad-key-encoding'], // nor 'I'
    [`peerstream.client.account.${key1Text.slice(0, -1)}l`, 'bad-key-encoding'], // nor 'l'
    [`peerstream.client.account.${key1Text.slice(0, -1)}+`, 'bad-key-encoding'],
    [`peerstream.client.account.1${key1Text}`, 'bad-key-length'], // leading '1' = extra zero byte
    [`peerstream.client.account.11${base58.encode(zeroLeadKey)}`, 'bad-key-length'],
    [`peerstream.client.account.${base58.encode(zeroLeadKey).slice(1)}`, 'bad-key-length'], // dropped leading '1'
    [`peerstream.client.account.${key1Text.slice(0, -4)}`, 'bad-key-length'],
    [`peerstream.client.account.${base58.encode(new Uint8Array(33).fill(7))}`, 'bad-key-length'],
    [`peerstream.client.account.${base58.encode(new Uint8Array(31).fill(7))}`, 'bad-key-length'],
    [`peerstream.client.account.${base58.encode(new Uint8Array(64).fill(7))}`, 'bad-key-length'],
    [`peerstream.client.account.1`, 'bad-key-length'],
    [`peerstream.client.account.${base58.encode(notAPoint)}`, 'bad-key-point'],
    [`peerstream.client.account.${base58.encode(numberToBytesLE(P + 3n, 32))}`, 'bad-key-point'], // y >= p
    [`peerstream.client.account.${base58.encode(hex(ED25519_TORSION_SUBGROUP[1]!))}`, 'bad-key-point'], // small order
    [`peerstream.client.account.${base58.encode(hex(ED25519_TORSION_SUBGROUP[0]!))}`, 'bad-key-point'], // identity
    [`peerstream.client.account.${base58.encode(new Uint8Array(32))}`, 'bad-key-point'],
    [`${'a'.repeat(60)}.${'b'.repeat(20)}.account.${key1Text}`, 'too-long'],
    ['x'.repeat(MAX_IDENTITY_LENGTH + 1), 'too-long'],
    [`peerstream.client.account.${key1Text}${'1'.repeat(80)}`, 'too-long'],
  ];

  it.each(bad)('%j -> %s', (text, code) => {
    let caught: unknown;
    try {
      parseIdentity(text);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(IdentityError);
    expect((caught as IdentityError).code).toBe(code);
  });

  it('the reference implementation example (key with checksum, 37 bytes) is not a valid identity here', () => {
    expect(() => parseIdentity('peerstream.client.account.2Kny61ghn2upK8ttFwVoeHmicHEA6SfQjXC1HDUtuTGVdea2FF')).toThrow(IdentityError);
  });

  it('a non-string is a TypeError', () => {
    for (const v of [undefined, null, 42, {}, ['a']]) {
      expect(() => parseIdentity(v as unknown as string)).toThrow(TypeError);
    }
  });

  it('never throws anything but IdentityError on arbitrary strings', () => {
    const alphabet = fc.constantFrom(...'abcz019-.AZ1xyl0O_ \t\u00e9'.split(''));
    const near = fc
      .tuple(fc.string({ unit: alphabet, maxLength: 40 }), fc.nat({ max: 3 }))
      .map(([s, i]) => [`peerstream.client.account.${key1Text}`, s, `${s}.client.account.${key1Text}`, `peerstream.${s}.account.${s}`][i]!);
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300, size: 'max' }), fc.string({ unit: 'binary', maxLength: 300, size: 'max' }), near), (s) => {
        try {
          const id = parseIdentity(s);
          expect(formatIdentity(id)).toBe(s); // anything accepted is canonical
        } catch (e) {
          expect(e).toBeInstanceOf(IdentityError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('single-character edits of a good identity are rejected or give a different canonical identity', () => {
    const text = formatIdentity({ namespace: 'peerstream', app: 'client', publicKey: key1 });
    fc.assert(
      fc.property(fc.nat({ max: text.length - 1 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), (i, ch) => {
        const edited = text.slice(0, i) + ch + text.slice(i + 1);
        try {
          const id = parseIdentity(edited);
          expect(id.text).toBe(edited);
          expect(formatIdentity(id)).toBe(edited);
        } catch (e) {
          expect(e).toBeInstanceOf(IdentityError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('formatIdentity: argument checks', () => {
  it('throws TypeError/RangeError naming the parameter', () => {
    expect(() => formatIdentity({ namespace: 1 as unknown as string, app: 'a', publicKey: key1 })).toThrow(/namespace/);
    expect(() => formatIdentity({ namespace: 'a', app: null as unknown as string, publicKey: key1 })).toThrow(TypeError);
    expect(() => formatIdentity({ namespace: 'a', app: 'b', publicKey: 'k' as unknown as Uint8Array })).toThrow(TypeError);
    expect(() => formatIdentity({ namespace: 'a', app: 'b', publicKey: new Uint8Array(31) })).toThrow(RangeError);
    expect(() => formatIdentity({ namespace: 'A', app: 'b', publicKey: key1 })).toThrow(/namespace/);
    expect(() => formatIdentity({ namespace: 'a', app: 'b-', publicKey: key1 })).toThrow(/app/);
    expect(() => formatIdentity({ namespace: 'a', app: 'b', publicKey: notAPoint })).toThrow(/publicKey/);
    expect(() => formatIdentity({ namespace: 'a', app: 'b', publicKey: new Uint8Array(32) })).toThrow(RangeError);
    expect(() => formatIdentity(null as unknown as Parameters<typeof formatIdentity>[0])).toThrow(TypeError);
  });
});
