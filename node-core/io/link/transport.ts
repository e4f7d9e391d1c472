/**
 * Opening links: `LinkListener` accepts inbound TLS connections for a node, `connectLink` dials
 * one. TLS 1.3 only; no session resumption and no tickets (flows/tls.md): the server sets
 * SSL_OP_NO_TICKET and drops any connection that resumed a session, and the client never offers
 * a saved session. The TLS certificate is a short-lived link key (node-core/link/x509.ts) that is
 * renewed before it expires; the link handshake binds it to the node's identity.
 */
import { constants as cryptoConstants } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { CryptoSuite } from '../../crypto/api';
import type { IdentityKeys } from '../../link/handshake';
import { LinkError } from '../../link/errors';
import { makeLinkCertificate, type LinkCertificate } from '../../link/x509';
import { type Logger, redact, silentLogger } from '../log';
import { Link } from './link';
import { type LinkLimits, type ListenerLimits, linkLimits, listenerLimits } from './limits';

const TLS_OPTIONS = {
  minVersion: 'TLSv1.3' as const,
  maxVersion: 'TLSv1.3' as const,
  secureOptions: cryptoConstants.SSL_OP_NO_TICKET,
};

/** Link certificates live two days and are replaced after one. */
const CERT_LIFETIME_MS = 2 * 24 * 3600 * 1000;
const CERT_ROTATE_MS = 24 * 3600 * 1000;

export interface ListenerOptions {
  suite: CryptoSuite;
  identity: IdentityKeys;
  host: string;
  port: number;
  /** Whether anonymous clients may connect (AUTH_BYPASS). Nodes that serve clients say yes. */
  allowBypass?: boolean;
  linkLimits?: Partial<LinkLimits>;
  listenerLimits?: Partial<ListenerLimits>;
  log?: Logger;
}

export interface ListenerEvents {
  link: [link: Link];
  refused: [info: { reason: string }];
}

export class LinkListener extends EventEmitter<ListenerEvents> {
  private readonly server: tls.Server;
  private readonly perIp = new Map<string, number>();
  private pending = 0;
  private readonly links = new Set<Link>();
  private cert: LinkCertificate;
  private certHash: Uint8Array;
  private readonly rotateTimer: NodeJS.Timeout;
  private readonly log: Logger;
  readonly linkLimits: LinkLimits;
  readonly limits: ListenerLimits;

  private constructor(private readonly opts: ListenerOptions) {
    super();
    this.log = opts.log ?? silentLogger();
    this.linkLimits = linkLimits(opts.linkLimits);
    this.limits = listenerLimits(opts.listenerLimits);
    this.cert = makeLinkCertificate(opts.suite, Date.now(), CERT_LIFETIME_MS);
    this.certHash = opts.suite.sha256(this.cert.der);
    this.server = tls.createServer({ ...TLS_OPTIONS, key: this.cert.keyPem, cert: this.cert.certPem });
    this.server.on('connection', (s: Socket) => this.onConnection(s));
    this.server.on('secureConnection', (s: tls.TLSSocket) => this.onSecure(s));
    this.server.on('tlsClientError', (err, s) => {
      this.log.info({ addr: redact(s.remoteAddress ?? '?'), err: err.message }, 'TLS handshake failed');
    });
    this.rotateTimer = setInterval(() => this.rotateCertificate(), CERT_ROTATE_MS);
    this.rotateTimer.unref();
  }

  static async listen(opts: ListenerOptions): Promise<LinkListener> {
    const l = new LinkListener(opts);
    await new Promise<void>((resolve, reject) => {
      l.server.once('error', reject);
      l.server.listen(opts.port, opts.host, () => {
        l.server.off('error', reject);
        resolve();
      });
    });
    return l;
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  /** Connections (in handshake or open) currently counted against `ip`. */
  connectionsFrom(ip: string): number {
    return this.perIp.get(ip) ?? 0;
  }

  get openLinks(): ReadonlySet<Link> {
    return this.links;
  }

  /** Replaces the TLS link key; existing links keep the key they were made with. */
  rotateCertificate(): void {
    this.cert = makeLinkCertificate(this.opts.suite, Date.now(), CERT_LIFETIME_MS);
    this.certHash = this.opts.suite.sha256(this.cert.der);
    this.server.setSecureContext({ ...TLS_OPTIONS, key: this.cert.keyPem, cert: this.cert.certPem });
  }

  private refuse(s: Socket, reason: string): void {
    this.log.warn({ addr: redact(s.remoteAddress ?? '?'), reason }, 'connection refused');
    this.emit('refused', { reason });
    s.destroy();
  }

  private onConnection(s: Socket): void {
    const ip = s.remoteAddress ?? '?';
    const n = this.perIp.get(ip) ?? 0;
    if (n >= this.limits.maxConnectionsPerIp) return this.refuse(s, 'connections-per-ip');
    if (this.pending >= this.limits.maxPendingHandshakes) return this.refuse(s, 'handshake-backlog');
    if (this.links.size + this.pending >= this.limits.maxLinks) return this.refuse(s, 'max-links');
    this.perIp.set(ip, n + 1);
    this.pending++;
    let handshaking = true;
    const done = () => {
      if (handshaking) {
        handshaking = false;
        this.pending--;
      }
    };
    const tlsTimeout = setTimeout(() => s.destroy(), this.linkLimits.handshakeTimeoutMs);
    tlsTimeout.unref();
    s.once('close', () => {
      clearTimeout(tlsTimeout);
      done();
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, left);
    });
    (s as Socket & { pspDone?: () => void; pspTlsTimeout?: NodeJS.Timeout }).pspDone = done;
    (s as Socket & { pspTlsTimeout?: NodeJS.Timeout }).pspTlsTimeout = tlsTimeout;
  }

  private onSecure(s: tls.TLSSocket): void {
    if (s.isSessionReused()) {
      this.log.warn({ addr: redact(s.remoteAddress ?? '?') }, 'refused a resumed TLS session');
      s.destroy();
      return;
    }
    // The raw socket that 'connection' saw is the TLS socket's underlying handle.
    const raw = (s as unknown as { _parent?: Socket })._parent ?? (s as unknown as Socket);
    const meta = raw as Socket & { pspDone?: () => void; pspTlsTimeout?: NodeJS.Timeout };
    if (meta.pspTlsTimeout) clearTimeout(meta.pspTlsTimeout);
    const link = new Link({
      socket: s,
      direction: 'inbound',
      suite: this.opts.suite,
      limits: this.linkLimits,
      identity: this.opts.identity,
      allowBypass: this.opts.allowBypass ?? true,
      tlsCertHash: this.opts.suite.sha256(new Uint8Array(s.getX509Certificate()?.raw ?? this.cert.der)),
      log: this.log,
    });
    const finished = () => meta.pspDone?.();
    link.once('open', () => {
      finished();
      this.links.add(link);
      this.emit('link', link);
    });
    link.once('close', () => {
      finished();
      this.links.delete(link);
    });
  }

  async close(): Promise<void> {
    clearInterval(this.rotateTimer);
    for (const l of this.links) l.close('listener closing');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface ConnectOptions {
  suite: CryptoSuite;
  host: string;
  port: number;
  /** The node identity we mean to reach; the link fails with 'wrong-identity' otherwise. */
  expectedPeer?: Uint8Array;
  /** Authenticate as this node; omit to connect anonymously as a client. */
  identity?: IdentityKeys;
  linkLimits?: Partial<LinkLimits>;
  log?: Logger;
  /** Bind the local end to this address (tests with several loopback addresses). */
  localAddress?: string;
}

/** Dials a node and completes the link handshake; rejects with LinkError on any failure. */
export async function connectLink(opts: ConnectOptions): Promise<Link> {
  const limits = linkLimits(opts.linkLimits);
  const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const s = tls.connect({
      ...TLS_OPTIONS,
      host: opts.host,
      port: opts.port,
      // The certificate is self-signed by design; the link handshake authenticates the node.
      rejectUnauthorized: false,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new LinkError('timeout', `TLS handshake with ${opts.host}:${opts.port} timed out`));
    }, limits.handshakeTimeoutMs);
    s.once('secureConnect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(new LinkError('closed', `cannot connect to ${opts.host}:${opts.port}: ${err.message}`));
    });
  });
  const peerCert = socket.getPeerX509Certificate();
  if (!peerCert) {
    socket.destroy();
    throw new LinkError('bad-certs', 'the node presented no TLS certificate');
  }
  const link = new Link({
    socket,
    direction: 'outbound',
    suite: opts.suite,
    limits,
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...(opts.expectedPeer ? { expectedPeer: opts.expectedPeer } : {}),
    tlsCertHash: opts.suite.sha256(new Uint8Array(peerCert.raw)),
    ...(opts.log ? { log: opts.log } : {}),
  });
  await link.ready;
  return link;
}
