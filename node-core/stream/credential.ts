/**
 * The creator's credential (seed 004 §8.2: "Alice builds a AB[O] route to any known oracle node,
 * revealing her identity to it. Then, oracle node [O] verifies Alice's subscription status"):
 * what a receipt-request (messages.ts 0x54) carries in its `credential` field. It proves to the
 * oracle who asks — an access certificate co-signed by the network's authorities (seed 004 §4;
 * node-core/authority/certificate.ts) — and that the asker holds the certificate's key, with a
 * signature binding the request to the one oracle it is sent to, the stream parameters asked
 * for, a time and a nonce. The oracle refuses a second use of a credential (CredentialReplayGuard)
 * for as long as it could verify.
 *
 * Layout (format 1, at most MAX_CREDENTIAL_BYTES; integers big-endian):
 *   format       u8 = 1
 *   certLength   u16 (1..MAX_ACCESS_CERTIFICATE_LENGTH)
 *   certificate  the access certificate exactly as the authorities' signatures were combined
 *   oracle       32   Ed25519 identity key of the oracle the request is addressed to
 *   bitrate      u32  ≥ 1, bits per second asked for
 *   maxViewers   u32  ≥ 1
 *   flags        u8   bit 0: a public stream is asked for; the other bits are 0
 *   createdAt    u64  ms since the Unix epoch
 *   nonce        16   random
 *   signature    64   Ed25519 (RFC 8032) by the certificate's subject key over
 *                     SHA-256("PSP-STREAM-CREDENTIAL-v1" ‖ every byte above)
 *
 * The signer is the certificate's subject by construction: the credential names no other key,
 * and a signature made with any other key fails as 'bad-signature'. The network is the
 * certificate's (it is signed by the authorities and covered by the creator's signature).
 *
 * Parse, then verify: `parseCredential` checks the layout (the certificate included) and gives
 * an unverified value; `verifyCredential` checks, in this order: addressed to this oracle
 * ('unknown-oracle' otherwise), createdAt within the window around now ('not-yet-valid' when
 * ahead by more than it, 'expired' when now ≥ createdAt + window), the access certificate against
 * the authority keys, threshold and network (node-core/authority verifyAccessCertificate; its
 * errors become 'wrong-network', 'expired', 'not-yet-valid', 'bad-signature' or 'malformed', the
 * AuthorityError kept as `cause`), then the subject's signature ('bad-signature'). Every error is
 * a StreamError.
 *
 * Does not: look up subscriptions or compare the request with the receipt-request it came in
 * (the oracle service does), or keep state other than the replay guard's.
 */
import {
  AuthorityError,
  MAX_ACCESS_CERTIFICATE_LENGTH,
  type AuthorityErrorCode,
  type CertificateTrust,
  type UnverifiedAccessCertificate,
  checkCertificateTrust,
  parseAccessCertificate,
  verifyAccessCertificate,
} from '../authority';
import type { CryptoSuite } from '../crypto/api';
import { Writer, assertBytes, concatBytes, equalBytes } from '../util/bytes';
import { NETWORK_FIELD, checkAscii, checkInput, checkTime } from '../util/codec';
import { StreamError, type StreamErrorCode } from './errors';
import { checkBoolean, checkInt, checkObject, dec, fail, signingDigest } from './internal';
import { ReceiptLedger, type LedgerOutcome, type StreamRequestLimits } from './receipt';

export const CREDENTIAL_FORMAT = 1;
/** Signature context of credentials (see internal.ts for the convention). */
export const CONTEXT_CREDENTIAL = 'PSP-STREAM-CREDENTIAL-v1';
export const CREDENTIAL_NONCE_LENGTH = 16;
/** How far createdAt may lie from the oracle's clock, either way (default). */
export const DEFAULT_CREDENTIAL_WINDOW_MS = 5 * 60 * 1000;
/** The longest window an oracle may configure. */
export const MAX_CREDENTIAL_WINDOW_MS = 60 * 60 * 1000;
/** Fixed bytes around the certificate: format, length, oracle, bitrate, viewers, flags, time, nonce, signature. */
const FIXED_LENGTH = 1 + 2 + 32 + 4 + 4 + 1 + 8 + CREDENTIAL_NONCE_LENGTH + 64;
/** The longest credential this format produces (well under the receipt-request's MAX_CREDENTIAL_LENGTH). */
export const MAX_CREDENTIAL_BYTES = FIXED_LENGTH + MAX_ACCESS_CERTIFICATE_LENGTH;
const MAX_U32 = 0xffffffff;
const FLAG_PUBLIC = 0x01;

export interface CredentialInput {
  /** The creator's access certificate bytes (as ClientSession.certificate.bytes holds them). */
  readonly certificate: Uint8Array;
  /** Identity key of the oracle the request goes to. */
  readonly oracle: Uint8Array;
  /** What the receipt-request asks for; it must carry the very same values. */
  readonly request: StreamRequestLimits;
  readonly createdAt: number;
  /** 16 bytes; drawn from suite.randomBytes when absent. */
  readonly nonce?: Uint8Array;
}

export interface CredentialContent {
  readonly certificate: UnverifiedAccessCertificate;
  readonly oracle: Uint8Array;
  readonly request: StreamRequestLimits;
  readonly createdAt: number;
  readonly nonce: Uint8Array;
}

export interface UnverifiedCredential {
  /** What the credential claims. Nothing here is trustworthy until verifyCredential. */
  readonly claimed: CredentialContent;
  /** The credential exactly as received. */
  readonly bytes: Uint8Array;
}

declare const verifiedCredentialBrand: unique symbol;

/** A credential whose addressee, time, certificate and signature were checked by verifyCredential. */
export interface VerifiedCredential {
  readonly [verifiedCredentialBrand]: true;
  /** The creator's identity key: the certificate's subject, who signed the credential. */
  readonly subject: Uint8Array;
  /** The identity string the certificate names. */
  readonly identity: string;
  readonly network: string;
  readonly oracle: Uint8Array;
  readonly request: StreamRequestLimits;
  readonly createdAt: number;
  readonly nonce: Uint8Array;
  /** When the access certificate expires. */
  readonly certificateExpiresAt: number;
  readonly bytes: Uint8Array;
}

export interface CredentialCheck {
  /** The oracle's network: the certificate must be for it. */
  readonly network: string;
  /** The verifying oracle's own identity key: the credential must be addressed to it. */
  readonly oracle: Uint8Array;
  /** The network's authority keys and the number of their signatures a certificate needs. */
  readonly authority: CertificateTrust;
  /** How far createdAt may lie from now, either way (default DEFAULT_CREDENTIAL_WINDOW_MS). */
  readonly windowMs?: number;
  /** How far before its issuedAt a certificate is already accepted (default 30 s). */
  readonly certificateClockSkewMs?: number;
}

function checkRequest(v: unknown, name: string): asserts v is StreamRequestLimits {
  checkObject(v, name);
  const x = v as StreamRequestLimits;
  checkInt(x.bitrate, `${name}.bitrate`, 1, MAX_U32);
  checkInt(x.maxViewers, `${name}.maxViewers`, 1, MAX_U32);
  checkBoolean(x.public, `${name}.public`);
}

function checkWindow(v: unknown, name: string): number {
  checkInt(v, name, 1, MAX_CREDENTIAL_WINDOW_MS);
  return v;
}

/**
 * Makes a credential as the holder of `secretKey`, the certificate's subject. RangeError when the
 * certificate does not parse or is not this key's.
 */
export function createCredential(suite: CryptoSuite, input: CredentialInput, secretKey: Uint8Array): Uint8Array {
  checkObject(input, 'input');
  assertBytes(input.certificate, 'input.certificate');
  assertBytes(input.oracle, 'input.oracle', 32);
  checkRequest(input.request, 'input.request');
  checkTime(input.createdAt, 'input.createdAt');
  assertBytes(secretKey, 'secretKey', 32);
  const nonce = input.nonce ?? suite.randomBytes(CREDENTIAL_NONCE_LENGTH);
  assertBytes(nonce, 'input.nonce', CREDENTIAL_NONCE_LENGTH);
  if (input.certificate.length < 1 || input.certificate.length > MAX_ACCESS_CERTIFICATE_LENGTH) {
    throw new RangeError(`input.certificate must be 1..${MAX_ACCESS_CERTIFICATE_LENGTH} bytes, got ${input.certificate.length}`);
  }
  let cert: UnverifiedAccessCertificate;
  try {
    cert = parseAccessCertificate(input.certificate);
  } catch (e) {
    if (e instanceof AuthorityError) throw new RangeError(`input.certificate: ${e.message}`);
    throw e;
  }
  if (!equalBytes(suite.ed25519PublicKey(secretKey), cert.claimed.subject)) {
    throw new RangeError("secretKey does not belong to the certificate's subject");
  }
  const w = new Writer().u8(CREDENTIAL_FORMAT).u16(input.certificate.length).bytes(input.certificate).bytes(input.oracle);
  w.u32(input.request.bitrate).u32(input.request.maxViewers).u8(input.request.public ? FLAG_PUBLIC : 0);
  w.u64(BigInt(input.createdAt)).bytes(nonce);
  const signed = w.finish();
  return concatBytes(signed, suite.ed25519Sign(signingDigest(suite, CONTEXT_CREDENTIAL, signed), secretKey));
}

function parseParts(bytes: unknown): { claimed: CredentialContent; signed: Uint8Array; signature: Uint8Array; bytes: Uint8Array } {
  const what = 'stream credential';
  const r = dec.openBody(bytes, 'bytes', { what, format: CREDENTIAL_FORMAT, maxLength: MAX_CREDENTIAL_BYTES });
  const input = bytes as Uint8Array;
  const certLength = r.u16('certificate length');
  if (certLength < 1 || certLength > MAX_ACCESS_CERTIFICATE_LENGTH) {
    throw fail('malformed', `${what}: certificate of ${certLength} bytes, 1..${MAX_ACCESS_CERTIFICATE_LENGTH} allowed`);
  }
  const certBytes = r.bytes(certLength, 'certificate').slice();
  let certificate: UnverifiedAccessCertificate;
  try {
    certificate = parseAccessCertificate(certBytes);
  } catch (e) {
    if (e instanceof AuthorityError) throw new StreamError('malformed', `${what}: access certificate: ${e.message}`, { cause: e });
    throw e;
  }
  const oracle = r.bytes(32, 'oracle').slice();
  const bitrate = r.u32('bitrate');
  const maxViewers = r.u32('maxViewers');
  const flags = r.u8('flags');
  if (bitrate === 0) throw fail('malformed', `${what}: bitrate is 0`);
  if (maxViewers === 0) throw fail('malformed', `${what}: maxViewers is 0`);
  if ((flags & ~FLAG_PUBLIC) !== 0) throw fail('malformed', `${what}: unknown flags 0x${flags.toString(16)}`);
  const createdAt = dec.readTime(r, 'createdAt');
  const nonce = r.bytes(CREDENTIAL_NONCE_LENGTH, 'nonce').slice();
  const signedLength = r.offset;
  const signature = r.bytes(64, 'signature').slice();
  dec.expectEnd(r, what);
  return {
    claimed: { certificate, oracle, request: { bitrate, maxViewers, public: (flags & FLAG_PUBLIC) !== 0 }, createdAt, nonce },
    signed: input.slice(0, signedLength),
    signature,
    bytes: input.slice(),
  };
}

/** Parses a credential (layout only, the embedded certificate's included). Throws StreamError. */
export function parseCredential(bytes: Uint8Array): UnverifiedCredential {
  checkInput(bytes, 'bytes');
  const p = parseParts(bytes);
  return { claimed: p.claimed, bytes: p.bytes };
}

/** How an AuthorityError of certificate verification reads as a StreamError code. */
function certificateCode(code: AuthorityErrorCode): StreamErrorCode {
  switch (code) {
    case 'wrong-network':
      return 'wrong-network';
    case 'expired':
      return 'expired';
    case 'not-yet-valid':
      return 'not-yet-valid';
    case 'bad-signature':
    case 'unknown-signer':
    case 'too-few-signatures':
    case 'wrong-subject':
      return 'bad-signature';
    default:
      return 'malformed';
  }
}

/** Checks a credential at `now` (order of checks in the header). Throws StreamError. */
export function verifyCredential(suite: CryptoSuite, unverified: UnverifiedCredential, now: number, check: CredentialCheck): VerifiedCredential {
  if (typeof unverified !== 'object' || unverified === null || !(unverified.bytes instanceof Uint8Array)) {
    throw new TypeError('unverified must come from parseCredential');
  }
  checkTime(now, 'now');
  checkObject(check, 'check');
  checkAscii(check.network, NETWORK_FIELD, 'check.network');
  assertBytes(check.oracle, 'check.oracle', 32);
  const trust = checkCertificateTrust(check.authority, 'check.authority');
  const windowMs = checkWindow(check.windowMs ?? DEFAULT_CREDENTIAL_WINDOW_MS, 'check.windowMs');
  const certSkew = check.certificateClockSkewMs ?? 30_000;
  checkTime(certSkew, 'check.certificateClockSkewMs');

  const p = parseParts(unverified.bytes); // from the bytes themselves, not the claimed fields
  const c = p.claimed;
  if (!equalBytes(c.oracle, check.oracle)) throw fail('unknown-oracle', 'stream credential is addressed to another oracle');
  if (c.createdAt > now + windowMs) throw fail('not-yet-valid', `stream credential made at ${c.createdAt}, ahead of ${now} by more than ${windowMs} ms`);
  if (now >= c.createdAt + windowMs) throw fail('expired', `stream credential made at ${c.createdAt} is older than ${windowMs} ms (now ${now})`);
  let cert;
  try {
    cert = verifyAccessCertificate(suite, c.certificate, { authorityKeys: trust.keys, threshold: trust.threshold }, now, {
      network: check.network,
      maxClockSkewMs: certSkew,
    });
  } catch (e) {
    if (e instanceof AuthorityError) throw new StreamError(certificateCode(e.code), `stream credential: access certificate: ${e.message}`, { cause: e });
    throw e;
  }
  // The signer is the certificate's subject (see the header).
  if (!suite.ed25519Verify(p.signature, signingDigest(suite, CONTEXT_CREDENTIAL, p.signed), cert.subject)) {
    throw fail('bad-signature', "stream credential signature does not verify with the certificate's subject key");
  }
  return {
    subject: cert.subject.slice(),
    identity: cert.identity,
    network: cert.network,
    oracle: c.oracle,
    request: c.request,
    createdAt: c.createdAt,
    nonce: c.nonce,
    certificateExpiresAt: cert.expiresAt,
    bytes: p.bytes,
  } as VerifiedCredential;
}

export interface CredentialReplayGuardOptions {
  /** The verification window in force (default DEFAULT_CREDENTIAL_WINDOW_MS). */
  readonly windowMs?: number;
  /** Most credentials remembered at once (default 65,536). */
  readonly capacity?: number;
}

/**
 * Remembers the credentials an oracle has accepted, each until verifyCredential would refuse it
 * anyway (createdAt + window, when it is 'expired'), so one credential buys one receipt. Bounded:
 * when full of live entries it refuses ('full') rather than forget one. Pure: time is passed in.
 */
export class CredentialReplayGuard {
  readonly windowMs: number;
  private readonly ledger: ReceiptLedger;

  constructor(
    private readonly suite: CryptoSuite,
    options: CredentialReplayGuardOptions = {},
  ) {
    checkObject(suite, 'suite');
    checkObject(options, 'options');
    this.windowMs = checkWindow(options.windowMs ?? DEFAULT_CREDENTIAL_WINDOW_MS, 'options.windowMs');
    this.ledger = new ReceiptLedger(options.capacity === undefined ? {} : { capacity: options.capacity });
  }

  /** Credentials held, expired ones not yet pruned included. */
  get size(): number {
    return this.ledger.size;
  }

  /**
   * Spends `credential` at `now`: 'spent' the first time, 'already-spent' for a replay, 'expired'
   * when it could not verify any more, 'full' when no slot is free.
   */
  spend(credential: VerifiedCredential, now: number): LedgerOutcome {
    checkObject(credential, 'credential');
    assertBytes(credential.subject, 'credential.subject', 32);
    assertBytes(credential.nonce, 'credential.nonce', CREDENTIAL_NONCE_LENGTH);
    checkTime(credential.createdAt, 'credential.createdAt');
    checkTime(now, 'now');
    // One id per (subject, nonce): two creators may pick the same nonce.
    const id = this.suite.sha256(concatBytes(credential.subject, credential.nonce)).subarray(0, 16);
    return this.ledger.spendId(id, credential.createdAt + this.windowMs, now);
  }

  /** Forgets what has expired at `now`; returns how many. */
  prune(now: number): number {
    return this.ledger.prune(now);
  }
}
