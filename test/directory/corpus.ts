/**
 * Builds the vector corpora in test/vectors/directory/ from fixed seeds (every key is
 * SHA-256 of a label, Ed25519 is deterministic), and says how each file's entries are checked.
 * test/directory/corpus.test.ts checks that the files on disk equal what this builds and that
 * every entry gives exactly its expected outcome. To rewrite the files after a deliberate
 * format change:  npx tsx test/directory/corpus.ts --write
 * Test helper and script, not a test file.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type CertificateRequest,
  certificateBodyForRequest,
  combineCertificateSignatures,
  createCertificateRequest,
  createRegistration,
  decodeAuthorityMessage,
  encodeAuthorityMessage,
  encodeCertificateBody,
  issueCertificateSignature,
  parseAccessCertificate,
  parseCertificateRequest,
  parseRegistration,
  verifyAccessCertificate,
  verifyCertificateRequest,
  verifyRegistration,
  AuthorityError,
} from '../../node-core/authority';
import {
  type ConsensusBody,
  DirectoryError,
  type VerifiedDescriptor,
  computeConsensus,
  consensusWindow,
  decodeConsensusBody,
  decodeDiscoveryMessage,
  encodeConsensusBody,
  encodeDiscoveryMessage,
  encodeSignedConsensus,
  parseDescriptor,
  parseSignedConsensus,
  parseVote,
  signConsensus,
  verifyConsensus,
  verifyDescriptor,
  verifyVote,
} from '../../node-core/directory';
import { Writer, concatBytes, fromHex, toHex, utf8 } from '../../node-core/util/bytes';
import { identityOf, nonceFor } from '../authority/helpers';
import {
  DESCRIPTORS_AT,
  HOUR,
  type KeyPair,
  NETWORK,
  PERIOD,
  PERIOD_MS,
  POLICY,
  T0,
  descriptorFields,
  discovery,
  discoveryKeys,
  keyPair,
  onion,
  signedDescriptor,
  signedVoteOf,
  suite,
  verifiedDescriptor,
  voteOf,
} from './helpers';
import { ip4, rawDescriptorBody, rawSign, rawSignedConsensus, rawSignedDescriptor, rawSignedVote, rawVoteBody } from './raw';

export interface GoodEntry {
  name: string;
  hex: string;
}
export interface BadEntry extends GoodEntry {
  code: string;
}
export interface CorpusFile {
  description: string;
  context: Record<string, unknown>;
  good: GoodEntry[];
  bad: BadEntry[];
}

export const CORPUS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'vectors', 'directory');

const hex = toHex;
const flip = (b: Uint8Array, at: number): Uint8Array => {
  const c = b.slice();
  const i = at < 0 ? c.length + at : at;
  c[i]! ^= 0x01;
  return c;
};
const byIdentity = (a: { identity: Uint8Array }, b: { identity: Uint8Array }): number => (hex(a.identity) < hex(b.identity) ? -1 : 1);
const stranger = (i: number): KeyPair => keyPair(`corpus-stranger-${i}`);

// ---------------------------------------------------------------------------------------------
// Descriptors

const DESCRIPTOR_NOW = T0 + 1000;

function descriptorsCorpus(): CorpusFile {
  const n = onion[0]!;
  const base = descriptorFields(n);
  const raw = (over: Partial<Parameters<typeof rawDescriptorBody>[0]>): Uint8Array => {
    const body = rawDescriptorBody({
      format: 1,
      identity: base.identity,
      onionKey: base.onionKey,
      roles: 1,
      bandwidth: base.bandwidth,
      publishedAt: BigInt(base.publishedAt),
      validUntil: BigInt(base.validUntil),
      addresses: [ip4(127, 0, 0, 1)],
      version: base.version,
      nickname: base.nickname,
      ...over,
    });
    return rawSignedDescriptor(body, rawSign('PSP-DESCRIPTOR-v1', body, n.secretKey));
  };
  const good = signedDescriptor(n);
  const body = parseDescriptor(good).body;
  return {
    description:
      'Signed node descriptors (node-core/directory/descriptor.ts). Check: verifyDescriptor(parseDescriptor(hex), context.now, context.policy); good entries verify and re-encode to the same body; bad entries throw DirectoryError with exactly `code`.',
    context: { now: DESCRIPTOR_NOW, policy: POLICY },
    good: [
      { name: 'onion node, one IPv4 address', hex: hex(good) },
      {
        name: 'all roles, IPv6 and IPv4 addresses, empty version',
        hex: hex(
          signedDescriptor(onion[1]!, {
            roles: ['onion', 'discovery', 'authority', 'oracle'],
            addresses: [
              { host: '2001:db8::1', port: 443 },
              { host: '192.0.2.1', port: 9001 },
            ],
            version: '',
          }),
        ),
      },
    ],
    bad: [
      { name: 'signature bit flipped', hex: hex(flip(good, -1)), code: 'bad-signature' },
      { name: 'body changed after signing (bandwidth)', hex: hex(flip(good, 2 + 69)), code: 'bad-signature' },
      { name: 'signed by another key', hex: hex(rawSignedDescriptor(body, rawSign('PSP-DESCRIPTOR-v1', body, onion[1]!.secretKey))), code: 'bad-signature' },
      { name: 'signed under the vote context', hex: hex(rawSignedDescriptor(body, rawSign('PSP-VOTE-v1', body, n.secretKey))), code: 'bad-signature' },
      { name: 'expired', hex: hex(signedDescriptor(n, { publishedAt: T0 - HOUR, validUntil: T0 + 500 })), code: 'expired' },
      { name: 'published two minutes in the future', hex: hex(signedDescriptor(n, { publishedAt: DESCRIPTOR_NOW + 120_000, validUntil: T0 + HOUR })), code: 'not-yet-valid' },
      { name: 'valid for 25 hours', hex: hex(signedDescriptor(n, { validUntil: T0 + 25 * HOUR })), code: 'lifetime-too-long' },
      { name: 'empty', hex: '', code: 'malformed' },
      { name: 'truncated in the middle', hex: hex(good.subarray(0, 60)), code: 'malformed' },
      { name: 'signature cut short', hex: hex(good.subarray(0, good.length - 1)), code: 'malformed' },
      { name: 'a trailing byte', hex: hex(Uint8Array.of(...good, 0)), code: 'malformed' },
      { name: 'format 2', hex: hex(raw({ format: 2 })), code: 'unsupported-version' },
      { name: 'port 0', hex: hex(raw({ addresses: [ip4(127, 0, 0, 1, 0)] })), code: 'bad-address' },
      { name: 'address 0.0.0.0', hex: hex(raw({ addresses: [ip4(0, 0, 0, 0)] })), code: 'bad-address' },
      { name: 'multicast address', hex: hex(raw({ addresses: [ip4(239, 1, 1, 1)] })), code: 'bad-address' },
      { name: 'same address twice', hex: hex(raw({ addresses: [ip4(10, 0, 0, 1), ip4(10, 0, 0, 1)] })), code: 'bad-address' },
      { name: 'unknown role bit', hex: hex(raw({ roles: 0x81 })), code: 'malformed' },
      { name: 'no role', hex: hex(raw({ roles: 0 })), code: 'malformed' },
      { name: 'all-zero onion key', hex: hex(raw({ onionKey: new Uint8Array(32) })), code: 'malformed' },
      { name: 'nickname with a dot', hex: hex(raw({ nickname: 'node.1' })), code: 'malformed' },
      { name: 'validUntil before publishedAt', hex: hex(raw({ validUntil: BigInt(T0 - 1) })), code: 'malformed' },
      { name: 'body length 65535', hex: hex(Uint8Array.of(0xff, 0xff, ...new Uint8Array(600))), code: 'malformed' },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Votes

function votesCorpus(): CorpusFile {
  const voter = discovery[0]!;
  const descs = onion.map((n) => verifiedDescriptor(n)).sort(byIdentity);
  const good = signedVoteOf(voter, descs);
  const signedRaw = (ds: readonly Uint8Array[], o: { network?: string; period?: bigint; format?: number } = {}): Uint8Array => {
    const body = rawVoteBody(o.network ?? NETWORK, voter.publicKey, o.period ?? BigInt(PERIOD), ds, o.format ?? 1);
    return rawSignedVote(body, rawSign('PSP-VOTE-v1', body, voter.secretKey));
  };
  const bytesOf = descs.map((d) => d.bytes);
  return {
    description:
      'Signed discovery votes (node-core/directory/vote.ts). Check: verifyVote(parseVote(hex), context); good entries verify with `descriptors` kept and `dropped` dropped; bad entries throw DirectoryError with exactly `code`.',
    context: { network: NETWORK, discoveryKeys: discoveryKeys.map(hex), period: PERIOD, descriptorsAt: DESCRIPTORS_AT, policy: POLICY },
    good: [
      { name: 'six descriptors', hex: hex(good), descriptors: 6, dropped: 0 } as GoodEntry,
      { name: 'no descriptors', hex: hex(signedVoteOf(discovery[1]!, [])), descriptors: 0, dropped: 0 } as GoodEntry,
      { name: 'one forged descriptor is dropped, the rest counts', hex: hex(signedRaw([flip(bytesOf[0]!, -1), ...bytesOf.slice(1)])), descriptors: 5, dropped: 1 } as GoodEntry,
    ],
    bad: [
      { name: 'another network', hex: hex(signedVoteOf(voter, descs, PERIOD, 'othernet')), code: 'wrong-network' },
      { name: 'voter is not a discovery node', hex: hex(signedVoteOf(stranger(1), descs)), code: 'unknown-signer' },
      { name: 'another period', hex: hex(signedVoteOf(voter, descs, PERIOD + 1)), code: 'wrong-period' },
      { name: 'vote signature bit flipped', hex: hex(flip(good, -2)), code: 'bad-signature' },
      { name: 'descriptors out of identity order', hex: hex(signedRaw([bytesOf[1]!, bytesOf[0]!, ...bytesOf.slice(2)])), code: 'not-canonical' },
      { name: 'one descriptor twice', hex: hex(signedRaw([bytesOf[0]!, bytesOf[0]!])), code: 'not-canonical' },
      { name: 'truncated', hex: hex(good.subarray(0, 200)), code: 'malformed' },
      { name: 'a trailing byte', hex: hex(Uint8Array.of(...good, 7)), code: 'malformed' },
      { name: 'format 3', hex: hex(signedRaw([], { format: 3 })), code: 'unsupported-version' },
      { name: 'a carried descriptor is not a descriptor', hex: hex(signedRaw([Uint8Array.of(0, 1, 2)])), code: 'malformed' },
      { name: 'descriptor count over the maximum', hex: hex(rawSignedVote(Uint8Array.from([...rawVoteBody(NETWORK, voter.publicKey, BigInt(PERIOD), []).slice(0, -4), 0, 0, 0x20, 1]), new Uint8Array(64))), code: 'malformed' },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Consensus

const CONSENSUS_NOW = consensusWindow(PERIOD, PERIOD_MS).validAfter + 60_000;

function consensusCorpus(): CorpusFile {
  const descs = onion.map((n) => verifiedDescriptor(n));
  const params = { network: NETWORK, period: PERIOD, periodMs: PERIOD_MS, discoveryKeys };
  const bodyOf = (ds: readonly VerifiedDescriptor[], over: Partial<typeof params> = {}): ConsensusBody =>
    computeConsensus(discovery.slice(0, 3).map((d) => voteOf(d, ds, over.period ?? PERIOD, over.network ?? NETWORK)), { ...params, ...over });
  const body = encodeConsensusBody(bodyOf(descs));
  const signed = (b: Uint8Array, signers: readonly KeyPair[]): Uint8Array => encodeSignedConsensus(b, signers.map((s) => signConsensus(suite, b, s.secretKey)));
  const sig = (b: Uint8Array, s: KeyPair) => signConsensus(suite, b, s.secretKey);
  const sortSigs = <T extends { signer: Uint8Array }>(l: T[]): T[] => [...l].sort((a, b) => (hex(a.signer) < hex(b.signer) ? -1 : 1));
  const decoded = decodeConsensusBody(body);
  const header = encodeConsensusBody({ ...decoded, nodes: [] });
  const nodeBytes = (i: number) => encodeConsensusBody({ ...decoded, nodes: [decoded.nodes[i]!] }).subarray(header.length);
  const withNodes = (parts: Uint8Array[]): Uint8Array => {
    const h = header.slice();
    new DataView(h.buffer).setUint32(h.length - 4, parts.length);
    return concatBytes(h, ...parts);
  };
  const rawSigned = (b: Uint8Array, signers: readonly KeyPair[]) => rawSignedConsensus(b, sortSigs(signers.map((s) => sig(b, s))));
  const other = encodeConsensusBody(bodyOf(descs.slice(1)));
  const past = encodeConsensusBody(bodyOf(descs.map((d) => d), { period: PERIOD - 3 }));
  const future = encodeConsensusBody(bodyOf(descs, { period: PERIOD + 1 }));
  const foreign = encodeConsensusBody(bodyOf(descs, { network: 'othernet' }));
  const node0 = nodeBytes(0);
  const port0 = node0.slice();
  // The first address's port: identity, onion key, roles, flags, bandwidth, count, family, 4 bytes.
  new DataView(port0.buffer).setUint16(32 + 32 + 1 + 1 + 4 + 1 + 1 + 4, 0);
  const badFlags = node0.slice();
  badFlags[32 + 32 + 1] = 0x80;
  const v2 = body.slice();
  v2[0] = 2;
  const forged = sortSigs(discovery.slice(0, 3).map((s) => sig(body, s)));
  forged[1] = { ...forged[1]!, signature: flip(forged[1]!.signature, 0) };
  const good3 = signed(body, discovery.slice(0, 3));
  return {
    description:
      'Signed consensus documents (node-core/directory/consensus.ts). Check: verifyConsensus(parseSignedConsensus(hex), context.trust, context.now); good entries verify with `signers` valid signatures and re-encode to the same bytes; bad entries throw DirectoryError with exactly `code`.',
    context: { trust: { network: NETWORK, discoveryKeys: discoveryKeys.map(hex), threshold: 3 }, now: CONSENSUS_NOW },
    good: [
      { name: 'three of five signatures', hex: hex(good3), signers: 3 } as GoodEntry,
      { name: 'five of five signatures', hex: hex(signed(body, discovery)), signers: 5 } as GoodEntry,
      { name: 'three valid and one from an unknown key (ignored)', hex: hex(signed(body, [...discovery.slice(0, 3), stranger(1)])), signers: 3 } as GoodEntry,
    ],
    bad: [
      { name: 'one of three signatures forged', hex: hex(rawSignedConsensus(body, forged)), code: 'bad-signature' },
      { name: 'a third signer signed a different body', hex: hex(encodeSignedConsensus(body, [sig(body, discovery[0]!), sig(body, discovery[1]!), sig(other, discovery[2]!)])), code: 'bad-signature' },
      { name: 'two signatures, three needed', hex: hex(signed(body, discovery.slice(0, 2))), code: 'too-few-signatures' },
      { name: 'no signatures', hex: hex(signed(body, [])), code: 'too-few-signatures' },
      { name: 'two valid, two from unknown keys', hex: hex(signed(body, [...discovery.slice(0, 2), stranger(1), stranger(2)])), code: 'unknown-signer' },
      { name: 'only unknown keys', hex: hex(signed(body, [stranger(1), stranger(2), stranger(3)])), code: 'unknown-signer' },
      { name: 'expired (a consensus from three periods earlier)', hex: hex(signed(past, discovery.slice(0, 3))), code: 'expired' },
      { name: 'not yet valid (next period)', hex: hex(signed(future, discovery.slice(0, 3))), code: 'not-yet-valid' },
      { name: 'another network', hex: hex(signed(foreign, discovery.slice(0, 3))), code: 'wrong-network' },
      { name: 'nodes out of identity order', hex: hex(rawSigned(withNodes([nodeBytes(1), nodeBytes(0)]), discovery.slice(0, 3))), code: 'not-canonical' },
      { name: 'one node twice', hex: hex(rawSigned(withNodes([nodeBytes(0), nodeBytes(0)]), discovery.slice(0, 3))), code: 'not-canonical' },
      { name: 'signatures out of signer order', hex: hex(rawSignedConsensus(body, [...sortSigs(discovery.slice(0, 3).map((s) => sig(body, s)))].reverse())), code: 'not-canonical' },
      { name: 'one signer twice', hex: hex(rawSignedConsensus(body, [sig(body, discovery[0]!), sig(body, discovery[0]!)])), code: 'not-canonical' },
      { name: 'a node with port 0', hex: hex(rawSigned(withNodes([port0]), discovery.slice(0, 3))), code: 'bad-address' },
      { name: 'a node with unknown flag bits', hex: hex(rawSigned(withNodes([badFlags]), discovery.slice(0, 3))), code: 'malformed' },
      { name: 'body format 2', hex: hex(rawSigned(v2, discovery.slice(0, 3))), code: 'unsupported-version' },
      { name: 'outer format 2', hex: hex(rawSignedConsensus(body, sortSigs(discovery.slice(0, 3).map((s) => sig(body, s))), 2)), code: 'unsupported-version' },
      { name: 'truncated in the body', hex: hex(good3.subarray(0, 100)), code: 'malformed' },
      { name: 'truncated in the signatures', hex: hex(good3.subarray(0, good3.length - 10)), code: 'malformed' },
      { name: 'a trailing byte', hex: hex(Uint8Array.of(...good3, 0)), code: 'malformed' },
      { name: 'empty', hex: '', code: 'malformed' },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Discovery messages

function discoveryMessagesCorpus(): CorpusFile {
  const m = (x: Parameters<typeof encodeDiscoveryMessage>[0]) => hex(encodeDiscoveryMessage(x));
  return {
    description:
      'Discovery message envelopes (node-core/directory/messages.ts). Check: decodeDiscoveryMessage(hex); good entries decode and re-encode to the same bytes; bad entries throw DirectoryError with exactly `code`.',
    context: {},
    good: [
      { name: 'publish', hex: m({ type: 'publish', descriptor: signedDescriptor(onion[0]!) }) },
      { name: 'publish-result accepted', hex: m({ type: 'publish-result', status: 'accepted' }) },
      { name: 'publish-result expired', hex: m({ type: 'publish-result', status: 'expired' }) },
      { name: 'vote', hex: m({ type: 'vote', vote: signedVoteOf(discovery[0]!, []) }) },
      {
        name: 'signature',
        hex: m({ type: 'signature', signature: { network: NETWORK, period: PERIOD, bodyDigest: new Uint8Array(32).fill(0xab), signer: discoveryKeys[0]!, signature: new Uint8Array(64).fill(0xcd) } }),
      },
      { name: 'pull', hex: m({ type: 'pull', network: NETWORK }) },
      { name: 'consensus', hex: m({ type: 'consensus', consensus: Uint8Array.of(1, 2, 3) }) },
      { name: 'no-consensus', hex: m({ type: 'no-consensus' }) },
    ],
    bad: [
      { name: 'empty', hex: '', code: 'malformed' },
      { name: 'type 0', hex: '00', code: 'malformed' },
      { name: 'type 200', hex: 'c8', code: 'malformed' },
      { name: 'publish-result with status 99', hex: '0263', code: 'malformed' },
      { name: 'publish whose length runs past the end', hex: '010010aabb', code: 'malformed' },
      { name: 'publish longer than any descriptor', hex: '01ffff', code: 'malformed' },
      { name: 'pull with an upper-case network', hex: '0503414243', code: 'malformed' },
      { name: 'no-consensus with a trailing byte', hex: '0700', code: 'malformed' },
      { name: 'signature cut short', hex: m({ type: 'signature', signature: { network: NETWORK, period: 1, bodyDigest: new Uint8Array(32), signer: new Uint8Array(32), signature: new Uint8Array(64) } }).slice(0, -2), code: 'malformed' },
      { name: 'vote length over the maximum', hex: '03ffffffff', code: 'malformed' },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Authority: registrations, requests, certificates, messages

const AUTH_NOW = T0 + 1000;
const client = keyPair('corpus-client');
const otherClient = keyPair('corpus-other-client');
const authorityKps = [0, 1, 2].map((i) => keyPair(`authority-${i}`));

function registrationsCorpus(): CorpusFile {
  const reg = (over: Record<string, unknown> = {}, key = client) =>
    createRegistration(suite, { publicKey: client.publicKey, identity: identityOf(client), displayName: 'Corpus Client', createdAt: T0, nonce: nonceFor('corpus'), ...over }, key.secretKey);
  const good = reg();
  const body = parseRegistration(good).body;
  const resign = (b: Uint8Array, key = client) => {
    const s = suite.ed25519Sign(suite.sha256(concatBytes(utf8('PSP-REGISTER-v1'), b)), key.secretKey);
    return new Writer().u16(b.length).bytes(b).bytes(s).finish();
  };
  const otherIdentity = body.slice();
  const idStart = 1 + 32 + 1;
  const theirs = utf8(identityOf(otherClient));
  otherIdentity.set(theirs.subarray(0, utf8(identityOf(client)).length), idStart);
  const v9 = body.slice();
  v9[0] = 9;
  return {
    description:
      'Signed identity registrations (node-core/authority/registration.ts). Check: verifyRegistration(parseRegistration(hex), context.now, { windowMs: context.windowMs }); bad entries throw AuthorityError with exactly `code`.',
    context: { now: AUTH_NOW, windowMs: 600_000 },
    good: [
      { name: 'with a display name', hex: hex(good) },
      { name: 'without a display name', hex: hex(reg({ displayName: undefined })) },
    ],
    bad: [
      { name: 'signature bit flipped', hex: hex(flip(good, -1)), code: 'bad-signature' },
      { name: 'signed by another key', hex: hex(resign(body, otherClient)), code: 'bad-signature' },
      { name: 'created 11 minutes ago', hex: hex(reg({ createdAt: AUTH_NOW - 660_000 })), code: 'stale' },
      { name: 'created 11 minutes ahead', hex: hex(reg({ createdAt: AUTH_NOW + 660_000 })), code: 'not-yet-valid' },
      { name: 'identity string of another key', hex: hex(resign(otherIdentity)), code: 'bad-identity' },
      { name: 'format 9', hex: hex(resign(v9)), code: 'unsupported-version' },
      { name: 'truncated', hex: hex(good.subarray(0, 40)), code: 'malformed' },
      { name: 'a trailing byte', hex: hex(Uint8Array.of(...good, 1)), code: 'malformed' },
    ],
  };
}

const REQUEST_CHECK = { network: NETWORK, windowMs: 300_000, maxLifetimeMs: HOUR };

function requestsCorpus(): CorpusFile {
  const fields = (over: Partial<CertificateRequest> = {}): CertificateRequest => ({
    subject: client.publicKey,
    identity: identityOf(client),
    network: NETWORK,
    requestedAt: T0,
    lifetimeMs: HOUR,
    nonce: nonceFor('corpus-request'),
    ...over,
  });
  const req = (over: Partial<CertificateRequest> = {}) => createCertificateRequest(suite, fields(over), client.secretKey);
  const good = req();
  const body = parseCertificateRequest(good).body;
  const zeroLifetime = body.slice();
  new DataView(zeroLifetime.buffer).setUint32(zeroLifetime.length - 16 - 4, 0);
  const resigned = (b: Uint8Array) => {
    const s = suite.ed25519Sign(suite.sha256(concatBytes(utf8('PSP-CERT-REQUEST-v1'), b)), client.secretKey);
    return new Writer().u16(b.length).bytes(b).bytes(s).finish();
  };
  return {
    description:
      'Signed certificate requests (node-core/authority/certificate.ts). Check: verifyCertificateRequest(parseCertificateRequest(hex), context.now, context.check); bad entries throw AuthorityError with exactly `code`.',
    context: { now: AUTH_NOW, check: REQUEST_CHECK },
    good: [{ name: 'one hour, inside the window', hex: hex(good) }],
    bad: [
      { name: 'another network', hex: hex(req({ network: 'othernet' })), code: 'wrong-network' },
      { name: 'two hours asked, one granted', hex: hex(req({ lifetimeMs: 2 * HOUR })), code: 'lifetime-too-long' },
      { name: 'six minutes old', hex: hex(req({ requestedAt: AUTH_NOW - 360_000 })), code: 'stale' },
      { name: 'six minutes ahead', hex: hex(req({ requestedAt: AUTH_NOW + 360_000 })), code: 'not-yet-valid' },
      { name: 'signature bit flipped', hex: hex(flip(good, -1)), code: 'bad-signature' },
      { name: 'lifetime 0', hex: hex(resigned(zeroLifetime)), code: 'malformed' },
      { name: 'truncated', hex: hex(good.subarray(0, good.length - 65)), code: 'malformed' },
    ],
  };
}

function certificatesCorpus(): CorpusFile {
  const request = {
    subject: client.publicKey,
    identity: identityOf(client),
    network: NETWORK,
    requestedAt: T0,
    lifetimeMs: HOUR,
    nonce: nonceFor('corpus-cert'),
  };
  const body = certificateBodyForRequest(request);
  const sigs = authorityKps.map((a) => issueCertificateSignature(suite, body, a.secretKey));
  const cert = (b = body, list = sigs.slice(0, 2)) => combineCertificateSignatures(b, list);
  const forOther = certificateBodyForRequest({ ...request, subject: otherClient.publicKey, identity: identityOf(otherClient) });
  const foreign = certificateBodyForRequest({ ...request, network: 'othernet' });
  const expired = certificateBodyForRequest({ ...request, requestedAt: T0 - 2 * HOUR });
  const future = certificateBodyForRequest({ ...request, requestedAt: AUTH_NOW + 60_000 });
  const signAll = (b: typeof body) => authorityKps.slice(0, 2).map((a) => issueCertificateSignature(suite, b, a.secretKey));
  const rogue = issueCertificateSignature(suite, body, keyPair('corpus-rogue-authority').secretKey);
  const bodyBytes = encodeCertificateBody(body);
  const ordered = [...sigs].sort((a, b) => (hex(a.signer) < hex(b.signer) ? -1 : 1));
  const raw = (list: typeof sigs, b = bodyBytes, format = 1) => {
    const w = new Writer().u8(format).u16(b.length).bytes(b).u8(list.length);
    for (const s of list) w.bytes(s.signer).bytes(s.signature);
    return w.finish();
  };
  const long = bodyBytes.slice();
  new DataView(long.buffer).setBigUint64(long.length - 8, BigInt(T0 + 25 * HOUR));
  const badId = bodyBytes.slice();
  badId.set(utf8(identityOf(otherClient)).subarray(0, utf8(identityOf(client)).length), 1 + 32 + 1);
  const good2 = cert();
  return {
    description:
      'Co-signed access certificates (node-core/authority/certificate.ts). Check: verifyAccessCertificate(parseAccessCertificate(hex), context.trust, context.now, context.options); good entries verify with `signers` valid signatures; bad entries throw AuthorityError with exactly `code`.',
    context: {
      trust: { authorityKeys: authorityKps.map((a) => hex(a.publicKey)), threshold: 2 },
      now: AUTH_NOW,
      options: { network: NETWORK, subject: hex(client.publicKey) },
    },
    good: [
      { name: 'two of three authorities', hex: hex(good2), signers: 2 } as GoodEntry,
      { name: 'three of three authorities', hex: hex(cert(body, sigs)), signers: 3 } as GoodEntry,
    ],
    bad: [
      { name: 'expired', hex: hex(cert(expired, signAll(expired))), code: 'expired' },
      { name: 'issued a minute ahead', hex: hex(cert(future, signAll(future))), code: 'not-yet-valid' },
      { name: 'one signature, two needed', hex: hex(cert(body, sigs.slice(0, 1))), code: 'too-few-signatures' },
      { name: 'one valid and one forged', hex: hex(raw([ordered[0]!, { ...ordered[1]!, signature: flip(ordered[1]!.signature, 3) }])), code: 'bad-signature' },
      { name: 'one valid and one from an unknown authority', hex: hex(cert(body, [sigs[0]!, rogue])), code: 'unknown-signer' },
      { name: 'for another subject', hex: hex(cert(forOther, signAll(forOther))), code: 'wrong-subject' },
      { name: 'for another network', hex: hex(cert(foreign, signAll(foreign))), code: 'wrong-network' },
      { name: 'signatures out of signer order', hex: hex(raw([ordered[1]!, ordered[0]!])), code: 'not-canonical' },
      { name: 'valid for 25 hours', hex: hex(raw(ordered, long)), code: 'malformed' },
      { name: 'identity string of another key', hex: hex(raw(ordered, badId)), code: 'bad-identity' },
      { name: 'format 4', hex: hex(raw(ordered, bodyBytes, 4)), code: 'unsupported-version' },
      { name: 'truncated', hex: hex(good2.subarray(0, 90)), code: 'malformed' },
      { name: 'a trailing byte', hex: hex(Uint8Array.of(...good2, 0)), code: 'malformed' },
    ],
  };
}

function authorityMessagesCorpus(): CorpusFile {
  const body = certificateBodyForRequest({
    subject: client.publicKey,
    identity: identityOf(client),
    network: NETWORK,
    requestedAt: T0,
    lifetimeMs: HOUR,
    nonce: nonceFor('corpus-msg'),
  });
  const ok = encodeAuthorityMessage({ type: 'certificate-result', result: { status: 'ok', body, signature: issueCertificateSignature(suite, body, authorityKps[0]!.secretKey) } });
  const m = (x: Parameters<typeof encodeAuthorityMessage>[0]) => hex(encodeAuthorityMessage(x));
  return {
    description:
      'Authority message envelopes (node-core/authority/messages.ts). Check: decodeAuthorityMessage(hex); good entries re-encode to the same bytes; bad entries throw AuthorityError with exactly `code`.',
    context: {},
    good: [
      { name: 'certificate-request', hex: m({ type: 'certificate-request', request: fromHex('0102') }) },
      { name: 'certificate-result ok', hex: hex(ok) },
      { name: 'certificate-result not-registered', hex: m({ type: 'certificate-result', result: { status: 'not-registered' } }) },
      { name: 'register', hex: m({ type: 'register', registration: fromHex('aa') }) },
      { name: 'register-result created', hex: m({ type: 'register-result', result: { status: 'ok', outcome: 'created' } }) },
    ],
    bad: [
      { name: 'empty', hex: '', code: 'malformed' },
      { name: 'one byte of event id', hex: '00', code: 'malformed' },
      { name: 'event id 0', hex: '0000', code: 'malformed' },
      { name: 'event id 5', hex: '0005', code: 'malformed' },
      { name: 'status 13', hex: '00020d', code: 'malformed' },
      { name: 'register-result ok without outcome', hex: '000400', code: 'malformed' },
      { name: 'register-result outcome 4', hex: '00040004', code: 'malformed' },
      { name: 'refusal with a trailing byte', hex: '00020500', code: 'malformed' },
      { name: 'certificate-result ok cut short', hex: hex(ok.subarray(0, ok.length - 1)), code: 'malformed' },
      { name: 'certificate-result ok whose body names another key', hex: hex(ok).replace(hex(utf8(identityOf(client)).subarray(30, 40)), hex(new Uint8Array(10).fill(0x31))), code: 'bad-identity' },
    ],
  };
}

// ---------------------------------------------------------------------------------------------

export function buildCorpora(): Record<string, CorpusFile> {
  return {
    'descriptors.json': descriptorsCorpus(),
    'votes.json': votesCorpus(),
    'consensus.json': consensusCorpus(),
    'discovery-messages.json': discoveryMessagesCorpus(),
    'registrations.json': registrationsCorpus(),
    'certificate-requests.json': requestsCorpus(),
    'access-certificates.json': certificatesCorpus(),
    'authority-messages.json': authorityMessagesCorpus(),
  };
}

/** What checking one entry of `file` gives: 'ok' (and facts about it) or the error code. */
export type Outcome = { kind: 'ok'; facts: Record<string, number | string> } | { kind: 'error'; code: string } | { kind: 'crash'; error: string };

function outcomeOf(fn: () => Record<string, number | string>): Outcome {
  try {
    return { kind: 'ok', facts: fn() };
  } catch (e) {
    if (e instanceof DirectoryError || e instanceof AuthorityError) return { kind: 'error', code: e.code };
    return { kind: 'crash', error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

export function checkEntry(file: string, corpus: CorpusFile, entryHex: string): Outcome {
  const bytes = fromHex(entryHex);
  const c = corpus.context as Record<string, unknown>;
  const now = c['now'] as number;
  switch (file) {
    case 'descriptors.json':
      return outcomeOf(() => {
        const v = verifyDescriptor(suite, parseDescriptor(bytes), now, c['policy'] as typeof POLICY);
        return { body: hex(v.body) };
      });
    case 'votes.json':
      return outcomeOf(() => {
        const ctx = corpus.context as { network: string; discoveryKeys: string[]; period: number; descriptorsAt: number; policy: typeof POLICY };
        const v = verifyVote(suite, parseVote(bytes), { ...ctx, discoveryKeys: ctx.discoveryKeys.map(fromHex) });
        return { descriptors: v.descriptors.length, dropped: v.dropped.length };
      });
    case 'consensus.json':
      return outcomeOf(() => {
        const t = c['trust'] as { network: string; discoveryKeys: string[]; threshold: number };
        const u = parseSignedConsensus(bytes);
        const v = verifyConsensus(suite, u, { ...t, discoveryKeys: t.discoveryKeys.map(fromHex) }, now);
        return { signers: v.signers.length, reencoded: hex(encodeSignedConsensus(u.body, u.signatures)) };
      });
    case 'discovery-messages.json':
      return outcomeOf(() => ({ reencoded: hex(encodeDiscoveryMessage(decodeDiscoveryMessage(bytes))) }));
    case 'registrations.json':
      return outcomeOf(() => {
        const v = verifyRegistration(suite, parseRegistration(bytes), now, { windowMs: c['windowMs'] as number });
        return { identity: v.identity };
      });
    case 'certificate-requests.json':
      return outcomeOf(() => {
        const v = verifyCertificateRequest(suite, parseCertificateRequest(bytes), now, c['check'] as typeof REQUEST_CHECK);
        return { identity: v.identity };
      });
    case 'access-certificates.json':
      return outcomeOf(() => {
        const t = c['trust'] as { authorityKeys: string[]; threshold: number };
        const o = c['options'] as { network: string; subject: string };
        const v = verifyAccessCertificate(suite, parseAccessCertificate(bytes), { ...t, authorityKeys: t.authorityKeys.map(fromHex) }, now, {
          network: o.network,
          subject: fromHex(o.subject),
        });
        return { signers: v.signers.length };
      });
    case 'authority-messages.json':
      return outcomeOf(() => ({ reencoded: hex(encodeAuthorityMessage(decodeAuthorityMessage(bytes))) }));
    default:
      throw new Error(`no checker for ${file}`);
  }
}

export function serialize(c: CorpusFile): string {
  return `${JSON.stringify(c, null, 2)}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!process.argv.includes('--write')) {
    process.stderr.write('usage: npx tsx test/directory/corpus.ts --write   (rewrites test/vectors/directory/*.json)\n');
    process.exit(2);
  }
  for (const [name, c] of Object.entries(buildCorpora())) writeFileSync(join(CORPUS_DIR, name), serialize(c));
  process.stdout.write(`wrote ${Object.keys(buildCorpora()).length} files to ${CORPUS_DIR}\n`);
}
