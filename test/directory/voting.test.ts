/**
 * The discovery voting state machine: five instances on a fake clock (VotingNet), with nodes
 * down, a minority voting for a bogus node, a node that signs a different body, recovery by
 * pull, and the single-node behaviours (publish results, late and duplicate votes, early votes).
 */
import { describe, expect, it } from 'vitest';
import {
  DiscoveryVoting,
  type ConsensusTrust,
  decodeDiscoveryMessage,
  encodeConsensusBody,
  encodeDiscoveryMessage,
  parseSignedConsensus,
  signConsensus,
  verifyConsensus,
  decodeConsensusBody,
} from '../../node-core/directory';
import { toHex } from '../../node-core/util/bytes';
import { NETWORK, POLICY, discovery, discoveryKeys, keyPair, onion, signedDescriptor, suite } from './helpers';
import { NET_COMPUTE_OFFSET, NET_PERIOD_MS, NET_START_PERIOD, NET_VOTE_OFFSET, VotingNet } from './voting-net';

const trust: ConsensusTrust = { network: NETWORK, discoveryKeys, threshold: 3 };
const periodStart = (p: number): number => p * NET_PERIOD_MS;
const P = NET_START_PERIOD;
const endOf = (p: number): number => periodStart(p) + NET_PERIOD_MS - 1;

/** A network whose onion nodes published to every discovery node early in period P. */
function networkWithNodes(down: readonly number[] = []): VotingNet {
  const net = new VotingNet();
  for (const i of down) net.down.add(net.key(discovery[i]!));
  for (const n of onion) net.publishDescriptor(n);
  return net;
}

function clientAccepts(net: VotingNet, from = discovery[0]!): ReturnType<typeof verifyConsensus> {
  const answer = net.pull(from);
  expect(answer?.type).toBe('consensus');
  const bytes = (answer as { consensus: Uint8Array }).consensus;
  return verifyConsensus(suite, parseSignedConsensus(bytes), trust, net.now);
}

describe('DiscoveryVoting: five nodes on a fake clock', () => {
  it('all up: every node publishes the same body, signed by all five in the end', () => {
    const net = networkWithNodes();
    net.runUntil(endOf(P));
    const digests = new Set<string>();
    for (const d of discovery) {
      const pubs = net.published(d);
      expect(pubs.length).toBeGreaterThan(0);
      const last = pubs[pubs.length - 1]!;
      expect(last.period).toBe(P);
      expect(last.signers).toHaveLength(5);
      digests.add(toHex(last.bodyDigest));
      expect(net.rejected(d)).toEqual([]);
    }
    expect(digests.size).toBe(1);
    const c = clientAccepts(net);
    expect(c.nodes.map((n) => toHex(n.identity)).sort()).toEqual(onion.map((n) => toHex(n.publicKey)).sort());
    expect(c.validAfter).toBe(periodStart(P));
    expect(c.validUntil).toBe(periodStart(P) + 3 * NET_PERIOD_MS);
  });

  it('two of five down: the three left publish with exactly the threshold of signatures', () => {
    const net = networkWithNodes([3, 4]);
    net.runUntil(endOf(P));
    for (const d of discovery.slice(0, 3)) {
      const last = net.published(d).at(-1)!;
      expect(last.signers).toHaveLength(3);
      expect(last.nodes).toHaveLength(onion.length);
    }
    expect(net.published(discovery[3]!)).toEqual([]);
    expect(clientAccepts(net, discovery[2]!).signers).toHaveLength(3);
  });

  it('three of five down: nothing is signed (too few votes to reach a majority)', () => {
    const net = networkWithNodes([2, 3, 4]);
    net.runUntil(endOf(P));
    for (const d of discovery.slice(0, 2)) {
      expect(net.published(d)).toEqual([]);
      expect(net.log(d).filter((a) => a.type === 'skipped').map((a) => (a as { reason: string }).reason)).toEqual(['too-few-votes']);
    }
    expect(net.pull(discovery[0]!)?.type).toBe('no-consensus');
  });

  it('a minority of voters cannot add a node; a majority can', () => {
    const bogus = keyPair('bogus-node');
    for (const holders of [[0], [0, 1]]) {
      const net = networkWithNodes();
      net.publishDescriptor(bogus, holders.map((i) => discovery[i]!));
      net.runUntil(endOf(P));
      const c = clientAccepts(net);
      expect(c.nodes.map((n) => toHex(n.identity))).not.toContain(toHex(bogus.publicKey));
      expect(c.nodes).toHaveLength(onion.length);
    }
    const net = networkWithNodes();
    net.publishDescriptor(bogus, discovery.slice(0, 3));
    net.runUntil(endOf(P));
    expect(clientAccepts(net).nodes.map((n) => toHex(n.identity))).toContain(toHex(bogus.publicKey));
  });

  it('a node voting for a bogus node does not stop the others agreeing', () => {
    const net = networkWithNodes();
    net.publishDescriptor(keyPair('bogus-node'), [discovery[4]!]);
    net.runUntil(endOf(P));
    const digests = discovery.map((d) => toHex(net.published(d).at(-1)!.bodyDigest));
    expect(new Set(digests).size).toBe(1);
  });

  /** Makes discovery[4] sign another body: with its own digest, or claiming the honest digest. */
  function dishonest(net: VotingNet, claimHonestDigest: boolean): void {
    const liar = discovery[4]!;
    net.intercept = (from, action) => {
      if (from !== net.key(liar)) return action.message;
      const m = decodeDiscoveryMessage(action.message);
      // It never hands out a valid signature on the honest body, not even inside a consensus.
      if (m.type === 'consensus') return null;
      if (m.type !== 'signature') return action.message;
      const honest = decodeConsensusBody(net.node(liar).computedBody()!.body);
      const other = encodeConsensusBody({ ...honest, nodes: honest.nodes.slice(1) });
      const sig = signConsensus(suite, other, liar.secretKey);
      return encodeDiscoveryMessage({
        type: 'signature',
        signature: { ...m.signature, bodyDigest: claimHonestDigest ? m.signature.bodyDigest : suite.sha256(other), signature: sig.signature },
      });
    };
  }

  it('a node that signs a different body is not counted: the four honest ones publish', () => {
    for (const claim of [false, true]) {
      const net = networkWithNodes();
      dishonest(net, claim);
      net.runUntil(endOf(P));
      for (const d of discovery.slice(0, 4)) {
        const last = net.published(d).at(-1)!;
        expect(last.signers.map(toHex)).not.toContain(toHex(discovery[4]!.publicKey));
        expect(last.signers).toHaveLength(4);
        const codes = net.rejected(d).map((r) => r.code);
        expect(codes).toEqual([claim ? 'bad-signature' : 'different-body']);
      }
    }
  });

  it('a node that signs a different body cannot help the honest ones reach the threshold', () => {
    for (const claim of [false, true]) {
      const net = networkWithNodes([2, 3]);
      dishonest(net, claim);
      net.runUntil(endOf(P));
      expect(net.published(discovery[0]!)).toEqual([]);
      expect(net.published(discovery[1]!)).toEqual([]);
      expect(net.pull(discovery[0]!)?.type).toBe('no-consensus');
    }
  });

  it('a node that was down picks the consensus up by pull when it comes back, and the next period includes it', () => {
    const net = networkWithNodes([4]);
    net.runUntil(endOf(P));
    expect(net.published(discovery[0]!).at(-1)!.signers).toHaveLength(4);
    net.down.delete(net.key(discovery[4]!));
    // The returning node: on its first tick it pulls from the others and adopts their consensus.
    net.runUntil(periodStart(P + 1) + 1);
    const adopted = net.published(discovery[4]!);
    expect(adopted).toHaveLength(1);
    expect(adopted[0]!.period).toBe(P);
    // In period P + 1 it takes part again (onion nodes re-publish to it first).
    for (const n of onion) net.publishDescriptor(n, [discovery[4]!]);
    net.runUntil(endOf(P + 1));
    for (const d of discovery) {
      const last = net.published(d).at(-1)!;
      expect(last.period).toBe(P + 1);
      expect(last.signers).toHaveLength(5);
    }
  });

  it('keeps publishing period after period, dropping nodes whose descriptors expired', () => {
    const net = new VotingNet();
    const shortLived = onion[0]!;
    for (const n of onion.slice(1)) net.publishDescriptor(n);
    net.publishDescriptor(shortLived, discovery, { validUntil: net.now + NET_PERIOD_MS });
    net.runUntil(endOf(P));
    expect(net.published(discovery[0]!).at(-1)!.nodes).toHaveLength(onion.length);
    net.runUntil(endOf(P + 1));
    const second = net.published(discovery[0]!).at(-1)!;
    expect(second.period).toBe(P + 1);
    expect(second.nodes.map((n) => toHex(n.identity))).not.toContain(toHex(shortLived.publicKey));
    expect(second.nodes).toHaveLength(onion.length - 1);
  });
});

describe('DiscoveryVoting: one node', () => {
  const me = discovery[0]!;
  const config = {
    suite,
    network: NETWORK,
    secretKey: me.secretKey,
    discoveryKeys,
    threshold: 3,
    periodMs: NET_PERIOD_MS,
    voteOffsetMs: NET_VOTE_OFFSET,
    computeOffsetMs: NET_COMPUTE_OFFSET,
    descriptorPolicy: POLICY,
  };
  const t = periodStart(P) + 1000;
  const msg = (now: number, m: Parameters<typeof encodeDiscoveryMessage>[0]) => ({ type: 'message' as const, now, bytes: encodeDiscoveryMessage(m) });
  const replies = (out: ReturnType<DiscoveryVoting['handle']>) =>
    out.flatMap((a) => (a.type === 'reply' ? [decodeDiscoveryMessage(a.message)] : []));

  it('answers publishes: accepted, refused with the code, older than held, store full', () => {
    const node = new DiscoveryVoting({ ...config, maxDescriptors: 1 });
    const d = signedDescriptor(onion[0]!, { publishedAt: t, validUntil: t + 3_600_000 });
    expect(replies(node.handle(msg(t, { type: 'publish', descriptor: d })))).toEqual([{ type: 'publish-result', status: 'accepted' }]);
    const forged = d.slice();
    forged[forged.length - 1]! ^= 1;
    expect(replies(node.handle(msg(t, { type: 'publish', descriptor: forged })))).toEqual([{ type: 'publish-result', status: 'bad-signature' }]);
    const older = signedDescriptor(onion[0]!, { publishedAt: t - 5, validUntil: t + 3_600_000 });
    expect(replies(node.handle(msg(t, { type: 'publish', descriptor: older })))).toEqual([{ type: 'publish-result', status: 'duplicate' }]);
    const other = signedDescriptor(onion[1]!, { publishedAt: t, validUntil: t + 3_600_000 });
    expect(replies(node.handle(msg(t, { type: 'publish', descriptor: other })))).toEqual([{ type: 'publish-result', status: 'limit-exceeded' }]);
    expect(node.descriptorCount()).toBe(1);
    const expired = signedDescriptor(onion[1]!, { publishedAt: t - 10, validUntil: t - 1 });
    expect(replies(node.handle(msg(t, { type: 'publish', descriptor: expired })))).toEqual([{ type: 'publish-result', status: 'expired' }]);
  });

  it('pulls from its peers on its first tick, and answers pull with no-consensus while it has none', () => {
    const node = new DiscoveryVoting(config);
    const out = node.handle({ type: 'tick', now: t });
    const pulls = out.filter((a) => a.type === 'send');
    expect(pulls.map((a) => toHex((a as { to: Uint8Array }).to)).sort()).toEqual(discoveryKeys.slice(1).map(toHex).sort());
    expect(replies(node.handle(msg(t, { type: 'pull', network: NETWORK })))).toEqual([{ type: 'no-consensus' }]);
  });

  it('schedules its wakeups: vote time, compute time, next period', () => {
    const node = new DiscoveryVoting(config);
    expect(node.nextWakeup(t)).toBe(t);
    node.handle({ type: 'tick', now: t });
    expect(node.nextWakeup(t)).toBe(periodStart(P) + NET_VOTE_OFFSET);
    node.handle({ type: 'tick', now: periodStart(P) + NET_VOTE_OFFSET });
    expect(node.nextWakeup(periodStart(P) + NET_VOTE_OFFSET)).toBe(periodStart(P) + NET_COMPUTE_OFFSET);
    node.handle({ type: 'tick', now: periodStart(P) + NET_COMPUTE_OFFSET });
    expect(node.nextWakeup(periodStart(P) + NET_COMPUTE_OFFSET)).toBe(periodStart(P + 1));
  });

  /** A signed vote by `signer` for `period`, carrying onion[0]'s descriptor. */
  function voteBy(signer: ReturnType<typeof keyPair>, keys: Uint8Array[], period: number, bandwidth = 1024): Uint8Array {
    const peer = new DiscoveryVoting({ ...config, secretKey: signer.secretKey, discoveryKeys: keys });
    const start = periodStart(period);
    peer.handle(msg(start + 1, { type: 'publish', descriptor: signedDescriptor(onion[0]!, { publishedAt: start, validUntil: start + 3_600_000, bandwidth }) }));
    const out = peer.handle({ type: 'tick', now: start + NET_VOTE_OFFSET });
    const send = out.find((a) => a.type === 'send' && decodeDiscoveryMessage(a.message).type === 'vote') as { message: Uint8Array };
    return (decodeDiscoveryMessage(send.message) as { vote: Uint8Array }).vote;
  }
  const voteBytes = (i: number, period: number, bandwidth = 1024): Uint8Array => voteBy(discovery[i]!, discoveryKeys, period, bandwidth);

  const rejectedCodes = (out: ReturnType<DiscoveryVoting['handle']>) => out.flatMap((a) => (a.type === 'rejected' ? [a.code] : []));

  it('refuses votes from strangers, second different votes, late votes and other periods', () => {
    const node = new DiscoveryVoting(config);
    node.handle({ type: 'tick', now: t });
    const v1 = voteBytes(1, P);
    expect(rejectedCodes(node.handle(msg(t, { type: 'vote', vote: v1 })))).toEqual([]);
    expect(rejectedCodes(node.handle(msg(t, { type: 'vote', vote: v1 })))).toEqual([]); // the same again: ignored
    expect(rejectedCodes(node.handle(msg(t, { type: 'vote', vote: voteBytes(1, P, 7) })))).toEqual(['duplicate']);
    expect(rejectedCodes(node.handle(msg(t, { type: 'vote', vote: voteBytes(2, P - 1) })))).toEqual(['wrong-period']);
    const stranger = keyPair('stranger');
    const strangerVote = voteBy(stranger, [...discoveryKeys.slice(1), stranger.publicKey], P);
    expect(rejectedCodes(node.handle(msg(t, { type: 'vote', vote: strangerVote })))).toEqual(['unknown-signer']);
    node.handle({ type: 'tick', now: periodStart(P) + NET_COMPUTE_OFFSET });
    expect(rejectedCodes(node.handle(msg(periodStart(P) + NET_COMPUTE_OFFSET, { type: 'vote', vote: voteBytes(3, P) })))).toEqual(['too-late']);
  });

  it('reports malformed messages and signatures from strangers', () => {
    const node = new DiscoveryVoting(config);
    expect(rejectedCodes(node.handle({ type: 'message', now: t, bytes: Uint8Array.of(42) }))).toEqual(['malformed']);
    const stranger = keyPair('stranger');
    const sig = { network: NETWORK, period: P, bodyDigest: new Uint8Array(32), signer: stranger.publicKey, signature: new Uint8Array(64) };
    expect(rejectedCodes(node.handle(msg(t, { type: 'signature', signature: sig })))).toEqual(['unknown-signer']);
    expect(rejectedCodes(node.handle(msg(t, { type: 'signature', signature: { ...sig, network: 'othernet' } })))).toEqual(['wrong-network']);
    expect(rejectedCodes(node.handle(msg(t, { type: 'publish-result', status: 'accepted' })))).toEqual(['unexpected']);
  });

  it('holds a vote for the next period that arrives early and counts it when that period starts', () => {
    const node = new DiscoveryVoting(config);
    node.handle({ type: 'tick', now: t });
    for (const i of [1, 2]) expect(rejectedCodes(node.handle(msg(t, { type: 'vote', vote: voteBytes(i, P + 1) })))).toEqual([]);
    const start = periodStart(P + 1);
    const d = signedDescriptor(onion[0]!, { publishedAt: start, validUntil: start + 3_600_000, bandwidth: 1024 });
    expect(replies(node.handle(msg(start + 1, { type: 'publish', descriptor: d })))).toEqual([{ type: 'publish-result', status: 'accepted' }]);
    node.handle({ type: 'tick', now: periodStart(P + 1) + NET_VOTE_OFFSET });
    const out = node.handle({ type: 'tick', now: periodStart(P + 1) + NET_COMPUTE_OFFSET });
    const computed = out.find((a) => a.type === 'computed') as { votes: number; nodes: number } | undefined;
    expect(computed).toBeDefined();
    expect(computed!.votes).toBe(3); // its own and the two early ones
  });

  it('checks its configuration', () => {
    expect(() => new DiscoveryVoting({ ...config, secretKey: keyPair('stranger').secretKey })).toThrow(/not among/);
    expect(() => new DiscoveryVoting({ ...config, threshold: 2 })).toThrow(/strict majority/);
    expect(() => new DiscoveryVoting({ ...config, voteOffsetMs: NET_COMPUTE_OFFSET })).toThrow(RangeError);
    expect(() => new DiscoveryVoting({ ...config, computeOffsetMs: NET_PERIOD_MS })).toThrow(RangeError);
    expect(() => new DiscoveryVoting({ ...config, maxDescriptors: 0 })).toThrow(RangeError);
    expect(() => new DiscoveryVoting(config).handle({ type: 'tick', now: -5 })).toThrow(RangeError);
    const node = new DiscoveryVoting(config);
    expect(() => node.handle({ type: 'bogus', now: t } as never)).toThrow(RangeError);
    expect(() => node.handle({ type: 'message', now: t, bytes: 'x' } as never)).toThrow(TypeError);
    expect(node.nextWakeup(t)).toBe(t); // a refused event changed nothing: the node has not started
  });
});
