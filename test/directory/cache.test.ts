/**
 * ConsensusCache: keeps the best verified consensus, refuses what a client would refuse, never
 * serves an expired one, and answers pull messages.
 */
import { describe, expect, it } from 'vitest';
import {
  ConsensusCache,
  computeConsensus,
  consensusWindow,
  decodeDiscoveryMessage,
  encodeConsensusBody,
  encodeDiscoveryMessage,
  encodeSignedConsensus,
  signConsensus,
} from '../../node-core/directory';
import { toHex } from '../../node-core/util/bytes';
import { NETWORK, PERIOD, PERIOD_MS, discovery, discoveryKeys, onion, suite, verifiedDescriptor, voteOf } from './helpers';

const trust = { network: NETWORK, discoveryKeys, threshold: 3 };
const descs = onion.map((n) => verifiedDescriptor(n));

function consensus(period: number, signers: number): Uint8Array {
  const body = encodeConsensusBody(
    computeConsensus(discovery.slice(0, 3).map((d) => voteOf(d, descs, period)), { network: NETWORK, period, periodMs: PERIOD_MS, discoveryKeys }),
  );
  return encodeSignedConsensus(body, discovery.slice(0, signers).map((d) => signConsensus(suite, body, d.secretKey)));
}

describe('ConsensusCache', () => {
  const w = consensusWindow(PERIOD, PERIOD_MS);
  const now = w.validAfter + 1000;

  it('adopts a valid consensus, refuses an invalid one with its code, and prefers newer or better signed', () => {
    const cache = new ConsensusCache({ suite, trust });
    expect(cache.needsRefresh(now)).toBe(true);
    expect(cache.offer(consensus(PERIOD, 2), now)).toMatchObject({ outcome: 'refused', code: 'too-few-signatures' });
    expect(cache.offer(consensus(PERIOD, 3), now)).toEqual({ outcome: 'adopted' });
    expect(cache.needsRefresh(now)).toBe(false);
    expect(cache.offer(consensus(PERIOD, 3), now)).toEqual({ outcome: 'kept' });
    expect(cache.offer(consensus(PERIOD, 5), now)).toEqual({ outcome: 'adopted' });
    expect(cache.current(now)!.signers).toHaveLength(5);
    expect(cache.offer(consensus(PERIOD - 1, 5), now)).toEqual({ outcome: 'kept' });
    const later = w.freshUntil + 1;
    expect(cache.needsRefresh(later)).toBe(true);
    expect(cache.offer(consensus(PERIOD + 1, 3), later)).toEqual({ outcome: 'adopted' });
    expect(cache.current(later)!.period).toBe(PERIOD + 1);
  });

  it('never serves an expired consensus, and answers pull', () => {
    const cache = new ConsensusCache({ suite, trust });
    const pull = encodeDiscoveryMessage({ type: 'pull', network: NETWORK });
    expect(decodeDiscoveryMessage(cache.answer(pull, now))).toEqual({ type: 'no-consensus' });
    const bytes = consensus(PERIOD, 3);
    cache.offer(bytes, now);
    const answer = decodeDiscoveryMessage(cache.answer(pull, now));
    expect(answer.type).toBe('consensus');
    expect(toHex((answer as { consensus: Uint8Array }).consensus)).toBe(toHex(bytes));
    expect(decodeDiscoveryMessage(cache.answer(encodeDiscoveryMessage({ type: 'pull', network: 'othernet' }), now))).toEqual({ type: 'no-consensus' });
    expect(decodeDiscoveryMessage(cache.answer(Uint8Array.of(0xff), now))).toEqual({ type: 'no-consensus' });
    expect(cache.current(w.validUntil)).toBeUndefined();
    expect(decodeDiscoveryMessage(cache.answer(pull, w.validUntil))).toEqual({ type: 'no-consensus' });
  });

  it('checks its configuration', () => {
    expect(() => new ConsensusCache({ suite, trust: { ...trust, threshold: 1 } })).toThrow(RangeError);
    expect(() => new ConsensusCache({ suite, trust, maxClockSkewMs: -1 })).toThrow(RangeError);
  });
});
