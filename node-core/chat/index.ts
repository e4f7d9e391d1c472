/**
 * node-core/chat: the conversation layer above private channels (DESIGN §3, "Rendezvous and
 * private chat"): the frame formats (frames.ts), the reliable conversation engine
 * (conversation.ts), the ChatStore interface (store.ts) and its in-memory implementation. The
 * SQLite implementation is node-core/io/storage/chat-store.ts.
 *
 * Pure: no I/O, timers or randomness of its own — the store, a Scheduler and a random source
 * are passed in.
 */
export { CHAT_ERROR_CODES, ChatError, isChatError, type ChatErrorCode } from './errors';
export {
  CHAT_FRAME_VERSION,
  FILE_CANCEL_REASONS,
  FRAME_TYPE,
  ITEM_KIND,
  MAX_ACK_RANGES,
  MAX_CHUNK_BYTES,
  MAX_FILE_NAME_BYTES,
  MAX_FRAME_BYTES,
  MAX_PULL_BYTES,
  MAX_SEQ,
  MAX_TEXT_BYTES,
  MAX_WINDOW,
  MIN_CHUNK_BYTES,
  decodeFrame,
  decodeItem,
  encodeFrame,
  encodeItem,
  type AckFrame,
  type ChatFrame,
  type ChatItem,
  type DataFrame,
  type FileCancelItem,
  type FileCancelReason,
  type FileChunkFrame,
  type FileDoneItem,
  type FileOfferItem,
  type FilePullFrame,
  type FileRole,
  type HelloFrame,
  type ReadItem,
  type SeqRange,
  type TextItem,
  type TypingFrame,
} from './frames';
export {
  MAX_SEARCH_QUERY,
  messageOf,
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
} from './store';
export { MemoryChatStore, type MemoryChatStoreOptions } from './memory-store';
export {
  Conversation,
  DEFAULT_CHAT_LIMITS,
  type ChatLimits,
  type ChatTransport,
  type ConversationEvents,
  type ConversationOptions,
  type ConversationStats,
  type OutgoingFile,
} from './conversation';
