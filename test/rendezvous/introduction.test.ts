/**
 * The introduction (node-core/rendezvous/introduction.ts): round trip, an independent decryption
 * of the envelope with the primitives the module header names, every IntroductionError code from
 * a crafted input, what the presence node can see, decoder robustness, and the end-to-end ntor
 * handshake carried inside.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { nobleSuite } from '../../node-core/crypto/noble';
import { formatIdentity } from '../../node-core/crypto/identity';
import { ntorClientComplete, ntorClientCreate, ntorServerHandle } from '../../node-core/circuit/ntor';
import { NTOR_RENDEZVOUS } from '../../node-core/onion/client';
import { concatBytes, utf8 } from '../../node-core/util/bytes';
import {
  IntroductionError,
  introductionId,
  isIntroductionError,
  openIntroduction,
  sealIntroduction,
  type IntroductionErrorCode,
  type IntroductionRecipient,
  type SealIntroductionInput,
} from '../../node-core/rendezvous';
import {
  encodeIntroductionPlaintext,
  sealIntroductionPlaintext,
  type IntroductionBody,
} from '../../node-core/rendezvous/introduction';

const suite = nobleSuite;
const NOW = 1_700_000_000_000;
const LIMITS = { maxAgeMs: 60_000, maxClockSkewMs: 5_000 };

function seeded(seed: number, length = 32): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed * 131 + i * 37 + 11) & 0xff;
  return out;
}

function person(seed: number): { secretKey: Uint8Array; publicKey: Uint8Array; identityText: string } {
  const secretKey = seeded(seed);
  const publicKey = suite.ed25519PublicKey(secretKey);
  return { secretKey, publicKey, identityText: formatIdentity({ namespace: 'peerstream', app: 'client', publicKey }) };
}

function x25519Pair(seed: number): { secret: Uint8Array; public: Uint8Array } {
  const secret = seeded(seed);
  return { secret, public: suite.x25519PublicKey(secret) };
}

const alice = person(1);
const bob = person(2);
const carol = person(3);
const mallory = person(4);
const bobAnnounce = x25519Pair(10);
const bobOldAnnounce = x25519Pair(11);
const carolAnnounce = x25519Pair(12);
const rvNode = person(20);
const rvOnion = x25519Pair(21);
const cookie = seeded(30);
const certificate = utf8('opaque access certificate for alice');

const bobRecipient: IntroductionRecipient = {
  identityKey: bob.publicKey,
  announcementKeys: [bobOldAnnounce, bobAnnounce],
};

function rendezvous(): SealIntroductionInput['rendezvous'] {
  return {
    cookie: cookie.slice(),
    nodeIdentity: rvNode.publicKey,
    nodeOnionKey: rvOnion.public,
    linkSpecifiers: [
      { type: 'ipv4', address: Uint8Array.of(127, 0, 0, 1), port: 8003 },
      { type: 'ipv6', address: seeded(40, 16), port: 443 },
      { type: 'ed25519', identity: rvNode.publicKey },
    ],
  };
}

function onionskinFor(identityKey: Uint8Array, announcementKey: Uint8Array) {
  return ntorClientCreate(suite, { nodeId: identityKey, nodeOnionKey: announcementKey, protocol: NTOR_RENDEZVOUS });
}

function input(overrides: Partial<SealIntroductionInput> = {}): SealIntroductionInput {
  return {
    from: { secretKey: alice.secretKey, identityText: alice.identityText },
    certificate,
    to: { identityKey: bob.publicKey, announcementKey: bobAnnounce.public },
    rendezvous: rendezvous(),
    onionskin: onionskinFor(bob.publicKey, bobAnnounce.public).onionskin,
    createdAt: NOW,
    greeting: 'hi Bob, it is Alice ✓',
    ...overrides,
  };
}

function body(overrides: Partial<IntroductionBody> = {}): IntroductionBody {
  return {
    identityText: alice.identityText,
    certificate,
    rendezvous: rendezvous(),
    onionskin: onionskinFor(bob.publicKey, bobAnnounce.public).onionskin,
    createdAt: NOW,
    ...overrides,
  };
}

const bobTo = { identityKey: bob.publicKey, announcementKey: bobAnnounce.public };

function expectCode(fn: () => unknown, code: IntroductionErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(IntroductionError);
  expect((caught as IntroductionError).code).toBe(code);
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

const open = (bytes: Uint8Array, now = NOW, recipient = bobRecipient) =>
  openIntroduction(suite, bytes, recipient, now, LIMITS);

describe('round trip', () => {
  it('Bob reads exactly what Alice sealed', () => {
    const sent = input();
    const wire = sealIntroduction(suite, sent);
    const got = open(wire);
    expect(got.version).toBe(1);
    expect(got.from.text).toBe(alice.identityText);
    expect(got.from.publicKey).toEqual(alice.publicKey);
    expect(got.certificate).toEqual(certificate);
    expect(got.rendezvous).toEqual(rendezvous());
    expect(got.onionskin).toEqual(sent.onionskin);
    expect(got.createdAt).toBe(NOW);
    expect(got.greeting).toBe('hi Bob, it is Alice ✓');
    expect(got.announcementKey).toEqual(bobAnnounce.public);
  });

  it('without greeting or link specifiers, sealed to an older announcement key still held', () => {
    const wire = sealIntroduction(
      suite,
      input({
        greeting: undefined,
        rendezvous: { ...rendezvous(), linkSpecifiers: [] },
        to: { identityKey: bob.publicKey, announcementKey: bobOldAnnounce.public },
        onionskin: onionskinFor(bob.publicKey, bobOldAnnounce.public).onionskin,
      }),
    );
    const got = open(wire);
    expect(got.greeting).toBeUndefined();
    expect(got.rendezvous.linkSpecifiers).toEqual([]);
    expect(got.announcementKey).toEqual(bobOldAnnounce.public);
  });

  it('the envelope decrypts with the primitives the module names (X25519, HKDF-SHA256, ChaCha20-Poly1305)', () => {
    const wire = sealIntroduction(suite, input());
    expect(wire[0]).toBe(1);
    const E = wire.subarray(1, 33);
    const B = wire.subarray(33, 65);
    expect(B).toEqual(bobAnnounce.public);
    const len = (wire[65]! << 8) | wire[66]!;
    expect(wire.length).toBe(67 + len);
    const shared = x25519.getSharedSecret(bobAnnounce.secret, E);
    const key = hkdf(sha256, shared, utf8('psp-introduction-v1'), concatBytes(E, B, bob.publicKey), 32);
    const aad = concatBytes(utf8('PSP-INTRO'), Uint8Array.of(1), E, B);
    const plaintext = chacha20poly1305(key, new Uint8Array(12), aad).decrypt(wire.subarray(67));
    const idBytes = utf8(alice.identityText);
    expect(plaintext[0]).toBe(1);
    expect(plaintext[1]).toBe(idBytes.length);
    expect(plaintext.subarray(2, 2 + idBytes.length)).toEqual(idBytes);
    // Signature: last 64 bytes, over SHA-256(context | rest | Bob's identity key).
    const unsigned = plaintext.subarray(0, plaintext.length - 64);
    const digest = sha256(concatBytes(utf8('PSP-INTRODUCTION-v1'), unsigned, bob.publicKey));
    expect(suite.ed25519Verify(plaintext.subarray(plaintext.length - 64), digest, alice.publicKey)).toBe(true);
  });

  it('two sealings of the same introduction differ (fresh ephemeral key) and have different ids', () => {
    const sent = input();
    const a = sealIntroduction(suite, sent);
    const b = sealIntroduction(suite, sent);
    expect(a).not.toEqual(b);
    expect(introductionId(a)).toEqual(sha256(a));
    expect(introductionId(a)).not.toEqual(introductionId(b));
    expect(introductionId(a)).toEqual(introductionId(a.slice()));
  });
});

describe('what the presence node sees', () => {
  it('the wire bytes contain neither Alice’s key, her identity, the cookie, the certificate nor the greeting', () => {
    const sent = input();
    const wire = sealIntroduction(suite, sent);
    expect(contains(wire, alice.publicKey)).toBe(false);
    expect(contains(wire, utf8(alice.identityText))).toBe(false);
    expect(contains(wire, cookie)).toBe(false);
    expect(contains(wire, certificate)).toBe(false);
    expect(contains(wire, utf8('hi Bob'))).toBe(false);
    expect(contains(wire, rvNode.publicKey)).toBe(false);
    expect(contains(wire, bob.publicKey)).toBe(false);
    // The self-check: the search does find what is there.
    expect(contains(wire, bobAnnounce.public)).toBe(true);
  });
});

describe('every error code', () => {
  const good = () => sealIntroduction(suite, input());

  it('malformed: truncated, trailing bytes, a sealed part shorter than the tag', () => {
    const wire = good();
    expectCode(() => open(new Uint8Array(0)), 'malformed');
    expectCode(() => open(wire.subarray(0, wire.length - 1)), 'malformed');
    expectCode(() => open(wire.subarray(0, 50)), 'malformed');
    expectCode(() => open(concatBytes(wire, Uint8Array.of(0))), 'malformed');
    const short = concatBytes(wire.subarray(0, 65), Uint8Array.of(0, 15), new Uint8Array(15));
    expectCode(() => open(short), 'malformed');
  });

  it('malformed: a well-sealed plaintext that does not parse', () => {
    const plaintext = encodeIntroductionPlaintext(suite, body(), alice.secretKey, bob.publicKey);
    expectCode(() => open(sealIntroductionPlaintext(suite, concatBytes(plaintext, Uint8Array.of(0)), bobTo)), 'malformed');
    expectCode(() => open(sealIntroductionPlaintext(suite, plaintext.subarray(0, plaintext.length - 1), bobTo)), 'malformed');
    // Link specifier count 5 (the byte right after version, identity, certificate, cookie, keys).
    const countAt = 2 + utf8(alice.identityText).length + 2 + certificate.length + 96;
    expect(plaintext[countAt]).toBe(3);
    const tooMany = plaintext.slice();
    tooMany[countAt] = 5;
    expectCode(() => open(sealIntroductionPlaintext(suite, tooMany, bobTo)), 'malformed');
  });

  it('unsupported-version: outer and inner', () => {
    const wire = good();
    wire[0] = 2;
    expectCode(() => open(wire), 'unsupported-version');
    const plaintext = encodeIntroductionPlaintext(suite, body(), alice.secretKey, bob.publicKey);
    plaintext[0] = 2;
    expectCode(() => open(sealIntroductionPlaintext(suite, plaintext, bobTo)), 'unsupported-version');
  });

  it('unknown-announcement-key: sealed to a key Bob does not hold', () => {
    const wire = good();
    expectCode(() => open(wire, NOW, { identityKey: bob.publicKey, announcementKeys: [carolAnnounce] }), 'unknown-announcement-key');
  });

  it('decrypt-failed: a flipped sealed byte, a changed ephemeral key, a small-order ephemeral key, another identity key', () => {
    const wire = good();
    for (const at of [67, 100, wire.length - 1]) {
      const bad = wire.slice();
      bad[at]! ^= 0x01;
      expectCode(() => open(bad), 'decrypt-failed');
    }
    const badE = wire.slice();
    badE[5]! ^= 0x40;
    expectCode(() => open(badE), 'decrypt-failed');
    const zeroE = wire.slice();
    zeroE.fill(0, 1, 33);
    expectCode(() => open(zeroE), 'decrypt-failed');
    // Bob's identity key is in the HKDF info: someone holding the announcement key under another identity cannot read it.
    expectCode(() => open(wire, NOW, { identityKey: carol.publicKey, announcementKeys: [bobAnnounce] }), 'decrypt-failed');
  });

  it('bad-identity: the sender names no valid identity', () => {
    const plaintext = encodeIntroductionPlaintext(
      suite,
      body({ identityText: 'peerstream.client.account.notbase58!' }),
      alice.secretKey,
      bob.publicKey,
    );
    expectCode(() => open(sealIntroductionPlaintext(suite, plaintext, bobTo)), 'bad-identity');
  });

  it('wrong-recipient: signed and handshaken for Carol, or a handshake for another announcement key', () => {
    const forCarol = encodeIntroductionPlaintext(
      suite,
      body({ onionskin: onionskinFor(carol.publicKey, bobAnnounce.public).onionskin }),
      alice.secretKey,
      carol.publicKey,
    );
    expectCode(() => open(sealIntroductionPlaintext(suite, forCarol, bobTo)), 'wrong-recipient');
    const otherKey = encodeIntroductionPlaintext(
      suite,
      body({ onionskin: onionskinFor(bob.publicKey, carolAnnounce.public).onionskin }),
      alice.secretKey,
      bob.publicKey,
    );
    expectCode(() => open(sealIntroductionPlaintext(suite, otherKey, bobTo)), 'wrong-recipient');
  });

  it('bad-signature: Mallory signs in Alice’s name; a signature meant for Carol; a field changed after signing', () => {
    const forged = encodeIntroductionPlaintext(suite, body(), mallory.secretKey, bob.publicKey);
    expectCode(() => open(sealIntroductionPlaintext(suite, forged, bobTo)), 'bad-signature');
    const signedForCarol = encodeIntroductionPlaintext(suite, body(), alice.secretKey, carol.publicKey);
    expectCode(() => open(sealIntroductionPlaintext(suite, signedForCarol, bobTo)), 'bad-signature');
    const genuine = encodeIntroductionPlaintext(suite, body(), alice.secretKey, bob.publicKey);
    const cookieAt = 2 + utf8(alice.identityText).length + 2 + certificate.length;
    expect(genuine.subarray(cookieAt, cookieAt + 32)).toEqual(cookie);
    const swapped = genuine.slice();
    swapped[cookieAt]! ^= 0xff;
    expectCode(() => open(sealIntroductionPlaintext(suite, swapped, bobTo)), 'bad-signature');
    // Control: the same path with the genuine plaintext opens.
    expect(open(sealIntroductionPlaintext(suite, genuine, bobTo)).from.text).toBe(alice.identityText);
  });

  it('expired and not-yet-valid, with the boundaries accepted', () => {
    const wire = good();
    expect(open(wire, NOW + LIMITS.maxAgeMs).createdAt).toBe(NOW);
    expectCode(() => open(wire, NOW + LIMITS.maxAgeMs + 1), 'expired');
    expect(open(wire, NOW - LIMITS.maxClockSkewMs).createdAt).toBe(NOW);
    expectCode(() => open(wire, NOW - LIMITS.maxClockSkewMs - 1), 'not-yet-valid');
  });

  it('isIntroductionError tells the codes apart', () => {
    const wire = good();
    wire[0] = 9;
    let caught: unknown;
    try {
      open(wire);
    } catch (e) {
      caught = e;
    }
    expect(isIntroductionError(caught)).toBe(true);
    expect(isIntroductionError(caught, 'unsupported-version')).toBe(true);
    expect(isIntroductionError(caught, 'malformed')).toBe(false);
  });
});

describe('caller errors are TypeError / RangeError naming the parameter', () => {
  it('sealIntroduction', () => {
    expect(() => sealIntroduction(suite, input({ from: { secretKey: mallory.secretKey, identityText: alice.identityText } }))).toThrow(
      /input\.from\.secretKey/,
    );
    expect(() => sealIntroduction(suite, input({ from: { secretKey: alice.secretKey, identityText: 'nobody' } }))).toThrow(
      RangeError,
    );
    expect(() => sealIntroduction(suite, input({ onionskin: onionskinFor(carol.publicKey, bobAnnounce.public).onionskin }))).toThrow(
      /input\.onionskin/,
    );
    expect(() => sealIntroduction(suite, input({ onionskin: new Uint8Array(95) }))).toThrow(/input\.onionskin/);
    expect(() => sealIntroduction(suite, input({ greeting: 'x'.repeat(257) }))).toThrow(/greeting/);
    expect(() => sealIntroduction(suite, input({ greeting: 'x'.repeat(256) }))).not.toThrow();
    expect(() => sealIntroduction(suite, input({ greeting: '\ud800' }))).toThrow(/greeting/);
    expect(() => sealIntroduction(suite, input({ certificate: new Uint8Array(2049) }))).toThrow(/certificate/);
    expect(() => sealIntroduction(suite, input({ createdAt: -1 }))).toThrow(/createdAt/);
    const five = [...rendezvous().linkSpecifiers, { type: 'ipv4' as const, address: new Uint8Array(4), port: 1 }];
    expect(() => sealIntroduction(suite, input({ rendezvous: { ...rendezvous(), linkSpecifiers: [...five, ...five].slice(0, 5) } }))).toThrow(
      /linkSpecifiers/,
    );
    expect(() =>
      sealIntroduction(suite, input({ rendezvous: { ...rendezvous(), linkSpecifiers: [{ type: 'ed25519', identity: carol.publicKey }] } })),
    ).toThrow(/nodeIdentity/);
    expect(() => sealIntroduction(suite, input({ rendezvous: { ...rendezvous(), cookie: new Uint8Array(31) } }))).toThrow(/cookie/);
  });

  it('openIntroduction', () => {
    const wire = sealIntroduction(suite, input());
    expect(() => openIntroduction(suite, 'x' as unknown as Uint8Array, bobRecipient, NOW)).toThrow(TypeError);
    expect(() => openIntroduction(suite, wire, { identityKey: bob.publicKey, announcementKeys: [] }, NOW)).toThrow(
      /announcementKeys/,
    );
    expect(() => openIntroduction(suite, wire, bobRecipient, -5)).toThrow(/now/);
    expect(() => openIntroduction(suite, wire, bobRecipient, NOW, { maxAgeMs: 1.5 })).toThrow(/maxAgeMs/);
    expect(() => introductionId([1, 2] as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('robustness', () => {
  it('openIntroduction on arbitrary bytes throws only IntroductionError', () => {
    const genuine = sealIntroduction(suite, input());
    const mutated = fc
      .array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 })
      .map((edits) => {
        const b = genuine.slice();
        for (const e of edits) b[e.at % b.length] = e.value;
        return b;
      });
    // Random tails behind a header that names Bob's announcement key, so decryption is attempted.
    const addressed = fc
      .uint8Array({ maxLength: 400 })
      .map((tail) => concatBytes(Uint8Array.of(1), seeded(99), bobAnnounce.public, Uint8Array.of(tail.length >> 8, tail.length & 0xff), tail));
    const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 600 }), mutated, addressed);
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        try {
          open(bytes);
        } catch (e) {
          if (!(e instanceof IntroductionError)) throw e;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('garbage sealed correctly to Bob (valid AEAD, random plaintext) throws only IntroductionError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (plaintext) => {
        try {
          open(sealIntroductionPlaintext(suite, plaintext, bobTo));
          return false; // random bytes never carry a valid signature
        } catch (e) {
          if (!(e instanceof IntroductionError)) throw e;
          return e.code !== 'decrypt-failed';
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('end to end with the rendezvous ntor handshake', () => {
  it('Bob answers the onionskin from the opened introduction; both hold the same 128 bytes', () => {
    const { state, onionskin } = onionskinFor(bob.publicKey, bobAnnounce.public);
    const wire = sealIntroduction(suite, input({ onionskin }));
    const opened = open(wire);
    const pair = bobRecipient.announcementKeys.find((k) => k.public.every((v, i) => v === opened.announcementKey[i]))!;
    const server = ntorServerHandle(suite, opened.onionskin, {
      nodeId: bob.publicKey,
      onionKeys: [pair],
      protocol: NTOR_RENDEZVOUS,
    });
    const clientKeys = ntorClientComplete(suite, state, server.reply);
    expect(clientKeys.length).toBe(128);
    expect(clientKeys).toEqual(server.keyMaterial);
    expect(clientKeys.some((b) => b !== 0)).toBe(true);
  });
});
