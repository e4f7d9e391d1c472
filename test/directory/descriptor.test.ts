/**
 * Node descriptors: encode → sign → parse → verify round trips, the layout as documented (via the
 * raw writer), and every refusal of parseDescriptor / verifyDescriptor with its code.
 */
import { describe, expect, it } from 'vitest';
import {
  DESCRIPTOR_FORMAT,
  type NodeDescriptor,
  decodeDescriptorBody,
  encodeDescriptorBody,
  parseDescriptor,
  signDescriptor,
  verifyDescriptor,
} from '../../node-core/directory';
import { toHex } from '../../node-core/util/bytes';
import { HOUR, POLICY, T0, descriptorFields, expectDirectoryError, keyPair, signedDescriptor, suite } from './helpers';
import { type RawDescriptor, ip4, rawDescriptorBody, rawSign, rawSignedDescriptor } from './raw';

const alice = keyPair('descriptor-alice');
const mallory = keyPair('descriptor-mallory');

function rawFields(over: Partial<RawDescriptor> = {}): RawDescriptor {
  const d = descriptorFields(alice);
  return {
    format: DESCRIPTOR_FORMAT,
    identity: d.identity,
    onionKey: d.onionKey,
    roles: 1,
    bandwidth: d.bandwidth,
    publishedAt: BigInt(d.publishedAt),
    validUntil: BigInt(d.validUntil),
    addresses: [ip4(127, 0, 0, 1)],
    version: d.version,
    nickname: d.nickname,
    ...over,
  };
}

/** A raw body, correctly signed by alice: only the layout rules can refuse it. */
function signedRaw(over: Partial<RawDescriptor>): Uint8Array {
  const body = rawDescriptorBody(rawFields(over));
  return rawSignedDescriptor(body, rawSign('PSP-DESCRIPTOR-v1', body, alice.secretKey));
}

describe('descriptor codec', () => {
  it('round-trips: decode(encode(d)) = d and encode(decode(b)) = b', () => {
    const d: NodeDescriptor = descriptorFields(alice, {
      addresses: [
        { host: '2001:DB8::7', port: 443 },
        { host: '192.0.2.10', port: 9001 },
      ],
      roles: ['oracle', 'onion', 'authority'],
      bandwidth: 0xffffffff,
      version: '',
    });
    const body = encodeDescriptorBody(d);
    const back = decodeDescriptorBody(body);
    expect(back.roles).toEqual(['onion', 'authority', 'oracle']);
    expect(back.addresses).toEqual([
      { host: '2001:db8::7', port: 443 },
      { host: '192.0.2.10', port: 9001 },
    ]);
    expect(toHex(back.identity)).toBe(toHex(d.identity));
    expect(back.bandwidth).toBe(0xffffffff);
    expect(toHex(encodeDescriptorBody(back))).toBe(toHex(body));
  });

  it('matches the documented layout byte for byte', () => {
    const body = encodeDescriptorBody(descriptorFields(alice));
    expect(toHex(body)).toBe(toHex(rawDescriptorBody(rawFields())));
  });

  it('signs with SHA-256("PSP-DESCRIPTOR-v1" ‖ body) and frames as len | body | sig', () => {
    const body = encodeDescriptorBody(descriptorFields(alice));
    const signed = signDescriptor(suite, body, alice.secretKey);
    expect(toHex(signed)).toBe(toHex(rawSignedDescriptor(body, rawSign('PSP-DESCRIPTOR-v1', body, alice.secretKey))));
  });

  it('parse → verify gives the fields, the digest SHA-256(body) and the exact bytes', () => {
    const bytes = signedDescriptor(alice);
    const v = verifyDescriptor(suite, parseDescriptor(bytes), T0 + 1000, POLICY);
    expect(v.nickname).toBe(descriptorFields(alice).nickname);
    expect(toHex(v.bytes)).toBe(toHex(bytes));
    expect(toHex(v.digest)).toBe(toHex(suite.sha256(v.body)));
  });

  it('keeps its own copies: mutating the input afterwards changes nothing', () => {
    const bytes = signedDescriptor(alice);
    const u = parseDescriptor(bytes);
    bytes.fill(0);
    expect(verifyDescriptor(suite, u, T0, POLICY).nickname).toBe(descriptorFields(alice).nickname);
  });
});

describe('verifyDescriptor', () => {
  const at = (now: number, bytes = signedDescriptor(alice)) => verifyDescriptor(suite, parseDescriptor(bytes), now, POLICY);

  it('accepts inside the window, including a publishedAt within the allowed skew', () => {
    expect(() => at(T0)).not.toThrow();
    expect(() => at(T0 - POLICY.maxClockSkewMs)).not.toThrow();
    expect(() => at(T0 + 3 * HOUR - 1)).not.toThrow();
  });

  it('refuses not-yet-valid, expired and lifetime-too-long', () => {
    expectDirectoryError(() => at(T0 - POLICY.maxClockSkewMs - 1), 'not-yet-valid');
    expectDirectoryError(() => at(T0 + 3 * HOUR), 'expired');
    const long = signedDescriptor(alice, { validUntil: T0 + POLICY.maxLifetimeMs + 1 });
    expectDirectoryError(() => at(T0, long), 'lifetime-too-long');
    expect(() => at(T0, signedDescriptor(alice, { validUntil: T0 + POLICY.maxLifetimeMs }))).not.toThrow();
  });

  it('refuses a forged signature, a changed body and a signature by another key', () => {
    const bytes = signedDescriptor(alice);
    const flipped = bytes.slice();
    flipped[flipped.length - 1]! ^= 1;
    expectDirectoryError(() => at(T0, flipped), 'bad-signature');

    const changed = bytes.slice();
    changed[2 + 66 + 3]! ^= 1; // a bandwidth byte: still a valid layout
    expect(() => parseDescriptor(changed)).not.toThrow();
    expectDirectoryError(() => at(T0, changed), 'bad-signature');

    const body = encodeDescriptorBody(descriptorFields(alice));
    const byMallory = rawSignedDescriptor(body, rawSign('PSP-DESCRIPTOR-v1', body, mallory.secretKey));
    expectDirectoryError(() => at(T0, byMallory), 'bad-signature');
  });

  it('refuses a signature made for another context (domain separation)', () => {
    const body = encodeDescriptorBody(descriptorFields(alice));
    for (const ctx of ['PSP-VOTE-v1', 'PSP-CONSENSUS-v1', '']) {
      expectDirectoryError(() => at(T0, rawSignedDescriptor(body, rawSign(ctx, body, alice.secretKey))), 'bad-signature');
    }
  });

  it('works from the body, not from a hand-edited `claimed`', () => {
    const u = parseDescriptor(signedDescriptor(alice));
    const edited = { ...u, claimed: { ...u.claimed, validUntil: T0 + 100 * HOUR, nickname: 'evil' } };
    const v = verifyDescriptor(suite, edited, T0, POLICY);
    expect(v.nickname).toBe(descriptorFields(alice).nickname);
    expectDirectoryError(() => verifyDescriptor(suite, edited, T0 + 3 * HOUR, POLICY), 'expired');
  });

  it('checks its arguments', () => {
    const u = parseDescriptor(signedDescriptor(alice));
    expect(() => verifyDescriptor(suite, u, -1, POLICY)).toThrow(RangeError);
    expect(() => verifyDescriptor(suite, u, T0, { maxLifetimeMs: 0, maxClockSkewMs: 0 })).toThrow(RangeError);
    expect(() => verifyDescriptor(suite, null as never, T0, POLICY)).toThrow(TypeError);
  });
});

describe('parseDescriptor refusals', () => {
  it.each<[string, Partial<RawDescriptor>, string]>([
    ['format 2', { format: 2 }, 'unsupported-version'],
    ['no role', { roles: 0 }, 'malformed'],
    ['unknown role bit', { roles: 0x41 }, 'malformed'],
    ['all-zero onion key', { onionKey: new Uint8Array(32) }, 'malformed'],
    ['validUntil = publishedAt', { validUntil: BigInt(T0) }, 'malformed'],
    ['time past 2^53', { validUntil: 1n << 60n }, 'malformed'],
    ['no address', { addresses: [] }, 'malformed'],
    ['five addresses', { addresses: [1, 2, 3, 4, 5].map((i) => ip4(10, 0, 0, i)) }, 'malformed'],
    ['address family 5', { addresses: [{ family: 5, bytes: Uint8Array.of(1, 2, 3, 4), port: 1 }] }, 'malformed'],
    ['port 0', { addresses: [ip4(127, 0, 0, 1, 0)] }, 'bad-address'],
    ['0.0.0.0', { addresses: [ip4(0, 0, 0, 0)] }, 'bad-address'],
    ['multicast', { addresses: [ip4(224, 0, 0, 5)] }, 'bad-address'],
    ['broadcast', { addresses: [ip4(255, 255, 255, 255)] }, 'bad-address'],
    ['IPv6 unspecified', { addresses: [{ family: 6, bytes: new Uint8Array(16), port: 1 }] }, 'bad-address'],
    ['duplicate address', { addresses: [ip4(10, 0, 0, 1), ip4(10, 0, 0, 1)] }, 'bad-address'],
    ['nickname with a space', { nickname: 'bad name' }, 'malformed'],
    ['empty nickname', { nickname: '' }, 'malformed'],
    ['33-character nickname', { nickname: 'n'.repeat(33) }, 'malformed'],
    ['version with a newline', { version: 'v1\n' }, 'malformed'],
  ])('%s → %s', (_name, over, code) => {
    expectDirectoryError(() => parseDescriptor(signedRaw(over)), code as never);
  });

  it('refuses truncation anywhere and trailing bytes', () => {
    const bytes = signedDescriptor(alice);
    for (let n = 0; n < bytes.length; n++) expectDirectoryError(() => parseDescriptor(bytes.subarray(0, n)), 'malformed');
    expectDirectoryError(() => parseDescriptor(Uint8Array.of(...bytes, 0)), 'malformed');
    // A body length that leaves a byte of the body outside: trailing bytes inside the body.
    const body = encodeDescriptorBody(descriptorFields(alice));
    const padded = Uint8Array.of(...body, 0);
    expectDirectoryError(() => parseDescriptor(rawSignedDescriptor(padded, rawSign('PSP-DESCRIPTOR-v1', padded, alice.secretKey))), 'malformed');
  });
});

describe('encodeDescriptorBody / signDescriptor argument checks', () => {
  it.each<[string, Partial<NodeDescriptor>]>([
    ['short identity', { identity: new Uint8Array(31) }],
    ['zero onion key', { onionKey: new Uint8Array(32) }],
    ['no roles', { roles: [] }],
    ['unknown role', { roles: ['exit' as never] }],
    ['repeated role', { roles: ['onion', 'onion'] }],
    ['negative bandwidth', { bandwidth: -1 }],
    ['fractional time', { publishedAt: T0 + 0.5 }],
    ['validUntil before publishedAt', { validUntil: T0 - 1 }],
    ['host name', { addresses: [{ host: 'example.com', port: 1 }] }],
    ['port 0', { addresses: [{ host: '10.0.0.1', port: 0 }] }],
    ['port 65536', { addresses: [{ host: '10.0.0.1', port: 65536 }] }],
    ['unspecified', { addresses: [{ host: '::', port: 1 }] }],
    ['duplicate address', { addresses: [{ host: '::1', port: 1 }, { host: '0:0::1', port: 1 }] }],
    ['no address', { addresses: [] }],
    ['bad nickname', { nickname: 'a.b' }],
    ['long version', { version: 'v'.repeat(33) }],
  ])('%s → RangeError/TypeError', (_name, over) => {
    expect(() => encodeDescriptorBody(descriptorFields(alice, over))).toThrow(/must|repeats|usable|after/);
  });

  it('refuses to sign with a key that is not the descriptor identity', () => {
    const body = encodeDescriptorBody(descriptorFields(alice));
    expect(() => signDescriptor(suite, body, mallory.secretKey)).toThrow(RangeError);
    expect(() => signDescriptor(suite, Uint8Array.of(1, 2, 3), alice.secretKey)).toThrow(RangeError);
  });
});
