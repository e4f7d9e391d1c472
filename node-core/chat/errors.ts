/**
 * The one error type of node-core/chat.
 *
 * The frame decoders (frames.ts) throw a ChatError with a code from the closed union below when
 * the bytes they were given are unacceptable, and Conversation reports frames that contradict
 * the conversation's state through `onProtocolError` with the same type. Programming errors (a
 * parameter of the wrong type, a value the caller controls out of range) throw TypeError or
 * RangeError instead, naming the parameter.
 */
import { CodedError, isCodedError } from '../util/coded-error';

export const CHAT_ERROR_CODES = [
  /** The bytes do not follow the layout: cut short, trailing bytes, a field or count out of range. */
  'malformed',
  /** The version byte names a frame format this code does not know. */
  'unsupported-version',
  /** A frame type or item kind this code does not know. */
  'unknown-type',
  /** A frame over 128 KiB, a text over 64 KiB, a file name, chunk or pull range over its limit. */
  'oversize',
  /** Text or a file name that is not valid UTF-8. */
  'bad-utf8',
  /**
   * A well-formed frame that contradicts the conversation: an acknowledgement of items never
   * sent, a pull or chunk for a file that is not being transferred, a chunk at a wrong offset.
   */
  'bad-state',
  /** A received file's SHA-256 differs from the one its offer announced. */
  'file-mismatch',
] as const;

export type ChatErrorCode = (typeof CHAT_ERROR_CODES)[number];

export class ChatError extends CodedError<ChatErrorCode> {
  override readonly name = 'ChatError';
}

/** True when `e` is a ChatError (optionally with the given code). */
export function isChatError(e: unknown, code?: ChatErrorCode): e is ChatError {
  return isCodedError(ChatError, e, code);
}
