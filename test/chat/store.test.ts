/**
 * Both ChatStores pass the contract suite; the SQLite one also keeps everything across a
 * reopen, keeps file bytes in `.part` files until they are whole, survives a crash between
 * writing bytes and recording them, and reports damaged rows and missing files as
 * StorageError('corrupt').
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryChatStore } from '../../node-core/chat';
import { CHAT_STORE_COMPONENT, SqliteChatStore, SqliteDatabase, StorageError, schemaVersion } from '../../node-core/io/storage';
import { fromHex, toHex } from '../../node-core/util/bytes';
import { snapshot } from './helpers';
import { chatStoreContract } from './store-contract';

const dir = mkdtempSync(join(tmpdir(), 'psp-chat-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const now = (): number => 1_700_000_000_000;

function openAt(base: string, options: { readOnly?: boolean } = {}): SqliteChatStore {
  return SqliteChatStore.open(join(base, 'chat.sqlite'), { filesDir: join(base, 'files'), now, ...options });
}

chatStoreContract('MemoryChatStore', () => ({ store: new MemoryChatStore({ now }), close: () => undefined }));
chatStoreContract('SqliteChatStore', () => {
  const store = openAt(mkdtempSync(join(dir, 'contract-')));
  return { store, close: () => store.close() };
});

const PEER = 'b0'.repeat(32);
const T0 = 1_700_000_000_000;
const mid = (k: number): Uint8Array => new Uint8Array(16).fill(k);

async function preparedFile(s: SqliteChatStore, bytes: Uint8Array, k: number) {
  const f = { fileId: toHex(mid(k)), messageId: toHex(mid(k + 100)), name: 'f.bin', size: bytes.length, sha256: sha256(bytes), chunkSize: 1024 };
  await s.createOutgoingFile(PEER, f, T0);
  return f;
}

describe('SqliteChatStore', () => {
  it('records its schema as component "chat" and keeps everything across a reopen', async () => {
    const base = mkdtempSync(join(dir, 'reopen-'));
    let s = openAt(base);
    await s.appendOutgoing(PEER, { kind: 'text', messageId: mid(1), text: 'hello' }, T0);
    await s.holdIncoming(PEER, 3, T0, { kind: 'text', messageId: mid(3), text: 'three' });
    await s.deliverIncoming(PEER, 1, T0, { kind: 'text', messageId: mid(2), text: 'one' }, T0 + 1);
    await s.addContact(PEER, 'Bob', 'sirius.chat.account.x');
    const bytes = new Uint8Array(1500).fill(9);
    const f = await preparedFile(s, bytes, 7);
    await s.appendFileBytes(PEER, f.fileId, 'out', 0, bytes, T0);
    const before = await snapshot(s, PEER);
    const contacts = await s.contacts();
    s.close();
    await expect(s.conversationState(PEER)).rejects.toMatchObject({ code: 'closed' });
    s = openAt(base);
    expect(await snapshot(s, PEER)).toEqual(before);
    expect(await s.contacts()).toEqual(contacts);
    expect((await s.conversationState(PEER)).held).toEqual([3]);
    expect(toHex(await s.readFileBytes(PEER, f.fileId, 'out', 0, 1500))).toBe(toHex(bytes));
    s.close();
    const db = SqliteDatabase.open(join(base, 'chat.sqlite'), { readOnly: true });
    expect(schemaVersion(db, CHAT_STORE_COMPONENT)).toBe(1);
    db.close();
    const ro = openAt(base, { readOnly: true });
    expect((await ro.listMessages(PEER, { limit: 10 })).map((m) => m.text)).toEqual(['hello', 'one']);
    await expect(ro.appendOutgoing(PEER, { kind: 'text', messageId: mid(4), text: 'no' }, T0)).rejects.toMatchObject({ code: 'read-only' });
    ro.close();
  });

  it('keeps a file as .part until it is whole, then under its final name', async () => {
    const base = mkdtempSync(join(dir, 'part-'));
    const s = openAt(base);
    const bytes = new Uint8Array(3000).map((_, i) => i % 251);
    // Outgoing: .part while copied in, renamed when offered.
    const f = await preparedFile(s, bytes, 1);
    await s.appendFileBytes(PEER, f.fileId, 'out', 0, bytes, T0);
    expect(s.filePath(PEER, f.fileId, 'out')).toBe(join(base, 'files', `${PEER}-${f.fileId}-out.part`));
    await s.appendOutgoing(PEER, { kind: 'file-offer', messageId: fromHex(f.messageId), fileId: fromHex(f.fileId), name: f.name, size: f.size, sha256: f.sha256, chunkSize: 1024 }, T0);
    expect(s.filePath(PEER, f.fileId, 'out')).toBe(join(base, 'files', `${PEER}-${f.fileId}-out`));
    // Incoming: .part until the done item completes it.
    const g = { messageId: mid(50), fileId: mid(51), name: 'in.bin', size: bytes.length, sha256: sha256(bytes), chunkSize: 1024 };
    await s.deliverIncoming(PEER, 1, T0, { kind: 'file-offer', ...g }, T0);
    const gid = toHex(g.fileId);
    expect(s.filePath(PEER, gid, 'in')).toBeUndefined();
    await s.appendFileBytes(PEER, gid, 'in', 0, bytes.subarray(0, 1024), T0);
    expect(s.filePath(PEER, gid, 'in')).toBe(join(base, 'files', `${PEER}-${gid}-in.part`));
    await s.appendFileBytes(PEER, gid, 'in', 1024, bytes.subarray(1024), T0);
    await s.appendOutgoing(PEER, { kind: 'file-done', fileId: g.fileId }, T0);
    const final = join(base, 'files', `${PEER}-${gid}-in`);
    expect(s.filePath(PEER, gid, 'in')).toBe(final);
    expect(toHex(new Uint8Array(readFileSync(final)))).toBe(toHex(bytes));
    expect(readdirSync(join(base, 'files')).filter((x) => x.endsWith('.part'))).toEqual([]);
    s.close();
  });

  it('after a crash between writing bytes and recording them, the next write replaces the unrecorded tail', async () => {
    const base = mkdtempSync(join(dir, 'crash-'));
    let s = openAt(base);
    const bytes = new Uint8Array(4096).map((_, i) => (i * 13) % 256);
    const g = { messageId: mid(60), fileId: mid(61), name: 'in.bin', size: bytes.length, sha256: sha256(bytes), chunkSize: 1024 };
    await s.deliverIncoming(PEER, 1, T0, { kind: 'file-offer', ...g }, T0);
    const gid = toHex(g.fileId);
    await s.appendFileBytes(PEER, gid, 'in', 0, bytes.subarray(0, 1024), T0);
    const part = s.filePath(PEER, gid, 'in')!;
    s.close();
    // The crash: a chunk reached the file (garbage here, so a wrong result shows) but not the database.
    appendFileSync(part, new Uint8Array(1500).fill(0xee));
    s = openAt(base);
    const t = (await s.transfer(PEER, gid, 'in'))!;
    expect(t.bytes).toBe(1024);
    await s.appendFileBytes(PEER, gid, 'in', 1024, bytes.subarray(1024, 2048), T0);
    expect(readFileSync(part).length).toBe(2048);
    await s.appendFileBytes(PEER, gid, 'in', 2048, bytes.subarray(2048), T0);
    expect(toHex(await s.readFileBytes(PEER, gid, 'in', 0, 4096))).toBe(toHex(bytes));
    s.close();
  });

  it('finds a file under its other name when a crash fell between the commit and the rename', async () => {
    const base = mkdtempSync(join(dir, 'rename-'));
    const s = openAt(base);
    const bytes = new Uint8Array(100).fill(3);
    const f = await preparedFile(s, bytes, 2);
    await s.appendFileBytes(PEER, f.fileId, 'out', 0, bytes, T0);
    const part = s.filePath(PEER, f.fileId, 'out')!;
    // Make the rename impossible to observe by putting the bytes back under .part after it.
    await s.appendOutgoing(PEER, { kind: 'file-offer', messageId: fromHex(f.messageId), fileId: fromHex(f.fileId), name: f.name, size: f.size, sha256: f.sha256, chunkSize: 1024 }, T0);
    const whole = s.filePath(PEER, f.fileId, 'out')!;
    const { renameSync } = await import('node:fs');
    renameSync(whole, part);
    expect(s.filePath(PEER, f.fileId, 'out')).toBe(part);
    expect(toHex(await s.readFileBytes(PEER, f.fileId, 'out', 0, 100))).toBe(toHex(bytes));
    s.close();
  });

  it('reports a damaged item row and missing file bytes as StorageError("corrupt")', async () => {
    const base = mkdtempSync(join(dir, 'corrupt-'));
    let s = openAt(base);
    await s.appendOutgoing(PEER, { kind: 'text', messageId: mid(1), text: 'fine' }, T0);
    const bytes = new Uint8Array(10).fill(1);
    const f = await preparedFile(s, bytes, 3);
    await s.appendFileBytes(PEER, f.fileId, 'out', 0, bytes, T0);
    unlinkSync(s.filePath(PEER, f.fileId, 'out')!);
    const missing = await s.readFileBytes(PEER, f.fileId, 'out', 0, 10).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(StorageError);
    expect((missing as StorageError).code).toBe('corrupt');
    s.close();
    const db = SqliteDatabase.open(join(base, 'chat.sqlite'));
    db.run("UPDATE chat_items SET body = x'09' WHERE seq = 1");
    db.close();
    s = openAt(base);
    const err = await s.listMessages(PEER, { limit: 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('corrupt');
    s.close();
  });

  it('checks its options', () => {
    expect(() => SqliteChatStore.open(join(dir, 'o.sqlite'), {} as never)).toThrow(TypeError);
    expect(() => SqliteChatStore.open(join(dir, 'o.sqlite'), { filesDir: join(dir, 'f'), now: 5 as never })).toThrow(TypeError);
    expect(existsSync(join(dir, 'o.sqlite'))).toBe(false);
  });
});

describe('SqliteChatStore search', () => {
  it('finds matches across the pages of rows it scans, newest first', async () => {
    const s = openAt(mkdtempSync(join(dir, 'search-')));
    for (let i = 1; i <= 1100; i++) {
      await s.appendOutgoing(PEER, { kind: 'text', messageId: mid(0).map((_, j) => (j < 2 ? (i >> (8 * j)) & 0xff : 7)), text: i % 100 === 0 ? `needle ${i}` : `hay ${i}` }, T0 + i);
    }
    const found = await s.searchMessages('NEEDLE', { limit: 20 });
    expect(found.map((m) => m.text)).toEqual([1100, 1000, 900, 800, 700, 600, 500, 400, 300, 200, 100].map((i) => `needle ${i}`));
    expect((await s.searchMessages('needle', { limit: 3 })).map((m) => m.seq)).toEqual([1100, 1000, 900]);
    const expected = Array.from({ length: 1100 }, (_, k) => 1100 - k).filter((i) => i % 100 !== 0 && String(i).startsWith('1'));
    expect((await s.searchMessages('hay 1', { peer: PEER, limit: 1000 })).map((m) => m.seq)).toEqual(expected);
    s.close();
  });
});
