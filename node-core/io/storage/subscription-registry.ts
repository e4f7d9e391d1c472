/**
 * What an oracle node keeps (seed 004 §8.2–8.3; DESIGN §3 "Live streams"): the subscription
 * registry (which identities may create streams, with what limits), the receipt records
 * (receiptId ↔ creator identity, of its own receipts and of those the other oracles shared), and
 * the normalised usage of viewer sessions (node-core/stream/usage.ts), with one row per
 * distribution node that reported, so disagreements are kept per reporter.
 *
 * `SubscriptionRegistry` is the interface the oracle service uses; `MemorySubscriptionRegistry`
 * keeps it in memory (tests, throw-away devnets) and `SqliteSubscriptionRegistry` in the embedded
 * database. Both follow the same rules and pass one contract suite (test/oracle):
 *   - a subscription is one row per identity key; putting it again replaces it ('updated');
 *   - a receipt record is written once: the same record again is 'duplicate' (a peer echoing
 *     one back), another record under a known receiptId is 'conflict' and changes nothing;
 *   - a normalised usage slot (session, periodStart) is written once; a repeat is skipped.
 * Every argument is checked (TypeError/RangeError naming it) before anything changes.
 *
 * Schema (component 'oracle', migration 1):
 *   oracle_subscriptions     identity → limits and expiry
 *   oracle_receipts          receiptId → identity, issuing oracle, times, own or shared
 *   oracle_usage             (session, period) → status, both sides' figures, accepted figures
 *   oracle_usage_reporters   (session, period, node) → the node's figures, whether the slot was disputed
 * Rows are checked when read; a row of another shape gives StorageError('corrupt').
 *
 * Does not: verify anything (the oracle service passes checked values), or expire rows by itself
 * (pruneReceipts does when asked).
 */
import { assertBytes, toHex } from '../../util/bytes';
import { compareBytes } from '../../util/codec';
import type { NodeUsage, NormalisedUsage, UsageDispute, UsageFigures, UsageStatus } from '../../stream/usage';
import { StorageError } from './errors';
import { type Migration, applyMigrations, schemaVersion } from './migrations';
import { type OpenOptions, type SqlRow, type SqlValue, SqliteDatabase } from './sqlite';

export const ORACLE_REGISTRY_COMPONENT = 'oracle';
/** The file an oracle node keeps its registry in, inside its data folder. */
export const ORACLE_DATABASE_FILE = 'oracle.sqlite';
const MAX_U32 = 0xffffffff;

/** What a subscription allows (the limits a receipt may grant). */
export interface SubscriptionPlan {
  /** Bits per second, 1..2^32-1. */
  readonly maxBitrate: number;
  /** 1..2^32-1. */
  readonly maxViewers: number;
  readonly publicAllowed: boolean;
}

export interface Subscription extends SubscriptionPlan {
  /** The subscriber's Ed25519 identity key. */
  readonly identity: Uint8Array;
  /** ms since the Unix epoch; the subscription allows nothing at or after it. */
  readonly expiresAt: number;
}

export interface SubscriptionRecord extends Subscription {
  /** When the row was last written. */
  readonly updatedAt: number;
}

export type ReceiptSource = 'own' | 'shared';

export interface ReceiptRecord {
  readonly receiptId: Uint8Array;
  /** The creator's identity key. */
  readonly identity: Uint8Array;
  /** The oracle that issued the receipt. */
  readonly oracle: Uint8Array;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** Issued here, or learnt from another oracle. */
  readonly source: ReceiptSource;
}

export type RecordReceiptOutcome = 'recorded' | 'duplicate' | 'conflict';

export interface ReporterStats {
  /** Slots this node reported. */
  readonly periods: number;
  /** Of those, slots the two sides disagreed on beyond the tolerance. */
  readonly disputed: number;
}

export interface SubscriptionRegistry {
  /** Creates or replaces the subscription of `subscription.identity`. */
  putSubscription(subscription: Subscription, now: number): Promise<'created' | 'updated'>;
  getSubscription(identity: Uint8Array): Promise<SubscriptionRecord | undefined>;
  /** Every subscription, ascending by identity key. */
  listSubscriptions(): Promise<SubscriptionRecord[]>;
  /** True when there was one to remove. */
  removeSubscription(identity: Uint8Array): Promise<boolean>;
  recordReceipt(record: ReceiptRecord, now: number): Promise<RecordReceiptOutcome>;
  getReceipt(receiptId: Uint8Array): Promise<ReceiptRecord | undefined>;
  /** Forgets receipt records that expired before `before`; returns how many. */
  pruneReceipts(before: number): Promise<number>;
  /** Stores normalised slots; returns how many were new (a slot already stored is skipped). */
  recordUsage(records: readonly NormalisedUsage[], now: number): Promise<number>;
  /** The stored slots of a session, ascending by period (distribution nodes ascending by key). */
  usageOf(sessionId: Uint8Array): Promise<NormalisedUsage[]>;
  /** How often a distribution node reported and how often its slots were disputed. */
  reporterStats(node: Uint8Array): Promise<ReporterStats>;
  close(): void;
}

// ---- argument checks (shared by both implementations) ----------------------------------------

function checkObject(v: unknown, name: string): void {
  if (typeof v !== 'object' || v === null) throw new TypeError(`${name} must be an object`);
}

function checkInt(v: unknown, name: string, min: number, max: number): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${String(v)}`);
  }
}

function checkTime(v: unknown, name: string): asserts v is number {
  checkInt(v, name, 0, Number.MAX_SAFE_INTEGER);
}

/** Checks a plan's fields; returns a copy. */
export function checkPlan(v: unknown, name: string): SubscriptionPlan {
  checkObject(v, name);
  const p = v as SubscriptionPlan;
  checkInt(p.maxBitrate, `${name}.maxBitrate`, 1, MAX_U32);
  checkInt(p.maxViewers, `${name}.maxViewers`, 1, MAX_U32);
  if (typeof p.publicAllowed !== 'boolean') throw new TypeError(`${name}.publicAllowed must be a boolean`);
  return { maxBitrate: p.maxBitrate, maxViewers: p.maxViewers, publicAllowed: p.publicAllowed };
}

function checkSubscription(v: unknown, name: string): Subscription {
  const plan = checkPlan(v, name);
  const s = v as Subscription;
  assertBytes(s.identity, `${name}.identity`, 32);
  checkTime(s.expiresAt, `${name}.expiresAt`);
  return { ...plan, identity: s.identity.slice(), expiresAt: s.expiresAt };
}

function checkReceiptRecord(v: unknown, name: string): ReceiptRecord {
  checkObject(v, name);
  const r = v as ReceiptRecord;
  assertBytes(r.receiptId, `${name}.receiptId`, 16);
  assertBytes(r.identity, `${name}.identity`, 32);
  assertBytes(r.oracle, `${name}.oracle`, 32);
  checkTime(r.issuedAt, `${name}.issuedAt`);
  checkTime(r.expiresAt, `${name}.expiresAt`);
  if (r.expiresAt <= r.issuedAt) throw new RangeError(`${name}.expiresAt must be after ${name}.issuedAt`);
  if (r.source !== 'own' && r.source !== 'shared') throw new RangeError(`${name}.source must be 'own' or 'shared'`);
  return { receiptId: r.receiptId.slice(), identity: r.identity.slice(), oracle: r.oracle.slice(), issuedAt: r.issuedAt, expiresAt: r.expiresAt, source: r.source };
}

function checkFigures(v: unknown, name: string): UsageFigures {
  checkObject(v, name);
  const f = v as UsageFigures;
  checkTime(f.downBytes, `${name}.downBytes`);
  checkTime(f.upBytes, `${name}.upBytes`);
  return { downBytes: f.downBytes, upBytes: f.upBytes };
}

const STATUSES: readonly UsageStatus[] = ['confirmed', 'disputed', 'unconfirmed'];

function checkUsage(v: unknown, name: string): NormalisedUsage {
  checkObject(v, name);
  const u = v as NormalisedUsage;
  assertBytes(u.sessionId, `${name}.sessionId`, 16);
  checkTime(u.periodStart, `${name}.periodStart`);
  checkTime(u.periodEnd, `${name}.periodEnd`);
  if (u.periodEnd <= u.periodStart) throw new RangeError(`${name}.periodEnd must be after ${name}.periodStart`);
  if (!STATUSES.includes(u.status)) throw new RangeError(`${name}.status must be one of ${STATUSES.join(', ')}`);
  const viewer = u.viewer === null ? null : checkFigures(u.viewer, `${name}.viewer`);
  if (!Array.isArray(u.distribution)) throw new TypeError(`${name}.distribution must be an array`);
  const seen = new Set<string>();
  const distribution = u.distribution.map((n: NodeUsage, i) => {
    const f = checkFigures(n, `${name}.distribution[${i}]`);
    assertBytes(n.node, `${name}.distribution[${i}].node`, 32);
    const k = toHex(n.node);
    if (seen.has(k)) throw new RangeError(`${name}.distribution[${i}] repeats a node`);
    seen.add(k);
    return { node: n.node.slice(), ...f };
  });
  // Canonical order: ascending by node key (as usage.ts gives them and the database reads them).
  distribution.sort((a, b) => compareBytes(a.node, b.node));
  if (viewer === null && distribution.length === 0) throw new RangeError(`${name} has neither a viewer nor a distribution figure`);
  const accepted = checkFigures(u.accepted, `${name}.accepted`);
  if (!Array.isArray(u.disputes)) throw new TypeError(`${name}.disputes must be an array`);
  const disputes = u.disputes.map((d: UsageDispute, i) => {
    checkObject(d, `${name}.disputes[${i}]`);
    if (d.direction !== 'down' && d.direction !== 'up') throw new RangeError(`${name}.disputes[${i}].direction must be 'down' or 'up'`);
    if (d.higher !== 'viewer' && d.higher !== 'distribution') throw new RangeError(`${name}.disputes[${i}].higher must be 'viewer' or 'distribution'`);
    checkTime(d.viewerBytes, `${name}.disputes[${i}].viewerBytes`);
    checkTime(d.distributionBytes, `${name}.disputes[${i}].distributionBytes`);
    return { direction: d.direction, higher: d.higher, viewerBytes: d.viewerBytes, distributionBytes: d.distributionBytes };
  });
  if ((u.status === 'disputed') !== disputes.length > 0) throw new RangeError(`${name}: status 'disputed' goes with at least one dispute, and only then`);
  return { sessionId: u.sessionId.slice(), periodStart: u.periodStart, periodEnd: u.periodEnd, status: u.status, viewer, distribution, accepted, disputes };
}

function sameReceipt(a: ReceiptRecord, b: ReceiptRecord): boolean {
  return (
    toHex(a.identity) === toHex(b.identity) && toHex(a.oracle) === toHex(b.oracle) && a.issuedAt === b.issuedAt && a.expiresAt === b.expiresAt
  );
}

function copyUsage(u: NormalisedUsage): NormalisedUsage {
  return checkUsage(u, 'usage');
}

// ---- in memory -------------------------------------------------------------------------------

/** The registry in memory: for tests and networks that need nothing kept. */
export class MemorySubscriptionRegistry implements SubscriptionRegistry {
  private readonly subscriptions = new Map<string, SubscriptionRecord>();
  private readonly receipts = new Map<string, ReceiptRecord>();
  private readonly usage = new Map<string, NormalisedUsage>();
  private closed = false;

  private open(): void {
    if (this.closed) throw new StorageError('closed', ':memory:', 'the subscription registry is closed');
  }

  async putSubscription(subscription: Subscription, now: number): Promise<'created' | 'updated'> {
    const s = checkSubscription(subscription, 'subscription');
    checkTime(now, 'now');
    this.open();
    const k = toHex(s.identity);
    const outcome = this.subscriptions.has(k) ? 'updated' : 'created';
    this.subscriptions.set(k, { ...s, updatedAt: now });
    return outcome;
  }

  async getSubscription(identity: Uint8Array): Promise<SubscriptionRecord | undefined> {
    assertBytes(identity, 'identity', 32);
    this.open();
    const s = this.subscriptions.get(toHex(identity));
    return s === undefined ? undefined : { ...s, identity: s.identity.slice() };
  }

  async listSubscriptions(): Promise<SubscriptionRecord[]> {
    this.open();
    return [...this.subscriptions.values()].sort((a, b) => compareBytes(a.identity, b.identity)).map((s) => ({ ...s, identity: s.identity.slice() }));
  }

  async removeSubscription(identity: Uint8Array): Promise<boolean> {
    assertBytes(identity, 'identity', 32);
    this.open();
    return this.subscriptions.delete(toHex(identity));
  }

  async recordReceipt(record: ReceiptRecord, now: number): Promise<RecordReceiptOutcome> {
    const r = checkReceiptRecord(record, 'record');
    checkTime(now, 'now');
    this.open();
    const k = toHex(r.receiptId);
    const held = this.receipts.get(k);
    if (held !== undefined) return sameReceipt(held, r) ? 'duplicate' : 'conflict';
    this.receipts.set(k, r);
    return 'recorded';
  }

  async getReceipt(receiptId: Uint8Array): Promise<ReceiptRecord | undefined> {
    assertBytes(receiptId, 'receiptId', 16);
    this.open();
    const r = this.receipts.get(toHex(receiptId));
    return r === undefined ? undefined : checkReceiptRecord(r, 'record');
  }

  async pruneReceipts(before: number): Promise<number> {
    checkTime(before, 'before');
    this.open();
    let n = 0;
    for (const [k, r] of this.receipts) {
      if (r.expiresAt < before) {
        this.receipts.delete(k);
        n++;
      }
    }
    return n;
  }

  async recordUsage(records: readonly NormalisedUsage[], now: number): Promise<number> {
    if (!Array.isArray(records)) throw new TypeError('records must be an array');
    const checked = records.map((u, i) => checkUsage(u, `records[${i}]`));
    checkTime(now, 'now');
    this.open();
    let n = 0;
    for (const u of checked) {
      const k = `${toHex(u.sessionId)}:${u.periodStart}`;
      if (this.usage.has(k)) continue;
      this.usage.set(k, u);
      n++;
    }
    return n;
  }

  async usageOf(sessionId: Uint8Array): Promise<NormalisedUsage[]> {
    assertBytes(sessionId, 'sessionId', 16);
    this.open();
    const h = toHex(sessionId);
    return [...this.usage.values()]
      .filter((u) => toHex(u.sessionId) === h)
      .sort((a, b) => a.periodStart - b.periodStart)
      .map(copyUsage);
  }

  async reporterStats(node: Uint8Array): Promise<ReporterStats> {
    assertBytes(node, 'node', 32);
    this.open();
    const h = toHex(node);
    let periods = 0;
    let disputed = 0;
    for (const u of this.usage.values()) {
      if (!u.distribution.some((d) => toHex(d.node) === h)) continue;
      periods++;
      if (u.status === 'disputed') disputed++;
    }
    return { periods, disputed };
  }

  close(): void {
    this.closed = true;
  }
}

// ---- SQLite ----------------------------------------------------------------------------------

export const ORACLE_REGISTRY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create oracle_subscriptions, oracle_receipts, oracle_usage and oracle_usage_reporters',
    up(db) {
      db.exec(`
        CREATE TABLE oracle_subscriptions (
          identity       BLOB    NOT NULL PRIMARY KEY CHECK (length(identity) = 32),
          max_bitrate    INTEGER NOT NULL CHECK (max_bitrate BETWEEN 1 AND 4294967295),
          max_viewers    INTEGER NOT NULL CHECK (max_viewers BETWEEN 1 AND 4294967295),
          public_allowed INTEGER NOT NULL CHECK (public_allowed IN (0, 1)),
          expires_at     INTEGER NOT NULL CHECK (expires_at >= 0),
          updated_at     INTEGER NOT NULL CHECK (updated_at >= 0)
        ) STRICT;
        CREATE TABLE oracle_receipts (
          receipt_id  BLOB    NOT NULL PRIMARY KEY CHECK (length(receipt_id) = 16),
          identity    BLOB    NOT NULL CHECK (length(identity) = 32),
          oracle      BLOB    NOT NULL CHECK (length(oracle) = 32),
          issued_at   INTEGER NOT NULL CHECK (issued_at >= 0),
          expires_at  INTEGER NOT NULL CHECK (expires_at > issued_at),
          source      TEXT    NOT NULL CHECK (source IN ('own', 'shared')),
          recorded_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX oracle_receipts_identity ON oracle_receipts (identity);
        CREATE INDEX oracle_receipts_expiry ON oracle_receipts (expires_at);
        CREATE TABLE oracle_usage (
          session_id        BLOB    NOT NULL CHECK (length(session_id) = 16),
          period_start      INTEGER NOT NULL CHECK (period_start >= 0),
          period_end        INTEGER NOT NULL CHECK (period_end > period_start),
          status            TEXT    NOT NULL CHECK (status IN ('confirmed', 'disputed', 'unconfirmed')),
          viewer_down       INTEGER CHECK (viewer_down >= 0),
          viewer_up         INTEGER CHECK (viewer_up >= 0),
          accepted_down     INTEGER NOT NULL CHECK (accepted_down >= 0),
          accepted_up       INTEGER NOT NULL CHECK (accepted_up >= 0),
          disputes          TEXT    NOT NULL,
          recorded_at       INTEGER NOT NULL,
          PRIMARY KEY (session_id, period_start),
          CHECK ((viewer_down IS NULL) = (viewer_up IS NULL))
        ) STRICT;
        CREATE TABLE oracle_usage_reporters (
          session_id   BLOB    NOT NULL,
          period_start INTEGER NOT NULL,
          node         BLOB    NOT NULL CHECK (length(node) = 32),
          down_bytes   INTEGER NOT NULL CHECK (down_bytes >= 0),
          up_bytes     INTEGER NOT NULL CHECK (up_bytes >= 0),
          disputed     INTEGER NOT NULL CHECK (disputed IN (0, 1)),
          PRIMARY KEY (session_id, period_start, node),
          FOREIGN KEY (session_id, period_start) REFERENCES oracle_usage (session_id, period_start) ON DELETE CASCADE
        ) STRICT;
        CREATE INDEX oracle_usage_reporters_node ON oracle_usage_reporters (node);
      `);
    },
  },
];

export interface SqliteSubscriptionRegistryOptions extends OpenOptions {
  /** Time recorded with applied migrations (default: the clock). */
  readonly now?: number;
}

function corrupt(path: string, what: string): StorageError {
  return new StorageError('corrupt', path, `${path}: ${what}`);
}

function blob(row: SqlRow, column: string, length: number, path: string, table: string): Uint8Array {
  const v = row[column];
  if (!(v instanceof Uint8Array) || v.length !== length) throw corrupt(path, `${table}.${column} does not hold ${length} bytes`);
  return v.slice();
}

function int(row: SqlRow, column: string, path: string, table: string, max = Number.MAX_SAFE_INTEGER): number {
  const v = row[column];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) throw corrupt(path, `${table}.${column} is not a count or time`);
  return v;
}

function intOrNull(row: SqlRow, column: string, path: string, table: string): number | null {
  return row[column] === null ? null : int(row, column, path, table);
}

function text(row: SqlRow, column: string, path: string, table: string): string {
  const v = row[column];
  if (typeof v !== 'string') throw corrupt(path, `${table}.${column} is not text`);
  return v;
}

/** The registry in the embedded database (one file per oracle node: ORACLE_DATABASE_FILE). */
export class SqliteSubscriptionRegistry implements SubscriptionRegistry {
  private constructor(private readonly db: SqliteDatabase) {}

  /** Opens (or creates) the registry database at `path` and brings its schema up to date. */
  static open(path: string, options: SqliteSubscriptionRegistryOptions = {}): SqliteSubscriptionRegistry {
    const db = SqliteDatabase.open(path, options);
    try {
      if (!db.readOnly) {
        applyMigrations(db, ORACLE_REGISTRY_COMPONENT, ORACLE_REGISTRY_MIGRATIONS, options.now);
      } else {
        const v = schemaVersion(db, ORACLE_REGISTRY_COMPONENT);
        if (v !== ORACLE_REGISTRY_MIGRATIONS.length) {
          throw new StorageError(
            v > ORACLE_REGISTRY_MIGRATIONS.length ? 'schema-too-new' : 'schema-mismatch',
            path,
            `${path}: oracle registry schema is at version ${v}, this software reads version ${ORACLE_REGISTRY_MIGRATIONS.length} (opened read-only, so it was not migrated)`,
          );
        }
      }
    } catch (e) {
      db.close();
      throw e;
    }
    return new SqliteSubscriptionRegistry(db);
  }

  get path(): string {
    return this.db.path;
  }

  private subscriptionOf(row: SqlRow): SubscriptionRecord {
    const p = this.db.path;
    const t = 'oracle_subscriptions';
    const pub = int(row, 'public_allowed', p, t, 1);
    return {
      identity: blob(row, 'identity', 32, p, t),
      maxBitrate: int(row, 'max_bitrate', p, t, MAX_U32),
      maxViewers: int(row, 'max_viewers', p, t, MAX_U32),
      publicAllowed: pub === 1,
      expiresAt: int(row, 'expires_at', p, t),
      updatedAt: int(row, 'updated_at', p, t),
    };
  }

  async putSubscription(subscription: Subscription, now: number): Promise<'created' | 'updated'> {
    const s = checkSubscription(subscription, 'subscription');
    checkTime(now, 'now');
    return this.db.transaction(() => {
      const had = this.db.get('SELECT 1 AS x FROM oracle_subscriptions WHERE identity = ?', [s.identity]) !== undefined;
      this.db.run(
        'INSERT INTO oracle_subscriptions (identity, max_bitrate, max_viewers, public_allowed, expires_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ' +
          'ON CONFLICT (identity) DO UPDATE SET max_bitrate = excluded.max_bitrate, max_viewers = excluded.max_viewers, ' +
          'public_allowed = excluded.public_allowed, expires_at = excluded.expires_at, updated_at = excluded.updated_at',
        [s.identity, s.maxBitrate, s.maxViewers, s.publicAllowed ? 1 : 0, s.expiresAt, now],
      );
      return had ? 'updated' : 'created';
    });
  }

  async getSubscription(identity: Uint8Array): Promise<SubscriptionRecord | undefined> {
    assertBytes(identity, 'identity', 32);
    const row = this.db.get(
      'SELECT identity, max_bitrate, max_viewers, public_allowed, expires_at, updated_at FROM oracle_subscriptions WHERE identity = ?',
      [identity],
    );
    return row === undefined ? undefined : this.subscriptionOf(row);
  }

  async listSubscriptions(): Promise<SubscriptionRecord[]> {
    return this.db
      .all('SELECT identity, max_bitrate, max_viewers, public_allowed, expires_at, updated_at FROM oracle_subscriptions ORDER BY identity')
      .map((r) => this.subscriptionOf(r));
  }

  async removeSubscription(identity: Uint8Array): Promise<boolean> {
    assertBytes(identity, 'identity', 32);
    return this.db.run('DELETE FROM oracle_subscriptions WHERE identity = ?', [identity]).changes > 0;
  }

  private receiptOf(row: SqlRow): ReceiptRecord {
    const p = this.db.path;
    const t = 'oracle_receipts';
    const source = text(row, 'source', p, t);
    if (source !== 'own' && source !== 'shared') throw corrupt(p, `${t}.source is '${source}'`);
    return {
      receiptId: blob(row, 'receipt_id', 16, p, t),
      identity: blob(row, 'identity', 32, p, t),
      oracle: blob(row, 'oracle', 32, p, t),
      issuedAt: int(row, 'issued_at', p, t),
      expiresAt: int(row, 'expires_at', p, t),
      source,
    };
  }

  async recordReceipt(record: ReceiptRecord, now: number): Promise<RecordReceiptOutcome> {
    const r = checkReceiptRecord(record, 'record');
    checkTime(now, 'now');
    return this.db.transaction((): RecordReceiptOutcome => {
      const row = this.db.get(
        'SELECT receipt_id, identity, oracle, issued_at, expires_at, source FROM oracle_receipts WHERE receipt_id = ?',
        [r.receiptId],
      );
      if (row !== undefined) return sameReceipt(this.receiptOf(row), r) ? 'duplicate' : 'conflict';
      this.db.run(
        'INSERT INTO oracle_receipts (receipt_id, identity, oracle, issued_at, expires_at, source, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [r.receiptId, r.identity, r.oracle, r.issuedAt, r.expiresAt, r.source, now],
      );
      return 'recorded';
    });
  }

  async getReceipt(receiptId: Uint8Array): Promise<ReceiptRecord | undefined> {
    assertBytes(receiptId, 'receiptId', 16);
    const row = this.db.get('SELECT receipt_id, identity, oracle, issued_at, expires_at, source FROM oracle_receipts WHERE receipt_id = ?', [receiptId]);
    return row === undefined ? undefined : this.receiptOf(row);
  }

  async pruneReceipts(before: number): Promise<number> {
    checkTime(before, 'before');
    return this.db.run('DELETE FROM oracle_receipts WHERE expires_at < ?', [before]).changes;
  }

  async recordUsage(records: readonly NormalisedUsage[], now: number): Promise<number> {
    if (!Array.isArray(records)) throw new TypeError('records must be an array');
    const checked = records.map((u, i) => checkUsage(u, `records[${i}]`));
    checkTime(now, 'now');
    if (checked.length === 0) return 0;
    return this.db.transaction(() => {
      let n = 0;
      for (const u of checked) {
        const exists = this.db.get('SELECT 1 AS x FROM oracle_usage WHERE session_id = ? AND period_start = ?', [u.sessionId, u.periodStart]);
        if (exists !== undefined) continue;
        const values: SqlValue[] = [
          u.sessionId,
          u.periodStart,
          u.periodEnd,
          u.status,
          u.viewer?.downBytes ?? null,
          u.viewer?.upBytes ?? null,
          u.accepted.downBytes,
          u.accepted.upBytes,
          JSON.stringify(u.disputes),
          now,
        ];
        this.db.run(
          'INSERT INTO oracle_usage (session_id, period_start, period_end, status, viewer_down, viewer_up, accepted_down, accepted_up, disputes, recorded_at) ' +
            'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          values,
        );
        for (const d of u.distribution) {
          this.db.run(
            'INSERT INTO oracle_usage_reporters (session_id, period_start, node, down_bytes, up_bytes, disputed) VALUES (?, ?, ?, ?, ?, ?)',
            [u.sessionId, u.periodStart, d.node, d.downBytes, d.upBytes, u.status === 'disputed' ? 1 : 0],
          );
        }
        n++;
      }
      return n;
    });
  }

  async usageOf(sessionId: Uint8Array): Promise<NormalisedUsage[]> {
    assertBytes(sessionId, 'sessionId', 16);
    const p = this.db.path;
    const rows = this.db.all(
      'SELECT session_id, period_start, period_end, status, viewer_down, viewer_up, accepted_down, accepted_up, disputes FROM oracle_usage ' +
        'WHERE session_id = ? ORDER BY period_start',
      [sessionId],
    );
    return rows.map((row) => {
      const t = 'oracle_usage';
      const periodStart = int(row, 'period_start', p, t);
      const nodes = this.db.all(
        'SELECT node, down_bytes, up_bytes FROM oracle_usage_reporters WHERE session_id = ? AND period_start = ? ORDER BY node',
        [sessionId, periodStart],
      );
      const vd = intOrNull(row, 'viewer_down', p, t);
      const vu = intOrNull(row, 'viewer_up', p, t);
      let disputes: unknown;
      try {
        disputes = JSON.parse(text(row, 'disputes', p, t));
      } catch (e) {
        if (e instanceof StorageError) throw e;
        throw corrupt(p, `${t}.disputes is not JSON`);
      }
      const u = {
        sessionId: blob(row, 'session_id', 16, p, t),
        periodStart,
        periodEnd: int(row, 'period_end', p, t),
        status: text(row, 'status', p, t) as UsageStatus,
        viewer: vd === null || vu === null ? null : { downBytes: vd, upBytes: vu },
        distribution: nodes.map((n) => ({
          node: blob(n, 'node', 32, p, 'oracle_usage_reporters'),
          downBytes: int(n, 'down_bytes', p, 'oracle_usage_reporters'),
          upBytes: int(n, 'up_bytes', p, 'oracle_usage_reporters'),
        })),
        accepted: { downBytes: int(row, 'accepted_down', p, t), upBytes: int(row, 'accepted_up', p, t) },
        disputes: disputes as UsageDispute[],
      };
      try {
        return checkUsage(u, 'row');
      } catch (e) {
        throw corrupt(p, `${t} row does not have the expected shape (${(e as Error).message})`);
      }
    });
  }

  async reporterStats(node: Uint8Array): Promise<ReporterStats> {
    assertBytes(node, 'node', 32);
    const row = this.db.get('SELECT count(*) AS periods, coalesce(sum(disputed), 0) AS disputed FROM oracle_usage_reporters WHERE node = ?', [node]);
    const p = this.db.path;
    return row === undefined ? { periods: 0, disputed: 0 } : { periods: int(row, 'periods', p, 'oracle_usage_reporters'), disputed: int(row, 'disputed', p, 'oracle_usage_reporters') };
  }

  /** Closes the database; later calls fail with StorageError('closed'). */
  close(): void {
    this.db.close();
  }
}
