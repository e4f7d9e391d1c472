/**
 * A client's way into the network (seed 004 §2, §4, §6; DESIGN §3): start from the network file,
 * fetch the signed node list from a node (proxying) and verify it against the discovery keys and
 * threshold, build circuits only through nodes the list names, register the identity and hold
 * a valid access certificate co-signed by several authorities, renewing it before it expires.
 *
 * Registration and certificate requests go over 3-hop circuits ending at each authority, so no
 * authority sees the client's address with its identity.
 */
import {
  assembleAccessCertificate,
  createCertificateRequest,
  createRegistration,
  decodeAuthorityMessage,
  encodeAuthorityMessage,
  needsRenewal,
  type CertificateResult,
  type VerifiedAccessCertificate,
} from '../../authority';
import { formatIdentity } from '../../crypto/identity';
import type { CryptoSuite } from '../../crypto/api';
import { ConsensusCache, decodeDiscoveryMessage, encodeDiscoveryMessage, type VerifiedConsensus } from '../../directory';
import { AppEvent } from '../../message/envelope';
import { CircuitRpc } from '../../message/rpc';
import type { NodeTarget } from '../../onion/channel';
import { equalBytes, toHex } from '../../util/bytes';
import type { Logger } from '../log';
import { silentLogger } from '../log';
import { realScheduler } from '../onion/runtime';
import { loadNetworkFile, type KnownNode, type NetworkConfig } from './network';
import { OnionClient } from './onion-client';

export const CLIENT_NAMESPACE = 'sirius';
export const CLIENT_APP = 'chat';

export interface ClientIdentity {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  /** The identity string, `<namespace>.<app>.account.<base58 key>`. */
  text: string;
}

export function clientIdentity(suite: CryptoSuite, secretKey: Uint8Array, namespace = CLIENT_NAMESPACE, app = CLIENT_APP): ClientIdentity {
  const publicKey = suite.ed25519PublicKey(secretKey);
  return { secretKey, publicKey, text: formatIdentity({ namespace, app, publicKey }) };
}

export interface SessionOptions {
  suite: CryptoSuite;
  network: NetworkConfig | string;
  identity?: ClientIdentity;
  log?: Logger;
  localAddress?: string;
  /** Certificate lifetime to ask for (default 1 h). */
  certificateLifetimeMs?: number;
  /** Renew this long before expiry (default a quarter of the lifetime). */
  renewMarginMs?: number;
}

export class ClientSession {
  readonly suite: CryptoSuite;
  readonly network: NetworkConfig;
  readonly onion: OnionClient;
  private readonly cache: ConsensusCache;
  private readonly log: Logger;
  certificate: { bytes: Uint8Array; verified: VerifiedAccessCertificate } | null = null;
  private renewTimer: { cancel(): void } | null = null;
  private refreshTimer: { cancel(): void } | null = null;
  private closed = false;

  constructor(private readonly opts: SessionOptions) {
    this.suite = opts.suite;
    this.network = typeof opts.network === 'string' ? loadNetworkFile(opts.network) : opts.network;
    const dir = this.network.directory;
    if (!dir) throw new Error('the network file has no directory section: a client cannot verify a node list');
    this.cache = new ConsensusCache({
      suite: opts.suite,
      trust: { network: this.network.network, discoveryKeys: dir.discoveryKeys, threshold: dir.threshold },
      maxClockSkewMs: 30_000,
    });
    this.log = opts.log ?? silentLogger();
    this.onion = new OnionClient({
      suite: opts.suite,
      nodes: () => this.relayNodes(),
      log: this.log,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });
  }

  /** The local address this client's connections leave from, when one was set. */
  get localAddress(): string | undefined {
    return this.opts.localAddress;
  }

  /** The verified node list in use, if it is still valid. */
  get consensus(): VerifiedConsensus | undefined {
    return this.cache.current(Date.now());
  }

  /** Nodes general circuits may use: listed, running, valid, with the onion role. */
  relayNodes(): NodeTarget[] {
    const c = this.consensus;
    if (!c) return [];
    return c.nodes
      .filter((n) => n.roles.includes('onion') && n.flags.includes('running') && n.flags.includes('valid'))
      .map((n) => ({ identity: n.identity, onionKey: n.onionKey, addresses: n.addresses.map((a) => ({ host: a.host, port: a.port })) }));
  }

  /** A listed node by identity (any role), for circuits that must end at it. */
  listedNode(identity: Uint8Array): NodeTarget | undefined {
    const n = this.consensus?.nodes.find((x) => toHex(x.identity) === toHex(identity));
    return n && { identity: n.identity, onionKey: n.onionKey, addresses: n.addresses.map((a) => ({ host: a.host, port: a.port })) };
  }

  /**
   * Fetches and verifies the node list. Without entry guards: listed onion nodes first, then the
   * network file's onion nodes, and the discovery nodes directly only when those fail. With entry
   * guards (Tor's directory guards): through the guards only, or — before any guard can be
   * reached, on a first start — from the discovery nodes, which every client may ask. Never an
   * authority.
   */
  async refreshDirectory(): Promise<VerifiedConsensus> {
    const pull = encodeDiscoveryMessage({ type: 'pull', network: this.network.network });
    const known = this.network.nodes;
    const listed = this.relayNodes();
    const shuffle = <T>(a: T[]) => a.map((x) => [Math.random(), x] as const).sort((p, q) => p[0] - q[0]).map((p) => p[1]);
    const discovery = shuffle(known.filter((n) => n.roles.includes('discovery')));
    const guards = this.onion.manager.guards;
    const isGuard = (t: NodeTarget) => guards.some((g) => equalBytes(g, t.identity));
    const guardTargets = [...listed, ...known.filter((n) => !n.roles.includes('authority'))]
      .filter(isGuard)
      .filter((t, i, a) => a.findIndex((x) => equalBytes(x.identity, t.identity)) === i);
    const candidates: NodeTarget[] = guards.length
      ? [...shuffle(guardTargets), ...(guardTargets.length ? [] : discovery)]
      : [
          ...shuffle(listed).slice(0, 3),
          // Never an authority: it must not learn the client's address at all (seed 004 §4).
          ...shuffle(known.filter((n) => !n.roles.includes('discovery') && !n.roles.includes('authority'))).slice(0, 3),
          ...discovery,
        ];
    const errors: string[] = [];
    for (const target of candidates) {
      try {
        const circuit = await this.onion.circuits.build([target], 10_000);
        try {
          const answer = decodeDiscoveryMessage(await new CircuitRpc(circuit, realScheduler).request(AppEvent.DiscoveryPull, pull, 10_000));
          if (answer.type !== 'consensus') {
            errors.push(`${toHex(target.identity).slice(0, 8)}: no consensus`);
            continue;
          }
          const r = this.cache.offer(answer.consensus, Date.now());
          if (r.outcome === 'refused') {
            errors.push(`${toHex(target.identity).slice(0, 8)}: ${r.code}: ${r.detail}`);
            this.log.warn({ code: r.code, detail: r.detail }, 'node list refused');
            continue;
          }
          const c = this.consensus;
          if (c) return c;
        } finally {
          circuit.destroy();
        }
      } catch (err) {
        errors.push(`${toHex(target.identity).slice(0, 8)}: ${(err as Error).message}`);
      }
    }
    throw new Error(`no valid node list could be fetched (${errors.join('; ')})`);
  }

  /** Keeps the node list fresh in the background. */
  private scheduleRefresh(): void {
    const c = this.consensus;
    const wait = c ? Math.max(1000, c.freshUntil - Date.now()) : 2000;
    this.refreshTimer = realScheduler.setTimeout(() => {
      if (this.closed) return;
      this.refreshDirectory().then(
        () => this.scheduleRefresh(),
        (err: Error) => {
          this.log.warn({ err: err.message }, 'node list refresh failed');
          this.scheduleRefresh();
        },
      );
    }, wait);
  }

  /** Sends one authority message over a 3-hop circuit ending at `authority`; returns the answer. */
  private async authorityRequest(authority: NodeTarget, message: Uint8Array): Promise<Uint8Array> {
    const circuit = await this.onion.manager.build({ last: authority, hops: 3 });
    try {
      return await new CircuitRpc(circuit, realScheduler).request(AppEvent.RequestCertificate, message, 15_000);
    } finally {
      circuit.destroy();
    }
  }

  private authorities(): NodeTarget[] {
    const a = this.network.authority;
    if (!a) throw new Error('the network file has no authority section');
    return a.authorities.map((k) => this.listedNode(k.identity) ?? k);
  }

  /** Registers the identity with every authority (idempotent: a repeat changes nothing). */
  async register(identity: ClientIdentity, displayName?: string): Promise<void> {
    const reg = createRegistration(
      this.opts.suite,
      { publicKey: identity.publicKey, identity: identity.text, createdAt: Date.now(), nonce: this.opts.suite.randomBytes(16), ...(displayName ? { displayName } : {}) },
      identity.secretKey,
    );
    const message = encodeAuthorityMessage({ type: 'register', registration: reg });
    const results = await Promise.allSettled(this.authorities().map((a) => this.authorityRequest(a, message)));
    let ok = 0;
    const problems: string[] = [];
    for (const r of results) {
      if (r.status === 'rejected') {
        problems.push((r.reason as Error).message);
        continue;
      }
      const m = decodeAuthorityMessage(r.value);
      if (m.type === 'register-result' && m.result.status === 'ok') ok++;
      else problems.push(m.type === 'register-result' ? `${m.result.status}: ${'detail' in m.result ? (m.result.detail ?? '') : ''}` : `unexpected ${m.type}`);
    }
    const need = this.network.authority!.threshold;
    if (ok < need) throw new Error(`registration reached ${ok} of the ${need} authorities needed (${problems.join('; ')})`);
  }

  /** Obtains an access certificate co-signed by at least the threshold of authorities. */
  async obtainCertificate(identity: ClientIdentity): Promise<VerifiedAccessCertificate> {
    const a = this.network.authority!;
    const request = {
      subject: identity.publicKey,
      identity: identity.text,
      network: this.network.network,
      requestedAt: Date.now(),
      lifetimeMs: this.opts.certificateLifetimeMs ?? 3600_000,
      nonce: this.opts.suite.randomBytes(16),
    };
    const signed = createCertificateRequest(this.opts.suite, request, identity.secretKey);
    const message = encodeAuthorityMessage({ type: 'certificate-request', request: signed });
    const answers = await Promise.allSettled(this.authorities().map((t) => this.authorityRequest(t, message)));
    const results: CertificateResult[] = [];
    for (const r of answers) {
      if (r.status !== 'fulfilled') continue;
      const m = decodeAuthorityMessage(r.value);
      if (m.type === 'certificate-result') results.push(m.result);
    }
    const { bytes, certificate } = assembleAccessCertificate(
      this.opts.suite,
      request,
      results,
      { authorityKeys: a.authorityKeys, threshold: a.threshold },
      Date.now(),
    );
    this.certificate = { bytes, verified: certificate };
    this.scheduleRenewal(identity);
    return certificate;
  }

  private scheduleRenewal(identity: ClientIdentity): void {
    this.renewTimer?.cancel();
    const cert = this.certificate!.verified;
    const margin = this.opts.renewMarginMs ?? Math.floor((cert.expiresAt - cert.issuedAt) / 4);
    const at = cert.expiresAt - margin;
    this.renewTimer = realScheduler.setTimeout(() => {
      if (this.closed) return;
      if (!needsRenewal(cert, Date.now(), margin)) return this.scheduleRenewal(identity);
      this.obtainCertificate(identity).catch((err: Error) => {
        this.log.warn({ err: err.message }, 'certificate renewal failed; retrying');
        this.renewTimer = realScheduler.setTimeout(() => this.scheduleRenewal(identity), 5000);
      });
    }, Math.max(1000, at - Date.now()));
  }

  /**
   * Cold start: verified node list, then (with an identity) registration and a certificate.
   * Keeps the list and the certificate fresh afterwards.
   */
  async start(identity?: ClientIdentity, opts: { register?: boolean } = {}): Promise<void> {
    await this.refreshDirectory();
    this.scheduleRefresh();
    if (identity) {
      if (opts.register ?? true) await this.register(identity);
      await this.obtainCertificate(identity);
    }
  }

  close(): void {
    this.closed = true;
    this.renewTimer?.cancel();
    this.refreshTimer?.cancel();
    this.onion.close();
  }
}

export type { KnownNode };
