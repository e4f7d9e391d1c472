/**
 * The messenger's client (seed 004 §6–7): one user's identity, presence, private channels and
 * conversations, for the terminal client (`sirius chat`) and the desktop app alike.
 *
 * - Keys: the identity seed and the announcement secret live in key files sealed with the user's
 *   passphrase (keystore.ts); nothing secret is written in the clear.
 * - Presence: the user announces on `presencePoints` presence nodes over 3-hop circuits (one hop
 *   for a public entity) and keeps the same points across restarts, so mail left there while the
 *   user was away is found again. Each announcing circuit also carries introductions and mailbox
 *   notices from the presence node (presence-control.ts).
 * - Channels: a message to a peer without an open channel dials one (channel.ts); a channel that
 *   breaks is dialed again, backing off, for as long as something waits for the peer. When both
 *   ends dialed at once, both keep the channel dialed by the smaller identity key.
 * - Introductions: from a contact they are accepted; from anyone else the `onRequest` policy
 *   decides (the default refuses). At most `maxChannels` channels are open; requests past that
 *   are refused. Replayed introductions are refused.
 * - Offline delivery: when the peer is offline, what it has not acknowledged is sealed to its
 *   announcement key and left in the mailbox of each of its presence nodes; the conversation
 *   keeps it too, so it is sent again over the next channel (the peer drops duplicates).
 * - Conversations: reliable, ordered, exactly once (node-core/chat), kept in the ChatStore.
 */
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { Conversation, type ChatMessage, type ChatStore } from '../../chat';
import type { CryptoSuite } from '../../crypto/api';
import { parseIdentity, type Identity } from '../../crypto/identity';
import { CircuitRpc } from '../../message/rpc';
import type { NodeTarget } from '../../onion/channel';
import type { ClientCircuit } from '../../onion/client';
import { openMailboxItem, sealMailboxItem, type AnnouncementKeyPair } from '../../rendezvous';
import { equalBytes, fromHex, toHex } from '../../util/bytes';
import { loadOrCreateIdentityKey, readKeyFile, writeKeyFile, type WriteKeyFileOptions } from '../keystore';
import { silentLogger, type Logger } from '../log';
import { realScheduler } from '../onion/runtime';
import { ChannelSetupError, checkIntroduction, dialPeer, joinIntroduction, type CheckedIntroduction, type PeerPresence, type PrivateChannel } from './channel';
import { decodeMailboxPayload, FragmentCollector, packFrames } from './mailbox-payload';
import { depositMailbox, PresenceControl } from './presence-control';
import { lookupPresence, PresenceAnnouncer } from './presence';
import { clientIdentity, ClientSession, type ClientIdentity } from './session';
import type { NetworkConfig } from './network';

export interface IncomingRequest {
  from: Identity;
  greeting: string;
  /** The user's answer; unanswered requests are refused when the presence node times them out. */
  accept(): Promise<void>;
  deny(): Promise<void>;
}

export interface ChatClientOptions {
  suite: CryptoSuite;
  network: NetworkConfig | string;
  /** Where the key files and client.json live. */
  dataDir: string;
  passphrase: string;
  store: ChatStore;
  log?: Logger;
  localAddress?: string;
  /** Presence nodes to announce on (1..4, default 2). */
  presencePoints?: number;
  /** Prefer these nodes as presence points (identity keys), e.g. the ones a user picked. */
  presenceNodes?: Uint8Array[];
  /** Entry guards to use (identity keys); otherwise two are chosen once and kept. */
  entryGuards?: Uint8Array[];
  /** Announce publicly and accept direct connections (seed 004 §6.3, §7.2). */
  publicEntity?: boolean;
  /** Open channels at most (default 64); introductions past it are refused. */
  maxChannels?: number;
  /** What the presence nodes may forward to this user (the owner's caps). */
  introductionCaps?: { maxPending: number; perMinute: number };
  /** Decides requests from people who are not contacts; the default refuses them. */
  onRequest?: (r: IncomingRequest) => void;
  /** Register with the authorities on start (default true; a repeat is harmless). */
  register?: boolean;
  /** scrypt cost for new key files (tests use a low one). */
  scrypt?: WriteKeyFileOptions['scrypt'];
  /** Backoff for re-dialing a peer with pending messages (default 3 s doubling to 5 min). */
  redialMs?: { first: number; max: number };
}

interface PeerState {
  key: Uint8Array;
  channel: PrivateChannel | null;
  dialing: Promise<void> | null;
  retry: { cancel(): void } | null;
  backoffMs: number;
  /** SHA-256 (hex) of frames already left in the peer's mailbox. */
  deposited: Set<string>;
  refused: boolean;
  /** The user wrote to the peer while a dial was under way. */
  wroteDuringDial: boolean;
}

interface ClientFile {
  presencePoints?: string[];
  guards?: string[];
  peers?: Record<string, { announcementKey: string; points: string[]; savedAt: number }>;
}

export interface ChatClientEvents {
  message: [peer: string, message: ChatMessage];
  status: [peer: string, id: string, status: 'sent' | 'delivered' | 'read'];
  typing: [peer: string, active: boolean];
  request: [request: IncomingRequest];
  channel: [peer: string, state: 'open' | 'closed', detail: { role?: 'dialer' | 'answerer'; reason?: string }];
  'dial-failed': [peer: string, reason: string];
  'mailbox-deposited': [peer: string, items: number, nodes: number];
  'mailbox-received': [peer: string, frames: number];
  'presence-cap': [info: { pending: number; cap: number; refused: number }];
  'file-progress': [peer: string, fileId: string, bytes: number, total: number, direction: 'in' | 'out'];
  'file-complete': [peer: string, fileId: string];
  'file-failed': [peer: string, fileId: string, reason: string];
  error: [error: Error];
}

export class ChatClient extends EventEmitter<ChatClientEvents> {
  readonly session: ClientSession;
  private announcer: PresenceAnnouncer | null = null;
  private readonly controls = new Map<number, PresenceControl>();
  private readonly peers = new Map<string, PeerState>();
  private readonly conversations = new Map<string, Promise<Conversation>>();
  private readonly seenIntroductions = new Map<string, number>();
  private readonly fragments = new FragmentCollector();
  private closed = false;
  private file: ClientFile;

  private constructor(
    private readonly opts: ChatClientOptions,
    readonly identity: ClientIdentity,
    readonly announcement: AnnouncementKeyPair,
  ) {
    super();
    this.session = new ClientSession({
      suite: opts.suite,
      network: opts.network,
      identity,
      ...(opts.log ? { log: opts.log } : {}),
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });
    this.file = readClientFile(opts.dataDir);
    const guards = opts.entryGuards ?? (this.file.guards ?? []).map((h) => fromHex(h));
    this.session.onion.manager.guards = guards;
  }

  /** Opens (creating on first use) the user's keys in `dataDir`. Nothing touches the network yet. */
  static async open(opts: ChatClientOptions): Promise<ChatClient> {
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    const keyOpts = opts.scrypt ? { scrypt: opts.scrypt } : {};
    const seed = await loadOrCreateIdentityKey(join(opts.dataDir, 'identity.key'), opts.passphrase, opts.suite, keyOpts);
    const announcePath = join(opts.dataDir, 'announce.key');
    let secret: Uint8Array;
    if (existsSync(announcePath)) secret = await readKeyFile(announcePath, opts.passphrase, { suite: opts.suite });
    else {
      secret = opts.suite.randomBytes(32);
      await writeKeyFile(announcePath, secret, opts.passphrase, { suite: opts.suite, overwrite: false, ...keyOpts });
    }
    if (secret.length !== 32) throw new Error(`${announcePath} does not hold a 32-byte key`);
    const identity = clientIdentity(opts.suite, seed);
    return new ChatClient(opts, identity, { secret, public: opts.suite.x25519PublicKey(secret) });
  }

  get store(): ChatStore {
    return this.opts.store;
  }

  private get log(): Logger {
    return this.opts.log ?? silentLogger();
  }

  /** Goes online: node list, registration and certificate, presence, mail left while away. */
  async start(): Promise<void> {
    // A session already holding a certificate (the caller started it) is not started again.
    if (!this.session.certificate) await this.session.start(this.identity, { register: this.opts.register ?? true });
    const points = this.choosePresencePoints();
    this.session.onion.manager.guards = this.chooseGuards(points);
    this.announcer = new PresenceAnnouncer(this.session, this.identity, {
      points,
      announcementKey: this.announcement.public,
      public: this.opts.publicEntity ?? false,
      onCircuit: (i, circuit, rpc) => this.bindControl(i, circuit, rpc),
    });
    const accepted = await this.announcer.start();
    if (accepted === 0) throw new Error(`no presence node accepted the announcement (${[...this.announcer.failures.values()].join('; ')})`);
    // Peers with messages waiting from an earlier run.
    for (const c of await this.store.listConversations()) {
      const conv = await this.conversation(fromHex(c.peer));
      if (conv.hasUnacked()) this.ensureConnected(fromHex(c.peer));
    }
  }

  /** The presence points: the ones of earlier runs while they are still listed, else new ones. */
  private choosePresencePoints(): NodeTarget[] {
    const want = Math.min(4, Math.max(1, this.opts.presencePoints ?? 2));
    const nodes = this.session.relayNodes();
    const kept = [...(this.opts.presenceNodes ?? []).map((k) => toHex(k)), ...(this.file.presencePoints ?? [])]
      .map((h) => nodes.find((n) => toHex(n.identity) === h))
      .filter((n): n is NodeTarget => n !== undefined);
    const rest = nodes.filter((n) => !kept.includes(n)).sort(() => Math.random() - 0.5);
    const points = [...new Set([...kept, ...rest])].slice(0, want);
    if (!points.length) throw new Error('the node list names no onion node to announce on');
    this.file.presencePoints = points.map((p) => toHex(p.identity));
    writeClientFile(this.opts.dataDir, this.file);
    return points;
  }

  /**
   * Entry guards: the nodes every multi-hop circuit of this user enters through, kept across
   * runs while they are listed; never one of the user's presence points.
   */
  private chooseGuards(points: NodeTarget[]): Uint8Array[] {
    const nodes = this.session.relayNodes().filter((n) => !points.some((p) => equalBytes(p.identity, n.identity)));
    const listed = (h: string) => nodes.some((n) => toHex(n.identity) === h);
    const wanted = this.opts.entryGuards?.map((k) => toHex(k)) ?? (this.file.guards ?? []).filter(listed);
    const guards = [...wanted];
    for (const n of nodes.sort(() => Math.random() - 0.5)) {
      if (this.opts.entryGuards || guards.length >= 2) break;
      if (!guards.includes(toHex(n.identity))) guards.push(toHex(n.identity));
    }
    this.file.guards = guards;
    writeClientFile(this.opts.dataDir, this.file);
    return guards.map((h) => fromHex(h));
  }

  private bindControl(i: number, circuit: ClientCircuit, rpc: CircuitRpc): void {
    const control = new PresenceControl(circuit, rpc, {
      onIntroduction: (handle, envelope) => this.onIntroduction(control, handle, envelope),
      onCancelled: (handle) => this.log.info({ handle }, 'introduction cancelled by its sender'),
      onCapReached: (info) => this.emit('presence-cap', info),
      onMailboxWaiting: () => this.fetchMail(control),
    });
    this.controls.set(i, control);
    if (this.opts.introductionCaps) control.settings(this.opts.introductionCaps).catch((err: Error) => this.log.warn({ err: err.message }, 'presence caps not set'));
    this.fetchMail(control);
  }

  // ---- contacts and conversations --------------------------------------------------------------

  /** Adds a contact by identity string; returns its key (hex). */
  async addContact(identityText: string, name?: string): Promise<string> {
    const id = parseIdentity(identityText);
    if (equalBytes(id.publicKey, this.identity.publicKey)) throw new RangeError('that is your own identity');
    await this.store.addContact(id.publicKey, name ?? identityText, identityText);
    return toHex(id.publicKey);
  }

  private async isContact(key: Uint8Array): Promise<boolean> {
    return (await this.store.contacts()).some((c) => c.key === toHex(key));
  }

  conversation(peer: Uint8Array): Promise<Conversation> {
    const k = toHex(peer);
    let c = this.conversations.get(k);
    if (!c) {
      c = Conversation.open({
        self: this.identity.publicKey,
        peer,
        store: this.store,
        scheduler: realScheduler,
        random: (n) => this.opts.suite.randomBytes(n),
        events: {
          onMessage: (m) => this.emit('message', k, m),
          onStatus: (id, s) => this.emit('status', k, id, s),
          onTyping: (a) => this.emit('typing', k, a),
          onFileProgress: (f, b, t, d) => this.emit('file-progress', k, f, b, t, d),
          onFileComplete: (f) => this.emit('file-complete', k, f),
          onFileFailed: (f, reason) => this.emit('file-failed', k, f, reason),
          onProtocolError: (e) => this.log.warn({ peer: k.slice(0, 8), err: e.message }, 'bad chat frame'),
        },
      });
      this.conversations.set(k, c);
      c.catch(() => this.conversations.delete(k));
    }
    return c;
  }

  async sendText(peer: Uint8Array, text: string): Promise<ChatMessage> {
    const conv = await this.conversation(peer);
    const m = await conv.sendText(text);
    this.wantConnection(peer);
    return m;
  }

  async sendFile(peer: Uint8Array, file: Parameters<Conversation['sendFile']>[0]): Promise<ChatMessage> {
    const conv = await this.conversation(peer);
    const m = await conv.sendFile(file);
    this.wantConnection(peer);
    return m;
  }

  async setTyping(peer: Uint8Array, active: boolean): Promise<void> {
    (await this.conversation(peer)).setTyping(active);
  }

  async markRead(peer: Uint8Array): Promise<void> {
    await (await this.conversation(peer)).markRead();
    this.ensureConnected(peer);
  }

  /** True when a channel to the peer is open. */
  isConnected(peer: Uint8Array): boolean {
    return this.peers.get(toHex(peer))?.channel?.isOpen ?? false;
  }

  /** Frames for the peer left in its mailbox during this run. */
  depositedFrames(peer: Uint8Array): number {
    return this.peers.get(toHex(peer))?.deposited.size ?? 0;
  }

  /**
   * The presence points of this run (identity keys) and whether each one's last announcement
   * was accepted; empty before start().
   */
  get presencePoints(): { identity: Uint8Array; accepted: boolean }[] {
    const a = this.announcer;
    if (!a) return [];
    return a.points.map((p, i) => ({ identity: p.identity, accepted: a.accepted.has(i) }));
  }

  get openChannels(): number {
    let n = 0;
    for (const p of this.peers.values()) if (p.channel?.isOpen) n++;
    return n;
  }

  // ---- channels ----------------------------------------------------------------------------------

  private peerState(peer: Uint8Array): PeerState {
    const k = toHex(peer);
    let p = this.peers.get(k);
    if (!p) {
      p = { key: peer, channel: null, dialing: null, retry: null, backoffMs: 0, deposited: new Set(), refused: false, wroteDuringDial: false };
      this.peers.set(k, p);
    }
    return p;
  }

  /**
   * The user wrote to the peer: a refusal from before no longer holds, and if a dial is under
   * way, its refusal (which answered an earlier request) must not stop the next one.
   */
  private wantConnection(peer: Uint8Array): void {
    const p = this.peerState(peer);
    p.refused = false;
    if (p.dialing) p.wroteDuringDial = true;
    this.ensureConnected(peer);
  }

  /** Dials the peer unless a channel is open or being dialed. */
  ensureConnected(peer: Uint8Array): void {
    const p = this.peerState(peer);
    if (this.closed || p.channel?.isOpen || p.dialing) return;
    p.retry?.cancel();
    p.retry = null;
    p.dialing = this.dial(p).finally(() => (p.dialing = null));
  }

  /** Dials now and resolves when a channel is open (or throws why not). */
  async connect(peer: Uint8Array, opts: { direct?: boolean } = {}): Promise<PrivateChannel> {
    const p = this.peerState(peer);
    if (p.channel?.isOpen && (!opts.direct || p.channel.direct)) return p.channel;
    const ch = await dialPeer(this.session, this.identity, peer, {
      presence: await this.presenceOf(peer),
      avoid: this.knowsMe(),
      ...(opts.direct ? { direct: true } : {}),
    });
    await this.attach(p, ch);
    return ch;
  }

  private ownPresenceNodes(): Uint8Array[] {
    return (this.file.presencePoints ?? []).map((h) => fromHex(h));
  }

  /**
   * Nodes that must not end a circuit that names a peer (a lookup, a rendezvous point): the ones
   * that know this user — its presence points (they see its identity) and its entry guards
   * (they see its address).
   */
  private knowsMe(): Uint8Array[] {
    return [...this.ownPresenceNodes(), ...this.session.onion.manager.guards];
  }

  /**
   * The peer's presence: looked up (through up to three different exits, since one DHT node may
   * not know the record yet) and remembered; when no lookup finds it, the one remembered from
   * earlier (its presence nodes may still hold its mailbox, or know it is offline).
   */
  private async presenceOf(peer: Uint8Array): Promise<PeerPresence | null> {
    const k = toHex(peer);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const view = await lookupPresence(this.session, peer, { avoidExit: this.knowsMe() });
        if (view) {
          this.file.peers = {
            ...this.file.peers,
            [k]: { announcementKey: toHex(view.value.announcementKey), points: view.points.map((p) => toHex(p.nodeIdentity)), savedAt: Date.now() },
          };
          writeClientFile(this.opts.dataDir, this.file);
          return view;
        }
      } catch (err) {
        this.log.debug({ err: (err as Error).message }, 'presence lookup failed');
      }
    }
    const remembered = this.file.peers?.[k];
    if (!remembered) return null;
    return {
      owner: peer,
      value: { announcementKey: fromHex(remembered.announcementKey), acceptsDirect: false },
      points: remembered.points.map((h) => ({ nodeIdentity: fromHex(h), confirmed: false })),
    };
  }

  private async dial(p: PeerState): Promise<void> {
    const k = toHex(p.key);
    p.wroteDuringDial = false;
    try {
      const presence = await this.presenceOf(p.key);
      const ch = await dialPeer(this.session, this.identity, p.key, { presence, avoid: this.knowsMe() });
      await this.attach(p, ch);
      p.backoffMs = 0;
    } catch (err) {
      const reason = err instanceof ChannelSetupError ? err.reason : 'network';
      this.emit('dial-failed', k, `${reason}: ${(err as Error).message}`);
      if (reason === 'refused') {
        if (!p.wroteDuringDial) {
          p.refused = true;
          return;
        }
        // Written to while this dial was under way: ask once more, after the usual pause.
        p.wroteDuringDial = false;
        this.scheduleRedial(p);
        return;
      }
      const conv = await this.conversation(p.key);
      if (conv.hasUnacked()) {
        await this.deposit(p, conv).catch((e: Error) => this.log.info({ err: e.message }, 'mailbox deposit failed'));
        this.scheduleRedial(p);
      }
    }
  }

  private scheduleRedial(p: PeerState): void {
    if (this.closed || p.retry || p.refused) return;
    const { first, max } = this.opts.redialMs ?? { first: 3000, max: 300_000 };
    p.backoffMs = p.backoffMs ? Math.min(max, p.backoffMs * 2) : first;
    p.retry = realScheduler.setTimeout(() => {
      p.retry = null;
      this.ensureConnected(p.key);
    }, p.backoffMs);
  }

  private async attach(p: PeerState, ch: PrivateChannel): Promise<void> {
    const k = toHex(p.key);
    const old = p.channel;
    if (old?.isOpen && old !== ch) {
      // Two channels at once (both dialed): keep the one dialed by the smaller identity key.
      const dialerOf = (c: PrivateChannel) => (c.role === 'dialer' ? this.identity.publicKey : p.key);
      const keepNew = compareBytes(dialerOf(ch), dialerOf(old)) <= 0;
      if (!keepNew) {
        ch.close();
        return;
      }
      old.close();
    }
    p.channel = ch;
    const conv = await this.conversation(p.key);
    ch.onFrame((f) => {
      conv.receiveFrame(f).catch((err: Error) => this.log.warn({ err: err.message }, 'chat frame not handled'));
    });
    ch.onClose((reason) => {
      if (p.channel !== ch) return;
      p.channel = null;
      conv.detach();
      this.emit('channel', k, 'closed', { reason });
      if (!this.closed && conv.hasUnacked()) this.scheduleRedial(p);
    });
    conv.attach({
      send: (frame) => ch.send(frame),
      get isOpen() {
        return ch.isOpen;
      },
    });
    this.emit('channel', k, 'open', { role: ch.role });
  }

  // ---- introductions -----------------------------------------------------------------------------

  private onIntroduction(control: PresenceControl, handle: number, envelope: Uint8Array): void {
    const refuse = (why: string) => {
      this.log.info({ why }, 'introduction refused');
      control.decide(handle, false).catch(() => undefined);
    };
    if (this.closed) return refuse('closing');
    let checked: CheckedIntroduction;
    try {
      checked = checkIntroduction(this.session, this.identity, [this.announcement], envelope);
    } catch (err) {
      return refuse(`invalid: ${(err as Error).message}`);
    }
    const now = Date.now();
    for (const [id, until] of this.seenIntroductions) if (until < now) this.seenIntroductions.delete(id);
    if (this.seenIntroductions.has(checked.id)) return refuse('replayed');
    this.seenIntroductions.set(checked.id, checked.introduction.createdAt + 15 * 60_000);
    const peer = checked.from.publicKey;
    if (!this.peerState(peer).channel?.isOpen && this.openChannels >= (this.opts.maxChannels ?? 64)) return refuse('channel cap reached');

    let answered = false;
    const accept = async () => {
      if (answered) return;
      answered = true;
      await control.decide(handle, true);
      const ch = await joinIntroduction(this.session, this.identity, [this.announcement], checked, {
        direct: (this.opts.publicEntity ?? false) && this.ownPresenceNodes().some((k) => equalBytes(k, checked.introduction.rendezvous.nodeIdentity)),
      });
      if (!(await this.isContact(peer))) await this.store.addContact(peer, checked.from.text, checked.from.text);
      await this.attach(this.peerState(peer), ch);
    };
    const deny = async () => {
      if (answered) return;
      answered = true;
      await control.decide(handle, false);
    };
    const request: IncomingRequest = { from: checked.from, greeting: checked.introduction.greeting ?? '', accept, deny };
    this.isContact(peer).then(
      (known) => {
        if (known) return accept();
        this.emit('request', request);
        if (this.opts.onRequest) this.opts.onRequest(request);
        else if (!this.listenerCount('request')) return deny();
      },
      (err: Error) => refuse(err.message),
    ).catch((err: Error) => this.log.warn({ err: err.message }, 'answering an introduction failed'));
  }

  // ---- mailbox -----------------------------------------------------------------------------------

  /** Leaves what the peer has not acknowledged in the mailbox of each of its presence nodes. */
  private async deposit(p: PeerState, conv: Conversation): Promise<void> {
    const k = toHex(p.key);
    const frames = (await conv.pendingFrames(8 * 1024 * 1024)).filter((f) => !p.deposited.has(toHex(sha256(f))));
    if (!frames.length) return;
    const remembered = this.file.peers?.[k];
    if (!remembered) throw new Error('the peer’s presence nodes are unknown');
    const announcementKey = fromHex(remembered.announcementKey);
    const items = packFrames(frames).map((payload) =>
      sealMailboxItem(this.opts.suite, {
        from: { secretKey: this.identity.secretKey, identityText: this.identity.text },
        to: { identityKey: p.key, announcementKey },
        payload,
        createdAt: Date.now(),
      }),
    );
    let nodes = 0;
    for (const h of remembered.points) {
      const node = this.session.listedNode(fromHex(h));
      if (!node) continue;
      const circuit = await this.session.onion.manager.build({ last: node, hops: 3 });
      try {
        const rpc = new CircuitRpc(circuit, realScheduler);
        for (const item of items) await depositMailbox(rpc, p.key, item);
        nodes++;
      } catch (err) {
        this.log.info({ err: (err as Error).message }, 'mailbox deposit refused');
      } finally {
        circuit.destroy();
      }
    }
    if (!nodes) throw new Error('no presence node of the peer took the mail');
    for (const f of frames) p.deposited.add(toHex(sha256(f)));
    this.emit('mailbox-deposited', k, items.length, nodes);
  }

  private fetching = new WeakSet<PresenceControl>();

  /** Fetches mail from one presence node, delivers it, and deletes what was delivered. */
  private fetchMail(control: PresenceControl): void {
    if (this.fetching.has(control) || this.closed) return;
    this.fetching.add(control);
    (async () => {
      for (;;) {
        const items = await control.fetchMailbox(32);
        if (!items.length) return;
        const done: Uint8Array[] = [];
        for (const item of items) {
          const key = toHex(item.id);
          try {
            const opened = openMailboxItem(this.opts.suite, item.bytes, { identityKey: this.identity.publicKey, announcementKeys: [this.announcement] }, Date.now());
            const peer = opened.from.publicKey;
            if (!(await this.isContact(peer))) {
              // Mail from strangers is not shown: the request path is an introduction.
              done.push(item.id);
              continue;
            }
            const { frames, items: finished } = this.fragments.add(key, decodeMailboxPayload(opened.payload));
            const conv = await this.conversation(peer);
            for (const f of frames) await conv.receiveFrame(f, 'mailbox');
            if (frames.length) this.emit('mailbox-received', toHex(peer), frames.length);
            for (const h of finished) done.push(fromHex(h));
          } catch (err) {
            this.log.info({ err: (err as Error).message }, 'mailbox item dropped');
            done.push(item.id);
          }
        }
        if (done.length) await control.ackMailbox(done);
        if (done.length < items.length) return; // fragments still waiting for their siblings
      }
    })()
      .catch((err: Error) => this.log.info({ err: err.message }, 'mailbox fetch failed'))
      .finally(() => this.fetching.delete(control));
  }

  /** Goes offline: channels and presence circuits close; stored state stays. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.peers.values()) {
      p.retry?.cancel();
      p.channel?.close();
    }
    for (const c of this.conversations.values()) c.then((x) => x.close(), () => undefined);
    this.announcer?.stop();
    this.session.close();
    this.removeAllListeners();
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function readClientFile(dir: string): ClientFile {
  const f = join(dir, 'client.json');
  if (!existsSync(f)) return {};
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as ClientFile;
  } catch {
    return {};
  }
}

function writeClientFile(dir: string, data: ClientFile): void {
  const f = join(dir, 'client.json');
  writeFileSync(`${f}.tmp`, JSON.stringify(data, null, 2), { mode: 0o600 });
  renameSync(`${f}.tmp`, f);
}
