/**
 * Sealed mailbox items: what Alice leaves at Bob's presence nodes while he is offline, so that
 * only Bob can read it and know it is from her, and the presence nodes learn neither who wrote
 * it nor what it says (seed 004 §7.1's privacy goal, applied to messages that wait).
 *
 * Sealed like the introduction (sealing.ts: ephemeral X25519 to Bob's announcement key,
 * RFC 7748; HKDF-SHA256, RFC 5869; ChaCha20-Poly1305, RFC 8439) with this format's own HKDF salt
 * "psp-mailbox-v1" and AAD label "PSP-MAILBOX", so an item can never be opened as an
 * introduction or the reverse. The envelope names only the announcement key.
 *
 * Wire (envelope), big-endian:
 *   version u8 (= 1) | E (32) | announcement key B (32) | sealed length u16 | sealed
 * Plaintext (inside `sealed`):
 *   version u8 (= 1)
 *   identity length u8 (1..128) | identity text (crypto/identity.ts)
 *   createdAt u64 (milliseconds since the Unix epoch)
 *   payload length u32 (≤ 61440) | payload
 *   signature (64) = Ed25519(Alice, SHA-256("PSP-MAILBOX-v1" | all previous plaintext fields |
 *     Bob's identity key))                                                  (RFC 8032)
 *
 * The item id is SHA-256 of the envelope bytes (messages.ts `mailboxItemId`); presence nodes
 * store an id once, and the recipient should drop an id it has already read.
 *
 * Does not: store, deliver or acknowledge items (mailbox-store.ts, the presence service), or
 * keep the recipient's record of ids already read.
 */
import type { CryptoSuite } from '../crypto/api';
import { IdentityError, MAX_IDENTITY_LENGTH, parseIdentity, type Identity } from '../crypto/identity';
import { CodedError, isCodedError } from '../util/coded-error';
import { assertBytes, concatBytes, equalBytes, Reader, utf8, Writer } from '../util/bytes';
import type { IntroductionRecipient } from './introduction';
import { checkSealInput, checkSealRecipient, openSealedEnvelope, parseSealedEnvelope, sealToAnnouncementKey, type SealFail, type SealScheme } from './sealing';

export const MAILBOX_ITEM_VERSION = 1;
/** The largest payload of one item (60 KiB). */
export const MAX_MAILBOX_PAYLOAD = 60 * 1024;
/** How long an item may wait: presence nodes cap their mailbox TTL at this (30 days). */
export const MAX_MAILBOX_TTL_MS = 30 * 24 * 3600_000;
/** Defaults for `openMailboxItem`'s limits. */
export const DEFAULT_MAILBOX_MAX_AGE_MS = MAX_MAILBOX_TTL_MS;
export const DEFAULT_MAILBOX_MAX_CLOCK_SKEW_MS = 2 * 60_000;

const KEY_LEN = 32;
const SIG_LEN = 64;
const SIGNING_CONTEXT = utf8('PSP-MAILBOX-v1');
const SCHEME: SealScheme = Object.freeze({
  version: MAILBOX_ITEM_VERSION,
  salt: utf8('psp-mailbox-v1'),
  aadLabel: utf8('PSP-MAILBOX'),
  what: 'mailbox item',
});

// ---------------------------------------------------------------------------------------------
// Errors

export const MAILBOX_ERROR_CODES = [
  /** The bytes do not follow the layout: cut short, trailing bytes, a length out of range. */
  'malformed',
  /** The version byte (outer or inner) names a format this code does not know. */
  'unsupported-version',
  /** Sealed to an announcement key the recipient does not hold (any more). */
  'unknown-announcement-key',
  /** The AEAD tag does not verify, or the sender's ephemeral key is unusable. */
  'decrypt-failed',
  /** The sender's identity string is not valid. */
  'bad-identity',
  /** The sender's signature does not verify under the key its identity names (or names another recipient). */
  'bad-signature',
  /** Created longer ago than the recipient's maximum age. */
  'expired',
  /** Created in the future beyond the recipient's allowed clock skew. */
  'not-yet-valid',
] as const;
export type MailboxErrorCode = (typeof MAILBOX_ERROR_CODES)[number];

/** The one error `openMailboxItem` throws for unacceptable bytes. */
export class MailboxError extends CodedError<MailboxErrorCode> {
  override readonly name = 'MailboxError';
}

export function isMailboxError(e: unknown, code?: MailboxErrorCode): e is MailboxError {
  return isCodedError(MailboxError, e, code);
}

const sealFail: SealFail = (code, message) => new MailboxError(code, message);

// ---------------------------------------------------------------------------------------------
// Types

export interface SealMailboxItemInput {
  from: {
    /** Alice's Ed25519 identity secret key (32-byte seed). */
    secretKey: Uint8Array;
    /** Alice's identity string; its key must be the public key of `secretKey`. */
    identityText: string;
  };
  to: {
    /** Bob's Ed25519 identity key. */
    identityKey: Uint8Array;
    /** Bob's X25519 announcement key, from his presence record. */
    announcementKey: Uint8Array;
  };
  /** 0..61440 bytes, opaque here. */
  payload: Uint8Array;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
}

export interface MailboxLimits {
  /** Reject items created longer ago than this (default 30 days, the longest mailbox TTL). */
  maxAgeMs?: number;
  /** Reject items dated further in the future than this (default 2 minutes). */
  maxClockSkewMs?: number;
}

/** A verified item: decrypted, signature checked against the identity it names, fresh. */
export interface OpenedMailboxItem {
  /** Alice's parsed identity; `from.publicKey` verified the signature. */
  from: Identity;
  payload: Uint8Array;
  createdAt: number;
  /** The announcement public key the item was sealed to. */
  announcementKey: Uint8Array;
}

function checkMillis(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer (milliseconds), got ${String(value)}`);
  }
}

function signingDigest(suite: CryptoSuite, unsigned: Uint8Array, recipientIdentityKey: Uint8Array): Uint8Array {
  return suite.sha256(concatBytes(SIGNING_CONTEXT, unsigned, recipientIdentityKey));
}

// ---------------------------------------------------------------------------------------------
// Plaintext

/** The plaintext fields before the signature. Internal: exported for tests that forge items. */
export interface MailboxItemBody {
  identityText: string;
  createdAt: number;
  payload: Uint8Array;
}

/**
 * Internal (tests): the signed plaintext for `body`, signed with `signerSecretKey` for
 * `recipientIdentityKey`, without checking that the signer owns the identity.
 */
export function encodeMailboxPlaintext(
  suite: CryptoSuite,
  body: MailboxItemBody,
  signerSecretKey: Uint8Array,
  recipientIdentityKey: Uint8Array,
): Uint8Array {
  if (typeof body !== 'object' || body === null) throw new TypeError('body must be an object');
  if (typeof body.identityText !== 'string') throw new TypeError('body.identityText must be a string');
  const idBytes = utf8(body.identityText);
  if (idBytes.length === 0 || idBytes.length > MAX_IDENTITY_LENGTH) {
    throw new RangeError(`body.identityText must be 1..${MAX_IDENTITY_LENGTH} bytes`);
  }
  checkMillis(body.createdAt, 'body.createdAt');
  assertBytes(body.payload, 'body.payload');
  if (body.payload.length > MAX_MAILBOX_PAYLOAD) {
    throw new RangeError(`body.payload is ${body.payload.length} bytes; at most ${MAX_MAILBOX_PAYLOAD} allowed`);
  }
  assertBytes(signerSecretKey, 'signerSecretKey', KEY_LEN);
  assertBytes(recipientIdentityKey, 'recipientIdentityKey', KEY_LEN);
  const unsigned = new Writer()
    .u8(MAILBOX_ITEM_VERSION)
    .u8(idBytes.length)
    .bytes(idBytes)
    .u64(BigInt(body.createdAt))
    .u32(body.payload.length)
    .bytes(body.payload)
    .finish();
  const signature = suite.ed25519Sign(signingDigest(suite, unsigned, recipientIdentityKey), signerSecretKey);
  return concatBytes(unsigned, signature);
}

interface DecodedPlaintext {
  identityText: string;
  createdAt: number;
  payload: Uint8Array;
  unsigned: Uint8Array;
  signature: Uint8Array;
}

function decodePlaintext(plaintext: Uint8Array): DecodedPlaintext {
  const r = new Reader(plaintext, (what) => new MailboxError('malformed', `mailbox item: input ends inside ${what}`));
  const version = r.u8('version');
  if (version !== MAILBOX_ITEM_VERSION) {
    throw new MailboxError('unsupported-version', `mailbox item: inner version ${version} is not supported`);
  }
  const idLen = r.u8('identity length');
  if (idLen === 0 || idLen > MAX_IDENTITY_LENGTH) {
    throw new MailboxError('malformed', `mailbox item: identity length ${idLen} outside 1..${MAX_IDENTITY_LENGTH}`);
  }
  const idBytes = r.bytes(idLen, 'identity');
  let identityText: string;
  try {
    identityText = new TextDecoder('utf-8', { fatal: true }).decode(idBytes);
  } catch {
    throw new MailboxError('bad-identity', 'mailbox item: identity is not UTF-8');
  }
  const created = r.u64('createdAt');
  if (created > BigInt(Number.MAX_SAFE_INTEGER)) throw new MailboxError('malformed', 'mailbox item: createdAt out of range');
  const payloadLen = r.u32('payload length');
  if (payloadLen > MAX_MAILBOX_PAYLOAD) {
    throw new MailboxError('malformed', `mailbox item: payload of ${payloadLen} bytes; at most ${MAX_MAILBOX_PAYLOAD}`);
  }
  const payload = r.bytes(payloadLen, 'payload').slice();
  const unsignedEnd = r.offset;
  const signature = r.bytes(SIG_LEN, 'signature').slice();
  if (r.remaining !== 0) throw new MailboxError('malformed', `mailbox item: ${r.remaining} trailing bytes`);
  return { identityText, createdAt: Number(created), payload, unsigned: plaintext.slice(0, unsignedEnd), signature };
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Internal (tests): seals an already encoded plaintext. `inject.ephemeralSecret` replaces the
 * random ephemeral secret and must never be reused (sealing.ts).
 */
export function sealMailboxPlaintext(
  suite: CryptoSuite,
  plaintext: Uint8Array,
  to: { identityKey: Uint8Array; announcementKey: Uint8Array },
  inject?: { ephemeralSecret?: Uint8Array },
): Uint8Array {
  return sealToAnnouncementKey(suite, SCHEME, plaintext, to, inject);
}

/**
 * Alice's side: builds, signs and seals an item for Bob. Throws TypeError/RangeError naming the
 * parameter for unacceptable input (identity not matching the secret key, payload over 60 KiB).
 */
export function sealMailboxItem(suite: CryptoSuite, input: SealMailboxItemInput): Uint8Array {
  checkSealInput(input);
  const { from, to } = input;
  assertBytes(input.payload, 'input.payload');
  if (input.payload.length > MAX_MAILBOX_PAYLOAD) {
    throw new RangeError(`input.payload is ${input.payload.length} bytes; at most ${MAX_MAILBOX_PAYLOAD} allowed`);
  }
  checkMillis(input.createdAt, 'input.createdAt');
  let identity: Identity;
  try {
    identity = parseIdentity(from.identityText);
  } catch (err) {
    if (err instanceof IdentityError) throw new RangeError(`input.from.identityText: ${err.message}`);
    throw err;
  }
  if (!equalBytes(suite.ed25519PublicKey(from.secretKey), identity.publicKey)) {
    throw new RangeError('input.from.secretKey is not the key named by input.from.identityText');
  }
  const plaintext = encodeMailboxPlaintext(
    suite,
    { identityText: from.identityText, createdAt: input.createdAt, payload: input.payload },
    from.secretKey,
    to.identityKey,
  );
  try {
    return sealToAnnouncementKey(suite, SCHEME, plaintext, to);
  } finally {
    plaintext.fill(0);
  }
}


/**
 * Bob's side: opens, parses and verifies an item. Returns it, or throws MailboxError
 * (malformed, unsupported-version, unknown-announcement-key, decrypt-failed, bad-identity,
 * bad-signature, expired, not-yet-valid). Duplicates are the caller's concern (item ids).
 */
export function openMailboxItem(
  suite: CryptoSuite,
  bytes: Uint8Array,
  recipient: IntroductionRecipient,
  now: number,
  limits: MailboxLimits = {},
): OpenedMailboxItem {
  assertBytes(bytes, 'bytes');
  checkSealRecipient(recipient);
  checkMillis(now, 'now');
  if (typeof limits !== 'object' || limits === null) throw new TypeError('limits must be an object');
  const maxAgeMs = limits.maxAgeMs ?? DEFAULT_MAILBOX_MAX_AGE_MS;
  const maxSkewMs = limits.maxClockSkewMs ?? DEFAULT_MAILBOX_MAX_CLOCK_SKEW_MS;
  checkMillis(maxAgeMs, 'limits.maxAgeMs');
  checkMillis(maxSkewMs, 'limits.maxClockSkewMs');

  const envelope = parseSealedEnvelope(bytes, SCHEME, sealFail);
  const plaintext = openSealedEnvelope(suite, SCHEME, envelope, recipient, sealFail);
  try {
    const d = decodePlaintext(plaintext);
    let from: Identity;
    try {
      from = parseIdentity(d.identityText);
    } catch (err) {
      if (err instanceof IdentityError) throw new MailboxError('bad-identity', `mailbox item: ${err.message}`);
      throw err;
    }
    // The signature binds every field and this recipient's identity key to the named sender.
    if (!suite.ed25519Verify(d.signature, signingDigest(suite, d.unsigned, recipient.identityKey), from.publicKey)) {
      throw new MailboxError('bad-signature', 'mailbox item: signature does not verify');
    }
    if (now - d.createdAt > maxAgeMs) {
      throw new MailboxError('expired', `mailbox item: created ${now - d.createdAt} ms ago; at most ${maxAgeMs}`);
    }
    if (d.createdAt - now > maxSkewMs) {
      throw new MailboxError('not-yet-valid', `mailbox item: dated ${d.createdAt - now} ms in the future`);
    }
    return { from, payload: d.payload, createdAt: d.createdAt, announcementKey: envelope.announcementKey };
  } finally {
    plaintext.fill(0);
  }
}
