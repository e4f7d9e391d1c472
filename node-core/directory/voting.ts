/**
 * The discovery node's voting state machine (seed 004 §2; PSP reference
 * discovery/multisignatureconsensus.md, states.md and recovery.md, re-designed without a leader;
 * DESIGN.md §3 "Directory"). Pure: events in, actions out; time comes with each event.
 *
 * Each period p (start S = p × periodMs):
 *   - all along: nodes PUBLISH signed descriptors; each verified one is kept (newest per
 *     identity, at most maxDescriptors identities) until it expires;
 *   - at S + voteOffsetMs: build this node's vote from the descriptors valid at that instant
 *     (the period's reference time), sign it, keep it and send it to every other discovery node;
 *   - until S + computeOffsetMs: accept votes for p from configured discovery nodes (checked by
 *     verifyVote: network, voter, period, signature; carried descriptors re-checked at the
 *     reference time). A vote for p + 1 that arrives early (a peer's clock runs ahead) is held
 *     (one per voter) and checked when p + 1 begins. A second, different vote from one voter is
 *     refused ('duplicate') and the first kept;
 *   - at S + computeOffsetMs: if votes from a strict majority of all discovery nodes are in
 *     (its own included), compute the consensus (consensus.ts), sign it, send the signature
 *     (a `signature` message naming the body by digest) to every other discovery node. With
 *     fewer votes, or an empty node list, the period is skipped (nothing is signed);
 *   - signatures from others over the SAME body are checked and collected; a signature over a
 *     different body is reported ('different-body') and never counted. Signatures that arrive
 *     before this node has computed are held (one per signer) and checked after;
 *   - once signatures on the body reach the threshold, the SignedConsensus is published (a
 *     `publish` action), verified exactly as a client would verify it, and sent once to the other
 *     discovery nodes; each later signature publishes it again with one more signature.
 *   - A `consensus` from another discovery node (an answer to `pull`, or its publication) is
 *     verified; if its body is this node's own, its valid signatures are merged; otherwise it is
 *     adopted when newer than what this node has published. On its first tick a node sends
 *     `pull` to the other discovery nodes, to pick up the current consensus after a restart.
 *   - `pull` from anyone is answered with the latest consensus that has not expired.
 *
 * Liveness: with n discovery nodes and threshold t (a strict majority), a consensus is published
 * in a period when at least t honest nodes are up, exchange votes before their compute time,
 * and so compute the same body. Known limit: a discovery node that sends DIFFERENT votes to
 * different peers (equivocation) can make honest nodes compute different bodies for that
 * period; then no body may reach the threshold and the previous consensus (valid for three
 * periods) stays in use. It cannot make a list that lacks a majority's support acceptable.
 *
 * Does not: open connections, run timers (the driver calls `handle` with a tick at
 * `nextWakeup()`), store anything on disk, or measure bandwidth or reachability.
 */
import type { CryptoSuite } from '../crypto/api';
import { assertBytes, equalBytes, toHex } from '../util/bytes';
import { checkKeyList, checkTime, compareBytes } from '../util/codec';
import {
  type ConsensusSignature,
  type ConsensusTrust,
  type VerifiedConsensus,
  checkConsensusTrust,
  computeConsensus,
  encodeConsensusBody,
  encodeSignedConsensus,
  majorityOf,
  parseSignedConsensus,
  signConsensus,
  verifyConsensus,
  verifyConsensusSignature,
} from './consensus';
import { type DescriptorPolicy, type VerifiedDescriptor, checkDescriptorPolicy, parseDescriptor, verifyDescriptor } from './descriptor';
import { DirectoryError, type DirectoryErrorCode } from './errors';
import { type ConsensusSignatureMessage, type DiscoveryMessage, decodeDiscoveryMessage, encodeDiscoveryMessage } from './messages';
import { MAX_VOTE_DESCRIPTORS, type VerifiedVote, createVote, parseVote, verifyVote } from './vote';

export interface DiscoveryVotingConfig {
  readonly suite: CryptoSuite;
  readonly network: string;
  /** This discovery node's identity secret key (32-byte Ed25519 seed); its key must be in discoveryKeys. */
  readonly secretKey: Uint8Array;
  /** Every configured discovery node, this one included. */
  readonly discoveryKeys: readonly Uint8Array[];
  /** Signatures needed on one body (a strict majority of discoveryKeys). */
  readonly threshold: number;
  readonly periodMs: number;
  /** When in each period the vote is sent; 0 ≤ voteOffsetMs < computeOffsetMs < periodMs. */
  readonly voteOffsetMs: number;
  /** When in each period the consensus is computed and signed. */
  readonly computeOffsetMs: number;
  /** Rules for accepting descriptors (from publishers and inside votes). */
  readonly descriptorPolicy: DescriptorPolicy;
  /** When given, only these identities get the authority flag. */
  readonly authorityKeys?: readonly Uint8Array[];
  /** Most node identities held at once (default MAX_VOTE_DESCRIPTORS). */
  readonly maxDescriptors?: number;
  /** Clock skew allowed when checking a consensus from another node (default 0). */
  readonly maxClockSkewMs?: number;
}

export type VotingEvent =
  /** Time has passed; call at `nextWakeup()` (calling more often is harmless). */
  | { readonly type: 'tick'; readonly now: number }
  /** A discovery message arrived. `from` is the sender's link identity, when known (diagnostics only). */
  | { readonly type: 'message'; readonly now: number; readonly bytes: Uint8Array; readonly from?: Uint8Array };

export type VotingRejectCode = DirectoryErrorCode | 'different-body' | 'too-late' | 'unexpected';

export type VotingAction =
  /** Send `message` (an encoded DiscoveryMessage) to the discovery node `to`. */
  | { readonly type: 'send'; readonly to: Uint8Array; readonly message: Uint8Array }
  /** Answer the message being handled on the channel it came from. */
  | { readonly type: 'reply'; readonly message: Uint8Array }
  /** A consensus with at least the threshold of signatures: serve it from now on. */
  | { readonly type: 'publish'; readonly consensus: VerifiedConsensus }
  | { readonly type: 'voted'; readonly period: number; readonly descriptors: number }
  | { readonly type: 'computed'; readonly period: number; readonly votes: number; readonly nodes: number; readonly bodyDigest: Uint8Array }
  | { readonly type: 'skipped'; readonly period: number; readonly reason: 'too-few-votes' | 'empty' }
  | {
      readonly type: 'rejected';
      readonly what: 'message' | 'descriptor' | 'vote' | 'signature' | 'consensus';
      readonly code: VotingRejectCode;
      readonly detail: string;
      readonly from?: Uint8Array;
    };

interface Computed {
  readonly body: Uint8Array;
  readonly digest: Uint8Array;
}

interface Round {
  readonly period: number;
  readonly start: number;
  voted: boolean;
  computeDone: boolean;
  readonly votes: Map<string, VerifiedVote>;
  computed?: Computed;
  readonly signatures: Map<string, ConsensusSignature>;
  /** Signatures that arrived before this node computed: one per signer. */
  readonly pending: Map<string, ConsensusSignatureMessage>;
  /** Number of signatures in the last publication of this round's body (0: not published). */
  publishedWith: number;
}

export class DiscoveryVoting {
  private readonly suite: CryptoSuite;
  private readonly network: string;
  private readonly secretKey: Uint8Array;
  private readonly self: Uint8Array;
  private readonly selfHex: string;
  private readonly keys: Uint8Array[];
  private readonly keySet: Set<string>;
  private readonly peers: Uint8Array[];
  private readonly trust: ConsensusTrust;
  private readonly periodMs: number;
  private readonly voteOffsetMs: number;
  private readonly computeOffsetMs: number;
  private readonly policy: DescriptorPolicy;
  private readonly authorityKeys: readonly Uint8Array[] | undefined;
  private readonly maxDescriptors: number;
  private readonly skew: number;

  /** Newest verified descriptor per identity (hex). */
  private readonly store = new Map<string, VerifiedDescriptor>();
  private round: Round | undefined;
  /** Verified votes for the period after the current one, held until it starts (voter hex → vote). */
  private early = new Map<string, VerifiedVote>();
  private latest: VerifiedConsensus | undefined;
  private started = false;

  constructor(config: DiscoveryVotingConfig) {
    if (typeof config !== 'object' || config === null) throw new TypeError('config must be an object');
    if (typeof config.suite !== 'object' || config.suite === null) throw new TypeError('config.suite must be a CryptoSuite');
    assertBytes(config.secretKey, 'config.secretKey', 32);
    const trust = checkConsensusTrust(
      { network: config.network, discoveryKeys: config.discoveryKeys, threshold: config.threshold },
      'config',
    );
    checkTime(config.periodMs, 'config.periodMs');
    checkTime(config.voteOffsetMs, 'config.voteOffsetMs');
    checkTime(config.computeOffsetMs, 'config.computeOffsetMs');
    if (!(config.voteOffsetMs < config.computeOffsetMs && config.computeOffsetMs < config.periodMs)) {
      throw new RangeError('config must satisfy 0 ≤ voteOffsetMs < computeOffsetMs < periodMs');
    }
    checkDescriptorPolicy(config.descriptorPolicy, 'config.descriptorPolicy');
    const maxDescriptors = config.maxDescriptors ?? MAX_VOTE_DESCRIPTORS;
    if (!Number.isInteger(maxDescriptors) || maxDescriptors < 1 || maxDescriptors > MAX_VOTE_DESCRIPTORS) {
      throw new RangeError(`config.maxDescriptors must be an integer 1..${MAX_VOTE_DESCRIPTORS}`);
    }
    const skew = config.maxClockSkewMs ?? 0;
    checkTime(skew, 'config.maxClockSkewMs');
    this.suite = config.suite;
    this.network = trust.network;
    this.secretKey = config.secretKey.slice();
    this.self = config.suite.ed25519PublicKey(this.secretKey);
    this.selfHex = toHex(this.self);
    this.keys = trust.keys;
    this.keySet = new Set(trust.keys.map(toHex));
    if (!this.keySet.has(this.selfHex)) throw new RangeError("config.secretKey's public key is not among config.discoveryKeys");
    this.peers = trust.keys.filter((k) => !equalBytes(k, this.self));
    this.trust = { network: trust.network, discoveryKeys: trust.keys, threshold: trust.threshold };
    this.periodMs = config.periodMs;
    this.voteOffsetMs = config.voteOffsetMs;
    this.computeOffsetMs = config.computeOffsetMs;
    this.policy = { maxLifetimeMs: config.descriptorPolicy.maxLifetimeMs, maxClockSkewMs: config.descriptorPolicy.maxClockSkewMs };
    this.authorityKeys = config.authorityKeys === undefined ? undefined : checkKeyList(config.authorityKeys, 'config.authorityKeys');
    this.maxDescriptors = maxDescriptors;
    this.skew = skew;
  }

  /** This node's identity key. */
  get identity(): Uint8Array {
    return this.self.slice();
  }

  /** The latest consensus published or adopted, if any (it may have expired: check its window). */
  current(): VerifiedConsensus | undefined {
    return this.latest;
  }

  /** How many node identities have a held descriptor. */
  descriptorCount(): number {
    return this.store.size;
  }

  /** The body this node computed for the current period, if it has (diagnostics and tests). */
  computedBody(): { period: number; body: Uint8Array; digest: Uint8Array } | undefined {
    const r = this.round;
    if (r?.computed === undefined) return undefined;
    return { period: r.period, body: r.computed.body.slice(), digest: r.computed.digest.slice() };
  }

  /** When the next tick is due (ms): the vote time, the compute time or the next period start. */
  nextWakeup(now: number): number {
    checkTime(now, 'now');
    const r = this.round;
    if (r === undefined || !this.started) return now;
    if (r.period < Math.floor(now / this.periodMs)) return now;
    if (!r.voted) return r.start + this.voteOffsetMs;
    if (!r.computeDone) return r.start + this.computeOffsetMs;
    return r.start + this.periodMs;
  }

  handle(event: VotingEvent): VotingAction[] {
    if (typeof event !== 'object' || event === null) throw new TypeError('event must be an object');
    checkTime(event.now, 'event.now');
    if (event.type === 'message') {
      assertBytes(event.bytes, 'event.bytes');
      if (event.from !== undefined) assertBytes(event.from, 'event.from', 32);
    } else if (event.type !== 'tick') {
      throw new RangeError(`event.type ${String((event as { type: unknown }).type)} is not a voting event`);
    }
    const out: VotingAction[] = [];
    this.advance(event.now, out);
    if (event.type === 'message') this.onMessage(event.now, event.bytes, event.from, out);
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Time

  private advance(now: number, out: VotingAction[]): void {
    if (!this.started) {
      this.started = true;
      for (const to of this.peers) out.push({ type: 'send', to, message: encodeDiscoveryMessage({ type: 'pull', network: this.network }) });
    }
    const period = Math.floor(now / this.periodMs);
    if (this.round === undefined || period > this.round.period) this.startRound(period);
    const r = this.round!;
    if (period < r.period) return; // the clock went back: wait until it catches up
    for (const [k, d] of this.store) if (d.validUntil <= now) this.store.delete(k);
    if (!r.voted && now >= r.start + this.voteOffsetMs) this.vote(r, out);
    if (!r.computeDone && now >= r.start + this.computeOffsetMs) this.compute(r, now, out);
  }

  private startRound(period: number): void {
    this.round = {
      period,
      start: period * this.periodMs,
      voted: false,
      computeDone: false,
      votes: new Map(),
      signatures: new Map(),
      pending: new Map(),
      publishedWith: 0,
    };
    const early = this.early;
    this.early = new Map();
    for (const [k, v] of early) if (v.period === period) this.round.votes.set(k, v);
  }

  private descriptorsAt(r: Round): number {
    return r.start + this.voteOffsetMs;
  }

  // -------------------------------------------------------------------------------------------
  // Voting and computing

  private vote(r: Round, out: VotingAction[]): void {
    r.voted = true;
    const { bytes, vote } = createVote(
      this.suite,
      { network: this.network, period: r.period, descriptors: [...this.store.values()], descriptorsAt: this.descriptorsAt(r), policy: this.policy },
      this.secretKey,
    );
    if (!r.computeDone) r.votes.set(this.selfHex, vote);
    out.push({ type: 'voted', period: r.period, descriptors: vote.descriptors.length });
    const message = encodeDiscoveryMessage({ type: 'vote', vote: bytes });
    for (const to of this.peers) out.push({ type: 'send', to, message });
  }

  private compute(r: Round, now: number, out: VotingAction[]): void {
    r.computeDone = true;
    if (r.votes.size < majorityOf(this.keys.length)) {
      out.push({ type: 'skipped', period: r.period, reason: 'too-few-votes' });
      return;
    }
    const body = computeConsensus([...r.votes.values()], {
      network: this.network,
      period: r.period,
      periodMs: this.periodMs,
      discoveryKeys: this.keys,
      ...(this.authorityKeys === undefined ? {} : { authorityKeys: this.authorityKeys }),
    });
    if (body.nodes.length === 0) {
      out.push({ type: 'skipped', period: r.period, reason: 'empty' });
      return;
    }
    const bodyBytes = encodeConsensusBody(body);
    const digest = this.suite.sha256(bodyBytes);
    r.computed = { body: bodyBytes, digest };
    out.push({ type: 'computed', period: r.period, votes: r.votes.size, nodes: body.nodes.length, bodyDigest: digest.slice() });
    const own = signConsensus(this.suite, bodyBytes, this.secretKey);
    r.signatures.set(this.selfHex, own);
    const message = encodeDiscoveryMessage({
      type: 'signature',
      signature: { network: this.network, period: r.period, bodyDigest: digest, signer: own.signer, signature: own.signature },
    });
    for (const to of this.peers) out.push({ type: 'send', to, message });
    const pending = [...r.pending.values()];
    r.pending.clear();
    for (const p of pending) this.takeSignature(r, p, undefined, out);
    this.maybePublish(r, now, out);
  }

  private maybePublish(r: Round, now: number, out: VotingAction[]): void {
    const c = r.computed;
    if (c === undefined || r.signatures.size < this.trust.threshold || r.signatures.size <= r.publishedWith) return;
    const bytes = encodeSignedConsensus(c.body, [...r.signatures.values()]);
    let verified: VerifiedConsensus;
    try {
      verified = verifyConsensus(this.suite, parseSignedConsensus(bytes), this.trust, now, { maxClockSkewMs: this.skew });
    } catch (e) {
      if (!(e instanceof DirectoryError)) throw e;
      // Only signatures that verified were collected, so this means the window has passed.
      out.push({ type: 'rejected', what: 'consensus', code: e.code, detail: `own consensus not published: ${e.message}` });
      return;
    }
    const first = r.publishedWith === 0;
    r.publishedWith = r.signatures.size;
    this.setLatest(verified);
    out.push({ type: 'publish', consensus: verified });
    if (first) {
      const message = encodeDiscoveryMessage({ type: 'consensus', consensus: bytes });
      for (const to of this.peers) out.push({ type: 'send', to, message });
    }
  }

  private setLatest(c: VerifiedConsensus): void {
    this.latest = c;
  }

  // -------------------------------------------------------------------------------------------
  // Messages

  private onMessage(now: number, bytes: Uint8Array, from: Uint8Array | undefined, out: VotingAction[]): void {
    let m: DiscoveryMessage;
    try {
      m = decodeDiscoveryMessage(bytes);
    } catch (e) {
      if (!(e instanceof DirectoryError)) throw e;
      out.push({ type: 'rejected', what: 'message', code: e.code, detail: e.message, ...(from ? { from } : {}) });
      return;
    }
    const r = this.round!;
    switch (m.type) {
      case 'publish':
        this.onPublish(now, m.descriptor, from, out);
        return;
      case 'vote':
        this.onVote(r, m.vote, from, out);
        return;
      case 'signature':
        this.onSignature(r, now, m.signature, from, out);
        return;
      case 'consensus':
        this.onConsensus(r, now, m.consensus, from, out);
        return;
      case 'pull': {
        const c = this.latest;
        const ok = m.network === this.network && c !== undefined && now < c.validUntil;
        out.push({ type: 'reply', message: encodeDiscoveryMessage(ok ? { type: 'consensus', consensus: c.bytes } : { type: 'no-consensus' }) });
        return;
      }
      case 'no-consensus':
        return; // an answer to our pull: nothing to adopt
      case 'publish-result':
        out.push({ type: 'rejected', what: 'message', code: 'unexpected', detail: `a discovery node does not expect '${m.type}'`, ...(from ? { from } : {}) });
        return;
    }
  }

  private onPublish(now: number, bytes: Uint8Array, from: Uint8Array | undefined, out: VotingAction[]): void {
    const reply = (status: 'accepted' | DirectoryErrorCode): void => {
      out.push({ type: 'reply', message: encodeDiscoveryMessage({ type: 'publish-result', status }) });
    };
    let d: VerifiedDescriptor;
    try {
      d = verifyDescriptor(this.suite, parseDescriptor(bytes), now, this.policy);
    } catch (e) {
      if (!(e instanceof DirectoryError)) throw e;
      out.push({ type: 'rejected', what: 'descriptor', code: e.code, detail: e.message, ...(from ? { from } : {}) });
      reply(e.code);
      return;
    }
    const k = toHex(d.identity);
    const held = this.store.get(k);
    if (held === undefined && this.store.size >= this.maxDescriptors) {
      out.push({ type: 'rejected', what: 'descriptor', code: 'limit-exceeded', detail: `already holding ${this.store.size} nodes` });
      reply('limit-exceeded');
      return;
    }
    if (held !== undefined && !(d.publishedAt > held.publishedAt || (d.publishedAt === held.publishedAt && compareBytes(d.digest, held.digest) <= 0))) {
      out.push({ type: 'rejected', what: 'descriptor', code: 'duplicate', detail: 'a newer descriptor of this node is held' });
      reply('duplicate');
      return;
    }
    this.store.set(k, d);
    reply('accepted');
  }

  private onVote(r: Round, bytes: Uint8Array, from: Uint8Array | undefined, out: VotingAction[]): void {
    const reject = (code: VotingRejectCode, detail: string): void => {
      out.push({ type: 'rejected', what: 'vote', code, detail, ...(from ? { from } : {}) });
    };
    let vote: VerifiedVote;
    try {
      const u = parseVote(bytes);
      // A vote for the next period is checked now (its reference time is already fixed) and held.
      const period = u.claimed.period === r.period + 1 ? r.period + 1 : r.period;
      const known = new Map<string, VerifiedDescriptor>();
      for (const d of this.store.values()) known.set(toHex(d.digest), d);
      vote = verifyVote(this.suite, u, {
        network: this.network,
        discoveryKeys: this.keys,
        period,
        descriptorsAt: period * this.periodMs + this.voteOffsetMs,
        policy: this.policy,
        known,
      });
    } catch (e) {
      if (!(e instanceof DirectoryError)) throw e;
      return reject(e.code, e.message);
    }
    const vk = toHex(vote.voter);
    if (vk === this.selfHex) return reject('duplicate', "a vote signed with this node's own key that it did not make now");
    const held = vote.period === r.period ? r.votes.get(vk) : this.early.get(vk);
    if (held !== undefined) {
      if (!equalBytes(held.digest, vote.digest)) reject('duplicate', 'a different vote from this voter is already held for this period');
      return;
    }
    if (vote.period !== r.period) {
      this.early.set(vk, vote);
      return;
    }
    if (r.computeDone) return reject('too-late', `vote for period ${r.period} arrived after the compute time`);
    r.votes.set(vk, vote);
  }

  private onSignature(r: Round, now: number, s: ConsensusSignatureMessage, from: Uint8Array | undefined, out: VotingAction[]): void {
    const reject = (code: VotingRejectCode, detail: string): void => {
      out.push({ type: 'rejected', what: 'signature', code, detail, ...(from ? { from } : {}) });
    };
    if (s.network !== this.network) return reject('wrong-network', `signature for network '${s.network}'`);
    const sk = toHex(s.signer);
    if (!this.keySet.has(sk)) return reject('unknown-signer', 'signature from a key that is not a configured discovery node');
    if (s.period !== r.period) return reject('wrong-period', `signature for period ${s.period}, current period ${r.period}`);
    if (!r.computeDone) {
      r.pending.set(sk, s);
      return;
    }
    this.takeSignature(r, s, from, out);
    this.maybePublish(r, now, out);
  }

  private takeSignature(r: Round, s: ConsensusSignatureMessage, from: Uint8Array | undefined, out: VotingAction[]): void {
    const reject = (code: VotingRejectCode, detail: string): void => {
      out.push({ type: 'rejected', what: 'signature', code, detail, ...(from ? { from } : {}) });
    };
    const c = r.computed;
    if (c === undefined) return reject('different-body', 'this node signed no body this period');
    if (!equalBytes(s.bodyDigest, c.digest)) return reject('different-body', `signer ${toHex(s.signer).slice(0, 16)}… signed a different body`);
    if (!verifyConsensusSignature(this.suite, c.body, { signer: s.signer, signature: s.signature })) {
      return reject('bad-signature', 'signature does not verify over this body');
    }
    const sk = toHex(s.signer);
    const held = r.signatures.get(sk);
    if (held !== undefined && !equalBytes(held.signature, s.signature)) return; // Ed25519 is deterministic: keep the first
    r.signatures.set(sk, { signer: s.signer.slice(), signature: s.signature.slice() });
  }

  private onConsensus(r: Round, now: number, bytes: Uint8Array, from: Uint8Array | undefined, out: VotingAction[]): void {
    let c: VerifiedConsensus;
    let sigs: readonly ConsensusSignature[];
    try {
      const u = parseSignedConsensus(bytes);
      sigs = u.signatures;
      c = verifyConsensus(this.suite, u, this.trust, now, { maxClockSkewMs: this.skew });
    } catch (e) {
      if (!(e instanceof DirectoryError)) throw e;
      out.push({ type: 'rejected', what: 'consensus', code: e.code, detail: e.message, ...(from ? { from } : {}) });
      return;
    }
    if (r.computed !== undefined && c.period === r.period && equalBytes(c.bodyDigest, r.computed.digest)) {
      const valid = new Set(c.signers.map(toHex));
      for (const s of sigs) {
        const k = toHex(s.signer);
        if (valid.has(k) && !r.signatures.has(k)) r.signatures.set(k, { signer: s.signer.slice(), signature: s.signature.slice() });
      }
      this.maybePublish(r, now, out);
      return;
    }
    const cur = this.latest;
    if (cur === undefined || c.period > cur.period) {
      this.setLatest(c);
      out.push({ type: 'publish', consensus: c });
    }
  }
}
