/**
 * Sealed mailbox items (node-core/rendezvous/mailbox.ts): round trip, an independent decryption
 * with the primitives the module header names, every MailboxError code from a crafted input,
 * separation from introductions, what a presence node can see, and parameter checks.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import {
  isIntroductionError,
  isMailboxError,
  MailboxError,
  MAX_MAILBOX_PAYLOAD,
  openIntroduction,
  openMailboxItem,
  parseMailboxItemEnvelope,
  sealMailboxItem,
  type MailboxErrorCode,
} from '../../node-core/rendezvous';
import { encodeMailboxPlaintext, sealMailboxPlaintext } from '../../node-core/rendezvous/mailbox';
import { concatBytes, toHex, utf8, Writer } from '../../node-core/util/bytes';
import { alice, bob, bobAnnounce, bobRecipient, carol, carolAnnounce, introduction, mailboxItem, NOW, person, suite, x25519Pair } from './helpers';

const mallory = person(4);
const to = { identityKey: bob.publicKey, announcementKey: bobAnnounce.public };

function expectCode(f: () => unknown, code: MailboxErrorCode): void {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected MailboxError ${code}`).toBeInstanceOf(MailboxError);
  expect((thrown as MailboxError).code).toBe(code);
}

/** A plaintext built by hand, for layouts the encoder refuses to make. */
function rawPlaintext(fields: { version?: number; identity?: Uint8Array; createdAt?: bigint; payloadLength?: number; payload?: Uint8Array; trailing?: Uint8Array }): Uint8Array {
  const identity = fields.identity ?? utf8(alice.identityText);
  const payload = fields.payload ?? utf8('hi');
  const unsigned = new Writer()
    .u8(fields.version ?? 1)
    .u8(identity.length)
    .bytes(identity)
    .u64(fields.createdAt ?? BigInt(NOW))
    .u32(fields.payloadLength ?? payload.length)
    .bytes(payload)
    .finish();
  const digest = sha256(concatBytes(utf8('PSP-MAILBOX-v1'), unsigned, bob.publicKey));
  return concatBytes(unsigned, suite.ed25519Sign(digest, alice.secretKey), fields.trailing ?? new Uint8Array(0));
}

describe('mailbox items', () => {
  it('Bob opens what Alice sealed; he learns who sent it, what and when', () => {
    const payload = suite.randomBytes(1000);
    const item = mailboxItem({ payload, createdAt: NOW - 3600_000 });
    const opened = openMailboxItem(suite, item, bobRecipient, NOW);
    expect(opened.from.text).toBe(alice.identityText);
    expect(toHex(opened.from.publicKey)).toBe(toHex(alice.publicKey));
    expect(toHex(opened.payload)).toBe(toHex(payload));
    expect(opened.createdAt).toBe(NOW - 3600_000);
    expect(toHex(opened.announcementKey)).toBe(toHex(bobAnnounce.public));
  });

  it('takes empty and 60 KiB payloads, and refuses one byte more', () => {
    for (const size of [0, MAX_MAILBOX_PAYLOAD]) {
      const payload = new Uint8Array(size).fill(5);
      expect(openMailboxItem(suite, mailboxItem({ payload }), bobRecipient, NOW).payload.length).toBe(size);
    }
    expect(() => mailboxItem({ payload: new Uint8Array(MAX_MAILBOX_PAYLOAD + 1) })).toThrow(/input\.payload/);
  });

  it('follows the construction in the module header (independent decryption)', () => {
    const item = mailboxItem();
    const E = item.subarray(1, 33);
    const B = item.subarray(33, 65);
    expect(item[0]).toBe(1);
    expect(toHex(B)).toBe(toHex(bobAnnounce.public));
    const len = (item[65]! << 8) | item[66]!;
    expect(len).toBe(item.length - 67);
    const shared = x25519.getSharedSecret(bobAnnounce.secret, E);
    const key = hkdf(sha256, shared, utf8('psp-mailbox-v1'), concatBytes(E, B, bob.publicKey), 32);
    const aad = concatBytes(utf8('PSP-MAILBOX'), Uint8Array.of(1), E, B);
    const plaintext = chacha20poly1305(key, new Uint8Array(12), aad).decrypt(item.subarray(67));
    const id = utf8(alice.identityText);
    expect(plaintext[0]).toBe(1);
    expect(plaintext[1]).toBe(id.length);
    expect(new TextDecoder().decode(plaintext.subarray(2, 2 + id.length))).toBe(alice.identityText);
    const unsigned = plaintext.subarray(0, plaintext.length - 64);
    const digest = sha256(concatBytes(utf8('PSP-MAILBOX-v1'), unsigned, bob.publicKey));
    expect(suite.ed25519Verify(plaintext.subarray(plaintext.length - 64), digest, alice.publicKey)).toBe(true);
  });

  it('shows a presence node only the announcement key: no identity, no content', () => {
    const payload = utf8('the secret plan, in words a node must not see');
    const item = mailboxItem({ payload });
    const hex = toHex(item);
    for (const secret of [alice.publicKey, bob.publicKey, utf8(alice.identityText), payload.subarray(0, 12)]) {
      expect(hex.includes(toHex(secret))).toBe(false);
    }
    expect(toHex(parseMailboxItemEnvelope(item).announcementKey)).toBe(toHex(bobAnnounce.public));
    // Two items with the same content look unrelated.
    expect(toHex(mailboxItem({ payload }).subarray(1, 33))).not.toBe(hex.slice(2, 66));
  });

  it('opens with an older announcement key during rotation, and not with the wrong one', () => {
    const old = x25519Pair(11);
    const item = mailboxItem({ announcementKey: old.public });
    expect(openMailboxItem(suite, item, { identityKey: bob.publicKey, announcementKeys: [bobAnnounce, old] }, NOW).payload.length).toBeGreaterThan(0);
    expectCode(() => openMailboxItem(suite, item, bobRecipient, NOW), 'unknown-announcement-key');
    // Carol holds her own key; an item for Bob's key is not hers.
    expectCode(() => openMailboxItem(suite, mailboxItem(), { identityKey: carol.publicKey, announcementKeys: [carolAnnounce] }, NOW), 'unknown-announcement-key');
  });

  it('an item is bound to the recipient identity: with the right key but another identity it fails', () => {
    // Sealed to Bob's announcement key but for Carol's identity: the key derivation differs.
    const item = mailboxItem({ to: carol });
    expectCode(() => openMailboxItem(suite, item, bobRecipient, NOW), 'decrypt-failed');
  });

  it('detects tampering anywhere', () => {
    const item = mailboxItem();
    for (const at of [1, 20, 40, 64, 67, 80, item.length - 17, item.length - 1]) {
      const t = item.slice();
      t[at]! ^= 0x01;
      expectCode(() => openMailboxItem(suite, t, bobRecipient, NOW), at >= 33 && at < 65 ? 'unknown-announcement-key' : 'decrypt-failed');
    }
  });

  it('checks the outer layout', () => {
    const item = mailboxItem();
    expectCode(() => openMailboxItem(suite, new Uint8Array(0), bobRecipient, NOW), 'malformed');
    expectCode(() => openMailboxItem(suite, item.subarray(0, item.length - 1), bobRecipient, NOW), 'malformed');
    expectCode(() => openMailboxItem(suite, concatBytes(item, Uint8Array.of(0)), bobRecipient, NOW), 'malformed');
    const v2 = item.slice();
    v2[0] = 2;
    expectCode(() => openMailboxItem(suite, v2, bobRecipient, NOW), 'unsupported-version');
    const short = item.slice(0, 67 + 15);
    short[65] = 0;
    short[66] = 15;
    expectCode(() => openMailboxItem(suite, short, bobRecipient, NOW), 'malformed');
  });

  it('gives every inner error its code', () => {
    const seal = (p: Uint8Array) => sealMailboxPlaintext(suite, p, to);
    const open = (p: Uint8Array) => openMailboxItem(suite, seal(p), bobRecipient, NOW);
    expectCode(() => open(rawPlaintext({ version: 2 })), 'unsupported-version');
    expectCode(() => open(rawPlaintext({ identity: new Uint8Array(0) })), 'malformed');
    expectCode(() => open(rawPlaintext({ identity: new Uint8Array(129).fill(0x61) })), 'malformed');
    expectCode(() => open(rawPlaintext({ identity: Uint8Array.of(0xff, 0xfe) })), 'bad-identity');
    expectCode(() => open(rawPlaintext({ identity: utf8('peerstream.client.account.notbase58!') })), 'bad-identity');
    expectCode(() => open(rawPlaintext({ createdAt: 2n ** 63n })), 'malformed');
    expectCode(() => open(rawPlaintext({ payloadLength: MAX_MAILBOX_PAYLOAD + 1, payload: new Uint8Array(0) })), 'malformed');
    expectCode(() => open(rawPlaintext({ payloadLength: 10, payload: new Uint8Array(3) })), 'malformed');
    expectCode(() => open(rawPlaintext({ trailing: Uint8Array.of(0) })), 'malformed');
    expectCode(() => open(rawPlaintext({}).subarray(0, 30)), 'malformed');
    expect(open(rawPlaintext({})).from.text).toBe(alice.identityText);
  });

  it('refuses forgeries: another signer, or a signature meant for another recipient', () => {
    const body = { identityText: alice.identityText, createdAt: NOW, payload: utf8('from alice, honest') };
    const forged = encodeMailboxPlaintext(suite, body, mallory.secretKey, bob.publicKey);
    expectCode(() => openMailboxItem(suite, sealMailboxPlaintext(suite, forged, to), bobRecipient, NOW), 'bad-signature');
    // Alice signed it for Carol; Mallory re-seals it to Bob.
    const forCarol = encodeMailboxPlaintext(suite, body, alice.secretKey, carol.publicKey);
    expectCode(() => openMailboxItem(suite, sealMailboxPlaintext(suite, forCarol, to), bobRecipient, NOW), 'bad-signature');
    const honest = encodeMailboxPlaintext(suite, body, alice.secretKey, bob.publicKey);
    expect(openMailboxItem(suite, sealMailboxPlaintext(suite, honest, to), bobRecipient, NOW).from.text).toBe(alice.identityText);
  });

  it('checks freshness against the limits', () => {
    const item = mailboxItem({ createdAt: NOW });
    expect(openMailboxItem(suite, item, bobRecipient, NOW + 30 * 24 * 3600_000).createdAt).toBe(NOW);
    expectCode(() => openMailboxItem(suite, item, bobRecipient, NOW + 30 * 24 * 3600_000 + 1), 'expired');
    expectCode(() => openMailboxItem(suite, item, bobRecipient, NOW + 1001, { maxAgeMs: 1000 }), 'expired');
    expect(openMailboxItem(suite, item, bobRecipient, NOW - 120_000).createdAt).toBe(NOW);
    expectCode(() => openMailboxItem(suite, item, bobRecipient, NOW - 120_001), 'not-yet-valid');
    expectCode(() => openMailboxItem(suite, item, bobRecipient, NOW - 11, { maxClockSkewMs: 10 }), 'not-yet-valid');
  });

  it('is never confused with an introduction', () => {
    const item = mailboxItem();
    let thrown: unknown;
    try {
      openIntroduction(suite, item, bobRecipient, NOW);
    } catch (e) {
      thrown = e;
    }
    expect(isIntroductionError(thrown, 'decrypt-failed')).toBe(true);
    expectCode(() => openMailboxItem(suite, introduction(), bobRecipient, NOW), 'decrypt-failed');
  });

  it('checks its parameters, naming them', () => {
    const input = {
      from: { secretKey: alice.secretKey, identityText: alice.identityText },
      to,
      payload: utf8('x'),
      createdAt: NOW,
    };
    expect(() => sealMailboxItem(suite, { ...input, from: { secretKey: mallory.secretKey, identityText: alice.identityText } })).toThrow(/secretKey/);
    expect(() => sealMailboxItem(suite, { ...input, from: { secretKey: alice.secretKey, identityText: 'nobody' } })).toThrow(/identityText/);
    expect(() => sealMailboxItem(suite, { ...input, to: { ...to, identityKey: new Uint8Array(31) } })).toThrow(/input\.to\.identityKey/);
    expect(() => sealMailboxItem(suite, { ...input, to: { ...to, announcementKey: new Uint8Array(32) } })).toThrow(/announcementKey/);
    expect(() => sealMailboxItem(suite, { ...input, createdAt: -1 })).toThrow(/createdAt/);
    expect(() => sealMailboxItem(suite, { ...input, payload: 'x' as unknown as Uint8Array })).toThrow(TypeError);
    expect(() => sealMailboxItem(suite, null as never)).toThrow(TypeError);
    const item = sealMailboxItem(suite, input);
    expect(() => openMailboxItem(suite, 'x' as never, bobRecipient, NOW)).toThrow(TypeError);
    expect(() => openMailboxItem(suite, item, { identityKey: bob.publicKey, announcementKeys: [] }, NOW)).toThrow(/announcementKeys/);
    expect(() => openMailboxItem(suite, item, bobRecipient, -1)).toThrow(/now/);
    expect(() => openMailboxItem(suite, item, bobRecipient, NOW, { maxAgeMs: 0.5 })).toThrow(/maxAgeMs/);
  });

  it('throws nothing but MailboxError for arbitrary and mutated bytes', () => {
    const item = mailboxItem();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(item.length - 1), fc.integer({ min: 1, max: 255 }), (junk, at, x) => {
        for (const input of [junk, (() => { const t = item.slice(); t[at]! ^= x; return t; })()]) {
          try {
            openMailboxItem(suite, input, bobRecipient, NOW);
          } catch (e) {
            expect(isMailboxError(e)).toBe(true);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
