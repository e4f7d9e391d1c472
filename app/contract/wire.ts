/**
 * The plain-data half of the contract between the UI and the backend: method and event names, the
 * IPC channels that carry them, the global the preload exposes, and the Result shape every answer
 * takes. It uses no schema library, so the sandboxed preload can check names and answers without
 * bundling the schemas; `./index` holds the schemas and proves at compile time that the name lists
 * here match its registries.
 */

/** Methods the renderer may invoke, named `<domain>.<verb>`. */
export const METHOD_NAMES = [
  'app.version',
  'profile.status',
  'profile.create',
  'profile.unlock',
  'profile.lock',
  'contacts.list',
  'contacts.add',
  'contacts.rename',
  'contacts.remove',
  'requests.list',
  'requests.answer',
  'chat.conversations',
  'chat.messages',
  'chat.send',
  'chat.sendFile',
  'chat.fileData',
  'chat.markRead',
  'chat.typing',
  'chat.search',
  'network.status',
  'relay.status',
  'relay.set',
  'settings.get',
  'settings.set',
  'broadcast.start',
  'broadcast.frames',
  'broadcast.stop',
  'broadcast.status',
  'broadcast.shareInvite',
  'view.join',
  'view.leave',
  'view.status',
  'streams.public',
] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

/** Events the backend (or the main process) may push to the renderer, named `<domain>.<noun>`. */
export const EVENT_NAMES = [
  'backend.status',
  'profile.changed',
  'contacts.changed',
  'requests.changed',
  'chat.message',
  'chat.status',
  'chat.typing',
  'chat.file',
  'network.changed',
  'relay.changed',
  'broadcast.stats',
  'view.frames',
  'view.stats',
  'view.ended',
] as const;
export type EventName = (typeof EVENT_NAMES)[number];

/** Electron IPC channels: one for requests (invoke/handle), one for pushed events. */
export const IPC_CHANNELS = {
  invoke: 'sirius:invoke',
  event: 'sirius:event',
} as const;

/** Name of the one object the preload exposes on `window`. */
export const BRIDGE_GLOBAL = 'sirius';

/** Error codes used by the transport layers; services may add their own, domain-prefixed codes. */
export const ERROR_CODES = {
  /** The request envelope was malformed (not an object, method not a string, …). */
  badRequest: 'bad_request',
  /** The method name is not in METHOD_NAMES. */
  unknownMethod: 'unknown_method',
  /** The params did not match the method's params schema. */
  invalidParams: 'invalid_params',
  /** The sender of an IPC message is not our own main frame and origin. */
  forbidden: 'forbidden',
  /** The backend process is not running or exited before answering. */
  backendUnavailable: 'backend_unavailable',
  /** The backend did not answer in time. */
  timeout: 'timeout',
  /** A response did not have the shape of a Result. */
  badResponse: 'bad_response',
  /** The handler failed; details stay in the backend's log. */
  internal: 'internal',
} as const;

/** Upper bound for a method or event name, so a hostile string is refused before any lookup. */
const MAX_NAME_LENGTH = 64;

/** True when `value` is one of METHOD_NAMES. */
export function isMethodName(value: unknown): value is MethodName {
  return (
    typeof value === 'string' &&
    value.length <= MAX_NAME_LENGTH &&
    (METHOD_NAMES as readonly string[]).includes(value)
  );
}

/** True when `value` is one of EVENT_NAMES. */
export function isEventName(value: unknown): value is EventName {
  return (
    typeof value === 'string' &&
    value.length <= MAX_NAME_LENGTH &&
    (EVENT_NAMES as readonly string[]).includes(value)
  );
}

/** A failure as it crosses a process boundary: a stable machine code and a human-readable message. */
export interface ContractError {
  readonly code: string;
  readonly message: string;
}

/** Every answer from the backend: a value, or an error; handlers never throw across the boundary. */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ContractError };

const MAX_CODE_LENGTH = 64;
const MAX_MESSAGE_LENGTH = 1000;

/** Wraps a value as a successful Result. */
export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

/** Builds a failed Result; `code` is 1–64 characters, `message` at most 1000 (longer is cut). */
export function err(code: string, message: string): { readonly ok: false; readonly error: ContractError } {
  if (typeof code !== 'string') throw new TypeError('code must be a string');
  if (code.length === 0 || code.length > MAX_CODE_LENGTH) {
    throw new RangeError(`code must be 1..${MAX_CODE_LENGTH} characters`);
  }
  if (typeof message !== 'string') throw new TypeError('message must be a string');
  return { ok: false, error: { code, message: message.slice(0, MAX_MESSAGE_LENGTH) } };
}

/**
 * Structural check that `value` has the shape of a Result (the value itself is not inspected; the
 * method's result schema in `./index` does that).
 */
export function isResult(value: unknown): value is Result<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  if (record.ok === true) return 'value' in record;
  if (record.ok !== false) return false;
  const error = record.error;
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as Record<string, unknown>;
  return (
    typeof code === 'string' &&
    code.length > 0 &&
    code.length <= MAX_CODE_LENGTH &&
    typeof message === 'string' &&
    message.length <= MAX_MESSAGE_LENGTH
  );
}
