/**
 * The authority protocol's messages (PSP reference application/authority.md: "Event ID [2 bytes;
 * big-endian unsigned integer] | Event Body"), as bytes the transport carries opaquely over a
 * multi-hop circuit.
 *
 *   id 1  certificate-request   client → authority   body: a signed certificate request
 *   id 2  certificate-result    authority → client   status u8 | on 'ok': bodyLength u16 |
 *                                                     certificate body | signer 32 | signature 64
 *   id 3  register              client → authority   body: a signed registration
 *   id 4  register-result       authority → client   status u8 | on 'ok': outcome u8
 *                                                     (1 created, 2 updated, 3 unchanged)
 *
 * Ids 1 and 2 are the reference's Auth Request Certificate and Auth Request Certificate Result;
 * 3 and 4 are ours. Status values 0..4 are the reference's requestResult enum
 * (authrequestcertificateresult.md: success, formatError, unsupportedVersion, signatureInvalid,
 * internalError); 5 and up are ours (table STATUS_CODES).
 *
 * decodeAuthorityMessage checks the envelope and the result fields (including the certificate
 * body of an 'ok' certificate-result); the embedded request or registration stays bytes for its
 * own parser. Throws AuthorityError only: 'malformed' for the envelope, and the certificate
 * body's own codes for a bad body.
 *
 * Does not: send anything, or pick the authorities to ask.
 */
import { Writer, assertBytes } from '../util/bytes';
import { checkInput } from '../util/codec';
import {
  type AccessCertificateBody,
  type CertificateSignature,
  MAX_SIGNED_REQUEST_LENGTH,
  decodeCertificateBody,
  encodeCertificateBody,
} from './certificate';
import { AuthorityError, type AuthorityErrorCode } from './errors';
import { expectEnd, reader } from './internal';
import { MAX_SIGNED_REGISTRATION_LENGTH } from './registration';
import type { RegisterOutcome } from './registry';

export const AuthorityEventId = Object.freeze({
  CertificateRequest: 1,
  CertificateResult: 2,
  Register: 3,
  RegisterResult: 4,
} as const);

export const AUTHORITY_STATUSES = [
  'ok',
  'format-error',
  'unsupported-version',
  'signature-invalid',
  'internal-error',
  'not-registered',
  'stale',
  'not-yet-valid',
  'replay',
  'wrong-network',
  'lifetime-too-long',
  'bad-identity',
  'busy',
] as const;
export type AuthorityStatus = (typeof AUTHORITY_STATUSES)[number];

/** Wire value of each status. Fixed: never renumber. */
export const STATUS_CODES: Readonly<Record<AuthorityStatus, number>> = Object.freeze({
  ok: 0,
  'format-error': 1,
  'unsupported-version': 2,
  'signature-invalid': 3,
  'internal-error': 4,
  'not-registered': 5,
  stale: 6,
  'not-yet-valid': 7,
  replay: 8,
  'wrong-network': 9,
  'lifetime-too-long': 10,
  'bad-identity': 11,
  busy: 12,
});
const STATUS_BY_CODE = new Map<number, AuthorityStatus>(AUTHORITY_STATUSES.map((s) => [STATUS_CODES[s], s]));

const OUTCOME_CODES: Readonly<Record<RegisterOutcome, number>> = Object.freeze({ created: 1, updated: 2, unchanged: 3 });
const OUTCOME_BY_CODE = new Map<number, RegisterOutcome>([
  [1, 'created'],
  [2, 'updated'],
  [3, 'unchanged'],
]);

/** The status an authority answers with when a request fails with `code`. */
export function statusForError(code: AuthorityErrorCode): Exclude<AuthorityStatus, 'ok'> {
  switch (code) {
    case 'malformed':
    case 'not-canonical':
      return 'format-error';
    case 'unsupported-version':
      return 'unsupported-version';
    case 'bad-signature':
      return 'signature-invalid';
    case 'bad-identity':
      return 'bad-identity';
    case 'not-registered':
      return 'not-registered';
    case 'stale':
      return 'stale';
    case 'not-yet-valid':
      return 'not-yet-valid';
    case 'replay':
      return 'replay';
    case 'wrong-network':
      return 'wrong-network';
    case 'lifetime-too-long':
      return 'lifetime-too-long';
    case 'limit-exceeded':
      return 'busy';
    case 'unknown-signer':
    case 'too-few-signatures':
    case 'expired':
    case 'wrong-subject':
      return 'internal-error';
  }
}

export type CertificateResult =
  | { readonly status: 'ok'; readonly body: AccessCertificateBody; readonly signature: CertificateSignature }
  | { readonly status: Exclude<AuthorityStatus, 'ok'>; readonly detail?: string };

export type RegistrationResult =
  | { readonly status: 'ok'; readonly outcome: RegisterOutcome }
  | { readonly status: Exclude<AuthorityStatus, 'ok'>; readonly detail?: string };

export type AuthorityMessage =
  | { readonly type: 'certificate-request'; readonly request: Uint8Array }
  | { readonly type: 'certificate-result'; readonly result: CertificateResult }
  | { readonly type: 'register'; readonly registration: Uint8Array }
  | { readonly type: 'register-result'; readonly result: RegistrationResult };

function statusCode(status: unknown, name: string): number {
  const code = typeof status === 'string' ? (STATUS_CODES as Record<string, number>)[status] : undefined;
  if (code === undefined) throw new RangeError(`${name} must be one of ${AUTHORITY_STATUSES.join(', ')}`);
  return code;
}

/** Encodes a message; a result's `detail` stays local (it is not sent). */
export function encodeAuthorityMessage(m: AuthorityMessage): Uint8Array {
  if (typeof m !== 'object' || m === null) throw new TypeError('message must be an object');
  const w = new Writer();
  switch (m.type) {
    case 'certificate-request':
      assertBytes(m.request, 'message.request');
      if (m.request.length > MAX_SIGNED_REQUEST_LENGTH) throw new RangeError('message.request is too long');
      return w.u16(AuthorityEventId.CertificateRequest).bytes(m.request).finish();
    case 'register':
      assertBytes(m.registration, 'message.registration');
      if (m.registration.length > MAX_SIGNED_REGISTRATION_LENGTH) throw new RangeError('message.registration is too long');
      return w.u16(AuthorityEventId.Register).bytes(m.registration).finish();
    case 'certificate-result': {
      const r = m.result;
      if (typeof r !== 'object' || r === null) throw new TypeError('message.result must be an object');
      w.u16(AuthorityEventId.CertificateResult).u8(statusCode(r.status, 'message.result.status'));
      if (r.status === 'ok') {
        const body = encodeCertificateBody(r.body);
        assertBytes(r.signature?.signer, 'message.result.signature.signer', 32);
        assertBytes(r.signature.signature, 'message.result.signature.signature', 64);
        w.u16(body.length).bytes(body).bytes(r.signature.signer).bytes(r.signature.signature);
      }
      return w.finish();
    }
    case 'register-result': {
      const r = m.result;
      if (typeof r !== 'object' || r === null) throw new TypeError('message.result must be an object');
      w.u16(AuthorityEventId.RegisterResult).u8(statusCode(r.status, 'message.result.status'));
      if (r.status === 'ok') {
        const o = OUTCOME_CODES[r.outcome];
        if (o === undefined) throw new RangeError('message.result.outcome must be created, updated or unchanged');
        w.u8(o);
      }
      return w.finish();
    }
    default:
      throw new RangeError(`message.type ${String((m as { type: unknown }).type)} is not an authority message type`);
  }
}

export function decodeAuthorityMessage(bytes: Uint8Array): AuthorityMessage {
  checkInput(bytes, 'bytes');
  const what = 'authority message';
  const r = reader(bytes, what);
  const id = r.u16('event id');
  let m: AuthorityMessage;
  switch (id) {
    case AuthorityEventId.CertificateRequest: {
      if (r.remaining > MAX_SIGNED_REQUEST_LENGTH) throw new AuthorityError('malformed', `${what}: request is too long`);
      m = { type: 'certificate-request', request: r.rest().slice() };
      break;
    }
    case AuthorityEventId.Register: {
      if (r.remaining > MAX_SIGNED_REGISTRATION_LENGTH) throw new AuthorityError('malformed', `${what}: registration is too long`);
      m = { type: 'register', registration: r.rest().slice() };
      break;
    }
    case AuthorityEventId.CertificateResult: {
      const status = readStatus(r, what);
      if (status === 'ok') {
        const len = r.u16('certificate body length');
        const body = decodeCertificateBody(r.bytes(len, 'certificate body'));
        const signer = r.bytes(32, 'signer').slice();
        const signature = r.bytes(64, 'signature').slice();
        m = { type: 'certificate-result', result: { status, body, signature: { signer, signature } } };
      } else {
        m = { type: 'certificate-result', result: { status } };
      }
      break;
    }
    case AuthorityEventId.RegisterResult: {
      const status = readStatus(r, what);
      if (status === 'ok') {
        const code = r.u8('outcome');
        const outcome = OUTCOME_BY_CODE.get(code);
        if (outcome === undefined) throw new AuthorityError('malformed', `${what}: unknown registration outcome ${code}`);
        m = { type: 'register-result', result: { status, outcome } };
      } else {
        m = { type: 'register-result', result: { status } };
      }
      break;
    }
    default:
      throw new AuthorityError('malformed', `${what}: unknown event id ${id}`);
  }
  expectEnd(r, what);
  return m;
}

function readStatus(r: ReturnType<typeof reader>, what: string): AuthorityStatus {
  const code = r.u8('status');
  const status = STATUS_BY_CODE.get(code);
  if (status === undefined) throw new AuthorityError('malformed', `${what}: unknown status ${code}`);
  return status;
}
