/**
 * Fuzz targets for the decoders of node-core/directory and node-core/authority, for the shared
 * runner (register them in test/fuzz/targets.ts; see test/fuzz/target.ts for the contract).
 * Not a test file.
 *
 *   directory-descriptor          parseDescriptor, then verifyDescriptor at a fixed time
 *   directory-vote                parseVote, then verifyVote with the corpus context
 *   directory-consensus-body      decodeConsensusBody
 *   directory-signed-consensus    parseSignedConsensus, then verifyConsensus with the corpus trust
 *   directory-message             decodeDiscoveryMessage
 *   authority-registration        parseRegistration, then verifyRegistration
 *   authority-certificate-request parseCertificateRequest, then verifyCertificateRequest
 *   authority-access-certificate  parseAccessCertificate, then verifyAccessCertificate
 *   authority-message             decodeAuthorityMessage
 *
 * Seeds are the good entries of test/vectors/directory/. The module's own error
 * (DirectoryError or AuthorityError) from the parser means 'rejected'; from the verifier it is
 * expected and ignored (the input still parsed: 'accepted'). What a parser accepts must
 * re-encode to exactly the input; a broken invariant, or any other exception, is a crash.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AuthorityError,
  combineCertificateSignatures,
  decodeAuthorityMessage,
  encodeAuthorityMessage,
  encodeCertificateRequestBody,
  encodeRegistrationBody,
  parseAccessCertificate,
  parseCertificateRequest,
  parseRegistration,
  verifyAccessCertificate,
  verifyCertificateRequest,
  verifyRegistration,
} from '../../node-core/authority';
import {
  DirectoryError,
  decodeConsensusBody,
  decodeDiscoveryMessage,
  encodeConsensusBody,
  encodeDescriptorBody,
  encodeDiscoveryMessage,
  encodeSignedConsensus,
  parseDescriptor,
  parseSignedConsensus,
  parseVote,
  verifyConsensus,
  verifyDescriptor,
  verifyVote,
} from '../../node-core/directory';
import { nobleSuite as suite } from '../../node-core/crypto/noble';
import { Writer, fromHex, toHex } from '../../node-core/util/bytes';
import type { FuzzTarget } from '../fuzz/target';

export type { FuzzTarget } from '../fuzz/target';

const VECTORS = join(dirname(fileURLToPath(import.meta.url)), '..', 'vectors', 'directory');

interface Corpus {
  context: Record<string, unknown>;
  good: { hex: string }[];
}

const cache = new Map<string, Corpus>();
function corpus(file: string): Corpus {
  let c = cache.get(file);
  if (c === undefined) {
    c = JSON.parse(readFileSync(join(VECTORS, file), 'utf8')) as Corpus;
    cache.set(file, c);
  }
  return c;
}
const goodSeeds = (file: string): Uint8Array[] => corpus(file).good.map((g) => fromHex(g.hex));

function invariant(ok: boolean, what: string): void {
  if (!ok) throw new Error(`invariant broken: ${what}`);
}

function same(a: Uint8Array, b: Uint8Array, what: string): void {
  invariant(toHex(a) === toHex(b), `${what}: re-encoding differs from the input`);
}

/** Parse step: its own error type means 'rejected'. */
function parsed<T>(isOwn: (e: unknown) => boolean, parse: () => T): T | undefined {
  try {
    return parse();
  } catch (e) {
    if (isOwn(e)) return undefined;
    throw e;
  }
}

/** Verify step: its own error type is an expected outcome. */
function verifyQuietly(isOwn: (e: unknown) => boolean, verify: () => unknown): void {
  try {
    verify();
  } catch (e) {
    if (!isOwn(e)) throw e;
  }
}

const dirErr = (e: unknown): boolean => e instanceof DirectoryError;
const authErr = (e: unknown): boolean => e instanceof AuthorityError;
const keys = (l: unknown): Uint8Array[] => (l as string[]).map(fromHex);

function target(seeds: () => Uint8Array[], run: (input: Uint8Array) => boolean): FuzzTarget {
  return {
    seeds,
    run(input) {
      return run(input) ? 'accepted' : 'rejected';
    },
  };
}

export const directoryFuzzTargets: Record<string, FuzzTarget> = {
  'directory-descriptor': target(() => goodSeeds('descriptors.json'), (input) => {
    const u = parsed(dirErr, () => parseDescriptor(input));
    if (u === undefined) return false;
    same(new Writer().u16(u.body.length).bytes(u.body).bytes(u.signature).finish(), input, 'signed descriptor');
    same(encodeDescriptorBody(u.claimed), u.body, 'descriptor body');
    const c = corpus('descriptors.json').context as { now: number; policy: { maxLifetimeMs: number; maxClockSkewMs: number } };
    verifyQuietly(dirErr, () => verifyDescriptor(suite, u, c.now, c.policy));
    return true;
  }),

  'directory-vote': target(() => goodSeeds('votes.json'), (input) => {
    const u = parsed(dirErr, () => parseVote(input));
    if (u === undefined) return false;
    same(new Writer().u32(u.body.length).bytes(u.body).bytes(u.signature).finish(), input, 'signed vote');
    for (let i = 1; i < u.descriptors.length; i++) {
      invariant(toHex(u.descriptors[i - 1]!.claimed.identity) < toHex(u.descriptors[i]!.claimed.identity), 'vote descriptors ascending');
    }
    const c = corpus('votes.json').context as {
      network: string;
      discoveryKeys: string[];
      period: number;
      descriptorsAt: number;
      policy: { maxLifetimeMs: number; maxClockSkewMs: number };
    };
    verifyQuietly(dirErr, () => verifyVote(suite, u, { ...c, discoveryKeys: keys(c.discoveryKeys) }));
    return true;
  }),

  'directory-consensus-body': target(
    () => goodSeeds('consensus.json').map((b) => parseSignedConsensus(b).body), (input) => {
      const body = parsed(dirErr, () => decodeConsensusBody(input));
      if (body === undefined) return false;
      same(encodeConsensusBody(body), input, 'consensus body');
      return true;
    },
  ),

  'directory-signed-consensus': target(() => goodSeeds('consensus.json'), (input) => {
    const u = parsed(dirErr, () => parseSignedConsensus(input));
    if (u === undefined) return false;
    same(encodeSignedConsensus(u.body, u.signatures), input, 'signed consensus');
    const c = corpus('consensus.json').context as { trust: { network: string; discoveryKeys: string[]; threshold: number }; now: number };
    verifyQuietly(dirErr, () => verifyConsensus(suite, u, { ...c.trust, discoveryKeys: keys(c.trust.discoveryKeys) }, c.now));
    return true;
  }),

  'directory-message': target(() => goodSeeds('discovery-messages.json'), (input) => {
    const m = parsed(dirErr, () => decodeDiscoveryMessage(input));
    if (m === undefined) return false;
    same(encodeDiscoveryMessage(m), input, 'discovery message');
    return true;
  }),

  'authority-registration': target(() => goodSeeds('registrations.json'), (input) => {
    const u = parsed(authErr, () => parseRegistration(input));
    if (u === undefined) return false;
    same(encodeRegistrationBody(u.claimed), u.body, 'registration body');
    const c = corpus('registrations.json').context as { now: number; windowMs: number };
    verifyQuietly(authErr, () => verifyRegistration(suite, u, c.now, { windowMs: c.windowMs }));
    return true;
  }),

  'authority-certificate-request': target(() => goodSeeds('certificate-requests.json'), (input) => {
    const u = parsed(authErr, () => parseCertificateRequest(input));
    if (u === undefined) return false;
    same(encodeCertificateRequestBody(u.claimed), u.body, 'certificate request body');
    const c = corpus('certificate-requests.json').context as { now: number; check: { network: string; windowMs: number; maxLifetimeMs: number } };
    verifyQuietly(authErr, () => verifyCertificateRequest(suite, u, c.now, c.check));
    return true;
  }),

  'authority-access-certificate': target(() => goodSeeds('access-certificates.json'), (input) => {
    const u = parsed(authErr, () => parseAccessCertificate(input));
    if (u === undefined) return false;
    same(combineCertificateSignatures(u.claimed, u.signatures), input, 'access certificate');
    const c = corpus('access-certificates.json').context as { trust: { authorityKeys: string[]; threshold: number }; now: number };
    verifyQuietly(authErr, () => verifyAccessCertificate(suite, u, { ...c.trust, authorityKeys: keys(c.trust.authorityKeys) }, c.now));
    return true;
  }),

  'authority-message': target(() => goodSeeds('authority-messages.json'), (input) => {
    const m = parsed(authErr, () => decodeAuthorityMessage(input));
    if (m === undefined) return false;
    same(encodeAuthorityMessage(m), input, 'authority message');
    return true;
  }),
};
