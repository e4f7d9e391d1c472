/**
 * Shared fixtures for the presence-node tests: fixed people and keys, introductions and mailbox
 * items made with them. Not a test file.
 */
import { formatIdentity } from '../../node-core/crypto/identity';
import { nobleSuite } from '../../node-core/crypto/noble';
import { ntorClientCreate } from '../../node-core/circuit/ntor';
import { NTOR_RENDEZVOUS } from '../../node-core/onion/client';
import { sealIntroduction, sealMailboxItem, type IntroductionRecipient } from '../../node-core/rendezvous';
import { encodeIntroductionPlaintext, sealIntroductionPlaintext } from '../../node-core/rendezvous/introduction';
import { encodeMailboxPlaintext, sealMailboxPlaintext } from '../../node-core/rendezvous/mailbox';
import { concatBytes } from '../../node-core/util/bytes';

export const suite = nobleSuite;
export const NOW = 1_700_000_000_000;

export function seeded(seed: number, length = 32): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed * 131 + i * 37 + 11) & 0xff;
  return out;
}

export interface Person {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  identityText: string;
}

export function person(seed: number): Person {
  const secretKey = seeded(seed);
  const publicKey = suite.ed25519PublicKey(secretKey);
  return { secretKey, publicKey, identityText: formatIdentity({ namespace: 'peerstream', app: 'client', publicKey }) };
}

export function x25519Pair(seed: number): { secret: Uint8Array; public: Uint8Array } {
  const secret = seeded(seed);
  return { secret, public: suite.x25519PublicKey(secret) };
}

export const alice = person(1);
export const bob = person(2);
export const carol = person(3);
export const bobAnnounce = x25519Pair(10);
export const carolAnnounce = x25519Pair(12);
export const rvNode = person(20);
export const rvOnion = x25519Pair(21);

export const bobRecipient: IntroductionRecipient = { identityKey: bob.publicKey, announcementKeys: [bobAnnounce] };

/** A fresh introduction from `from` to `to` (each call seals anew: a new id). */
export function introduction(
  opts: { from?: Person; to?: Person; announcementKey?: Uint8Array; createdAt?: number; greeting?: string } = {},
): Uint8Array {
  const from = opts.from ?? alice;
  const to = opts.to ?? bob;
  const announcementKey = opts.announcementKey ?? bobAnnounce.public;
  const { onionskin } = ntorClientCreate(suite, { nodeId: to.publicKey, nodeOnionKey: announcementKey, protocol: NTOR_RENDEZVOUS });
  return sealIntroduction(suite, {
    from: { secretKey: from.secretKey, identityText: from.identityText },
    certificate: new Uint8Array(0),
    to: { identityKey: to.publicKey, announcementKey },
    rendezvous: {
      cookie: suite.randomBytes(32),
      nodeIdentity: rvNode.publicKey,
      nodeOnionKey: rvOnion.public,
      linkSpecifiers: [{ type: 'ipv4', address: Uint8Array.of(127, 0, 0, 1), port: 8003 }],
    },
    onionskin,
    createdAt: opts.createdAt ?? NOW,
    ...(opts.greeting === undefined ? {} : { greeting: opts.greeting }),
  });
}

/** A sealed mailbox item from `from` to `to`. */
export function mailboxItem(
  opts: { from?: Person; to?: Person; announcementKey?: Uint8Array; payload?: Uint8Array; createdAt?: number } = {},
): Uint8Array {
  const from = opts.from ?? alice;
  const to = opts.to ?? bob;
  return sealMailboxItem(suite, {
    from: { secretKey: from.secretKey, identityText: from.identityText },
    to: { identityKey: to.publicKey, announcementKey: opts.announcementKey ?? bobAnnounce.public },
    payload: opts.payload ?? new TextEncoder().encode('see you at eight'),
    createdAt: opts.createdAt ?? NOW,
  });
}

/** Bytes that look like a sealed envelope of `version` to `key`, `sealedLength` bytes of ciphertext. */
export function fakeEnvelope(key: Uint8Array, sealedLength = 40, version = 1, fill = 7): Uint8Array {
  const out = new Uint8Array(67 + sealedLength);
  out[0] = version;
  out.fill(fill, 1, 33);
  out.set(key, 33);
  out[65] = sealedLength >> 8;
  out[66] = sealedLength & 0xff;
  out.fill(fill + 1, 67);
  return out;
}

/** The same introduction every time (fixed ephemeral key, cookie and handshake): for fuzz seeds. */
export function fixedIntroduction(): Uint8Array {
  const onionskin = concatBytes(bob.publicKey, bobAnnounce.public, suite.x25519PublicKey(seeded(50)));
  const plaintext = encodeIntroductionPlaintext(
    suite,
    {
      identityText: alice.identityText,
      certificate: new Uint8Array(0),
      rendezvous: { cookie: seeded(51), nodeIdentity: rvNode.publicKey, nodeOnionKey: rvOnion.public, linkSpecifiers: [] },
      onionskin,
      createdAt: NOW,
    },
    alice.secretKey,
    bob.publicKey,
  );
  return sealIntroductionPlaintext(suite, plaintext, { identityKey: bob.publicKey, announcementKey: bobAnnounce.public }, { ephemeralSecret: seeded(52) });
}

/** The same mailbox item every time (fixed ephemeral key): for fuzz seeds. */
export function fixedMailboxItem(payload: Uint8Array = Uint8Array.of(1, 2, 3)): Uint8Array {
  const plaintext = encodeMailboxPlaintext(suite, { identityText: alice.identityText, createdAt: NOW, payload }, alice.secretKey, bob.publicKey);
  return sealMailboxPlaintext(suite, plaintext, { identityKey: bob.publicKey, announcementKey: bobAnnounce.public }, { ephemeralSecret: seeded(53) });
}
