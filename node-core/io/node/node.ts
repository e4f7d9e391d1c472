/**
 * A PSP node process: its identity and onion keys, its link listener, its links to other nodes,
 * and the onion layer on top of them — relaying circuits for others (OnionRelay), building its
 * own when it needs to (CircuitClient), and answering application messages that end at it
 * (MessageRouter). Directory, DHT and the other roles attach to the router as they are built.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { findPuzzleKey } from '../../dht';
import { join } from 'node:path';
import { base58 } from '@scure/base';
import type { Cell } from '../../cell';
import type { CryptoSuite } from '../../crypto/api';
import type { IdentityKeys } from '../../link/handshake';
import { MessageRouter } from '../../message/router';
import type { CellChannel, NodeTarget, Observer } from '../../onion/channel';
import { CircuitClient } from '../../onion/client';
import { OnionRelay, type OpenChannelRequest } from '../../onion/relay';
import { equalBytes, toHex } from '../../util/bytes';
import { loadOrCreateIdentityKey, writeKeyFile } from '../keystore';
import type { Link } from '../link/link';
import { connectLink, LinkListener } from '../link/transport';
import type { Logger } from '../log';
import { LinkChannel, realScheduler } from '../onion/runtime';
import type { NodeConfig } from './config';
import { OnionKeyRing } from './onion-keys';
import { AuthorityService } from '../../authority';
import { ErrorCode } from '../../message/envelope';
import { AppEvent } from '../../message/envelope';
import { HandlerError } from '../../message/router';
import { loadNetworkFile, type NetworkConfig } from '../client/network';
import { SqliteIdentityRegistry } from '../storage';
import { DirectoryService } from './directory-service';
import { DhtService } from './dht-service';
import { PresenceService } from './presence-service';
import { StreamService, type PublicStreamEntry } from './stream-service';
import { PUBLIC_STREAMS_NAMESPACE, encodePublicStreams, publicTitle } from '../../stream/public-streams';
import { OracleService } from './oracle-service';
import { UsageReporter } from '../client/oracle-client';

/** The period of usage reports to the oracles (it divides their 60-second grid). */
const USAGE_PERIOD_MS = 60_000;
import { ORACLE_DATABASE_FILE, SqliteSubscriptionRegistry } from '../storage/subscription-registry';
import { STREAM_COMMANDS, StreamMux } from '../link/stream-mux';

export interface NodeInfo {
  nickname: string;
  roles: string[];
  host: string;
  port: number;
  /** base58 Ed25519 identity key. */
  identity: string;
  /** base58 X25519 onion key (ntor B). */
  onionKey: string;
}

export class PspNode {
  private listener: LinkListener | null = null;
  /** Every open authenticated link by peer identity (hex), inbound or outbound. */
  private readonly nodeLinks = new Map<string, Link>();
  private readonly connecting = new Map<string, Promise<Link>>();
  private readonly reconnectTimers = new Set<NodeJS.Timeout>();
  private rotateTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  readonly router: MessageRouter;
  readonly relay: OnionRelay;
  readonly client: CircuitClient;
  readonly network: NetworkConfig | null;
  readonly directory: DirectoryService | null = null;
  readonly dht: DhtService | null = null;
  /** The landing and distribution roles of live streams. */
  readonly streams: StreamService | null = null;
  private readonly usageReporter: UsageReporter | null = null;
  private registry: SqliteIdentityRegistry | null = null;
  private oracle: { service: OracleService; registry: SqliteSubscriptionRegistry } | null = null;
  /** Every open link (inbound and outbound), and the bytes of links that have closed. */
  private readonly openLinkSet = new Set<Link>();
  /** Test networks only: what this node saw (config dangerouslyRecordObservations). */
  private readonly observer: Observer | null;
  private closedLinkBytes = { bytesIn: 0, bytesOut: 0 };

  private constructor(
    readonly config: NodeConfig,
    readonly identity: IdentityKeys,
    readonly onionKeys: OnionKeyRing,
    private readonly suite: CryptoSuite,
    private readonly log: Logger,
  ) {
    this.router = new MessageRouter((detail) => log.debug({ detail }, 'application message refused'));
    const observer = makeObserver(config.dangerouslyRecordObservations, config.nickname);
    this.observer = observer ?? null;
    this.relay = new OnionRelay({
      suite,
      identity: identity.publicKey,
      onionKeys: () => onionKeys.pairs(),
      scheduler: realScheduler,
      openChannel: (req) => this.channelTo(req),
      app: this.router,
      ...(config.limits.relay ? { limits: config.limits.relay } : {}),
      observer,
      onEvent: (e) => log.debug(e, `circuit ${e.type}`),
    });
    this.client = new CircuitClient({
      suite,
      scheduler: realScheduler,
      connect: (t: NodeTarget) => this.channelTo({ identity: t.identity, addresses: t.addresses }),
    });
    this.network = config.network ? loadNetworkFile(config.network) : null;
    if (this.network?.directory) {
      this.directory = new DirectoryService({
        suite,
        identity,
        network: this.network,
        describe: () => ({
          onionKey: onionKeys.publicKey,
          host: this.info.host,
          port: this.info.port,
          roles: [...config.roles],
          nickname: config.nickname,
          bandwidth: 10_000,
        }),
        client: this.client,
        router: this.router,
        log,
        isDiscovery: config.roles.includes('discovery'),
      });
      const dht = this.network.dht;
      if (dht && config.roles.includes('onion')) {
        if (!DhtService.puzzleOk(suite, identity.publicKey, dht.puzzleBits)) {
          log.warn({ puzzleBits: dht.puzzleBits }, 'identity key fails the DHT id puzzle: this node stays out of the DHT');
        } else {
          const directory = this.directory;
          this.dht = new DhtService({
            suite,
            identity,
            puzzleBits: dht.puzzleBits,
            maxTtlMs: dht.maxTtlMs,
            address: () => ({ host: this.info.host, port: this.info.port }),
            consensus: () => directory.current(),
            client: this.client,
            router: this.router,
            log,
            // A network on one /16 (a devnet) cannot satisfy per-subnet bucket limits.
            sameSubnetNetwork: new Set(this.network.nodes.map((n) => (n.addresses[0]?.host ?? '').split('.').slice(0, 2).join('.'))).size === 1,
          });
          // As a presence node: forwards introductions to owners and keeps their mailboxes.
          this.dht.attachPresence(new PresenceService({ router: this.router, log }));
        }
      }
      const landing = config.roles.includes('landing');
      const distribution = config.roles.includes('distribution');
      if (landing || distribution) {
        const directory = this.directory;
        const network = this.network;
        if (network.oracle) {
          // What this node carries for each viewer session goes to the oracles (seed 004 §8.3).
          this.usageReporter = new UsageReporter({
            client: this.client,
            periodMs: USAGE_PERIOD_MS,
            log,
            oracles: () => oracleTargets(directory, network),
          });
        }
        this.streams = new StreamService({
          suite,
          identity,
          network: this.network.network,
          oracleKeys: this.network.oracle?.oracleKeys ?? [],
          landing,
          distribution,
          log,
          address: () => ({ host: this.info.host, port: this.info.port }),
          listed: (id) => {
            const n = directory.current()?.nodes.find((x) => equalBytes(x.identity, id));
            return n && { identity: n.identity, onionKey: n.onionKey, addresses: n.addresses.map((a) => ({ host: a.host, port: a.port })), roles: n.roles };
          },
          linkTo: async (t) => ((await this.channelTo({ identity: t.identity, addresses: t.addresses })) as LinkChannel).link,
          ...(this.dht ? { publishPublic: publicStreamsPublisher(this.dht), republishMs: Math.max(5000, Math.floor(this.dht.maxTtlMs / 3)) } : {}),
          ...(this.usageReporter ? { usage: this.usageReporter } : {}),
          ...(config.limits.stream ? { limits: config.limits.stream } : {}),
        });
      }
    }
  }

  /** Serves registrations and certificate requests (authority role). */
  private startAuthority(): void {
    if (!this.network) throw new Error('an authority node needs the network file (config "network")');
    this.registry = SqliteIdentityRegistry.open(join(this.config.dataDir, 'registry.sqlite'));
    const service = new AuthorityService({
      suite: this.suite,
      network: this.network.network,
      secretKey: this.identity.secretKey,
      registry: this.registry,
    });
    this.router.handle(AppEvent.RequestCertificate, (body, { endpoint }) => {
      // seed 004 §4: no authority may see a client's address with its identity, so requests
      // must come through at least one other node (the previous hop is a node, not a client).
      if (endpoint.prevIdentity === null) {
        throw new HandlerError(ErrorCode.Refused, 'authority requests must arrive over a circuit of at least two hops');
      }
      return service.handleMessage(body, Date.now());
    });
  }

  /** Issues stream receipts and viewer IDs, and takes usage reports (oracle role). */
  private startOracle(): void {
    if (!this.network?.oracle || !this.network.authority) throw new Error('an oracle node needs a network file with oracle and authority nodes');
    const registry = SqliteSubscriptionRegistry.open(join(this.config.dataDir, ORACLE_DATABASE_FILE));
    const o = this.config.oracle;
    const directory = this.directory;
    const network = this.network;
    const service = new OracleService({
      suite: this.suite,
      identity: this.identity,
      network: this.network,
      router: this.router,
      client: this.client,
      log: this.log,
      registry,
      // The other oracles with the onion keys the current node list names.
      peers: () => oracleTargets(directory, network).filter((t) => !equalBytes(t.identity, this.identity.publicKey)),
      options: {
        defaultPlan: o?.defaultPlan ?? null,
        ...(o?.puzzleDifficulty !== undefined ? { puzzleDifficulty: o.puzzleDifficulty } : {}),
        ...(o?.receiptTtlMs !== undefined ? { receiptTtlMs: o.receiptTtlMs } : {}),
        ...(o?.viewerIdTtlMs !== undefined ? { viewerIdTtlMs: o.viewerIdTtlMs } : {}),
      },
    });
    service.start();
    this.oracle = { service, registry };
  }

  static async create(config: NodeConfig, suite: CryptoSuite, log: Logger): Promise<PspNode> {
    const passphrase = readPassphrase(config);
    const keyPath = join(config.dataDir, 'identity.key');
    const dht = config.network ? loadNetworkFile(config.network).dht : undefined;
    if (dht && config.roles.includes('onion') && !existsSync(keyPath)) {
      // A new DHT node makes an identity key whose id passes the S/Kademlia puzzle.
      const { secretKey: fresh } = findPuzzleKey(suite, dht.puzzleBits);
      await writeKeyFile(keyPath, fresh, passphrase, { suite, overwrite: false });
      fresh.fill(0);
    }
    const secretKey = await loadOrCreateIdentityKey(keyPath, passphrase, suite);
    const onionKeys = await OnionKeyRing.load(join(config.dataDir, 'onion.key'), passphrase, suite, config.onionKeyRotationHours * 3600_000);
    return new PspNode(config, { secretKey, publicKey: suite.ed25519PublicKey(secretKey) }, onionKeys, suite, log);
  }

  get info(): NodeInfo {
    const adv = this.config.advertise;
    return {
      nickname: this.config.nickname,
      roles: [...this.config.roles],
      host: adv?.host ?? this.config.listen.host,
      port: adv?.port ?? this.listener?.port ?? this.config.listen.port,
      identity: base58.encode(this.identity.publicKey),
      onionKey: base58.encode(this.onionKeys.publicKey),
    };
  }

  /** Cell bytes received and sent on all of this node's links since it started (before TLS). */
  get traffic(): { bytesIn: number; bytesOut: number } {
    let { bytesIn, bytesOut } = this.closedLinkBytes;
    for (const l of this.openLinkSet) {
      bytesIn += l.stats.bytesIn;
      bytesOut += l.stats.bytesOut;
    }
    return { bytesIn, bytesOut };
  }

  get links(): { inbound: number; nodes: number } {
    return { inbound: this.listener?.openLinks.size ?? 0, nodes: this.nodeLinks.size };
  }

  async start(): Promise<void> {
    this.listener = await LinkListener.listen({
      suite: this.suite,
      identity: this.identity,
      host: this.config.listen.host,
      port: this.config.listen.port,
      allowBypass: this.config.allowClients,
      ...(this.config.limits.link ? { linkLimits: this.config.limits.link } : {}),
      ...(this.config.limits.listener ? { listenerLimits: this.config.limits.listener } : {}),
      log: this.log,
    });
    this.listener.on('link', (link) => this.attach(link));
    if (this.config.roles.includes('authority')) this.startAuthority();
    if (this.config.roles.includes('oracle')) this.startOracle();
    this.directory?.start();
    this.dht?.start();
    for (const peer of this.config.peers) this.keepPeer(peer, 0);
    this.rotateTimer = setInterval(() => {
      this.onionKeys.rotateIfDue().then(
        (rotated) => rotated && this.log.info({ onionKey: this.info.onionKey }, 'onion key rotated'),
        (err: Error) => this.log.error({ err: err.message }, 'onion key rotation failed'),
      );
    }, 3600_000);
    this.rotateTimer.unref();
  }

  /** Routes a link's cells to the circuit layer. */
  private attach(link: Link): void {
    const ch = LinkChannel.of(link);
    this.openLinkSet.add(link);
    if (link.peerIdentity) {
      const k = toHex(link.peerIdentity);
      if (!this.nodeLinks.get(k)?.isOpen) this.nodeLinks.set(k, link);
    }
    const mux = this.streams ? this.streams.attach(link) : StreamMux.of(link);
    const observer = this.observer;
    let mediaSeen = 0;
    if (observer) {
      observer.record({ type: 'link-open', direction: link.direction, peerIdentity: link.peerIdentity ? toHex(link.peerIdentity) : null, ip: link.remoteAddress ?? null });
    }
    link.on('cell', (cell: Cell) => {
      if (STREAM_COMMANDS.has(cell.command)) {
        // Every stream message that reached this node (the first media packets of each link only).
        if (observer && (cell.payload[0] !== 0x20 || mediaSeen++ < 64)) {
          observer.record({
            type: 'stream-message',
            command: cell.command,
            peerIdentity: link.peerIdentity ? toHex(link.peerIdentity) : null,
            ip: link.remoteAddress ?? null,
            message: toHex(cell.payload),
          });
        }
        mux.onCell(cell);
      }
      else if (this.client.owns(ch, cell.circId)) this.client.onCell(ch, cell);
      else this.relay.onCell(ch, cell);
    });
    link.on('drain', () => {
      this.relay.onChannelDrain(ch);
      this.client.onChannelDrain(ch);
    });
    link.once('close', () => {
      if (this.openLinkSet.delete(link)) {
        this.closedLinkBytes = {
          bytesIn: this.closedLinkBytes.bytesIn + link.stats.bytesIn,
          bytesOut: this.closedLinkBytes.bytesOut + link.stats.bytesOut,
        };
      }
      if (link.peerIdentity) {
        const k = toHex(link.peerIdentity);
        if (this.nodeLinks.get(k) === link) this.nodeLinks.delete(k);
      }
      this.relay.onChannelClosed(ch);
      this.client.onChannelClosed(ch);
    });
  }

  /** An authenticated channel to a node: an open link is reused, else one is dialled. */
  async channelTo(req: OpenChannelRequest): Promise<CellChannel> {
    if (equalBytes(req.identity, this.identity.publicKey)) throw new Error('refusing to open a link to ourselves');
    const k = toHex(req.identity);
    const open = this.nodeLinks.get(k);
    if (open?.isOpen) return LinkChannel.of(open);
    let pending = this.connecting.get(k);
    if (!pending) {
      pending = this.dial(req).finally(() => this.connecting.delete(k));
      this.connecting.set(k, pending);
    }
    return LinkChannel.of(await pending);
  }

  private async dial(req: OpenChannelRequest): Promise<Link> {
    let lastErr: unknown = new Error('no address to dial');
    for (const a of req.addresses) {
      try {
        const link = await connectLink({
          suite: this.suite,
          host: a.host,
          port: a.port,
          expectedPeer: req.identity,
          identity: this.identity,
          ...(this.config.limits.link ? { linkLimits: this.config.limits.link } : {}),
          log: this.log,
        });
        this.attach(link);
        return link;
      } catch (err) {
        lastErr = err;
        if ((err as { code?: string }).code === 'wrong-identity') break;
      }
    }
    throw lastErr;
  }

  private keepPeer(peer: NodeConfig['peers'][number], attempt: number): void {
    if (this.stopped) return;
    const identity = base58.decode(peer.identity);
    this.channelTo({ identity, addresses: [{ host: peer.host, port: peer.port }] }).then(
      (ch) => {
        const link = (ch as LinkChannel).link;
        if (this.stopped) return link.close('node stopping');
        link.inUse++; // configured peers are kept open
        this.log.info({ peer: peer.identity }, 'peer link authenticated');
        link.once('close', () => this.retry(peer, 0));
      },
      (err: Error & { code?: string }) => {
        this.log.warn({ peer: peer.identity, code: err.code, err: err.message }, 'peer link failed');
        this.retry(peer, attempt + 1);
      },
    );
  }

  private retry(peer: NodeConfig['peers'][number], attempt: number): void {
    if (this.stopped) return;
    const delay = Math.min(30_000, 250 * 2 ** Math.min(attempt, 7));
    const t = setTimeout(() => {
      this.reconnectTimers.delete(t);
      this.keepPeer(peer, attempt);
    }, delay);
    t.unref();
    this.reconnectTimers.add(t);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.directory?.stop();
    this.dht?.stop();
    this.streams?.stop();
    this.usageReporter?.stop();
    await this.oracle?.service.stop();
    this.oracle?.registry.close();
    this.registry?.close();
    if (this.rotateTimer) clearInterval(this.rotateTimer);
    for (const t of this.reconnectTimers) clearTimeout(t);
    for (const l of this.nodeLinks.values()) l.close('node stopping');
    await this.listener?.close();
  }
}

/** The network's oracles, with the onion keys of the current node list when it names them. */
function oracleTargets(directory: DirectoryService | null, network: NetworkConfig): NodeTarget[] {
  const listed = directory?.current()?.nodes.filter((n) => n.roles.includes('oracle')) ?? [];
  if (listed.length === 0) return network.oracle?.oracles ?? [];
  return listed.map((n) => ({ identity: n.identity, onionKey: n.onionKey, addresses: n.addresses.map((a) => ({ host: a.host, port: a.port })) }));
}

/** A landing node's public streams, as its own record in the DHT (node-core/stream/public-streams.ts). */
function publicStreamsPublisher(dht: DhtService): (streams: readonly PublicStreamEntry[]) => Promise<void> {
  return (streams) =>
    dht.publishOwn(
      PUBLIC_STREAMS_NAMESPACE,
      encodePublicStreams(streams.map((s) => ({ streamId: s.streamId, keys: s.meta.keys, title: publicTitle(s.meta.title) }))),
      dht.maxTtlMs,
    );
}

function readPassphrase(config: NodeConfig): string {
  if (config.passphraseFile) return readFileSync(config.passphraseFile, 'utf8').trim();
  const env = process.env.SIRIUS_NODE_PASSPHRASE;
  if (env) return env;
  throw new Error('no passphrase for the identity key: set passphraseFile in the config or SIRIUS_NODE_PASSPHRASE');
}

function makeObserver(path: string | undefined, nickname: string): Observer | undefined {
  if (!path) return undefined;
  return {
    record(event) {
      appendFileSync(path, JSON.stringify({ node: nickname, t: Date.now(), ...event }) + '\n');
    },
  };
}
