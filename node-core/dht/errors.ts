/**
 * The one error type of node-core/dht.
 *
 * Every decoder and verifier in this folder throws a DhtError with a code from the closed union
 * below when the bytes or the record it was given are unacceptable; the record store reports the
 * same codes in its StoreResult (and STORE_RESULT carries them on the wire by their index in
 * DHT_ERROR_CODES, so the list is append-only). Programming errors (a parameter of the wrong type,
 * an out-of-range value the caller controls) throw TypeError or RangeError instead, naming the
 * parameter.
 */

export const DHT_ERROR_CODES = [
  /** The bytes do not follow the layout: cut short, trailing bytes, a count or value out of range. */
  'malformed',
  /** The leading format byte names a format this code does not know. */
  'unsupported-version',
  /** A record value, record or message larger than the limit in force. */
  'oversize',
  /** The record's expiry time has passed. */
  'expired',
  /** The record was stored (co-signed) further in the future than the allowed clock skew. */
  'not-yet-valid',
  /** expiresAt − storedAt (or − now, before co-signing) is longer than the verifier allows. */
  'ttl-too-long',
  /** The owner's signature does not verify with the owner key. */
  'bad-owner-signature',
  /** The storing node's co-signature does not verify with its key. */
  'bad-cosignature',
  /** The co-signer is not a DHT node the verifier knows. */
  'unknown-cosigner',
  /** The record key is not derived from the owner as the key rule demands (squatting). */
  'wrong-key',
  /** A lower sequence number than the record already held for this key and owner. */
  'replayed',
  /** The same sequence number as the record held, with different content. */
  'conflict',
  /** A store quota (records per owner, total bytes) would be exceeded. */
  'quota-exceeded',
  /** A node id that is not SHA-256 of its identity key, or fails the static crypto puzzle. */
  'bad-node-id',
  /** An address no peer can connect to: unspecified, multicast, port 0, duplicated. */
  'bad-address',
] as const;

export type DhtErrorCode = (typeof DHT_ERROR_CODES)[number];

export class DhtError extends Error {
  override readonly name = 'DhtError';
  constructor(
    readonly code: DhtErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** True when `e` is a DhtError (optionally with the given code). */
export function isDhtError(e: unknown, code?: DhtErrorCode): e is DhtError {
  return e instanceof DhtError && (code === undefined || e.code === code);
}
