/**
 * Signed-document helpers shared by node-core/directory and node-core/authority. Internal to
 * node-core: no folder's index exports them.
 *
 * Every signature there is Ed25519 (RFC 8032) over SHA-256(context ASCII bytes ‖ document
 * body), so a signature made for one kind of document can never be taken for another (the
 * contexts live with their documents; no context is a prefix of another). Two envelopes carry
 * the signatures:
 *
 *   single-signed  bodyLength (u16 or u32) | body | signature 64
 *                  signed by a key named inside the body (descriptor, vote, registration,
 *                  certificate request);
 *   multi-signed   format u8 | bodyLength (u16 or u32) | body | count u8 |
 *                  count × (signer 32 | signature 64), strictly ascending by signer
 *                  (consensus, access certificate).
 *
 * A multi-signed document counts toward its threshold only the valid signatures from trusted
 * keys, each key once, with one order of precedence among the errors (countSignatures): the
 * discovery consensus and the access certificate follow the same rules.
 *
 * Errors: the helpers that reject bytes or documents take the module's error factory, so a
 * directory decoder still throws DirectoryError and an authority decoder AuthorityError.
 */
import type { CryptoSuite } from '../crypto/api';
import { Writer, assertBytes, concatBytes, equalBytes, toHex, utf8 } from './bytes';
import { type DecodeErrorCode, type Fail, checkInput, compareBytes, expectEnd, readFormat, reader } from './codec';

/** SHA-256(context ‖ body): what each Ed25519 signature over a document actually signs. */
export function signingDigest(suite: CryptoSuite, context: string, body: Uint8Array): Uint8Array {
  return suite.sha256(concatBytes(utf8(context), body));
}

// ---------------------------------------------------------------------------------------------
// Single-signed envelope

export interface SingleSignedLayout {
  /** Names the document in error messages, e.g. 'signed vote'. */
  readonly what: string;
  /** Width of the bodyLength prefix. */
  readonly lengthBits: 16 | 32;
  /** Longest accepted envelope; a longer input is refused unread. */
  readonly maxLength: number;
}

/** Signs `body` under `context` and wraps it: bodyLength | body | signature. */
export function sealSingleSigned(
  suite: CryptoSuite,
  context: string,
  body: Uint8Array,
  secretKey: Uint8Array,
  lengthBits: SingleSignedLayout['lengthBits'],
): Uint8Array {
  const signature = suite.ed25519Sign(signingDigest(suite, context, body), secretKey);
  const w = new Writer();
  if (lengthBits === 16) w.u16(body.length);
  else w.u32(body.length);
  return w.bytes(body).bytes(signature).finish();
}

/** Splits a single-signed envelope (layout only; the body is not decoded). */
export function parseSingleSigned(
  bytes: Uint8Array,
  layout: SingleSignedLayout,
  fail: Fail<'malformed'>,
): { body: Uint8Array; signature: Uint8Array } {
  checkInput(bytes, 'bytes');
  const { what } = layout;
  if (bytes.length > layout.maxLength) throw fail('malformed', `${what} of ${bytes.length} bytes is too long`);
  const r = reader(bytes, what, fail);
  const len = layout.lengthBits === 16 ? r.u16('body length') : r.u32('body length');
  const body = r.bytes(len, 'body').slice();
  const signature = r.bytes(64, 'signature').slice();
  expectEnd(r, what, fail);
  return { body, signature };
}

// ---------------------------------------------------------------------------------------------
// Multi-signed envelope

/** One signature of a multi-signed document. */
export interface SignatureEntry {
  readonly signer: Uint8Array;
  readonly signature: Uint8Array;
}

export interface IgnoredSignature {
  readonly signer: Uint8Array;
  readonly reason: 'unknown-signer' | 'bad-signature';
}

export interface MultiSignedLayout {
  /** Names the document in error messages, e.g. 'signed consensus'. */
  readonly what: string;
  readonly format: number;
  /** Width of the bodyLength prefix. */
  readonly lengthBits: 16 | 32;
  /** Longest accepted envelope; a longer input is refused unread. */
  readonly maxLength: number;
  /** When given, a bodyLength over it is refused before the body is read. */
  readonly maxBodyLength?: number;
  readonly maxSignatures: number;
}

/** An entry by the key whose 32-byte Ed25519 seed is `secretKey`, over `body` under `context`. */
export function signEntry(suite: CryptoSuite, context: string, body: Uint8Array, secretKey: Uint8Array): SignatureEntry {
  return { signer: suite.ed25519PublicKey(secretKey), signature: suite.ed25519Sign(signingDigest(suite, context, body), secretKey) };
}

/** True when `sig` is a valid signature by `sig.signer` over `body` under `context`. Never throws for bad bytes. */
export function verifyEntry(suite: CryptoSuite, context: string, body: Uint8Array, sig: SignatureEntry): boolean {
  assertBytes(body, 'body');
  if (typeof sig !== 'object' || sig === null) throw new TypeError('sig must be an object');
  assertBytes(sig.signer, 'sig.signer', 32);
  assertBytes(sig.signature, 'sig.signature', 64);
  return suite.ed25519Verify(sig.signature, signingDigest(suite, context, body), sig.signer);
}

/**
 * Sorts and deduplicates signatures by signer (an identical repeat is dropped; two different
 * signatures from one signer are a RangeError). Returns copies.
 */
export function canonicalSignatures(signatures: readonly SignatureEntry[], name = 'signatures'): SignatureEntry[] {
  if (!Array.isArray(signatures)) throw new TypeError(`${name} must be an array`);
  const bySigner = new Map<string, SignatureEntry>();
  signatures.forEach((s: SignatureEntry, i) => {
    if (typeof s !== 'object' || s === null) throw new TypeError(`${name}[${i}] must be an object`);
    assertBytes(s.signer, `${name}[${i}].signer`, 32);
    assertBytes(s.signature, `${name}[${i}].signature`, 64);
    const k = toHex(s.signer);
    const prev = bySigner.get(k);
    if (prev !== undefined) {
      if (!equalBytes(prev.signature, s.signature)) throw new RangeError(`${name}[${i}] is a second, different signature by one signer`);
      return;
    }
    bySigner.set(k, { signer: s.signer.slice(), signature: s.signature.slice() });
  });
  return [...bySigner.values()].sort((a, b) => compareBytes(a.signer, b.signer));
}

/**
 * Encodes a multi-signed document from a body the caller has already checked and its signatures
 * (put in canonical order; RangeError over layout.maxSignatures). Does not verify them.
 */
export function encodeMultiSigned(layout: MultiSignedLayout, body: Uint8Array, signatures: readonly SignatureEntry[]): Uint8Array {
  const sigs = canonicalSignatures(signatures);
  if (sigs.length > layout.maxSignatures) throw new RangeError(`at most ${layout.maxSignatures} signatures`);
  const w = new Writer().u8(layout.format);
  if (layout.lengthBits === 16) w.u16(body.length);
  else w.u32(body.length);
  w.bytes(body).u8(sigs.length);
  for (const s of sigs) w.bytes(s.signer).bytes(s.signature);
  return w.finish();
}

/**
 * Splits a multi-signed document (layout and canonical signer order; the body is not decoded):
 * signatures out of ascending signer order, or a signer twice, are 'not-canonical'.
 */
export function parseMultiSigned(
  bytes: Uint8Array,
  layout: MultiSignedLayout,
  fail: Fail<DecodeErrorCode | 'not-canonical'>,
): { body: Uint8Array; signatures: SignatureEntry[] } {
  checkInput(bytes, 'bytes');
  const { what } = layout;
  if (bytes.length > layout.maxLength) throw fail('malformed', `${what} of ${bytes.length} bytes is too long`);
  const r = reader(bytes, what, fail);
  readFormat(r, layout.format, what, fail);
  const len = layout.lengthBits === 16 ? r.u16('body length') : r.u32('body length');
  if (layout.maxBodyLength !== undefined && len > layout.maxBodyLength) throw fail('malformed', `${what}: body length ${len} is too long`);
  const body = r.bytes(len, 'body').slice();
  const count = r.u8('signature count');
  if (count > layout.maxSignatures) throw fail('malformed', `${what}: ${count} signatures, at most ${layout.maxSignatures}`);
  const signatures: SignatureEntry[] = [];
  for (let i = 0; i < count; i++) {
    const signer = r.bytes(32, `signature ${i} signer`).slice();
    const signature = r.bytes(64, `signature ${i}`).slice();
    const prev = signatures[i - 1];
    if (prev !== undefined && compareBytes(prev.signer, signer) >= 0) {
      throw fail('not-canonical', `${what}: signature ${i} is out of signer order or repeats a signer`);
    }
    signatures.push({ signer, signature });
  }
  expectEnd(r, what, fail);
  return { body, signatures };
}

export interface SignatureCountInput {
  readonly context: string;
  readonly body: Uint8Array;
  readonly signatures: readonly SignatureEntry[];
  /** Parameter name of `signatures`, for TypeError/RangeError on a malformed entry. */
  readonly name: string;
  /** The trusted keys (already checked: distinct, 32 bytes each). */
  readonly trusted: readonly Uint8Array[];
  readonly threshold: number;
  /** Names the document in error messages, e.g. 'consensus'. */
  readonly what: string;
}

/**
 * Counts the signatures of a multi-signed document against a threshold. An entry whose signer
 * is not trusted is ignored without being checked; an entry from a trusted key that does not
 * verify (or repeats a key already counted) is ignored too. Only valid signatures from trusted
 * keys count, each key once. Returns the counted signers (in entry order) and the ignored entries
 * when at least `threshold` count. Short of it, throws, in this order of precedence:
 *   'bad-signature'      some entry from a trusted key failed to verify;
 *   'unknown-signer'     no such failure, but the unknown signers would have made up the shortfall;
 *   'too-few-signatures' otherwise.
 * TypeError/RangeError (naming `input.name`) when an entry does not have the shape of one,
 * before any signature is checked.
 */
export function countSignatures(
  suite: CryptoSuite,
  input: SignatureCountInput,
  fail: Fail<'bad-signature' | 'unknown-signer' | 'too-few-signatures'>,
): { signers: Uint8Array[]; ignored: IgnoredSignature[] } {
  const { signatures, name, threshold, what } = input;
  signatures.forEach((s, i) => {
    assertBytes(s.signer, `${name}[${i}].signer`, 32);
    assertBytes(s.signature, `${name}[${i}].signature`, 64);
  });
  const trusted = new Set(input.trusted.map(toHex));
  const digest = signingDigest(suite, input.context, input.body);
  const signers: Uint8Array[] = [];
  const ignored: IgnoredSignature[] = [];
  const counted = new Set<string>();
  for (const s of signatures) {
    const k = toHex(s.signer);
    if (!trusted.has(k)) {
      ignored.push({ signer: s.signer, reason: 'unknown-signer' });
    } else if (counted.has(k) || !suite.ed25519Verify(s.signature, digest, s.signer)) {
      ignored.push({ signer: s.signer, reason: 'bad-signature' });
    } else {
      counted.add(k);
      signers.push(s.signer);
    }
  }
  if (signers.length < threshold) {
    const bad = ignored.filter((x) => x.reason === 'bad-signature').length;
    const unknown = ignored.length - bad;
    const tally = `${signers.length} valid of ${threshold} needed; ${bad} failed to verify, ${unknown} from keys not trusted`;
    if (bad > 0) throw fail('bad-signature', `${what} signatures: ${tally}`);
    if (signers.length + unknown >= threshold) throw fail('unknown-signer', `${what} signatures: ${tally}`);
    throw fail('too-few-signatures', `${what} signatures: ${tally}`);
  }
  return { signers, ignored };
}
