/**
 * Discovery votes: creation (newest descriptor per node, identity order, reference-time
 * filtering), the signed layout, and verifyVote's checks and per-descriptor drops.
 */
import { describe, expect, it } from 'vitest';
import { type VerifiedDescriptor, type VoteCheck, createVote, parseVote, verifyVote } from '../../node-core/directory';
import { toHex } from '../../node-core/util/bytes';
import {
  DESCRIPTORS_AT,
  HOUR,
  NETWORK,
  PERIOD,
  POLICY,
  T0,
  discovery,
  discoveryKeys,
  expectDirectoryError,
  keyPair,
  onion,
  signedDescriptor,
  signedVoteOf,
  suite,
  verifiedDescriptor,
} from './helpers';
import { rawSign, rawSignedVote, rawVoteBody } from './raw';

const voter = discovery[0]!;
const check: VoteCheck = { network: NETWORK, discoveryKeys, period: PERIOD, descriptorsAt: DESCRIPTORS_AT, policy: POLICY };
const verify = (bytes: Uint8Array, over: Partial<VoteCheck> = {}) => verifyVote(suite, parseVote(bytes), { ...check, ...over });
const descs = onion.map((n) => verifiedDescriptor(n));

function signedRawVote(descriptors: readonly Uint8Array[], over: { network?: string; period?: bigint; signer?: typeof voter } = {}): Uint8Array {
  const body = rawVoteBody(over.network ?? NETWORK, voter.publicKey, over.period ?? BigInt(PERIOD), descriptors);
  return rawSignedVote(body, rawSign('PSP-VOTE-v1', body, (over.signer ?? voter).secretKey));
}

const byIdentity = (a: VerifiedDescriptor, b: VerifiedDescriptor): number => (toHex(a.identity) < toHex(b.identity) ? -1 : 1);

describe('createVote', () => {
  it('carries the newest descriptor per node, in identity order, and verifies at a receiver', () => {
    const older = verifiedDescriptor(onion[0]!, { publishedAt: T0 - 1000 });
    const { bytes, vote } = createVote(
      suite,
      { network: NETWORK, period: PERIOD, descriptors: [...descs].reverse().concat(older), descriptorsAt: DESCRIPTORS_AT, policy: POLICY },
      voter.secretKey,
    );
    const expected = [...descs].sort(byIdentity).map((d) => toHex(d.bytes));
    expect(vote.descriptors.map((d) => toHex(d.bytes))).toEqual(expected);
    const v = verify(bytes);
    expect(v.descriptors.map((d) => toHex(d.bytes))).toEqual(expected);
    expect(v.dropped).toEqual([]);
    expect(toHex(v.digest)).toBe(toHex(vote.digest));
    expect(toHex(v.voter)).toBe(toHex(voter.publicKey));
  });

  it('matches the documented layout and is deterministic', () => {
    const bytes = signedVoteOf(voter, descs);
    const sorted = [...descs].sort(byIdentity).map((d) => d.bytes);
    expect(toHex(bytes)).toBe(toHex(signedRawVote(sorted)));
    expect(toHex(signedVoteOf(voter, [...descs].reverse()))).toBe(toHex(bytes));
  });

  it('leaves out descriptors that are not valid at the reference time', () => {
    const expired = verifiedDescriptor(onion[1]!, { publishedAt: T0 - 2 * HOUR, validUntil: T0 }, T0 - HOUR);
    const future = verifiedDescriptor(onion[2]!, { publishedAt: DESCRIPTORS_AT + HOUR, validUntil: DESCRIPTORS_AT + 2 * HOUR }, DESCRIPTORS_AT + HOUR);
    const { vote } = createVote(
      suite,
      { network: NETWORK, period: PERIOD, descriptors: [descs[0]!, expired, future], descriptorsAt: DESCRIPTORS_AT, policy: POLICY },
      voter.secretKey,
    );
    expect(vote.descriptors.map((d) => toHex(d.identity))).toEqual([toHex(onion[0]!.publicKey)]);
  });

  it('checks its arguments', () => {
    const input = { network: NETWORK, period: PERIOD, descriptors: descs, descriptorsAt: DESCRIPTORS_AT, policy: POLICY };
    expect(() => createVote(suite, { ...input, network: 'Bad Net' }, voter.secretKey)).toThrow(RangeError);
    expect(() => createVote(suite, { ...input, period: -1 }, voter.secretKey)).toThrow(RangeError);
    expect(() => createVote(suite, input, new Uint8Array(31))).toThrow(RangeError);
  });
});

describe('verifyVote', () => {
  it('refuses another network, an unconfigured voter, another period, a bad signature', () => {
    const bytes = signedVoteOf(voter, descs);
    expectDirectoryError(() => verify(bytes, { network: 'othernet' }), 'wrong-network');
    expectDirectoryError(() => verify(bytes, { discoveryKeys: discoveryKeys.slice(1) }), 'unknown-signer');
    expectDirectoryError(() => verify(bytes, { period: PERIOD + 1 }), 'wrong-period');
    const forged = bytes.slice();
    forged[forged.length - 5]! ^= 0x40;
    expectDirectoryError(() => verify(forged), 'bad-signature');
    const stranger = keyPair('stranger');
    expectDirectoryError(() => verify(signedRawVote([], { signer: stranger })), 'bad-signature');
  });

  it('refuses descriptors out of identity order or repeated, before any signature check', () => {
    const sorted = [...descs].sort(byIdentity).map((d) => d.bytes);
    const swapped = [sorted[1]!, sorted[0]!, ...sorted.slice(2)];
    expectDirectoryError(() => parseVote(signedRawVote(swapped)), 'not-canonical');
    const repeated = [sorted[0]!, sorted[0]!];
    expectDirectoryError(() => parseVote(signedRawVote(repeated)), 'not-canonical');
    const twoOfOne = [signedDescriptor(onion[0]!), signedDescriptor(onion[0]!, { bandwidth: 7 })];
    expectDirectoryError(() => parseVote(signedRawVote(twoOfOne)), 'not-canonical');
  });

  it('drops carried descriptors that fail, and keeps the rest of the vote', () => {
    const sorted = [...descs].sort(byIdentity).map((d) => d.bytes.slice());
    sorted[2]![sorted[2]!.length - 1]! ^= 1; // forged descriptor signature
    const v = verify(signedRawVote(sorted));
    expect(v.descriptors).toHaveLength(5);
    expect(v.dropped).toHaveLength(1);
    expect(v.dropped[0]!.code).toBe('bad-signature');

    const stale = signedDescriptor(onion[0]!, { publishedAt: T0 - 3 * HOUR, validUntil: T0 });
    const v2 = verify(signedRawVote([stale]));
    expect(v2.descriptors).toHaveLength(0);
    expect(v2.dropped.map((d) => d.code)).toEqual(['expired']);
  });

  it('reuses known descriptors only when their bytes are identical', () => {
    const d0 = verifiedDescriptor(onion[0]!);
    const known = new Map([[toHex(d0.digest), d0]]);
    const ok = verify(signedRawVote([d0.bytes]), { known });
    expect(ok.descriptors[0]).toBe(d0);
    const forged = d0.bytes.slice();
    forged[forged.length - 1]! ^= 1; // same body (same digest), wrong signature
    const v = verify(signedRawVote([forged]), { known });
    expect(v.descriptors).toHaveLength(0);
    expect(v.dropped.map((d) => d.code)).toEqual(['bad-signature']);
  });

  it('refuses truncated and over-long input', () => {
    const bytes = signedVoteOf(voter, descs.slice(0, 1));
    for (let n = 0; n < bytes.length; n += 7) expectDirectoryError(() => parseVote(bytes.subarray(0, n)), 'malformed');
    expectDirectoryError(() => parseVote(Uint8Array.of(...bytes, 1)), 'malformed');
    const body = rawVoteBody(NETWORK, voter.publicKey, BigInt(PERIOD), [], 2);
    expectDirectoryError(() => parseVote(rawSignedVote(body, new Uint8Array(64))), 'unsupported-version');
  });
});
