/**
 * Internal to node-core/rendezvous: sealing bytes to a recipient's X25519 announcement key, the
 * way introductions (introduction.ts) and mailbox items (mailbox.ts) are sealed. Each format
 * passes its own scheme (version byte, HKDF salt, AAD label), so bytes sealed for one can never
 * be opened as the other.
 *
 * Envelope, big-endian:
 *   version u8 | E (32) | announcement key B (32) | sealed length u16 | sealed
 * with
 *   shared = X25519(e, B)                                  (RFC 7748 §6.1; e ephemeral, E = e·G)
 *   key    = HKDF-SHA256(ikm = shared, salt = scheme.salt,
 *                        info = E | B | recipient identity key, 32)       (RFC 5869)
 *   sealed = ChaCha20-Poly1305(key, nonce = 0^12, plaintext,
 *                              aad = scheme.aadLabel | version | E | B)   (RFC 8439 §2.8)
 *
 * The AEAD nonce is all zeros. That is safe only because every key encrypts exactly one message:
 * the key comes from a fresh ephemeral secret e, drawn for this message and zeroed right after,
 * and E is part of the HKDF info, so no two messages share a key (RFC 8439 §4 requires only that
 * a (key, nonce) pair never repeats).
 *
 * Not exported from the folder's index.
 */
import type { CryptoSuite } from '../crypto/api';
import { CryptoError } from '../crypto/api';
import { assertBytes, concatBytes, equalBytes, Reader, Writer } from '../util/bytes';

export const KEY_LENGTH = 32;
export const AEAD_TAG_LENGTH = 16;
/** version u8 | E | B | sealed length u16. */
export const SEALED_ENVELOPE_HEADER = 1 + KEY_LENGTH + KEY_LENGTH + 2;
/** The longest envelope the u16 sealed length allows. */
export const MAX_SEALED_ENVELOPE_LENGTH = SEALED_ENVELOPE_HEADER + 0xffff;

const ZERO_NONCE = new Uint8Array(12);

/** What distinguishes one sealed format from another. */
export interface SealScheme {
  /** The version byte, outer (and, by each format's own rule, inner). */
  readonly version: number;
  readonly salt: Uint8Array;
  readonly aadLabel: Uint8Array;
  /** Names the format in error messages ('introduction', 'mailbox item'). */
  readonly what: string;
}

/** The recipient's side: its identity key and the announcement key pairs it answers to. */
export interface SealRecipient {
  readonly identityKey: Uint8Array;
  readonly announcementKeys: readonly { readonly secret: Uint8Array; readonly public: Uint8Array }[];
}

/** The outer fields of an envelope; anyone can read them (a presence node does). */
export interface SealedEnvelope {
  readonly version: number;
  /** E, the sender's ephemeral X25519 public key. */
  readonly ephemeralKey: Uint8Array;
  /** B, the announcement key the envelope is sealed to. */
  readonly announcementKey: Uint8Array;
  /** Ciphertext and tag (at least 16 bytes). */
  readonly sealed: Uint8Array;
}

/** Builds the caller's typed error for `code`. */
export type SealFail = (
  code: 'malformed' | 'unsupported-version' | 'unknown-announcement-key' | 'decrypt-failed',
  message: string,
) => Error;

function envelopeKey(
  suite: CryptoSuite,
  scheme: SealScheme,
  shared: Uint8Array,
  E: Uint8Array,
  B: Uint8Array,
  recipientIdentityKey: Uint8Array,
): Uint8Array {
  return suite.hkdfSha256(shared, scheme.salt, concatBytes(E, B, recipientIdentityKey), KEY_LENGTH);
}

function envelopeAad(scheme: SealScheme, E: Uint8Array, B: Uint8Array): Uint8Array {
  return concatBytes(scheme.aadLabel, Uint8Array.of(scheme.version), E, B);
}

/**
 * Seals `plaintext` to `to`. `inject.ephemeralSecret` replaces the random ephemeral secret
 * (tests only; it must never be reused). Throws TypeError/RangeError naming the parameter.
 */
export function sealToAnnouncementKey(
  suite: CryptoSuite,
  scheme: SealScheme,
  plaintext: Uint8Array,
  to: { identityKey: Uint8Array; announcementKey: Uint8Array },
  inject?: { ephemeralSecret?: Uint8Array },
): Uint8Array {
  assertBytes(plaintext, 'plaintext');
  if (typeof to !== 'object' || to === null) throw new TypeError('to must be an object');
  assertBytes(to.identityKey, 'to.identityKey', KEY_LENGTH);
  assertBytes(to.announcementKey, 'to.announcementKey', KEY_LENGTH);
  if (plaintext.length + AEAD_TAG_LENGTH > 0xffff) throw new RangeError('plaintext is too long for the u16 sealed length');
  if (inject?.ephemeralSecret !== undefined) assertBytes(inject.ephemeralSecret, 'inject.ephemeralSecret', KEY_LENGTH);

  const e = inject?.ephemeralSecret !== undefined ? inject.ephemeralSecret.slice() : suite.randomBytes(KEY_LENGTH);
  let shared: Uint8Array | undefined;
  let key: Uint8Array | undefined;
  try {
    const E = suite.x25519PublicKey(e);
    const B = to.announcementKey.slice();
    try {
      shared = suite.x25519(e, B);
    } catch (err) {
      if (err instanceof CryptoError && err.code === 'weak-key') {
        throw new RangeError('to.announcementKey is a small-order X25519 point');
      }
      throw err;
    }
    key = envelopeKey(suite, scheme, shared, E, B, to.identityKey);
    const sealed = suite.aeadSeal(key, ZERO_NONCE, plaintext, envelopeAad(scheme, E, B));
    return new Writer().u8(scheme.version).bytes(E).bytes(B).u16(sealed.length).bytes(sealed).finish();
  } finally {
    e.fill(0);
    shared?.fill(0);
    key?.fill(0);
  }
}

/**
 * Reads the outer fields of an envelope, strictly: the scheme's version, both keys, a sealed
 * part of at least one tag, nothing after it. Throws only what `fail` builds.
 */
export function parseSealedEnvelope(bytes: Uint8Array, scheme: Pick<SealScheme, 'version' | 'what'>, fail: SealFail): SealedEnvelope {
  const { what } = scheme;
  const r = new Reader(bytes, (field) => fail('malformed', `${what}: input ends inside ${field}`));
  const version = r.u8('version');
  if (version !== scheme.version) throw fail('unsupported-version', `${what}: version ${version} is not supported`);
  const ephemeralKey = r.bytes(KEY_LENGTH, 'ephemeral key').slice();
  const announcementKey = r.bytes(KEY_LENGTH, 'announcement key').slice();
  const sealedLen = r.u16('sealed length');
  if (sealedLen < AEAD_TAG_LENGTH) throw fail('malformed', `${what}: sealed part of ${sealedLen} bytes`);
  const sealed = r.bytes(sealedLen, 'sealed part');
  if (r.remaining !== 0) throw fail('malformed', `${what}: ${r.remaining} trailing bytes`);
  return { version, ephemeralKey, announcementKey, sealed };
}

/**
 * Opens a parsed envelope with the recipient's matching announcement key. Returns the plaintext
 * (the caller zeroes it when done); throws what `fail` builds for an unknown key or a failed
 * decryption.
 */
export function openSealedEnvelope(
  suite: CryptoSuite,
  scheme: SealScheme,
  envelope: SealedEnvelope,
  recipient: SealRecipient,
  fail: SealFail,
): Uint8Array {
  const { what } = scheme;
  const E = envelope.ephemeralKey;
  const B = envelope.announcementKey;
  // Find the announcement key without an early exit, so timing does not say which one matched.
  let match = -1;
  recipient.announcementKeys.forEach((k, i) => {
    const eq = equalBytes(k.public, B);
    match = eq && match < 0 ? i : match;
  });
  const pair = recipient.announcementKeys[match];
  if (pair === undefined) throw fail('unknown-announcement-key', `${what}: sealed to an announcement key not held`);

  let shared: Uint8Array | undefined;
  let key: Uint8Array | undefined;
  try {
    shared = suite.x25519(pair.secret, E);
    key = envelopeKey(suite, scheme, shared, E, B, recipient.identityKey);
    return suite.aeadOpen(key, ZERO_NONCE, envelope.sealed, envelopeAad(scheme, E, B));
  } catch (err) {
    if (err instanceof CryptoError) throw fail('decrypt-failed', `${what}: cannot decrypt (${err.code})`);
    throw err;
  } finally {
    shared?.fill(0);
    key?.fill(0);
  }
}

/** Checks the shape of a recipient: its identity key and one or more X25519 key pairs. */
export function checkSealRecipient(recipient: {
  readonly identityKey: Uint8Array;
  readonly announcementKeys: readonly { readonly secret: Uint8Array; readonly public: Uint8Array }[];
}): void {
  if (typeof recipient !== 'object' || recipient === null) throw new TypeError('recipient must be an object');
  assertBytes(recipient.identityKey, 'recipient.identityKey', KEY_LENGTH);
  if (!Array.isArray(recipient.announcementKeys) || recipient.announcementKeys.length === 0) {
    throw new RangeError('recipient.announcementKeys must be a non-empty array');
  }
  recipient.announcementKeys.forEach((k, i) => {
    if (typeof k !== 'object' || k === null) throw new TypeError(`recipient.announcementKeys[${i}] must be an object`);
    assertBytes(k.secret, `recipient.announcementKeys[${i}].secret`, KEY_LENGTH);
    assertBytes(k.public, `recipient.announcementKeys[${i}].public`, KEY_LENGTH);
  });
}

/** Checks the sender and recipient fields every sealed format takes (`input.from`, `input.to`). */
export function checkSealInput(input: {
  readonly from: { readonly secretKey: Uint8Array; readonly identityText: string };
  readonly to: { readonly identityKey: Uint8Array; readonly announcementKey: Uint8Array };
}): void {
  if (typeof input !== 'object' || input === null) throw new TypeError('input must be an object');
  const { from, to } = input;
  if (typeof from !== 'object' || from === null) throw new TypeError('input.from must be an object');
  if (typeof to !== 'object' || to === null) throw new TypeError('input.to must be an object');
  assertBytes(from.secretKey, 'input.from.secretKey', KEY_LENGTH);
  if (typeof from.identityText !== 'string') throw new TypeError('input.from.identityText must be a string');
  assertBytes(to.identityKey, 'input.to.identityKey', KEY_LENGTH);
  assertBytes(to.announcementKey, 'input.to.announcementKey', KEY_LENGTH);
}
