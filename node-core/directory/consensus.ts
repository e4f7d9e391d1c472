/**
 * The discovery consensus: one node list per period, computed the same way by every discovery
 * node from the votes, and signed by each (seed 004 §2: "sign the list with their discovery
 * keys … Client requires a fixed amount of signatures from known discovery nodes"; PSP reference
 * discovery/multisignatureconsensus.md; DESIGN.md §3 "Directory"). The reference's
 * DiscoveryListing/DiscoverySignature pair becomes ConsensusBody/SignedConsensus below, with
 * Ed25519 signatures and a deterministic computation instead of a Raft leader's list.
 *
 * computeConsensus(votes, params), deterministic for the same SET of votes in any order:
 *   - a node is listed iff its identity appears in votes from a strict majority of ALL configured
 *     discovery nodes (⌊n/2⌋ + 1 of n, whether or not they voted);
 *   - its entry comes from the descriptor carried by the most votes; ties go to the newest
 *     publishedAt, then the lowest descriptor digest;
 *   - flags: running and valid on every listed node (a majority holds a fresh, verified
 *     descriptor of it; reachability testing is not done yet, so neither flag is ever withheld),
 *     plus role flags: onion and oracle as claimed; discovery only for a configured discovery
 *     key; authority as claimed, or, when params.authorityKeys is given, only for those keys;
 *   - nodes sorted ascending by identity bytes;
 *   - validAfter = period × periodMs, freshUntil = validAfter + periodMs,
 *     validUntil = validAfter + 3 × periodMs.
 *
 * ConsensusBody (format 1):
 *   format u8 = 1 | network (u8 length | [a-z0-9-]) | period u64 | validAfter u64 |
 *   freshUntil u64 | validUntil u64 | count u32 (≤ MAX_CONSENSUS_NODES) | count × node
 *   node: identity 32 | onionKey 32 | roles u8 | flags u8 | bandwidth u32 | addresses (as in
 *         descriptor.ts) | version | nickname | descriptorDigest 32
 *   Nodes strictly ascending by identity: a reordered list or a repeated identity is
 *   'not-canonical', found while decoding, before any signature is looked at.
 *   validAfter < freshUntil ≤ validUntil, else 'malformed'.
 * SignedConsensus (format 1):
 *   format u8 = 1 | bodyLength u32 | body | count u8 (≤ MAX_CONSENSUS_SIGNATURES) |
 *   count × (signer 32 | signature 64), strictly ascending by signer ('not-canonical' otherwise).
 *   Each signature is Ed25519 over SHA-256("PSP-CONSENSUS-v1" ‖ body).
 *
 * verifyConsensus(suite, unverified, trust, now) — the checks, in order:
 *   1. the body decodes ('malformed', 'unsupported-version', 'not-canonical');
 *   2. body.network = trust.network ('wrong-network');
 *   3. now ≥ validAfter − maxClockSkewMs ('not-yet-valid'); now < validUntil ('expired');
 *   4. signatures (counted by countSignatures in node-core/util/signed.ts, with the same rules
 *      as access certificates). An entry whose signer is not in trust.discoveryKeys is ignored
 *      without being checked; an entry from a trusted key that does not verify is ignored too.
 *      Only valid signatures from trusted keys count, each key once. With at least `threshold`
 *      of them the consensus is accepted, and the ignored entries are listed in `ignored` (a
 *      proxy may have added junk; it cannot remove the valid ones' weight). Short of the
 *      threshold, the error says why, in this order of precedence:
 *        'bad-signature'      some entry from a trusted key failed to verify (tampering, or a
 *                             discovery node that signed a different body);
 *        'unknown-signer'     no such failure, but the unknown signers would have made up the
 *                             shortfall (typically a client whose list of discovery keys is old);
 *        'too-few-signatures' otherwise.
 *   A discovery node that signed a different body has, for this body, a signature that does not
 *   verify: it never counts toward the threshold.
 *   trust.threshold must be a strict majority of trust.discoveryKeys (RangeError otherwise), so
 *   two disjoint sets of signers can never both make a list acceptable.
 *
 * Does not: fetch, serve or cache consensus documents, or decide when to vote (voting.ts).
 */
import type { CryptoSuite } from '../crypto/api';
import { Writer, assertBytes, toHex } from '../util/bytes';
import { NETWORK_FIELD, checkAscii, checkKeyList, checkTime, compareBytes, writeAscii, writeTime } from '../util/codec';
import {
  type IgnoredSignature,
  type MultiSignedLayout,
  canonicalSignatures as canonicalEntries,
  countSignatures,
  encodeMultiSigned,
  parseMultiSigned,
  signEntry,
  verifyEntry,
} from '../util/signed';
import { type NodeFacts, bitsToRoles, checkOnionKey, checkU32, readNodeInfo, readOnionKey, rolesToBits, writeNodeInfo } from './descriptor';
import { DirectoryError } from './errors';
import { CONTEXT_CONSENSUS, copy, expectEnd, fail, openBody, readAscii, readTime } from './internal';
import type { VerifiedVote } from './vote';

export const CONSENSUS_FORMAT = 1;
export const SIGNED_CONSENSUS_FORMAT = 1;
export const MAX_CONSENSUS_NODES = 16384;
export const MAX_CONSENSUS_SIGNATURES = 64;
/** Longest node entry: 32+32+1+1+4 + 1+4×19 + 33 + 33 + 32. */
const MAX_NODE_ENTRY_LENGTH = 245;
export const MAX_CONSENSUS_BODY_LENGTH = 1 + 33 + 4 * 8 + 4 + MAX_CONSENSUS_NODES * MAX_NODE_ENTRY_LENGTH;
export const MAX_SIGNED_CONSENSUS_LENGTH = 1 + 4 + MAX_CONSENSUS_BODY_LENGTH + 1 + MAX_CONSENSUS_SIGNATURES * 96;

const CONSENSUS_BODY = { what: 'consensus', format: CONSENSUS_FORMAT, maxLength: MAX_CONSENSUS_BODY_LENGTH };
const SIGNED_CONSENSUS: MultiSignedLayout = {
  what: 'signed consensus',
  format: SIGNED_CONSENSUS_FORMAT,
  lengthBits: 32,
  maxLength: MAX_SIGNED_CONSENSUS_LENGTH,
  maxBodyLength: MAX_CONSENSUS_BODY_LENGTH,
  maxSignatures: MAX_CONSENSUS_SIGNATURES,
};

export const CONSENSUS_FLAGS = ['running', 'valid', 'onion', 'discovery', 'authority', 'oracle'] as const;
export type ConsensusFlag = (typeof CONSENSUS_FLAGS)[number];
export const FLAG_BITS: Readonly<Record<ConsensusFlag, number>> = Object.freeze({
  running: 1,
  valid: 2,
  onion: 4,
  discovery: 8,
  authority: 16,
  oracle: 32,
});
const ALL_FLAG_BITS = 0x3f;

/** One listed node: the facts of the descriptor it was taken from, and what the consensus adds. */
export interface ConsensusNode extends NodeFacts {
  /** What the discovery nodes grant it (see the header); in CONSENSUS_FLAGS order. */
  readonly flags: readonly ConsensusFlag[];
  /** SHA-256 of the descriptor body this entry was taken from. */
  readonly descriptorDigest: Uint8Array;
}

export interface ConsensusBody {
  readonly network: string;
  readonly period: number;
  readonly validAfter: number;
  readonly freshUntil: number;
  readonly validUntil: number;
  /** Ascending by identity. */
  readonly nodes: readonly ConsensusNode[];
}

export interface ConsensusParams {
  readonly network: string;
  readonly period: number;
  readonly periodMs: number;
  /** Every configured discovery node (the majority is counted over all of them). */
  readonly discoveryKeys: readonly Uint8Array[];
  /** When given, only these identities get the authority flag. */
  readonly authorityKeys?: readonly Uint8Array[];
}

export interface ConsensusSignature {
  readonly signer: Uint8Array;
  readonly signature: Uint8Array;
}

export interface ConsensusTrust {
  readonly network: string;
  /** The discovery keys built into the network configuration. */
  readonly discoveryKeys: readonly Uint8Array[];
  /** Valid signatures needed: a strict majority of discoveryKeys, at most all of them. */
  readonly threshold: number;
}

export interface VerifyConsensusOptions {
  /** How far before validAfter the consensus is already accepted (default 0). */
  readonly maxClockSkewMs?: number;
}

export interface UnverifiedConsensus {
  /** What the body claims; nothing here is trustworthy until verifyConsensus. */
  readonly claimed: ConsensusBody;
  readonly body: Uint8Array;
  readonly signatures: readonly ConsensusSignature[];
  readonly bytes: Uint8Array;
}

declare const verifiedConsensusBrand: unique symbol;

export type { IgnoredSignature };

export interface VerifiedConsensus extends ConsensusBody {
  readonly [verifiedConsensusBrand]: true;
  readonly body: Uint8Array;
  /** SHA-256(body): equal digests mean equal lists. */
  readonly bodyDigest: Uint8Array;
  /** The signed consensus as verified, to serve unchanged. */
  readonly bytes: Uint8Array;
  /** Trusted keys whose signatures verified, ascending. */
  readonly signers: readonly Uint8Array[];
  readonly ignored: readonly IgnoredSignature[];
}

// ---------------------------------------------------------------------------------------------
// Validity window and computation

export function consensusWindow(period: number, periodMs: number): { validAfter: number; freshUntil: number; validUntil: number } {
  checkTime(period, 'period');
  checkTime(periodMs, 'periodMs');
  if (periodMs === 0) throw new RangeError('periodMs must be positive');
  const validAfter = period * periodMs;
  const validUntil = validAfter + 3 * periodMs;
  if (!Number.isSafeInteger(validUntil)) throw new RangeError('period × periodMs is out of range');
  return { validAfter, freshUntil: validAfter + periodMs, validUntil };
}

/** ⌊n/2⌋ + 1: the strict majority of n. */
export function majorityOf(n: number): number {
  return Math.floor(n / 2) + 1;
}

function flagsToBits(flags: readonly ConsensusFlag[]): number {
  let bits = 0;
  for (const f of flags) bits |= FLAG_BITS[f];
  return bits;
}

function bitsToFlags(bits: number): ConsensusFlag[] {
  return CONSENSUS_FLAGS.filter((f) => (bits & FLAG_BITS[f]) !== 0);
}

/**
 * The consensus body for `params.period` from verified votes (see the header for the rules).
 * RangeError when a vote is for another network or period, comes from a key that is not a
 * configured discovery node, or two votes come from the same voter.
 */
export function computeConsensus(votes: readonly VerifiedVote[], params: ConsensusParams): ConsensusBody {
  if (!Array.isArray(votes)) throw new TypeError('votes must be an array');
  if (typeof params !== 'object' || params === null) throw new TypeError('params must be an object');
  checkAscii(params.network, NETWORK_FIELD, 'params.network');
  const window = consensusWindow(params.period, params.periodMs);
  const discovery = checkKeyList(params.discoveryKeys, 'params.discoveryKeys', { nonEmpty: true });
  const discoverySet = new Set(discovery.map(toHex));
  const authoritySet = params.authorityKeys === undefined ? undefined : new Set(checkKeyList(params.authorityKeys, 'params.authorityKeys').map(toHex));

  const voters = new Set<string>();
  for (const [i, v] of votes.entries()) {
    if (typeof v !== 'object' || v === null || !Array.isArray(v.descriptors)) throw new TypeError(`votes[${i}] must be a VerifiedVote`);
    if (v.network !== params.network) throw new RangeError(`votes[${i}] is for network '${v.network}'`);
    if (v.period !== params.period) throw new RangeError(`votes[${i}] is for period ${v.period}, not ${params.period}`);
    const voter = toHex(v.voter);
    if (!discoverySet.has(voter)) throw new RangeError(`votes[${i}] comes from a key that is not a configured discovery node`);
    if (voters.has(voter)) throw new RangeError(`votes[${i}] is a second vote from the same voter`);
    voters.add(voter);
  }

  // identity → descriptor digest → { descriptor, number of votes carrying it }
  const tally = new Map<string, Map<string, { d: VerifiedVote['descriptors'][number]; count: number }>>();
  for (const v of votes) {
    const seen = new Set<string>();
    for (const d of v.descriptors) {
      const id = toHex(d.identity);
      if (seen.has(id)) throw new RangeError('a vote carries two descriptors for one identity');
      seen.add(id);
      let byDigest = tally.get(id);
      if (byDigest === undefined) tally.set(id, (byDigest = new Map()));
      const dg = toHex(d.digest);
      const entry = byDigest.get(dg);
      if (entry === undefined) byDigest.set(dg, { d, count: 1 });
      else entry.count++;
    }
  }

  const need = majorityOf(discovery.length);
  const nodes: ConsensusNode[] = [];
  for (const [id, byDigest] of tally) {
    let total = 0;
    let best: { d: VerifiedVote['descriptors'][number]; count: number } | undefined;
    for (const e of byDigest.values()) {
      total += e.count;
      if (
        best === undefined ||
        e.count > best.count ||
        (e.count === best.count &&
          (e.d.publishedAt > best.d.publishedAt || (e.d.publishedAt === best.d.publishedAt && compareBytes(e.d.digest, best.d.digest) < 0)))
      ) {
        best = e;
      }
    }
    if (best === undefined || total < need) continue;
    const d = best.d;
    const flags: ConsensusFlag[] = ['running', 'valid'];
    if (d.roles.includes('onion')) flags.push('onion');
    if (d.roles.includes('discovery') && discoverySet.has(id)) flags.push('discovery');
    if (d.roles.includes('authority') && (authoritySet === undefined || authoritySet.has(id))) flags.push('authority');
    if (d.roles.includes('oracle')) flags.push('oracle');
    nodes.push({
      identity: copy(d.identity),
      onionKey: copy(d.onionKey),
      addresses: d.addresses.map((a) => ({ host: a.host, port: a.port })),
      roles: [...d.roles],
      flags,
      bandwidth: d.bandwidth,
      version: d.version,
      nickname: d.nickname,
      descriptorDigest: copy(d.digest),
    });
  }
  nodes.sort((a, b) => compareBytes(a.identity, b.identity));
  if (nodes.length > MAX_CONSENSUS_NODES) throw new RangeError(`more than ${MAX_CONSENSUS_NODES} nodes qualify`);
  return { network: params.network, period: params.period, ...window, nodes };
}

// ---------------------------------------------------------------------------------------------
// ConsensusBody codec

function checkFlags(flags: unknown, name: string): asserts flags is ConsensusFlag[] {
  if (!Array.isArray(flags)) throw new TypeError(`${name} must be an array of flag names`);
  const seen = new Set<string>();
  for (const [i, f] of flags.entries()) {
    if (typeof f !== 'string' || !(CONSENSUS_FLAGS as readonly string[]).includes(f)) {
      throw new RangeError(`${name}[${i}] must be one of ${CONSENSUS_FLAGS.join(', ')}`);
    }
    if (seen.has(f)) throw new RangeError(`${name}[${i}] repeats the flag ${f}`);
    seen.add(f);
  }
}

/** Encodes a consensus body. Nodes must be strictly ascending by identity (RangeError otherwise). */
export function encodeConsensusBody(body: ConsensusBody): Uint8Array {
  if (typeof body !== 'object' || body === null) throw new TypeError('body must be an object');
  checkAscii(body.network, NETWORK_FIELD, 'body.network');
  checkTime(body.period, 'body.period');
  checkTime(body.validAfter, 'body.validAfter');
  checkTime(body.freshUntil, 'body.freshUntil');
  checkTime(body.validUntil, 'body.validUntil');
  if (!(body.validAfter < body.freshUntil && body.freshUntil <= body.validUntil)) {
    throw new RangeError('body times must satisfy validAfter < freshUntil ≤ validUntil');
  }
  if (!Array.isArray(body.nodes)) throw new TypeError('body.nodes must be an array');
  if (body.nodes.length > MAX_CONSENSUS_NODES) throw new RangeError(`body.nodes holds more than ${MAX_CONSENSUS_NODES} nodes`);
  const w = new Writer();
  w.u8(CONSENSUS_FORMAT);
  writeAscii(w, body.network, NETWORK_FIELD, 'body.network');
  writeTime(w, body.period, 'body.period');
  writeTime(w, body.validAfter, 'body.validAfter');
  writeTime(w, body.freshUntil, 'body.freshUntil');
  writeTime(w, body.validUntil, 'body.validUntil');
  w.u32(body.nodes.length);
  body.nodes.forEach((n: ConsensusNode, i) => {
    const name = `body.nodes[${i}]`;
    if (typeof n !== 'object' || n === null) throw new TypeError(`${name} must be an object`);
    assertBytes(n.identity, `${name}.identity`, 32);
    const prev = body.nodes[i - 1];
    if (prev !== undefined && compareBytes(prev.identity, n.identity) >= 0) {
      throw new RangeError(`${name} is not after the previous node in identity order`);
    }
    checkOnionKey(n.onionKey, `${name}.onionKey`);
    checkFlags(n.flags, `${name}.flags`);
    checkU32(n.bandwidth, `${name}.bandwidth`);
    assertBytes(n.descriptorDigest, `${name}.descriptorDigest`, 32);
    w.bytes(n.identity).bytes(n.onionKey).u8(rolesToBits(n.roles, `${name}.roles`)).u8(flagsToBits(n.flags)).u32(n.bandwidth);
    writeNodeInfo(w, n, name);
    w.bytes(n.descriptorDigest);
  });
  return w.finish();
}

/** Decodes a consensus body (layout and canonical order). Throws DirectoryError. */
export function decodeConsensusBody(bytes: Uint8Array): ConsensusBody {
  const { what } = CONSENSUS_BODY;
  const r = openBody(bytes, 'bytes', CONSENSUS_BODY);
  const network = readAscii(r, NETWORK_FIELD, `${what} network`);
  const period = readTime(r, 'period');
  const validAfter = readTime(r, 'validAfter');
  const freshUntil = readTime(r, 'freshUntil');
  const validUntil = readTime(r, 'validUntil');
  if (!(validAfter < freshUntil && freshUntil <= validUntil)) {
    throw new DirectoryError('malformed', `${what}: times must satisfy validAfter < freshUntil ≤ validUntil`);
  }
  const count = r.u32('node count');
  if (count > MAX_CONSENSUS_NODES) throw new DirectoryError('malformed', `${what}: ${count} nodes, at most ${MAX_CONSENSUS_NODES}`);
  const nodes: ConsensusNode[] = [];
  for (let i = 0; i < count; i++) {
    const at = `${what} node ${i}`;
    const identity = r.bytes(32, `${at} identity`).slice();
    const prev = nodes[i - 1];
    if (prev !== undefined) {
      const c = compareBytes(prev.identity, identity);
      if (c === 0) throw new DirectoryError('not-canonical', `${at} repeats the identity of the node before it`);
      if (c > 0) throw new DirectoryError('not-canonical', `${at} is out of ascending identity order`);
    }
    const onionKey = readOnionKey(r, `${at} onion key`, at);
    const roles = bitsToRoles(r.u8(`${at} roles`), at);
    const flagBits = r.u8(`${at} flags`);
    if ((flagBits & ~ALL_FLAG_BITS) !== 0) throw new DirectoryError('malformed', `${at}: unknown flag bits 0x${flagBits.toString(16)}`);
    const bandwidth = r.u32(`${at} bandwidth`);
    const { addresses, version, nickname } = readNodeInfo(r, at);
    const descriptorDigest = r.bytes(32, `${at} descriptor digest`).slice();
    nodes.push({ identity, onionKey, addresses, roles, flags: bitsToFlags(flagBits), bandwidth, version, nickname, descriptorDigest });
  }
  expectEnd(r, what);
  return { network, period, validAfter, freshUntil, validUntil, nodes };
}

// ---------------------------------------------------------------------------------------------
// Signatures and SignedConsensus codec

/** Signs a consensus body with a discovery node's secret key (32-byte Ed25519 seed). */
export function signConsensus(suite: CryptoSuite, body: Uint8Array, secretKey: Uint8Array): ConsensusSignature {
  assertBytes(body, 'body');
  assertBytes(secretKey, 'secretKey', 32);
  return signEntry(suite, CONTEXT_CONSENSUS, body, secretKey);
}

/** True when `sig` is a valid signature by `sig.signer` over `body`. Never throws for bad bytes. */
export function verifyConsensusSignature(suite: CryptoSuite, body: Uint8Array, sig: ConsensusSignature): boolean {
  return verifyEntry(suite, CONTEXT_CONSENSUS, body, sig);
}

/**
 * Sorts and deduplicates signatures by signer (an identical repeat is dropped; two different
 * signatures from one signer are a RangeError).
 */
export function canonicalSignatures(signatures: readonly ConsensusSignature[], name = 'signatures'): ConsensusSignature[] {
  return canonicalEntries(signatures, name);
}

/** Encodes a signed consensus: the body (checked with decodeConsensusBody) and its signatures. */
export function encodeSignedConsensus(body: Uint8Array, signatures: readonly ConsensusSignature[]): Uint8Array {
  assertBytes(body, 'body');
  try {
    decodeConsensusBody(body);
  } catch (e) {
    if (e instanceof DirectoryError) throw new RangeError(`body is not a valid consensus body: ${e.message}`);
    throw e;
  }
  return encodeMultiSigned(SIGNED_CONSENSUS, body, signatures);
}

/** Parses a signed consensus (layout, canonical order of nodes and signatures). Throws DirectoryError. */
export function parseSignedConsensus(bytes: Uint8Array): UnverifiedConsensus {
  const { body, signatures } = parseMultiSigned(bytes, SIGNED_CONSENSUS, fail);
  const claimed = decodeConsensusBody(body);
  return { claimed, body, signatures, bytes: copy(bytes) };
}

/** Validates a trust configuration; returns copies of the keys. RangeError/TypeError when unusable. */
export function checkConsensusTrust(trust: ConsensusTrust, name = 'trust'): { network: string; keys: Uint8Array[]; threshold: number } {
  if (typeof trust !== 'object' || trust === null) throw new TypeError(`${name} must be an object`);
  checkAscii(trust.network, NETWORK_FIELD, `${name}.network`);
  const keys = checkKeyList(trust.discoveryKeys, `${name}.discoveryKeys`, { nonEmpty: true });
  const t = trust.threshold;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < majorityOf(keys.length) || t > keys.length) {
    throw new RangeError(
      `${name}.threshold must be an integer from ${majorityOf(keys.length)} (a strict majority) to ${keys.length}, got ${String(t)}`,
    );
  }
  return { network: trust.network, keys, threshold: t };
}

/** Verifies a parsed consensus at `now` against a trust configuration (see the header). */
export function verifyConsensus(
  suite: CryptoSuite,
  unverified: UnverifiedConsensus,
  trust: ConsensusTrust,
  now: number,
  options: VerifyConsensusOptions = {},
): VerifiedConsensus {
  if (typeof unverified !== 'object' || unverified === null || !Array.isArray(unverified.signatures)) {
    throw new TypeError('unverified must come from parseSignedConsensus');
  }
  const { network, keys, threshold } = checkConsensusTrust(trust);
  checkTime(now, 'now');
  const skew = options.maxClockSkewMs ?? 0;
  checkTime(skew, 'options.maxClockSkewMs');
  const body = decodeConsensusBody(unverified.body);
  if (body.network !== network) {
    throw new DirectoryError('wrong-network', `consensus is for network '${body.network}', expected '${network}'`);
  }
  if (now + skew < body.validAfter) throw new DirectoryError('not-yet-valid', `consensus is valid after ${body.validAfter} (now ${now})`);
  if (now >= body.validUntil) throw new DirectoryError('expired', `consensus expired at ${body.validUntil} (now ${now})`);

  const { signers, ignored } = countSignatures(
    suite,
    {
      context: CONTEXT_CONSENSUS,
      body: unverified.body,
      signatures: unverified.signatures,
      name: 'unverified.signatures',
      trusted: keys,
      threshold,
      what: 'consensus',
    },
    fail,
  );
  return {
    ...body,
    body: unverified.body,
    bodyDigest: suite.sha256(unverified.body),
    bytes: unverified.bytes,
    signers,
    ignored,
  } as unknown as VerifiedConsensus;
}

/** True while the consensus is the freshest a node should expect (now < freshUntil). */
export function isConsensusFresh(c: ConsensusBody, now: number): boolean {
  checkTime(now, 'now');
  return now < c.freshUntil;
}
