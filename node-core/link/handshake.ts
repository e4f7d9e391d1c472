/**
 * The post-TLS link handshake as two pure state machines (reference flows/tls.md, modernised
 * per DESIGN §3). Cells in, actions out; the I/O driver (node-core/io/link) owns the socket,
 * supplies the TLS facts (exporter value, certificate bytes) and applies the actions.
 *
 *   initiator                         responder
 *   VERSIONS            ───────────▶
 *                       ◀───────────  VERSIONS, CERTS{identity, binding}, AUTH_CHALLENGE
 *   anonymous:  AUTH_BYPASS  ───────▶              (only if AllowBypass was offered)
 *   node:       CERTS{identity}, AUTHENTICATE ───▶ (method 3: signs both logs, the responder's
 *                                                   TLS certificate hash and the exporter)
 *
 * The binding proves that the holder of the responder's identity key terminates *this* TLS
 * session: it signs the hash of the TLS certificate actually presented and the connection's
 * exporter value, which a man in the middle cannot reproduce. The initiator checks the identity
 * against the one it expected (from the directory or network file) before it sends anything that
 * identifies itself. PADDING cells are allowed anywhere and go into the logs.
 *
 * Not here: timeouts (the driver's), rate limits, anything after the link opens.
 */
import { type Cell, CellCommand, encodeCell } from '../cell';
import type { CryptoSuite, RunningHash } from '../crypto/api';
import { equalBytes } from '../util/bytes';
import { LinkError } from './errors';
import {
  AuthMethod,
  authenticateSignedPart,
  decodeAuthChallenge,
  decodeAuthenticate,
  decodeCerts,
  decodeVersions,
  encodeAuthChallenge,
  encodeAuthenticate,
  encodeCerts,
  encodeVersions,
  linkBindingMessage,
  negotiateVersion,
  SUPPORTED_VERSIONS,
} from './messages';

export interface IdentityKeys {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export type HandshakeAction =
  | { type: 'send'; bytes: Uint8Array }
  | { type: 'open'; version: number; peerIdentity: Uint8Array | null };

const EMPTY = new Uint8Array(0);

function cellBytes(command: CellCommand, payload: Uint8Array): Uint8Array {
  return encodeCell({ circId: 0, command, payload });
}

abstract class HandshakeBase {
  protected done = false;
  protected failed: LinkError | null = null;
  constructor(protected readonly suite: CryptoSuite) {}

  /** Feeds one received cell; returns the actions to apply, or throws LinkError (close the link). */
  receive(cell: Cell): HandshakeAction[] {
    if (this.failed) throw this.failed;
    if (this.done) throw new LinkError('protocol', 'handshake already finished');
    try {
      return this.step(cell);
    } catch (err) {
      this.failed =
        err instanceof LinkError ? err : new LinkError('malformed', err instanceof Error ? err.message : String(err));
      throw this.failed;
    }
  }

  get isOpen(): boolean {
    return this.done;
  }

  protected abstract step(cell: Cell): HandshakeAction[];
}

export interface InitiatorOptions {
  suite: CryptoSuite;
  /** Our identity to authenticate with; omit to connect anonymously (clients). */
  identity?: IdentityKeys;
  /** The responder identity we expect (from the directory); omit only when any node will do. */
  expectedPeer?: Uint8Array;
  /** SHA-256 of the DER certificate the responder presented in TLS. */
  peerTlsCertHash: Uint8Array;
  /** This connection's TLS exporter value (messages.ts TLS_EXPORTER_*). */
  exporter: Uint8Array;
}

export class InitiatorHandshake extends HandshakeBase {
  private state: 'new' | 'versions' | 'certs' | 'challenge' = 'new';
  private version = 0;
  private peerIdentity: Uint8Array | null = null;
  private readonly sentLog: RunningHash;
  private readonly recvLog: RunningHash;

  constructor(private readonly opts: InitiatorOptions) {
    super(opts.suite);
    this.sentLog = opts.suite.runningSha256();
    this.recvLog = opts.suite.runningSha256();
  }

  start(): HandshakeAction[] {
    if (this.state !== 'new') throw new LinkError('protocol', 'handshake already started');
    this.state = 'versions';
    return [this.send(CellCommand.Versions, encodeVersions(SUPPORTED_VERSIONS))];
  }

  private send(command: CellCommand, payload: Uint8Array): HandshakeAction {
    const bytes = cellBytes(command, payload);
    this.sentLog.update(bytes);
    return { type: 'send', bytes };
  }

  protected step(cell: Cell): HandshakeAction[] {
    this.recvLog.update(encodeCell(cell));
    if (cell.command === CellCommand.Padding) return [];
    switch (this.state) {
      case 'versions': {
        expect(cell, CellCommand.Versions);
        const v = negotiateVersion(SUPPORTED_VERSIONS, decodeVersions(cell.payload));
        if (v === null) throw new LinkError('no-common-version', 'the responder shares no link protocol version with us');
        this.version = v;
        this.state = 'certs';
        return [];
      }
      case 'certs': {
        expect(cell, CellCommand.Certs);
        const certs = decodeCerts(cell.payload);
        if (!certs.identity || !certs.binding) {
          throw new LinkError('bad-certs', 'the responder must present an identity and a link binding');
        }
        const b = certs.binding;
        if (!equalBytes(b.identityKey, certs.identity)) {
          throw new LinkError('bad-certs', 'the link binding names another identity than the identity certificate');
        }
        if (!equalBytes(b.tlsCertHash, this.opts.peerTlsCertHash)) {
          throw new LinkError('tls-mismatch', 'the link binding is for another TLS certificate');
        }
        if (!equalBytes(b.exporter, this.opts.exporter)) {
          throw new LinkError('tls-mismatch', 'the link binding is for another TLS session');
        }
        if (!this.suite.ed25519Verify(b.signature, linkBindingMessage(b), b.identityKey)) {
          throw new LinkError('bad-signature', 'the link binding signature does not verify');
        }
        // Only after the proof: compare with the identity we meant to reach.
        if (this.opts.expectedPeer && !equalBytes(this.opts.expectedPeer, certs.identity)) {
          throw new LinkError('wrong-identity', 'the node proved a different identity key than the one expected');
        }
        this.peerIdentity = certs.identity;
        this.state = 'challenge';
        return [];
      }
      case 'challenge': {
        expect(cell, CellCommand.AuthChallenge);
        const ch = decodeAuthChallenge(cell.payload);
        const peer = this.peerIdentity!;
        this.done = true;
        const open: HandshakeAction = { type: 'open', version: this.version, peerIdentity: peer };
        const id = this.opts.identity;
        if (!id) {
          if (!ch.methods.includes(AuthMethod.AllowBypass)) {
            throw new LinkError('bypass-refused', 'the node does not accept anonymous connections');
          }
          return [this.send(CellCommand.AuthBypass, EMPTY), open];
        }
        if (!ch.methods.includes(AuthMethod.Ed25519TlsExporter)) {
          throw new LinkError('auth-required', 'the node offers no authentication method we support');
        }
        const certsAction = this.send(CellCommand.Certs, encodeCerts({ identity: id.publicKey }));
        const unsigned = {
          initiatorIdentity: id.publicKey,
          responderIdentity: peer,
          responderLog: this.recvLog.digest(),
          initiatorLog: this.sentLog.digest(),
          responderCertHash: this.opts.peerTlsCertHash,
          exporter: this.opts.exporter,
          rand: this.suite.randomBytes(24),
        };
        const signature = this.suite.ed25519Sign(authenticateSignedPart(unsigned), id.secretKey);
        const authAction = this.send(CellCommand.Authenticate, encodeAuthenticate({ ...unsigned, signature }));
        return [certsAction, authAction, open];
      }
      default:
        throw new LinkError('unexpected-cell', `cell ${cell.command} before the handshake started`);
    }
  }
}

export interface ResponderOptions {
  suite: CryptoSuite;
  identity: IdentityKeys;
  /** Whether anonymous initiators (clients) may skip authentication. */
  allowBypass: boolean;
  /** When set, only this initiator identity is accepted. */
  expectedPeer?: Uint8Array;
  /** SHA-256 of our own TLS certificate (DER). */
  ownTlsCertHash: Uint8Array;
  exporter: Uint8Array;
}

export class ResponderHandshake extends HandshakeBase {
  private state: 'versions' | 'auth' | 'authenticate' = 'versions';
  private version = 0;
  private initiatorIdentity: Uint8Array | null = null;
  private readonly sentLog: RunningHash;
  private readonly recvLog: RunningHash;
  private responderLog: Uint8Array = EMPTY;

  constructor(private readonly opts: ResponderOptions) {
    super(opts.suite);
    this.sentLog = opts.suite.runningSha256();
    this.recvLog = opts.suite.runningSha256();
  }

  private send(command: CellCommand, payload: Uint8Array): HandshakeAction {
    const bytes = cellBytes(command, payload);
    this.sentLog.update(bytes);
    return { type: 'send', bytes };
  }

  protected step(cell: Cell): HandshakeAction[] {
    if (cell.command === CellCommand.Padding) {
      this.recvLog.update(encodeCell(cell));
      return [];
    }
    switch (this.state) {
      case 'versions': {
        this.recvLog.update(encodeCell(cell));
        expect(cell, CellCommand.Versions);
        const v = negotiateVersion(SUPPORTED_VERSIONS, decodeVersions(cell.payload));
        if (v === null) throw new LinkError('no-common-version', 'the initiator shares no link protocol version with us');
        this.version = v;
        const { identity, exporter, ownTlsCertHash } = this.opts;
        const unsigned = { identityKey: identity.publicKey, tlsCertHash: ownTlsCertHash, exporter };
        const signature = this.suite.ed25519Sign(linkBindingMessage(unsigned), identity.secretKey);
        const methods = [AuthMethod.Ed25519TlsExporter];
        if (this.opts.allowBypass) methods.push(AuthMethod.AllowBypass);
        const actions = [
          this.send(CellCommand.Versions, encodeVersions(SUPPORTED_VERSIONS)),
          this.send(CellCommand.Certs, encodeCerts({ identity: identity.publicKey, binding: { ...unsigned, signature } })),
          this.send(CellCommand.AuthChallenge, encodeAuthChallenge({ challenge: this.suite.randomBytes(32), methods })),
        ];
        this.responderLog = this.sentLog.digest();
        this.state = 'auth';
        return actions;
      }
      case 'auth': {
        if (cell.command === CellCommand.AuthBypass) {
          if (!this.opts.allowBypass) throw new LinkError('bypass-refused', 'this node requires authentication');
          if (this.opts.expectedPeer) throw new LinkError('auth-required', 'the expected node connected anonymously');
          if (cell.payload.length !== 0) throw new LinkError('malformed', 'AUTH_BYPASS carries a payload');
          this.done = true;
          return [{ type: 'open', version: this.version, peerIdentity: null }];
        }
        this.recvLog.update(encodeCell(cell));
        expect(cell, CellCommand.Certs);
        const certs = decodeCerts(cell.payload);
        if (!certs.identity || certs.binding) {
          throw new LinkError('bad-certs', 'an authenticating initiator presents exactly one identity certificate');
        }
        this.initiatorIdentity = certs.identity;
        this.state = 'authenticate';
        return [];
      }
      case 'authenticate': {
        expect(cell, CellCommand.Authenticate);
        const a = decodeAuthenticate(cell.payload);
        const id = this.initiatorIdentity!;
        const initiatorLog = this.recvLog.digest();
        if (!equalBytes(a.initiatorIdentity, id)) throw new LinkError('bad-certs', 'AUTHENTICATE names another identity than CERTS');
        if (!equalBytes(a.responderIdentity, this.opts.identity.publicKey)) {
          throw new LinkError('wrong-identity', 'AUTHENTICATE is addressed to another node');
        }
        if (!equalBytes(a.responderLog, this.responderLog) || !equalBytes(a.initiatorLog, initiatorLog)) {
          throw new LinkError('tls-mismatch', 'AUTHENTICATE covers another handshake transcript');
        }
        if (!equalBytes(a.responderCertHash, this.opts.ownTlsCertHash) || !equalBytes(a.exporter, this.opts.exporter)) {
          throw new LinkError('tls-mismatch', 'AUTHENTICATE is bound to another TLS session');
        }
        if (!this.suite.ed25519Verify(a.signature, authenticateSignedPart(a), id)) {
          throw new LinkError('bad-signature', 'AUTHENTICATE signature does not verify');
        }
        if (this.opts.expectedPeer && !equalBytes(this.opts.expectedPeer, id)) {
          throw new LinkError('wrong-identity', 'the initiator proved a different identity key than the one expected');
        }
        this.done = true;
        return [{ type: 'open', version: this.version, peerIdentity: id }];
      }
    }
  }
}

function expect(cell: Cell, command: CellCommand): void {
  if (cell.command !== command) {
    throw new LinkError('unexpected-cell', `expected ${CellCommand[command]}, got command ${cell.command}`);
  }
}
