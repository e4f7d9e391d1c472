/**
 * The oracle node role of live streams (seed 004 §8.2–8.3; DESIGN §3 "Live streams"), on the
 * node's MessageRouter:
 *
 * event 5000 Oracle — requests whose bodies are stream messages (node-core/stream/messages.ts):
 *   challenge-request  → challenge: a puzzle (puzzle.ts) made with a secret this oracle keeps and
 *                        rotates (the previous secret still checks challenges made before a
 *                        rotation). Rate-limited per circuit and in all ('rate-limited').
 *   solution           → viewer-id: the solution is checked (checkPuzzleSolution at the current
 *                        difficulty) and its challenge spent, so each challenge buys one ID
 *                        ('bad-solution' otherwise); the ID names a random session only.
 *   receipt-request    → receipt (seed 004 §8.2). Only over a circuit of at least two hops (the
 *                        previous hop is a node, so the creator's address stays hidden; a 1-hop
 *                        request gets the error answer Refused, as authority requests do). The
 *                        credential (credential.ts) must verify: addressed to this oracle, fresh,
 *                        a valid access certificate of this network, signed by its subject, asking
 *                        exactly what the request asks ('protocol' otherwise), and not used before
 *                        ('duplicate'). The subject needs a subscription that has not expired —
 *                        or, with options.defaultPlan, no subscription row at all — that allows
 *                        the bitrate, viewers and publicity asked ('not-subscribed',
 *                        'receipt-limits'). The receipt allows exactly what was asked (not the
 *                        plan's limits, which could tell subscribers apart) and names no identity;
 *                        receiptId ↔ identity is recorded in the registry and shared with the other
 *                        oracles before or while the receipt goes out.
 *   usage-report       → empty body when taken (usage.ts has the normalisation rule). A viewer's
 *                        report may come over any circuit; a distribution node's must come from the
 *                        node itself (the previous hop names it; a report from a client is
 *                        'protocol'). Refusals: 'duplicate' (overlap), 'full', 'protocol'.
 *   An undecodable body, or a stream message an oracle does not take, gets the error answer
 *   Malformed; a stopped service answers Unavailable.
 *
 * event 5001 OraclePeer — between oracles, over one-hop node circuits: a signed batch of receipt
 *   records (layout below), checked against network.oracle.oracleKeys and stored as 'shared'.
 *   The answer is an empty body, or the error answer Refused naming the failed check.
 *
 *   oracle peer record (format 1; integers big-endian, times in ms since the Unix epoch)
 *     format     u8 = 1
 *     network    u8 length | 1..32 of [a-z0-9-]
 *     sender     32   the sending oracle's identity key (the issuer of every receipt listed)
 *     sentAt     u64
 *     count      u8   1..MAX_PEER_RECORD_ENTRIES
 *     count ×    receiptId 16 | identity 32 | issuedAt u64 | expiresAt u64 (> issuedAt)
 *     signature  64   Ed25519 by `sender` over SHA-256("PSP-ORACLE-PEER-v1" ‖ every byte above)
 *   Verification: network ('wrong-network'), sender is a configured oracle other than the
 *   verifier ('unknown-oracle'), sentAt within the window around now ('not-yet-valid',
 *   'expired'), signature ('bad-signature'). A replay inside the window only repeats records
 *   the registry already holds ('duplicate').
 *
 * What the oracle learns and logs: a creator's identity with her request (never her address);
 * nothing of a viewer but its session id. Logs carry counts and refusal reasons, never an
 * identity, a receipt id or a key.
 *
 * Does not: verify receipts at landing nodes, or decide rewards from the usage it stores.
 */
import { base58 } from '@scure/base';
import type { CryptoSuite } from '../../crypto/api';
import type { IdentityKeys } from '../../link/handshake';
import { AppEvent, ErrorCode } from '../../message/envelope';
import { HandlerError, type MessageRouter } from '../../message/router';
import type { NodeTarget, Scheduler } from '../../onion/channel';
import type { CircuitClient } from '../../onion/client';
import type { CircuitEndpoint } from '../../onion/relay';
import { CredentialReplayGuard, DEFAULT_CREDENTIAL_WINDOW_MS, parseCredential, verifyCredential, type VerifiedCredential } from '../../stream/credential';
import { StreamError, isStreamError } from '../../stream/errors';
import { decodeStreamMessage, encodeStreamMessage, type RefuseReason, type StreamMessage, type StreamMessageKind, type UsageReport } from '../../stream/messages';
import { DEFAULT_PUZZLE_DIFFICULTY, DEFAULT_PUZZLE_TTL_MS, MAX_PUZZLE_DIFFICULTY, PUZZLE_SECRET_LENGTH, checkPuzzleSolution, makePuzzleChallenge } from '../../stream/puzzle';
import {
  DEFAULT_RECEIPT_MAX_TTL_MS,
  DEFAULT_VIEWER_ID_MAX_TTL_MS,
  RECEIPT_ID_LENGTH,
  ReceiptLedger,
  issueReceipt,
  issueViewerId,
  parseReceipt,
} from '../../stream/receipt';
import { UsageLedger, type NormalisedUsage, type UsageRefusal } from '../../stream/usage';
import { Writer, assertBytes, concatBytes, equalBytes, toHex, utf8 } from '../../util/bytes';
import { NETWORK_FIELD, checkAscii, checkKeyList, checkTime, decoders, writeAscii } from '../../util/codec';
import { TokenBucket } from '../../util/token-bucket';
import { NodeCircuits } from '../client/oracle-client';
import type { NetworkConfig } from '../client/network';
import { type Logger, silentLogger } from '../log';
import { checkPlan, type SubscriptionPlan, type SubscriptionRegistry } from '../storage/subscription-registry';

// ---- the peer record --------------------------------------------------------------------------

export const ORACLE_PEER_RECORD_FORMAT = 1;
export const CONTEXT_ORACLE_PEER = 'PSP-ORACLE-PEER-v1';
export const MAX_PEER_RECORD_ENTRIES = 64;
const PEER_ENTRY_LENGTH = RECEIPT_ID_LENGTH + 32 + 8 + 8;
export const MAX_PEER_RECORD_LENGTH = 1 + 1 + NETWORK_FIELD.max + 32 + 8 + 1 + MAX_PEER_RECORD_ENTRIES * PEER_ENTRY_LENGTH + 64;
/** How far a peer record's sentAt may lie from the receiver's clock (default). */
export const DEFAULT_PEER_WINDOW_MS = 5 * 60 * 1000;

const dec = decoders((code, message) => new StreamError(code, message));

/** receiptId ↔ identity, as one oracle tells the others. */
export interface SharedReceipt {
  readonly receiptId: Uint8Array;
  readonly identity: Uint8Array;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export interface OraclePeerRecord {
  readonly network: string;
  readonly sender: Uint8Array;
  readonly sentAt: number;
  readonly receipts: readonly SharedReceipt[];
}

export interface UnverifiedOraclePeerRecord {
  /** Nothing here is trustworthy until verifyOraclePeerRecord. */
  readonly claimed: OraclePeerRecord;
  readonly bytes: Uint8Array;
}

declare const verifiedPeerRecordBrand: unique symbol;

export interface VerifiedOraclePeerRecord extends OraclePeerRecord {
  readonly [verifiedPeerRecordBrand]: true;
}

export interface OraclePeerTrust {
  readonly network: string;
  readonly oracleKeys: readonly Uint8Array[];
  /** The verifier's own key: a record it "sent" itself is refused. */
  readonly self: Uint8Array;
  /** Default DEFAULT_PEER_WINDOW_MS. */
  readonly windowMs?: number;
}

function digestOf(suite: CryptoSuite, signed: Uint8Array): Uint8Array {
  return suite.sha256(concatBytes(utf8(CONTEXT_ORACLE_PEER), signed));
}

/** Signs a peer record as the oracle whose 32-byte seed is `secretKey`. */
export function encodeOraclePeerRecord(suite: CryptoSuite, record: Omit<OraclePeerRecord, 'sender'>, secretKey: Uint8Array): Uint8Array {
  if (typeof record !== 'object' || record === null) throw new TypeError('record must be an object');
  assertBytes(secretKey, 'secretKey', 32);
  checkAscii(record.network, NETWORK_FIELD, 'record.network');
  checkTime(record.sentAt, 'record.sentAt');
  if (!Array.isArray(record.receipts) || record.receipts.length < 1 || record.receipts.length > MAX_PEER_RECORD_ENTRIES) {
    throw new RangeError(`record.receipts must be an array of 1..${MAX_PEER_RECORD_ENTRIES} entries`);
  }
  const sender = suite.ed25519PublicKey(secretKey);
  const w = new Writer().u8(ORACLE_PEER_RECORD_FORMAT);
  writeAscii(w, record.network, NETWORK_FIELD, 'record.network');
  w.bytes(sender).u64(BigInt(record.sentAt)).u8(record.receipts.length);
  record.receipts.forEach((r: SharedReceipt, i) => {
    const name = `record.receipts[${i}]`;
    if (typeof r !== 'object' || r === null) throw new TypeError(`${name} must be an object`);
    assertBytes(r.receiptId, `${name}.receiptId`, RECEIPT_ID_LENGTH);
    assertBytes(r.identity, `${name}.identity`, 32);
    checkTime(r.issuedAt, `${name}.issuedAt`);
    checkTime(r.expiresAt, `${name}.expiresAt`);
    if (r.expiresAt <= r.issuedAt) throw new RangeError(`${name}.expiresAt must be after ${name}.issuedAt`);
    w.bytes(r.receiptId).bytes(r.identity).u64(BigInt(r.issuedAt)).u64(BigInt(r.expiresAt));
  });
  const signed = w.finish();
  return concatBytes(signed, suite.ed25519Sign(digestOf(suite, signed), secretKey));
}

function parsePeerParts(bytes: unknown): { claimed: OraclePeerRecord; signed: Uint8Array; signature: Uint8Array } {
  const what = 'oracle peer record';
  const r = dec.openBody(bytes, 'bytes', { what, format: ORACLE_PEER_RECORD_FORMAT, maxLength: MAX_PEER_RECORD_LENGTH });
  const input = bytes as Uint8Array;
  const network = dec.readAscii(r, NETWORK_FIELD, `${what} network`);
  const sender = r.bytes(32, 'sender').slice();
  const sentAt = dec.readTime(r, 'sentAt');
  const count = r.u8('count');
  if (count < 1 || count > MAX_PEER_RECORD_ENTRIES) throw new StreamError('malformed', `${what}: ${count} entries, 1..${MAX_PEER_RECORD_ENTRIES} allowed`);
  const receipts: SharedReceipt[] = [];
  for (let i = 0; i < count; i++) {
    const receiptId = r.bytes(RECEIPT_ID_LENGTH, `entry ${i} receiptId`).slice();
    const identity = r.bytes(32, `entry ${i} identity`).slice();
    const issuedAt = dec.readTime(r, `entry ${i} issuedAt`);
    const expiresAt = dec.readTime(r, `entry ${i} expiresAt`);
    if (expiresAt <= issuedAt) throw new StreamError('malformed', `${what}: entry ${i} expires before it is issued`);
    receipts.push({ receiptId, identity, issuedAt, expiresAt });
  }
  const signedLength = r.offset;
  const signature = r.bytes(64, 'signature').slice();
  dec.expectEnd(r, what);
  return { claimed: { network, sender, sentAt, receipts }, signed: input.slice(0, signedLength), signature };
}

/** Parses a peer record (layout only). Throws StreamError. */
export function parseOraclePeerRecord(bytes: Uint8Array): UnverifiedOraclePeerRecord {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  return { claimed: parsePeerParts(bytes).claimed, bytes: bytes.slice() };
}

/** Checks a peer record at `now` (order of checks in the header). Throws StreamError. */
export function verifyOraclePeerRecord(
  suite: CryptoSuite,
  unverified: UnverifiedOraclePeerRecord,
  now: number,
  trust: OraclePeerTrust,
): VerifiedOraclePeerRecord {
  if (typeof unverified !== 'object' || unverified === null || !(unverified.bytes instanceof Uint8Array)) {
    throw new TypeError('unverified must come from parseOraclePeerRecord');
  }
  checkTime(now, 'now');
  if (typeof trust !== 'object' || trust === null) throw new TypeError('trust must be an object');
  checkAscii(trust.network, NETWORK_FIELD, 'trust.network');
  const keys = checkKeyList(trust.oracleKeys, 'trust.oracleKeys', { nonEmpty: true });
  assertBytes(trust.self, 'trust.self', 32);
  const windowMs = trust.windowMs ?? DEFAULT_PEER_WINDOW_MS;
  checkTime(windowMs, 'trust.windowMs');
  const p = parsePeerParts(unverified.bytes);
  const c = p.claimed;
  if (c.network !== trust.network) throw new StreamError('wrong-network', `oracle peer record is for network ${c.network}, not ${trust.network}`);
  if (equalBytes(c.sender, trust.self) || !keys.some((k) => equalBytes(k, c.sender))) {
    throw new StreamError('unknown-oracle', 'oracle peer record is not from another configured oracle');
  }
  if (c.sentAt > now + windowMs) throw new StreamError('not-yet-valid', `oracle peer record sent at ${c.sentAt}, ahead of ${now} by more than ${windowMs} ms`);
  if (c.sentAt + windowMs <= now) throw new StreamError('expired', `oracle peer record sent at ${c.sentAt} is older than ${windowMs} ms`);
  if (!suite.ed25519Verify(p.signature, digestOf(suite, p.signed), c.sender)) {
    throw new StreamError('bad-signature', 'oracle peer record signature does not verify with the sender key');
  }
  return c as VerifiedOraclePeerRecord;
}

// ---- the service ------------------------------------------------------------------------------

/** What the service registers on the router. */
export type OracleRouter = Pick<MessageRouter, 'handle' | 'onClosed'>;

export interface OracleOptions {
  /** The plan of an identity with a valid certificate and no subscription row (devnets); null: none (default). */
  readonly defaultPlan?: SubscriptionPlan | null;
  /** Lifetime of a receipt, 1..DEFAULT_RECEIPT_MAX_TTL_MS (default 10 minutes). */
  readonly receiptTtlMs?: number;
  /** Lifetime of a viewer identification ID, 1..DEFAULT_VIEWER_ID_MAX_TTL_MS (default 1 hour). */
  readonly viewerIdTtlMs?: number;
  /** Leading zero bits a puzzle asks (default DEFAULT_PUZZLE_DIFFICULTY). */
  readonly puzzleDifficulty?: number;
  /** How long a challenge may be answered (default 2 minutes). */
  readonly puzzleTtlMs?: number;
  /** How often the puzzle secret changes, at least puzzleTtlMs (default 10 minutes). */
  readonly puzzleSecretRotationMs?: number;
  /** Highest rate a viewer session may be credited with, in bits per second (default 50 Mbit/s). */
  readonly maxUsageRateBps?: number;
  /** The usage period grid (default 60 s); reporters' periods must divide it. */
  readonly usagePeriodMs?: number;
  /** How far a credential's time may lie from the clock (default DEFAULT_CREDENTIAL_WINDOW_MS). */
  readonly credentialWindowMs?: number;
  /** Challenge requests per circuit: rate per second and burst (default 0.2/s, burst 3). */
  readonly challengesPerCircuit?: { readonly rate: number; readonly burst: number };
  /** Challenge requests in all: rate per second and burst (default 50/s, burst 100). */
  readonly challengesInAll?: { readonly rate: number; readonly burst: number };
  /** How often usage is finalised, secrets rotated and caches pruned (default 5 s). */
  readonly housekeepingMs?: number;
}

export interface OracleServiceOptions {
  readonly suite: CryptoSuite;
  /** The node's identity keys: receipts and viewer IDs are signed with them. */
  readonly identity: IdentityKeys;
  /** Needs `oracle` (naming this node) and `authority` (to check access certificates). */
  readonly network: NetworkConfig;
  readonly router: OracleRouter;
  /** The node's circuit client, for one-hop circuits to the other oracles. */
  readonly client: CircuitClient;
  readonly log?: Logger;
  readonly registry: SubscriptionRegistry;
  readonly options?: OracleOptions;
  /** Clock and timers (default: the client's). */
  readonly scheduler?: Scheduler;
  /** The other oracles with current onion keys (default: network.oracle.oracles without this node). */
  readonly peers?: () => NodeTarget[];
}

/** The stream messages an oracle takes. */
const ORACLE_REQUESTS: readonly StreamMessageKind[] = ['challenge-request', 'solution', 'receipt-request', 'usage-report'];
const MAX_TRACKED_CIRCUITS = 10_000;
const MAX_OUTBOX = 10_000;
const MAX_UNSAVED_USAGE = 100_000;

function refused(reason: RefuseReason): Uint8Array {
  return encodeStreamMessage({ type: 'refused', reason, streamId: null });
}

function checkRate(v: unknown, name: string): { rate: number; burst: number } {
  if (typeof v !== 'object' || v === null) throw new TypeError(`${name} must be an object`);
  const x = v as { rate: unknown; burst: unknown };
  if (typeof x.rate !== 'number' || !(x.rate > 0) || !Number.isFinite(x.rate)) throw new RangeError(`${name}.rate must be a positive number`);
  if (typeof x.burst !== 'number' || !(x.burst >= 1) || !Number.isFinite(x.burst)) throw new RangeError(`${name}.burst must be at least 1`);
  return { rate: x.rate, burst: x.burst };
}

function checkMs(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be an integer ${min}..${max} (ms), got ${String(v)}`);
  return v;
}

const USAGE_REFUSALS: Readonly<Record<UsageRefusal, RefuseReason>> = {
  overlap: 'duplicate',
  full: 'full',
  'wrong-role': 'protocol',
  'bad-period': 'protocol',
  future: 'protocol',
  late: 'protocol',
};

interface Outbox {
  readonly queue: SharedReceipt[];
  inFlight: boolean;
  failures: number;
  timer: { cancel(): void } | null;
}

export class OracleService {
  readonly publicKey: Uint8Array;
  readonly usage: UsageLedger;
  private readonly suite: CryptoSuite;
  private readonly secretKey: Uint8Array;
  private readonly network: NetworkConfig;
  private readonly oracleKeys: Uint8Array[];
  private readonly authority: { authorityKeys: Uint8Array[]; threshold: number };
  private readonly registry: SubscriptionRegistry;
  private readonly scheduler: Scheduler;
  private readonly log: Logger;
  private readonly peers: () => NodeTarget[];
  private readonly circuits: NodeCircuits;
  private readonly defaultPlan: SubscriptionPlan | null;
  private readonly receiptTtlMs: number;
  private readonly viewerIdTtlMs: number;
  private readonly puzzleDifficulty: number;
  private readonly puzzleTtlMs: number;
  private readonly rotationMs: number;
  private readonly credentialWindowMs: number;
  private readonly perCircuit: { rate: number; burst: number };
  private readonly housekeepingMs: number;
  private readonly replays: CredentialReplayGuard;
  /** Spent puzzle salts. */
  private readonly solved = new ReceiptLedger();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly allChallenges: TokenBucket;
  /** [current, previous] puzzle secrets. */
  private secrets: [Uint8Array, Uint8Array | null];
  private rotatedAt: number;
  private readonly outboxes = new Map<string, Outbox>();
  private unsavedUsage: NormalisedUsage[] = [];
  private savingUsage = false;
  private timer: { cancel(): void } | null = null;
  private stopped = false;

  constructor(o: OracleServiceOptions) {
    if (typeof o !== 'object' || o === null) throw new TypeError('options must be an object');
    if (typeof o.suite !== 'object' || o.suite === null) throw new TypeError('options.suite must be a CryptoSuite');
    if (typeof o.identity !== 'object' || o.identity === null) throw new TypeError('options.identity must be IdentityKeys');
    assertBytes(o.identity.secretKey, 'options.identity.secretKey', 32);
    assertBytes(o.identity.publicKey, 'options.identity.publicKey', 32);
    if (typeof o.network !== 'object' || o.network === null) throw new TypeError('options.network must be a NetworkConfig');
    if (typeof o.router !== 'object' || o.router === null || typeof o.router.handle !== 'function') throw new TypeError('options.router must be a MessageRouter');
    if (typeof o.client !== 'object' || o.client === null) throw new TypeError('options.client must be a CircuitClient');
    const reg = o.registry as Partial<SubscriptionRegistry> | null;
    if (typeof reg !== 'object' || reg === null || typeof reg.getSubscription !== 'function' || typeof reg.recordReceipt !== 'function') {
      throw new TypeError('options.registry must be a SubscriptionRegistry');
    }
    if (o.peers !== undefined && typeof o.peers !== 'function') throw new TypeError('options.peers must be a function');
    const opts = o.options ?? {};
    if (typeof opts !== 'object' || opts === null) throw new TypeError('options.options must be an object');
    this.suite = o.suite;
    if (!equalBytes(o.suite.ed25519PublicKey(o.identity.secretKey), o.identity.publicKey)) throw new RangeError('options.identity keys do not belong together');
    checkAscii(o.network.network, NETWORK_FIELD, 'options.network.network');
    const oracle = o.network.oracle;
    if (!oracle) throw new RangeError('options.network names no oracle node (role "oracle")');
    this.oracleKeys = checkKeyList(oracle.oracleKeys, 'options.network.oracle.oracleKeys', { nonEmpty: true });
    if (!this.oracleKeys.some((k) => equalBytes(k, o.identity.publicKey))) {
      throw new RangeError('this node is not one of options.network.oracle.oracleKeys: nobody would accept its receipts');
    }
    const authority = o.network.authority;
    if (!authority) throw new RangeError('options.network has no authority section: access certificates could not be checked');
    this.authority = { authorityKeys: authority.authorityKeys, threshold: authority.threshold };

    this.defaultPlan = opts.defaultPlan == null ? null : checkPlan(opts.defaultPlan, 'options.options.defaultPlan');
    this.receiptTtlMs = checkMs(opts.receiptTtlMs ?? 10 * 60_000, 'options.options.receiptTtlMs', 1, DEFAULT_RECEIPT_MAX_TTL_MS);
    this.viewerIdTtlMs = checkMs(opts.viewerIdTtlMs ?? 60 * 60_000, 'options.options.viewerIdTtlMs', 1, DEFAULT_VIEWER_ID_MAX_TTL_MS);
    const difficulty = opts.puzzleDifficulty ?? DEFAULT_PUZZLE_DIFFICULTY;
    if (!Number.isInteger(difficulty) || difficulty < 1 || difficulty > MAX_PUZZLE_DIFFICULTY) {
      throw new RangeError(`options.options.puzzleDifficulty must be an integer 1..${MAX_PUZZLE_DIFFICULTY} (bits), got ${String(difficulty)}`);
    }
    this.puzzleDifficulty = difficulty;
    this.puzzleTtlMs = checkMs(opts.puzzleTtlMs ?? DEFAULT_PUZZLE_TTL_MS, 'options.options.puzzleTtlMs', 1000, 60 * 60_000);
    this.rotationMs = checkMs(opts.puzzleSecretRotationMs ?? 10 * 60_000, 'options.options.puzzleSecretRotationMs', this.puzzleTtlMs, 24 * 60 * 60_000);
    this.credentialWindowMs = checkMs(opts.credentialWindowMs ?? DEFAULT_CREDENTIAL_WINDOW_MS, 'options.options.credentialWindowMs', 1000, 60 * 60_000);
    this.perCircuit = checkRate(opts.challengesPerCircuit ?? { rate: 0.2, burst: 3 }, 'options.options.challengesPerCircuit');
    const inAll = checkRate(opts.challengesInAll ?? { rate: 50, burst: 100 }, 'options.options.challengesInAll');
    this.housekeepingMs = checkMs(opts.housekeepingMs ?? 5000, 'options.options.housekeepingMs', 10, 60 * 60_000);
    this.usage = new UsageLedger({ periodMs: opts.usagePeriodMs ?? 60_000, maxRateBps: opts.maxUsageRateBps ?? 50_000_000 });

    this.secretKey = o.identity.secretKey;
    this.publicKey = o.identity.publicKey.slice();
    this.network = o.network;
    this.registry = o.registry;
    this.scheduler = o.scheduler ?? o.client.scheduler;
    this.log = o.log ?? silentLogger();
    this.peers = o.peers ?? (() => oracle.oracles.filter((n) => !equalBytes(n.identity, this.publicKey)));
    this.circuits = new NodeCircuits(o.client, this.scheduler);
    this.replays = new CredentialReplayGuard(o.suite, { windowMs: this.credentialWindowMs });
    const now = this.scheduler.now();
    this.allChallenges = new TokenBucket(inAll.rate, inAll.burst, now);
    this.secrets = [o.suite.randomBytes(PUZZLE_SECRET_LENGTH), null];
    this.rotatedAt = now;

    o.router.handle(AppEvent.Oracle, (body, { endpoint }) => this.onRequest(body, endpoint));
    o.router.handle(AppEvent.OraclePeer, (body) => this.onPeer(body));
    o.router.onClosed((endpoint) => this.buckets.delete(endpoint.key));
  }

  /** Starts the housekeeping timer (usage finalisation, secret rotation, pruning). */
  start(): void {
    if (this.stopped || this.timer !== null) return;
    this.schedule();
  }

  /**
   * Stops: handlers answer Unavailable from now on, timers stop, circuits to the other oracles
   * close. Usage slots that closed are saved; slots still open are dropped (their reports are
   * incomplete). Receipt records not yet shared stay unshared.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    for (const box of this.outboxes.values()) box.timer?.cancel();
    this.circuits.closeAll();
    this.unsavedUsage.push(...this.usage.finalize(this.scheduler.now()));
    const open = this.usage.finalizeAll().length;
    if (open > 0) this.log.info({ dropped: open }, 'oracle stopping: usage slots still open were dropped');
    await this.saveUsage();
    for (const s of this.secrets) s?.fill(0);
  }

  /** The identity key a receipt was issued to, by this oracle or a peer, if known here. */
  async identityOfReceipt(receiptId: Uint8Array): Promise<Uint8Array | undefined> {
    assertBytes(receiptId, 'receiptId', RECEIPT_ID_LENGTH);
    return (await this.registry.getReceipt(receiptId))?.identity;
  }

  // ---- requests -------------------------------------------------------------------------------

  private async onRequest(body: Uint8Array, endpoint: CircuitEndpoint): Promise<Uint8Array> {
    if (this.stopped) throw new HandlerError(ErrorCode.Unavailable, 'oracle service stopped');
    let m: StreamMessage;
    try {
      m = decodeStreamMessage(body, ORACLE_REQUESTS);
    } catch (e) {
      if (isStreamError(e)) throw new HandlerError(ErrorCode.Malformed, e.message);
      throw e;
    }
    const now = this.scheduler.now();
    switch (m.type) {
      case 'challenge-request':
        return this.challenge(endpoint, now);
      case 'solution':
        return this.solution(m.challenge, m.nonce, now);
      case 'receipt-request':
        return this.receipt(m, endpoint, now);
      case 'usage-report':
        return this.report(m, endpoint, now);
      default:
        throw new HandlerError(ErrorCode.Malformed, `${m.type} is not an oracle request`);
    }
  }

  private challenge(endpoint: CircuitEndpoint, now: number): Uint8Array {
    let bucket = this.buckets.get(endpoint.key);
    if (bucket === undefined) {
      if (this.buckets.size >= MAX_TRACKED_CIRCUITS) this.pruneBuckets(now);
      if (this.buckets.size >= MAX_TRACKED_CIRCUITS) return refused('rate-limited');
      bucket = new TokenBucket(this.perCircuit.rate, this.perCircuit.burst, now);
      this.buckets.set(endpoint.key, bucket);
    }
    // Per circuit first, so one circuit's flood does not use up the shared budget.
    if (!bucket.take(now) || !this.allChallenges.take(now)) return refused('rate-limited');
    this.rotateIfDue(now);
    const challenge = makePuzzleChallenge(this.suite, this.secrets[0], { difficulty: this.puzzleDifficulty, now, ttlMs: this.puzzleTtlMs });
    return encodeStreamMessage({ type: 'challenge', challenge });
  }

  private solution(challenge: Uint8Array, nonce: bigint, now: number): Uint8Array {
    this.rotateIfDue(now);
    let checked;
    try {
      checked = this.checkSolution(this.secrets[0], challenge, nonce, now);
    } catch (e) {
      const previous = this.secrets[1];
      if (!isStreamError(e, 'bad-challenge') || previous === null) return this.badSolution(e);
      try {
        checked = this.checkSolution(previous, challenge, nonce, now);
      } catch (e2) {
        return this.badSolution(e2);
      }
    }
    // One challenge, one ID (seed 004 §8.3: the puzzle is what an ID costs).
    const spent = this.solved.spendId(checked.salt, checked.expiresAt, now);
    if (spent === 'full') return refused('full');
    if (spent !== 'spent') return refused('bad-solution');
    const viewerId = issueViewerId(this.suite, { network: this.network.network, issuedAt: now, expiresAt: now + this.viewerIdTtlMs }, this.secretKey);
    return encodeStreamMessage({ type: 'viewer-id', viewerId });
  }

  private checkSolution(secret: Uint8Array, challenge: Uint8Array, nonce: bigint, now: number) {
    return checkPuzzleSolution(this.suite, secret, challenge, nonce, now, { minDifficulty: this.puzzleDifficulty });
  }

  private badSolution(e: unknown): Uint8Array {
    if (!isStreamError(e)) throw e;
    this.log.debug({ code: e.code }, 'puzzle solution refused');
    return refused('bad-solution');
  }

  private async receipt(m: Extract<StreamMessage, { type: 'receipt-request' }>, endpoint: CircuitEndpoint, now: number): Promise<Uint8Array> {
    // seed 004 §8.2: the oracle learns who asks, never from where (cf. the authority in node.ts).
    if (endpoint.prevIdentity === null) {
      throw new HandlerError(ErrorCode.Refused, 'receipt requests must arrive over a circuit of at least two hops');
    }
    let cred: VerifiedCredential;
    try {
      cred = verifyCredential(this.suite, parseCredential(m.credential), now, {
        network: this.network.network,
        oracle: this.publicKey,
        authority: this.authority,
        windowMs: this.credentialWindowMs,
      });
    } catch (e) {
      if (!isStreamError(e)) throw e;
      this.log.debug({ code: e.code }, 'receipt request refused: credential');
      return refused('protocol');
    }
    const r = cred.request;
    if (r.bitrate !== m.params.bitrate || r.maxViewers !== m.params.maxViewers || r.public !== m.public) {
      this.log.debug('receipt request refused: the credential signs other parameters');
      return refused('protocol');
    }
    const sub = await this.registry.getSubscription(cred.subject);
    if (this.stopped) throw new HandlerError(ErrorCode.Unavailable, 'oracle service stopped');
    const plan: SubscriptionPlan | null = sub === undefined ? this.defaultPlan : sub.expiresAt > now ? sub : null;
    if (plan === null) return refused('not-subscribed');
    if (r.bitrate > plan.maxBitrate || r.maxViewers > plan.maxViewers || (r.public && !plan.publicAllowed)) return refused('receipt-limits');
    // Recorded only now, after every other check and with no await since the registry answered,
    // so two copies of one credential cannot both pass.
    const spent = this.replays.spend(cred, now);
    if (spent === 'already-spent') return refused('duplicate');
    if (spent === 'full') return refused('full');
    if (spent === 'expired') return refused('protocol');
    const receipt = issueReceipt(
      this.suite,
      {
        network: this.network.network,
        issuedAt: now,
        expiresAt: now + this.receiptTtlMs,
        allowed: { maxBitrate: r.bitrate, maxViewers: r.maxViewers, publicAllowed: r.public },
      },
      this.secretKey,
    );
    const claimed = parseReceipt(receipt).claimed;
    const shared: SharedReceipt = { receiptId: claimed.receiptId, identity: cred.subject, issuedAt: claimed.issuedAt, expiresAt: claimed.expiresAt };
    const outcome = await this.registry.recordReceipt({ ...shared, oracle: this.publicKey, source: 'own' }, now);
    if (outcome !== 'recorded') throw new Error(`a fresh receipt id was already recorded (${outcome})`);
    this.share(shared);
    this.log.debug('receipt issued');
    return encodeStreamMessage({ type: 'receipt', receipt });
  }

  private report(m: UsageReport, endpoint: CircuitEndpoint, now: number): Uint8Array {
    const node = endpoint.prevIdentity;
    if (m.role === 'distribution' && node === null) return refused('protocol');
    const source = m.role === 'viewer' ? ({ role: 'viewer' } as const) : ({ role: 'distribution', node: node! } as const);
    const r = this.usage.submit(m, source, now);
    if (r.ok) return new Uint8Array(0);
    this.log.debug({ reason: r.reason }, 'usage report refused');
    return refused(USAGE_REFUSALS[r.reason]);
  }

  // ---- between oracles ------------------------------------------------------------------------

  private async onPeer(body: Uint8Array): Promise<Uint8Array> {
    if (this.stopped) throw new HandlerError(ErrorCode.Unavailable, 'oracle service stopped');
    let rec: VerifiedOraclePeerRecord;
    try {
      rec = verifyOraclePeerRecord(this.suite, parseOraclePeerRecord(body), this.scheduler.now(), {
        network: this.network.network,
        oracleKeys: this.oracleKeys,
        self: this.publicKey,
      });
    } catch (e) {
      if (!isStreamError(e)) throw e;
      this.log.warn({ code: e.code }, 'oracle peer record refused');
      throw new HandlerError(e.code === 'malformed' || e.code === 'unsupported-version' ? ErrorCode.Malformed : ErrorCode.Refused, e.message);
    }
    const now = this.scheduler.now();
    let conflicts = 0;
    for (const s of rec.receipts) {
      const outcome = await this.registry.recordReceipt({ ...s, oracle: rec.sender, source: 'shared' }, now);
      if (outcome === 'conflict') conflicts++;
    }
    if (conflicts > 0) this.log.warn({ conflicts, from: base58.encode(rec.sender) }, 'shared receipt ids conflict with records held here; the first kept');
    return new Uint8Array(0);
  }

  /** Queues a receipt record for every other oracle and sends soon. */
  private share(record: SharedReceipt): void {
    for (const peer of this.peers()) {
      const k = toHex(peer.identity);
      let box = this.outboxes.get(k);
      if (box === undefined) {
        box = { queue: [], inFlight: false, failures: 0, timer: null };
        this.outboxes.set(k, box);
      }
      if (box.queue.length >= MAX_OUTBOX) {
        box.queue.shift();
        this.log.warn({ peer: base58.encode(peer.identity) }, 'receipt records for an unreachable oracle dropped');
      }
      box.queue.push(record);
      this.flushLater(k, box, 0);
    }
  }

  private flushLater(k: string, box: Outbox, ms: number): void {
    if (this.stopped || box.inFlight || box.timer !== null) return;
    box.timer = this.scheduler.setTimeout(() => {
      box.timer = null;
      this.flush(k, box);
    }, ms);
  }

  private flush(k: string, box: Outbox): void {
    if (this.stopped || box.inFlight || box.queue.length === 0) return;
    const target = this.peers().find((p) => toHex(p.identity) === k);
    if (target === undefined) {
      this.outboxes.delete(k); // no longer an oracle of the network
      return;
    }
    const batch = box.queue.slice(0, MAX_PEER_RECORD_ENTRIES);
    const body = encodeOraclePeerRecord(this.suite, { network: this.network.network, sentAt: this.scheduler.now(), receipts: batch }, this.secretKey);
    box.inFlight = true;
    this.circuits.request(target, AppEvent.OraclePeer, body).then(
      () => {
        box.inFlight = false;
        box.failures = 0;
        box.queue.splice(0, batch.length);
        if (box.queue.length > 0) this.flushLater(k, box, 0);
      },
      (e: Error) => {
        box.inFlight = false;
        box.failures++;
        this.log.debug({ peer: base58.encode(target.identity), err: e.message }, 'receipt records not shared yet');
        this.flushLater(k, box, Math.min(60_000, 1000 * 2 ** Math.min(box.failures, 6)));
      },
    );
  }

  // ---- housekeeping ---------------------------------------------------------------------------

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.scheduler.setTimeout(() => {
      this.timer = null;
      this.housekeeping();
      this.schedule();
    }, this.housekeepingMs);
  }

  private housekeeping(): void {
    const now = this.scheduler.now();
    this.rotateIfDue(now);
    this.solved.prune(now);
    this.replays.prune(now);
    this.pruneBuckets(now);
    const closed = this.usage.finalize(now);
    if (closed.length > 0) {
      this.unsavedUsage.push(...closed);
      if (this.unsavedUsage.length > MAX_UNSAVED_USAGE) {
        const lost = this.unsavedUsage.length - MAX_UNSAVED_USAGE;
        this.unsavedUsage.splice(0, lost);
        this.log.error({ lost }, 'normalised usage could not be saved and was dropped');
      }
    }
    void this.saveUsage();
  }

  private async saveUsage(): Promise<void> {
    if (this.savingUsage || this.unsavedUsage.length === 0) return;
    this.savingUsage = true;
    const batch = this.unsavedUsage.slice();
    try {
      await this.registry.recordUsage(batch, this.scheduler.now());
      this.unsavedUsage.splice(0, batch.length);
    } catch (e) {
      this.log.error({ err: (e as Error).message, slots: batch.length }, 'normalised usage not saved; retrying');
    } finally {
      this.savingUsage = false;
    }
  }

  /** Buckets that are full again belong to circuits that have been quiet: forget them. */
  private pruneBuckets(now: number): void {
    for (const [k, b] of this.buckets) if (b.available(now) >= this.perCircuit.burst) this.buckets.delete(k);
  }

  private rotateIfDue(now: number): void {
    if (now - this.rotatedAt < this.rotationMs) return;
    this.secrets[1]?.fill(0);
    this.secrets = [this.suite.randomBytes(PUZZLE_SECRET_LENGTH), this.secrets[0]];
    this.rotatedAt = now;
  }
}
