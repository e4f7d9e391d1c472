/**
 * The client side of live streams (seed 004 §8.2–8.3; DESIGN §3 "Live streams").
 *
 * Broadcasting (startBroadcast):
 *   1. stream keys are made locally: a random stream key, an ephemeral Ed25519 group-signing key
 *      (never the identity key), epoch 0, SFrame suite AES_128_CTR_HMAC_SHA256_80;
 *   2. a receipt from an oracle over a 3-hop circuit (oracle-client.ts): the oracle learns who
 *      asks, never from where;
 *   3. a fresh anonymous link (no client certificate, used for nothing else) to a listed landing
 *      node, and create-stream with the receipt, the parameters and distribution nodes offered
 *      from the node list: the landing node learns where the stream comes from, never who;
 *   4. each frame: encoded (media-frame.ts), SFrame-encrypted with its place in the stream as
 *      metadata, cut into media packets, and followed by a group signature over the group so far.
 *      When the link backs up, frames are skipped until the next keyframe (sendFrame → false).
 * The invite (stream id, landing node, keys) is for the creator to send inside chats only; a
 * public stream's keys go to the landing node for publication, since anyone may watch it.
 *
 * Viewing (joinStream): a viewer identification ID from an oracle (puzzle over a 3-hop circuit,
 * cached while valid), a fresh anonymous link to the landing node, join — answered with joined,
 * or a redirect to a distribution node (followed, a few hops at most). Frames are joined
 * (FrameAssembler), held until the broadcaster's group signature covers them (GroupVerifier:
 * a bad signature drops them), decrypted, decoded and handed out. When a relay goes away the
 * viewer joins again through the landing node.
 */
import { base58 } from '@scure/base';
import { shuffled } from '../../util/shuffle';
import { SFRAME_SUITE, streamKeyId, type SFrameContext } from '../../media';
import {
  FrameAssembler,
  GroupHasher,
  GroupVerifier,
  MAX_OFFERED_NODES,
  decodeInvite,
  decodeStreamMessage,
  encodeInvite,
  encodeMediaPacket,
  encodeStreamMessage,
  frameMetadata,
  packetizeFrame,
  parseViewerId,
  signGroup,
  streamSFrameContext,
  type StreamInvite,
  type StreamKeys,
  type StreamFrame,
} from '../../stream';
import { decodeMediaFrame, encodeMediaFrame, type MediaFrame } from '../../stream/media-frame';
import type { NodeAddress } from '../../directory/address';
import { equalBytes, toHex } from '../../util/bytes';
import { connectLink } from '../link/transport';
import type { Link } from '../link/link';
import { StreamClosedError, StreamMux, type StreamSession } from '../link/stream-mux';
import { reportViewerUsage, requestReceipt, requestViewerId, usagePeriodOf } from './oracle-client';
import { decodeDhtMessage, namespaceKeyRule, parseRecord, verifyRecord } from '../../dht';
import { AppEvent } from '../../message/envelope';
import { CircuitRpc } from '../../message/rpc';
import { realScheduler } from '../onion/runtime';
import { PUBLIC_STREAMS_NAMESPACE, decodePublicStreams, publicStreamsKey } from '../../stream/public-streams';
import type { ClientIdentity, ClientSession } from './session';
import type { BroadcastOptions, BroadcastStats, PublicStreamInfo, StreamBroadcaster, StreamViewer, ViewerStats } from './stream-api';

/** Distribution nodes offered with a stream (the landing node attaches them as viewers grow). */
const OFFERED_NODES = 4;
/** Redirects a viewer follows before giving up. */
const MAX_REDIRECTS = 4;
/** Times a viewer joins again after losing its relay. */
const MAX_REJOINS = 3;
/** The viewer's usage-report period (the oracles' grid is 60 s). */
const USAGE_PERIOD_MS = 60_000;

type Listener<T extends unknown[]> = (...a: T) => void;

class Emitter<T extends unknown[]> {
  private readonly cbs = new Set<Listener<T>>();
  on(cb: Listener<T>): () => void {
    this.cbs.add(cb);
    return () => this.cbs.delete(cb);
  }
  emit(...a: T): void {
    for (const cb of [...this.cbs]) {
      try {
        cb(...a);
      } catch {
        // a listener's fault is its own
      }
    }
  }
}

/** Bytes per second over a sliding window of a few seconds. */
class RateMeter {
  private samples: Array<[number, number]> = [];
  add(bytes: number, now = Date.now()): void {
    this.samples.push([now, bytes]);
    this.trim(now);
  }
  private trim(now: number): void {
    while (this.samples.length && now - this.samples[0]![0] > 3000) this.samples.shift();
  }
  perSecond(now = Date.now()): number {
    this.trim(now);
    if (this.samples.length === 0) return 0;
    const total = this.samples.reduce((a, [, b]) => a + b, 0);
    return total / Math.max(1, Math.min(3000, now - this.samples[0]![0] + 1)) * 1000;
  }
  count(now = Date.now()): number {
    this.trim(now);
    return this.samples.length / Math.max(0.001, Math.min(3, (now - (this.samples[0]?.[0] ?? now) + 1) / 1000));
  }
}

interface ListedNode {
  identity: Uint8Array;
  addresses: NodeAddress[];
  roles: readonly string[];
}

function listedWithRole(session: ClientSession, role: string): ListedNode[] {
  const c = session.consensus;
  if (!c) return [];
  return c.nodes
    .filter((n) => n.roles.includes(role as never) && n.flags.includes('running') && n.flags.includes('valid') && n.addresses.length > 0)
    .map((n) => ({ identity: n.identity, addresses: n.addresses.map((a) => ({ host: a.host, port: a.port })), roles: n.roles }));
}


/** A fresh anonymous link (no client certificate) to a node, for one stream only. */
async function anonymousLink(session: ClientSession, identity: Uint8Array, address: NodeAddress): Promise<Link> {
  const link = await connectLink({
    suite: session.suite,
    host: address.host,
    port: address.port,
    expectedPeer: identity,
    ...(session.localAddress ? { localAddress: session.localAddress } : {}),
  });
  return link;
}

async function ensureNodeList(session: ClientSession): Promise<void> {
  if (!session.consensus) await session.refreshDirectory();
}

// ---------------------------------------------------------------------------------------------
// Broadcasting

export async function startBroadcast(session: ClientSession, identity: ClientIdentity, opts: BroadcastOptions): Promise<StreamBroadcaster> {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('opts must be an object');
  if (!Number.isInteger(opts.bitrate) || opts.bitrate < 1) throw new RangeError('opts.bitrate must be a positive integer');
  if (!Number.isInteger(opts.maxViewers) || opts.maxViewers < 1) throw new RangeError('opts.maxViewers must be a positive integer');
  await ensureNodeList(session);
  const landings = shuffled(listedWithRole(session, 'landing'), session.suite);
  if (landings.length === 0) throw new Error('no landing node is listed in the network');
  const suite = session.suite;
  const signingSecret = suite.randomBytes(32);
  const keys: StreamKeys = {
    streamKey: suite.randomBytes(32),
    signingKey: suite.ed25519PublicKey(signingSecret),
    epoch: 0,
    suite: SFRAME_SUITE.AES_128_CTR_HMAC_SHA256_80,
  };
  const isPublic = opts.public !== undefined && opts.public !== null;
  const receipt = await requestReceipt(session, identity, { bitrate: opts.bitrate, maxViewers: opts.maxViewers, public: isPublic });
  const errors: string[] = [];
  for (const landing of landings.slice(0, 3)) {
    const address = landing.addresses[0]!;
    let link: Link;
    try {
      link = await anonymousLink(session, landing.identity, address);
    } catch (err) {
      // Not reached: the receipt is unspent, try another landing node.
      errors.push(`${base58.encode(landing.identity).slice(0, 8)}: ${(err as Error).message}`);
      continue;
    }
    const offers = shuffled(listedWithRole(session, 'distribution').filter((n) => !equalBytes(n.identity, landing.identity)), session.suite)
      .slice(0, Math.min(OFFERED_NODES, MAX_OFFERED_NODES))
      .map((n) => ({ identity: n.identity, address: n.addresses[0]! }));
    try {
      const { session: s, answer } = await StreamMux.of(link, { route: true }).open({
        type: 'create-stream',
        receipt,
        params: { bitrate: opts.bitrate, maxViewers: opts.maxViewers },
        distribution: offers,
        public: isPublic ? { title: opts.public!.title, description: opts.public!.description, keys } : null,
      });
      if (answer.type !== 'created') {
        s.close(null, 'unexpected answer');
        throw new Error(`the landing node answered ${answer.type}`);
      }
      const invite: StreamInvite = { streamId: answer.streamId, landing: landing.identity, address, keys };
      return new Broadcaster(session, link, s, invite, signingSecret, isPublic, opts.bitrate);
    } catch (err) {
      link.close('stream not created');
      // The landing node saw the receipt: it may have spent it, so do not offer it elsewhere.
      const why = err instanceof StreamClosedError && err.last?.type === 'refused' ? err.last.reason : (err as Error).message;
      throw new Error(`the landing node refused the stream: ${why}`);
    }
  }
  throw new Error(`no landing node could be reached (${errors.join('; ')})`);
}

class Broadcaster implements StreamBroadcaster {
  readonly streamId: Uint8Array;
  readonly invite: Uint8Array;
  private readonly sframe: SFrameContext;
  private readonly kid: bigint;
  private groupSeq = -1;
  private frameSeq = 0;
  private hasher: GroupHasher | null = null;
  private waitingKey = true;
  private sawVideo = false;
  private stopped = false;
  private framesSent = 0;
  private bytesSent = 0;
  private framesSkipped = 0;
  private readonly meter = new RateMeter();
  private last = { viewers: 0, nodes: 1, bytesOut: 0, framesDropped: 0 };
  private readonly statsEvents = new Emitter<[BroadcastStats]>();
  private readonly endedEvents = new Emitter<[string]>();
  /** Bytes queued on the link past which frames are skipped to the next keyframe. */
  private readonly congestionBytes: number;

  constructor(
    private readonly session: ClientSession,
    private readonly link: Link,
    private readonly stream: StreamSession,
    inviteData: StreamInvite,
    private readonly signingSecret: Uint8Array,
    readonly isPublic: boolean,
    bitrate: number,
  ) {
    this.streamId = inviteData.streamId;
    this.invite = encodeInvite(inviteData);
    this.sframe = streamSFrameContext(inviteData.streamId, inviteData.keys, 'encrypt');
    this.kid = streamKeyId(inviteData.keys.epoch);
    // About half a second of media, at least 256 KiB.
    this.congestionBytes = Math.max(256 * 1024, Math.floor(bitrate / 16));
    stream.on('message', (bytes) => this.onMessage(bytes));
    stream.once('close', (last) => this.onClose(last?.type === 'end-stream' ? 'the landing node ended the stream' : 'the landing node closed the stream'));
  }

  private onMessage(bytes: Uint8Array): void {
    let m;
    try {
      m = decodeStreamMessage(bytes);
    } catch {
      return;
    }
    if (m.type === 'stream-report' && equalBytes(m.streamId, this.streamId)) {
      this.last = { viewers: m.viewers, nodes: m.nodes, bytesOut: m.bytesOut, framesDropped: m.framesDropped };
      this.statsEvents.emit(this.stats());
    }
  }

  private onClose(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.link.close('stream ended');
    this.endedEvents.emit(reason);
  }

  sendFrame(frame: MediaFrame): boolean {
    if (this.stopped) return false;
    const plaintext = encodeMediaFrame(frame);
    if (frame.track === 'video') this.sawVideo = true;
    const key = frame.track === 'video' ? frame.keyframe : frame.keyframe && !this.sawVideo;
    const queued = this.link.queuedBytes;
    if (key) {
      if (queued > 4 * this.congestionBytes) {
        this.waitingKey = true;
        this.framesSkipped++;
        return false;
      }
      this.groupSeq++;
      this.frameSeq = 0;
      this.hasher = new GroupHasher(this.session.suite, this.streamId, this.groupSeq);
      this.waitingKey = false;
    } else {
      if (this.hasher === null || this.waitingKey || queued > this.congestionBytes) {
        // flows/fanout.md: once a frame is skipped, nothing more until the next keyframe.
        if (this.hasher !== null) this.waitingKey = true;
        this.framesSkipped++;
        return false;
      }
      this.frameSeq++;
    }
    const ciphertext = this.sframe.encrypt(this.kid, undefined, frameMetadata(this.streamId, this.groupSeq, this.frameSeq), plaintext);
    let bytes = 0;
    for (const p of packetizeFrame({ streamId: this.streamId, groupSeq: this.groupSeq, frameSeq: this.frameSeq, ciphertext })) {
      const b = encodeMediaPacket(p);
      bytes += b.length;
      this.stream.send(b);
    }
    this.hasher!.add(this.frameSeq, ciphertext);
    const sig = encodeStreamMessage(signGroup(this.session.suite, this.hasher!, this.signingSecret));
    this.stream.send(sig);
    bytes += sig.length;
    this.framesSent++;
    this.bytesSent += bytes;
    this.meter.add(bytes);
    return true;
  }

  stats(): BroadcastStats {
    return {
      viewers: this.last.viewers,
      nodes: this.last.nodes,
      framesSent: this.framesSent,
      bytesSent: this.bytesSent,
      framesSkipped: this.framesSkipped,
      bitrateBps: Math.round(this.meter.perSecond() * 8),
      relayBytesOut: this.last.bytesOut,
      relayFramesDropped: this.last.framesDropped,
    };
  }

  onStats(cb: (s: BroadcastStats) => void): () => void {
    return this.statsEvents.on(cb);
  }

  onEnded(cb: (reason: string) => void): () => void {
    return this.endedEvents.on(cb);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stream.sendMessage({ type: 'end-stream', streamId: this.streamId });
    this.stream.close(null, 'stopped');
    this.signingSecret.fill(0);
    this.sframe.clear();
    // Let the last cells leave before the link goes.
    await new Promise((r) => setTimeout(r, 50));
    this.link.close('broadcast stopped');
  }
}

// ---------------------------------------------------------------------------------------------
// Viewing

const viewerIds = new WeakMap<ClientSession, { bytes: Uint8Array; expiresAt: number }>();

/** A viewer identification ID for this session, reused while it has more than a minute left. */
async function viewerIdFor(session: ClientSession): Promise<Uint8Array> {
  const cached = viewerIds.get(session);
  if (cached && cached.expiresAt - Date.now() > 60_000) return cached.bytes;
  const bytes = await requestViewerId(session);
  viewerIds.set(session, { bytes, expiresAt: parseViewerId(bytes).claimed.expiresAt });
  return bytes;
}

export async function joinStream(session: ClientSession, inviteBytes: Uint8Array): Promise<StreamViewer> {
  const invite = decodeInvite(inviteBytes);
  const viewerId = await viewerIdFor(session);
  const v = new Viewer(session, invite, viewerId);
  await v.connect();
  return v;
}

class Viewer implements StreamViewer {
  readonly streamId: Uint8Array;
  private readonly sframe: SFrameContext;
  private assembler = new FrameAssembler();
  private readonly verifier: GroupVerifier;
  private link: Link | null = null;
  private stream: StreamSession | null = null;
  private left = false;
  private ended = false;
  private rejoins = 0;
  /** The last frame handed out: after a rejoin the relay starts again at its group's keyframe. */
  private played: { groupSeq: number; frameSeq: number } | null = null;
  private counts = { framesReceived: 0, framesPlayed: 0, framesDropped: 0, badSignatures: 0, bytesReceived: 0, latencyMs: 0 };
  private readonly meter = new RateMeter();
  private readonly fpsMeter = new RateMeter();
  private readonly frameEvents = new Emitter<[MediaFrame]>();
  private readonly endedEvents = new Emitter<[string]>();
  /** Bytes received in the current usage period. */
  private usage = { periodStart: 0, bytes: 0 };

  constructor(
    private readonly session: ClientSession,
    private readonly invite: StreamInvite,
    private readonly viewerId: Uint8Array,
  ) {
    this.streamId = invite.streamId;
    this.sframe = streamSFrameContext(invite.streamId, invite.keys, 'decrypt');
    this.verifier = new GroupVerifier(session.suite, invite.streamId, invite.keys.signingKey);
  }

  /** Joins through the landing node, following redirects. */
  async connect(): Promise<void> {
    let target = { identity: this.invite.landing, address: this.invite.address };
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const link = await anonymousLink(this.session, target.identity, target.address);
      try {
        const { session } = await StreamMux.of(link, { route: true }).open({ type: 'join', streamId: this.streamId, viewerId: this.viewerId });
        if (this.left) {
          session.close(null, 'left');
          link.close('left');
          return;
        }
        this.link = link;
        this.stream = session;
        this.assembler = new FrameAssembler();
        session.on('message', (bytes) => this.onMessage(bytes));
        session.once('close', (last, _reason, local) => {
          if (!local) this.onLost(last?.type === 'end-stream' ? 'ended' : last?.type === 'refused' ? `refused: ${last.reason}` : 'lost');
        });
        link.once('close', () => {
          if (this.stream === session && !session.isClosed) this.onLost('lost');
        });
        return;
      } catch (err) {
        link.close('not joined');
        const last = err instanceof StreamClosedError ? err.last : null;
        if (last?.type === 'redirect' && equalBytes(last.streamId, this.streamId)) {
          target = { identity: last.node, address: last.address };
          continue;
        }
        // A relay that lost the stream (or had not taken it yet): ask the landing node again.
        if (last?.type === 'refused' && last.reason === 'unknown-stream' && !equalBytes(target.identity, this.invite.landing) && hop < MAX_REDIRECTS) {
          await new Promise((r) => setTimeout(r, 250));
          target = { identity: this.invite.landing, address: this.invite.address };
          continue;
        }
        if (last?.type === 'refused') throw new Error(`the stream refused this viewer: ${last.reason}`);
        throw err;
      }
    }
    throw new Error('too many redirects');
  }

  private onLost(why: string): void {
    this.stream = null;
    this.link?.close('stream session closed');
    this.link = null;
    if (this.left || this.ended) return;
    if (why === 'ended' || this.rejoins >= MAX_REJOINS) {
      this.ended = true;
      this.endedEvents.emit(why === 'ended' ? 'the broadcaster ended the stream' : `connection to the stream lost (${why})`);
      return;
    }
    this.rejoins++;
    setTimeout(() => {
      if (this.left || this.ended) return;
      this.connect().catch((err: Error) => {
        this.ended = true;
        this.endedEvents.emit(`connection to the stream lost: ${err.message}`);
      });
    }, 200 * this.rejoins).unref();
  }

  /**
   * Counts received bytes per usage period and, when a period ends, reports it to an oracle under
   * the viewer ID's session (seed 004 §8.3); the distribution node reports the same session.
   */
  private countUsage(bytes: number, final = false): void {
    const now = Date.now();
    const { periodStart } = usagePeriodOf(now, USAGE_PERIOD_MS);
    if ((periodStart !== this.usage.periodStart || final) && this.usage.bytes > 0) {
      const start = this.usage.periodStart;
      const report = { sessionId: parseViewerId(this.viewerId).claimed.sessionId, periodStart: start, periodEnd: start + USAGE_PERIOD_MS, downBytes: this.usage.bytes, upBytes: 0 };
      const send = () => reportViewerUsage(this.session, report).catch(() => undefined);
      // A period still running is reported once it has ended (the oracle takes closed periods).
      if (report.periodEnd <= now) void send();
      else setTimeout(send, report.periodEnd - now + 500).unref();
      this.usage = { periodStart, bytes: 0 };
    }
    if (periodStart !== this.usage.periodStart) this.usage = { periodStart, bytes: 0 };
    this.usage.bytes += bytes;
  }

  private onMessage(bytes: Uint8Array): void {
    this.countUsage(bytes.length);
    this.counts.bytesReceived += bytes.length;
    this.meter.add(bytes.length);
    let m;
    try {
      m = decodeStreamMessage(bytes);
    } catch {
      this.counts.framesDropped++;
      return;
    }
    if (m.type === 'media') {
      const f = this.assembler.push(m);
      if (f === null) return;
      this.counts.framesReceived++;
      this.take(this.verifier.frame(f));
    } else if (m.type === 'group-signature') {
      this.take(this.verifier.signature(m));
    }
  }

  private take(r: { released: StreamFrame[]; dropped: number; badSignature: boolean }): void {
    this.counts.framesDropped += r.dropped;
    if (r.badSignature) this.counts.badSignatures++;
    for (const f of r.released) {
      const p = this.played;
      if (p !== null && (f.groupSeq < p.groupSeq || (f.groupSeq === p.groupSeq && f.frameSeq <= p.frameSeq))) continue; // seen before a rejoin
      this.played = { groupSeq: f.groupSeq, frameSeq: f.frameSeq };
      let frame: MediaFrame;
      try {
        const { plaintext } = this.sframe.decrypt(f.ciphertext, frameMetadata(f.streamId, f.groupSeq, f.frameSeq));
        frame = decodeMediaFrame(plaintext);
      } catch {
        this.counts.framesDropped++;
        continue;
      }
      this.counts.framesPlayed++;
      this.counts.latencyMs = Math.max(0, Date.now() - frame.capturedAtMs);
      if (frame.track === 'video') this.fpsMeter.add(1);
      this.frameEvents.emit(frame);
    }
  }

  onFrame(cb: (f: MediaFrame) => void): () => void {
    return this.frameEvents.on(cb);
  }

  onEnded(cb: (reason: string) => void): () => void {
    return this.endedEvents.on(cb);
  }

  stats(): ViewerStats {
    return {
      ...this.counts,
      bitrateBps: Math.round(this.meter.perSecond() * 8),
      fps: Math.round(this.fpsMeter.count() * 10) / 10,
    };
  }

  async leave(): Promise<void> {
    if (this.left) return;
    this.left = true;
    const s = this.stream;
    this.stream = null;
    if (s && !s.isClosed) {
      s.sendMessage({ type: 'leave', streamId: this.streamId });
      s.close(null, 'left');
    }
    this.countUsage(0, true);
    await new Promise((r) => setTimeout(r, 20));
    this.link?.close('left the stream');
    this.link = null;
    this.sframe.clear();
  }
}

// ---------------------------------------------------------------------------------------------
// Public streams

/**
 * The public streams the listed landing nodes publish in the DHT. Each lookup goes through a
 * 3-hop circuit (the DHT node asked learns which landing node someone looks at, not who asks);
 * records are verified (owner = the landing node, co-signed by a listed DHT node, unexpired) and
 * the newest per landing node is read.
 */
export async function listPublicStreams(session: ClientSession): Promise<PublicStreamInfo[]> {
  await ensureNodeList(session);
  const landings = listedWithRole(session, 'landing');
  const out: PublicStreamInfo[] = [];
  await Promise.all(
    landings.map(async (landing) => {
      const exits = session.relayNodes().filter((n) => !equalBytes(n.identity, landing.identity));
      const last = exits[Math.floor(Math.random() * exits.length)];
      const circuit = await session.onion.manager.build(last ? { last } : {});
      let answer;
      try {
        answer = decodeDhtMessage(await new CircuitRpc(circuit, realScheduler).request(AppEvent.LookupPublicStreams, landing.identity, 20_000));
      } catch {
        return; // this landing node's list is not reachable now
      } finally {
        circuit.destroy();
      }
      if (answer.type !== 'value') return;
      const now = Date.now();
      const key = publicStreamsKey(session.suite, landing.identity);
      const policy = {
        maxTtlMs: session.network.dht?.maxTtlMs ?? 600_000,
        maxValueBytes: 1024,
        keyRule: namespaceKeyRule(session.suite, [PUBLIC_STREAMS_NAMESPACE]),
        isDhtNode: (k: Uint8Array) => session.consensus?.nodes.some((n) => equalBytes(n.identity, k)) ?? false,
        maxClockSkewMs: 60_000,
      };
      let newest: { sequence: bigint; value: Uint8Array } | null = null;
      for (const bytes of answer.records) {
        try {
          const r = verifyRecord(session.suite, parseRecord(bytes), now, policy);
          if (!equalBytes(r.owner, landing.identity) || !equalBytes(r.key, key)) continue;
          if (newest === null || r.sequence > newest.sequence) newest = { sequence: r.sequence, value: r.value };
        } catch {
          // a record that does not verify is ignored
        }
      }
      if (newest === null) return;
      let entries;
      try {
        entries = decodePublicStreams(newest.value);
      } catch {
        return;
      }
      for (const e of entries) {
        const invite = encodeInvite({ streamId: e.streamId, landing: landing.identity, address: landing.addresses[0]!, keys: e.keys });
        out.push({ streamId: e.streamId, title: e.title, invite });
      }
    }),
  );
  return out.sort((a, b) => a.title.localeCompare(b.title) || toHex(a.streamId).localeCompare(toHex(b.streamId)));
}
