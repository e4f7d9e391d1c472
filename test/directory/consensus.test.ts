/**
 * The consensus: computation rules (majority of ALL configured discovery nodes, descriptor
 * choice, flags, window), determinism under any vote order, the body and signed codecs, and
 * verifyConsensus's semantics for every error code.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  type ConsensusBody,
  type ConsensusParams,
  type ConsensusTrust,
  computeConsensus,
  consensusWindow,
  decodeConsensusBody,
  encodeConsensusBody,
  encodeSignedConsensus,
  parseSignedConsensus,
  signConsensus,
  verifyConsensus,
  verifyConsensusSignature,
} from '../../node-core/directory';
import { toHex } from '../../node-core/util/bytes';
import {
  HOUR,
  NETWORK,
  PERIOD,
  PERIOD_MS,
  T0,
  discovery,
  discoveryKeys,
  expectDirectoryError,
  keyPair,
  onion,
  shuffled,
  suite,
  verifiedDescriptor,
  voteOf,
} from './helpers';
import { rawSignedConsensus } from './raw';

const params: ConsensusParams = { network: NETWORK, period: PERIOD, periodMs: PERIOD_MS, discoveryKeys };
const trust: ConsensusTrust = { network: NETWORK, discoveryKeys, threshold: 3 };
const descs = onion.map((n) => verifiedDescriptor(n));
const ids = (body: ConsensusBody): string[] => body.nodes.map((n) => toHex(n.identity));
const sortedHex = (keys: Uint8Array[]): string[] => keys.map(toHex).sort();

/** A body from all five discovery nodes voting for every onion node. */
function fullBody(): Uint8Array {
  return encodeConsensusBody(computeConsensus(discovery.map((d) => voteOf(d, descs)), params));
}

function signedBy(body: Uint8Array, signers: readonly (typeof discovery)[number][]): Uint8Array {
  return encodeSignedConsensus(body, signers.map((s) => signConsensus(suite, body, s.secretKey)));
}

const now = consensusWindow(PERIOD, PERIOD_MS).validAfter + 1000;

describe('computeConsensus', () => {
  it('lists a node iff a strict majority of ALL configured discovery nodes carry it', () => {
    const [a, b, c, d, e] = descs as [typeof descs[0], typeof descs[0], typeof descs[0], typeof descs[0], typeof descs[0]];
    const votes = [
      voteOf(discovery[0]!, [a, b, c]),
      voteOf(discovery[1]!, [a, b, d]),
      voteOf(discovery[2]!, [a, c, e]),
      voteOf(discovery[3]!, [a, b]),
    ];
    const body = computeConsensus(votes, params);
    // a: 4 votes, b: 3, c: 2, d: 1, e: 1 → a and b.
    expect(ids(body)).toEqual(sortedHex([a.identity, b.identity]));
    // Three voters out of five: a node must be in all three to reach 3.
    const three = computeConsensus(votes.slice(0, 3), params);
    expect(ids(three)).toEqual([toHex(a.identity)]);
    // Two voters can never list anything when five are configured.
    expect(computeConsensus(votes.slice(0, 2), params).nodes).toEqual([]);
  });

  it('takes the descriptor most votes carry; ties go to the newest, then the lowest digest', () => {
    const n = onion[0]!;
    const v1 = verifiedDescriptor(n, { bandwidth: 1 });
    const v2 = verifiedDescriptor(n, { bandwidth: 2, publishedAt: T0 + 1 });
    const votes = [voteOf(discovery[0]!, [v1]), voteOf(discovery[1]!, [v1]), voteOf(discovery[2]!, [v2])];
    expect(computeConsensus(votes, params).nodes[0]!.bandwidth).toBe(1); // 2 votes beat 1, though older
    const tie = [voteOf(discovery[0]!, [v1]), voteOf(discovery[1]!, [v2]), voteOf(discovery[2]!, [v1]), voteOf(discovery[3]!, [v2])];
    expect(computeConsensus(tie, params).nodes[0]!.bandwidth).toBe(2); // 2 : 2 → newest
    const w1 = verifiedDescriptor(n, { bandwidth: 10 });
    const w2 = verifiedDescriptor(n, { bandwidth: 20 });
    const lower = toHex(w1.digest) < toHex(w2.digest) ? 10 : 20;
    const tie2 = [voteOf(discovery[0]!, [w1]), voteOf(discovery[1]!, [w2]), voteOf(discovery[2]!, [w2]), voteOf(discovery[3]!, [w1])];
    const chosen = computeConsensus(tie2, params).nodes[0]!;
    expect(chosen.bandwidth).toBe(lower); // same age → lowest digest
    expect(toHex(chosen.descriptorDigest)).toBe(toHex(lower === 10 ? w1.digest : w2.digest));
  });

  it('grants flags: running and valid; roles as claimed, discovery only to configured keys, authority only to authorityKeys when given', () => {
    const disc = verifiedDescriptor(discovery[0]!, { roles: ['discovery', 'onion'] });
    const fakeDisc = verifiedDescriptor(onion[0]!, { roles: ['discovery', 'authority', 'oracle'] });
    const auth = keyPair('authority-0');
    const realAuth = verifiedDescriptor(auth, { roles: ['authority'] });
    const votes = discovery.slice(0, 3).map((d) => voteOf(d, [disc, fakeDisc, realAuth]));
    const byId = (b: ConsensusBody, k: Uint8Array) => b.nodes.find((x) => toHex(x.identity) === toHex(k))!;
    const open = computeConsensus(votes, params);
    expect(byId(open, discovery[0]!.publicKey).flags).toEqual(['running', 'valid', 'onion', 'discovery']);
    expect(byId(open, onion[0]!.publicKey).flags).toEqual(['running', 'valid', 'authority', 'oracle']);
    expect(byId(open, onion[0]!.publicKey).roles).toEqual(['discovery', 'authority', 'oracle']);
    const strict = computeConsensus(votes, { ...params, authorityKeys: [auth.publicKey] });
    expect(byId(strict, onion[0]!.publicKey).flags).toEqual(['running', 'valid', 'oracle']);
    expect(byId(strict, auth.publicKey).flags).toEqual(['running', 'valid', 'authority']);
  });

  it('sets the window from the period: validAfter = start, fresh for 1 period, valid for 3', () => {
    const body = computeConsensus([], params);
    expect(body.validAfter).toBe(PERIOD * PERIOD_MS);
    expect(body.freshUntil).toBe(PERIOD * PERIOD_MS + PERIOD_MS);
    expect(body.validUntil).toBe(PERIOD * PERIOD_MS + 3 * PERIOD_MS);
    expect(body.network).toBe(NETWORK);
    expect(body.period).toBe(PERIOD);
  });

  it('gives identical bytes for the same set of votes in any order (property)', () => {
    const pool = [...descs, verifiedDescriptor(onion[0]!, { bandwidth: 5 }), verifiedDescriptor(onion[1]!, { publishedAt: T0 + 5 })];
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: pool.length - 1 }), { maxLength: pool.length }), { minLength: 1, maxLength: 5 }),
        fc.integer(),
        (choices, seed) => {
          const votes = choices.map((c, i) => voteOf(discovery[i]!, c.map((j) => pool[j]!)));
          const a = encodeConsensusBody(computeConsensus(votes, params));
          const b = encodeConsensusBody(computeConsensus(shuffled(votes, seed), params));
          expect(toHex(b)).toBe(toHex(a));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses votes that do not belong together (programming errors)', () => {
    const v = voteOf(discovery[0]!, descs);
    expect(() => computeConsensus([v, v], params)).toThrow(/same voter/);
    expect(() => computeConsensus([voteOf(discovery[1]!, descs, PERIOD + 1)], params)).toThrow(/period/);
    expect(() => computeConsensus([voteOf(discovery[1]!, descs, PERIOD, 'othernet')], params)).toThrow(/network/);
    expect(() => computeConsensus([voteOf(keyPair('stranger'), descs)], params)).toThrow(/not a configured/);
    expect(() => computeConsensus([], { ...params, discoveryKeys: [] })).toThrow(RangeError);
    expect(() => computeConsensus([], { ...params, periodMs: 0 })).toThrow(RangeError);
  });
});

describe('consensus body codec', () => {
  it('round-trips', () => {
    const bytes = fullBody();
    const body = decodeConsensusBody(bytes);
    expect(body.nodes).toHaveLength(onion.length);
    expect(toHex(encodeConsensusBody(body))).toBe(toHex(bytes));
  });

  it('refuses reordered and repeated nodes as not-canonical', () => {
    const body = decodeConsensusBody(fullBody());
    const header = encodeConsensusBody({ ...body, nodes: [] }).length;
    const one = (i: number) => encodeConsensusBody({ ...body, nodes: [body.nodes[i]!] }).subarray(header);
    const withNodes = (parts: Uint8Array[]) => {
      const head = encodeConsensusBody({ ...body, nodes: [] });
      const h = head.slice();
      new DataView(h.buffer).setUint32(h.length - 4, parts.length);
      return Uint8Array.from([...h, ...parts.flatMap((p) => [...p])]);
    };
    expect(() => decodeConsensusBody(withNodes([one(0), one(1)]))).not.toThrow();
    expectDirectoryError(() => decodeConsensusBody(withNodes([one(1), one(0)])), 'not-canonical');
    expectDirectoryError(() => decodeConsensusBody(withNodes([one(0), one(0)])), 'not-canonical');
    expect(() => encodeConsensusBody({ ...body, nodes: [body.nodes[1]!, body.nodes[0]!] })).toThrow(RangeError);
  });

  it('refuses bad times and unknown flags', () => {
    const body = decodeConsensusBody(fullBody());
    expect(() => encodeConsensusBody({ ...body, freshUntil: body.validAfter })).toThrow(RangeError);
    const bytes = encodeConsensusBody(body).slice();
    // freshUntil sits after format(1) network(1+7) period(8) validAfter(8).
    const view = new DataView(bytes.buffer);
    const off = 1 + 1 + NETWORK.length + 8 + 8;
    view.setBigUint64(off, BigInt(body.validUntil + 1));
    expectDirectoryError(() => decodeConsensusBody(bytes), 'malformed');
    const flagsAt = encodeConsensusBody({ ...body, nodes: [] }).length + 32 + 32 + 1;
    const oneNode = encodeConsensusBody({ ...body, nodes: [body.nodes[0]!] }).slice();
    oneNode[flagsAt] = 0x40;
    expectDirectoryError(() => decodeConsensusBody(oneNode), 'malformed');
  });
});

describe('signed consensus and verifyConsensus', () => {
  const body = fullBody();
  const verify = (bytes: Uint8Array, t: ConsensusTrust = trust, at = now) => verifyConsensus(suite, parseSignedConsensus(bytes), t, at);

  it('round-trips and sorts signatures by signer', () => {
    const bytes = signedBy(body, [discovery[4]!, discovery[0]!, discovery[2]!]);
    const u = parseSignedConsensus(bytes);
    expect(u.signatures.map((s) => toHex(s.signer))).toEqual(sortedHex([0, 2, 4].map((i) => discovery[i]!.publicKey)));
    expect(toHex(encodeSignedConsensus(u.body, u.signatures))).toBe(toHex(bytes));
    const v = verify(bytes);
    expect(v.signers).toHaveLength(3);
    expect(v.ignored).toEqual([]);
    expect(v.nodes).toHaveLength(onion.length);
    expect(toHex(v.bodyDigest)).toBe(toHex(suite.sha256(body)));
  });

  it('signs SHA-256("PSP-CONSENSUS-v1" ‖ body)', () => {
    const sig = signConsensus(suite, body, discovery[0]!.secretKey);
    const digest = suite.sha256(Uint8Array.from([...new TextEncoder().encode('PSP-CONSENSUS-v1'), ...body]));
    expect(suite.ed25519Verify(sig.signature, digest, discovery[0]!.publicKey)).toBe(true);
    expect(verifyConsensusSignature(suite, body, sig)).toBe(true);
  });

  it('accepts exactly at the threshold and refuses one short: too-few-signatures', () => {
    expect(() => verify(signedBy(body, discovery.slice(0, 3)))).not.toThrow();
    expectDirectoryError(() => verify(signedBy(body, discovery.slice(0, 2))), 'too-few-signatures');
    expectDirectoryError(() => verify(signedBy(body, [])), 'too-few-signatures');
  });

  it('ignores unknown signers; short of the threshold because of them → unknown-signer', () => {
    const strangers = [keyPair('x-1'), keyPair('x-2'), keyPair('x-3')];
    const withStrangers = signedBy(body, [...discovery.slice(0, 3), ...strangers]);
    const ok = verify(withStrangers);
    expect(ok.signers).toHaveLength(3);
    expect(ok.ignored.map((i) => i.reason)).toEqual(['unknown-signer', 'unknown-signer', 'unknown-signer']);
    // 2 trusted + 1 unknown: the unknown one would have made up the shortfall.
    expectDirectoryError(() => verify(signedBy(body, [...discovery.slice(0, 2), strangers[0]!])), 'unknown-signer');
    // A client whose key list is old: all signatures come from keys it does not know.
    expectDirectoryError(() => verify(signedBy(body, discovery.slice(0, 3)), { ...trust, discoveryKeys: strangers.map((s) => s.publicKey), threshold: 2 }), 'unknown-signer');
    // 1 trusted + 1 unknown of 3 needed: the unknown one would not have sufficed.
    expectDirectoryError(() => verify(signedBy(body, [discovery[0]!, strangers[0]!])), 'too-few-signatures');
  });

  it('refuses forged signatures when short: bad-signature, which takes precedence', () => {
    const sigs = discovery.slice(0, 3).map((s) => signConsensus(suite, body, s.secretKey));
    const forged = { ...sigs[1]!, signature: sigs[1]!.signature.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    expectDirectoryError(() => verify(encodeSignedConsensus(body, [sigs[0]!, forged, sigs[2]!])), 'bad-signature');
    const stranger = signConsensus(suite, body, keyPair('x-1').secretKey);
    expectDirectoryError(() => verify(encodeSignedConsensus(body, [sigs[0]!, forged, stranger])), 'bad-signature');
    // With enough valid ones, a forged extra is ignored and reported.
    const valid3 = [0, 2, 3].map((i) => signConsensus(suite, body, discovery[i]!.secretKey));
    const junk = { signer: discoveryKeys[4]!, signature: forged.signature };
    const v = verify(encodeSignedConsensus(body, [...valid3, junk]));
    expect(v.signers).toHaveLength(3);
    expect(v.ignored.map((i) => i.reason)).toEqual(['bad-signature']);
  });

  it('a discovery node that signed a DIFFERENT body cannot help this body reach the threshold', () => {
    const other = encodeConsensusBody(computeConsensus(discovery.map((d) => voteOf(d, descs.slice(1))), params));
    expect(toHex(other)).not.toBe(toHex(body));
    const two = discovery.slice(0, 2).map((s) => signConsensus(suite, body, s.secretKey));
    const third = signConsensus(suite, other, discovery[2]!.secretKey);
    // Its signature, attached to our body, does not verify.
    expectDirectoryError(() => verify(encodeSignedConsensus(body, [...two, third])), 'bad-signature');
    // And our two signatures do not carry the other body either.
    expectDirectoryError(() => verify(encodeSignedConsensus(other, [...two, third])), 'bad-signature');
  });

  it('refuses another network, not-yet-valid (with optional skew) and expired', () => {
    const bytes = signedBy(body, discovery);
    expectDirectoryError(() => verify(bytes, { ...trust, network: 'othernet' }), 'wrong-network');
    const w = consensusWindow(PERIOD, PERIOD_MS);
    expectDirectoryError(() => verify(bytes, trust, w.validAfter - 1), 'not-yet-valid');
    expect(() => verifyConsensus(suite, parseSignedConsensus(bytes), trust, w.validAfter - 1, { maxClockSkewMs: 1 })).not.toThrow();
    expect(() => verify(bytes, trust, w.validUntil - 1)).not.toThrow();
    expectDirectoryError(() => verify(bytes, trust, w.validUntil), 'expired');
  });

  it('refuses signatures out of signer order or repeated (not-canonical) and truncation (malformed)', () => {
    const sigs = discovery.slice(0, 3).map((s) => signConsensus(suite, body, s.secretKey));
    const sorted = [...sigs].sort((a, b) => (toHex(a.signer) < toHex(b.signer) ? -1 : 1));
    expectDirectoryError(() => parseSignedConsensus(rawSignedConsensus(body, [sorted[1]!, sorted[0]!, sorted[2]!])), 'not-canonical');
    expectDirectoryError(() => parseSignedConsensus(rawSignedConsensus(body, [sorted[0]!, sorted[0]!])), 'not-canonical');
    const ok = rawSignedConsensus(body, sorted);
    expect(() => parseSignedConsensus(ok)).not.toThrow();
    for (const n of [0, 1, 5, 100, ok.length - 1]) expectDirectoryError(() => parseSignedConsensus(ok.subarray(0, n)), 'malformed');
    expectDirectoryError(() => parseSignedConsensus(rawSignedConsensus(body, sorted, 9)), 'unsupported-version');
  });

  it('refuses unusable trust configurations', () => {
    const u = parseSignedConsensus(signedBy(body, discovery));
    expect(() => verifyConsensus(suite, u, { ...trust, threshold: 2 }, now)).toThrow(/strict majority/);
    expect(() => verifyConsensus(suite, u, { ...trust, threshold: 6 }, now)).toThrow(RangeError);
    expect(() => verifyConsensus(suite, u, { ...trust, discoveryKeys: [] }, now)).toThrow(RangeError);
    expect(() => verifyConsensus(suite, u, { ...trust, discoveryKeys: [discoveryKeys[0]!, discoveryKeys[0]!] }, now)).toThrow(/twice/);
    expect(() => encodeSignedConsensus(body, [signConsensus(suite, body, discovery[0]!.secretKey), { signer: discoveryKeys[0]!, signature: new Uint8Array(64) }])).toThrow(RangeError);
  });

  it('refuses a consensus that lasts hours past its validity', () => {
    const late = consensusWindow(PERIOD, PERIOD_MS).validUntil + 10 * HOUR;
    expectDirectoryError(() => verify(signedBy(body, discovery), trust, late), 'expired');
  });
});
