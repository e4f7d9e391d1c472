/**
 * The landing and distribution roles of live streams (seed 004 §8.1–8.2; DESIGN §3 "Live
 * streams"; PSP reference flows/media.md, flows/fanout.md). Stream traffic rides stream sessions
 * on links (link/stream-mux.ts), never onion circuits.
 *
 * Landing node (role "landing"):
 *   - create-stream, from the creator over a fresh anonymous link: the oracle receipt is parsed,
 *     verified against the network's oracle keys and spent once (ReceiptLedger); the request must
 *     fit what it allows. The creator names no identity: this node learns her address, never who
 *     she is (the oracle learned who, never where). Answer: created(streamId).
 *   - The creator's media and group signatures feed a FanoutRelay (the root of the stream's tree);
 *     the distribution nodes she offered wait in the FanoutTree's pool and are attached as viewers
 *     grow: attach-distribution goes to the node (and to its parent when the parent is not this
 *     node) over authenticated node links; the node relay-joins its parent.
 *   - join from a viewer: its viewer identification ID is verified (oracle-signed, unexpired); the
 *     tree places it here (joined) or at a distribution node (redirect with that node's address).
 *   - Every reportIntervalMs (and whenever the count changes) the creator gets a stream-report:
 *     viewers and traffic of this node plus what each distribution node last reported.
 *   - A public stream's keys and title are published in the DHT (publishPublic).
 * Distribution node (role "distribution"):
 *   - attach-distribution from a landing node (authenticated link, a listed node with the landing
 *     role) opens the stream's control session; the node relay-joins its parent and serves up to
 *     `capacity` subscribers (viewers the landing node redirected here, and child nodes the landing
 *     node attached below it); reports go back on the control session, with viewer-change when a
 *     viewer arrives or leaves.
 *
 * Both forward the upstream bytes unchanged (opaque SFrame ciphertext and signatures): a relay
 * holds no stream key. Late joiners start at the latest keyframe, congestion skips to the next
 * one, and a slow subscriber is cut off without slowing the others (FanoutRelay).
 */
import type { CryptoSuite } from '../../crypto/api';
import type { NodeAddress } from '../../directory/address';
import type { IdentityKeys } from '../../link/handshake';
import type { NodeTarget } from '../../onion/channel';
import {
  FanoutRelay,
  FanoutTree,
  ReceiptLedger,
  decodeStreamMessage,
  parseReceipt,
  parseViewerId,
  receiptShortfall,
  verifyReceipt,
  verifyViewerId,
  type FanoutAction,
  type FanoutOptions,
  type OracleTrust,
  type PublicMetadata,
  type StreamMessage,
  type StreamParameters,
  type TreeAction,
} from '../../stream';
import { equalBytes, fromHex, toHex } from '../../util/bytes';
import { MAX_PUBLIC_STREAMS_PER_RECORD } from '../../stream/public-streams';
import type { Link } from '../link/link';
import { StreamMux, StreamSession } from '../link/stream-mux';
import type { Logger } from '../log';

export interface StreamServiceLimits {
  /** Streams a landing node carries at once. */
  readonly maxStreams: number;
  /** Subscribers (viewers and child nodes) the landing node serves per stream itself. */
  readonly landingCapacity: number;
  /** Subscribers a distribution node serves per stream. */
  readonly distributionCapacity: number;
  /** How often reports go up (distribution → landing → creator). */
  readonly reportIntervalMs: number;
  /** How long a redirected viewer has to arrive at its distribution node. */
  readonly redirectGraceMs: number;
  /** Public streams one landing node lists. */
  readonly maxPublicStreams: number;
  /** How long a distribution node that could not be attached waits before it is offered again. */
  readonly reofferMs: number;
  readonly fanout?: Omit<FanoutOptions, 'streamId'>;
}

export const DEFAULT_STREAM_LIMITS: StreamServiceLimits = Object.freeze({
  maxStreams: 64,
  landingCapacity: 32,
  distributionCapacity: 256,
  reportIntervalMs: 1000,
  redirectGraceMs: 15_000,
  maxPublicStreams: MAX_PUBLIC_STREAMS_PER_RECORD,
  reofferMs: 5000,
});

export interface PublicStreamEntry {
  readonly streamId: Uint8Array;
  readonly meta: PublicMetadata;
}

export interface UsageSink {
  add(sessionId: Uint8Array, role: 'viewer' | 'distribution', downBytes: number, upBytes: number): void;
}

export interface StreamServiceOptions {
  readonly suite: CryptoSuite;
  readonly identity: IdentityKeys;
  readonly network: string;
  readonly oracleKeys: readonly Uint8Array[];
  readonly landing: boolean;
  readonly distribution: boolean;
  readonly log: Logger;
  /** Where this node listens, for redirects and attach messages. */
  readonly address: () => NodeAddress;
  /** A listed node (any role), from the current verified node list. */
  readonly listed: (identity: Uint8Array) => (NodeTarget & { roles: readonly string[] }) | undefined;
  /** An authenticated link to a node (reused when open). */
  readonly linkTo: (target: NodeTarget) => Promise<Link>;
  /** Publishes this landing node's public streams (the DHT); absent: public streams are refused. */
  readonly publishPublic?: (streams: readonly PublicStreamEntry[]) => Promise<void>;
  /** How often the public list is published again while it is not empty (before DHT records expire). */
  readonly republishMs?: number;
  /** Usage per viewer session, for the oracles. */
  readonly usage?: UsageSink;
  readonly limits?: Partial<StreamServiceLimits>;
  readonly now?: () => number;
}

export interface StreamServiceStats {
  readonly streams: number;
  readonly viewers: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly framesDropped: number;
}

/** One subscriber of a relay: a viewer or a child distribution node. */
interface Subscriber {
  readonly key: string;
  readonly session: StreamSession;
  readonly kind: 'viewer' | 'node';
  /** Viewer: the sessionId of its viewer ID; node: its identity. */
  readonly tag: Uint8Array;
  usageReported: number;
}

/** What landing and distribution streams share: a relay and its subscribers. */
abstract class RelayedStream {
  readonly relay: FanoutRelay;
  readonly subscribers = new Map<string, Subscriber>();
  private nextSub = 1;
  ended = false;

  constructor(
    readonly svc: StreamService,
    readonly streamId: Uint8Array,
    fanout: Omit<FanoutOptions, 'streamId'> | undefined,
  ) {
    this.relay = new FanoutRelay({ ...fanout, streamId });
  }

  get hex(): string {
    return toHex(this.streamId);
  }

  viewerCount(): number {
    let n = 0;
    for (const s of this.subscribers.values()) if (s.kind === 'viewer') n++;
    return n;
  }

  hasViewer(sessionId: Uint8Array): boolean {
    for (const s of this.subscribers.values()) if (s.kind === 'viewer' && equalBytes(s.tag, sessionId)) return true;
    return false;
  }

  /** Upstream media or a group signature: forwarded unchanged. */
  push(bytes: Uint8Array): void {
    this.apply(this.relay.push(bytes));
  }

  addSubscriber(session: StreamSession, kind: 'viewer' | 'node', tag: Uint8Array): Subscriber {
    const key = `s${this.nextSub++}`;
    const sub: Subscriber = { key, session, kind, tag, usageReported: 0 };
    this.subscribers.set(key, sub);
    session.on('message', (bytes) => this.fromSubscriber(sub, bytes));
    session.once('close', () => this.dropSubscriber(sub));
    this.apply(this.relay.addSubscriber(key));
    return sub;
  }

  private fromSubscriber(sub: Subscriber, bytes: Uint8Array): void {
    let m: StreamMessage;
    try {
      m = decodeStreamMessage(bytes);
    } catch {
      return sub.session.refuse('protocol', this.streamId);
    }
    if (m.type === 'leave') sub.session.close(null, 'viewer left');
    // Nothing else is taken from a subscriber.
  }

  dropSubscriber(sub: Subscriber): void {
    if (!this.subscribers.delete(sub.key)) return;
    this.reportUsage(sub);
    this.relay.removeSubscriber(sub.key);
    this.subscriberGone(sub);
  }

  reportUsage(sub: Subscriber): void {
    if (sub.kind !== 'viewer' || !this.svc.o.usage) return;
    const out = this.relay.subscriberStats(sub.key)?.bytesOut ?? sub.usageReported;
    if (out > sub.usageReported) {
      this.svc.o.usage.add(sub.tag, 'distribution', out - sub.usageReported, 0);
      sub.usageReported = out;
    }
  }

  protected abstract subscriberGone(sub: Subscriber): void;

  apply(actions: FanoutAction[]): void {
    for (const a of actions) {
      const sub = this.subscribers.get(a.subscriber);
      if (!sub) continue;
      if (a.type === 'close') {
        sub.session.refuse('too-slow', this.streamId);
        continue;
      }
      sub.session.send(a.bytes, (err) => {
        if (err || !this.subscribers.has(sub.key)) return;
        this.apply(this.relay.acknowledge(sub.key));
      });
    }
  }

  /** Ends the stream for every subscriber. */
  endAll(): void {
    if (this.ended) return;
    this.ended = true;
    for (const s of [...this.subscribers.values()]) {
      this.reportUsage(s);
      this.subscribers.delete(s.key);
      s.session.close({ type: 'end-stream', streamId: this.streamId }, 'stream ended');
    }
  }
}

interface NodeReport {
  viewers: number;
  bytesIn: number;
  bytesOut: number;
  framesDropped: number;
}

class LandingStream extends RelayedStream {
  readonly tree: FanoutTree;
  /** Control sessions to attached distribution nodes, by identity hex. */
  readonly control = new Map<string, { session: StreamSession; target: NodeTarget }>();
  readonly reports = new Map<string, NodeReport>();
  /** Redirected viewers not yet seen at their node: sessionId hex → timer. */
  readonly pending = new Map<string, NodeJS.Timeout>();
  /** Distribution nodes being attached: true once the node took the stream. */
  readonly attaching = new Map<string, Promise<boolean>>();
  /** Offered distribution nodes the node list does not name yet: identity hex → give up after. */
  readonly unlisted = new Map<string, number>();
  /** Child nodes allowed to relay-join this node. */
  readonly children = new Set<string>();
  private timer: NodeJS.Timeout;
  private lastSentViewers = -1;

  constructor(
    svc: StreamService,
    streamId: Uint8Array,
    readonly creator: StreamSession,
    readonly params: StreamParameters,
    readonly publicMeta: PublicMetadata | null,
  ) {
    super(svc, streamId, svc.limits.fanout);
    this.tree = new FanoutTree({ root: toHex(svc.o.identity.publicKey), rootCapacity: svc.limits.landingCapacity });
    this.timer = setInterval(() => {
      if (this.unlisted.size > 0) svc.promoteOffers(this);
      this.report(true);
    }, svc.limits.reportIntervalMs);
    this.timer.unref();
  }

  viewersTotal(): number {
    let n = this.viewerCount();
    for (const r of this.reports.values()) n += r.viewers;
    return n;
  }

  /** Sends the creator the figures (always on the timer, else only when the count changed). */
  report(periodic: boolean): void {
    if (this.ended) return;
    const viewers = this.viewersTotal();
    if (!periodic && viewers === this.lastSentViewers) return;
    this.lastSentViewers = viewers;
    const s = this.relay.stats();
    let bytesOut = s.bytesOut;
    let framesDropped = s.framesDropped;
    for (const r of this.reports.values()) {
      bytesOut += r.bytesOut;
      framesDropped += r.framesDropped;
    }
    this.creator.sendMessage({
      type: 'stream-report',
      streamId: this.streamId,
      viewers,
      nodes: Math.min(0xffff, 1 + this.control.size),
      bytesIn: s.bytesIn,
      bytesOut,
      framesDropped,
    });
    for (const sub of this.subscribers.values()) this.reportUsage(sub);
  }

  protected subscriberGone(sub: Subscriber): void {
    if (sub.kind === 'viewer') {
      this.tree.removeViewer(toHex(sub.tag));
      this.svc.applyTree(this, this.tree.releaseIdle());
    } else {
      this.children.delete(toHex(sub.tag));
    }
    this.report(false);
  }

  stop(): void {
    clearInterval(this.timer);
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    this.endAll();
    for (const c of this.control.values()) c.session.close({ type: 'end-stream', streamId: this.streamId }, 'stream ended');
    this.control.clear();
    if (!this.creator.isClosed) this.creator.close({ type: 'end-stream', streamId: this.streamId }, 'stream ended');
  }
}

class DistributionStream extends RelayedStream {
  parentSession: StreamSession | null = null;
  readonly children = new Set<string>();
  private timer: NodeJS.Timeout;
  parentKey = '';

  constructor(
    svc: StreamService,
    streamId: Uint8Array,
    readonly control: StreamSession,
    readonly landing: Uint8Array,
    public capacity: number,
  ) {
    super(svc, streamId, svc.limits.fanout);
    this.timer = setInterval(() => this.report(), svc.limits.reportIntervalMs);
    this.timer.unref();
  }

  report(): void {
    if (this.ended) return;
    const s = this.relay.stats();
    this.control.sendMessage({
      type: 'stream-report',
      streamId: this.streamId,
      viewers: this.viewerCount(),
      nodes: 1,
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
      framesDropped: s.framesDropped,
    });
    for (const sub of this.subscribers.values()) this.reportUsage(sub);
  }

  protected subscriberGone(sub: Subscriber): void {
    if (sub.kind === 'viewer') {
      this.control.sendMessage({ type: 'viewer-change', streamId: this.streamId, sessionId: sub.tag, present: false });
      this.report();
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.endAll();
    this.parentSession?.close({ type: 'leave', streamId: this.streamId }, 'detached');
    this.parentSession = null;
    if (!this.control.isClosed) this.control.close(null, 'detached');
  }
}

export class StreamService {
  readonly limits: StreamServiceLimits;
  private readonly trust: OracleTrust;
  private readonly ledger = new ReceiptLedger();
  private readonly landingStreams = new Map<string, LandingStream>();
  private readonly distStreams = new Map<string, DistributionStream>();
  private readonly now: () => number;
  private readonly selfHex: string;
  private stopped = false;
  private readonly republishTimer: NodeJS.Timeout | null = null;

  constructor(readonly o: StreamServiceOptions) {
    this.limits = { ...DEFAULT_STREAM_LIMITS, ...o.limits };
    this.trust = { network: o.network, oracleKeys: o.oracleKeys };
    this.now = o.now ?? Date.now;
    this.selfHex = toHex(o.identity.publicKey);
    if (o.publishPublic && o.landing) {
      this.republishTimer = setInterval(() => {
        if ([...this.landingStreams.values()].some((s) => s.publicMeta !== null)) this.republish();
      }, o.republishMs ?? 60_000);
      this.republishTimer.unref();
    }
  }

  /** Takes the stream sessions of a link (every link of the node). */
  attach(link: Link): StreamMux {
    return StreamMux.of(link, { onSession: (s, first) => this.onSession(s, first) });
  }

  stats(): StreamServiceStats {
    let viewers = 0;
    let bytesIn = 0;
    let bytesOut = 0;
    let framesDropped = 0;
    for (const s of [...this.landingStreams.values(), ...this.distStreams.values()]) {
      const st = s.relay.stats();
      viewers += s.viewerCount();
      bytesIn += st.bytesIn;
      bytesOut += st.bytesOut;
      framesDropped += st.framesDropped;
    }
    return { streams: this.landingStreams.size + this.distStreams.size, viewers, bytesIn, bytesOut, framesDropped };
  }

  stop(): void {
    this.stopped = true;
    if (this.republishTimer) clearInterval(this.republishTimer);
    for (const s of this.landingStreams.values()) s.stop();
    for (const s of this.distStreams.values()) s.stop();
    this.landingStreams.clear();
    this.distStreams.clear();
  }

  private onSession(session: StreamSession, first: StreamMessage): void {
    if (this.stopped) return session.refuse('unspecified');
    try {
      switch (first.type) {
        case 'create-stream':
          return this.onCreate(session, first);
        case 'join':
          return this.onJoin(session, first.streamId, first.viewerId);
        case 'relay-join':
          return this.onRelayJoin(session, first.streamId);
        case 'attach-distribution':
          return this.onAttach(session, first);
        default:
          return session.refuse('protocol');
      }
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message, type: first.type }, 'stream request failed');
      if (!session.isClosed) session.refuse('unspecified');
    }
  }

  // ---- landing ------------------------------------------------------------------------------

  private onCreate(session: StreamSession, m: Extract<StreamMessage, { type: 'create-stream' }>): void {
    if (!this.o.landing) return session.refuse('protocol');
    if (this.landingStreams.size >= this.limits.maxStreams) return session.refuse('full');
    const now = this.now();
    let receipt;
    try {
      receipt = verifyReceipt(this.o.suite, parseReceipt(m.receipt), now, this.trust);
    } catch (err) {
      this.o.log.info({ err: (err as Error).message }, 'stream creation refused: receipt');
      return session.refuse('bad-receipt');
    }
    if (receiptShortfall(receipt, { ...m.params, public: m.public !== null }).length > 0) return session.refuse('receipt-limits');
    if (m.public !== null) {
      const publicCount = [...this.landingStreams.values()].filter((s) => s.publicMeta !== null).length;
      if (!this.o.publishPublic || publicCount >= this.limits.maxPublicStreams) return session.refuse('full');
    }
    const spent = this.ledger.spend(receipt, now);
    if (spent === 'already-spent') return session.refuse('receipt-spent');
    if (spent !== 'spent') return session.refuse(spent === 'expired' ? 'bad-receipt' : 'full');

    const streamId = this.o.suite.randomBytes(16);
    const stream = new LandingStream(this, streamId, session, m.params, m.public);
    for (const offer of m.distribution) {
      if (equalBytes(offer.identity, this.o.identity.publicKey)) continue;
      // A node this node's list does not name (yet) waits until it does, for a minute at most.
      stream.unlisted.set(toHex(offer.identity), this.now() + 60_000);
    }
    this.promoteOffers(stream);
    this.landingStreams.set(stream.hex, stream);
    session.accept({ type: 'created', streamId });
    this.o.log.info({ stream: stream.hex.slice(0, 8), public: m.public !== null, offered: stream.tree.poolSize }, 'stream created');
    session.on('message', (bytes) => this.fromCreator(stream, bytes));
    session.once('close', () => this.endLanding(stream, 'creator gone'));
    if (m.public !== null) this.republish();
  }

  private fromCreator(stream: LandingStream, bytes: Uint8Array): void {
    const type = bytes[0];
    if (type === 0x20 || type === 0x21) {
      try {
        stream.push(bytes);
      } catch (err) {
        this.o.log.info({ err: (err as Error).message }, 'stream ended: creator broke the media order');
        this.endLanding(stream, 'protocol');
      }
      return;
    }
    let m: StreamMessage;
    try {
      m = decodeStreamMessage(bytes);
    } catch {
      return this.endLanding(stream, 'malformed');
    }
    if (m.type === 'end-stream' && equalBytes(m.streamId, stream.streamId)) this.endLanding(stream, 'creator ended it');
  }

  private endLanding(stream: LandingStream, why: string): void {
    if (this.landingStreams.get(stream.hex) !== stream) return;
    this.landingStreams.delete(stream.hex);
    stream.stop();
    this.o.log.info({ stream: stream.hex.slice(0, 8), why }, 'stream ended');
    if (stream.publicMeta !== null) this.republish();
  }

  private republish(): void {
    const entries = [...this.landingStreams.values()]
      .filter((s) => s.publicMeta !== null)
      .map((s) => ({ streamId: s.streamId, meta: s.publicMeta! }));
    this.o.publishPublic?.(entries).catch((err: Error) => this.o.log.warn({ err: err.message }, 'public streams not published'));
  }

  private verifyViewer(viewerId: Uint8Array): Uint8Array | null {
    try {
      return verifyViewerId(this.o.suite, parseViewerId(viewerId), this.now(), this.trust).sessionId;
    } catch {
      return null;
    }
  }

  private onJoin(session: StreamSession, streamId: Uint8Array, viewerId: Uint8Array): void {
    const sessionId = this.verifyViewer(viewerId);
    if (!sessionId) return session.refuse('bad-viewer-id', streamId);
    const key = toHex(streamId);
    const landing = this.landingStreams.get(key);
    if (landing) return this.joinLanding(landing, session, sessionId);
    const dist = this.distStreams.get(key);
    if (dist) return this.joinDistribution(dist, session, sessionId);
    session.refuse('unknown-stream', streamId);
  }

  private joinLanding(stream: LandingStream, session: StreamSession, sessionId: Uint8Array, attempt = 0): void {
    const vKey = toHex(sessionId);
    if (attempt === 0) {
      if (stream.hasViewer(sessionId) || stream.pending.has(vKey)) return session.refuse('duplicate', stream.streamId);
      if (stream.viewersTotal() + stream.pending.size >= stream.params.maxViewers) return session.refuse('full', stream.streamId);
    }
    if (stream.unlisted.size > 0) this.promoteOffers(stream);
    if (stream.tree.nodeOf(vKey) !== null) stream.tree.removeViewer(vKey);
    const placed = stream.tree.placeViewer(vKey);
    if (placed === null) return session.refuse('full', stream.streamId);
    this.applyTree(stream, placed.actions.filter((a) => a.type !== 'assign'));
    if (placed.node === this.selfHex) {
      session.accept({ type: 'joined', streamId: stream.streamId });
      stream.addSubscriber(session, 'viewer', sessionId);
      stream.report(false);
      return;
    }
    // Held as pending until the viewer shows up at its node (viewer-change) or the grace ends.
    const forget = () => {
      clearTimeout(stream.pending.get(vKey));
      stream.pending.delete(vKey);
      if (stream.tree.nodeOf(vKey) === placed.node) stream.tree.removeViewer(vKey);
    };
    const t = setTimeout(forget, this.limits.redirectGraceMs);
    t.unref();
    stream.pending.set(vKey, t);
    // A node being attached must have taken the stream before a viewer is sent there.
    const ready = stream.attaching.get(placed.node) ?? Promise.resolve(true);
    void ready.then((ok) => {
      const target = ok ? this.o.listed(fromHex(placed.node)) : undefined;
      if (session.isClosed || stream.ended) return forget();
      if (!target || target.addresses.length === 0) {
        forget();
        // The node could not be attached (the tree has let it go): place the viewer once more.
        return attempt === 0 ? this.joinLanding(stream, session, sessionId, 1) : session.refuse('full', stream.streamId);
      }
      session.close({ type: 'redirect', streamId: stream.streamId, node: target.identity, address: target.addresses[0]! }, 'redirected');
    });
  }

  private onRelayJoin(session: StreamSession, streamId: Uint8Array): void {
    const peer = session.link.peerIdentity;
    if (!peer) return session.refuse('not-attached', streamId);
    const key = toHex(streamId);
    const s = this.landingStreams.get(key) ?? this.distStreams.get(key);
    if (!s) return session.refuse('unknown-stream', streamId);
    if (!s.children.has(toHex(peer))) return session.refuse('not-attached', streamId);
    session.accept({ type: 'joined', streamId });
    s.addSubscriber(session, 'node', peer);
  }

  /** Offers the stream's tree the offered distribution nodes that the node list now names with that role. */
  promoteOffers(stream: LandingStream): void {
    const now = this.now();
    for (const [hex, until] of stream.unlisted) {
      const listed = this.o.listed(fromHex(hex));
      if (listed?.roles.includes('distribution')) {
        stream.unlisted.delete(hex);
        try {
          stream.tree.offerNode(hex, this.limits.distributionCapacity);
        } catch {
          // part of the stream already
        }
      } else if (now > until) {
        stream.unlisted.delete(hex);
      }
    }
  }

  /** Carries out the tree's attach/detach actions (assignments are handled by the caller). */
  applyTree(stream: LandingStream, actions: TreeAction[]): void {
    for (const a of actions) {
      if (a.type === 'attach') {
        const done = this.attachNode(stream, a.node, a.parent);
        stream.attaching.set(a.node, done);
        void done.then(() => {
          if (stream.attaching.get(a.node) === done) stream.attaching.delete(a.node);
        });
      }
      else if (a.type === 'detach') {
        const c = stream.control.get(a.node);
        stream.control.delete(a.node);
        stream.reports.delete(a.node);
        c?.session.close({ type: 'detach-distribution', streamId: stream.streamId, node: fromHex(a.node) }, 'detached');
      }
    }
  }

  /** Attaches a distribution node; true once it has taken the stream. */
  private async attachNode(stream: LandingStream, nodeHex: string, parentHex: string): Promise<boolean> {
    const node = this.o.listed(fromHex(nodeHex));
    const parent = parentHex === this.selfHex ? null : this.o.listed(fromHex(parentHex));
    const parentAddress = parentHex === this.selfHex ? this.o.address() : parent?.addresses[0];
    if (!node || !parentAddress) {
      this.nodeFailed(stream, nodeHex);
      return false;
    }
    const attach: StreamMessage = {
      type: 'attach-distribution',
      streamId: stream.streamId,
      node: node.identity,
      parent: fromHex(parentHex),
      parentAddress,
      capacity: this.limits.distributionCapacity,
    };
    // The parent learns first that it may take the child.
    if (parentHex === this.selfHex) stream.children.add(nodeHex);
    else stream.control.get(parentHex)?.session.sendMessage(attach);
    const existing = stream.control.get(nodeHex);
    if (existing) {
      existing.session.sendMessage(attach);
      return true;
    }
    try {
      const link = await this.o.linkTo(node);
      const { session } = await this.attach(link).open(attach);
      if (stream.ended) {
        session.close(null, 'stream ended');
        return false;
      }
      stream.control.set(nodeHex, { session, target: node });
      session.on('message', (bytes) => this.fromNode(stream, nodeHex, bytes));
      session.once('close', () => {
        if (stream.control.get(nodeHex)?.session === session) this.nodeFailed(stream, nodeHex);
      });
      return true;
    } catch (err) {
      this.o.log.info({ node: nodeHex.slice(0, 8), err: (err as Error).message }, 'distribution node not attached');
      this.nodeFailed(stream, nodeHex);
      // Often passing (a node list that does not name this landing node yet): offered again later.
      const retry = setTimeout(() => {
        if (stream.ended || stream.tree.info(nodeHex) !== null) return;
        try {
          stream.tree.offerNode(nodeHex, this.limits.distributionCapacity);
        } catch {
          // back in the pool already
        }
      }, this.limits.reofferMs);
      retry.unref();
      return false;
    }
  }

  private nodeFailed(stream: LandingStream, nodeHex: string): void {
    stream.control.delete(nodeHex);
    stream.reports.delete(nodeHex);
    stream.children.delete(nodeHex);
    if (stream.ended) return;
    try {
      const { actions } = stream.tree.nodeFailed(nodeHex);
      // Viewers placed there reconnect through this node (their sessions closed with the node).
      for (const a of actions) if (a.type === 'assign') stream.tree.removeViewer(a.viewer);
      this.applyTree(stream, actions);
    } catch {
      // not part of the tree (any more)
    }
    stream.report(false);
  }

  private fromNode(stream: LandingStream, nodeHex: string, bytes: Uint8Array): void {
    const m = messageFor(stream.streamId, bytes);
    if (m === null) return;
    if (m.type === 'stream-report') {
      stream.reports.set(nodeHex, { viewers: m.viewers, bytesIn: m.bytesIn, bytesOut: m.bytesOut, framesDropped: m.framesDropped });
      stream.report(false);
    } else if (m.type === 'viewer-change') {
      const vKey = toHex(m.sessionId);
      const t = stream.pending.get(vKey);
      if (t) clearTimeout(t);
      stream.pending.delete(vKey);
      if (!m.present && stream.tree.nodeOf(vKey) === nodeHex) {
        stream.tree.removeViewer(vKey);
        this.applyTree(stream, stream.tree.releaseIdle());
      }
    }
  }

  // ---- distribution -------------------------------------------------------------------------

  private onAttach(session: StreamSession, m: Extract<StreamMessage, { type: 'attach-distribution' }>): void {
    const peer = session.link.peerIdentity;
    if (!this.o.distribution || !peer) return session.refuse('protocol', m.streamId);
    if (!this.o.listed(peer)?.roles.includes('landing')) return session.refuse('not-attached', m.streamId);
    if (!equalBytes(m.node, this.o.identity.publicKey)) return session.refuse('protocol', m.streamId);
    const key = toHex(m.streamId);
    if (this.distStreams.has(key)) return session.refuse('duplicate', m.streamId);
    const stream = new DistributionStream(this, m.streamId, session, peer, Math.min(m.capacity, this.limits.distributionCapacity));
    this.distStreams.set(key, stream);
    session.accept({ type: 'joined', streamId: m.streamId });
    session.on('message', (bytes) => this.fromLanding(stream, bytes));
    session.once('close', () => this.endDistribution(stream, 'landing node closed the control session'));
    void this.joinParent(stream, m.parent, m.parentAddress);
  }

  private fromLanding(stream: DistributionStream, bytes: Uint8Array): void {
    const m = messageFor(stream.streamId, bytes);
    if (m === null) return;
    if (m.type === 'attach-distribution') {
      if (equalBytes(m.parent, this.o.identity.publicKey)) stream.children.add(toHex(m.node));
      else if (equalBytes(m.node, this.o.identity.publicKey) && toHex(m.parent) !== stream.parentKey) void this.joinParent(stream, m.parent, m.parentAddress);
    } else if (m.type === 'detach-distribution') {
      if (equalBytes(m.node, this.o.identity.publicKey)) this.endDistribution(stream, 'detached');
      else {
        const k = toHex(m.node);
        stream.children.delete(k);
        for (const s of stream.subscribers.values()) if (s.kind === 'node' && toHex(s.tag) === k) s.session.close(null, 'detached');
      }
    } else if (m.type === 'end-stream') {
      this.endDistribution(stream, 'stream ended');
    }
  }

  private async joinParent(stream: DistributionStream, parent: Uint8Array, address: NodeAddress): Promise<void> {
    const parentKey = toHex(parent);
    stream.parentKey = parentKey;
    stream.parentSession?.close({ type: 'leave', streamId: stream.streamId }, 're-parented');
    stream.parentSession = null;
    try {
      const link = await this.o.linkTo({ identity: parent, addresses: [address], onionKey: new Uint8Array(32) });
      const { session } = await this.attach(link).open({ type: 'relay-join', streamId: stream.streamId });
      if (stream.ended || stream.parentKey !== parentKey) return session.close(null, 'not needed');
      stream.parentSession = session;
      session.on('message', (bytes) => {
        try {
          stream.push(bytes);
        } catch {
          // A parent forwards only what its relay accepted; anything else is dropped.
        }
      });
      session.once('close', (last) => {
        if (stream.parentSession !== session) return;
        stream.parentSession = null;
        this.endDistribution(stream, last?.type === 'end-stream' ? 'stream ended' : 'parent gone');
      });
    } catch (err) {
      this.o.log.info({ err: (err as Error).message }, 'relay-join failed');
      this.endDistribution(stream, 'parent unreachable');
    }
  }

  private joinDistribution(stream: DistributionStream, session: StreamSession, sessionId: Uint8Array): void {
    if (stream.hasViewer(sessionId)) return session.refuse('duplicate', stream.streamId);
    if (stream.subscribers.size >= stream.capacity) return session.refuse('full', stream.streamId);
    session.accept({ type: 'joined', streamId: stream.streamId });
    stream.addSubscriber(session, 'viewer', sessionId);
    stream.control.sendMessage({ type: 'viewer-change', streamId: stream.streamId, sessionId, present: true });
    stream.report();
  }

  private endDistribution(stream: DistributionStream, why: string): void {
    if (this.distStreams.get(stream.hex) !== stream) return;
    this.distStreams.delete(stream.hex);
    stream.stop();
    this.o.log.info({ stream: stream.hex.slice(0, 8), why }, 'distribution ended');
  }
}

/** A control message about `streamId` on a node's session; null for anything else (ignored). */
function messageFor(streamId: Uint8Array, bytes: Uint8Array): StreamMessage | null {
  let m: StreamMessage;
  try {
    m = decodeStreamMessage(bytes);
  } catch {
    return null;
  }
  if (!('streamId' in m) || !(m.streamId instanceof Uint8Array) || !equalBytes(m.streamId, streamId)) return null;
  return m;
}
