/**
 * Properties (fast-check, size 'max'): every decoder of node-core/directory and
 * node-core/authority throws only its own error type on arbitrary bytes and on mutations of valid
 * documents; random valid documents round-trip byte for byte.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  AuthorityError,
  decodeAuthorityMessage,
  decodeCertificateBody,
  decodeCertificateRequestBody,
  decodeRegistrationBody,
  encodeRegistrationBody,
  parseAccessCertificate,
  parseCertificateRequest,
  parseRegistration,
} from '../../node-core/authority';
import { formatIdentity } from '../../node-core/crypto/identity';
import {
  type ConsensusNode,
  type ConsensusFlag,
  CONSENSUS_FLAGS,
  DirectoryError,
  NODE_ROLES,
  type NodeDescriptor,
  type NodeRole,
  decodeConsensusBody,
  decodeDescriptorBody,
  decodeDiscoveryMessage,
  encodeConsensusBody,
  encodeDescriptorBody,
  parseDescriptor,
  parseSignedConsensus,
  parseVote,
} from '../../node-core/directory';
import { fromHex, toHex } from '../../node-core/util/bytes';
import { buildCorpora } from './corpus';
import { keyPair } from './helpers';

const corpora = buildCorpora();
const seedsOf = (file: string): Uint8Array[] => corpora[file]!.good.map((g) => fromHex(g.hex));

const decoders: [string, (b: Uint8Array) => unknown, typeof DirectoryError | typeof AuthorityError, Uint8Array[]][] = [
  ['parseDescriptor', parseDescriptor, DirectoryError, seedsOf('descriptors.json')],
  ['decodeDescriptorBody', decodeDescriptorBody, DirectoryError, seedsOf('descriptors.json').map((b) => b.subarray(2, b.length - 64))],
  ['parseVote', parseVote, DirectoryError, seedsOf('votes.json')],
  ['decodeConsensusBody', decodeConsensusBody, DirectoryError, seedsOf('consensus.json').map((b) => parseSignedConsensus(b).body)],
  ['parseSignedConsensus', parseSignedConsensus, DirectoryError, seedsOf('consensus.json')],
  ['decodeDiscoveryMessage', decodeDiscoveryMessage, DirectoryError, seedsOf('discovery-messages.json')],
  ['parseRegistration', parseRegistration, AuthorityError, seedsOf('registrations.json')],
  ['decodeRegistrationBody', decodeRegistrationBody, AuthorityError, seedsOf('registrations.json').map((b) => parseRegistration(b).body)],
  ['parseCertificateRequest', parseCertificateRequest, AuthorityError, seedsOf('certificate-requests.json')],
  ['decodeCertificateRequestBody', decodeCertificateRequestBody, AuthorityError, seedsOf('certificate-requests.json').map((b) => parseCertificateRequest(b).body)],
  ['parseAccessCertificate', parseAccessCertificate, AuthorityError, seedsOf('access-certificates.json')],
  ['decodeCertificateBody', decodeCertificateBody, AuthorityError, seedsOf('access-certificates.json').map((b) => parseAccessCertificate(b).body)],
  ['decodeAuthorityMessage', decodeAuthorityMessage, AuthorityError, seedsOf('authority-messages.json')],
];

function throwsOnly(fn: () => unknown, errorType: typeof DirectoryError | typeof AuthorityError): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof errorType)) throw new Error(`threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
}

/** A valid document with a few bytes changed, inserted or removed. */
function mutated(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), { minLength: 1, maxLength: 4, size: 'max' }),
    )
    .map(([seed, edits]) => {
      const b = Array.from(seed);
      for (const [at, value, op] of edits) {
        const i = b.length === 0 ? 0 : at % (b.length + (op === 'insert' ? 1 : 0));
        if (op === 'set' && b.length > 0) b[i] = value;
        else if (op === 'insert') b.splice(i, 0, value);
        else if (op === 'delete' && b.length > 0) b.splice(i, 1);
      }
      return Uint8Array.from(b);
    });
}

describe('decoders throw only their own error type', () => {
  it.each(decoders)('%s on arbitrary bytes', (_name, decode, errorType) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048, size: 'max' }), (bytes) => throwsOnly(() => decode(bytes), errorType)),
      { numRuns: 400 },
    );
  });

  it.each(decoders)('%s on mutations of valid documents', (_name, decode, errorType, seeds) => {
    expect(seeds.length).toBeGreaterThan(0);
    for (const s of seeds) expect(() => decode(s)).not.toThrow();
    fc.assert(
      fc.property(mutated(seeds), (bytes) => throwsOnly(() => decode(bytes), errorType)),
      { numRuns: 400 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Round trips of random valid documents

const octet = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.tuple(fc.integer({ min: 1, max: 223 }), octet, octet, octet).map((p) => p.join('.'));
const ipv6 = fc.tuple(fc.integer({ min: 0x2000, max: 0x3fff }), fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 7, maxLength: 7, size: 'max' })).map(([first, rest]) =>
  [first, ...rest].map((g) => g.toString(16)).join(':'),
);
const address = fc.record({ host: fc.oneof(ipv4, ipv6), port: fc.integer({ min: 1, max: 65535 }) });
const addresses = fc.uniqueArray(address, { minLength: 1, maxLength: 4, selector: (a) => `${a.host}|${a.port}`, size: 'max' });
const roles = fc.subarray([...NODE_ROLES] as NodeRole[], { minLength: 1 });
const flags = fc.subarray([...CONSENSUS_FLAGS] as ConsensusFlag[]);
const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const nonZeroKey = key32.filter((k) => k.some((x) => x !== 0));
const nickname = fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/);
const version = fc.stringMatching(/^[\x20-\x7e]{0,32}$/);
const time = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 1 });

const descriptor: fc.Arbitrary<NodeDescriptor> = fc
  .record({ identity: key32, onionKey: nonZeroKey, addresses, roles, bandwidth: fc.integer({ min: 0, max: 0xffffffff }), version, nickname, publishedAt: time, span: fc.integer({ min: 1, max: 10_000_000 }) })
  .filter((d) => d.publishedAt + d.span <= Number.MAX_SAFE_INTEGER)
  .map(({ span, ...d }) => ({ ...d, validUntil: d.publishedAt + span }));

describe('round trips of random valid documents', () => {
  it('descriptor bodies: encode → decode → encode is identical', () => {
    fc.assert(
      fc.property(descriptor, (d) => {
        const body = encodeDescriptorBody(d);
        expect(toHex(encodeDescriptorBody(decodeDescriptorBody(body)))).toBe(toHex(body));
      }),
      { numRuns: 300 },
    );
  });

  it('consensus bodies: encode → decode → encode is identical', () => {
    const node: fc.Arbitrary<ConsensusNode> = fc.record({
      identity: key32,
      onionKey: nonZeroKey,
      addresses,
      roles,
      flags,
      bandwidth: fc.integer({ min: 0, max: 0xffffffff }),
      version,
      nickname,
      descriptorDigest: key32,
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(node, { maxLength: 12, selector: (n) => toHex(n.identity), size: 'max' }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 3_600_000 }),
        (nodes, period, periodMs) => {
          const sorted = [...nodes].sort((a, b) => (toHex(a.identity) < toHex(b.identity) ? -1 : 1));
          const validAfter = period * periodMs;
          const body = { network: 'testnet', period, validAfter, freshUntil: validAfter + periodMs, validUntil: validAfter + 3 * periodMs, nodes: sorted };
          const bytes = encodeConsensusBody(body);
          expect(toHex(encodeConsensusBody(decodeConsensusBody(bytes)))).toBe(toHex(bytes));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('registration bodies, including any acceptable display name', () => {
    const k = keyPair('property-registrant');
    const identity = formatIdentity({ namespace: 'peerstream', app: 'client', publicKey: k.publicKey });
    fc.assert(
      fc.property(
        fc.option(fc.string({ minLength: 1, maxLength: 64, unit: 'grapheme', size: 'max' }), { nil: undefined }),
        time,
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        (displayName, createdAt, nonce) => {
          const reg = { publicKey: k.publicKey, identity, displayName, createdAt, nonce };
          let body: Uint8Array;
          try {
            body = encodeRegistrationBody(displayName === undefined ? { ...reg, displayName: undefined } : reg);
          } catch (e) {
            if (e instanceof RangeError) return; // a name the rules refuse (control characters, not NFC, …)
            throw e;
          }
          const back = decodeRegistrationBody(body);
          expect(back.displayName).toBe(displayName);
          expect(toHex(encodeRegistrationBody(back))).toBe(toHex(body));
        },
      ),
      { numRuns: 300 },
    );
  });
});
