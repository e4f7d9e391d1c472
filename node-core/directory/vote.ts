/**
 * Discovery votes: what one discovery node holds for a voting period (seed 004 §2, "Discovery
 * nodes do a voting and build consensus periodically"; DESIGN.md §3 "Directory"). The PSP
 * reference elects a Raft leader that collects forwarded items (discovery/discoveryraft.md,
 * multisignatureconsensus.md); here there is no leader: every discovery node sends its signed
 * vote to every other, and each computes the same consensus from the same votes (consensus.ts).
 *
 * Body (format 1):
 *   format u8 = 1
 *   network       u8 length | [a-z0-9-] (1..32)
 *   voter         32   the voter's Ed25519 identity key
 *   period        u64  voting period index (period start = index × periodMs)
 *   count         u32  0..MAX_VOTE_DESCRIPTORS
 *   descriptors   count × (u16 length | signed descriptor), strictly ascending by identity
 * Signed vote: bodyLength u32 | body | signature 64 (Ed25519 by the voter over
 * SHA-256("PSP-VOTE-v1" ‖ body)).
 *
 * A vote carries at most one descriptor per node (the newest the voter holds); a list out of
 * order or with an identity twice is 'not-canonical'. Every carried descriptor is re-verified by
 * the receiver at a reference time fixed by the period (`descriptorsAt`), not at the receiver's
 * own clock, so every discovery node keeps the same descriptors from the same vote. A
 * descriptor that fails is dropped from the vote (and reported); the rest of the vote counts.
 *
 * Does not: send votes, decide when to vote (voting.ts), or compute the consensus.
 */
import type { CryptoSuite } from '../crypto/api';
import { Writer, assertBytes, equalBytes, toHex } from '../util/bytes';
import { NETWORK_FIELD, checkAscii, checkKeyList, checkTime, compareBytes, writeAscii, writeTime } from '../util/codec';
import { type SingleSignedLayout, parseSingleSigned, sealSingleSigned, signingDigest } from '../util/signed';
import {
  type DescriptorPolicy,
  MAX_SIGNED_DESCRIPTOR_LENGTH,
  type UnverifiedDescriptor,
  type VerifiedDescriptor,
  checkDescriptorPolicy,
  checkDescriptorTimes,
  parseDescriptor,
  verifyDescriptor,
} from './descriptor';
import { DirectoryError, type DirectoryErrorCode } from './errors';
import { CONTEXT_VOTE, copy, expectEnd, fail, readAscii, readFormat, readTime, reader } from './internal';

export const VOTE_FORMAT = 1;
export const MAX_VOTE_DESCRIPTORS = 8192;
export const MAX_VOTE_BODY_LENGTH = 1 + 33 + 32 + 8 + 4 + MAX_VOTE_DESCRIPTORS * (2 + MAX_SIGNED_DESCRIPTOR_LENGTH);
export const MAX_SIGNED_VOTE_LENGTH = 4 + MAX_VOTE_BODY_LENGTH + 64;

const SIGNED_VOTE: SingleSignedLayout = { what: 'signed vote', lengthBits: 32, maxLength: MAX_SIGNED_VOTE_LENGTH };

export interface VoteHeader {
  readonly network: string;
  readonly voter: Uint8Array;
  readonly period: number;
}

export interface UnverifiedVote {
  /** What the vote claims; nothing here is trustworthy until verifyVote. */
  readonly claimed: VoteHeader;
  /** The carried descriptors, parsed (layout only), in identity order. */
  readonly descriptors: readonly UnverifiedDescriptor[];
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
  readonly bytes: Uint8Array;
}

declare const verifiedVoteBrand: unique symbol;

export interface DroppedDescriptor {
  readonly identity: Uint8Array;
  readonly code: DirectoryErrorCode;
}

export interface VerifiedVote extends VoteHeader {
  readonly [verifiedVoteBrand]: true;
  /** Descriptors that verified at the reference time, ascending by identity. */
  readonly descriptors: readonly VerifiedDescriptor[];
  /** Descriptors the vote carried that did not verify (never counted). */
  readonly dropped: readonly DroppedDescriptor[];
  /** SHA-256(body): two votes from one voter with different digests are an equivocation. */
  readonly digest: Uint8Array;
  readonly bytes: Uint8Array;
}

function checkPeriod(v: unknown, name: string): asserts v is number {
  checkTime(v, name);
}

/** Newest descriptor per identity (ties: lowest digest), sorted ascending by identity. */
export function newestPerIdentity(descriptors: readonly VerifiedDescriptor[]): VerifiedDescriptor[] {
  const best = new Map<string, VerifiedDescriptor>();
  for (const d of descriptors) {
    const k = toHex(d.identity);
    const cur = best.get(k);
    if (
      cur === undefined ||
      d.publishedAt > cur.publishedAt ||
      (d.publishedAt === cur.publishedAt && compareBytes(d.digest, cur.digest) < 0)
    ) {
      best.set(k, d);
    }
  }
  return [...best.values()].sort((a, b) => compareBytes(a.identity, b.identity));
}

export interface CreateVoteInput {
  readonly network: string;
  readonly period: number;
  /** What the voter holds; verified earlier. Older duplicates and descriptors invalid at `descriptorsAt` are left out. */
  readonly descriptors: readonly VerifiedDescriptor[];
  /** The reference time at which receivers re-check the descriptors (see the header). */
  readonly descriptorsAt: number;
  readonly policy: DescriptorPolicy;
}

/**
 * Builds and signs this node's vote. Returns the signed bytes and the vote as a receiver would
 * verify it. RangeError when more than MAX_VOTE_DESCRIPTORS descriptors remain.
 */
export function createVote(
  suite: CryptoSuite,
  input: CreateVoteInput,
  secretKey: Uint8Array,
): { bytes: Uint8Array; vote: VerifiedVote } {
  if (typeof input !== 'object' || input === null) throw new TypeError('input must be an object');
  checkAscii(input.network, NETWORK_FIELD, 'input.network');
  checkPeriod(input.period, 'input.period');
  checkTime(input.descriptorsAt, 'input.descriptorsAt');
  checkDescriptorPolicy(input.policy, 'input.policy');
  if (!Array.isArray(input.descriptors)) throw new TypeError('input.descriptors must be an array');
  assertBytes(secretKey, 'secretKey', 32);
  const usable = input.descriptors.filter((d) => {
    try {
      checkDescriptorTimes(d, input.descriptorsAt, input.policy);
      return true;
    } catch (e) {
      if (e instanceof DirectoryError) return false;
      throw e;
    }
  });
  const chosen = newestPerIdentity(usable);
  if (chosen.length > MAX_VOTE_DESCRIPTORS) {
    throw new RangeError(`a vote carries at most ${MAX_VOTE_DESCRIPTORS} descriptors, ${chosen.length} given`);
  }
  const voter = suite.ed25519PublicKey(secretKey);
  const w = new Writer();
  w.u8(VOTE_FORMAT);
  writeAscii(w, input.network, NETWORK_FIELD);
  w.bytes(voter);
  writeTime(w, input.period, 'input.period');
  w.u32(chosen.length);
  for (const d of chosen) w.u16(d.bytes.length).bytes(d.bytes);
  const body = w.finish();
  const bytes = sealSingleSigned(suite, CONTEXT_VOTE, body, secretKey, SIGNED_VOTE.lengthBits);
  const vote = {
    network: input.network,
    voter,
    period: input.period,
    descriptors: chosen,
    dropped: [],
    digest: suite.sha256(body),
    bytes,
  } as unknown as VerifiedVote;
  return { bytes, vote };
}

function decodeVoteBody(body: Uint8Array): { header: VoteHeader; descriptors: UnverifiedDescriptor[] } {
  const what = 'vote';
  const r = reader(body, what);
  readFormat(r, VOTE_FORMAT, what);
  const network = readAscii(r, NETWORK_FIELD, `${what} network`);
  const voter = r.bytes(32, 'voter').slice();
  const period = readTime(r, `${what} period`);
  const count = r.u32('descriptor count');
  if (count > MAX_VOTE_DESCRIPTORS) throw new DirectoryError('malformed', `${what}: ${count} descriptors, at most ${MAX_VOTE_DESCRIPTORS}`);
  const descriptors: UnverifiedDescriptor[] = [];
  for (let i = 0; i < count; i++) {
    const len = r.u16(`descriptor ${i} length`);
    const d = parseDescriptor(r.bytes(len, `descriptor ${i}`));
    const prev = descriptors[i - 1];
    if (prev !== undefined && compareBytes(prev.claimed.identity, d.claimed.identity) >= 0) {
      throw new DirectoryError('not-canonical', `${what}: descriptor ${i} is not in ascending identity order or repeats an identity`);
    }
    descriptors.push(d);
  }
  expectEnd(r, what);
  return { header: { network, voter, period }, descriptors };
}

/** Parses a signed vote (layout and canonical order only). Throws DirectoryError. */
export function parseVote(bytes: Uint8Array): UnverifiedVote {
  const { body, signature } = parseSingleSigned(bytes, SIGNED_VOTE, fail);
  const { header, descriptors } = decodeVoteBody(body);
  return { claimed: header, descriptors, body, signature, bytes: copy(bytes) };
}

export interface VoteCheck {
  readonly network: string;
  /** Every configured discovery node's identity key. */
  readonly discoveryKeys: readonly Uint8Array[];
  /** The period the receiver is collecting votes for. */
  readonly period: number;
  /** Reference time for the carried descriptors (the same at every receiver for one period). */
  readonly descriptorsAt: number;
  readonly policy: DescriptorPolicy;
  /**
   * Descriptors the receiver verified before, by hex SHA-256 of their body. A carried descriptor
   * whose signed bytes equal a known one skips the signature check (its times are still checked).
   */
  readonly known?: ReadonlyMap<string, VerifiedDescriptor>;
}

/**
 * Verifies a vote: network ('wrong-network'), voter among the discovery keys ('unknown-signer'),
 * period ('wrong-period'), the voter's signature ('bad-signature'); then each carried descriptor
 * at `descriptorsAt`, dropping those that fail. Throws DirectoryError.
 */
export function verifyVote(suite: CryptoSuite, unverified: UnverifiedVote, check: VoteCheck): VerifiedVote {
  if (typeof unverified !== 'object' || unverified === null || !Array.isArray(unverified.descriptors)) {
    throw new TypeError('unverified must come from parseVote');
  }
  if (typeof check !== 'object' || check === null) throw new TypeError('check must be an object');
  checkAscii(check.network, NETWORK_FIELD, 'check.network');
  const keys = checkKeyList(check.discoveryKeys, 'check.discoveryKeys');
  checkPeriod(check.period, 'check.period');
  checkTime(check.descriptorsAt, 'check.descriptorsAt');
  checkDescriptorPolicy(check.policy, 'check.policy');
  // Work from the body, so a hand-built object cannot disagree with what was signed.
  const { header, descriptors } = decodeVoteBody(unverified.body);
  if (header.network !== check.network) {
    throw new DirectoryError('wrong-network', `vote is for network '${header.network}', expected '${check.network}'`);
  }
  if (!keys.some((k) => equalBytes(k, header.voter))) {
    throw new DirectoryError('unknown-signer', `vote from ${toHex(header.voter)}, which is not a configured discovery node`);
  }
  if (header.period !== check.period) {
    throw new DirectoryError('wrong-period', `vote is for period ${header.period}, expected ${check.period}`);
  }
  if (!suite.ed25519Verify(unverified.signature, signingDigest(suite, CONTEXT_VOTE, unverified.body), header.voter)) {
    throw new DirectoryError('bad-signature', 'vote signature does not verify with the voter key');
  }
  const kept: VerifiedDescriptor[] = [];
  const dropped: DroppedDescriptor[] = [];
  for (const d of descriptors) {
    try {
      const known = check.known?.get(toHex(suite.sha256(d.body)));
      if (known !== undefined && equalBytes(known.bytes, d.bytes)) {
        checkDescriptorTimes(known, check.descriptorsAt, check.policy);
        kept.push(known);
      } else {
        kept.push(verifyDescriptor(suite, d, check.descriptorsAt, check.policy));
      }
    } catch (e) {
      if (!(e instanceof DirectoryError)) throw e;
      dropped.push({ identity: d.claimed.identity, code: e.code });
    }
  }
  return {
    ...header,
    descriptors: kept,
    dropped,
    digest: suite.sha256(unverified.body),
    bytes: unverified.bytes,
  } as unknown as VerifiedVote;
}
