/**
 * Access certificates and certificate requests (seed 004 §4: "a temporary access certificate,
 * which allows a client to operate on a system signing announcements and introduction
 * requests"; PSP reference application/authrequestcertificate.md, authrequestcertificateresult.md
 * and certificate.md: "regular certificates co-signed by number of authority nodes"; DESIGN.md §3
 * "Authority and access certificates"). Ed25519 throughout; the reference's RSA and FlatCertificate
 * layouts are not used.
 *
 * Certificate request (signed by the subject: proves possession of the identity key):
 *   body: format u8 = 1 | subject 32 | identity (u8 length | string naming subject) |
 *         network (u8 length | [a-z0-9-]) | requestedAt u64 | lifetimeMs u32 | nonce 16
 *   signed request: bodyLength u16 | body | signature 64 over SHA-256("PSP-CERT-REQUEST-v1" ‖ body)
 *   lifetimeMs is 1..MAX_CERTIFICATE_LIFETIME_MS (24 h); clients ask for
 *   DEFAULT_CERTIFICATE_LIFETIME_MS (1 h).
 *
 * Access certificate body (certificateBodyForRequest derives it from the request alone, so
 * every authority asked with the same request signs the very same body and the client can
 * combine their signatures without the authorities talking to each other):
 *   format u8 = 1 | subject 32 | identity | network | serial 16 (= the request nonce) |
 *   issuedAt u64 (= requestedAt) | expiresAt u64 (= requestedAt + lifetimeMs)
 *   issuedAt < expiresAt ≤ issuedAt + 24 h, else 'malformed'.
 * Access certificate: format u8 = 1 | bodyLength u16 | body | count u8 (≤ 16) |
 *   count × (signer 32 | signature 64), strictly ascending by signer ('not-canonical' otherwise);
 *   each signature over SHA-256("PSP-ACCESS-CERT-v1" ‖ body).
 *
 * verifyAccessCertificate checks, in order: the body decodes; network ('wrong-network', when
 * expected); subject ('wrong-subject', when expected); now ≥ issuedAt − maxClockSkewMs
 * ('not-yet-valid'); now < expiresAt ('expired'); then signatures, with the same rules as the
 * discovery consensus (both count with countSignatures, node-core/util/signed.ts): entries from keys outside trust.authorityKeys are ignored unchecked,
 * entries from trusted keys that fail are ignored; with ≥ threshold valid ones the certificate
 * is accepted; short of it the error is 'bad-signature' if a trusted key's signature failed,
 * else 'unknown-signer' if the unknown signers would have made up the shortfall, else
 * 'too-few-signatures'.
 *
 * Renewal: a client asks again (a new request, new nonce) before expiry; needsRenewal says when.
 *
 * Does not: check the registry, freshness or replays of requests (service.ts does), or revoke.
 */
import type { CryptoSuite } from '../crypto/api';
import { type Reader, Writer, assertBytes, equalBytes } from '../util/bytes';
import { NETWORK_FIELD, checkAscii, checkKeyList, checkTime, writeAscii, writeTime } from '../util/codec';
import {
  type IgnoredSignature,
  type MultiSignedLayout,
  type SingleSignedLayout,
  countSignatures,
  encodeMultiSigned,
  parseMultiSigned,
  parseSingleSigned,
  sealSingleSigned,
  signEntry,
  signingDigest,
  verifyEntry,
} from '../util/signed';
import { AuthorityError } from './errors';
import {
  CONTEXT_ACCESS_CERT,
  CONTEXT_CERT_REQUEST,
  checkIdentityFor,
  expectEnd,
  fail,
  openBody,
  readIdentityFor,
  readNetwork,
  readTime,
  writeIdentity,
} from './internal';

export const CERTIFICATE_REQUEST_FORMAT = 1;
export const ACCESS_CERTIFICATE_FORMAT = 1;
export const DEFAULT_CERTIFICATE_LIFETIME_MS = 60 * 60 * 1000;
export const MAX_CERTIFICATE_LIFETIME_MS = 24 * 60 * 60 * 1000;
export const MAX_CERTIFICATE_SIGNATURES = 16;
/** Default freshness window for requestedAt: five minutes either way. */
export const DEFAULT_REQUEST_WINDOW_MS = 5 * 60 * 1000;
const MAX_REQUEST_BODY_LENGTH = 1 + 32 + 1 + 128 + 1 + 32 + 8 + 4 + 16;
export const MAX_SIGNED_REQUEST_LENGTH = 2 + MAX_REQUEST_BODY_LENGTH + 64;
const MAX_CERT_BODY_LENGTH = 1 + 32 + 1 + 128 + 1 + 32 + 16 + 8 + 8;
export const MAX_ACCESS_CERTIFICATE_LENGTH = 1 + 2 + MAX_CERT_BODY_LENGTH + 1 + MAX_CERTIFICATE_SIGNATURES * 96;

const REQUEST_BODY = { what: 'certificate request', format: CERTIFICATE_REQUEST_FORMAT, maxLength: MAX_REQUEST_BODY_LENGTH };
const SIGNED_REQUEST: SingleSignedLayout = { what: 'signed request', lengthBits: 16, maxLength: MAX_SIGNED_REQUEST_LENGTH };
const CERT_BODY = { what: 'access certificate', format: ACCESS_CERTIFICATE_FORMAT, maxLength: MAX_CERT_BODY_LENGTH };
/** No separate bodyLength limit: an over-long body is refused when the body is decoded. */
const CERTIFICATE: MultiSignedLayout = {
  what: 'access certificate',
  format: ACCESS_CERTIFICATE_FORMAT,
  lengthBits: 16,
  maxLength: MAX_ACCESS_CERTIFICATE_LENGTH,
  maxSignatures: MAX_CERTIFICATE_SIGNATURES,
};

// ---------------------------------------------------------------------------------------------
// Certificate requests

export interface CertificateRequest {
  readonly subject: Uint8Array;
  readonly identity: string;
  readonly network: string;
  readonly requestedAt: number;
  readonly lifetimeMs: number;
  readonly nonce: Uint8Array;
}

export interface UnverifiedCertificateRequest {
  readonly claimed: CertificateRequest;
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
  readonly bytes: Uint8Array;
}

declare const verifiedRequestBrand: unique symbol;

export interface VerifiedCertificateRequest extends CertificateRequest {
  readonly [verifiedRequestBrand]: true;
  readonly bytes: Uint8Array;
}

/** subject 32 | identity | network: how both the request body and the certificate body begin. */
type SubjectHead = Pick<CertificateRequest, 'subject' | 'identity' | 'network'>;

function checkSubjectHead(v: SubjectHead, name: string): void {
  assertBytes(v.subject, `${name}.subject`, 32);
  checkIdentityFor(v.identity, v.subject, `${name}.identity`);
  checkAscii(v.network, NETWORK_FIELD, `${name}.network`);
}

/** A Writer holding the format byte and the (checked) head. */
function writeSubjectHead(format: number, v: SubjectHead, name: string): Writer {
  const w = new Writer().u8(format).bytes(v.subject);
  writeIdentity(w, v.identity);
  writeAscii(w, v.network, NETWORK_FIELD, `${name}.network`);
  return w;
}

function readSubjectHead(r: Reader, what: string): SubjectHead {
  const subject = r.bytes(32, 'subject').slice();
  const identity = readIdentityFor(r, subject, `${what} identity`);
  const network = readNetwork(r, `${what} network`);
  return { subject, identity, network };
}

function checkLifetime(v: unknown, name: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_CERTIFICATE_LIFETIME_MS) {
    throw new RangeError(`${name} must be an integer 1..${MAX_CERTIFICATE_LIFETIME_MS} (ms), got ${String(v)}`);
  }
}

export function encodeCertificateRequestBody(req: CertificateRequest): Uint8Array {
  if (typeof req !== 'object' || req === null) throw new TypeError('request must be an object');
  checkSubjectHead(req, 'request');
  checkTime(req.requestedAt, 'request.requestedAt');
  checkLifetime(req.lifetimeMs, 'request.lifetimeMs');
  assertBytes(req.nonce, 'request.nonce', 16);
  if (!Number.isSafeInteger(req.requestedAt + req.lifetimeMs)) throw new RangeError('request.requestedAt + lifetimeMs is out of range');
  const w = writeSubjectHead(CERTIFICATE_REQUEST_FORMAT, req, 'request');
  writeTime(w, req.requestedAt, 'request.requestedAt');
  return w.u32(req.lifetimeMs).bytes(req.nonce).finish();
}

export function decodeCertificateRequestBody(body: Uint8Array): CertificateRequest {
  const { what } = REQUEST_BODY;
  const r = openBody(body, 'body', REQUEST_BODY);
  const { subject, identity, network } = readSubjectHead(r, what);
  const requestedAt = readTime(r, 'requestedAt');
  const lifetimeMs = r.u32('lifetimeMs');
  if (lifetimeMs < 1 || lifetimeMs > MAX_CERTIFICATE_LIFETIME_MS) {
    throw new AuthorityError('malformed', `${what}: lifetime ${lifetimeMs} ms outside 1..${MAX_CERTIFICATE_LIFETIME_MS}`);
  }
  if (!Number.isSafeInteger(requestedAt + lifetimeMs)) throw new AuthorityError('malformed', `${what}: expiry out of range`);
  const nonce = r.bytes(16, 'nonce').slice();
  expectEnd(r, what);
  return { subject, identity, network, requestedAt, lifetimeMs, nonce };
}

/** Signs a certificate request with the subject's secret key; returns the signed request bytes. */
export function createCertificateRequest(suite: CryptoSuite, req: CertificateRequest, secretKey: Uint8Array): Uint8Array {
  assertBytes(secretKey, 'secretKey', 32);
  const body = encodeCertificateRequestBody(req);
  if (!equalBytes(suite.ed25519PublicKey(secretKey), req.subject)) throw new RangeError('secretKey does not belong to request.subject');
  return sealSingleSigned(suite, CONTEXT_CERT_REQUEST, body, secretKey, SIGNED_REQUEST.lengthBits);
}

export function parseCertificateRequest(bytes: Uint8Array): UnverifiedCertificateRequest {
  const { body, signature } = parseSingleSigned(bytes, SIGNED_REQUEST, fail);
  return { claimed: decodeCertificateRequestBody(body), body, signature, bytes: bytes.slice() };
}

export interface CertificateRequestCheck {
  /** The authority's network. */
  readonly network: string;
  /** How far requestedAt may be from now, either way (default DEFAULT_REQUEST_WINDOW_MS). */
  readonly windowMs?: number;
  /** Longest lifetime this authority grants (default MAX_CERTIFICATE_LIFETIME_MS). */
  readonly maxLifetimeMs?: number;
}

/**
 * Verifies a request at `now`: network ('wrong-network'), lifetime ('lifetime-too-long'),
 * requestedAt within the window ('not-yet-valid', 'stale'), then the subject's signature
 * ('bad-signature'). Throws AuthorityError.
 */
export function verifyCertificateRequest(
  suite: CryptoSuite,
  unverified: UnverifiedCertificateRequest,
  now: number,
  check: CertificateRequestCheck,
): VerifiedCertificateRequest {
  if (typeof unverified !== 'object' || unverified === null || !(unverified.body instanceof Uint8Array)) {
    throw new TypeError('unverified must come from parseCertificateRequest');
  }
  checkTime(now, 'now');
  if (typeof check !== 'object' || check === null) throw new TypeError('check must be an object');
  checkAscii(check.network, NETWORK_FIELD, 'check.network');
  const windowMs = check.windowMs ?? DEFAULT_REQUEST_WINDOW_MS;
  checkTime(windowMs, 'check.windowMs');
  const maxLifetime = check.maxLifetimeMs ?? MAX_CERTIFICATE_LIFETIME_MS;
  checkLifetime(maxLifetime, 'check.maxLifetimeMs');
  const req = decodeCertificateRequestBody(unverified.body);
  if (req.network !== check.network) throw new AuthorityError('wrong-network', `request is for network '${req.network}', expected '${check.network}'`);
  if (req.lifetimeMs > maxLifetime) throw new AuthorityError('lifetime-too-long', `request asks for ${req.lifetimeMs} ms, at most ${maxLifetime} granted`);
  if (req.requestedAt > now + windowMs) throw new AuthorityError('not-yet-valid', `request dated ${req.requestedAt}, ahead of ${now} by more than ${windowMs} ms`);
  if (req.requestedAt < now - windowMs) throw new AuthorityError('stale', `request dated ${req.requestedAt}, more than ${windowMs} ms before ${now}`);
  if (!suite.ed25519Verify(unverified.signature, signingDigest(suite, CONTEXT_CERT_REQUEST, unverified.body), req.subject)) {
    throw new AuthorityError('bad-signature', 'request signature does not verify with the subject key');
  }
  return { ...req, bytes: unverified.bytes } as unknown as VerifiedCertificateRequest;
}

// ---------------------------------------------------------------------------------------------
// Access certificates

export interface AccessCertificateBody {
  readonly subject: Uint8Array;
  readonly identity: string;
  readonly network: string;
  readonly serial: Uint8Array;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export interface CertificateSignature {
  readonly signer: Uint8Array;
  readonly signature: Uint8Array;
}

export interface UnverifiedAccessCertificate {
  readonly claimed: AccessCertificateBody;
  readonly body: Uint8Array;
  readonly signatures: readonly CertificateSignature[];
  readonly bytes: Uint8Array;
}

declare const verifiedCertificateBrand: unique symbol;

export interface VerifiedAccessCertificate extends AccessCertificateBody {
  readonly [verifiedCertificateBrand]: true;
  readonly body: Uint8Array;
  readonly bytes: Uint8Array;
  /** Trusted authority keys whose signatures verified, ascending. */
  readonly signers: readonly Uint8Array[];
  readonly ignored: readonly IgnoredSignature[];
}

/** The one certificate body every authority signs for this request (see the header). */
export function certificateBodyForRequest(req: CertificateRequest): AccessCertificateBody {
  encodeCertificateRequestBody(req); // validates every field
  return {
    subject: req.subject.slice(),
    identity: req.identity,
    network: req.network,
    serial: req.nonce.slice(),
    issuedAt: req.requestedAt,
    expiresAt: req.requestedAt + req.lifetimeMs,
  };
}

export function encodeCertificateBody(body: AccessCertificateBody): Uint8Array {
  if (typeof body !== 'object' || body === null) throw new TypeError('body must be an object');
  checkSubjectHead(body, 'body');
  assertBytes(body.serial, 'body.serial', 16);
  checkTime(body.issuedAt, 'body.issuedAt');
  checkTime(body.expiresAt, 'body.expiresAt');
  if (!(body.issuedAt < body.expiresAt && body.expiresAt - body.issuedAt <= MAX_CERTIFICATE_LIFETIME_MS)) {
    throw new RangeError(`body must satisfy issuedAt < expiresAt ≤ issuedAt + ${MAX_CERTIFICATE_LIFETIME_MS}`);
  }
  const w = writeSubjectHead(ACCESS_CERTIFICATE_FORMAT, body, 'body');
  w.bytes(body.serial);
  writeTime(w, body.issuedAt, 'body.issuedAt');
  writeTime(w, body.expiresAt, 'body.expiresAt');
  return w.finish();
}

export function decodeCertificateBody(bytes: Uint8Array): AccessCertificateBody {
  const { what } = CERT_BODY;
  const r = openBody(bytes, 'bytes', CERT_BODY);
  const { subject, identity, network } = readSubjectHead(r, what);
  const serial = r.bytes(16, 'serial').slice();
  const issuedAt = readTime(r, 'issuedAt');
  const expiresAt = readTime(r, 'expiresAt');
  if (!(issuedAt < expiresAt && expiresAt - issuedAt <= MAX_CERTIFICATE_LIFETIME_MS)) {
    throw new AuthorityError('malformed', `${what}: validity must satisfy issuedAt < expiresAt ≤ issuedAt + 24 h`);
  }
  expectEnd(r, what);
  return { subject, identity, network, serial, issuedAt, expiresAt };
}

/** One authority's signature over a certificate body (secretKey: its 32-byte Ed25519 seed). */
export function issueCertificateSignature(suite: CryptoSuite, body: AccessCertificateBody, secretKey: Uint8Array): CertificateSignature {
  assertBytes(secretKey, 'secretKey', 32);
  const bytes = encodeCertificateBody(body);
  return signEntry(suite, CONTEXT_ACCESS_CERT, bytes, secretKey);
}

/** True when `sig` is a valid signature by sig.signer over the encoded body `body`. */
export function verifyCertificateSignature(suite: CryptoSuite, body: Uint8Array, sig: CertificateSignature): boolean {
  return verifyEntry(suite, CONTEXT_ACCESS_CERT, body, sig);
}

/**
 * Combines authorities' signatures over one body into an access certificate: sorted by signer,
 * an identical repeat dropped (two different signatures by one signer: RangeError). Does not
 * verify them; verifyAccessCertificate does.
 */
export function combineCertificateSignatures(body: AccessCertificateBody, signatures: readonly CertificateSignature[]): Uint8Array {
  return encodeMultiSigned(CERTIFICATE, encodeCertificateBody(body), signatures);
}

/** Parses an access certificate (layout, canonical signature order). Throws AuthorityError. */
export function parseAccessCertificate(bytes: Uint8Array): UnverifiedAccessCertificate {
  const { body, signatures } = parseMultiSigned(bytes, CERTIFICATE, fail);
  return { claimed: decodeCertificateBody(body), body, signatures, bytes: bytes.slice() };
}

export interface CertificateTrust {
  /** The authority keys of the network configuration. */
  readonly authorityKeys: readonly Uint8Array[];
  /** Valid authority signatures needed, 1..authorityKeys.length. */
  readonly threshold: number;
}

export interface VerifyCertificateOptions {
  /** Refuse a certificate for another network ('wrong-network'). */
  readonly network?: string;
  /** Refuse a certificate for another key ('wrong-subject'), e.g. the key that signed the message it came with. */
  readonly subject?: Uint8Array;
  /** How far before issuedAt the certificate is already accepted (default 0). */
  readonly maxClockSkewMs?: number;
}

/**
 * Validates a trust configuration; returns copies of the keys. Any threshold from 1 to the number
 * of keys is accepted (the discovery consensus, checkConsensusTrust, demands a strict majority).
 */
export function checkCertificateTrust(trust: CertificateTrust, name = 'trust'): { keys: Uint8Array[]; threshold: number } {
  if (typeof trust !== 'object' || trust === null) throw new TypeError(`${name} must be an object`);
  const keys = checkKeyList(trust.authorityKeys, `${name}.authorityKeys`, { nonEmpty: true });
  const t = trust.threshold;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > keys.length) {
    throw new RangeError(`${name}.threshold must be an integer 1..${keys.length}, got ${String(t)}`);
  }
  return { keys, threshold: t };
}

/** Verifies a parsed access certificate at `now` (see the header). Throws AuthorityError. */
export function verifyAccessCertificate(
  suite: CryptoSuite,
  cert: UnverifiedAccessCertificate,
  trust: CertificateTrust,
  now: number,
  options: VerifyCertificateOptions = {},
): VerifiedAccessCertificate {
  if (typeof cert !== 'object' || cert === null || !Array.isArray(cert.signatures) || !(cert.body instanceof Uint8Array)) {
    throw new TypeError('cert must come from parseAccessCertificate');
  }
  const { keys, threshold } = checkCertificateTrust(trust);
  checkTime(now, 'now');
  if (options.network !== undefined) checkAscii(options.network, NETWORK_FIELD, 'options.network');
  if (options.subject !== undefined) assertBytes(options.subject, 'options.subject', 32);
  const skew = options.maxClockSkewMs ?? 0;
  checkTime(skew, 'options.maxClockSkewMs');
  const body = decodeCertificateBody(cert.body);
  if (options.network !== undefined && body.network !== options.network) {
    throw new AuthorityError('wrong-network', `certificate is for network '${body.network}', expected '${options.network}'`);
  }
  if (options.subject !== undefined && !equalBytes(body.subject, options.subject)) {
    throw new AuthorityError('wrong-subject', 'certificate is for another subject key');
  }
  if (now + skew < body.issuedAt) throw new AuthorityError('not-yet-valid', `certificate issued at ${body.issuedAt} (now ${now})`);
  if (now >= body.expiresAt) throw new AuthorityError('expired', `certificate expired at ${body.expiresAt} (now ${now})`);

  const { signers, ignored } = countSignatures(
    suite,
    {
      context: CONTEXT_ACCESS_CERT,
      body: cert.body,
      signatures: cert.signatures,
      name: 'cert.signatures',
      trusted: keys,
      threshold,
      what: 'certificate',
    },
    fail,
  );
  return { ...body, body: cert.body, bytes: cert.bytes, signers, ignored } as unknown as VerifiedAccessCertificate;
}

/** True when a certificate should be renewed: less than `marginMs` of its validity is left. */
export function needsRenewal(cert: Pick<AccessCertificateBody, 'expiresAt'>, now: number, marginMs: number): boolean {
  if (typeof cert !== 'object' || cert === null) throw new TypeError('cert must be an object');
  checkTime(cert.expiresAt, 'cert.expiresAt');
  checkTime(now, 'now');
  checkTime(marginMs, 'marginMs');
  return now >= cert.expiresAt - marginMs;
}
