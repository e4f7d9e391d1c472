/**
 * The chat store in the embedded SQLite database: a ChatStore (node-core/chat/store.ts) whose
 * rules it shares with MemoryChatStore and which the same contract suite tests
 * (test/chat/store-contract.ts). File bytes live in files in a folder given to it.
 *
 * Schema (component 'chat', migration 1):
 *   chat_conversations  one row per peer: the cursors of both streams
 *   chat_items          every stored item of both streams (the encoded item, its seq, times and
 *                       status); the rowid is the order items were stored in, which is the
 *                       order a UI lists messages in
 *   chat_held           incoming items stored ahead of a gap, until it fills
 *   chat_transfers      file transfers: the offer's fields, bytes stored, state
 *   chat_contacts       contacts
 * Every method that changes rows does so in one transaction, so an incoming item and the
 * receive cursor move together, and an outgoing item gets its seq and is stored in one step.
 *
 * File bytes: `<filesDir>/<peer>-<fileId>-<in|out>`, with the suffix `.part` while the file is
 * incomplete (an incoming file before it is complete, an outgoing one while it is copied in).
 * Bytes are written at their offset, the file is cut to its new length and fsynced before the
 * database records the new length, so a crash loses at most the chunk being written (the next
 * write at the recorded length overwrites whatever is past it). A file is renamed when its
 * transfer's state says it is whole; if a crash falls between the commit and the rename, the
 * file is found under its other name.
 *
 * Rows are checked when read; a row that does not have the shape this code writes gives
 * StorageError('corrupt'). Failures of the file system give StorageError('io').
 *
 * Does not: delete the files of ended transfers, or share a database between processes.
 */
import {
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ChatError } from '../../chat/errors';
import { type ChatItem, type SeqRange, checkItem, decodeItem, encodeItem } from '../../chat/frames';
import {
  type AppendResult,
  type ChatMessage,
  type ChatStore,
  type Contact,
  type ConversationState,
  type ConversationSummary,
  type DeliverResult,
  type Direction,
  type FileTransfer,
  type ListMessagesOptions,
  type MessageStatus,
  type NewOutgoingFile,
  type SearchMessagesOptions,
  type StatusChange,
  type StoredItem,
  type TransferState,
  cancelTarget,
  cancelledState,
  checkAckArgs,
  checkContactName,
  checkCount,
  checkDirection,
  checkId,
  checkIdentityText,
  checkListOptions,
  checkNewOutgoingFile,
  checkOffset,
  checkPeer,
  checkSearchArgs,
  checkSeqArg,
  checkTime,
  contactKey,
  foldForSearch,
  isEnded,
  messageIdOf,
  messageOf,
} from '../../chat/store';
import { toHex } from '../../util/bytes';
import { StorageError } from './errors';
import { type Migration, applyMigrations, schemaVersion } from './migrations';
import { type OpenOptions, type SqlRow, SqliteDatabase } from './sqlite';

export const CHAT_STORE_COMPONENT = 'chat';

export const CHAT_STORE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create chat_conversations, chat_items, chat_held, chat_transfers and chat_contacts',
    up(db) {
      db.exec(`
        CREATE TABLE chat_conversations (
          peer                 TEXT    NOT NULL PRIMARY KEY CHECK (length(peer) = 64),
          last_out_seq         INTEGER NOT NULL DEFAULT 0 CHECK (last_out_seq >= 0),
          peer_cum_ack         INTEGER NOT NULL DEFAULT 0 CHECK (peer_cum_ack >= 0),
          recv_cursor          INTEGER NOT NULL DEFAULT 0 CHECK (recv_cursor >= 0),
          last_in_message_seq  INTEGER NOT NULL DEFAULT 0,
          read_up_to           INTEGER NOT NULL DEFAULT 0,
          peer_read_up_to      INTEGER NOT NULL DEFAULT 0
        ) STRICT;
        CREATE TABLE chat_items (
          id           INTEGER NOT NULL PRIMARY KEY,
          peer         TEXT    NOT NULL REFERENCES chat_conversations (peer),
          direction    TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
          seq          INTEGER NOT NULL CHECK (seq >= 1),
          kind         TEXT    NOT NULL,
          message_id   TEXT    CHECK (message_id IS NULL OR length(message_id) = 32),
          body         BLOB    NOT NULL,
          sent_at      INTEGER NOT NULL,
          received_at  INTEGER,
          status       TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'delivered', 'read', 'received')),
          UNIQUE (peer, direction, seq)
        ) STRICT;
        CREATE INDEX chat_items_messages ON chat_items (peer, id) WHERE message_id IS NOT NULL;
        CREATE INDEX chat_items_unacked ON chat_items (peer, seq) WHERE direction = 'out' AND status IN ('pending', 'sent');
        CREATE TABLE chat_held (
          peer     TEXT    NOT NULL,
          seq      INTEGER NOT NULL CHECK (seq >= 1),
          sent_at  INTEGER NOT NULL,
          body     BLOB    NOT NULL,
          PRIMARY KEY (peer, seq)
        ) STRICT;
        CREATE TABLE chat_transfers (
          peer        TEXT    NOT NULL CHECK (length(peer) = 64),
          file_id     TEXT    NOT NULL CHECK (length(file_id) = 32),
          direction   TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
          message_id  TEXT    NOT NULL CHECK (length(message_id) = 32),
          name        TEXT    NOT NULL,
          size        INTEGER NOT NULL CHECK (size >= 0),
          sha256      BLOB    NOT NULL CHECK (length(sha256) = 32),
          chunk_size  INTEGER NOT NULL,
          bytes       INTEGER NOT NULL CHECK (bytes >= 0 AND bytes <= size),
          state       TEXT    NOT NULL CHECK (state IN ('preparing', 'active', 'complete', 'failed', 'cancelled')),
          reason      TEXT,
          created_at  INTEGER NOT NULL,
          updated_at  INTEGER NOT NULL,
          PRIMARY KEY (peer, file_id, direction)
        ) STRICT;
        CREATE TABLE chat_contacts (
          key       TEXT    NOT NULL PRIMARY KEY CHECK (length(key) = 64),
          name      TEXT    NOT NULL,
          identity  TEXT,
          added_at  INTEGER NOT NULL
        ) STRICT;
      `);
    },
  },
];

export interface SqliteChatStoreOptions extends OpenOptions {
  /** The folder for file bytes (created when missing). */
  readonly filesDir: string;
  /** The clock for times the store stamps itself (contacts, migrations). Default Date.now. */
  readonly now?: () => number;
}

const STATUSES: readonly MessageStatus[] = ['pending', 'sent', 'delivered', 'read', 'received'];
const STATES: readonly TransferState[] = ['preparing', 'active', 'complete', 'failed', 'cancelled'];

export class SqliteChatStore implements ChatStore {
  private constructor(
    private readonly db: SqliteDatabase,
    /** The folder holding file bytes. */
    readonly filesDir: string,
    private readonly clock: () => number,
  ) {}

  /** Opens (or creates) the chat database at `path` and brings its schema up to date. */
  static open(path: string, options: SqliteChatStoreOptions): SqliteChatStore {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (typeof options.filesDir !== 'string' || options.filesDir.length === 0) throw new TypeError('options.filesDir must be a non-empty string');
    if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('options.now must be a function');
    const clock = options.now ?? Date.now;
    const db = SqliteDatabase.open(path, options);
    try {
      if (!db.readOnly) {
        applyMigrations(db, CHAT_STORE_COMPONENT, CHAT_STORE_MIGRATIONS, clock());
        try {
          mkdirSync(options.filesDir, { recursive: true });
        } catch (e) {
          throw new StorageError('io', options.filesDir, `cannot create the files folder ${options.filesDir}: ${(e as Error).message}`, { cause: e });
        }
      } else {
        const v = schemaVersion(db, CHAT_STORE_COMPONENT);
        if (v !== CHAT_STORE_MIGRATIONS.length) {
          throw new StorageError(
            v > CHAT_STORE_MIGRATIONS.length ? 'schema-too-new' : 'schema-mismatch',
            path,
            `${path}: chat schema is at version ${v}, this software reads version ${CHAT_STORE_MIGRATIONS.length} (opened read-only, so it was not migrated)`,
          );
        }
      }
    } catch (e) {
      db.close();
      throw e;
    }
    return new SqliteChatStore(db, options.filesDir, clock);
  }

  get path(): string {
    return this.db.path;
  }

  /** Closes the database; later calls fail with StorageError('closed'). */
  close(): void {
    this.db.close();
  }

  // ---- row helpers ------------------------------------------------------------------------

  private corrupt(what: string): StorageError {
    return new StorageError('corrupt', this.db.path, `${this.db.path}: ${what}`);
  }

  private int(row: SqlRow, column: string): number {
    const v = row[column];
    const n = typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= 0n ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw this.corrupt(`column ${column} is not a non-negative integer`);
    return n;
  }

  private text(row: SqlRow, column: string): string {
    const v = row[column];
    if (typeof v !== 'string') throw this.corrupt(`column ${column} is not text`);
    return v;
  }

  private optText(row: SqlRow, column: string): string | undefined {
    const v = row[column];
    if (v === null || v === undefined) return undefined;
    if (typeof v !== 'string') throw this.corrupt(`column ${column} is not text`);
    return v;
  }

  private blob(row: SqlRow, column: string): Uint8Array {
    const v = row[column];
    if (!(v instanceof Uint8Array)) throw this.corrupt(`column ${column} is not a blob`);
    return v.slice();
  }

  private item(row: SqlRow): ChatItem {
    try {
      return decodeItem(this.blob(row, 'body'));
    } catch (e) {
      if (e instanceof ChatError) throw this.corrupt(`a stored chat item does not decode (${e.message})`);
      throw e;
    }
  }

  private storedItem(row: SqlRow): StoredItem {
    const direction = this.text(row, 'direction');
    const status = this.text(row, 'status') as MessageStatus;
    if ((direction !== 'in' && direction !== 'out') || !STATUSES.includes(status)) throw this.corrupt('chat_items row has an unknown direction or status');
    const base = { seq: this.int(row, 'seq'), direction, item: this.item(row), sentAt: this.int(row, 'sent_at'), status } as const;
    return row['received_at'] === null ? base : { ...base, receivedAt: this.int(row, 'received_at') };
  }

  private transferRow(row: SqlRow): FileTransfer {
    const direction = this.text(row, 'direction');
    const state = this.text(row, 'state') as TransferState;
    if ((direction !== 'in' && direction !== 'out') || !STATES.includes(state)) throw this.corrupt('chat_transfers row has an unknown direction or state');
    const reason = this.optText(row, 'reason') as FileTransfer['reason'];
    const t: FileTransfer = {
      peer: this.text(row, 'peer'),
      fileId: this.text(row, 'file_id'),
      direction,
      messageId: this.text(row, 'message_id'),
      name: this.text(row, 'name'),
      size: this.int(row, 'size'),
      sha256: this.blob(row, 'sha256'),
      chunkSize: this.int(row, 'chunk_size'),
      bytes: this.int(row, 'bytes'),
      state,
      createdAt: this.int(row, 'created_at'),
      updatedAt: this.int(row, 'updated_at'),
    };
    return reason === undefined ? t : { ...t, reason };
  }

  private getTransfer(peer: string, fileId: string, direction: Direction): FileTransfer | undefined {
    const row = this.db.get('SELECT * FROM chat_transfers WHERE peer = ? AND file_id = ? AND direction = ?', [peer, fileId, direction]);
    return row === undefined ? undefined : this.transferRow(row);
  }

  private setTransfer(t: FileTransfer, state: TransferState, reason: string | null, now: number): FileTransfer {
    const updatedAt = Math.max(t.updatedAt, now);
    this.db.run('UPDATE chat_transfers SET state = ?, reason = ?, updated_at = ? WHERE peer = ? AND file_id = ? AND direction = ?', [
      state,
      reason,
      updatedAt,
      t.peer,
      t.fileId,
      t.direction,
    ]);
    const next: FileTransfer = { ...t, state, updatedAt };
    return reason === null ? next : { ...next, reason: reason as FileTransfer['reason'] };
  }

  private convRow(peer: string): SqlRow | undefined {
    return this.db.get('SELECT * FROM chat_conversations WHERE peer = ?', [peer]);
  }

  private ensureConv(peer: string): SqlRow {
    this.db.run('INSERT OR IGNORE INTO chat_conversations (peer) VALUES (?)', [peer]);
    const row = this.convRow(peer);
    if (row === undefined) throw this.corrupt('a conversation row vanished');
    return row;
  }

  private insertItem(peer: string, direction: Direction, seq: number, item: ChatItem, body: Uint8Array, sentAt: number, receivedAt: number | null, status: MessageStatus): void {
    this.db.run(
      'INSERT INTO chat_items (peer, direction, seq, kind, message_id, body, sent_at, received_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [peer, direction, seq, item.kind, messageIdOf(item), body, sentAt, receivedAt, status],
    );
  }

  // ---- file bytes ---------------------------------------------------------------------------

  private fileName(t: Pick<FileTransfer, 'peer' | 'fileId' | 'direction'>, whole: boolean): string {
    return join(this.filesDir, `${t.peer}-${t.fileId}-${t.direction}${whole ? '' : '.part'}`);
  }

  private isWhole(t: FileTransfer): boolean {
    return t.direction === 'out' ? t.state !== 'preparing' : t.state === 'complete';
  }

  /** Where a transfer's bytes are: under the name its state gives, or (after a crash) the other. */
  private locate(t: FileTransfer): string | undefined {
    const expected = this.fileName(t, this.isWhole(t));
    if (existsSync(expected)) return expected;
    const other = this.fileName(t, !this.isWhole(t));
    return existsSync(other) ? other : undefined;
  }

  /** Renames a transfer's file to the name its (new) state gives; a failure leaves it for locate(). */
  private settleName(t: FileTransfer): void {
    const want = this.fileName(t, this.isWhole(t));
    const have = this.locate(t);
    if (have === undefined || have === want) return;
    try {
      renameSync(have, want);
      this.syncDir();
    } catch {
      // locate() finds it under the old name.
    }
  }

  private syncDir(): void {
    let fd: number | undefined;
    try {
      fd = openSync(this.filesDir, 'r');
      fsyncSync(fd);
    } catch {
      // Not every platform can sync a folder; the file's own fsync still holds its bytes.
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  private fsError(e: unknown, path: string, doing: string): StorageError {
    return new StorageError('io', path, `cannot ${doing} ${path}: ${(e as Error).message}`, { cause: e });
  }

  /** The file holding a transfer's bytes, or undefined when it has none (yet). */
  filePath(peer: string, fileId: string, direction: Direction): string | undefined {
    checkPeer(peer);
    checkId(fileId, 'fileId');
    checkDirection(direction);
    const t = this.getTransfer(peer, fileId, direction);
    return t === undefined ? undefined : this.locate(t);
  }

  // ---- ChatStore: the conversation engine ----------------------------------------------------

  async conversationState(peer: string): Promise<ConversationState> {
    checkPeer(peer);
    const row = this.convRow(peer);
    const held = this.db.all('SELECT seq FROM chat_held WHERE peer = ? ORDER BY seq', [peer]).map((r) => this.int(r, 'seq'));
    if (row === undefined) {
      return { peer, lastOutSeq: 0, peerCumAck: 0, recvCursor: 0, held, lastInMessageSeq: 0, readUpTo: 0, peerReadUpTo: 0 };
    }
    return {
      peer,
      lastOutSeq: this.int(row, 'last_out_seq'),
      peerCumAck: this.int(row, 'peer_cum_ack'),
      recvCursor: this.int(row, 'recv_cursor'),
      held,
      lastInMessageSeq: this.int(row, 'last_in_message_seq'),
      readUpTo: this.int(row, 'read_up_to'),
      peerReadUpTo: this.int(row, 'peer_read_up_to'),
    };
  }

  async appendOutgoing(peer: string, item: ChatItem, sentAt: number): Promise<AppendResult> {
    checkPeer(peer);
    checkItem(item);
    checkTime(sentAt, 'sentAt');
    const body = encodeItem(item);
    const result = this.db.transaction((): AppendResult => {
      const existing = this.convRow(peer);
      const lastOutSeq = existing === undefined ? 0 : this.int(existing, 'last_out_seq');
      const recvCursor = existing === undefined ? 0 : this.int(existing, 'recv_cursor');
      if (lastOutSeq >= 0xffff_ffff) throw new RangeError('the conversation has used every sequence number');
      let change: { t: FileTransfer; state: TransferState; reason: string | null } | undefined;
      if (item.kind === 'file-offer') {
        const t = this.getTransfer(peer, toHex(item.fileId), 'out');
        if (
          t === undefined ||
          t.state !== 'preparing' ||
          t.bytes !== t.size ||
          t.messageId !== toHex(item.messageId) ||
          t.name !== item.name ||
          t.size !== item.size ||
          t.chunkSize !== item.chunkSize ||
          toHex(t.sha256) !== toHex(item.sha256)
        ) {
          throw new RangeError('item: a file offer needs a prepared, fully copied outgoing file with the same fields');
        }
        change = { t, state: 'active', reason: null };
      } else if (item.kind === 'read') {
        if (item.upTo > recvCursor) throw new RangeError('item.upTo is beyond the items received');
      } else if (item.kind === 'file-cancel') {
        const t = this.getTransfer(peer, toHex(item.fileId), cancelTarget(item.role, true));
        if (t === undefined || isEnded(t.state)) throw new RangeError('item: no transfer of that file is going on');
        change = { t, state: cancelledState(item.reason), reason: item.reason };
      } else if (item.kind === 'file-done') {
        const t = this.getTransfer(peer, toHex(item.fileId), 'in');
        if (t === undefined || t.state !== 'active' || t.bytes !== t.size) {
          throw new RangeError('item: file done needs an active incoming transfer with every byte stored');
        }
        change = { t, state: 'complete', reason: null };
      }
      this.ensureConv(peer);
      const seq = lastOutSeq + 1;
      this.insertItem(peer, 'out', seq, item, body, sentAt, null, 'pending');
      this.db.run('UPDATE chat_conversations SET last_out_seq = ? WHERE peer = ?', [seq, peer]);
      if (item.kind === 'read') {
        this.db.run('UPDATE chat_conversations SET read_up_to = max(read_up_to, ?) WHERE peer = ?', [item.upTo, peer]);
        this.db.run(
          "UPDATE chat_items SET status = 'read' WHERE peer = ? AND direction = 'in' AND seq <= ? AND status = 'received' AND message_id IS NOT NULL",
          [peer, item.upTo],
        );
      }
      const stored: StoredItem = { seq, direction: 'out', item: structuredClone(item), sentAt, status: 'pending' };
      if (change === undefined) return { item: stored };
      return { item: stored, transfer: this.setTransfer(change.t, change.state, change.reason, sentAt) };
    });
    if (result.transfer !== undefined) this.settleName(result.transfer);
    return result;
  }

  async outgoing(peer: string, afterSeq: number, limit: number): Promise<StoredItem[]> {
    checkPeer(peer);
    checkSeqArg(afterSeq, 'afterSeq');
    checkCount(limit, 'limit', 100_000);
    return this.db
      .all(
        "SELECT * FROM chat_items WHERE peer = ? AND direction = 'out' AND status IN ('pending', 'sent') AND seq > ? ORDER BY seq LIMIT ?",
        [peer, afterSeq, limit],
      )
      .map((r) => this.storedItem(r));
  }

  async markSent(peer: string, seqs: readonly number[]): Promise<StatusChange[]> {
    checkPeer(peer);
    if (!Array.isArray(seqs)) throw new TypeError('seqs must be an array');
    seqs.forEach((s, i) => checkSeqArg(s, `seqs[${i}]`, 1));
    if (seqs.length === 0) return [];
    return this.db.transaction(() => {
      const changes: StatusChange[] = [];
      for (const s of seqs) {
        const row = this.db.get("SELECT message_id FROM chat_items WHERE peer = ? AND direction = 'out' AND seq = ? AND status = 'pending'", [peer, s]);
        if (row === undefined) continue;
        this.db.run("UPDATE chat_items SET status = 'sent' WHERE peer = ? AND direction = 'out' AND seq = ?", [peer, s]);
        const id = this.optText(row, 'message_id');
        if (id !== undefined) changes.push({ id, seq: s, status: 'sent' });
      }
      return changes;
    });
  }

  async applyAck(peer: string, cumulative: number, ranges: readonly SeqRange[]): Promise<StatusChange[]> {
    checkPeer(peer);
    return this.db.transaction(() => {
      const row = this.convRow(peer);
      checkAckArgs(cumulative, ranges, row === undefined ? 0 : this.int(row, 'last_out_seq'));
      if (row === undefined) return [];
      const changes: StatusChange[] = [];
      const spans: [number, number][] = [[1, cumulative], ...ranges.map((r): [number, number] => [r.start, r.end])];
      for (const [from, to] of spans) {
        if (to < from) continue;
        const rows = this.db.all(
          "SELECT seq, message_id FROM chat_items WHERE peer = ? AND direction = 'out' AND status IN ('pending', 'sent') AND seq BETWEEN ? AND ? ORDER BY seq",
          [peer, from, to],
        );
        if (rows.length === 0) continue;
        this.db.run(
          "UPDATE chat_items SET status = 'delivered' WHERE peer = ? AND direction = 'out' AND status IN ('pending', 'sent') AND seq BETWEEN ? AND ?",
          [peer, from, to],
        );
        for (const r of rows) {
          const id = this.optText(r, 'message_id');
          if (id !== undefined) changes.push({ id, seq: this.int(r, 'seq'), status: 'delivered' });
        }
      }
      this.db.run('UPDATE chat_conversations SET peer_cum_ack = max(peer_cum_ack, ?) WHERE peer = ?', [cumulative, peer]);
      return changes;
    });
  }

  async holdIncoming(peer: string, seq: number, sentAt: number, item: ChatItem): Promise<boolean> {
    checkPeer(peer);
    checkSeqArg(seq, 'seq', 1);
    checkTime(sentAt, 'sentAt');
    checkItem(item);
    const body = encodeItem(item);
    return this.db.transaction(() => {
      const row = this.convRow(peer);
      const cursor = row === undefined ? 0 : this.int(row, 'recv_cursor');
      if (seq === cursor + 1) throw new RangeError('seq is the next item: deliver it instead of holding it');
      if (seq <= cursor) return false;
      if (this.db.get('SELECT 1 AS x FROM chat_held WHERE peer = ? AND seq = ?', [peer, seq]) !== undefined) return false;
      this.ensureConv(peer);
      this.db.run('INSERT INTO chat_held (peer, seq, sent_at, body) VALUES (?, ?, ?, ?)', [peer, seq, sentAt, body]);
      return true;
    });
  }

  async deliverIncoming(peer: string, seq: number, sentAt: number, item: ChatItem, receivedAt: number): Promise<DeliverResult> {
    checkPeer(peer);
    checkSeqArg(seq, 'seq', 1);
    checkTime(sentAt, 'sentAt');
    checkItem(item);
    checkTime(receivedAt, 'receivedAt');
    const body = encodeItem(item);
    const result = this.db.transaction(() => {
      const res = { delivered: [] as StoredItem[], statusChanges: [] as StatusChange[], transfers: [] as FileTransfer[] };
      const row = this.convRow(peer);
      if (seq !== (row === undefined ? 0 : this.int(row, 'recv_cursor')) + 1) return res;
      this.ensureConv(peer);
      let next: { seq: number; sentAt: number; item: ChatItem; body: Uint8Array } | undefined = { seq, sentAt, item, body };
      while (next !== undefined) {
        this.db.run('DELETE FROM chat_held WHERE peer = ? AND seq = ?', [peer, next.seq]);
        this.insertItem(peer, 'in', next.seq, next.item, next.body, next.sentAt, receivedAt, 'received');
        this.db.run('UPDATE chat_conversations SET recv_cursor = ? WHERE peer = ?', [next.seq, peer]);
        if (messageIdOf(next.item) !== null) {
          this.db.run('UPDATE chat_conversations SET last_in_message_seq = ? WHERE peer = ?', [next.seq, peer]);
        }
        this.applyIncoming(peer, next.item, receivedAt, res);
        res.delivered.push({ seq: next.seq, direction: 'in', item: structuredClone(next.item), sentAt: next.sentAt, receivedAt, status: 'received' });
        const h = this.db.get('SELECT sent_at, body FROM chat_held WHERE peer = ? AND seq = ?', [peer, next.seq + 1]);
        next = h === undefined ? undefined : { seq: next.seq + 1, sentAt: this.int(h, 'sent_at'), item: this.item(h), body: this.blob(h, 'body') };
      }
      return res;
    });
    for (const t of result.transfers) this.settleName(t);
    return result;
  }

  private applyIncoming(peer: string, item: ChatItem, now: number, res: { statusChanges: StatusChange[]; transfers: FileTransfer[] }): void {
    switch (item.kind) {
      case 'text':
        return;
      case 'file-offer': {
        const fileId = toHex(item.fileId);
        if (this.getTransfer(peer, fileId, 'in') !== undefined) return;
        const t: FileTransfer = {
          peer,
          fileId,
          direction: 'in',
          messageId: toHex(item.messageId),
          name: item.name,
          size: item.size,
          sha256: item.sha256.slice(),
          chunkSize: item.chunkSize,
          bytes: 0,
          state: 'active',
          createdAt: now,
          updatedAt: now,
        };
        this.db.run(
          'INSERT INTO chat_transfers (peer, file_id, direction, message_id, name, size, sha256, chunk_size, bytes, state, reason, created_at, updated_at) ' +
            'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)',
          [peer, fileId, 'in', t.messageId, t.name, t.size, t.sha256, t.chunkSize, 0, 'active', now, now],
        );
        res.transfers.push(t);
        return;
      }
      case 'read': {
        const conv = this.convRow(peer)!;
        const upTo = Math.min(item.upTo, this.int(conv, 'last_out_seq'));
        const from = this.int(conv, 'peer_read_up_to');
        if (upTo <= from) return;
        const rows = this.db.all(
          "SELECT seq, message_id FROM chat_items WHERE peer = ? AND direction = 'out' AND message_id IS NOT NULL AND seq > ? AND seq <= ? AND status != 'read' ORDER BY seq",
          [peer, from, upTo],
        );
        this.db.run(
          "UPDATE chat_items SET status = 'read' WHERE peer = ? AND direction = 'out' AND message_id IS NOT NULL AND seq > ? AND seq <= ? AND status != 'read'",
          [peer, from, upTo],
        );
        for (const r of rows) res.statusChanges.push({ id: this.text(r, 'message_id'), seq: this.int(r, 'seq'), status: 'read' });
        this.db.run('UPDATE chat_conversations SET peer_read_up_to = ? WHERE peer = ?', [upTo, peer]);
        return;
      }
      case 'file-cancel': {
        const t = this.getTransfer(peer, toHex(item.fileId), cancelTarget(item.role, false));
        if (t === undefined || isEnded(t.state)) return;
        res.transfers.push(this.setTransfer(t, cancelledState(item.reason), item.reason, now));
        return;
      }
      case 'file-done': {
        const t = this.getTransfer(peer, toHex(item.fileId), 'out');
        if (t === undefined || t.state !== 'active') return;
        res.transfers.push(this.setTransfer(t, 'complete', null, now));
        return;
      }
    }
  }

  // ---- ChatStore: files -------------------------------------------------------------------

  async createOutgoingFile(peer: string, file: NewOutgoingFile, now: number): Promise<FileTransfer> {
    checkPeer(peer);
    checkNewOutgoingFile(file);
    checkTime(now, 'now');
    return this.db.transaction(() => {
      if (this.getTransfer(peer, file.fileId, 'out') !== undefined) throw new RangeError('file.fileId is already used for a file sent to this peer');
      this.db.run(
        'INSERT INTO chat_transfers (peer, file_id, direction, message_id, name, size, sha256, chunk_size, bytes, state, reason, created_at, updated_at) ' +
          "VALUES (?, ?, 'out', ?, ?, ?, ?, ?, 0, 'preparing', NULL, ?, ?)",
        [peer, file.fileId, file.messageId, file.name, file.size, file.sha256, file.chunkSize, now, now],
      );
      return this.getTransfer(peer, file.fileId, 'out')!;
    });
  }

  async appendFileBytes(peer: string, fileId: string, direction: Direction, offset: number, data: Uint8Array, now: number): Promise<FileTransfer> {
    checkPeer(peer);
    checkId(fileId, 'fileId');
    checkDirection(direction);
    checkOffset(offset, 'offset');
    if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array');
    if (data.length === 0) throw new RangeError('data must not be empty');
    checkTime(now, 'now');
    const t = this.getTransfer(peer, fileId, direction);
    if (t === undefined) throw new RangeError('fileId: no such transfer');
    const writable = direction === 'out' ? t.state === 'preparing' : t.state === 'active';
    if (!writable) throw new RangeError(`fileId: the transfer is ${t.state}; bytes cannot be added`);
    if (offset !== t.bytes) throw new RangeError(`offset must be ${t.bytes} (the bytes stored so far), got ${offset}`);
    if (offset + data.length > t.size) throw new RangeError(`data goes past the file's size (${t.size})`);
    const path = this.locate(t) ?? this.fileName(t, this.isWhole(t));
    const created = !existsSync(path);
    let fd: number | undefined;
    try {
      fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
      let done = 0;
      while (done < data.length) done += writeSync(fd, data, done, data.length - done, offset + done);
      ftruncateSync(fd, offset + data.length);
      fsyncSync(fd);
    } catch (e) {
      throw this.fsError(e, path, 'write');
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    if (created) this.syncDir();
    const bytes = offset + data.length;
    const updatedAt = Math.max(t.updatedAt, now);
    this.db.transaction(() => {
      const changed = this.db.run('UPDATE chat_transfers SET bytes = ?, updated_at = ? WHERE peer = ? AND file_id = ? AND direction = ? AND bytes = ?', [
        bytes,
        updatedAt,
        peer,
        fileId,
        direction,
        offset,
      ]).changes;
      if (changed !== 1) throw new RangeError('fileId: the transfer changed while its bytes were written');
    });
    return { ...t, bytes, updatedAt };
  }

  async readFileBytes(peer: string, fileId: string, direction: Direction, offset: number, length: number): Promise<Uint8Array> {
    checkPeer(peer);
    checkId(fileId, 'fileId');
    checkDirection(direction);
    checkOffset(offset, 'offset');
    checkOffset(length, 'length');
    const t = this.getTransfer(peer, fileId, direction);
    if (t === undefined) throw new RangeError('fileId: no such transfer');
    if (offset + length > t.bytes) throw new RangeError(`offset + length goes past the stored bytes (${t.bytes})`);
    const out = new Uint8Array(length);
    if (length === 0) return out;
    const path = this.locate(t);
    if (path === undefined) throw new StorageError('corrupt', this.db.path, `the bytes of file ${fileId} are missing from ${this.filesDir}`);
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n === 0) throw new StorageError('corrupt', path, `${path} is shorter than the ${t.bytes} bytes recorded for it`);
        done += n;
      }
    } catch (e) {
      if (e instanceof StorageError) throw e;
      throw this.fsError(e, path, 'read');
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    return out;
  }

  async discardFile(peer: string, fileId: string, direction: Direction): Promise<void> {
    checkPeer(peer);
    checkId(fileId, 'fileId');
    checkDirection(direction);
    const t = this.getTransfer(peer, fileId, direction);
    if (t === undefined) return;
    if (t.state !== 'preparing') throw new RangeError(`fileId: only a preparing transfer can be discarded (this one is ${t.state})`);
    const path = this.locate(t);
    this.db.transaction(() => {
      this.db.run('DELETE FROM chat_transfers WHERE peer = ? AND file_id = ? AND direction = ?', [peer, fileId, direction]);
    });
    if (path !== undefined) {
      try {
        unlinkSync(path);
      } catch {
        // An orphaned file is harmless; its transfer is gone.
      }
    }
  }

  async transfer(peer: string, fileId: string, direction: Direction): Promise<FileTransfer | undefined> {
    checkPeer(peer);
    checkId(fileId, 'fileId');
    checkDirection(direction);
    return this.getTransfer(peer, fileId, direction);
  }

  async transfers(peer?: string): Promise<FileTransfer[]> {
    if (peer !== undefined) checkPeer(peer);
    const rows =
      peer === undefined
        ? this.db.all('SELECT * FROM chat_transfers ORDER BY rowid')
        : this.db.all('SELECT * FROM chat_transfers WHERE peer = ? ORDER BY rowid', [peer]);
    return rows.map((r) => this.transferRow(r));
  }

  // ---- ChatStore: UI ----------------------------------------------------------------------

  async listConversations(): Promise<ConversationSummary[]> {
    const rows = this.db.all(
      'SELECT c.peer AS peer, k.name AS name, ' +
        '(SELECT max(i.id) FROM chat_items i WHERE i.peer = c.peer AND i.message_id IS NOT NULL) AS last_id, ' +
        "(SELECT count(*) FROM chat_items i WHERE i.peer = c.peer AND i.direction = 'in' AND i.message_id IS NOT NULL AND i.status = 'received') AS unread " +
        'FROM chat_conversations c LEFT JOIN chat_contacts k ON k.key = c.peer',
    );
    const out: { s: ConversationSummary; order: number }[] = [];
    for (const r of rows) {
      if (r['last_id'] === null) continue;
      const peer = this.text(r, 'peer');
      const lastRow = this.db.get('SELECT * FROM chat_items WHERE id = ?', [this.int(r, 'last_id')]);
      if (lastRow === undefined) throw this.corrupt('a conversation’s last message vanished');
      const name = this.optText(r, 'name');
      const s: ConversationSummary = {
        peer,
        last: messageOf(peer, this.storedItem(lastRow))!,
        unread: this.int(r, 'unread'),
        ...(name === undefined ? {} : { name }),
      };
      out.push({ s, order: this.int(r, 'last_id') });
    }
    return out.sort((a, b) => b.order - a.order).map((x) => x.s);
  }

  async listMessages(peer: string, options: ListMessagesOptions): Promise<ChatMessage[]> {
    checkPeer(peer);
    checkListOptions(options);
    let before = Number.MAX_SAFE_INTEGER;
    if (options.before !== undefined) {
      const row = this.db.get('SELECT id FROM chat_items WHERE peer = ? AND message_id = ? ORDER BY id LIMIT 1', [peer, options.before]);
      if (row === undefined) throw new RangeError('options.before: no such message');
      before = this.int(row, 'id');
    }
    const rows = this.db.all('SELECT * FROM chat_items WHERE peer = ? AND message_id IS NOT NULL AND id < ? ORDER BY id DESC LIMIT ?', [
      peer,
      before,
      options.limit,
    ]);
    return rows.reverse().map((r) => {
      const m = messageOf(peer, this.storedItem(r));
      if (m === undefined) throw this.corrupt('a chat_items row with a message id holds no message');
      return m;
    });
  }

  /**
   * Scans text messages newest first, a page of rows at a time, decoding each and comparing in
   * JavaScript (the same folding as MemoryChatStore); the cost grows with the history searched.
   */
  async searchMessages(query: string, options: SearchMessagesOptions): Promise<ChatMessage[]> {
    checkSearchArgs(query, options);
    const needle = foldForSearch(query);
    const found: ChatMessage[] = [];
    const page = 500;
    let below = Number.MAX_SAFE_INTEGER;
    for (;;) {
      const rows =
        options.peer === undefined
          ? this.db.all("SELECT * FROM chat_items WHERE kind = 'text' AND message_id IS NOT NULL AND id < ? ORDER BY id DESC LIMIT ?", [below, page])
          : this.db.all("SELECT * FROM chat_items WHERE peer = ? AND kind = 'text' AND message_id IS NOT NULL AND id < ? ORDER BY id DESC LIMIT ?", [
              options.peer,
              below,
              page,
            ]);
      for (const r of rows) {
        const stored = this.storedItem(r);
        if (stored.item.kind !== 'text' || !foldForSearch(stored.item.text).includes(needle)) continue;
        const m = messageOf(this.text(r, 'peer'), stored);
        if (m === undefined) throw this.corrupt('a chat_items text row holds no message');
        found.push(m);
        if (found.length >= options.limit) return found;
      }
      if (rows.length < page) return found;
      below = this.int(rows[rows.length - 1]!, 'id');
    }
  }

  async addContact(key: Uint8Array | string, name: string, identity?: string): Promise<Contact> {
    const k = contactKey(key);
    checkContactName(name);
    checkIdentityText(identity);
    const now = this.clock();
    return this.db.transaction(() => {
      this.db.run(
        'INSERT INTO chat_contacts (key, name, identity, added_at) VALUES (?, ?, ?, ?) ' +
          'ON CONFLICT (key) DO UPDATE SET name = excluded.name, identity = coalesce(excluded.identity, chat_contacts.identity)',
        [k, name, identity ?? null, now],
      );
      return this.contactRow(this.db.get('SELECT * FROM chat_contacts WHERE key = ?', [k])!);
    });
  }

  private contactRow(r: SqlRow): Contact {
    const identity = this.optText(r, 'identity');
    const c = { key: this.text(r, 'key'), name: this.text(r, 'name'), addedAt: this.int(r, 'added_at') };
    return identity === undefined ? c : { key: c.key, name: c.name, identity, addedAt: c.addedAt };
  }

  async contacts(): Promise<Contact[]> {
    return this.db
      .all('SELECT * FROM chat_contacts')
      .map((r) => this.contactRow(r))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.key < b.key ? -1 : 1));
  }

  async removeContact(key: Uint8Array | string): Promise<boolean> {
    const k = contactKey(key);
    return this.db.transaction(() => this.db.run('DELETE FROM chat_contacts WHERE key = ?', [k]).changes === 1);
  }
}

