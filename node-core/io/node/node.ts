/**
 * A PSP node process: its identity, its link listener and its links to other nodes.
 *
 * This layer knows links only; circuit handling, the directory, the DHT and the other roles
 * attach to it as they are built. The identity key is kept encrypted at rest (keystore.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { base58 } from '@scure/base';
import type { CryptoSuite } from '../../crypto/api';
import type { IdentityKeys } from '../../link/handshake';
import { toHex } from '../../util/bytes';
import { loadOrCreateIdentityKey } from '../keystore';
import type { Link } from '../link/link';
import { connectLink, LinkListener } from '../link/transport';
import type { Logger } from '../log';
import type { NodeConfig } from './config';

export interface NodeInfo {
  nickname: string;
  roles: string[];
  host: string;
  port: number;
  /** base58 Ed25519 identity key. */
  identity: string;
}

export class PspNode {
  private listener: LinkListener | null = null;
  private readonly peerLinks = new Map<string, Link>();
  private readonly reconnectTimers = new Set<NodeJS.Timeout>();
  private stopped = false;

  private constructor(
    readonly config: NodeConfig,
    readonly identity: IdentityKeys,
    private readonly suite: CryptoSuite,
    private readonly log: Logger,
  ) {}

  static async create(config: NodeConfig, suite: CryptoSuite, log: Logger): Promise<PspNode> {
    const passphrase = readPassphrase(config);
    const secretKey = await loadOrCreateIdentityKey(join(config.dataDir, 'identity.key'), passphrase, suite);
    return new PspNode(config, { secretKey, publicKey: suite.ed25519PublicKey(secretKey) }, suite, log);
  }

  get info(): NodeInfo {
    const adv = this.config.advertise;
    return {
      nickname: this.config.nickname,
      roles: [...this.config.roles],
      host: adv?.host ?? this.config.listen.host,
      port: adv?.port ?? this.listener?.port ?? this.config.listen.port,
      identity: base58.encode(this.identity.publicKey),
    };
  }

  get links(): { inbound: number; outbound: number } {
    return { inbound: this.listener?.openLinks.size ?? 0, outbound: this.peerLinks.size };
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
    this.listener.on('link', (link) => {
      // Until circuits exist, an inbound link only keeps its keep-alive; cells are not yet routed.
      link.on('cell', (cell) => this.log.debug({ command: cell.command }, 'cell on a link with no circuit handler'));
    });
    for (const peer of this.config.peers) this.keepPeer(peer, 0);
  }

  private keepPeer(peer: NodeConfig['peers'][number], attempt: number): void {
    if (this.stopped) return;
    const expected = base58.decode(peer.identity);
    connectLink({
      suite: this.suite,
      host: peer.host,
      port: peer.port,
      expectedPeer: expected,
      identity: this.identity,
      ...(this.config.limits.link ? { linkLimits: this.config.limits.link } : {}),
      log: this.log,
    }).then(
      (link) => {
        if (this.stopped) return link.close('node stopping');
        link.inUse = 1; // configured peers are kept open
        this.peerLinks.set(peer.identity, link);
        this.log.info({ peer: peer.identity }, 'peer link authenticated');
        link.once('close', () => {
          this.peerLinks.delete(peer.identity);
          this.retry(peer, 0);
        });
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
    this.reconnectTimers.add(t);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.reconnectTimers) clearTimeout(t);
    for (const l of this.peerLinks.values()) l.close('node stopping');
    await this.listener?.close();
  }

  /** A short fingerprint for logs. */
  get fingerprint(): string {
    return toHex(this.suite.sha256(this.identity.publicKey)).slice(0, 16);
  }
}

function readPassphrase(config: NodeConfig): string {
  if (config.passphraseFile) return readFileSync(config.passphraseFile, 'utf8').trim();
  const env = process.env.SIRIUS_NODE_PASSPHRASE;
  if (env) return env;
  throw new Error('no passphrase for the identity key: set passphraseFile in the config or SIRIUS_NODE_PASSPHRASE');
}
