/**
 * The consensus a node or client holds and serves (seed 004 §2: "Every node in the network is
 * able to proxy discovery requests"; DESIGN.md §3 "Directory": every node caches and serves the
 * latest list). Pure: a consensus is offered as bytes with the time, verified against the
 * network's trust configuration exactly as a client verifies it, and kept when it is newer
 * (higher period) than the one held — or, for the same period and body, when it carries more
 * valid signatures. An expired consensus is never served.
 *
 * Does not: fetch anything (the driver pulls from discovery nodes or peers and offers what it
 * gets), or persist the consensus.
 */
import type { CryptoSuite } from '../crypto/api';
import { assertBytes, equalBytes } from '../util/bytes';
import { checkTime } from '../util/codec';
import { type ConsensusTrust, type VerifiedConsensus, checkConsensusTrust, parseSignedConsensus, verifyConsensus } from './consensus';
import { DirectoryError, type DirectoryErrorCode } from './errors';
import { type DiscoveryMessage, decodeDiscoveryMessage, encodeDiscoveryMessage } from './messages';

export interface ConsensusCacheConfig {
  readonly suite: CryptoSuite;
  readonly trust: ConsensusTrust;
  /** Clock skew allowed before validAfter (default 0). */
  readonly maxClockSkewMs?: number;
}

export type OfferResult = { readonly outcome: 'adopted' | 'kept' } | { readonly outcome: 'refused'; readonly code: DirectoryErrorCode; readonly detail: string };

export class ConsensusCache {
  private readonly suite: CryptoSuite;
  private readonly trust: ConsensusTrust;
  private readonly skew: number;
  private held: VerifiedConsensus | undefined;

  constructor(config: ConsensusCacheConfig) {
    if (typeof config !== 'object' || config === null) throw new TypeError('config must be an object');
    if (typeof config.suite !== 'object' || config.suite === null) throw new TypeError('config.suite must be a CryptoSuite');
    const t = checkConsensusTrust(config.trust, 'config.trust');
    this.trust = { network: t.network, discoveryKeys: t.keys, threshold: t.threshold };
    this.skew = config.maxClockSkewMs ?? 0;
    checkTime(this.skew, 'config.maxClockSkewMs');
    this.suite = config.suite;
  }

  /** Verifies a signed consensus at `now` and keeps it if it is better than the one held. */
  offer(bytes: Uint8Array, now: number): OfferResult {
    assertBytes(bytes, 'bytes');
    checkTime(now, 'now');
    let c: VerifiedConsensus;
    try {
      c = verifyConsensus(this.suite, parseSignedConsensus(bytes), this.trust, now, { maxClockSkewMs: this.skew });
    } catch (e) {
      if (e instanceof DirectoryError) return { outcome: 'refused', code: e.code, detail: e.message };
      throw e;
    }
    const h = this.held;
    const better =
      h === undefined ||
      now >= h.validUntil ||
      c.period > h.period ||
      (c.period === h.period && equalBytes(c.bodyDigest, h.bodyDigest) && c.signers.length > h.signers.length);
    if (!better) return { outcome: 'kept' };
    this.held = c;
    return { outcome: 'adopted' };
  }

  /** The consensus held, unless it has expired at `now`. */
  current(now: number): VerifiedConsensus | undefined {
    checkTime(now, 'now');
    const h = this.held;
    return h !== undefined && now < h.validUntil ? h : undefined;
  }

  /** True when there is no consensus, or the one held is past freshUntil: time to pull again. */
  needsRefresh(now: number): boolean {
    const c = this.current(now);
    return c === undefined || now >= c.freshUntil;
  }

  /**
   * Answers a discovery `pull` message (encoded) with `consensus` or `no-consensus` (encoded).
   * A message that is not a pull for this network is answered with `no-consensus`.
   */
  answer(message: Uint8Array, now: number): Uint8Array {
    assertBytes(message, 'message');
    let m: DiscoveryMessage;
    try {
      m = decodeDiscoveryMessage(message);
    } catch (e) {
      if (!(e instanceof DirectoryError)) throw e;
      return encodeDiscoveryMessage({ type: 'no-consensus' });
    }
    const c = this.current(now);
    if (m.type !== 'pull' || m.network !== this.trust.network || c === undefined) return encodeDiscoveryMessage({ type: 'no-consensus' });
    return encodeDiscoveryMessage({ type: 'consensus', consensus: c.bytes });
  }
}
