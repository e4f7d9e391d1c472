/**
 * The introduction of private channel setup (seed 004 §7.1; PSP reference relay/rendezvous.md
 * "Initial handshake material and Introduce request", carried by application/forwardpresence.md):
 * the bytes Alice sends, through a circuit ending at one of Bob's presence nodes, so that only
 * Bob learns who she is, which rendezvous point to meet her at, and her half of the end-to-end
 * handshake.
 *
 * Differences from the reference, which encrypts with AES-128 under a zero IV and appends an
 * HMAC, and sends the announcer's identity in the clear:
 * - one ChaCha20-Poly1305 AEAD (RFC 8439) under a key from an ephemeral-static X25519 exchange
 *   with Bob's announcement key (RFC 7748), derived with HKDF-SHA256 (RFC 5869);
 * - the envelope names no identity at all: the presence node sees a version, an ephemeral key,
 *   the announcement key it was sealed to, and ciphertext;
 * - the plaintext carries Alice's identity, her access certificate and an Ed25519 signature
 *   (RFC 8032) that binds everything to Bob's identity key, so Bob knows who sent it and that it
 *   was meant for him (seed 004 §7.1: "her identity + rendezvous point").
 *
 * Wire (envelope), big-endian:
 *   version u8 (= 1) | E (32) | announcement key B (32) | sealed length u16 | sealed
 * Plaintext (inside `sealed`):
 *   version u8 (= 1)
 *   identity length u8 | identity text (crypto/identity.ts)
 *   certificate length u16 (≤ 2048) | access certificate bytes (opaque here)
 *   rendezvous cookie (32)
 *   rendezvous node identity (32) | rendezvous node onion key (32)
 *   link specifier count u8 (≤ 4) | { type u8 | length u8 | value } — EXTEND's encoding
 *     (relay/extend.md; circuit/payloads.ts): 0 IPv4 4+2, 1 IPv6 16+2, 2 Ed25519 32
 *   end-to-end onionskin ID | B | X (96), NTOR_RENDEZVOUS with ID = Bob's identity key and
 *     B = the announcement key
 *   createdAt u64 (milliseconds since the Unix epoch)
 *   greeting length u16 (≤ 256) | greeting (UTF-8)
 *   signature (64) = Ed25519(Alice, SHA-256("PSP-INTRODUCTION-v1" | all previous plaintext
 *     fields | Bob's identity key))
 *
 * Does not: keep a replay cache (the caller does, keyed by `introductionId`), verify the access
 * certificate (the caller does, with node-core/authority), build circuits, or answer.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { CryptoSuite } from '../crypto/api';
import { IdentityError, MAX_IDENTITY_LENGTH, parseIdentity, type Identity } from '../crypto/identity';
import type { LinkSpecifier } from '../circuit/payloads';
import { LinkSpecifierType } from '../circuit/payloads';
import { NTOR_RENDEZVOUS } from '../onion/client';
import { assertBytes, concatBytes, equalBytes, Reader, utf8, Writer } from '../util/bytes';
import { IntroductionError } from './errors';
import { checkSealInput, checkSealRecipient, openSealedEnvelope, parseSealedEnvelope, sealToAnnouncementKey, type SealFail, type SealScheme } from './sealing';

export const INTRODUCTION_VERSION = 1;
export const RENDEZVOUS_COOKIE_LENGTH = 32;
export const MAX_CERTIFICATE_LENGTH = 2048;
export const MAX_LINK_SPECIFIERS = 4;
export const MAX_GREETING_BYTES = 256;
/** ID | B | X for NTOR_RENDEZVOUS (32-byte ID). */
export const INTRODUCTION_ONIONSKIN_LENGTH = NTOR_RENDEZVOUS.idLength + 64;
/** Defaults for `openIntroduction`'s limits. */
export const DEFAULT_INTRODUCTION_MAX_AGE_MS = 10 * 60_000;
export const DEFAULT_INTRODUCTION_MAX_CLOCK_SKEW_MS = 2 * 60_000;

const KEY_LEN = 32;
const SIG_LEN = 64;
const SIGNING_CONTEXT = utf8('PSP-INTRODUCTION-v1');
/**
 * The envelope's sealing (sealing.ts): HKDF-SHA256 with salt "psp-introduction-v1", AAD label
 * "PSP-INTRO", an all-zero AEAD nonce under a key used for this one introduction only.
 */
const SCHEME: SealScheme = Object.freeze({
  version: INTRODUCTION_VERSION,
  salt: utf8('psp-introduction-v1'),
  aadLabel: utf8('PSP-INTRO'),
  what: 'introduction',
});
const sealFail: SealFail = (code, message) => new IntroductionError(code, message);

/** Where Alice waits: her rendezvous point, and how Bob's circuit reaches it. */
export interface RendezvousPoint {
  /** The cookie Alice registered with ESTABLISH_RENDEZVOUS (relay/establishrendezvous.md). */
  cookie: Uint8Array;
  /** The rendezvous node's Ed25519 identity key. */
  nodeIdentity: Uint8Array;
  /** The rendezvous node's X25519 onion key, for Bob's CREATE/EXTEND to it. */
  nodeOnionKey: Uint8Array;
  /** How to reach the node, in EXTEND's link specifier terms (at most 4, one of each type). */
  linkSpecifiers: LinkSpecifier[];
}

export interface SealIntroductionInput {
  from: {
    /** Alice's Ed25519 identity secret key (32-byte seed). */
    secretKey: Uint8Array;
    /** Alice's identity string; its key must be the public key of `secretKey`. */
    identityText: string;
  };
  /** Alice's access certificate, opaque here (≤ 2048 bytes). */
  certificate: Uint8Array;
  to: {
    /** Bob's Ed25519 identity key. */
    identityKey: Uint8Array;
    /** Bob's X25519 announcement key, from his presence record. */
    announcementKey: Uint8Array;
  };
  rendezvous: RendezvousPoint;
  /** The NTOR_RENDEZVOUS onionskin from ntorClientCreate(identityKey, announcementKey). */
  onionskin: Uint8Array;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
  /** A short note shown with the request (≤ 256 bytes of UTF-8); empty is the same as none. */
  greeting?: string;
}

export interface AnnouncementKeyPair {
  /** X25519 secret (32 bytes). */
  secret: Uint8Array;
  /** X25519 public key (32 bytes); not re-derived here. */
  public: Uint8Array;
}

export interface IntroductionRecipient {
  /** Bob's Ed25519 identity key. */
  identityKey: Uint8Array;
  /** The announcement keys Bob answers to: the current one and, during rotation, older ones. */
  announcementKeys: readonly AnnouncementKeyPair[];
}

export interface IntroductionLimits {
  /** Reject introductions created longer ago than this (default 10 minutes). */
  maxAgeMs?: number;
  /** Reject introductions dated further in the future than this (default 2 minutes). */
  maxClockSkewMs?: number;
}

/** A verified introduction: decrypted, signature checked against the identity it names, fresh. */
export interface OpenedIntroduction {
  version: typeof INTRODUCTION_VERSION;
  /** Alice's parsed identity; `from.publicKey` verified the signature. */
  from: Identity;
  /** Alice's access certificate bytes, not verified here. */
  certificate: Uint8Array;
  rendezvous: RendezvousPoint;
  /** The end-to-end onionskin for ntorServerHandle with NTOR_RENDEZVOUS. */
  onionskin: Uint8Array;
  createdAt: number;
  greeting: string | undefined;
  /** The announcement public key the introduction was sealed to. */
  announcementKey: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Validation (caller-controlled values: TypeError / RangeError)

function checkMillis(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer (milliseconds), got ${String(value)}`);
  }
}

function checkLinkSpecifiers(specs: unknown, name: string): asserts specs is LinkSpecifier[] {
  if (!Array.isArray(specs)) throw new TypeError(`${name} must be an array`);
  if (specs.length > MAX_LINK_SPECIFIERS) {
    throw new RangeError(`${name} has ${specs.length} entries; at most ${MAX_LINK_SPECIFIERS} allowed`);
  }
  const seen = new Set<string>();
  specs.forEach((s: unknown, i) => {
    const n = `${name}[${i}]`;
    if (typeof s !== 'object' || s === null) throw new TypeError(`${n} must be an object`);
    const spec = s as LinkSpecifier;
    if (spec.type === 'ipv4' || spec.type === 'ipv6') {
      assertBytes(spec.address, `${n}.address`, spec.type === 'ipv4' ? 4 : 16);
      if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 0xffff) {
        throw new RangeError(`${n}.port must be an integer in 1..65535, got ${spec.port}`);
      }
    } else if (spec.type === 'ed25519') {
      assertBytes(spec.identity, `${n}.identity`, KEY_LEN);
    } else {
      throw new RangeError(`${n}.type must be 'ipv4', 'ipv6' or 'ed25519'`);
    }
    if (seen.has(spec.type)) throw new RangeError(`${n}: link specifier ${spec.type} appears twice`);
    seen.add(spec.type);
  });
}

function checkRendezvous(rv: unknown, name: string): asserts rv is RendezvousPoint {
  if (typeof rv !== 'object' || rv === null) throw new TypeError(`${name} must be an object`);
  const p = rv as RendezvousPoint;
  assertBytes(p.cookie, `${name}.cookie`, RENDEZVOUS_COOKIE_LENGTH);
  assertBytes(p.nodeIdentity, `${name}.nodeIdentity`, KEY_LEN);
  assertBytes(p.nodeOnionKey, `${name}.nodeOnionKey`, KEY_LEN);
  checkLinkSpecifiers(p.linkSpecifiers, `${name}.linkSpecifiers`);
  for (const s of p.linkSpecifiers) {
    if (s.type === 'ed25519' && !equalBytes(s.identity, p.nodeIdentity)) {
      throw new RangeError(`${name}.linkSpecifiers: the ed25519 specifier differs from ${name}.nodeIdentity`);
    }
  }
}

function greetingBytes(greeting: unknown, name: string): Uint8Array {
  if (greeting === undefined) return new Uint8Array(0);
  if (typeof greeting !== 'string') throw new TypeError(`${name} must be a string`);
  const bytes = utf8(greeting);
  // TextEncoder replaces lone surrogates; refuse text that would not survive the round trip.
  if (new TextDecoder().decode(bytes) !== greeting) throw new RangeError(`${name} is not well-formed Unicode`);
  if (bytes.length > MAX_GREETING_BYTES) {
    throw new RangeError(`${name} is ${bytes.length} bytes of UTF-8; at most ${MAX_GREETING_BYTES} allowed`);
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Plaintext codec

/**
 * The plaintext fields before the signature. Internal: exported for tests that need to build
 * introductions `sealIntroduction` refuses to make (forged, misaddressed).
 */
export interface IntroductionBody {
  identityText: string;
  certificate: Uint8Array;
  rendezvous: RendezvousPoint;
  onionskin: Uint8Array;
  createdAt: number;
  greeting?: string;
}

function validateBody(body: IntroductionBody, name: string): Uint8Array {
  if (typeof body !== 'object' || body === null) throw new TypeError(`${name} must be an object`);
  if (typeof body.identityText !== 'string') throw new TypeError(`${name}.identityText must be a string`);
  const idBytes = utf8(body.identityText);
  if (idBytes.length === 0 || idBytes.length > MAX_IDENTITY_LENGTH) {
    throw new RangeError(`${name}.identityText must be 1..${MAX_IDENTITY_LENGTH} bytes`);
  }
  assertBytes(body.certificate, `${name}.certificate`);
  if (body.certificate.length > MAX_CERTIFICATE_LENGTH) {
    throw new RangeError(`${name}.certificate is ${body.certificate.length} bytes; at most ${MAX_CERTIFICATE_LENGTH} allowed`);
  }
  checkRendezvous(body.rendezvous, `${name}.rendezvous`);
  assertBytes(body.onionskin, `${name}.onionskin`, INTRODUCTION_ONIONSKIN_LENGTH);
  checkMillis(body.createdAt, `${name}.createdAt`);
  return greetingBytes(body.greeting, `${name}.greeting`);
}

function encodeUnsigned(body: IntroductionBody, greeting: Uint8Array): Uint8Array {
  const idBytes = utf8(body.identityText);
  const w = new Writer()
    .u8(INTRODUCTION_VERSION)
    .u8(idBytes.length)
    .bytes(idBytes)
    .u16(body.certificate.length)
    .bytes(body.certificate)
    .bytes(body.rendezvous.cookie)
    .bytes(body.rendezvous.nodeIdentity)
    .bytes(body.rendezvous.nodeOnionKey)
    .u8(body.rendezvous.linkSpecifiers.length);
  // Link specifiers exactly as in EXTEND (relay/extend.md): type | length | value.
  for (const s of body.rendezvous.linkSpecifiers) {
    if (s.type === 'ed25519') w.u8(LinkSpecifierType.Ed25519).u8(KEY_LEN).bytes(s.identity);
    else {
      const type = s.type === 'ipv4' ? LinkSpecifierType.IPv4 : LinkSpecifierType.IPv6;
      w.u8(type).u8(s.address.length + 2).bytes(s.address).u16(s.port);
    }
  }
  return w
    .bytes(body.onionskin)
    .u64(BigInt(body.createdAt))
    .u16(greeting.length)
    .bytes(greeting)
    .finish();
}

/** SHA-256("PSP-INTRODUCTION-v1" | unsigned plaintext | recipient identity key): what Alice signs. */
function signingDigest(suite: CryptoSuite, unsigned: Uint8Array, recipientIdentityKey: Uint8Array): Uint8Array {
  return suite.sha256(concatBytes(SIGNING_CONTEXT, unsigned, recipientIdentityKey));
}

/**
 * Internal (tests): the signed plaintext for `body`, signed with `signerSecretKey` for
 * `recipientIdentityKey`. Unlike `sealIntroduction` it does not check that the signer owns the
 * identity, or that the onionskin names the recipient.
 */
export function encodeIntroductionPlaintext(
  suite: CryptoSuite,
  body: IntroductionBody,
  signerSecretKey: Uint8Array,
  recipientIdentityKey: Uint8Array,
): Uint8Array {
  const greeting = validateBody(body, 'body');
  assertBytes(signerSecretKey, 'signerSecretKey', KEY_LEN);
  assertBytes(recipientIdentityKey, 'recipientIdentityKey', KEY_LEN);
  const unsigned = encodeUnsigned(body, greeting);
  const signature = suite.ed25519Sign(signingDigest(suite, unsigned, recipientIdentityKey), signerSecretKey);
  return concatBytes(unsigned, signature);
}

interface DecodedPlaintext {
  identityText: string;
  certificate: Uint8Array;
  rendezvous: RendezvousPoint;
  onionskin: Uint8Array;
  createdAt: number;
  greeting: string | undefined;
  unsigned: Uint8Array;
  signature: Uint8Array;
}

const malformed = (what: string): IntroductionError =>
  new IntroductionError('malformed', `introduction: input ends inside ${what}`);

function readLinkSpecifier(r: Reader): LinkSpecifier {
  const type = r.u8('link specifier type');
  const len = r.u8('link specifier length');
  const value = r.bytes(len, 'link specifier value');
  switch (type) {
    case LinkSpecifierType.IPv4:
    case LinkSpecifierType.IPv6: {
      const kind = type === LinkSpecifierType.IPv4 ? 'ipv4' : 'ipv6';
      const addrLen = kind === 'ipv4' ? 4 : 16;
      if (len !== addrLen + 2) {
        throw new IntroductionError('malformed', `introduction: ${kind} link specifier must be ${addrLen + 2} bytes, got ${len}`);
      }
      const port = (value[addrLen]! << 8) | value[addrLen + 1]!;
      if (port === 0) throw new IntroductionError('malformed', `introduction: ${kind} link specifier has port 0`);
      return { type: kind, address: value.slice(0, addrLen), port };
    }
    case LinkSpecifierType.Ed25519:
      if (len !== KEY_LEN) {
        throw new IntroductionError('malformed', `introduction: ed25519 link specifier must be 32 bytes, got ${len}`);
      }
      return { type: 'ed25519', identity: value.slice() };
    default:
      throw new IntroductionError('malformed', `introduction: unsupported link specifier type ${type}`);
  }
}

function decodePlaintext(plaintext: Uint8Array): DecodedPlaintext {
  const r = new Reader(plaintext, malformed);
  const version = r.u8('version');
  if (version !== INTRODUCTION_VERSION) {
    throw new IntroductionError('unsupported-version', `introduction: inner version ${version} is not supported`);
  }
  const idLen = r.u8('identity length');
  if (idLen === 0 || idLen > MAX_IDENTITY_LENGTH) {
    throw new IntroductionError('malformed', `introduction: identity length ${idLen} outside 1..${MAX_IDENTITY_LENGTH}`);
  }
  const idBytes = r.bytes(idLen, 'identity');
  let identityText: string;
  try {
    identityText = new TextDecoder('utf-8', { fatal: true }).decode(idBytes);
  } catch {
    throw new IntroductionError('bad-identity', 'introduction: identity is not UTF-8');
  }
  const certLen = r.u16('certificate length');
  if (certLen > MAX_CERTIFICATE_LENGTH) {
    throw new IntroductionError('malformed', `introduction: certificate of ${certLen} bytes; at most ${MAX_CERTIFICATE_LENGTH}`);
  }
  const certificate = r.bytes(certLen, 'certificate').slice();
  const cookie = r.bytes(RENDEZVOUS_COOKIE_LENGTH, 'cookie').slice();
  const nodeIdentity = r.bytes(KEY_LEN, 'rendezvous node identity').slice();
  const nodeOnionKey = r.bytes(KEY_LEN, 'rendezvous node onion key').slice();
  const n = r.u8('link specifier count');
  if (n > MAX_LINK_SPECIFIERS) {
    throw new IntroductionError('malformed', `introduction: ${n} link specifiers; at most ${MAX_LINK_SPECIFIERS}`);
  }
  const linkSpecifiers: LinkSpecifier[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const s = readLinkSpecifier(r);
    if (seen.has(s.type)) throw new IntroductionError('malformed', `introduction: link specifier ${s.type} appears twice`);
    seen.add(s.type);
    if (s.type === 'ed25519' && !equalBytes(s.identity, nodeIdentity)) {
      throw new IntroductionError('malformed', 'introduction: ed25519 link specifier differs from the rendezvous node identity');
    }
    linkSpecifiers.push(s);
  }
  const onionskin = r.bytes(INTRODUCTION_ONIONSKIN_LENGTH, 'onionskin').slice();
  const created = r.u64('createdAt');
  if (created > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new IntroductionError('malformed', 'introduction: createdAt out of range');
  }
  const greetLen = r.u16('greeting length');
  if (greetLen > MAX_GREETING_BYTES) {
    throw new IntroductionError('malformed', `introduction: greeting of ${greetLen} bytes; at most ${MAX_GREETING_BYTES}`);
  }
  const greetBytes = r.bytes(greetLen, 'greeting');
  let greeting: string;
  try {
    greeting = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(greetBytes);
  } catch {
    throw new IntroductionError('malformed', 'introduction: greeting is not UTF-8');
  }
  const unsignedEnd = r.offset;
  const signature = r.bytes(SIG_LEN, 'signature').slice();
  if (r.remaining !== 0) throw new IntroductionError('malformed', `introduction: ${r.remaining} trailing bytes`);
  return {
    identityText,
    certificate,
    rendezvous: { cookie, nodeIdentity, nodeOnionKey, linkSpecifiers },
    onionskin,
    createdAt: Number(created),
    greeting: greetLen === 0 ? undefined : greeting,
    unsigned: plaintext.slice(0, unsignedEnd),
    signature,
  };
}

// ---------------------------------------------------------------------------------------------
// Envelope

/**
 * Internal (tests): seals an already encoded plaintext to `to`. `inject.ephemeralSecret`
 * replaces the random ephemeral secret; it must never be reused (sealing.ts).
 */
export function sealIntroductionPlaintext(
  suite: CryptoSuite,
  plaintext: Uint8Array,
  to: { identityKey: Uint8Array; announcementKey: Uint8Array },
  inject?: { ephemeralSecret?: Uint8Array },
): Uint8Array {
  return sealToAnnouncementKey(suite, SCHEME, plaintext, to, inject);
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Alice's side: builds, signs and seals an introduction for Bob. Throws TypeError/RangeError
 * naming the parameter for any unacceptable input (identity not matching the secret key,
 * onionskin not addressed to `to`, oversized certificate or greeting, bad link specifiers).
 */
export function sealIntroduction(suite: CryptoSuite, input: SealIntroductionInput): Uint8Array {
  checkSealInput(input);
  const { from, to } = input;
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
  assertBytes(input.onionskin, 'input.onionskin', INTRODUCTION_ONIONSKIN_LENGTH);
  // The end-to-end handshake must be the one Bob can answer: ID = his identity key,
  // B = the announcement key this introduction is sealed to (relay/rendezvous.md).
  if (!equalBytes(input.onionskin.subarray(0, KEY_LEN), to.identityKey)) {
    throw new RangeError('input.onionskin names another identity than input.to.identityKey');
  }
  if (!equalBytes(input.onionskin.subarray(KEY_LEN, 2 * KEY_LEN), to.announcementKey)) {
    throw new RangeError('input.onionskin names another key than input.to.announcementKey');
  }
  const body: IntroductionBody = {
    identityText: from.identityText,
    certificate: input.certificate,
    rendezvous: input.rendezvous,
    onionskin: input.onionskin,
    createdAt: input.createdAt,
    ...(input.greeting === undefined ? {} : { greeting: input.greeting }),
  };
  const plaintext = encodeIntroductionPlaintext(suite, body, from.secretKey, to.identityKey);
  try {
    return sealIntroductionPlaintext(suite, plaintext, to);
  } finally {
    plaintext.fill(0);
  }
}


/**
 * Bob's side: opens, parses and verifies an introduction. Returns the verified introduction,
 * or throws IntroductionError (malformed, unsupported-version, unknown-announcement-key,
 * decrypt-failed, bad-identity, wrong-recipient, bad-signature, expired, not-yet-valid).
 * Replays are the caller's concern: see `introductionId`.
 */
export function openIntroduction(
  suite: CryptoSuite,
  bytes: Uint8Array,
  recipient: IntroductionRecipient,
  now: number,
  limits: IntroductionLimits = {},
): OpenedIntroduction {
  assertBytes(bytes, 'bytes');
  checkSealRecipient(recipient);
  checkMillis(now, 'now');
  if (typeof limits !== 'object' || limits === null) throw new TypeError('limits must be an object');
  const maxAgeMs = limits.maxAgeMs ?? DEFAULT_INTRODUCTION_MAX_AGE_MS;
  const maxSkewMs = limits.maxClockSkewMs ?? DEFAULT_INTRODUCTION_MAX_CLOCK_SKEW_MS;
  checkMillis(maxAgeMs, 'limits.maxAgeMs');
  checkMillis(maxSkewMs, 'limits.maxClockSkewMs');

  // Envelope: version | E | B | sealed length | sealed.
  const envelope = parseSealedEnvelope(bytes, SCHEME, sealFail);
  const B = envelope.announcementKey;
  const plaintext = openSealedEnvelope(suite, SCHEME, envelope, recipient, sealFail);

  try {
    const d = decodePlaintext(plaintext);
    let from: Identity;
    try {
      from = parseIdentity(d.identityText);
    } catch (err) {
      if (err instanceof IdentityError) throw new IntroductionError('bad-identity', `introduction: ${err.message}`);
      throw err;
    }
    // The end-to-end onionskin must be answerable by this recipient with this announcement key.
    if (!equalBytes(d.onionskin.subarray(0, KEY_LEN), recipient.identityKey)) {
      throw new IntroductionError('wrong-recipient', 'introduction: its handshake names another identity');
    }
    if (!equalBytes(d.onionskin.subarray(KEY_LEN, 2 * KEY_LEN), B)) {
      throw new IntroductionError('wrong-recipient', 'introduction: its handshake names another announcement key');
    }
    // The signature binds every field and this recipient's identity key to the named sender.
    if (!suite.ed25519Verify(d.signature, signingDigest(suite, d.unsigned, recipient.identityKey), from.publicKey)) {
      throw new IntroductionError('bad-signature', 'introduction: signature does not verify');
    }
    if (now - d.createdAt > maxAgeMs) {
      throw new IntroductionError('expired', `introduction: created ${now - d.createdAt} ms ago; at most ${maxAgeMs}`);
    }
    if (d.createdAt - now > maxSkewMs) {
      throw new IntroductionError('not-yet-valid', `introduction: dated ${d.createdAt - now} ms in the future`);
    }
    return {
      version: INTRODUCTION_VERSION,
      from,
      certificate: d.certificate,
      rendezvous: d.rendezvous,
      onionskin: d.onionskin,
      createdAt: d.createdAt,
      greeting: d.greeting,
      announcementKey: B,
    };
  } finally {
    plaintext.fill(0);
  }
}

/**
 * SHA-256 (FIPS 180-4) of the wire bytes: the key for the caller's replay cache. Computed without
 * a suite so a presence node or a cache can call it alone; every suite's sha256 gives the same.
 */
export function introductionId(bytes: Uint8Array): Uint8Array {
  assertBytes(bytes, 'bytes');
  return sha256(bytes);
}
