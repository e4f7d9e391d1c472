/**
 * What an authority node does with registration and certificate requests (seed 004 §4, §6.2;
 * PSP reference application/authority.md; DESIGN.md §3 "Authority and access certificates"),
 * and the client-side assembly of a co-signed certificate. Pure: the registry is injected, time
 * comes with each call; no transport.
 *
 * AuthorityService.register(bytes, now): parse → verifyRegistration (freshness window,
 * signature) → registry.register. Replaying a registration is harmless: it is 'unchanged'.
 *
 * AuthorityService.requestCertificate(bytes, now):
 *   1. parse → verifyCertificateRequest (network, lifetime cap, freshness window, signature by
 *      the subject, which proves possession of the key);
 *   2. the registry must hold the subject key under the same identity string ('not-registered');
 *   3. the pair (subject, nonce) must not have been seen within the window ('replay'); it is
 *      recorded only now, after every other check, and with no await between the check and the
 *      record, so two concurrent copies of one request cannot both pass;
 *   4. sign certificateBodyForRequest(request) (certificate.ts): the same body at every
 *      authority, so the client can combine their signatures.
 *   The replay record lives in memory: after a restart a request still inside its window could
 *   be answered again; that only hands its own subject a second signature on the same body.
 *
 * assembleAccessCertificate (client side): keeps the 'ok' results whose body equals the body
 * expected for the client's own request, combines their signatures, and verifies the result as
 * any relying party would.
 *
 * Does not: choose authorities, build circuits, or retry.
 */
import type { CryptoSuite } from '../crypto/api';
import { assertBytes, equalBytes, toHex } from '../util/bytes';
import { NETWORK_FIELD, checkAscii, checkTime } from '../util/codec';
import {
  type AccessCertificateBody,
  type CertificateRequest,
  type CertificateTrust,
  DEFAULT_REQUEST_WINDOW_MS,
  MAX_CERTIFICATE_LIFETIME_MS,
  type VerifiedAccessCertificate,
  type VerifyCertificateOptions,
  certificateBodyForRequest,
  combineCertificateSignatures,
  encodeCertificateBody,
  issueCertificateSignature,
  parseAccessCertificate,
  parseCertificateRequest,
  verifyAccessCertificate,
  verifyCertificateRequest,
} from './certificate';
import { AuthorityError } from './errors';
import {
  type AuthorityMessage,
  type CertificateResult,
  type RegistrationResult,
  decodeAuthorityMessage,
  encodeAuthorityMessage,
  statusForError,
} from './messages';
import { DEFAULT_REGISTRATION_WINDOW_MS, parseRegistration, verifyRegistration } from './registration';
import type { IdentityRegistry } from './registry';

/**
 * Remembers (subject, nonce) pairs for as long as their request could still pass the freshness
 * check (requestedAt + windowMs), at most `maxEntries` at once.
 */
export class ReplayGuard {
  private readonly windowMs: number;
  private readonly maxEntries: number;
  private readonly seen = new Map<string, number>();
  private lastSweep = 0;

  constructor(options: { readonly windowMs: number; readonly maxEntries: number }) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    checkTime(options.windowMs, 'options.windowMs');
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) throw new RangeError('options.maxEntries must be a positive integer');
    this.windowMs = options.windowMs;
    this.maxEntries = options.maxEntries;
  }

  /** 'fresh' (and recorded), 'replay' (seen and still inside the window), or 'full'. */
  checkAndRecord(subject: Uint8Array, nonce: Uint8Array, requestedAt: number, now: number): 'fresh' | 'replay' | 'full' {
    assertBytes(subject, 'subject', 32);
    assertBytes(nonce, 'nonce', 16);
    checkTime(requestedAt, 'requestedAt');
    checkTime(now, 'now');
    if (this.seen.size >= this.maxEntries || now - this.lastSweep > this.windowMs) this.sweep(now);
    const k = toHex(subject) + toHex(nonce);
    const until = this.seen.get(k);
    if (until !== undefined && until >= now) return 'replay';
    if (until === undefined && this.seen.size >= this.maxEntries) return 'full';
    this.seen.set(k, requestedAt + this.windowMs);
    return 'fresh';
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [k, until] of this.seen) if (until < now) this.seen.delete(k);
  }
}

export interface AuthorityServiceConfig {
  readonly suite: CryptoSuite;
  readonly network: string;
  /** This authority's secret key (32-byte Ed25519 seed). */
  readonly secretKey: Uint8Array;
  readonly registry: IdentityRegistry;
  /** Freshness window of registrations (default DEFAULT_REGISTRATION_WINDOW_MS). */
  readonly registrationWindowMs?: number;
  /** Freshness window of certificate requests (default DEFAULT_REQUEST_WINDOW_MS). */
  readonly requestWindowMs?: number;
  /** Longest certificate granted (default and maximum MAX_CERTIFICATE_LIFETIME_MS). */
  readonly maxCertificateLifetimeMs?: number;
  /** Request nonces remembered at once (default 100 000). */
  readonly maxReplayEntries?: number;
}

export class AuthorityService {
  private readonly suite: CryptoSuite;
  private readonly network: string;
  private readonly secretKey: Uint8Array;
  private readonly registry: IdentityRegistry;
  private readonly registrationWindowMs: number;
  private readonly requestWindowMs: number;
  private readonly maxLifetimeMs: number;
  private readonly replays: ReplayGuard;
  readonly publicKey: Uint8Array;

  constructor(config: AuthorityServiceConfig) {
    if (typeof config !== 'object' || config === null) throw new TypeError('config must be an object');
    if (typeof config.suite !== 'object' || config.suite === null) throw new TypeError('config.suite must be a CryptoSuite');
    checkAscii(config.network, NETWORK_FIELD, 'config.network');
    assertBytes(config.secretKey, 'config.secretKey', 32);
    const reg = config.registry as Partial<IdentityRegistry> | null;
    if (typeof reg !== 'object' || reg === null || typeof reg.register !== 'function' || typeof reg.get !== 'function') {
      throw new TypeError('config.registry must be an IdentityRegistry');
    }
    this.registrationWindowMs = config.registrationWindowMs ?? DEFAULT_REGISTRATION_WINDOW_MS;
    checkTime(this.registrationWindowMs, 'config.registrationWindowMs');
    this.requestWindowMs = config.requestWindowMs ?? DEFAULT_REQUEST_WINDOW_MS;
    checkTime(this.requestWindowMs, 'config.requestWindowMs');
    this.maxLifetimeMs = config.maxCertificateLifetimeMs ?? MAX_CERTIFICATE_LIFETIME_MS;
    if (!Number.isInteger(this.maxLifetimeMs) || this.maxLifetimeMs < 1 || this.maxLifetimeMs > MAX_CERTIFICATE_LIFETIME_MS) {
      throw new RangeError(`config.maxCertificateLifetimeMs must be an integer 1..${MAX_CERTIFICATE_LIFETIME_MS}`);
    }
    this.replays = new ReplayGuard({ windowMs: this.requestWindowMs, maxEntries: config.maxReplayEntries ?? 100_000 });
    this.suite = config.suite;
    this.network = config.network;
    this.secretKey = config.secretKey.slice();
    this.registry = config.registry;
    this.publicKey = config.suite.ed25519PublicKey(this.secretKey);
  }

  async register(bytes: Uint8Array, now: number): Promise<RegistrationResult> {
    assertBytes(bytes, 'bytes');
    checkTime(now, 'now');
    let verified;
    try {
      verified = verifyRegistration(this.suite, parseRegistration(bytes), now, { windowMs: this.registrationWindowMs });
    } catch (e) {
      if (e instanceof AuthorityError) return { status: statusForError(e.code), detail: e.message };
      throw e;
    }
    try {
      return { status: 'ok', outcome: await this.registry.register(verified, now) };
    } catch (e) {
      return { status: 'internal-error', detail: `registry: ${e instanceof Error ? e.message : String(e)}` };
    }
  }

  async requestCertificate(bytes: Uint8Array, now: number): Promise<CertificateResult> {
    assertBytes(bytes, 'bytes');
    checkTime(now, 'now');
    let request;
    try {
      request = verifyCertificateRequest(this.suite, parseCertificateRequest(bytes), now, {
        network: this.network,
        windowMs: this.requestWindowMs,
        maxLifetimeMs: this.maxLifetimeMs,
      });
    } catch (e) {
      if (e instanceof AuthorityError) return { status: statusForError(e.code), detail: e.message };
      throw e;
    }
    let record;
    try {
      record = await this.registry.get(request.subject);
    } catch (e) {
      return { status: 'internal-error', detail: `registry: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (record === undefined) return { status: 'not-registered', detail: 'the subject key is not registered' };
    if (record.identity !== request.identity) {
      return { status: 'not-registered', detail: 'the subject key is registered under another identity string' };
    }
    switch (this.replays.checkAndRecord(request.subject, request.nonce, request.requestedAt, now)) {
      case 'replay':
        return { status: 'replay', detail: 'this request was answered already' };
      case 'full':
        return { status: 'busy', detail: 'too many requests in the freshness window' };
      case 'fresh':
        break;
    }
    const body = certificateBodyForRequest(request);
    return { status: 'ok', body, signature: issueCertificateSignature(this.suite, body, this.secretKey) };
  }

  /**
   * Handles one authority message (register or certificate-request) and returns the encoded
   * answer. A message that is not a request, or that cannot be decoded, is answered with a
   * certificate-result of status 'format-error'.
   */
  async handleMessage(bytes: Uint8Array, now: number): Promise<Uint8Array> {
    assertBytes(bytes, 'bytes');
    checkTime(now, 'now');
    let m: AuthorityMessage;
    try {
      m = decodeAuthorityMessage(bytes);
    } catch (e) {
      if (!(e instanceof AuthorityError)) throw e;
      return encodeAuthorityMessage({ type: 'certificate-result', result: { status: 'format-error' } });
    }
    switch (m.type) {
      case 'register':
        return encodeAuthorityMessage({ type: 'register-result', result: await this.register(m.registration, now) });
      case 'certificate-request':
        return encodeAuthorityMessage({ type: 'certificate-result', result: await this.requestCertificate(m.request, now) });
      default:
        return encodeAuthorityMessage({ type: 'certificate-result', result: { status: 'format-error' } });
    }
  }
}

/**
 * Client side: builds the access certificate for `request` from the authorities' answers and
 * verifies it. Answers that are not 'ok', or whose body is not the one expected for the request,
 * are left out. Throws AuthorityError from verifyAccessCertificate when what is left does not
 * make a valid certificate (e.g. 'too-few-signatures').
 */
export function assembleAccessCertificate(
  suite: CryptoSuite,
  request: CertificateRequest,
  results: readonly CertificateResult[],
  trust: CertificateTrust,
  now: number,
  options: VerifyCertificateOptions = {},
): { bytes: Uint8Array; certificate: VerifiedAccessCertificate } {
  if (!Array.isArray(results)) throw new TypeError('results must be an array');
  const expected: AccessCertificateBody = certificateBodyForRequest(request);
  const expectedBytes = encodeCertificateBody(expected);
  const signatures = [];
  for (const r of results) {
    if (r.status !== 'ok') continue;
    let body: Uint8Array;
    try {
      body = encodeCertificateBody(r.body);
    } catch {
      continue;
    }
    if (equalBytes(body, expectedBytes)) signatures.push(r.signature);
  }
  // One signer answering twice with different bytes cannot happen with Ed25519; keep the first.
  const seen = new Set<string>();
  const unique = signatures.filter((s) => {
    const k = toHex(s.signer);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const bytes = combineCertificateSignatures(expected, unique);
  const certificate = verifyAccessCertificate(suite, parseAccessCertificate(bytes), trust, now, {
    network: request.network,
    subject: request.subject,
    ...options,
  });
  return { bytes, certificate };
}
