import { describe, expect, it } from 'vitest';
import { createClient } from '../../renderer/src/client';
import {
  PAGE_SIZE,
  TYPING_EXPIRY_MS,
  TYPING_IDLE_MS,
  TYPING_REFRESH_MS,
  createChatStore,
  higherStatus,
  totalUnread,
  type ChatMessage,
} from '../../renderer/src/state/chat';
import { createUiStore } from '../../renderer/src/state/ui';
import { ALICE, BOB, CAROL, FakeBridge, FakeRuntime, flush, message, messageId } from './fakes';

function setup() {
  const fake = new FakeBridge();
  const runtime = new FakeRuntime();
  const client = createClient(fake.bridge);
  const ui = createUiStore(runtime);
  const incoming: string[] = [];
  const chat = createChatStore({
    client,
    ui,
    runtime,
    nameOf: (peer) => (peer === BOB ? 'Bob' : `Peer ${peer.slice(0, 4)}`),
    onIncoming: (m, name) => incoming.push(`${name}: ${m.text ?? ''}`),
  });
  chat.getState().connect();
  return { fake, runtime, ui, chat, incoming };
}

function summary(peer: string, unread: number, last?: ChatMessage) {
  return { peer, name: peer === BOB ? 'Bob' : 'Carol', unread, ...(last === undefined ? {} : { last }) };
}

function texts(chat: ReturnType<typeof setup>['chat'], peer: string): string[] {
  return (chat.getState().threads[peer]?.messages ?? []).map((m) => `${m.text ?? m.file?.name}:${m.status}`);
}

describe('conversations and unread counts', () => {
  it('counts an incoming message as unread while its thread is not on screen', async () => {
    const { fake, chat, incoming } = setup();
    fake.handle('chat.conversations', () => [summary(BOB, 1, message({ peer: BOB, sentAt: 5 }))]);
    await chat.getState().loadConversations();
    fake.emit('chat.message', message({ peer: BOB, text: 'are you there?', sentAt: 10 }));
    expect(chat.getState().conversations[0]).toMatchObject({ peer: BOB, unread: 2 });
    expect(chat.getState().conversations[0]?.last?.text).toBe('are you there?');
    expect(totalUnread(chat.getState())).toBe(2);
    expect(incoming).toEqual(['Bob: are you there?']);
    expect(fake.callsOf('chat.markRead')).toHaveLength(0);
  });

  it('does not count the same message twice', async () => {
    const { fake, chat } = setup();
    fake.handle('chat.conversations', () => [summary(BOB, 0)]);
    await chat.getState().loadConversations();
    const m = message({ peer: BOB });
    fake.emit('chat.message', m);
    fake.emit('chat.message', m);
    expect(chat.getState().conversations[0]?.unread).toBe(1);
    expect(chat.getState().threads[BOB]?.messages).toHaveLength(1);
  });

  it('marks read when the thread is open and visible, and not before it is visible', async () => {
    const { fake, chat } = setup();
    fake.handle('chat.conversations', () => [summary(BOB, 3)]);
    fake.handle('chat.messages', () => []);
    fake.handle('chat.markRead', () => ({}));
    await chat.getState().loadConversations();
    chat.getState().openConversation(BOB);
    await flush();
    expect(fake.callsOf('chat.markRead')).toHaveLength(0);
    expect(chat.getState().conversations[0]?.unread).toBe(3);
    chat.getState().setVisible(true);
    await flush();
    expect(fake.callsOf('chat.markRead').map((c) => c.params)).toEqual([{ peer: BOB }]);
    expect(chat.getState().conversations[0]?.unread).toBe(0);
    // A message arriving while the thread is on screen is read at once.
    fake.emit('chat.message', message({ peer: BOB, text: 'seen' }));
    await flush();
    expect(chat.getState().conversations[0]?.unread).toBe(0);
    expect(fake.callsOf('chat.markRead')).toHaveLength(2);
  });

  it('orders conversations by their newest message and keeps one opened from the contact list', async () => {
    const { fake, chat } = setup();
    fake.handle('chat.conversations', () => [summary(BOB, 0, message({ peer: BOB, sentAt: 5 })), summary(CAROL, 0, message({ peer: CAROL, sentAt: 9 }))]);
    fake.handle('chat.messages', () => []);
    await chat.getState().loadConversations();
    expect(chat.getState().conversations.map((c) => c.peer)).toEqual([CAROL, BOB]);
    chat.getState().openConversation(ALICE);
    expect(chat.getState().conversations.map((c) => c.peer)).toContain(ALICE);
    await chat.getState().loadConversations();
    expect(chat.getState().conversations.map((c) => c.peer)).toContain(ALICE);
    expect(chat.getState().conversations.find((c) => c.peer === ALICE)?.name).toBe('Peer aaaa');
  });

  it('fetches the list when a message comes from a new peer', async () => {
    const { fake, chat } = setup();
    fake.emit('chat.message', message({ peer: CAROL, text: 'hi, new here' }));
    expect(chat.getState().conversations[0]).toMatchObject({ peer: CAROL, unread: 1 });
    fake.next('chat.conversations').resolve([summary(CAROL, 1, message({ peer: CAROL }))]);
    await flush();
    expect(chat.getState().conversations[0]?.name).toBe('Carol');
  });

  it('fetches the list again if a message arrives while it is being fetched', async () => {
    const { fake, chat } = setup();
    fake.handle('chat.conversations', () => [summary(BOB, 0)]);
    await chat.getState().loadConversations();
    fake.hold('chat.conversations');
    const load = chat.getState().loadConversations();
    fake.emit('chat.message', message({ peer: BOB }));
    expect(chat.getState().conversations[0]?.unread).toBe(1);
    // The answer on its way was made before the message: applying it would lose the unread count.
    fake.next('chat.conversations').resolve([summary(BOB, 0)]);
    await flush();
    expect(chat.getState().conversations[0]?.unread).toBe(1);
    fake.next('chat.conversations').resolve([summary(BOB, 1)]);
    await load;
    expect(chat.getState().conversations.map((c) => [c.peer, c.unread])).toEqual([[BOB, 1]]);
    expect(fake.callsOf('chat.conversations')).toHaveLength(3);
  });
});

describe('sending', () => {
  it('shows a pending message at once and replaces it with the stored one', async () => {
    const { fake, chat } = setup();
    const send = chat.getState().send(BOB, 'hello Bob');
    const local = chat.getState().threads[BOB]?.messages[0];
    expect(local).toMatchObject({ text: 'hello Bob', status: 'pending', direction: 'out' });
    expect(local?.localId).toBeDefined();
    expect(chat.getState().conversations[0]?.last?.text).toBe('hello Bob');
    const call = fake.next('chat.send');
    expect(call.params).toEqual({ peer: BOB, text: 'hello Bob' });
    const stored = message({ peer: BOB, direction: 'out', text: 'hello Bob', status: 'sent' });
    call.resolve(stored);
    await expect(send).resolves.toBe(true);
    const messages = chat.getState().threads[BOB]?.messages ?? [];
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ id: stored.id, status: 'sent', key: local?.key });
    expect(messages[0]?.localId).toBeUndefined();
    expect(chat.getState().conversations[0]?.last?.id).toBe(stored.id);
  });

  it('does not show a message twice when its event arrives before the answer', async () => {
    const { fake, chat } = setup();
    const send = chat.getState().send(BOB, 'race');
    const stored = message({ peer: BOB, direction: 'out', text: 'race', status: 'sent' });
    fake.emit('chat.message', stored);
    fake.emit('chat.status', { peer: BOB, id: stored.id, status: 'delivered' });
    expect(texts(chat, BOB)).toEqual(['race:delivered']);
    fake.next('chat.send').resolve(stored);
    await send;
    expect(texts(chat, BOB)).toEqual(['race:delivered']);
    expect(chat.getState().threads[BOB]?.messages[0]?.id).toBe(stored.id);
    expect(chat.getState().conversations[0]?.unread).toBe(0);
  });

  it('applies a status that arrived before its message', async () => {
    const { fake, chat } = setup();
    const send = chat.getState().send(BOB, 'fast');
    const stored = message({ peer: BOB, direction: 'out', text: 'fast', status: 'sent' });
    fake.emit('chat.status', { peer: BOB, id: stored.id, status: 'read' });
    fake.next('chat.send').resolve(stored);
    await send;
    expect(texts(chat, BOB)).toEqual(['fast:read']);
  });

  it('never moves a status back', async () => {
    const { fake, chat } = setup();
    const stored = message({ peer: BOB, direction: 'out', text: 'x', status: 'sent' });
    fake.emit('chat.message', stored);
    fake.emit('chat.status', { peer: BOB, id: stored.id, status: 'read' });
    fake.emit('chat.status', { peer: BOB, id: stored.id, status: 'delivered' });
    expect(texts(chat, BOB)).toEqual(['x:read']);
    expect(chat.getState().conversations[0]?.last?.status).toBe('read');
    expect(higherStatus('sent', 'failed')).toBe('failed');
    expect(higherStatus('delivered', 'failed')).toBe('delivered');
  });

  it('keeps a message that could not be sent, with its text, and sends it again on retry', async () => {
    const { fake, chat, ui } = setup();
    const send = chat.getState().send(BOB, 'important words');
    fake.next('chat.send').fail('backend_unavailable', 'down');
    await expect(send).resolves.toBe(false);
    const failed = chat.getState().threads[BOB]?.messages[0];
    expect(failed).toMatchObject({ text: 'important words', status: 'failed' });
    expect(failed?.failure).toMatch(/not running/);
    expect(ui.getState().error?.text).toMatch(/^Could not send the message\./);
    const retry = chat.getState().retry(BOB, failed?.key ?? '');
    expect(fake.next('chat.send').params).toEqual({ peer: BOB, text: 'important words' });
    fake.next('chat.send').resolve(message({ peer: BOB, direction: 'out', text: 'important words', status: 'sent' }));
    await expect(retry).resolves.toBe(true);
    expect(texts(chat, BOB)).toEqual(['important words:sent']);
  });

  it('lets a failed message be deleted', async () => {
    const { fake, chat } = setup();
    const send = chat.getState().send(BOB, 'oops');
    fake.next('chat.send').fail('timeout', 'late');
    await send;
    const key = chat.getState().threads[BOB]?.messages[0]?.key ?? '';
    chat.getState().discard(BOB, key);
    expect(chat.getState().threads[BOB]?.messages).toEqual([]);
    await expect(chat.getState().retry(BOB, key)).resolves.toBe(false);
  });

  it('refuses empty and over-long texts without calling the backend', async () => {
    const { fake, chat, ui } = setup();
    await expect(chat.getState().send(BOB, '   ')).resolves.toBe(false);
    await expect(chat.getState().send(BOB, 'é'.repeat(32 * 1024 + 1))).resolves.toBe(false);
    expect(ui.getState().error?.text).toMatch(/64 KiB/);
    expect(fake.calls).toHaveLength(0);
    expect(chat.getState().threads[BOB]).toBeUndefined();
    await expect(chat.getState().send('B0B', 'hi')).rejects.toThrow(RangeError);
  });
});

describe('history', () => {
  it('merges a page with messages that events brought meanwhile', async () => {
    const { fake, chat } = setup();
    chat.getState().openConversation(BOB);
    const newer = message({ peer: BOB, text: 'newest', sentAt: 30 });
    fake.emit('chat.message', newer);
    const older = message({ peer: BOB, text: 'older', sentAt: 10 });
    const call = fake.next('chat.messages');
    expect(call.params).toEqual({ peer: BOB, limit: PAGE_SIZE });
    call.resolve([older, { ...newer }]);
    await flush();
    expect(texts(chat, BOB)).toEqual(['older:received', 'newest:received']);
    expect(chat.getState().threads[BOB]).toMatchObject({ loaded: true, loading: false, hasMore: false });
  });

  it('loads older pages before the oldest stored message', async () => {
    const { fake, chat } = setup();
    const page = Array.from({ length: PAGE_SIZE }, (_, i) => message({ peer: BOB, sentAt: 1000 + i, text: `m${i}` }));
    chat.getState().openConversation(BOB);
    fake.next('chat.messages').resolve(page);
    await flush();
    expect(chat.getState().threads[BOB]?.hasMore).toBe(true);
    const more = chat.getState().loadOlder(BOB);
    expect(fake.next('chat.messages').params).toEqual({ peer: BOB, before: page[0]?.id, limit: PAGE_SIZE });
    fake.next('chat.messages').resolve([message({ peer: BOB, sentAt: 5, text: 'first ever' })]);
    await more;
    expect(chat.getState().threads[BOB]?.messages[0]?.text).toBe('first ever');
    expect(chat.getState().threads[BOB]?.messages).toHaveLength(PAGE_SIZE + 1);
    expect(chat.getState().threads[BOB]?.hasMore).toBe(false);
  });

  it('drops answers that arrive after clear()', async () => {
    const { fake, chat } = setup();
    chat.getState().openConversation(BOB);
    chat.getState().clear();
    fake.next('chat.messages').resolve([message({ peer: BOB })]);
    await flush();
    expect(chat.getState().threads).toEqual({});
    expect(chat.getState().activePeer).toBeNull();
  });
});

describe('typing', () => {
  it('says "typing" once per refresh period and "stopped" after a pause', () => {
    const { fake, chat, runtime } = setup();
    fake.handle('chat.typing', () => ({}));
    chat.getState().composing(BOB);
    runtime.advance(1000);
    chat.getState().composing(BOB);
    expect(fake.callsOf('chat.typing').map((c) => c.params)).toEqual([{ peer: BOB, active: true }]);
    runtime.advance(TYPING_REFRESH_MS);
    chat.getState().composing(BOB);
    expect(fake.callsOf('chat.typing')).toHaveLength(2);
    runtime.advance(TYPING_IDLE_MS - 1);
    expect(fake.callsOf('chat.typing')).toHaveLength(2);
    runtime.advance(1);
    expect(fake.callsOf('chat.typing').map((c) => c.params)).toEqual([
      { peer: BOB, active: true },
      { peer: BOB, active: true },
      { peer: BOB, active: false },
    ]);
  });

  it('stops typing when the message is sent or the conversation changes', () => {
    const { fake, chat } = setup();
    fake.handle('chat.typing', () => ({}));
    fake.handle('chat.messages', () => []);
    chat.getState().openConversation(BOB);
    chat.getState().composing(BOB);
    void chat.getState().send(BOB, 'done');
    expect(fake.callsOf('chat.typing').map((c) => c.params)).toEqual([
      { peer: BOB, active: true },
      { peer: BOB, active: false },
    ]);
    chat.getState().composing(BOB);
    chat.getState().openConversation(CAROL);
    expect(fake.callsOf('chat.typing').at(-1)?.params).toEqual({ peer: BOB, active: false });
  });

  it("shows a peer's typing until told otherwise, a message arrives, or it expires", () => {
    const { fake, chat, runtime } = setup();
    fake.emit('chat.typing', { peer: BOB, active: true });
    expect(chat.getState().typing[BOB]).toBe(true);
    fake.emit('chat.message', message({ peer: BOB }));
    expect(chat.getState().typing[BOB]).toBeUndefined();
    fake.emit('chat.typing', { peer: BOB, active: true });
    runtime.advance(TYPING_EXPIRY_MS - 1);
    expect(chat.getState().typing[BOB]).toBe(true);
    runtime.advance(1);
    expect(chat.getState().typing[BOB]).toBeUndefined();
    fake.emit('chat.typing', { peer: BOB, active: true });
    fake.emit('chat.typing', { peer: BOB, active: false });
    expect(chat.getState().typing[BOB]).toBeUndefined();
  });
});

describe('files', () => {
  const fileId = 'f'.repeat(32);

  it('shows the progress of an incoming file and its completion', () => {
    const { fake, chat } = setup();
    fake.emit(
      'chat.message',
      message({ peer: BOB, kind: 'file', text: undefined, file: { fileId, name: 'photo.jpg', size: 1000, transferred: 0, complete: false } }),
    );
    fake.emit('chat.file', { peer: BOB, fileId, bytes: 400, total: 1000, direction: 'in', complete: false });
    expect(chat.getState().threads[BOB]?.messages[0]?.file).toMatchObject({ transferred: 400, complete: false });
    // A late, smaller progress figure does not move the bar back.
    fake.emit('chat.file', { peer: BOB, fileId, bytes: 300, total: 1000, direction: 'in', complete: false });
    expect(chat.getState().transfers[fileId]?.bytes).toBe(400);
    fake.emit('chat.file', { peer: BOB, fileId, bytes: 1000, total: 1000, direction: 'in', complete: true });
    expect(chat.getState().threads[BOB]?.messages[0]?.file).toMatchObject({ transferred: 1000, complete: true });
  });

  it('sends a file and applies progress that came before the answer', async () => {
    const { fake, chat } = setup();
    const send = chat.getState().sendFile(BOB, 'notes.txt', 'aGVsbG8=', 5);
    expect(chat.getState().threads[BOB]?.messages[0]).toMatchObject({ kind: 'file', status: 'pending', file: { name: 'notes.txt', fileId: '' } });
    const call = fake.next('chat.sendFile');
    expect(call.params).toEqual({ peer: BOB, name: 'notes.txt', data: 'aGVsbG8=' });
    fake.emit('chat.file', { peer: BOB, fileId, bytes: 5, total: 5, direction: 'out', complete: true });
    call.resolve(message({ peer: BOB, direction: 'out', kind: 'file', text: undefined, status: 'sent', file: { fileId, name: 'notes.txt', size: 5, transferred: 0, complete: false } }));
    await send;
    expect(chat.getState().threads[BOB]?.messages).toHaveLength(1);
    expect(chat.getState().threads[BOB]?.messages[0]?.file).toMatchObject({ fileId, transferred: 5, complete: true });
  });

  it('refuses files over 16 MiB and data that is not base64', async () => {
    const { fake, chat, ui } = setup();
    await expect(chat.getState().sendFile(BOB, 'big.bin', '', 16 * 1024 * 1024 + 1)).resolves.toBe(false);
    expect(ui.getState().error?.text).toBe('Files can be at most 16 MiB.');
    await expect(chat.getState().sendFile(BOB, 'x.bin', 'not base64!', 3)).resolves.toBe(false);
    expect(fake.calls).toHaveLength(0);
  });

  it('fetches file bytes and reports failures', async () => {
    const { fake, chat, ui } = setup();
    const got = chat.getState().fetchFile(BOB, fileId);
    fake.next('chat.fileData').resolve({ name: 'photo.jpg', data: 'AAEC' });
    await expect(got).resolves.toEqual({ name: 'photo.jpg', data: 'AAEC' });
    const failed = chat.getState().fetchFile(BOB, fileId);
    fake.next('chat.fileData').fail('chat.file_incomplete', 'the file has not fully arrived');
    await expect(failed).resolves.toBeNull();
    expect(ui.getState().error?.text).toBe('Could not open the file. The file has not fully arrived.');
    await expect(chat.getState().fetchFile(BOB, 'xyz')).rejects.toThrow(RangeError);
  });
});

describe('search', () => {
  it('keeps only the answer to the newest query', async () => {
    const { fake, chat } = setup();
    const first = chat.getState().searchMessages('hel');
    const second = chat.getState().searchMessages('hello', BOB);
    const hit = message({ peer: BOB, text: 'hello there', id: messageId(7) });
    expect(fake.callsOf('chat.search').map((c) => c.params)).toEqual([
      { query: 'hel', limit: 50 },
      { query: 'hello', peer: BOB, limit: 50 },
    ]);
    fake.callsOf('chat.search')[1]?.resolve([hit]);
    await second;
    fake.callsOf('chat.search')[0]?.resolve([message({ peer: CAROL, text: 'help' })]);
    await first;
    expect(chat.getState().search).toMatchObject({ query: 'hello', peer: BOB, loading: false, done: true });
    expect(chat.getState().search.results.map((m) => m.id)).toEqual([hit.id]);
  });

  it('clears on an empty query without asking', async () => {
    const { fake, chat } = setup();
    await chat.getState().searchMessages('   ');
    expect(fake.calls).toHaveLength(0);
    expect(chat.getState().search.done).toBe(false);
  });
});

describe('drafts', () => {
  it('keeps a draft per conversation and forgets it on clear', () => {
    const { chat } = setup();
    chat.getState().setDraft(BOB, 'half a tho');
    chat.getState().setDraft(CAROL, 'x');
    chat.getState().setDraft(CAROL, '');
    expect(chat.getState().drafts).toEqual({ [BOB]: 'half a tho' });
    chat.getState().clear();
    expect(chat.getState().drafts).toEqual({});
  });
});
