/**
 * node-core/io/storage: the embedded database (SQLite compiled to WebAssembly, package
 * node-sqlite3-wasm) and the stores built on it: a small SqliteDatabase wrapper (crash-safe
 * journal settings, kept and finalized statements, transactions), numbered schema migrations,
 * SqliteIdentityRegistry, the authority's PKI registry (node-core/authority IdentityRegistry), and
 * SqliteChatStore, the chat history, contacts and file transfers (node-core/chat ChatStore).
 *
 * I/O part of node-core: reads and writes files. Every failure is a StorageError.
 */
export { STORAGE_ERROR_CODES, StorageError, isStorageError, type StorageErrorCode } from './errors';
export { SqliteDatabase, toStorageError, type OpenOptions, type SqlParams, type SqlRow, type SqlValue } from './sqlite';
export { PSP_APPLICATION_ID, applyMigrations, schemaVersion, type Migration, type MigrationResult } from './migrations';
export {
  IDENTITY_REGISTRY_COMPONENT,
  IDENTITY_REGISTRY_MIGRATIONS,
  SqliteIdentityRegistry,
  type SqliteIdentityRegistryOptions,
} from './identity-registry';
export { CHAT_STORE_COMPONENT, CHAT_STORE_MIGRATIONS, SqliteChatStore, type SqliteChatStoreOptions } from './chat-store';
