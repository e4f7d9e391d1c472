/**
 * The authority's identity registry in the embedded SQLite database: an IdentityRegistry
 * (node-core/authority/registry.ts) whose rules — one record per key, replays and older
 * registrations change nothing, atomic updates — it shares with MemoryIdentityRegistry through
 * `decideRegistration`, and which the same compliance suite tests.
 *
 * Schema (component 'identity-registry', migration 1):
 *   identity_registrations      one row per public key: the stored registration and its fields
 *   identity_registration_log   one row per accepted change ('created' or 'updated'), kept for
 *                               audit and for moving the registry to another store
 * `register` reads the current row and writes both tables in one transaction, so a failure at
 * any step leaves both unchanged.
 *
 * Rows are checked when read; a row that does not have the shape this code writes gives
 * StorageError('corrupt').
 *
 * Does not: verify registrations (the caller passes a VerifiedRegistration), or expire them.
 */
import { decideRegistration, checkRegisterArgs, type IdentityRegistry, type RegisterOutcome, type RegistrationRecord } from '../../authority/registry';
import type { VerifiedRegistration } from '../../authority/registration';
import { assertBytes } from '../../util/bytes';
import { StorageError } from './errors';
import { type Migration, applyMigrations, schemaVersion } from './migrations';
import { type OpenOptions, type SqlRow, SqliteDatabase } from './sqlite';

export const IDENTITY_REGISTRY_COMPONENT = 'identity-registry';

export const IDENTITY_REGISTRY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create identity_registrations and identity_registration_log',
    up(db) {
      db.exec(`
        CREATE TABLE identity_registrations (
          public_key    BLOB    NOT NULL PRIMARY KEY CHECK (length(public_key) = 32),
          identity      TEXT    NOT NULL CHECK (length(identity) BETWEEN 1 AND 128),
          display_name  TEXT,
          created_at    INTEGER NOT NULL CHECK (created_at >= 0),
          nonce         BLOB    NOT NULL CHECK (length(nonce) = 16),
          digest        BLOB    NOT NULL CHECK (length(digest) = 32),
          registration  BLOB    NOT NULL,
          registered_at INTEGER NOT NULL,
          updated_at    INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE identity_registration_log (
          seq         INTEGER NOT NULL PRIMARY KEY,
          public_key  BLOB    NOT NULL CHECK (length(public_key) = 32),
          digest      BLOB    NOT NULL CHECK (length(digest) = 32),
          outcome     TEXT    NOT NULL CHECK (outcome IN ('created', 'updated')),
          at          INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX identity_registration_log_key ON identity_registration_log (public_key);
      `);
    },
  },
];

export interface SqliteIdentityRegistryOptions extends OpenOptions {
  /** Time recorded with applied migrations (default: the clock). */
  readonly now?: number;
}

function bytesColumn(row: SqlRow, column: string, length: number | undefined, path: string): Uint8Array {
  const v = row[column];
  if (!(v instanceof Uint8Array) || (length !== undefined && v.length !== length)) {
    throw new StorageError('corrupt', path, `${path}: identity_registrations.${column} does not hold the expected bytes`);
  }
  return v.slice();
}

function timeColumn(row: SqlRow, column: string, path: string): number {
  const v = row[column];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new StorageError('corrupt', path, `${path}: identity_registrations.${column} is not a time`);
  }
  return v;
}

export class SqliteIdentityRegistry implements IdentityRegistry {
  private constructor(private readonly db: SqliteDatabase) {}

  /** Opens (or creates) the registry database at `path` and brings its schema up to date. */
  static open(path: string, options: SqliteIdentityRegistryOptions = {}): SqliteIdentityRegistry {
    const db = SqliteDatabase.open(path, options);
    try {
      if (!db.readOnly) {
        applyMigrations(db, IDENTITY_REGISTRY_COMPONENT, IDENTITY_REGISTRY_MIGRATIONS, options.now);
      } else {
        const v = schemaVersion(db, IDENTITY_REGISTRY_COMPONENT);
        if (v !== IDENTITY_REGISTRY_MIGRATIONS.length) {
          throw new StorageError(
            v > IDENTITY_REGISTRY_MIGRATIONS.length ? 'schema-too-new' : 'schema-mismatch',
            path,
            `${path}: identity registry schema is at version ${v}, this software reads version ${IDENTITY_REGISTRY_MIGRATIONS.length} (opened read-only, so it was not migrated)`,
          );
        }
      }
    } catch (e) {
      db.close();
      throw e;
    }
    return new SqliteIdentityRegistry(db);
  }

  get path(): string {
    return this.db.path;
  }

  async register(registration: VerifiedRegistration, now: number): Promise<RegisterOutcome> {
    checkRegisterArgs(registration, now);
    return this.db.transaction((): RegisterOutcome => {
      const row = this.db.get('SELECT created_at, digest, registered_at FROM identity_registrations WHERE public_key = ?', [
        registration.publicKey,
      ]);
      const existing =
        row === undefined
          ? undefined
          : {
              createdAt: timeColumn(row, 'created_at', this.db.path),
              digest: bytesColumn(row, 'digest', 32, this.db.path),
              registeredAt: timeColumn(row, 'registered_at', this.db.path),
            };
      const decision = decideRegistration(existing, registration);
      if (decision === 'keep') return 'unchanged';
      const values = [
        registration.identity,
        registration.displayName ?? null,
        registration.createdAt,
        registration.nonce,
        registration.digest,
        registration.bytes,
        now,
        registration.publicKey,
      ];
      if (decision === 'create') {
        this.db.run(
          'INSERT INTO identity_registrations (identity, display_name, created_at, nonce, digest, registration, updated_at, public_key, registered_at) ' +
            'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
          [...values, now],
        );
      } else {
        this.db.run(
          'UPDATE identity_registrations SET identity = ?, display_name = ?, created_at = ?, nonce = ?, digest = ?, registration = ?, updated_at = ? ' +
            'WHERE public_key = ?',
          values,
        );
      }
      const outcome: RegisterOutcome = decision === 'create' ? 'created' : 'updated';
      this.db.run('INSERT INTO identity_registration_log (public_key, digest, outcome, at) VALUES (?, ?, ?, ?)', [
        registration.publicKey,
        registration.digest,
        outcome,
        now,
      ]);
      return outcome;
    });
  }

  async get(publicKey: Uint8Array): Promise<RegistrationRecord | undefined> {
    assertBytes(publicKey, 'publicKey', 32);
    const row = this.db.get(
      'SELECT public_key, identity, display_name, created_at, nonce, digest, registration, registered_at, updated_at ' +
        'FROM identity_registrations WHERE public_key = ?',
      [publicKey],
    );
    if (row === undefined) return undefined;
    const path = this.db.path;
    const identity = row['identity'];
    const displayName = row['display_name'];
    if (typeof identity !== 'string' || (displayName !== null && typeof displayName !== 'string')) {
      throw new StorageError('corrupt', path, `${path}: identity_registrations row has unexpected text columns`);
    }
    const base = {
      publicKey: bytesColumn(row, 'public_key', 32, path),
      identity,
      createdAt: timeColumn(row, 'created_at', path),
      nonce: bytesColumn(row, 'nonce', 16, path),
      digest: bytesColumn(row, 'digest', 32, path),
      registration: bytesColumn(row, 'registration', undefined, path),
      registeredAt: timeColumn(row, 'registered_at', path),
      updatedAt: timeColumn(row, 'updated_at', path),
    };
    return displayName === null ? base : { ...base, displayName };
  }

  async isRegistered(publicKey: Uint8Array): Promise<boolean> {
    assertBytes(publicKey, 'publicKey', 32);
    return this.db.get('SELECT 1 AS x FROM identity_registrations WHERE public_key = ?', [publicKey]) !== undefined;
  }

  /** Number of registered keys. */
  count(): number {
    const n = this.db.get('SELECT count(*) AS n FROM identity_registrations')?.['n'];
    return typeof n === 'number' ? n : 0;
  }

  /** Closes the database; later calls fail with StorageError('closed'). */
  close(): void {
    this.db.close();
  }
}
