/**
 * A small wrapper over the embedded SQLite database (the npm package node-sqlite3-wasm: SQLite
 * compiled to WebAssembly with a VFS on node:fs, so there is no native build and it runs in
 * Node 20 and in Electron's utility process alike).
 *
 * Crash safety: the database uses a rollback journal with `journal_mode = TRUNCATE` and
 * `synchronous = FULL` (the VFS fsyncs on every xSync). WAL is not available: the VFS has no
 * shared-memory support, and SQLite keeps the rollback journal when asked for WAL; `open`
 * checks that the modes it asked for are the modes in force.
 *
 * Opening checks the file before anything is written to it: SQLite's `quick_check` runs first
 * (unless `check: 'none'`), so a file that is not a database or is damaged gives
 * StorageError('corrupt') and is left exactly as it was.
 *
 * Statements: `run`, `get` and `all` prepare each distinct SQL text once and keep it; `close`
 * finalizes every kept statement before closing the database. `transaction(fn)` runs a
 * synchronous `fn` between BEGIN IMMEDIATE and COMMIT, and rolls back if it throws.
 *
 * Locking: the VFS locks with a `<file>.lock` folder next to the database. A process that dies
 * inside a transaction leaves that folder behind, and every later open reports 'locked' until
 * it is removed (only when no other process uses the database).
 *
 * Does not: share a connection between threads, or retry on 'locked'.
 */
import { existsSync } from 'node:fs';
import sqlite from 'node-sqlite3-wasm';
import { StorageError, type StorageErrorCode } from './errors';

const { Database } = sqlite;
type RawDatabase = InstanceType<typeof Database>;
type RawStatement = ReturnType<RawDatabase['prepare']>;

/** A value SQLite stores or returns. */
export type SqlValue = number | bigint | string | Uint8Array | null;
export type SqlParams = readonly SqlValue[] | Readonly<Record<string, SqlValue>>;
export type SqlRow = Record<string, SqlValue>;

export interface OpenOptions {
  /** Open without writing (no journal changes, writes fail with 'read-only'). Default false. */
  readonly readOnly?: boolean;
  /** Refuse to create the file when it does not exist ('not-found'). Default false. */
  readonly mustExist?: boolean;
  /** Check the file with PRAGMA quick_check before use ('quick', the default) or not ('none'). */
  readonly check?: 'quick' | 'none';
}

/** Maps an error thrown by node-sqlite3-wasm to a StorageError code by its SQLite message. */
function classify(message: string): StorageErrorCode {
  if (/file is not a database|database disk image is malformed|malformed database schema/i.test(message)) return 'corrupt';
  if (/database is locked|database table is locked|database schema is locked/i.test(message)) return 'locked';
  if (/readonly database|read-only/i.test(message)) return 'read-only';
  if (/constraint failed/i.test(message)) return 'constraint';
  if (/database already closed|statement already finalized/i.test(message)) return 'closed';
  if (/disk I\/O error|unable to open|could not open|disk is full|database or disk is full/i.test(message)) return 'io';
  return 'failed';
}

const HINTS: Partial<Record<StorageErrorCode, string>> = {
  corrupt: 'it is not a SQLite database or it is damaged; the file was left as it is',
  locked: 'another connection holds it; if no process uses it, a crashed one may have left its ".lock" folder behind',
};

export function toStorageError(e: unknown, path: string, doing: string): StorageError {
  if (e instanceof StorageError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const code = classify(message);
  const hint = HINTS[code];
  return new StorageError(code, path, `${doing} ${path}: ${message}${hint === undefined ? '' : ` (${hint})`}`, { cause: e });
}

export class SqliteDatabase {
  private db: RawDatabase | undefined;
  private readonly statements = new Map<string, RawStatement>();
  private inTx = false;

  private constructor(
    readonly path: string,
    db: RawDatabase,
    readonly readOnly: boolean,
  ) {
    this.db = db;
  }

  /** Opens (or creates) the database at `path`, sets the crash-safety modes and checks the file. */
  static open(path: string, options: OpenOptions = {}): SqliteDatabase {
    if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const readOnly = options.readOnly ?? false;
    const check = options.check ?? 'quick';
    if (check !== 'quick' && check !== 'none') throw new RangeError("options.check must be 'quick' or 'none'");
    if ((options.mustExist || readOnly) && !existsSync(path)) {
      throw new StorageError('not-found', path, `no database at ${path}`);
    }
    let raw: RawDatabase;
    try {
      raw = new Database(path, { fileMustExist: options.mustExist ?? false, readOnly });
    } catch (e) {
      throw toStorageError(e, path, 'cannot open');
    }
    const db = new SqliteDatabase(path, raw, readOnly);
    try {
      if (check === 'quick') {
        const rows = db.all('PRAGMA quick_check');
        const first = rows[0]?.['quick_check'];
        if (rows.length !== 1 || first !== 'ok') {
          const problems = rows.slice(0, 3).map((r) => String(Object.values(r)[0])).join('; ');
          throw new StorageError('corrupt', path, `${path} failed its integrity check (${problems}); the file was left as it is`);
        }
      }
      if (!readOnly) {
        db.requireMode('PRAGMA journal_mode = TRUNCATE', 'journal_mode', 'truncate');
        db.exec('PRAGMA synchronous = FULL');
        db.requireMode('PRAGMA synchronous', 'synchronous', 2);
      }
      db.exec('PRAGMA foreign_keys = ON');
    } catch (e) {
      db.close();
      throw toStorageError(e, path, 'cannot use');
    }
    return db;
  }

  private requireMode(sql: string, column: string, expected: SqlValue): void {
    const got = this.get(sql)?.[column];
    if (got !== expected) {
      throw new StorageError('failed', this.path, `${this.path}: ${column} is ${String(got)}, ${String(expected)} is required for crash safety`);
    }
  }

  get isOpen(): boolean {
    return this.db !== undefined;
  }

  get inTransaction(): boolean {
    return this.inTx;
  }

  private raw(): RawDatabase {
    if (this.db === undefined) throw new StorageError('closed', this.path, `${this.path} is closed`);
    return this.db;
  }

  private statement(sql: string): RawStatement {
    if (typeof sql !== 'string') throw new TypeError('sql must be a string');
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.raw().prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private wrap<T>(doing: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw toStorageError(e, this.path, doing);
    }
  }

  /** Runs SQL text that may hold several statements and binds nothing (schema, pragmas). */
  exec(sql: string): void {
    if (typeof sql !== 'string') throw new TypeError('sql must be a string');
    this.wrap('cannot execute on', () => this.raw().exec(sql));
  }

  /** Runs one statement that returns no rows (INSERT, UPDATE, DELETE, DDL). */
  run(sql: string, params: SqlParams = []): { changes: number } {
    return this.wrap('cannot write to', () => ({ changes: this.statement(sql).run(params as never).changes }));
  }

  /**
   * The first row of a query, or undefined. The query runs to its end (so the kept statement is
   * not left half-read, which would block COMMIT): give queries that can match many rows a LIMIT.
   */
  get(sql: string, params: SqlParams = []): SqlRow | undefined {
    return this.wrap('cannot read from', () => (this.statement(sql).all(params as never) as SqlRow[])[0]);
  }

  all(sql: string, params: SqlParams = []): SqlRow[] {
    return this.wrap('cannot read from', () => this.statement(sql).all(params as never) as SqlRow[]);
  }

  /**
   * Runs `fn` in a write transaction (BEGIN IMMEDIATE … COMMIT) and returns its result; if `fn`
   * throws, rolls back and rethrows. `fn` must be synchronous (a returned promise is refused:
   * the transaction would end before it settles). Transactions do not nest.
   */
  transaction<T>(fn: () => T): T {
    if (typeof fn !== 'function') throw new TypeError('fn must be a function');
    if (this.inTx) throw new Error('SqliteDatabase.transaction: transactions do not nest');
    this.exec('BEGIN IMMEDIATE');
    this.inTx = true;
    let result: T;
    try {
      result = fn();
      if (result instanceof Promise) {
        result.catch(() => undefined);
        throw new TypeError('SqliteDatabase.transaction: fn must be synchronous');
      }
    } catch (e) {
      this.inTx = false;
      try {
        this.raw().exec('ROLLBACK');
      } catch (rollbackError) {
        throw toStorageError(rollbackError, this.path, `cannot roll back (after: ${e instanceof Error ? e.message : String(e)})`);
      }
      throw e;
    }
    this.inTx = false;
    try {
      this.raw().exec('COMMIT');
    } catch (e) {
      try {
        this.raw().exec('ROLLBACK');
      } catch {
        // COMMIT failing usually ended the transaction already.
      }
      throw toStorageError(e, this.path, 'cannot commit to');
    }
    return result;
  }

  /** Finalizes every kept statement and closes the database. Closing twice is harmless. */
  close(): void {
    const db = this.db;
    if (db === undefined) return;
    this.db = undefined;
    for (const s of this.statements.values()) {
      try {
        if (!s.isFinalized) s.finalize();
      } catch {
        // sqlite3_finalize repeats the error of the statement's last run, which its caller has
        // already received; the statement is finalized all the same.
      }
    }
    this.statements.clear();
    try {
      db.close();
    } catch (e) {
      throw toStorageError(e, this.path, 'cannot close');
    }
  }
}
