/**
 * Oracle documents of live streams (seed 004 §8.2 "anonymous stream creation request receipt",
 * §8.3 "temporary oracle identification ID"; DESIGN §3 "Live streams"): the stream-creation
 * receipt an oracle signs for a subscriber without naming her, the one-time-spend ledger of the
 * landing nodes that redeem receipts, and the viewer identification IDs an oracle issues after a
 * solved puzzle (puzzle.ts).
 *
 * Both documents are oracle-signed, all integers big-endian, times in ms since the Unix epoch:
 *
 *   receipt (format 1, 140..171 bytes)
 *     format      u8 = 1
 *     receiptId   16   random; the oracle keeps receiptId ↔ identity among the oracles only
 *     oracle      32   Ed25519 key of the issuing oracle
 *     network     u8 length | 1..32 of [a-z0-9-]   (NETWORK_FIELD, util/codec.ts)
 *     issuedAt    u64
 *     expiresAt   u64  > issuedAt; the receipt must be spent before it
 *     maxBitrate  u32  1..2^32-1 bits per second the stream may use
 *     maxViewers  u32  1..2^32-1 viewers the stream may serve
 *     flags       u8   bit 0: the stream may be public; the other bits are 0
 *     signature   64   Ed25519 by `oracle` over SHA-256("PSP-STREAM-RECEIPT-v1" ‖ all of the above)
 *
 *   viewer identification ID (format 1, 131..162 bytes)
 *     format      u8 = 1
 *     sessionId   16   random, unrelated to the viewer's identity
 *     oracle      32
 *     network     u8 length | 1..32 of [a-z0-9-]
 *     issuedAt    u64
 *     expiresAt   u64  > issuedAt
 *     signature   64   Ed25519 by `oracle` over SHA-256("PSP-STREAM-VIEWER-ID-v1" ‖ all of the above)
 *
 * Neither names an identity, an address or a stream. Trust is one of the configured oracles
 * (threshold 1, as seed 004 §8.2 has the landing node validate "with node [O] key").
 *
 * Parse, then verify: `parseReceipt` / `parseViewerId` check the layout and give an unverified
 * value; `verifyReceipt` / `verifyViewerId` check, in this order: network ('wrong-network'),
 * signer is a configured oracle ('unknown-oracle'), expiry ('expired' when now ≥ expiresAt),
 * issuedAt not ahead of the clock ('not-yet-valid'), lifetime cap ('ttl-too-long' when
 * expiresAt − issuedAt > maxTtlMs), signature ('bad-signature').
 *
 * Does not: check the creator's subscription (the oracle service does, before issuing), share
 * receipt ids among oracles, or normalise usage reports (the oracle service).
 */
import type { CryptoSuite } from '../crypto/api';
import { Writer, assertBytes, concatBytes, equalBytes, toHex } from '../util/bytes';
import { NETWORK_FIELD, checkAscii, checkInput, checkKeyList, checkTime, writeAscii, writeTime } from '../util/codec';
import { CONTEXT_RECEIPT, CONTEXT_VIEWER_ID, checkBoolean, checkInt, checkObject, dec, fail, signingDigest } from './internal';

export const RECEIPT_FORMAT = 1;
export const VIEWER_ID_FORMAT = 1;
export const RECEIPT_ID_LENGTH = 16;
export const SESSION_ID_LENGTH = 16;
const HEAD_MIN = 1 + 16 + 32 + 1 + 1 + 8 + 8;
const HEAD_MAX = HEAD_MIN - 1 + NETWORK_FIELD.max;
const RECEIPT_TAIL = 4 + 4 + 1;
export const MIN_RECEIPT_LENGTH = HEAD_MIN + RECEIPT_TAIL + 64;
export const MAX_RECEIPT_LENGTH = HEAD_MAX + RECEIPT_TAIL + 64;
export const MIN_VIEWER_ID_LENGTH = HEAD_MIN + 64;
export const MAX_VIEWER_ID_LENGTH = HEAD_MAX + 64;

/** A receipt is to be spent within minutes of its issue; a longer one is refused. */
export const DEFAULT_RECEIPT_MAX_TTL_MS = 15 * 60 * 1000;
/** A viewer identification ID lives at most this long. */
export const DEFAULT_VIEWER_ID_MAX_TTL_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_ORACLE_MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
const MAX_U32 = 0xffffffff;
const FLAG_PUBLIC = 0x01;

/** What a receipt allows the stream it creates. */
export interface ReceiptAllowance {
  /** Bits per second, 1..2^32-1. */
  readonly maxBitrate: number;
  /** Viewers, 1..2^32-1. */
  readonly maxViewers: number;
  /** Whether the stream may be published as a public stream. */
  readonly publicAllowed: boolean;
}

export interface ReceiptContent {
  readonly receiptId: Uint8Array;
  /** Ed25519 key of the issuing oracle. */
  readonly oracle: Uint8Array;
  readonly network: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly allowed: ReceiptAllowance;
}

export interface ViewerIdContent {
  readonly sessionId: Uint8Array;
  readonly oracle: Uint8Array;
  readonly network: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export interface UnverifiedReceipt {
  /** What the receipt claims. Nothing here is trustworthy until verifyReceipt. */
  readonly claimed: ReceiptContent;
  /** The receipt exactly as received. */
  readonly bytes: Uint8Array;
}

export interface UnverifiedViewerId {
  /** What the ID claims. Nothing here is trustworthy until verifyViewerId. */
  readonly claimed: ViewerIdContent;
  readonly bytes: Uint8Array;
}

declare const verifiedReceiptBrand: unique symbol;
declare const verifiedViewerIdBrand: unique symbol;

/** A receipt whose signer, signature, network and times were checked by verifyReceipt. */
export interface VerifiedReceipt extends ReceiptContent {
  readonly [verifiedReceiptBrand]: true;
  readonly bytes: Uint8Array;
}

/** An ID whose signer, signature, network and times were checked by verifyViewerId. */
export interface VerifiedViewerId extends ViewerIdContent {
  readonly [verifiedViewerIdBrand]: true;
  readonly bytes: Uint8Array;
}

/** What a verifier trusts: the configured oracles of one network. */
export interface OracleTrust {
  readonly network: string;
  /** Ed25519 keys of the configured oracles (distinct, 32 bytes each, at least one). */
  readonly oracleKeys: readonly Uint8Array[];
  /** Longest accepted lifetime (expiresAt − issuedAt); defaults per document above. */
  readonly maxTtlMs?: number;
  /** How far issuedAt may lie ahead of the verifier's clock (default 5 minutes). */
  readonly maxClockSkewMs?: number;
}

// ---- the shared head ------------------------------------------------------------------------

interface Head {
  readonly id: Uint8Array;
  readonly oracle: Uint8Array;
  readonly network: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

function checkHead(c: Head, name: string, idName: string): void {
  assertBytes(c.id, `${name}.${idName}`, 16);
  assertBytes(c.oracle, `${name}.oracle`, 32);
  checkAscii(c.network, NETWORK_FIELD, `${name}.network`);
  checkTime(c.issuedAt, `${name}.issuedAt`);
  checkTime(c.expiresAt, `${name}.expiresAt`);
  if (c.expiresAt <= c.issuedAt) throw new RangeError(`${name}.expiresAt must be after ${name}.issuedAt`);
}

function writeHead(w: Writer, format: number, c: Head, name: string): void {
  w.u8(format).bytes(c.id).bytes(c.oracle);
  writeAscii(w, c.network, NETWORK_FIELD, `${name}.network`);
  writeTime(w, c.issuedAt, `${name}.issuedAt`);
  writeTime(w, c.expiresAt, `${name}.expiresAt`);
}

function readHead(r: ReturnType<typeof dec.reader>, what: string): Head {
  const id = r.bytes(16, 'id').slice();
  const oracle = r.bytes(32, 'oracle').slice();
  const network = dec.readAscii(r, NETWORK_FIELD, `${what} network`);
  const issuedAt = dec.readTime(r, 'issuedAt');
  const expiresAt = dec.readTime(r, 'expiresAt');
  if (expiresAt <= issuedAt) throw fail('malformed', `${what}: expiresAt ${expiresAt} is not after issuedAt ${issuedAt}`);
  return { id, oracle, network, issuedAt, expiresAt };
}

function checkTrust(t: unknown, name: string): { network: string; keys: Uint8Array[]; maxTtlMs: number | undefined; skew: number } {
  checkObject(t, name);
  const x = t as OracleTrust;
  checkAscii(x.network, NETWORK_FIELD, `${name}.network`);
  const keys = checkKeyList(x.oracleKeys, `${name}.oracleKeys`, { nonEmpty: true });
  if (x.maxTtlMs !== undefined) {
    checkTime(x.maxTtlMs, `${name}.maxTtlMs`);
    if (x.maxTtlMs === 0) throw new RangeError(`${name}.maxTtlMs must be positive`);
  }
  if (x.maxClockSkewMs !== undefined) checkTime(x.maxClockSkewMs, `${name}.maxClockSkewMs`);
  return { network: x.network, keys, maxTtlMs: x.maxTtlMs, skew: x.maxClockSkewMs ?? DEFAULT_ORACLE_MAX_CLOCK_SKEW_MS };
}

/** The checks of the module header, in their order, on a parsed head and its signature. */
function verifyHead(
  suite: CryptoSuite,
  head: Head,
  signed: Uint8Array,
  signature: Uint8Array,
  context: string,
  now: number,
  trust: ReturnType<typeof checkTrust>,
  maxTtlMs: number,
  what: string,
): void {
  if (head.network !== trust.network) throw fail('wrong-network', `${what} is for network ${head.network}, not ${trust.network}`);
  if (!trust.keys.some((k) => equalBytes(k, head.oracle))) throw fail('unknown-oracle', `${what} is signed by ${toHex(head.oracle)}, not a configured oracle`);
  if (now >= head.expiresAt) throw fail('expired', `${what} expired at ${head.expiresAt} (now ${now})`);
  if (head.issuedAt > now + trust.skew) throw fail('not-yet-valid', `${what} issued at ${head.issuedAt}, ahead of ${now} by more than ${trust.skew} ms`);
  if (head.expiresAt - head.issuedAt > maxTtlMs) {
    throw fail('ttl-too-long', `${what} lives ${head.expiresAt - head.issuedAt} ms, at most ${maxTtlMs} allowed`);
  }
  if (!suite.ed25519Verify(signature, signingDigest(suite, context, signed), head.oracle)) {
    throw fail('bad-signature', `${what} signature does not verify with the oracle key`);
  }
}

function signAs(suite: CryptoSuite, context: string, body: Uint8Array, oracle: Uint8Array, oracleSecretKey: Uint8Array): Uint8Array {
  assertBytes(oracleSecretKey, 'oracleSecretKey', 32);
  if (!equalBytes(suite.ed25519PublicKey(oracleSecretKey), oracle)) throw new RangeError('oracleSecretKey does not belong to the oracle key named in the document');
  return concatBytes(body, suite.ed25519Sign(signingDigest(suite, context, body), oracleSecretKey));
}

// ---- receipts -------------------------------------------------------------------------------

function checkAllowance(a: unknown, name: string): asserts a is ReceiptAllowance {
  checkObject(a, name);
  const x = a as ReceiptAllowance;
  checkInt(x.maxBitrate, `${name}.maxBitrate`, 1, MAX_U32);
  checkInt(x.maxViewers, `${name}.maxViewers`, 1, MAX_U32);
  checkBoolean(x.publicAllowed, `${name}.publicAllowed`);
}

export interface IssueReceiptInput {
  readonly network: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly allowed: ReceiptAllowance;
  /** 16 bytes; drawn from suite.randomBytes when absent. */
  readonly receiptId?: Uint8Array;
}

/**
 * Issues a receipt as the oracle whose 32-byte Ed25519 seed is `oracleSecretKey` and returns its
 * bytes. The caller (the oracle service) has checked the subscription, and records receiptId ↔
 * identity among the oracles (seed 004 §8.2) — nothing of that goes into the receipt.
 */
export function issueReceipt(suite: CryptoSuite, input: IssueReceiptInput, oracleSecretKey: Uint8Array): Uint8Array {
  checkObject(input, 'input');
  assertBytes(oracleSecretKey, 'oracleSecretKey', 32);
  const receiptId = input.receiptId ?? suite.randomBytes(RECEIPT_ID_LENGTH);
  const oracle = suite.ed25519PublicKey(oracleSecretKey);
  const head: Head = { id: receiptId, oracle, network: input.network, issuedAt: input.issuedAt, expiresAt: input.expiresAt };
  checkHead(head, 'input', 'receiptId');
  checkAllowance(input.allowed, 'input.allowed');
  const w = new Writer();
  writeHead(w, RECEIPT_FORMAT, head, 'input');
  w.u32(input.allowed.maxBitrate).u32(input.allowed.maxViewers).u8(input.allowed.publicAllowed ? FLAG_PUBLIC : 0);
  return signAs(suite, CONTEXT_RECEIPT, w.finish(), oracle, oracleSecretKey);
}

function parseReceiptParts(bytes: unknown): { claimed: ReceiptContent; signed: Uint8Array; signature: Uint8Array; bytes: Uint8Array } {
  const what = 'stream receipt';
  const r = dec.openBody(bytes, 'bytes', { what, format: RECEIPT_FORMAT, maxLength: MAX_RECEIPT_LENGTH });
  const input = bytes as Uint8Array;
  const head = readHead(r, what);
  const maxBitrate = r.u32('maxBitrate');
  const maxViewers = r.u32('maxViewers');
  const flags = r.u8('flags');
  if (maxBitrate === 0) throw fail('malformed', `${what}: maxBitrate is 0`);
  if (maxViewers === 0) throw fail('malformed', `${what}: maxViewers is 0`);
  if ((flags & ~FLAG_PUBLIC) !== 0) throw fail('malformed', `${what}: unknown flags 0x${flags.toString(16)}`);
  const signedLength = r.offset;
  const signature = r.bytes(64, 'signature').slice();
  dec.expectEnd(r, what);
  const { id, ...rest } = head;
  return {
    claimed: { receiptId: id, ...rest, allowed: { maxBitrate, maxViewers, publicAllowed: (flags & FLAG_PUBLIC) !== 0 } },
    signed: input.slice(0, signedLength),
    signature,
    bytes: input.slice(),
  };
}

/** Parses a receipt (layout only). Throws StreamError. */
export function parseReceipt(bytes: Uint8Array): UnverifiedReceipt {
  checkInput(bytes, 'bytes');
  const p = parseReceiptParts(bytes);
  return { claimed: p.claimed, bytes: p.bytes };
}

/**
 * Checks a receipt at `now` against the configured oracles (see the header for the order of
 * checks). Throws StreamError; TypeError/RangeError for a bad `trust` or `now`.
 */
export function verifyReceipt(suite: CryptoSuite, unverified: UnverifiedReceipt, now: number, trust: OracleTrust): VerifiedReceipt {
  if (typeof unverified !== 'object' || unverified === null || !(unverified.bytes instanceof Uint8Array)) {
    throw new TypeError('unverified must come from parseReceipt');
  }
  checkTime(now, 'now');
  const t = checkTrust(trust, 'trust');
  const p = parseReceiptParts(unverified.bytes); // from the bytes themselves, not the claimed fields
  const c = p.claimed;
  const head: Head = { id: c.receiptId, oracle: c.oracle, network: c.network, issuedAt: c.issuedAt, expiresAt: c.expiresAt };
  verifyHead(suite, head, p.signed, p.signature, CONTEXT_RECEIPT, now, t, t.maxTtlMs ?? DEFAULT_RECEIPT_MAX_TTL_MS, 'stream receipt');
  return { ...c, bytes: p.bytes } as VerifiedReceipt;
}

/** What a creator asks of a stream, compared with what its receipt allows. */
export interface StreamRequestLimits {
  readonly bitrate: number;
  readonly maxViewers: number;
  readonly public: boolean;
}

/**
 * The fields of `request` that exceed what `receipt` allows (empty when the request fits): a
 * landing node refuses the stream with reason 'receipt-limits' otherwise.
 */
export function receiptShortfall(receipt: ReceiptContent, request: StreamRequestLimits): Array<'bitrate' | 'maxViewers' | 'public'> {
  checkObject(receipt, 'receipt');
  checkAllowance(receipt.allowed, 'receipt.allowed');
  checkObject(request, 'request');
  checkInt(request.bitrate, 'request.bitrate', 1, MAX_U32);
  checkInt(request.maxViewers, 'request.maxViewers', 1, MAX_U32);
  checkBoolean(request.public, 'request.public');
  const out: Array<'bitrate' | 'maxViewers' | 'public'> = [];
  if (request.bitrate > receipt.allowed.maxBitrate) out.push('bitrate');
  if (request.maxViewers > receipt.allowed.maxViewers) out.push('maxViewers');
  if (request.public && !receipt.allowed.publicAllowed) out.push('public');
  return out;
}

// ---- the one-time-spend ledger --------------------------------------------------------------

export type LedgerOutcome =
  /** First use: recorded. */
  | 'spent'
  /** Recorded before and not yet expired: refuse the second use. */
  | 'already-spent'
  /** At or past its expiry: it could not be verified any more, so it is not recorded either. */
  | 'expired'
  /** Every slot holds an unexpired entry: refuse (failing closed, never forgetting a live entry). */
  | 'full';

export interface ReceiptLedgerOptions {
  /** Most entries held at once (default 65,536). */
  readonly capacity?: number;
}

export const DEFAULT_LEDGER_CAPACITY = 65_536;

/**
 * Remembers spent 16-byte ids until their documents expire, so each is accepted once (seed 004
 * §8.2: a receipt creates one stream). A landing node spends every verified receipt here before
 * it creates the stream; an oracle can spend puzzle challenge salts the same way (puzzle.ts).
 *
 * An entry lives until the expiry of its document: after that, verification refuses the document
 * anyway ('expired' at now ≥ expiresAt), so forgetting it cannot let it be spent twice. When full
 * of live entries the ledger refuses new ones rather than evict one. Pure: the caller passes the
 * time; the memory is bounded by `capacity`.
 */
export class ReceiptLedger {
  readonly capacity: number;
  private readonly entries = new Map<string, number>();
  /** No entry expires before this time (a lower bound; Infinity when empty). */
  private earliest = Number.POSITIVE_INFINITY;

  constructor(options: ReceiptLedgerOptions = {}) {
    checkObject(options, 'options');
    const capacity = options.capacity ?? DEFAULT_LEDGER_CAPACITY;
    checkInt(capacity, 'options.capacity', 1, 1 << 24);
    this.capacity = capacity;
  }

  /** Entries held, expired ones not yet pruned included. */
  get size(): number {
    return this.entries.size;
  }

  /** Spends a verified receipt at `now`. */
  spend(receipt: VerifiedReceipt, now: number): LedgerOutcome {
    checkObject(receipt, 'receipt');
    return this.spendId(receipt.receiptId, receipt.expiresAt, now);
  }

  /** Spends the 16-byte `id` of a document that expires at `expiresAt`. */
  spendId(id: Uint8Array, expiresAt: number, now: number): LedgerOutcome {
    assertBytes(id, 'id', 16);
    checkTime(expiresAt, 'expiresAt');
    checkTime(now, 'now');
    if (now >= expiresAt) return 'expired';
    const key = toHex(id);
    const held = this.entries.get(key);
    if (held !== undefined && now < held) return 'already-spent';
    if (held !== undefined) this.entries.delete(key);
    if (this.entries.size >= this.capacity) {
      this.prune(now);
      if (this.entries.size >= this.capacity) return 'full';
    }
    this.entries.set(key, expiresAt);
    if (expiresAt < this.earliest) this.earliest = expiresAt;
    return 'spent';
  }

  /** True when `id` is held and unexpired at `now`. */
  has(id: Uint8Array, now: number): boolean {
    assertBytes(id, 'id', 16);
    checkTime(now, 'now');
    const held = this.entries.get(toHex(id));
    return held !== undefined && now < held;
  }

  /** Forgets the entries expired at `now`; returns how many. Cheap when none can have expired. */
  prune(now: number): number {
    checkTime(now, 'now');
    if (now < this.earliest) return 0;
    let removed = 0;
    let earliest = Number.POSITIVE_INFINITY;
    for (const [k, exp] of this.entries) {
      if (now >= exp) {
        this.entries.delete(k);
        removed++;
      } else if (exp < earliest) {
        earliest = exp;
      }
    }
    this.earliest = earliest;
    return removed;
  }
}

// ---- viewer identification IDs --------------------------------------------------------------

export interface IssueViewerIdInput {
  readonly network: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** 16 bytes; drawn from suite.randomBytes when absent. */
  readonly sessionId?: Uint8Array;
}

/**
 * Issues a viewer identification ID as the oracle whose seed is `oracleSecretKey` (seed 004
 * §8.3); the caller has checked a puzzle solution first (puzzle.ts).
 */
export function issueViewerId(suite: CryptoSuite, input: IssueViewerIdInput, oracleSecretKey: Uint8Array): Uint8Array {
  checkObject(input, 'input');
  assertBytes(oracleSecretKey, 'oracleSecretKey', 32);
  const sessionId = input.sessionId ?? suite.randomBytes(SESSION_ID_LENGTH);
  const oracle = suite.ed25519PublicKey(oracleSecretKey);
  const head: Head = { id: sessionId, oracle, network: input.network, issuedAt: input.issuedAt, expiresAt: input.expiresAt };
  checkHead(head, 'input', 'sessionId');
  const w = new Writer();
  writeHead(w, VIEWER_ID_FORMAT, head, 'input');
  return signAs(suite, CONTEXT_VIEWER_ID, w.finish(), oracle, oracleSecretKey);
}

function parseViewerIdParts(bytes: unknown): { claimed: ViewerIdContent; signed: Uint8Array; signature: Uint8Array; bytes: Uint8Array } {
  const what = 'viewer identification ID';
  const r = dec.openBody(bytes, 'bytes', { what, format: VIEWER_ID_FORMAT, maxLength: MAX_VIEWER_ID_LENGTH });
  const input = bytes as Uint8Array;
  const head = readHead(r, what);
  const signedLength = r.offset;
  const signature = r.bytes(64, 'signature').slice();
  dec.expectEnd(r, what);
  const { id, ...rest } = head;
  return { claimed: { sessionId: id, ...rest }, signed: input.slice(0, signedLength), signature, bytes: input.slice() };
}

/** Parses a viewer identification ID (layout only). Throws StreamError. */
export function parseViewerId(bytes: Uint8Array): UnverifiedViewerId {
  checkInput(bytes, 'bytes');
  const p = parseViewerIdParts(bytes);
  return { claimed: p.claimed, bytes: p.bytes };
}

/**
 * Checks a viewer identification ID at `now` (seed 004 §8.3: "Validation requires checking the
 * signature and validity timestamp"; order of checks in the header). Throws StreamError.
 */
export function verifyViewerId(suite: CryptoSuite, unverified: UnverifiedViewerId, now: number, trust: OracleTrust): VerifiedViewerId {
  if (typeof unverified !== 'object' || unverified === null || !(unverified.bytes instanceof Uint8Array)) {
    throw new TypeError('unverified must come from parseViewerId');
  }
  checkTime(now, 'now');
  const t = checkTrust(trust, 'trust');
  const p = parseViewerIdParts(unverified.bytes);
  const c = p.claimed;
  const head: Head = { id: c.sessionId, oracle: c.oracle, network: c.network, issuedAt: c.issuedAt, expiresAt: c.expiresAt };
  verifyHead(suite, head, p.signed, p.signature, CONTEXT_VIEWER_ID, now, t, t.maxTtlMs ?? DEFAULT_VIEWER_ID_MAX_TTL_MS, 'viewer identification ID');
  return { ...c, bytes: p.bytes } as VerifiedViewerId;
}

