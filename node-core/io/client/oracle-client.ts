/**
 * Talking to oracle nodes (seed 004 §8.2–8.3; DESIGN §3 "Live streams"; the oracle's side is
 * node-core/io/node/oracle-service.ts, the messages node-core/stream/messages.ts 0x31, 0x50–0x55):
 *
 * - requestReceipt: a creator asks an oracle for an anonymous stream-creation receipt over a
 *   3-hop circuit ending at the oracle (so the oracle learns her identity, never her address),
 *   with a credential (node-core/stream/credential.ts) made for that oracle from her access
 *   certificate. The oracle must not be one of her entry guards: the guard sees her address, so
 *   it must not also be the node that learns her identity. The receipt is verified (signed by
 *   that oracle, for this network, fresh, allowing what was asked) before it is returned;
 *   another oracle is tried on any failure.
 * - requestViewerId: a viewer asks for a challenge, solves the puzzle and gets a viewer
 *   identification ID, over a 3-hop circuit (guards avoided when another oracle exists).
 * - reportViewerUsage: a viewer reports the traffic of its session over a 3-hop circuit.
 * - UsageReporter: a distribution node adds up the traffic of each viewer session it serves
 *   and, when a period of the grid ends, reports it to an oracle over a one-hop node circuit
 *   (the oracle names the reporting node by the authenticated link).
 *
 * The functions taking a ClientSession are thin: the work is in the `…Via` functions, which take
 * an OracleAccess (which oracles, how to open a route to one, the clock), so tests run them over
 * an in-memory network.
 */
import { shuffled } from '../../util/shuffle';
import { base58 } from '@scure/base';
import type { CryptoSuite } from '../../crypto/api';
import { AppEvent } from '../../message/envelope';
import { CircuitRpc } from '../../message/rpc';
import type { NodeTarget, Scheduler } from '../../onion/channel';
import type { CircuitClient } from '../../onion/client';
import { createCredential } from '../../stream/credential';
import { decodeStreamMessage, encodeStreamMessage, type RefuseReason, type StreamMessage, type UsageReport, type UsageRole } from '../../stream/messages';
import { parsePuzzleChallenge, solvePuzzle } from '../../stream/puzzle';
import { SESSION_ID_LENGTH, parseReceipt, parseViewerId, receiptShortfall, verifyReceipt, verifyViewerId, type OracleTrust } from '../../stream/receipt';
import { assertBytes, equalBytes, toHex } from '../../util/bytes';
import { type Logger, silentLogger } from '../log';
import { realScheduler } from '../onion/runtime';
import type { ClientIdentity, ClientSession } from './session';

/** How long one request to an oracle may take. */
export const ORACLE_REQUEST_TIMEOUT_MS = 15_000;
/** The hardest puzzle a client agrees to solve (2^24 hashes on average). */
export const MAX_ACCEPTED_PUZZLE_DIFFICULTY = 24;
const MAX_U32 = 0xffffffff;

// ---- access to oracles ------------------------------------------------------------------------

/** One route to one oracle: request/response over it, then close. */
export interface OracleRoute {
  request(body: Uint8Array): Promise<Uint8Array>;
  close(): void;
}

/** Which oracles exist, how to reach one, and the clock: what the `…Via` functions need. */
export interface OracleAccess {
  readonly suite: CryptoSuite;
  /** The network and its oracle keys (what receipts and viewer IDs must be signed by). */
  readonly trust: OracleTrust;
  now(): number;
  /**
   * Oracles to try, in order. With `avoidGuards`, never one of the client's entry guards; without,
   * guards last.
   */
  oracles(avoidGuards: boolean): NodeTarget[];
  /** A 3-hop route ending at `oracle`. */
  open(oracle: NodeTarget): Promise<OracleRoute>;
}

/** One oracle tried, and what went wrong with it. */
export interface OracleAttempt {
  /** base58 identity key of the oracle. */
  readonly oracle: string;
  readonly problem: string;
  /** When the oracle answered `refused`: its reason. */
  readonly refused?: RefuseReason;
}

/** No oracle gave what was asked; `attempts` says what each one did. */
export class OracleRequestError extends Error {
  override readonly name = 'OracleRequestError';
  constructor(
    message: string,
    readonly attempts: readonly OracleAttempt[],
  ) {
    super(attempts.length === 0 ? message : `${message} (${attempts.map((a) => `${a.oracle.slice(0, 8)}: ${a.problem}`).join('; ')})`);
  }
}

/** An oracle answered `refused`. */
class Refused extends Error {
  constructor(readonly reason: RefuseReason) {
    super(`refused: ${reason}`);
  }
}


/** The OracleAccess of a client session: the network file's oracles, 3-hop circuits from its circuit manager. */
export function sessionOracleAccess(session: ClientSession, timeoutMs = ORACLE_REQUEST_TIMEOUT_MS): OracleAccess {
  if (typeof session !== 'object' || session === null) throw new TypeError('session must be a ClientSession');
  const o = session.network.oracle;
  if (!o || o.oracles.length === 0) throw new RangeError('the network file names no oracle node (role "oracle")');
  return {
    suite: session.suite,
    trust: { network: session.network.network, oracleKeys: o.oracleKeys },
    now: () => Date.now(),
    oracles(avoidGuards) {
      const guards = session.onion.manager.guards;
      const isGuard = (t: NodeTarget) => guards.some((g) => equalBytes(g, t.identity));
      // The listed entry carries the current onion key; the network file's may be older.
      const all = shuffled(o.oracles, session.suite).map((k) => session.listedNode(k.identity) ?? k);
      const free = all.filter((t) => !isGuard(t));
      return avoidGuards ? free : [...free, ...all.filter(isGuard)];
    },
    async open(oracle) {
      const circuit = await session.onion.manager.build({ last: oracle, hops: 3 });
      const rpc = new CircuitRpc(circuit, realScheduler);
      return { request: (body) => rpc.request(AppEvent.Oracle, body, timeoutMs), close: () => circuit.destroy() };
    },
  };
}

/** Decodes an oracle's answer: the expected kind, or Refused; anything else is an Error. */
function answerOf<K extends StreamMessage['type']>(bytes: Uint8Array, kind: K): Extract<StreamMessage, { type: K }> {
  const m = decodeStreamMessage(bytes);
  if (m.type === 'refused') throw new Refused(m.reason);
  if (m.type !== kind) throw new Error(`expected ${kind}, got ${m.type}`);
  return m as Extract<StreamMessage, { type: K }>;
}

/** Tries `fn` on each oracle in turn until one succeeds. */
async function firstOracle<T>(
  access: OracleAccess,
  avoidGuards: boolean,
  what: string,
  fn: (route: OracleRoute, oracle: NodeTarget) => Promise<T>,
): Promise<T> {
  const candidates = access.oracles(avoidGuards);
  if (candidates.length === 0) {
    throw new OracleRequestError(
      avoidGuards ? `${what}: every oracle is one of this client's entry guards, which must not learn who asks` : `${what}: no oracle is known`,
      [],
    );
  }
  const attempts: OracleAttempt[] = [];
  for (const oracle of candidates) {
    let route: OracleRoute | null = null;
    try {
      route = await access.open(oracle);
      return await fn(route, oracle);
    } catch (e) {
      const name = base58.encode(oracle.identity);
      if (e instanceof Refused) attempts.push({ oracle: name, problem: e.message, refused: e.reason });
      else attempts.push({ oracle: name, problem: e instanceof Error ? e.message : String(e) });
    } finally {
      route?.close();
    }
  }
  throw new OracleRequestError(`${what}: no oracle succeeded`, attempts);
}

// ---- receipts ---------------------------------------------------------------------------------

export interface ReceiptParams {
  /** Bits per second, 1..2^32-1. */
  readonly bitrate: number;
  readonly maxViewers: number;
  readonly public: boolean;
}

function checkParams(params: unknown, name: string): ReceiptParams {
  if (typeof params !== 'object' || params === null) throw new TypeError(`${name} must be an object`);
  const p = params as ReceiptParams;
  for (const k of ['bitrate', 'maxViewers'] as const) {
    const v = p[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_U32) throw new RangeError(`${name}.${k} must be an integer 1..${MAX_U32}`);
  }
  if (typeof p.public !== 'boolean') throw new TypeError(`${name}.public must be a boolean`);
  return { bitrate: p.bitrate, maxViewers: p.maxViewers, public: p.public };
}

export interface ReceiptRequestInput {
  /** The creator's identity keys. */
  readonly identity: Pick<ClientIdentity, 'secretKey' | 'publicKey'>;
  /** Her access certificate (bytes), whose subject is identity.publicKey. */
  readonly certificate: Uint8Array;
  readonly params: ReceiptParams;
}

/**
 * Asks the oracles of `access` in turn for a receipt (never an entry guard) and returns the
 * first that verifies and allows `params`. Throws OracleRequestError.
 */
export async function requestReceiptVia(access: OracleAccess, input: ReceiptRequestInput): Promise<Uint8Array> {
  if (typeof access !== 'object' || access === null) throw new TypeError('access must be an OracleAccess');
  if (typeof input !== 'object' || input === null) throw new TypeError('input must be an object');
  if (typeof input.identity !== 'object' || input.identity === null) throw new TypeError('input.identity must be an object');
  assertBytes(input.identity.secretKey, 'input.identity.secretKey', 32);
  assertBytes(input.certificate, 'input.certificate');
  const params = checkParams(input.params, 'input.params');
  const suite = access.suite;
  return firstOracle(access, true, 'stream receipt', async (route, oracle) => {
    const credential = createCredential(suite, { certificate: input.certificate, oracle: oracle.identity, request: params, createdAt: access.now() }, input.identity.secretKey);
    const request = encodeStreamMessage({ type: 'receipt-request', params: { bitrate: params.bitrate, maxViewers: params.maxViewers }, public: params.public, credential });
    const { receipt } = answerOf(await route.request(request), 'receipt');
    const verified = verifyReceipt(suite, parseReceipt(receipt), access.now(), access.trust);
    if (!equalBytes(verified.oracle, oracle.identity)) throw new Error('the receipt is signed by another oracle than the one asked');
    const short = receiptShortfall(verified, params);
    if (short.length > 0) throw new Error(`the receipt does not allow ${short.join(', ')}`);
    return receipt;
  });
}

/**
 * A creator's stream-creation receipt (seed 004 §8.2): uses the session's access certificate (a
 * fresh one when it is missing or about to expire) and asks the session's oracles.
 */
export async function requestReceipt(session: ClientSession, identity: ClientIdentity, params: ReceiptParams): Promise<Uint8Array> {
  if (typeof session !== 'object' || session === null) throw new TypeError('session must be a ClientSession');
  if (typeof identity !== 'object' || identity === null) throw new TypeError('identity must be a ClientIdentity');
  assertBytes(identity.publicKey, 'identity.publicKey', 32);
  const checked = checkParams(params, 'params');
  const access = sessionOracleAccess(session);
  let cert = session.certificate;
  if (cert === null || !equalBytes(cert.verified.subject, identity.publicKey) || cert.verified.expiresAt - Date.now() < 60_000) {
    await session.obtainCertificate(identity);
    cert = session.certificate;
  }
  if (cert === null) throw new Error('no access certificate could be obtained');
  return requestReceiptVia(access, { identity, certificate: cert.bytes, params: checked });
}

// ---- viewer identification IDs ----------------------------------------------------------------

export interface ViewerIdOptions {
  /** Refuse challenges harder than this (default MAX_ACCEPTED_PUZZLE_DIFFICULTY). */
  readonly maxDifficulty?: number;
}

/** Gets a viewer identification ID from the oracles of `access` (seed 004 §8.3). Throws OracleRequestError. */
export async function requestViewerIdVia(access: OracleAccess, options: ViewerIdOptions = {}): Promise<Uint8Array> {
  if (typeof access !== 'object' || access === null) throw new TypeError('access must be an OracleAccess');
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const maxDifficulty = options.maxDifficulty ?? MAX_ACCEPTED_PUZZLE_DIFFICULTY;
  if (!Number.isInteger(maxDifficulty) || maxDifficulty < 1 || maxDifficulty > 40) throw new RangeError('options.maxDifficulty must be an integer 1..40');
  const suite = access.suite;
  return firstOracle(access, false, 'viewer identification ID', async (route, oracle) => {
    const { challenge } = answerOf(await route.request(encodeStreamMessage({ type: 'challenge-request' })), 'challenge');
    const c = parsePuzzleChallenge(challenge);
    if (c.difficulty > maxDifficulty) throw new Error(`the puzzle asks ${c.difficulty} bits, more than the ${maxDifficulty} this client solves`);
    const nonce = solvePuzzle(suite, challenge, { maxAttempts: 2 ** Math.min(c.difficulty + 8, 40) });
    if (nonce === null) throw new Error('no solution found for the puzzle');
    const { viewerId } = answerOf(await route.request(encodeStreamMessage({ type: 'solution', challenge, nonce })), 'viewer-id');
    const verified = verifyViewerId(suite, parseViewerId(viewerId), access.now(), access.trust);
    if (!equalBytes(verified.oracle, oracle.identity)) throw new Error('the viewer ID is signed by another oracle than the one asked');
    return viewerId;
  });
}

/** A viewer identification ID for watching streams (seed 004 §8.3). */
export async function requestViewerId(session: ClientSession, options: ViewerIdOptions = {}): Promise<Uint8Array> {
  return requestViewerIdVia(sessionOracleAccess(session), options);
}

// ---- usage reports ----------------------------------------------------------------------------

/** A usage report as a caller gives it (the role is implied by who sends it). */
export type UsageFiguresInput = Omit<UsageReport, 'type' | 'role'>;

function reportMessage(report: UsageFiguresInput, role: UsageRole, name: string): Uint8Array {
  if (typeof report !== 'object' || report === null) throw new TypeError(`${name} must be an object`);
  assertBytes(report.sessionId, `${name}.sessionId`, SESSION_ID_LENGTH);
  return encodeStreamMessage({
    type: 'usage-report',
    sessionId: report.sessionId,
    role,
    periodStart: report.periodStart,
    periodEnd: report.periodEnd,
    downBytes: report.downBytes,
    upBytes: report.upBytes,
  });
}

/** Sends a viewer's usage report to the oracles of `access` until one accepts it. Throws OracleRequestError. */
export async function reportViewerUsageVia(access: OracleAccess, report: UsageFiguresInput): Promise<void> {
  if (typeof access !== 'object' || access === null) throw new TypeError('access must be an OracleAccess');
  const body = reportMessage(report, 'viewer', 'report');
  await firstOracle(access, false, 'usage report', async (route) => {
    const answer = await route.request(body);
    if (answer.length === 0) return; // taken
    const m = decodeStreamMessage(answer);
    if (m.type === 'refused') throw new Refused(m.reason);
    throw new Error(`expected an empty answer, got ${m.type}`);
  });
}

/**
 * A viewer reports the traffic of its session (the sessionId of its viewer identification ID)
 * in one period (seed 004 §8.3). Periods follow the oracles' grid: usagePeriodOf gives one.
 */
export async function reportViewerUsage(session: ClientSession, report: UsageFiguresInput): Promise<void> {
  return reportViewerUsageVia(sessionOracleAccess(session), report);
}

/** The period of the grid of `periodMs` that `now` falls in: [periodStart, periodEnd). */
export function usagePeriodOf(now: number, periodMs: number): { periodStart: number; periodEnd: number } {
  if (!Number.isSafeInteger(now) || now < 0) throw new RangeError('now must be a non-negative safe integer');
  if (!Number.isInteger(periodMs) || periodMs < 1) throw new RangeError('periodMs must be a positive integer');
  const periodStart = now - (now % periodMs);
  return { periodStart, periodEnd: periodStart + periodMs };
}

// ---- node circuits ----------------------------------------------------------------------------

/**
 * One-hop circuits from a node to other nodes over its authenticated links, kept open and
 * rebuilt on demand (the receiving node sees the sender's identity as the previous hop). Shared
 * by UsageReporter and the oracle service.
 */
export class NodeCircuits {
  private readonly rpcs = new Map<string, Promise<CircuitRpc>>();
  private closed = false;

  constructor(
    private readonly client: CircuitClient,
    private readonly scheduler: Scheduler,
    private readonly buildTimeoutMs = 10_000,
  ) {}

  private get(target: NodeTarget): Promise<CircuitRpc> {
    const k = toHex(target.identity);
    let p = this.rpcs.get(k);
    if (!p) {
      const built: Promise<CircuitRpc> = this.client.build([target], this.buildTimeoutMs).then((c) => {
        if (this.closed) {
          c.destroy();
          throw new Error('node circuits closed');
        }
        const prev = c.events.onClose;
        c.events.onClose = (e) => {
          if (this.rpcs.get(k) === built) this.rpcs.delete(k);
          prev?.(e);
        };
        return new CircuitRpc(c, this.scheduler);
      });
      built.catch(() => {
        if (this.rpcs.get(k) === built) this.rpcs.delete(k);
      });
      this.rpcs.set(k, built);
      p = built;
    }
    return p;
  }

  async request(target: NodeTarget, event: number, body: Uint8Array, timeoutMs = 10_000): Promise<Uint8Array> {
    if (this.closed) throw new Error('node circuits closed');
    let rpc = await this.get(target);
    if (!rpc.circuit.isOpen) {
      this.rpcs.delete(toHex(target.identity));
      rpc = await this.get(target);
    }
    return rpc.request(event, body, timeoutMs);
  }

  closeAll(): void {
    this.closed = true;
    for (const p of this.rpcs.values()) p.then((r) => r.circuit.destroy(), () => undefined);
    this.rpcs.clear();
  }
}

// ---- the distribution node's reporter ---------------------------------------------------------

export interface UsageReporterOptions {
  /** The node's circuit client (one-hop circuits to the oracles). */
  readonly client: CircuitClient;
  /** The oracles to report to (the network's oracle nodes, with current onion keys). */
  readonly oracles: () => NodeTarget[];
  /** Length of a report's period; it must divide the oracles' usage period (default 60 s there). */
  readonly periodMs: number;
  readonly log?: Logger;
  /** Clock and timers (default: the client's). */
  readonly scheduler?: Scheduler;
  /** Most session × period totals held at once (default 100,000); further traffic of new sessions is not counted. */
  readonly maxPending?: number;
  /** How long after its period a report is still retried (default periodMs). */
  readonly retryForMs?: number;
}

interface PendingReport {
  readonly sessionId: Uint8Array;
  readonly role: UsageRole;
  readonly periodStart: number;
  downBytes: number;
  upBytes: number;
}

/** Refusals that will not change on a retry: the report is dropped. */
const FINAL_REFUSALS: readonly RefuseReason[] = ['duplicate', 'protocol', 'unspecified'];

/**
 * Adds up what a node carried for each viewer session and reports it per period to an oracle
 * (seed 004 §8.3: "the identification ID would be used by both the distribution node and the
 * client to report actual usage"). Reports go out when their period ends; an oracle that fails
 * is followed by the next; what no oracle took is retried until `retryForMs` after its period.
 */
export class UsageReporter {
  private readonly o: UsageReporterOptions;
  private readonly scheduler: Scheduler;
  private readonly log: Logger;
  private readonly circuits: NodeCircuits;
  private readonly pending = new Map<string, PendingReport>();
  private readonly maxPending: number;
  private readonly retryForMs: number;
  private timer: { cancel(): void } | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private flushing: Promise<number> | null = null;
  private next = 0;
  private stopped = false;
  /** Reports an oracle accepted, and reports dropped (refused for good, too old, or over the limit). */
  readonly stats = { sent: 0, dropped: 0 };

  constructor(options: UsageReporterOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (typeof options.client !== 'object' || options.client === null) throw new TypeError('options.client must be a CircuitClient');
    if (typeof options.oracles !== 'function') throw new TypeError('options.oracles must be a function');
    if (!Number.isInteger(options.periodMs) || options.periodMs < 1000 || options.periodMs > 3_600_000) {
      throw new RangeError('options.periodMs must be an integer 1000..3600000');
    }
    this.o = options;
    this.scheduler = options.scheduler ?? options.client.scheduler;
    this.log = options.log ?? silentLogger();
    this.maxPending = options.maxPending ?? 100_000;
    if (!Number.isInteger(this.maxPending) || this.maxPending < 1) throw new RangeError('options.maxPending must be a positive integer');
    this.retryForMs = options.retryForMs ?? options.periodMs;
    if (!Number.isInteger(this.retryForMs) || this.retryForMs < 0) throw new RangeError('options.retryForMs must be a non-negative integer');
    this.circuits = new NodeCircuits(options.client, this.scheduler);
  }

  /** Session × period totals not yet reported. */
  get pendingReports(): number {
    return this.pending.size;
  }

  /** Counts `downBytes` sent to and `upBytes` received from the viewer of `sessionId`, now. */
  add(sessionId: Uint8Array, role: UsageRole, downBytes: number, upBytes: number): void {
    assertBytes(sessionId, 'sessionId', SESSION_ID_LENGTH);
    if (role !== 'viewer' && role !== 'distribution') throw new RangeError("role must be 'viewer' or 'distribution'");
    for (const [name, v] of [['downBytes', downBytes], ['upBytes', upBytes]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative safe integer`);
    }
    if (this.stopped) return;
    const { periodStart, periodEnd } = usagePeriodOf(this.scheduler.now(), this.o.periodMs);
    const k = `${periodStart}:${toHex(sessionId)}:${role}`;
    let p = this.pending.get(k);
    if (p === undefined) {
      if (this.pending.size >= this.maxPending) {
        this.stats.dropped++;
        return;
      }
      p = { sessionId: sessionId.slice(), role, periodStart, downBytes: 0, upBytes: 0 };
      this.pending.set(k, p);
    }
    p.downBytes = Math.min(Number.MAX_SAFE_INTEGER, p.downBytes + downBytes);
    p.upBytes = Math.min(Number.MAX_SAFE_INTEGER, p.upBytes + upBytes);
    this.wakeAt(periodEnd);
  }

  /** Reports every total whose period has ended; returns how many an oracle accepted. */
  flush(): Promise<number> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    const run = this.sendDue().finally(() => {
      this.flushing = null;
    });
    this.flushing = run;
    return run;
  }

  /** Stops the timer and closes the circuits; totals not reported are dropped. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    this.stats.dropped += this.pending.size;
    this.pending.clear();
    this.circuits.closeAll();
  }

  private wakeAt(at: number): void {
    if (this.stopped || at >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.scheduler.setTimeout(() => {
      this.timer = null;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.flush().catch((e: Error) => this.log.warn({ err: e.message }, 'usage reports not sent'));
    }, Math.max(0, at - this.scheduler.now()));
  }

  private async sendDue(): Promise<number> {
    let accepted = 0;
    const now = this.scheduler.now();
    let retryAt = Number.POSITIVE_INFINITY;
    let laterAt = Number.POSITIVE_INFINITY;
    for (const [k, p] of [...this.pending]) {
      if (this.stopped) break;
      const periodEnd = p.periodStart + this.o.periodMs;
      if (periodEnd > now) {
        laterAt = Math.min(laterAt, periodEnd);
        continue;
      }
      if (now > periodEnd + this.retryForMs) {
        this.pending.delete(k);
        this.stats.dropped++;
        continue;
      }
      const body = encodeStreamMessage({ type: 'usage-report', sessionId: p.sessionId, role: p.role, periodStart: p.periodStart, periodEnd, downBytes: p.downBytes, upBytes: p.upBytes });
      const outcome = await this.send(body);
      if (outcome === 'accepted' || outcome === 'dropped') {
        this.pending.delete(k);
        if (outcome === 'accepted') {
          accepted++;
          this.stats.sent++;
        } else {
          this.stats.dropped++;
        }
      } else {
        retryAt = Math.min(retryAt, this.scheduler.now() + Math.min(10_000, this.o.periodMs));
      }
    }
    this.wakeAt(Math.min(retryAt, laterAt));
    return accepted;
  }

  /** Offers one report to the oracles in turn. */
  private async send(body: Uint8Array): Promise<'accepted' | 'dropped' | 'retry'> {
    const oracles = this.o.oracles();
    for (let i = 0; i < oracles.length; i++) {
      const target = oracles[(this.next + i) % oracles.length]!;
      try {
        const answer = await this.circuits.request(target, AppEvent.Oracle, body, ORACLE_REQUEST_TIMEOUT_MS);
        if (answer.length === 0) {
          this.next = (this.next + i) % oracles.length;
          return 'accepted';
        }
        const m = decodeStreamMessage(answer);
        if (m.type === 'refused' && FINAL_REFUSALS.includes(m.reason)) {
          this.log.debug({ reason: m.reason }, 'usage report refused');
          return 'dropped';
        }
      } catch (e) {
        this.log.debug({ oracle: base58.encode(target.identity), err: (e as Error).message }, 'usage report not delivered');
      }
    }
    return 'retry';
  }
}
