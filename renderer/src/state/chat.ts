/**
 * Chat slice: conversations with unread counts, the messages of each thread, delivery states,
 * typing, file transfers and search.
 *
 * Messages are merged by id, never replaced wholesale, so an answer to `chat.messages` and the
 * `chat.message` / `chat.status` / `chat.file` events can arrive in any order:
 * - a status never goes back (pending → sent → delivered → read; see {@link STATUS_RANK});
 * - a status for a message not seen yet is kept until the message arrives;
 * - a message this window sends is shown at once as "pending" and replaced by the stored message
 *   from the answer (or from the event, whichever comes first); if sending fails it stays, marked
 *   failed, with its text, so nothing written is lost and it can be sent again.
 *
 * A thread counts as read while it is open and visible (`setVisible`); the slice then calls
 * `chat.markRead`. While a person types, `chat.typing` is sent at most every few seconds and
 * switched off after a pause, on send, and when the conversation changes.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { EventPayload, MethodResult } from '../../../app/contract';
import { errorMessage, type SiriusClient } from '../client';
import { MAX_SEARCH_LENGTH, fileProblem, messageTextProblem } from '../lib/limits';
import type { Runtime, TimerHandle } from './runtime';
import { createReloader } from './sync';
import type { UiStore } from './ui';

export type ChatMessage = MethodResult<'chat.send'>;
export type MessageStatus = ChatMessage['status'];
export type ConversationSummary = MethodResult<'chat.conversations'>[number];
export type FileInfo = NonNullable<ChatMessage['file']>;
export type FileEvent = EventPayload<'chat.file'>;

/** A message as the UI holds it. */
export interface UiMessage extends ChatMessage {
  /** Stable React key: the local id for messages this window sent, the message id otherwise. */
  readonly key: string;
  /** Set while the message exists only in this window (before the backend's answer). */
  readonly localId?: string;
  /** Why sending failed, in words for the user. */
  readonly failure?: string;
}

export interface Thread {
  /** Oldest first. */
  readonly messages: readonly UiMessage[];
  /** The newest page was fetched. */
  readonly loaded: boolean;
  readonly loading: boolean;
  /** Older messages may exist beyond the oldest one held. */
  readonly hasMore: boolean;
}

export interface Transfer {
  readonly peer: string;
  readonly bytes: number;
  readonly total: number;
  readonly direction: 'in' | 'out';
  readonly complete: boolean;
  readonly failed?: string;
}

export interface SearchState {
  readonly query: string;
  /** Search in one conversation, or all when null. */
  readonly peer: string | null;
  readonly results: readonly ChatMessage[];
  readonly loading: boolean;
  /** The query has been answered (so "no results" can be told apart from "not asked yet"). */
  readonly done: boolean;
}

export interface ChatState {
  /** Newest activity first. */
  readonly conversations: readonly ConversationSummary[];
  readonly conversationsLoaded: boolean;
  readonly threads: Readonly<Record<string, Thread>>;
  /** The conversation open in the thread view. */
  readonly activePeer: string | null;
  /** Whether the thread view is on screen and the window is visible. */
  readonly visible: boolean;
  /** Peers typing right now. */
  readonly typing: Readonly<Record<string, true>>;
  /** File transfers by file id, from `chat.file` events. */
  readonly transfers: Readonly<Record<string, Transfer>>;
  readonly search: SearchState;
  /** What is written but not sent yet, per conversation. */
  readonly drafts: Readonly<Record<string, string>>;

  connect(): () => void;
  loadConversations(): Promise<void>;
  openConversation(peer: string): void;
  closeConversation(): void;
  setVisible(visible: boolean): void;
  loadOlder(peer: string): Promise<void>;
  /** Sends a text; resolves false when it was refused here or failed (then shown in the banner). */
  send(peer: string, text: string): Promise<boolean>;
  /** Sends a file given as base64 (`size` is its decoded length). */
  sendFile(peer: string, name: string, data: string, size: number): Promise<boolean>;
  /** Sends a failed message again. */
  retry(peer: string, key: string): Promise<boolean>;
  /** Removes a failed message from the thread. */
  discard(peer: string, key: string): void;
  /** A complete file's bytes (base64), or null (error shown in the banner). */
  fetchFile(peer: string, fileId: string): Promise<MethodResult<'chat.fileData'> | null>;
  markRead(peer: string): Promise<void>;
  /** Called on each keystroke in the composer. */
  composing(peer: string): void;
  /** Says "not typing" to `peer` (or whoever was told "typing") if needed. */
  stopTyping(peer?: string): void;
  setDraft(peer: string, text: string): void;
  searchMessages(query: string, peer?: string | null): Promise<void>;
  clearSearch(): void;
  clear(): void;
}

export type ChatStore = StoreApi<ChatState>;

export interface ChatDeps {
  readonly client: SiriusClient;
  readonly ui: UiStore;
  readonly runtime: Runtime;
  /** The name to show for a peer with no conversation yet (contact name, or a short key). */
  readonly nameOf: (peer: string) => string;
  /** Told about a new incoming message that is not on screen. */
  readonly onIncoming?: (message: ChatMessage, name: string) => void;
}

/** Messages fetched per page. */
export const PAGE_SIZE = 100;
/** Results asked for per search. */
export const SEARCH_LIMIT = 50;
/** "Typing" is sent again after this long while a person keeps typing. */
export const TYPING_REFRESH_MS = 3000;
/** "Not typing" is sent after a pause this long. */
export const TYPING_IDLE_MS = 4000;
/** A peer's "typing" is dropped if not renewed within this time (the "stopped" event may be lost). */
export const TYPING_EXPIRY_MS = 8000;

/** Order of delivery states; a message's status only moves up. */
export const STATUS_RANK: Readonly<Record<MessageStatus, number>> = {
  pending: 0,
  received: 1,
  sent: 1,
  failed: 2,
  delivered: 3,
  read: 4,
};

const PEER_RE = /^[0-9a-f]{64}$/;
const FILE_ID_RE = /^[0-9a-f]{32}$/;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

function checkPeer(peer: unknown, name = 'peer'): asserts peer is string {
  if (typeof peer !== 'string') throw new TypeError(`${name} must be a string`);
  if (!PEER_RE.test(peer)) throw new RangeError(`${name} must be 64 lower-case hex characters`);
}

/** The higher of two statuses by {@link STATUS_RANK}. */
export function higherStatus(a: MessageStatus, b: MessageStatus): MessageStatus {
  return STATUS_RANK[b] > STATUS_RANK[a] ? b : a;
}

function mergeFile(a: FileInfo | undefined, b: FileInfo | undefined): FileInfo | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const failed = b.failed ?? a.failed;
  const merged: FileInfo = {
    fileId: b.fileId.length > 0 ? b.fileId : a.fileId,
    name: b.name,
    size: b.size,
    transferred: Math.max(a.transferred, b.transferred),
    complete: a.complete || b.complete,
  };
  return failed === undefined ? merged : { ...merged, failed };
}

function withTransfer(file: FileInfo | undefined, transfer: Transfer | undefined): FileInfo | undefined {
  if (file === undefined || transfer === undefined) return file;
  return mergeFile(file, {
    fileId: file.fileId,
    name: file.name,
    size: file.size,
    transferred: transfer.bytes,
    complete: transfer.complete,
    ...(transfer.failed === undefined ? {} : { failed: transfer.failed }),
  });
}

/** A stored message as the UI holds it (no local id, no failure). */
function fromStored(message: ChatMessage, key: string): UiMessage {
  return { ...message, key };
}

function compareMessages(a: UiMessage, b: UiMessage): number {
  if (a.sentAt !== b.sentAt) return a.sentAt - b.sentAt;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function newerMessage(a: ChatMessage | undefined, b: ChatMessage): ChatMessage {
  if (a === undefined) return b;
  if (a.id === b.id) return { ...b, status: higherStatus(a.status, b.status) };
  return b.sentAt >= a.sentAt ? b : a;
}

function sortConversations(list: readonly ConversationSummary[]): ConversationSummary[] {
  return [...list].sort((a, b) => (b.last?.sentAt ?? 0) - (a.last?.sentAt ?? 0) || (a.peer < b.peer ? -1 : 1));
}

const EMPTY_THREAD: Thread = { messages: [], loaded: false, loading: false, hasMore: false };
const EMPTY_SEARCH: SearchState = { query: '', peer: null, results: [], loading: false, done: false };

type RetryPayload = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'file'; readonly name: string; readonly data: string; readonly size: number };

export function createChatStore(deps: ChatDeps): ChatStore {
  const { client, ui, runtime, nameOf } = deps;
  const onIncoming = deps.onIncoming ?? (() => {});
  if (typeof nameOf !== 'function') throw new TypeError('nameOf must be a function');
  if (typeof onIncoming !== 'function') throw new TypeError('onIncoming must be a function');

  /** Bumped by clear(): answers to requests made before it are dropped. */
  let generation = 0;
  let nextLocal = 1;
  /** Statuses that arrived before their message. */
  const earlyStatus = new Map<string, MessageStatus>();
  /** What a failed message carried, so it can be sent again. */
  const retryPayloads = new Map<string, RetryPayload>();
  const typingTimers = new Map<string, TimerHandle>();
  /** The typing state this window announced. */
  let typingOut: { peer: string; sentAt: number } | null = null;
  let typingIdleTimer: TimerHandle | null = null;
  const readInFlight = new Set<string>();
  const readAgain = new Set<string>();
  let searchToken = 0;

  return createStore<ChatState>()((set, get) => {
    const conversationsReloader = createReloader(
      async () => ({ generation, list: await client.call('chat.conversations', {}) }),
      (answer) => {
        if (answer.generation !== generation) return;
        const state = get();
        const fromBackend = new Set(answer.list.map((c) => c.peer));
        // Keep conversations that exist only here so far (opened from the contact list, or
        // started by a message the list does not include yet).
        const localOnly = state.conversations.filter(
          (c) => !fromBackend.has(c.peer) && (c.peer === state.activePeer || (state.threads[c.peer]?.messages.length ?? 0) > 0),
        );
        set({ conversations: sortConversations([...answer.list, ...localOnly]), conversationsLoaded: true });
        maybeMarkRead();
      },
    );

    function thread(peer: string): Thread {
      return get().threads[peer] ?? EMPTY_THREAD;
    }

    function setThread(peer: string, update: Partial<Thread>): void {
      set({ threads: { ...get().threads, [peer]: { ...thread(peer), ...update } } });
    }

    function viewing(peer: string): boolean {
      const state = get();
      return state.visible && state.activePeer === peer;
    }

    /** Updates (or creates) the summary of `peer`'s conversation. */
    function updateSummary(peer: string, change: (summary: ConversationSummary) => ConversationSummary): boolean {
      const list = get().conversations;
      const existing = list.find((c) => c.peer === peer);
      const base: ConversationSummary = existing ?? { peer, name: nameOf(peer), unread: 0 };
      const next = change(base);
      set({ conversations: sortConversations([...list.filter((c) => c.peer !== peer), next]) });
      return existing === undefined;
    }

    /** Applies a status that arrived early, and file progress already seen, to `message`. */
    function withPending(message: UiMessage): UiMessage {
      let result = message;
      const early = earlyStatus.get(message.id);
      if (early !== undefined) {
        earlyStatus.delete(message.id);
        result = { ...result, status: higherStatus(result.status, early) };
      }
      if (result.file !== undefined && result.file.fileId.length > 0) {
        const file = withTransfer(result.file, get().transfers[result.file.fileId]);
        if (file !== undefined) result = { ...result, file };
      }
      return result;
    }

    /**
     * Puts a stored message into its thread: merges with a copy held under the same id, or with the
     * local message `localId` (our own send), and keeps the newest status. With `keepLocalId` the
     * merged message keeps `localId`, so the answer to the send still finds it.
     * Returns whether the message was new to this window.
     */
    function upsertStored(message: ChatMessage, localId?: string, keepLocalId = false): boolean {
      const messages = thread(message.peer).messages;
      const sameId = messages.find((m) => m.id === message.id);
      const local = localId === undefined ? undefined : messages.find((m) => m.localId === localId);
      const previous = [...new Set([sameId, local])].filter((m): m is UiMessage => m !== undefined);
      let merged = fromStored(message, local?.key ?? sameId?.key ?? message.id);
      for (const old of previous) {
        const file = mergeFile(old.file, merged.file);
        merged = { ...merged, status: higherStatus(old.status, merged.status), ...(file === undefined ? {} : { file }) };
      }
      const pendingLocal = keepLocalId ? localId : localId === undefined ? sameId?.localId : undefined;
      if (pendingLocal !== undefined) merged = { ...merged, localId: pendingLocal };
      merged = withPending(merged);
      const rest = messages.filter((m) => !previous.includes(m));
      setThread(message.peer, { messages: [...rest, merged].sort(compareMessages) });
      return previous.length === 0;
    }

    /** An outgoing message from an event that may be the stored copy of one we are still sending. */
    function matchLocal(message: ChatMessage): string | undefined {
      if (message.direction !== 'out') return undefined;
      const candidate = thread(message.peer).messages.find(
        (m) =>
          m.localId !== undefined &&
          m.id === m.localId &&
          m.status === 'pending' &&
          m.kind === message.kind &&
          (message.kind === 'text' ? m.text === message.text : m.file?.name === message.file?.name),
      );
      return candidate?.localId;
    }

    function onMessage(message: ChatMessage): void {
      const localId = matchLocal(message);
      // When the event comes before the answer to our send, the local message takes the stored
      // one's id and keeps its local id, so the answer still finds it.
      const isNew = localId === undefined ? upsertStored(message) : (upsertStored(message, localId, true), false);
      const peer = message.peer;
      const onScreen = viewing(peer);
      const countsUnread = isNew && message.direction === 'in' && message.status !== 'read' && !onScreen;
      const created = updateSummary(peer, (s) => ({
        ...s,
        last: localId !== undefined && s.last?.id === localId ? message : newerMessage(s.last, message),
        unread: s.unread + (countsUnread ? 1 : 0),
      }));
      conversationsReloader.invalidate();
      if (created) void loadConversations();
      if (message.direction === 'in') {
        clearTyping(peer);
        if (onScreen) void markRead(peer);
        else if (isNew) onIncoming(message, get().conversations.find((c) => c.peer === peer)?.name ?? nameOf(peer));
      }
    }

    function onStatus({ peer, id, status }: EventPayload<'chat.status'>): void {
      const messages = thread(peer).messages;
      const target = messages.find((m) => m.id === id);
      if (target === undefined) {
        earlyStatus.set(id, higherStatus(earlyStatus.get(id) ?? 'pending', status));
      } else {
        const next = higherStatus(target.status, status);
        setThread(peer, { messages: messages.map((m) => (m === target ? { ...m, status: next } : m)) });
      }
      const summary = get().conversations.find((c) => c.peer === peer);
      if (summary?.last?.id === id) {
        updateSummary(peer, (s) => (s.last === undefined ? s : { ...s, last: { ...s.last, status: higherStatus(s.last.status, status) } }));
      }
    }

    function clearTyping(peer: string): void {
      const timer = typingTimers.get(peer);
      if (timer !== undefined) runtime.clearTimer(timer);
      typingTimers.delete(peer);
      if (get().typing[peer] !== undefined) {
        const typing = { ...get().typing };
        delete typing[peer];
        set({ typing });
      }
    }

    function onTyping({ peer, active }: EventPayload<'chat.typing'>): void {
      clearTyping(peer);
      if (!active) return;
      set({ typing: { ...get().typing, [peer]: true } });
      typingTimers.set(
        peer,
        runtime.setTimer(() => clearTyping(peer), TYPING_EXPIRY_MS),
      );
    }

    function onFile(event: FileEvent): void {
      const previous = get().transfers[event.fileId];
      const transfer: Transfer = {
        peer: event.peer,
        bytes: Math.max(event.bytes, previous?.bytes ?? 0),
        total: event.total,
        direction: event.direction,
        complete: event.complete || (previous?.complete ?? false),
        ...(event.failed === undefined ? {} : { failed: event.failed }),
      };
      set({ transfers: { ...get().transfers, [event.fileId]: transfer } });
      const messages = thread(event.peer).messages;
      if (messages.some((m) => m.file?.fileId === event.fileId)) {
        setThread(event.peer, {
          messages: messages.map((m) => {
            if (m.file?.fileId !== event.fileId) return m;
            const file = withTransfer(m.file, transfer);
            return file === undefined ? m : { ...m, file };
          }),
        });
      }
    }

    async function loadConversations(): Promise<void> {
      try {
        await conversationsReloader.reload();
      } catch (error) {
        ui.getState().reportError(error, 'Could not load your conversations.');
      }
    }

    async function loadPage(peer: string, before?: string): Promise<void> {
      const current = thread(peer);
      if (current.loading) return;
      const started = generation;
      setThread(peer, { loading: true });
      try {
        const params = before === undefined ? { peer, limit: PAGE_SIZE } : { peer, before, limit: PAGE_SIZE };
        const page = await client.call('chat.messages', params);
        if (started !== generation) return;
        for (const message of page) upsertStored(message);
        // A full page means older messages may exist.
        setThread(peer, { loading: false, hasMore: page.length >= PAGE_SIZE, ...(before === undefined ? { loaded: true } : {}) });
      } catch (error) {
        if (started !== generation) return;
        setThread(peer, { loading: false });
        ui.getState().reportError(error, 'Could not load the messages.');
      }
    }

    async function markRead(peer: string): Promise<void> {
      checkPeer(peer);
      if (readInFlight.has(peer)) {
        readAgain.add(peer);
        return;
      }
      readInFlight.add(peer);
      const started = generation;
      try {
        do {
          readAgain.delete(peer);
          const summary = get().conversations.find((c) => c.peer === peer);
          if (summary !== undefined && summary.unread > 0) updateSummary(peer, (s) => ({ ...s, unread: 0 }));
          conversationsReloader.invalidate();
          await client.call('chat.markRead', { peer });
        } while (readAgain.has(peer) && started === generation);
      } catch (error) {
        if (started === generation) ui.getState().reportError(error, 'Could not mark the conversation as read.');
      } finally {
        readInFlight.delete(peer);
        readAgain.delete(peer);
      }
    }

    function maybeMarkRead(): void {
      const { activePeer, visible, conversations } = get();
      if (activePeer === null || !visible) return;
      const summary = conversations.find((c) => c.peer === activePeer);
      if (summary !== undefined && summary.unread > 0) void markRead(activePeer);
    }

    function callTyping(peer: string, active: boolean): void {
      // Typing notes are best effort: a lost one changes nothing a person relies on, so failures
      // are not shown.
      client.call('chat.typing', { peer, active }).catch(() => {});
    }

    function stopTyping(peer?: string): void {
      if (typingIdleTimer !== null) {
        runtime.clearTimer(typingIdleTimer);
        typingIdleTimer = null;
      }
      if (typingOut === null) return;
      if (peer !== undefined && typingOut.peer !== peer) return;
      const to = typingOut.peer;
      typingOut = null;
      callTyping(to, false);
    }

    function addLocal(peer: string, message: Omit<UiMessage, 'key' | 'id' | 'localId' | 'peer' | 'direction' | 'sentAt' | 'status'>): string {
      const localId = `local-${nextLocal++}`;
      const local: UiMessage = {
        ...message,
        id: localId,
        key: localId,
        localId,
        peer,
        direction: 'out',
        sentAt: runtime.now(),
        status: 'pending',
      };
      setThread(peer, { messages: [...thread(peer).messages, local].sort(compareMessages) });
      updateSummary(peer, (s) => ({ ...s, last: newerMessage(s.last, local) }));
      return localId;
    }

    function markFailed(peer: string, localId: string, failure: string): void {
      setThread(peer, {
        messages: thread(peer).messages.map((m) => (m.localId === localId ? { ...m, status: 'failed', failure } : m)),
      });
    }

    /** Replaces local message `localId` with the stored `message` (the answer to our send). */
    function confirmLocal(localId: string, message: ChatMessage): void {
      upsertStored(message, localId);
      updateSummary(message.peer, (s) => ({
        ...s,
        last: s.last?.id === localId ? message : newerMessage(s.last, message),
      }));
      conversationsReloader.invalidate();
    }

    async function deliver(peer: string, localId: string, payload: RetryPayload): Promise<boolean> {
      const started = generation;
      try {
        const stored =
          payload.kind === 'text'
            ? await client.call('chat.send', { peer, text: payload.text })
            : await client.call('chat.sendFile', { peer, name: payload.name, data: payload.data });
        if (started === generation) confirmLocal(localId, stored);
        return true;
      } catch (error) {
        if (started !== generation) return false;
        retryPayloads.set(localId, payload);
        markFailed(peer, localId, errorMessage(error));
        ui.getState().reportError(error, payload.kind === 'text' ? 'Could not send the message.' : 'Could not send the file.');
        return false;
      }
    }

    async function send(peer: string, text: string): Promise<boolean> {
      checkPeer(peer);
      if (typeof text !== 'string') throw new TypeError('text must be a string');
      const problem = messageTextProblem(text);
      if (problem !== null) {
        ui.getState().showError(problem);
        return false;
      }
      stopTyping(peer);
      const localId = addLocal(peer, { kind: 'text', text });
      return deliver(peer, localId, { kind: 'text', text });
    }

    async function sendFile(peer: string, name: string, data: string, size: number): Promise<boolean> {
      checkPeer(peer);
      if (typeof name !== 'string') throw new TypeError('name must be a string');
      if (typeof data !== 'string') throw new TypeError('data must be a string');
      if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) throw new RangeError('size must be a non-negative integer');
      const problem = fileProblem(name, size) ?? (BASE64_RE.test(data) && data.length % 4 === 0 ? null : 'The file could not be read.');
      if (problem !== null) {
        ui.getState().showError(problem);
        return false;
      }
      const localId = addLocal(peer, {
        kind: 'file',
        file: { fileId: '', name, size, transferred: 0, complete: false },
      });
      return deliver(peer, localId, { kind: 'file', name, data, size });
    }

    return {
      conversations: [],
      conversationsLoaded: false,
      threads: {},
      activePeer: null,
      visible: false,
      typing: {},
      transfers: {},
      search: EMPTY_SEARCH,
      drafts: {},

      connect() {
        const offs = [
          client.on('chat.message', onMessage),
          client.on('chat.status', onStatus),
          client.on('chat.typing', onTyping),
          client.on('chat.file', onFile),
        ];
        return () => {
          for (const off of offs) off();
        };
      },
      loadConversations,
      openConversation(peer) {
        checkPeer(peer);
        const previous = get().activePeer;
        if (previous !== null && previous !== peer) stopTyping(previous);
        set({ activePeer: peer });
        if (!get().conversations.some((c) => c.peer === peer)) updateSummary(peer, (s) => s);
        const current = thread(peer);
        if (!current.loaded && !current.loading) void loadPage(peer);
        maybeMarkRead();
      },
      closeConversation() {
        const previous = get().activePeer;
        if (previous !== null) stopTyping(previous);
        set({ activePeer: null });
      },
      setVisible(visible) {
        if (typeof visible !== 'boolean') throw new TypeError('visible must be a boolean');
        if (get().visible === visible) return;
        set({ visible });
        maybeMarkRead();
      },
      async loadOlder(peer) {
        checkPeer(peer);
        const oldest = thread(peer).messages.find((m) => m.localId === undefined);
        await loadPage(peer, oldest?.id);
      },
      send,
      sendFile,
      async retry(peer, key) {
        checkPeer(peer);
        if (typeof key !== 'string') throw new TypeError('key must be a string');
        const failed = thread(peer).messages.find((m) => m.key === key && m.status === 'failed' && m.localId !== undefined);
        if (failed?.localId === undefined) return false;
        const payload = retryPayloads.get(failed.localId);
        if (payload === undefined) return false;
        retryPayloads.delete(failed.localId);
        setThread(peer, { messages: thread(peer).messages.filter((m) => m !== failed) });
        return payload.kind === 'text' ? send(peer, payload.text) : sendFile(peer, payload.name, payload.data, payload.size);
      },
      discard(peer, key) {
        checkPeer(peer);
        if (typeof key !== 'string') throw new TypeError('key must be a string');
        const failed = thread(peer).messages.find((m) => m.key === key && m.status === 'failed' && m.localId !== undefined);
        if (failed?.localId === undefined) return;
        retryPayloads.delete(failed.localId);
        setThread(peer, { messages: thread(peer).messages.filter((m) => m !== failed) });
      },
      async fetchFile(peer, fileId) {
        checkPeer(peer);
        if (typeof fileId !== 'string') throw new TypeError('fileId must be a string');
        if (!FILE_ID_RE.test(fileId)) throw new RangeError('fileId must be 32 lower-case hex characters');
        try {
          return await client.call('chat.fileData', { peer, fileId });
        } catch (error) {
          ui.getState().reportError(error, 'Could not open the file.');
          return null;
        }
      },
      markRead,
      composing(peer) {
        checkPeer(peer);
        const now = runtime.now();
        if (typingOut !== null && typingOut.peer !== peer) stopTyping(typingOut.peer);
        if (typingOut === null || now - typingOut.sentAt >= TYPING_REFRESH_MS) {
          typingOut = { peer, sentAt: now };
          callTyping(peer, true);
        }
        if (typingIdleTimer !== null) runtime.clearTimer(typingIdleTimer);
        typingIdleTimer = runtime.setTimer(() => {
          typingIdleTimer = null;
          stopTyping(peer);
        }, TYPING_IDLE_MS);
      },
      stopTyping,
      setDraft(peer, text) {
        checkPeer(peer);
        if (typeof text !== 'string') throw new TypeError('text must be a string');
        const drafts = { ...get().drafts };
        if (text.length === 0) delete drafts[peer];
        else drafts[peer] = text;
        set({ drafts });
      },
      async searchMessages(query, peer = null) {
        if (typeof query !== 'string') throw new TypeError('query must be a string');
        if (peer !== null) checkPeer(peer);
        const trimmed = query.trim();
        if (trimmed.length === 0) {
          searchToken += 1;
          set({ search: EMPTY_SEARCH });
          return;
        }
        const text = trimmed.slice(0, MAX_SEARCH_LENGTH);
        const token = ++searchToken;
        set({ search: { query: text, peer, results: get().search.results, loading: true, done: false } });
        try {
          const params = peer === null ? { query: text, limit: SEARCH_LIMIT } : { query: text, peer, limit: SEARCH_LIMIT };
          const results = await client.call('chat.search', params);
          if (token === searchToken) set({ search: { query: text, peer, results, loading: false, done: true } });
        } catch (error) {
          if (token !== searchToken) return;
          set({ search: { query: text, peer, results: [], loading: false, done: true } });
          ui.getState().reportError(error, 'Could not search your messages.');
        }
      },
      clearSearch() {
        searchToken += 1;
        set({ search: EMPTY_SEARCH });
      },
      clear() {
        generation += 1;
        searchToken += 1;
        earlyStatus.clear();
        retryPayloads.clear();
        for (const timer of typingTimers.values()) runtime.clearTimer(timer);
        typingTimers.clear();
        if (typingIdleTimer !== null) runtime.clearTimer(typingIdleTimer);
        typingIdleTimer = null;
        typingOut = null;
        set({
          conversations: [],
          conversationsLoaded: false,
          threads: {},
          activePeer: null,
          typing: {},
          transfers: {},
          search: EMPTY_SEARCH,
          drafts: {},
        });
      },
    };
  });
}

/** Unread messages over all conversations. */
export function totalUnread(state: Pick<ChatState, 'conversations'>): number {
  let total = 0;
  for (const c of state.conversations) total += c.unread;
  return total;
}
