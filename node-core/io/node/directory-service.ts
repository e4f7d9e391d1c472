/**
 * A node's part in the directory (seed 004 §2; DESIGN §3 "Directory"):
 * - every node signs its descriptor and publishes it to every discovery node, each period
 *   (over one-hop circuits on authenticated links);
 * - every node keeps the latest consensus it could verify (threshold of discovery signatures)
 *   and serves it to anyone who asks (proxying), refreshing it when it is no longer fresh;
 * - a discovery node also runs the voting state machine (node-core/directory/voting.ts): it
 *   collects descriptors, exchanges votes and signatures with the other discovery nodes, and
 *   publishes each consensus that reaches the threshold.
 */
import { base58 } from '@scure/base';
import {
  ConsensusCache,
  decodeDiscoveryMessage,
  DiscoveryVoting,
  encodeDescriptorBody,
  encodeDiscoveryMessage,
  signDescriptor,
  type VerifiedConsensus,
  type VotingAction,
} from '../../directory';
import type { CryptoSuite } from '../../crypto/api';
import type { IdentityKeys } from '../../link/handshake';
import { AppEvent } from '../../message/envelope';
import { CircuitRpc } from '../../message/rpc';
import type { MessageRouter } from '../../message/router';
import type { NodeTarget } from '../../onion/channel';
import type { CircuitClient } from '../../onion/client';
import { toHex } from '../../util/bytes';
import type { KnownNode, NetworkConfig } from '../client/network';
import type { Logger } from '../log';
import { realScheduler } from '../onion/runtime';

export const SOFTWARE_VERSION = 'sirius-0.1.0';

export interface DirectoryServiceOptions {
  suite: CryptoSuite;
  identity: IdentityKeys;
  network: NetworkConfig;
  /** This node's descriptor fields that change (onion key after rotation, address). */
  describe: () => { onionKey: Uint8Array; host: string; port: number; roles: string[]; nickname: string; bandwidth: number };
  client: CircuitClient;
  router: MessageRouter;
  log: Logger;
  isDiscovery: boolean;
}

/** One-hop circuits to other nodes, kept open and rebuilt on demand. */
export class DirectCircuits {
  private readonly rpcs = new Map<string, Promise<CircuitRpc>>();
  constructor(private readonly client: CircuitClient) {}

  get(target: NodeTarget): Promise<CircuitRpc> {
    const k = toHex(target.identity);
    let p = this.rpcs.get(k);
    if (!p) {
      p = this.client.build([target], 10_000).then((c) => {
        const prev = c.events.onClose;
        c.events.onClose = (e) => {
          if (this.rpcs.get(k) === p) this.rpcs.delete(k);
          prev?.(e);
        };
        return new CircuitRpc(c, realScheduler);
      });
      p.catch(() => this.rpcs.delete(k));
      this.rpcs.set(k, p);
    }
    return p;
  }

  async request(target: NodeTarget, event: number, body: Uint8Array, timeoutMs = 10_000): Promise<Uint8Array> {
    const rpc = await this.get(target);
    if (!rpc.circuit.isOpen) {
      this.rpcs.delete(toHex(target.identity));
      return (await this.get(target)).request(event, body, timeoutMs);
    }
    return rpc.request(event, body, timeoutMs);
  }

  async notify(target: NodeTarget, event: number, body: Uint8Array): Promise<void> {
    (await this.get(target)).notify(event, body);
  }

  closeAll(): void {
    for (const p of this.rpcs.values()) p.then((r) => r.circuit.destroy(), () => undefined);
    this.rpcs.clear();
  }
}

export class DirectoryService {
  readonly cache: ConsensusCache;
  private readonly voting: DiscoveryVoting | null;
  private readonly direct: DirectCircuits;
  private readonly periodMs: number;
  private timers: { cancel(): void }[] = [];
  private stopped = false;
  private readonly discovery: KnownNode[];

  constructor(private readonly o: DirectoryServiceOptions) {
    const dir = o.network.directory;
    if (!dir) throw new Error('the network file has no directory section');
    this.periodMs = dir.periodMs;
    this.discovery = dir.discovery.filter((d) => toHex(d.identity) !== toHex(o.identity.publicKey));
    const trust = { network: o.network.network, discoveryKeys: dir.discoveryKeys, threshold: dir.threshold };
    this.cache = new ConsensusCache({ suite: o.suite, trust, maxClockSkewMs: 30_000 });
    this.direct = new DirectCircuits(o.client);
    this.voting = o.isDiscovery
      ? new DiscoveryVoting({
          suite: o.suite,
          network: o.network.network,
          secretKey: o.identity.secretKey,
          discoveryKeys: dir.discoveryKeys,
          threshold: dir.threshold,
          periodMs: dir.periodMs,
          voteOffsetMs: Math.floor(dir.periodMs * 0.4),
          computeOffsetMs: Math.floor(dir.periodMs * 0.7),
          descriptorPolicy: { maxLifetimeMs: 4 * dir.periodMs, maxClockSkewMs: 30_000 },
          ...(o.network.authority ? { authorityKeys: o.network.authority.authorityKeys } : {}),
          maxClockSkewMs: 30_000,
        })
      : null;

    o.router.handle(AppEvent.DiscoveryPull, (body) => {
      if (this.voting) {
        const reply = this.runVoting({ type: 'message', now: Date.now(), bytes: body });
        if (reply) return reply;
      }
      return this.cache.answer(body, Date.now());
    });
    if (this.voting) {
      o.router.handle(AppEvent.DiscoveryPublish, (body, { endpoint }) => {
        const reply = this.runVoting({ type: 'message', now: Date.now(), bytes: body, ...(endpoint.prevIdentity ? { from: endpoint.prevIdentity } : {}) });
        return reply ?? encodeDiscoveryMessage({ type: 'publish-result', status: 'malformed' });
      });
      o.router.onNotice(AppEvent.DiscoveryPeer, (body, { endpoint }) => {
        this.runVoting({ type: 'message', now: Date.now(), bytes: body, ...(endpoint.prevIdentity ? { from: endpoint.prevIdentity } : {}) });
      });
    }
  }

  /** The consensus this node holds, if any is valid now. */
  current(): VerifiedConsensus | undefined {
    return this.cache.current(Date.now());
  }

  start(): void {
    this.publishLoop();
    if (this.voting) this.votingLoop();
    else this.fetchLoop();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    this.direct.closeAll();
  }

  private later(fn: () => void, ms: number): void {
    if (this.stopped) return;
    const t = realScheduler.setTimeout(() => {
      this.timers = this.timers.filter((x) => x !== t);
      fn();
    }, ms);
    this.timers.push(t);
  }

  /** Runs the voting machine on one event and applies its actions; returns a reply, if any. */
  private runVoting(event: Parameters<DiscoveryVoting['handle']>[0]): Uint8Array | undefined {
    let reply: Uint8Array | undefined;
    let actions: VotingAction[];
    try {
      actions = this.voting!.handle(event);
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'discovery message refused');
      return undefined;
    }
    for (const a of actions) {
      switch (a.type) {
        case 'reply':
          reply = a.message;
          break;
        case 'send': {
          const target = this.o.network.directory!.discovery.find((d) => toHex(d.identity) === toHex(a.to));
          if (target) {
            this.direct.notify(target, AppEvent.DiscoveryPeer, a.message).catch((err: Error) =>
              this.o.log.debug({ to: base58.encode(a.to), err: err.message }, 'discovery peer unreachable'),
            );
          }
          break;
        }
        case 'publish': {
          const r = this.cache.offer(a.consensus.bytes, Date.now());
          if (r.outcome === 'adopted') {
            this.o.log.info({ period: a.consensus.period, nodes: a.consensus.nodes.length, signatures: a.consensus.signers.length }, 'consensus published');
          }
          break;
        }
        case 'rejected':
          this.o.log.info({ what: a.what, code: a.code, detail: a.detail }, 'discovery input rejected');
          break;
        default:
          this.o.log.debug(a, `discovery ${a.type}`);
      }
    }
    return reply;
  }

  private votingLoop(): void {
    const now = Date.now();
    this.runVoting({ type: 'tick', now });
    const next = this.voting!.nextWakeup(now);
    this.later(() => this.votingLoop(), Math.max(20, Math.min(next - now, this.periodMs)));
  }

  private descriptor(): Uint8Array {
    const d = this.o.describe();
    const now = Date.now();
    const body = encodeDescriptorBody({
      identity: this.o.identity.publicKey,
      onionKey: d.onionKey,
      addresses: [{ host: d.host, port: d.port }],
      roles: d.roles as ('onion' | 'discovery' | 'authority' | 'oracle')[],
      bandwidth: d.bandwidth,
      version: SOFTWARE_VERSION,
      nickname: d.nickname,
      publishedAt: now,
      validUntil: now + 3 * this.periodMs,
    });
    return signDescriptor(this.o.suite, body, this.o.identity.secretKey);
  }

  private publishLoop(): void {
    const message = encodeDiscoveryMessage({ type: 'publish', descriptor: this.descriptor() });
    if (this.voting) this.runVoting({ type: 'message', now: Date.now(), bytes: message, from: this.o.identity.publicKey });
    for (const d of this.discovery) {
      this.direct
        .request(d, AppEvent.DiscoveryPublish, message)
        .then((answer) => {
          const m = decodeDiscoveryMessage(answer);
          if (m.type === 'publish-result' && m.status !== 'accepted') {
            this.o.log.warn({ discovery: d.nickname, status: m.status }, 'descriptor refused');
          }
        })
        .catch((err: Error) => this.o.log.debug({ discovery: d.nickname, err: err.message }, 'descriptor not published'));
    }
    this.later(() => this.publishLoop(), Math.max(500, Math.floor(this.periodMs / 2)));
  }

  /** Non-discovery nodes pull the consensus from discovery nodes whenever theirs is not fresh. */
  private fetchLoop(): void {
    if (this.cache.needsRefresh(Date.now())) {
      const pull = encodeDiscoveryMessage({ type: 'pull', network: this.o.network.network });
      const order = [...this.discovery].sort(() => Math.random() - 0.5);
      const tryNext = (i: number): void => {
        const d = order[i];
        if (!d || this.stopped) return;
        this.direct
          .request(d, AppEvent.DiscoveryPull, pull)
          .then((answer) => {
            const m = decodeDiscoveryMessage(answer);
            if (m.type !== 'consensus') return tryNext(i + 1);
            const r = this.cache.offer(m.consensus, Date.now());
            if (r.outcome === 'refused') {
              this.o.log.warn({ from: d.nickname, code: r.code, detail: r.detail }, 'consensus refused');
              return tryNext(i + 1);
            }
          })
          .catch(() => tryNext(i + 1));
      };
      tryNext(0);
    }
    this.later(() => this.fetchLoop(), Math.max(500, Math.floor(this.periodMs / 4)));
  }
}
