/**
 * Numbered schema migrations for the embedded databases.
 *
 * Each store names its `component` and lists its migrations, numbered 1, 2, 3, … with a name
 * each. The table `schema_version (component, version, name, applied_at)` records what was
 * applied. `applyMigrations` applies the missing ones, all in ONE transaction: the database moves
 * to the newest schema or, if any step fails, stays exactly as it was.
 *
 * Before writing anything it checks that the file is ours:
 *   - the SQLite header's application_id must be PSP_APPLICATION_ID, or 0 on a database that
 *     holds no table yet (it is then set); anything else is 'foreign-database';
 *   - versions recorded for the component but unknown to this code are 'schema-too-new';
 *   - a recorded version whose name differs from ours is 'schema-mismatch'.
 *
 * Does not: migrate data downwards, or run migrations outside a transaction.
 */
import { StorageError } from './errors';
import type { SqliteDatabase } from './sqlite';

/** "PSP1": marks the SQLite files written by this software (PRAGMA application_id). */
export const PSP_APPLICATION_ID = 0x50535031;

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** Runs inside the migration transaction; throw to abort every pending migration. */
  up(db: SqliteDatabase): void;
}

export interface MigrationResult {
  readonly from: number;
  readonly to: number;
  readonly applied: readonly number[];
}

function checkMigrations(component: string, migrations: readonly Migration[]): void {
  if (typeof component !== 'string' || !/^[a-z][a-z0-9_-]{0,31}$/.test(component)) {
    throw new RangeError('component must be 1..32 characters of [a-z0-9_-], starting with a letter');
  }
  if (!Array.isArray(migrations) || migrations.length === 0) throw new RangeError('migrations must be a non-empty array');
  migrations.forEach((m, i) => {
    if (typeof m !== 'object' || m === null || typeof m.up !== 'function') throw new TypeError(`migrations[${i}] must be a Migration`);
    if (m.version !== i + 1) throw new RangeError(`migrations[${i}].version must be ${i + 1}: versions are 1, 2, 3, … in order`);
    if (typeof m.name !== 'string' || m.name.length === 0) throw new RangeError(`migrations[${i}].name must be a non-empty string`);
  });
}

/** The highest version recorded for `component` (0 when none). Reads only. */
export function schemaVersion(db: SqliteDatabase, component: string): number {
  if (db.get("SELECT 1 AS x FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'") === undefined) return 0;
  const v = db.get('SELECT max(version) AS v FROM schema_version WHERE component = ?', [component])?.['v'];
  return typeof v === 'number' ? v : 0;
}

export function applyMigrations(
  db: SqliteDatabase,
  component: string,
  migrations: readonly Migration[],
  now: number = Date.now(),
): MigrationResult {
  checkMigrations(component, migrations);
  if (!Number.isSafeInteger(now) || now < 0) throw new RangeError('now must be a non-negative safe integer');

  const appId = db.get('PRAGMA application_id')?.['application_id'];
  const tableCount = db.get("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'")?.['n'];
  if (appId !== PSP_APPLICATION_ID && !(appId === 0 && tableCount === 0)) {
    throw new StorageError(
      'foreign-database',
      db.path,
      `${db.path} is a SQLite database of another program (application_id ${String(appId)}); it was not changed`,
    );
  }
  const hasVersionTable = db.get("SELECT 1 AS x FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'") !== undefined;
  const recorded = hasVersionTable
    ? db.all('SELECT version, name FROM schema_version WHERE component = ? ORDER BY version', [component])
    : [];
  for (const row of recorded) {
    const v = row['version'];
    const mine = typeof v === 'number' ? migrations[v - 1] : undefined;
    if (mine === undefined) {
      throw new StorageError(
        'schema-too-new',
        db.path,
        `${db.path}: ${component} schema version ${String(v)} was written by a newer version of this software (this one knows up to ${migrations.length})`,
      );
    }
    if (row['name'] !== mine.name) {
      throw new StorageError('schema-mismatch', db.path, `${db.path}: ${component} migration ${String(v)} is '${String(row['name'])}' there, '${mine.name}' here`);
    }
  }
  const from = recorded.length === 0 ? 0 : (recorded[recorded.length - 1]!['version'] as number);
  if (recorded.length !== from) {
    throw new StorageError('schema-mismatch', db.path, `${db.path}: ${component} migrations recorded with gaps`);
  }
  const pending = migrations.slice(from);
  if (pending.length === 0 && appId === PSP_APPLICATION_ID) return { from, to: from, applied: [] };

  db.transaction(() => {
    if (appId !== PSP_APPLICATION_ID) db.exec(`PRAGMA application_id = ${PSP_APPLICATION_ID}`);
    db.exec(
      'CREATE TABLE IF NOT EXISTS schema_version (' +
        'component TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at INTEGER NOT NULL, ' +
        'PRIMARY KEY (component, version)) STRICT',
    );
    for (const m of pending) {
      m.up(db);
      db.run('INSERT INTO schema_version (component, version, name, applied_at) VALUES (?, ?, ?, ?)', [component, m.version, m.name, now]);
    }
  });
  return { from, to: migrations.length, applied: pending.map((m) => m.version) };
}
