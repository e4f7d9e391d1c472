/**
 * Chat: the conversation list (with search in history) and the open thread with day separators,
 * bubbles, delivery ticks, file transfers, the typing indicator and the composer.
 */
import { memo, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { useStore } from 'zustand';
import { base64ToBytes, bytesToBase64 } from '../lib/base64';
import { formatBytes, formatListTime, formatTime, groupByDay } from '../lib/format';
import { highlightSegments, snippet } from '../lib/highlight';
import { MAX_MESSAGE_BYTES, fileProblem, messageTextProblem, utf8Length } from '../lib/limits';
import { shortPeerName } from '../state/app';
import type { ChatMessage, ConversationSummary, MessageStatus, Thread, UiMessage } from '../state/chat';
import { isStreamInvite } from '../state/viewer';
import { TESTIDS } from '../testids';
import { Avatar, Spinner } from './common';
import { useApp, useNow } from './context';
import { AttachIcon, CloseIcon, DownloadIcon, FileIcon, SearchIcon, SendIcon } from './icons';
import { InviteCard } from './ViewerScreen';

const EMPTY_THREAD: Thread = { messages: [], loaded: false, loading: false, hasMore: false };
/** Pause after the last keystroke in the search box before searching. */
const SEARCH_DELAY_MS = 250;

// ---- conversation list ----------------------------------------------------------------------------

function previewOf(message: ChatMessage | undefined): string {
  if (message === undefined) return 'No messages yet';
  const body =
    message.kind === 'file' ? `File: ${message.file?.name ?? ''}` : isStreamInvite(message.text) ? 'Live stream invite' : ((message.text ?? '').split('\n')[0] ?? '');
  return message.direction === 'out' ? `You: ${body}` : body;
}

function ConversationRow({ summary, active, now }: { readonly summary: ConversationSummary; readonly active: boolean; readonly now: number }) {
  const { chat, contacts } = useApp();
  const typing = useStore(chat, (s) => s.typing[summary.peer] === true);
  const connected = useStore(contacts, (s) => s.contacts.find((c) => c.key === summary.peer)?.connected);
  return (
    <li>
      <button
        type="button"
        className={`conversation ${active ? 'conversation--active' : ''} ${summary.unread > 0 ? 'conversation--unread' : ''}`}
        aria-current={active ? 'true' : undefined}
        data-testid={TESTIDS.conversationRow}
        data-peer={summary.peer}
        data-unread={summary.unread}
        data-active={active ? 'true' : 'false'}
        onClick={() => chat.getState().openConversation(summary.peer)}
      >
        <Avatar name={summary.name} seed={summary.peer} {...(connected === undefined ? {} : { online: connected })} />
        <span className="conversation__body">
          <span className="conversation__top">
            <span className="conversation__name" data-testid={TESTIDS.conversationName}>
              {summary.name}
            </span>
            {summary.last !== undefined && <span className="conversation__time">{formatListTime(summary.last.sentAt, now)}</span>}
          </span>
          <span className="conversation__bottom">
            <span className={`conversation__last ${typing ? 'conversation__last--typing' : ''}`} data-testid={TESTIDS.conversationLast}>
              {typing ? 'typing…' : previewOf(summary.last)}
            </span>
            {summary.unread > 0 && (
              <span className="badge" data-testid={TESTIDS.conversationUnread} aria-label={`${summary.unread} unread`}>
                {summary.unread > 99 ? '99+' : summary.unread}
              </span>
            )}
          </span>
        </span>
      </button>
    </li>
  );
}

function Highlighted({ text, query }: { readonly text: string; readonly query: string }) {
  return (
    <>
      {highlightSegments(text, query).map((segment, index) =>
        segment.match ? <mark key={index}>{segment.text}</mark> : <span key={index}>{segment.text}</span>,
      )}
    </>
  );
}

function SearchResults({ onPick }: { readonly onPick: (message: ChatMessage) => void }) {
  const { chat } = useApp();
  const search = useStore(chat, (s) => s.search);
  const conversations = useStore(chat, (s) => s.conversations);
  const now = useNow(60_000);
  if (search.loading && search.results.length === 0) {
    return (
      <div className="pane-note">
        <Spinner label="Searching" /> Searching…
      </div>
    );
  }
  if (search.done && search.results.length === 0) {
    return (
      <p className="pane-note" data-testid={TESTIDS.searchEmpty}>
        No messages contain “{search.query}”.
      </p>
    );
  }
  return (
    <ul className="results" aria-label="Search results">
      {search.results.map((message) => {
        const name = conversations.find((c) => c.peer === message.peer)?.name ?? shortPeerName(message.peer);
        const text = message.text ?? message.file?.name ?? '';
        return (
          <li key={message.id}>
            <button
              type="button"
              className="result"
              data-testid={TESTIDS.searchResult}
              data-peer={message.peer}
              data-id={message.id}
              onClick={() => onPick(message)}
            >
              <span className="result__top">
                <span className="result__name">{message.direction === 'out' ? `You → ${name}` : name}</span>
                <span className="result__time">{formatListTime(message.sentAt, now)}</span>
              </span>
              <span className="result__text">
                <Highlighted text={snippet(text, search.query)} query={search.query} />
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

function ConversationPane({ onPickResult }: { readonly onPickResult: (message: ChatMessage) => void }) {
  const { chat, ui } = useApp();
  const conversations = useStore(chat, (s) => s.conversations);
  const loaded = useStore(chat, (s) => s.conversationsLoaded);
  const active = useStore(chat, (s) => s.activePeer);
  const [query, setQuery] = useState('');
  const now = useNow(60_000);

  useEffect(() => {
    const text = query.trim();
    if (text.length === 0) {
      chat.getState().clearSearch();
      return;
    }
    const timer = window.setTimeout(() => void chat.getState().searchMessages(text), SEARCH_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [query, chat]);

  const searching = query.trim().length > 0;
  return (
    <aside className="pane">
      <header className="pane__header">
        <h1 className="pane__title">Chats</h1>
      </header>
      <div className="search">
        <SearchIcon size={16} />
        <input
          className="search__input"
          type="search"
          placeholder="Search messages"
          aria-label="Search messages"
          value={query}
          maxLength={256}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') setQuery('');
          }}
          data-testid={TESTIDS.searchInput}
        />
        {searching && (
          <button type="button" className="icon-button" aria-label="Clear search" data-testid={TESTIDS.searchClear} onClick={() => setQuery('')}>
            <CloseIcon size={14} />
          </button>
        )}
      </div>
      <div className="pane__scroll">
        {searching ? (
          <SearchResults onPick={onPickResult} />
        ) : !loaded && conversations.length === 0 ? (
          <div className="pane-note">
            <Spinner label="Loading conversations" />
          </div>
        ) : conversations.length === 0 ? (
          <div className="pane-note" data-testid={TESTIDS.conversationsEmpty}>
            <p>No conversations yet.</p>
            <button type="button" className="button button--secondary" onClick={() => ui.getState().navigate('contacts')}>
              Add a contact
            </button>
          </div>
        ) : (
          <ul className="conversations" aria-label="Conversations">
            {conversations.map((summary) => (
              <ConversationRow key={summary.peer} summary={summary} active={summary.peer === active} now={now} />
            ))}
          </ul>
        )}
      </div>
    </aside>
  );
}

// ---- messages -------------------------------------------------------------------------------------

const STATUS_TEXT: Readonly<Record<MessageStatus, { mark: string; label: string }>> = {
  pending: { mark: '◷', label: 'Sending' },
  sent: { mark: '✓', label: 'Sent' },
  delivered: { mark: '✓✓', label: 'Delivered' },
  read: { mark: '✓✓', label: 'Read' },
  received: { mark: '', label: 'Received' },
  failed: { mark: '!', label: 'Not sent' },
};

function Ticks({ status }: { readonly status: MessageStatus }) {
  const { mark, label } = STATUS_TEXT[status];
  return (
    <span className={`ticks ticks--${status}`} title={label} aria-label={label} data-testid={TESTIDS.messageStatus}>
      {mark}
    </span>
  );
}

function FileDownload({ peer, fileId, name }: { readonly peer: string; readonly fileId: string; readonly name: string }) {
  const { chat } = useApp();
  const [url, setUrl] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(
    () => () => {
      if (url !== null) URL.revokeObjectURL(url);
    },
    [url],
  );
  if (url !== null) {
    return (
      <a className="file__action" href={url} download={name} data-testid={TESTIDS.fileDownload} data-file-id={fileId}>
        <DownloadIcon size={16} /> Save
      </a>
    );
  }
  return (
    <button
      type="button"
      className="file__action"
      disabled={busy}
      data-testid={TESTIDS.fileDownload}
      data-file-id={fileId}
      onClick={async () => {
        setBusy(true);
        const answer = await chat.getState().fetchFile(peer, fileId);
        setBusy(false);
        if (answer === null) return;
        let bytes: Uint8Array<ArrayBuffer>;
        try {
          bytes = base64ToBytes(answer.data);
        } catch {
          return;
        }
        const blobUrl = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
        setUrl(blobUrl);
        const link = document.createElement('a');
        link.href = blobUrl;
        link.download = answer.name;
        link.click();
      }}
    >
      <DownloadIcon size={16} /> {busy ? 'Opening…' : 'Download'}
    </button>
  );
}

function FileBody({ message }: { readonly message: UiMessage }) {
  const file = message.file;
  if (file === undefined) return null;
  const inProgress = !file.complete && file.failed === undefined && message.status !== 'failed';
  return (
    <div className="file">
      <span className="file__icon" aria-hidden="true">
        <FileIcon size={22} />
      </span>
      <span className="file__info">
        <span className="file__name" data-testid={TESTIDS.messageFileName}>
          {file.name}
        </span>
        <span className="file__size">
          {inProgress && file.fileId.length > 0 ? `${formatBytes(file.transferred)} of ${formatBytes(file.size)}` : formatBytes(file.size)}
        </span>
        {inProgress &&
          (file.fileId.length > 0 ? (
            <progress className="file__progress" max={Math.max(file.size, 1)} value={file.transferred} data-testid={TESTIDS.fileProgress} data-file-id={file.fileId} />
          ) : (
            <progress className="file__progress" data-testid={TESTIDS.fileProgress} data-file-id="" />
          ))}
        {file.failed !== undefined && (
          <span className="file__failed" data-testid={TESTIDS.fileFailed}>
            {file.failed}
          </span>
        )}
      </span>
      {file.complete && file.fileId.length > 0 && <FileDownload peer={message.peer} fileId={file.fileId} name={file.name} />}
    </div>
  );
}

const MessageBubble = memo(function MessageBubble({ message, flash }: { readonly message: UiMessage; readonly flash: boolean }) {
  const { chat } = useApp();
  const out = message.direction === 'out';
  return (
    <li
      className={`message message--${message.direction} ${flash ? 'message--flash' : ''}`}
      data-testid={TESTIDS.message}
      data-id={message.id}
      data-status={message.status}
      data-direction={message.direction}
      data-kind={message.kind}
    >
      <div className={`bubble bubble--${message.direction} ${message.status === 'failed' ? 'bubble--failed' : ''}`}>
        {message.kind === 'file' ? (
          <FileBody message={message} />
        ) : isStreamInvite(message.text) ? (
          <InviteCard text={message.text} direction={message.direction} />
        ) : (
          <p className="bubble__text" data-testid={TESTIDS.messageText}>
            {message.text}
          </p>
        )}
        <span className="bubble__meta">
          <time dateTime={new Date(message.sentAt).toISOString()}>{formatTime(message.sentAt)}</time>
          {out && <Ticks status={message.status} />}
        </span>
      </div>
      {out && message.status === 'failed' && message.localId !== undefined && (
        <div className="message__failure">
          <span>{message.failure ?? 'Not sent.'}</span>
          <button type="button" className="link-button" data-testid={TESTIDS.messageRetry} onClick={() => void chat.getState().retry(message.peer, message.key)}>
            Try again
          </button>
          <button type="button" className="link-button link-button--muted" onClick={() => chat.getState().discard(message.peer, message.key)}>
            Delete
          </button>
        </div>
      )}
    </li>
  );
});

// ---- composer -------------------------------------------------------------------------------------

function Composer({ peer }: { readonly peer: string }) {
  const { chat, ui } = useApp();
  const draft = useStore(chat, (s) => s.drafts[peer] ?? '');
  const fileInput = useRef<HTMLInputElement>(null);
  const textArea = useRef<HTMLTextAreaElement>(null);
  const bytes = utf8Length(draft);
  const tooLong = bytes > MAX_MESSAGE_BYTES;
  const rows = Math.min(8, Math.max(1, draft.split('\n').length));

  useEffect(() => {
    textArea.current?.focus();
  }, [peer]);

  function submit(): void {
    if (messageTextProblem(draft) !== null) {
      if (tooLong) ui.getState().showError('This message is longer than 64 KiB. Split it into several messages.');
      return;
    }
    const text = draft;
    chat.getState().setDraft(peer, '');
    void chat.getState().send(peer, text);
  }

  async function attach(file: File): Promise<void> {
    const problem = fileProblem(file.name, file.size);
    if (problem !== null) {
      ui.getState().showError(problem);
      return;
    }
    let data: string;
    try {
      data = bytesToBase64(new Uint8Array(await file.arrayBuffer()));
    } catch {
      ui.getState().showError(`Could not read ${file.name}.`);
      return;
    }
    await chat.getState().sendFile(peer, file.name, data, file.size);
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>): void {
    // Enter sends; Shift+Enter (and Enter while an input method is composing) makes a new line.
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  }

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <input
        ref={fileInput}
        type="file"
        className="sr-only"
        tabIndex={-1}
        aria-hidden="true"
        data-testid={TESTIDS.composerFile}
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = '';
          if (file !== undefined) void attach(file);
        }}
      />
      <button
        type="button"
        className="icon-button composer__attach"
        aria-label="Attach a file (up to 16 MiB)"
        title="Attach a file (up to 16 MiB)"
        data-testid={TESTIDS.composerAttach}
        onClick={() => fileInput.current?.click()}
      >
        <AttachIcon />
      </button>
      <div className="composer__field">
        <textarea
          ref={textArea}
          className="composer__input"
          rows={rows}
          placeholder="Write a message"
          aria-label="Message"
          value={draft}
          onChange={(e) => {
            chat.getState().setDraft(peer, e.target.value);
            if (e.target.value.length > 0) chat.getState().composing(peer);
            else chat.getState().stopTyping(peer);
          }}
          onKeyDown={onKeyDown}
          onBlur={() => chat.getState().stopTyping(peer)}
          data-testid={TESTIDS.composerInput}
        />
        {bytes > MAX_MESSAGE_BYTES * 0.75 && (
          <span className={`composer__count ${tooLong ? 'composer__count--over' : ''}`} data-testid={TESTIDS.composerCount}>
            {formatBytes(bytes)} of {formatBytes(MAX_MESSAGE_BYTES)}
          </span>
        )}
      </div>
      <button
        type="submit"
        className="icon-button icon-button--primary composer__send"
        aria-label="Send"
        disabled={draft.trim().length === 0 || tooLong}
        data-testid={TESTIDS.composerSend}
      >
        <SendIcon />
      </button>
      <p className={`composer__hint ${tooLong ? 'composer__hint--over' : ''}`} data-testid={TESTIDS.composerLimit}>
        {tooLong ? 'Too long to send: messages can be at most 64 KiB.' : 'Enter sends · Shift+Enter for a new line · up to 64 KiB, files up to 16 MiB'}
      </p>
    </form>
  );
}

// ---- thread ---------------------------------------------------------------------------------------

function ThreadView({ peer, focusId }: { readonly peer: string; readonly focusId: string | null }) {
  const { chat, contacts } = useApp();
  const thread = useStore(chat, (s) => s.threads[peer]) ?? EMPTY_THREAD;
  const summaryName = useStore(chat, (s) => s.conversations.find((c) => c.peer === peer)?.name);
  const contact = useStore(contacts, (s) => s.contacts.find((c) => c.key === peer));
  const typing = useStore(chat, (s) => s.typing[peer] === true);
  const name = summaryName ?? contact?.name ?? shortPeerName(peer);
  const now = useNow(60_000);
  const groups = useMemo(() => groupByDay(thread.messages, (m) => m.sentAt, now), [thread.messages, now]);
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const seen = useRef({ peer: '', first: '', last: '', height: 0 });
  const [flash, setFlash] = useState<string | null>(null);

  const messages = thread.messages;
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el === null) return;
    const first = messages[0]?.key ?? '';
    const lastMessage = messages[messages.length - 1];
    const last = lastMessage?.key ?? '';
    const before = seen.current;
    if (before.peer !== peer) el.scrollTop = el.scrollHeight;
    else if (last !== before.last) {
      if (stick.current || lastMessage?.direction === 'out') el.scrollTop = el.scrollHeight;
    } else if (first !== before.first) {
      // Older messages were added above: keep what is on screen in place.
      el.scrollTop += el.scrollHeight - before.height;
    }
    seen.current = { peer, first, last, height: el.scrollHeight };
  }, [messages, peer]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el !== null && typing && stick.current) el.scrollTop = el.scrollHeight;
  }, [typing]);

  useEffect(() => {
    if (focusId === null) return;
    const target = scroller.current?.querySelector(`[data-id="${focusId}"]`);
    if (target === null || target === undefined) return;
    target.scrollIntoView({ block: 'center' });
    setFlash(focusId);
    const timer = window.setTimeout(() => setFlash(null), 2000);
    return () => window.clearTimeout(timer);
  }, [focusId, messages]);

  return (
    <section className="thread" aria-label={`Conversation with ${name}`}>
      <header className="thread__header" data-testid={TESTIDS.threadHeader}>
        <Avatar name={name} seed={peer} {...(contact === undefined ? {} : { online: contact.connected })} />
        <div className="thread__who">
          <h2 className="thread__name">{name}</h2>
          <p className="thread__sub">
            {typing ? 'typing…' : contact === undefined ? 'Not in your contacts' : contact.connected ? 'Connected' : 'Not connected right now'}
          </p>
        </div>
      </header>
      <div
        className="thread__scroll"
        ref={scroller}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
        }}
      >
        {thread.hasMore && (
          <div className="thread__older">
            <button
              type="button"
              className="button button--ghost"
              disabled={thread.loading}
              data-testid={TESTIDS.threadLoadOlder}
              onClick={() => void chat.getState().loadOlder(peer)}
            >
              {thread.loading ? 'Loading…' : 'Show earlier messages'}
            </button>
          </div>
        )}
        {!thread.loaded && thread.loading && messages.length === 0 ? (
          <div className="thread__empty">
            <Spinner label="Loading messages" />
          </div>
        ) : messages.length === 0 ? (
          <div className="thread__empty" data-testid={TESTIDS.threadEmpty}>
            <p>No messages with {name} yet.</p>
            <p className="muted">Messages travel end to end encrypted through onion circuits.</p>
          </div>
        ) : (
          <ol className="messages" role="log" aria-live="polite" aria-label="Messages">
            {groups.map((group) => (
              <DayGroupView key={group.key} label={group.label}>
                {group.items.map((message) => (
                  <MessageBubble key={message.key} message={message} flash={flash === message.id} />
                ))}
              </DayGroupView>
            ))}
          </ol>
        )}
        {typing && (
          <div className="typing" data-testid={TESTIDS.typingIndicator} aria-live="polite">
            <span className="typing__dots" aria-hidden="true">
              <span />
              <span />
              <span />
            </span>
            {name} is typing
          </div>
        )}
      </div>
      <Composer peer={peer} />
    </section>
  );
}

function DayGroupView({ label, children }: { readonly label: string; readonly children: ReactNode }) {
  return (
    <>
      <li className="day" data-testid={TESTIDS.daySeparator} role="separator">
        <span>{label}</span>
      </li>
      {children}
    </>
  );
}

// ---- screen ---------------------------------------------------------------------------------------

export function ChatScreen() {
  const { chat } = useApp();
  const active = useStore(chat, (s) => s.activePeer);
  const [focus, setFocus] = useState<string | null>(null);

  // The thread counts as read only while this screen is shown and the window is visible.
  useEffect(() => {
    const update = (): void => chat.getState().setVisible(document.visibilityState === 'visible');
    update();
    document.addEventListener('visibilitychange', update);
    return () => {
      document.removeEventListener('visibilitychange', update);
      chat.getState().setVisible(false);
    };
  }, [chat]);

  return (
    <div className="chat">
      <ConversationPane
        onPickResult={(message) => {
          chat.getState().openConversation(message.peer);
          setFocus(message.id);
        }}
      />
      {active === null ? (
        <section className="thread thread--none">
          <div className="thread__empty">
            <p className="thread__hello">Select a conversation</p>
            <p className="muted">or start one from your contacts.</p>
          </div>
        </section>
      ) : (
        <ThreadView key={active} peer={active} focusId={focus} />
      )}
    </div>
  );
}
