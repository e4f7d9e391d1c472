/**
 * node-core/authority: the pure parts of the PSP authority role (seed 004 §4; PSP reference
 * application/authority*.md and certificate.md; DESIGN.md §3 "Authority and access
 * certificates"): signed identity registrations, the IdentityRegistry interface (with an
 * in-memory implementation; the SQLite one is in node-core/io/storage), certificate requests,
 * short-lived access certificates co-signed by several authorities, the authority messages, and
 * the service an authority node runs on them.
 *
 * Parse, then verify: signed or time-bound documents are parsed into Unverified types (fields
 * under `claimed`); only a verify function produces the usable Verified type. Time is passed in
 * (ms since the Unix epoch); the CryptoSuite is passed in.
 *
 * Does not: carry messages (the transport sends them over a multi-hop circuit, so no authority
 * learns a client's address together with its identity), or store anything on disk.
 */
export { AUTHORITY_ERROR_CODES, AuthorityError, isAuthorityError, type AuthorityErrorCode } from './errors';

export {
  REGISTRATION_FORMAT,
  MAX_DISPLAY_NAME_CHARS,
  MAX_SIGNED_REGISTRATION_LENGTH,
  DEFAULT_REGISTRATION_WINDOW_MS,
  displayNameProblem,
  encodeRegistrationBody,
  decodeRegistrationBody,
  createRegistration,
  parseRegistration,
  verifyRegistration,
  type Registration,
  type RegistrationCheck,
  type UnverifiedRegistration,
  type VerifiedRegistration,
} from './registration';

/** decideRegistration and checkRegisterArgs are for IdentityRegistry implementations. */
export {
  MemoryIdentityRegistry,
  decideRegistration,
  checkRegisterArgs,
  type IdentityRegistry,
  type RegisterOutcome,
  type RegistrationRecord,
} from './registry';

export {
  CERTIFICATE_REQUEST_FORMAT,
  ACCESS_CERTIFICATE_FORMAT,
  DEFAULT_CERTIFICATE_LIFETIME_MS,
  MAX_CERTIFICATE_LIFETIME_MS,
  MAX_CERTIFICATE_SIGNATURES,
  DEFAULT_REQUEST_WINDOW_MS,
  MAX_SIGNED_REQUEST_LENGTH,
  MAX_ACCESS_CERTIFICATE_LENGTH,
  encodeCertificateRequestBody,
  decodeCertificateRequestBody,
  createCertificateRequest,
  parseCertificateRequest,
  verifyCertificateRequest,
  certificateBodyForRequest,
  encodeCertificateBody,
  decodeCertificateBody,
  issueCertificateSignature,
  verifyCertificateSignature,
  combineCertificateSignatures,
  parseAccessCertificate,
  checkCertificateTrust,
  verifyAccessCertificate,
  needsRenewal,
  type AccessCertificateBody,
  type CertificateRequest,
  type CertificateRequestCheck,
  type CertificateSignature,
  type CertificateTrust,
  type UnverifiedAccessCertificate,
  type UnverifiedCertificateRequest,
  type VerifiedAccessCertificate,
  type VerifiedCertificateRequest,
  type VerifyCertificateOptions,
} from './certificate';

export {
  AuthorityEventId,
  AUTHORITY_STATUSES,
  STATUS_CODES,
  statusForError,
  encodeAuthorityMessage,
  decodeAuthorityMessage,
  type AuthorityMessage,
  type AuthorityStatus,
  type CertificateResult,
  type RegistrationResult,
} from './messages';

export { AuthorityService, ReplayGuard, assembleAccessCertificate, type AuthorityServiceConfig } from './service';

/** The signature contexts of this folder (each signature is over SHA-256(context ‖ body)). */
export { CONTEXT_ACCESS_CERT, CONTEXT_CERT_REQUEST, CONTEXT_REGISTER } from './internal';
