/**
 * What Bob's client checks before it answers an introduction (node-core/io/client/channel.ts
 * `checkIntroduction`): sealed to his announcement key, signed by the identity it names, fresh,
 * and carrying an access certificate that the network's authorities signed for that very
 * identity. Anything else is refused with a typed error, and nothing is answered.
 */
import { describe, expect, it } from 'vitest';
import {
  AuthorityError,
  certificateBodyForRequest,
  combineCertificateSignatures,
  issueCertificateSignature,
} from '../../node-core/authority';
import { ntorClientCreate } from '../../node-core/circuit';
import { checkIntroduction } from '../../node-core/io/client/channel';
import { clientIdentity, ClientSession } from '../../node-core/io/client/session';
import { nodeSuite } from '../../node-core/io/crypto-node';
import { NTOR_RENDEZVOUS } from '../../node-core/onion/client';
import { IntroductionError, sealIntroduction } from '../../node-core/rendezvous';
import { authorities, authorityKeys, NETWORK } from '../authority/helpers';

const suite = nodeSuite;
const alice = clientIdentity(suite, suite.randomBytes(32));
const bob = clientIdentity(suite, suite.randomBytes(32));
const announceSecret = suite.randomBytes(32);
const announcement = { secret: announceSecret, public: suite.x25519PublicKey(announceSecret) };

const session = new ClientSession({
  suite,
  network: {
    network: NETWORK,
    nodes: [],
    directory: { periodMs: 5000, threshold: 1, discoveryKeys: [suite.randomBytes(32)], discovery: [] },
    authority: { threshold: 2, authorityKeys, authorities: [] },
  },
});

function certificate(subject: typeof alice, opts: { signers?: number; network?: string; identity?: string } = {}): Uint8Array {
  const body = certificateBodyForRequest({
    subject: subject.publicKey,
    identity: opts.identity ?? subject.text,
    network: opts.network ?? NETWORK,
    requestedAt: Date.now() - 1000,
    lifetimeMs: 3600_000,
    nonce: suite.randomBytes(16),
  });
  const sigs = authorities.slice(0, opts.signers ?? 2).map((a) => issueCertificateSignature(suite, body, a.secretKey));
  return combineCertificateSignatures(body, sigs);
}

function introduction(over: { certificate?: Uint8Array; createdAt?: number; announcementKey?: Uint8Array } = {}): Uint8Array {
  const rp = { identity: suite.randomBytes(32), onionKey: suite.x25519PublicKey(suite.randomBytes(32)) };
  return sealIntroduction(suite, {
    from: { secretKey: alice.secretKey, identityText: alice.text },
    certificate: over.certificate ?? certificate(alice),
    to: { identityKey: bob.publicKey, announcementKey: over.announcementKey ?? announcement.public },
    rendezvous: { cookie: suite.randomBytes(32), nodeIdentity: rp.identity, nodeOnionKey: rp.onionKey, linkSpecifiers: [{ type: 'ed25519', identity: rp.identity }] },
    onionskin: ntorClientCreate(suite, { nodeId: bob.publicKey, nodeOnionKey: over.announcementKey ?? announcement.public, protocol: NTOR_RENDEZVOUS }).onionskin,
    createdAt: over.createdAt ?? Date.now(),
    greeting: 'hi',
  });
}

describe('checking an introduction', () => {
  it('accepts a fresh, signed introduction with a certificate for its sender', () => {
    const envelope = introduction();
    const checked = checkIntroduction(session, bob, [announcement], envelope);
    expect(checked.from.text).toBe(alice.text);
    expect(checked.certificate.signers).toHaveLength(2);
    expect(checked.introduction.greeting).toBe('hi');
    expect(checked.id).toMatch(/^[0-9a-f]{64}$/);
    // The same bytes give the same id: the replay key.
    expect(checkIntroduction(session, bob, [announcement], envelope).id).toBe(checked.id);
  });

  it('refuses a certificate of someone else, of another network, or with too few authority signatures', () => {
    const mallory = clientIdentity(suite, suite.randomBytes(32));
    for (const cert of [certificate(mallory), certificate(alice, { network: 'othernet' }), certificate(alice, { signers: 1 })]) {
      expect(() => checkIntroduction(session, bob, [announcement], introduction({ certificate: cert }))).toThrow(AuthorityError);
    }
    expect(() => checkIntroduction(session, bob, [announcement], introduction({ certificate: new Uint8Array(40) }))).toThrow(AuthorityError);
  });

  it('refuses an old introduction, one sealed to another key, and damaged bytes', () => {
    expect(() => checkIntroduction(session, bob, [announcement], introduction({ createdAt: Date.now() - 3600_000 }))).toThrow(IntroductionError);
    const other = suite.x25519PublicKey(suite.randomBytes(32));
    expect(() => checkIntroduction(session, bob, [announcement], introduction({ announcementKey: other }))).toThrow(IntroductionError);
    const damaged = introduction();
    damaged[damaged.length - 20]! ^= 0x40;
    expect(() => checkIntroduction(session, bob, [announcement], damaged)).toThrow(IntroductionError);
    // Meant for Bob, opened by someone holding Bob's announcement key but another identity.
    const carol = clientIdentity(suite, suite.randomBytes(32));
    expect(() => checkIntroduction(session, carol, [announcement], introduction())).toThrow(IntroductionError);
  });
});
