/**
 * The one error type of the link layer (handshake and message codecs).
 *
 * Codes:
 * - 'malformed'          a handshake message does not parse (wrong lengths, counts, magic).
 * - 'unexpected-cell'    a cell arrived that the handshake state does not allow.
 * - 'no-common-version'  VERSIONS share no version with ours.
 * - 'bad-certs'          CERTS lacks a required certificate or repeats one.
 * - 'bad-signature'      a link binding or AUTHENTICATE signature does not verify.
 * - 'wrong-identity'     the peer proved an identity other than the one we expected.
 * - 'tls-mismatch'       a signed TLS certificate hash or exporter value is not this connection's.
 * - 'bypass-refused'     the peer sent AUTH_BYPASS where it is not allowed, or we need
 *                        bypass and the responder does not offer it.
 * - 'auth-required'      the responder requires authentication and the peer did not offer it.
 * - 'timeout'            the handshake did not finish in time.
 * - 'limit'              a per-peer limit (connections per IP, cell rate, queued bytes) was exceeded.
 * - 'protocol'           any other violation after the handshake (e.g. a handshake cell on an open link).
 * - 'closed'             the connection closed (by the peer or locally) before or after opening.
 */
export type LinkErrorCode =
  | 'malformed'
  | 'unexpected-cell'
  | 'no-common-version'
  | 'bad-certs'
  | 'bad-signature'
  | 'wrong-identity'
  | 'tls-mismatch'
  | 'bypass-refused'
  | 'auth-required'
  | 'timeout'
  | 'limit'
  | 'protocol'
  | 'closed';

export class LinkError extends Error {
  override readonly name = 'LinkError';
  constructor(
    readonly code: LinkErrorCode,
    message: string,
  ) {
    super(message);
  }
}
