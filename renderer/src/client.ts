/**
 * A thin typed client over the bridge (`window.sirius`, app/contract's SiriusBridge).
 *
 * - `call` resolves with the method's value, or throws a ClientError whose `message` is written for
 *   a person (the backend's code stays in `code`). Answers are checked against the contract's result
 *   schema, so the stores only ever hold values of the documented shape.
 * - `on` subscribes to an event and hands the callback only payloads that match the contract's
 *   event schema; others are dropped and reported to `onInvalidEvent`.
 *
 * The client never retries and never times out on its own: the transport layers own time limits
 * (ERROR_CODES.timeout) and the backend's availability (ERROR_CODES.backendUnavailable).
 */
import {
  ERROR_CODES,
  isEventName,
  isMethodName,
  parseEventPayload,
  parseResult,
  type ContractError,
  type EventName,
  type EventPayload,
  type MethodName,
  type MethodParams,
  type MethodResult,
  type SiriusBridge,
} from '../../app/contract';

/** Code of failures that happen in the renderer itself (the bridge threw). */
export const CLIENT_ERROR_CODE = 'client';

/** A failed call: `message` is for people, `code` for code, `detail` is the backend's own text. */
export class ClientError extends Error {
  readonly code: string;
  readonly detail: string;
  readonly method: MethodName | undefined;
  constructor(code: string, message: string, detail: string, method?: MethodName) {
    super(message);
    this.name = 'ClientError';
    this.code = code;
    this.detail = detail;
    this.method = method;
  }
}

export interface SiriusClient {
  call<M extends MethodName>(method: M, params: MethodParams<M>): Promise<MethodResult<M>>;
  on<E extends EventName>(event: E, callback: (payload: EventPayload<E>) => void): () => void;
}

export interface ClientOptions {
  /** Receives events whose payload does not match the contract (they are not delivered). */
  readonly onInvalidEvent?: (event: EventName, reason: string) => void;
}

/** Words for the parameter names the contract uses, for "invalid_params" answers. */
const FIELD_LABELS: Readonly<Record<string, string>> = {
  displayName: 'Display name',
  passphrase: 'Passphrase',
  identity: 'Identity string',
  name: 'Name',
  key: 'Contact',
  peer: 'Conversation',
  text: 'Message',
  data: 'File',
  query: 'Search',
  networkFile: 'Network file',
  relayBandwidthKBps: 'Relay bandwidth',
  bandwidthKBps: 'Bandwidth',
  fileId: 'File',
  id: 'Request',
};

/** What a person is told when a call of `method` fails with the transport-level `code`. */
const CODE_MESSAGES: Readonly<Record<string, string>> = {
  [ERROR_CODES.backendUnavailable]: 'The background service is not running right now. Try again in a moment.',
  [ERROR_CODES.timeout]: 'The background service took too long to answer. Try again.',
  [ERROR_CODES.unknownMethod]: 'The background service does not know this action; it may be a different version of the app.',
  [ERROR_CODES.badRequest]: 'The request could not be understood by the background service.',
  [ERROR_CODES.badResponse]: 'The background service sent an answer the app does not understand.',
  [ERROR_CODES.forbidden]: 'This page is not allowed to talk to the background service.',
  [ERROR_CODES.internal]: 'Something went wrong in the background service. The details are in its log.',
};

/** Capitalises the first letter and ends the text with a full stop (unless it ends in . ! ? or …). */
export function asSentence(text: string): string {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  const trimmed = text.trim();
  if (trimmed.length === 0) return '';
  const first = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(first) ? first : `${first}.`;
}

/** Turns an invalid_params detail ("passphrase: at least 8 characters") into a sentence. */
function describeInvalidParams(detail: string): string {
  const match = /^([\w.]+|\(root\)): (.*)$/s.exec(detail);
  if (match === null) return asSentence(`Some of the input was not accepted: ${detail}`);
  const path = match[1] ?? '';
  const message = match[2] ?? '';
  const field = path.split('.')[0] ?? '';
  const label = FIELD_LABELS[field];
  if (label === undefined) return asSentence(`Some of the input was not accepted: ${message}`);
  return asSentence(`${label}: ${message}`);
}

/**
 * The message a person sees for a failed Result. Transport codes get fixed words; codes that a
 * service chose (domain-prefixed, such as "profile.wrong_passphrase") carry a message written for
 * the user, which is shown as it is.
 */
export function describeError(error: ContractError): string {
  if (typeof error !== 'object' || error === null) throw new TypeError('error must be an object');
  if (typeof error.code !== 'string' || typeof error.message !== 'string') {
    throw new TypeError('error must have string code and message');
  }
  if (error.code === ERROR_CODES.invalidParams) return describeInvalidParams(error.message);
  const fixed = CODE_MESSAGES[error.code];
  if (fixed !== undefined) return fixed;
  const own = asSentence(error.message);
  return own.length > 0 ? own : 'The action failed.';
}

/** The person-facing text of anything a call can throw. */
export function errorMessage(error: unknown): string {
  if (error instanceof ClientError) return error.message;
  if (error instanceof Error && error.message.length > 0) return asSentence(error.message);
  return 'Something went wrong.';
}

/** The error code of anything a call can throw (CLIENT_ERROR_CODE for non-ClientErrors). */
export function errorCode(error: unknown): string {
  return error instanceof ClientError ? error.code : CLIENT_ERROR_CODE;
}

function isBridge(value: unknown): value is SiriusBridge {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.invoke === 'function' && typeof record.subscribe === 'function';
}

export function createClient(bridge: SiriusBridge, options: ClientOptions = {}): SiriusClient {
  if (!isBridge(bridge)) throw new TypeError('bridge must have invoke and subscribe functions');
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const onInvalidEvent = options.onInvalidEvent ?? (() => {});
  if (typeof onInvalidEvent !== 'function') throw new TypeError('options.onInvalidEvent must be a function');

  async function call<M extends MethodName>(method: M, params: MethodParams<M>): Promise<MethodResult<M>> {
    if (!isMethodName(method)) throw new TypeError('method must be a method name of the contract');
    if (typeof params !== 'object' || params === null) throw new TypeError('params must be an object');
    let answer: Awaited<ReturnType<SiriusBridge['invoke']>>;
    try {
      answer = await bridge.invoke(method, params);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new ClientError(CLIENT_ERROR_CODE, 'The app could not reach its background service.', detail, method);
    }
    if (typeof answer !== 'object' || answer === null || typeof answer.ok !== 'boolean') {
      const text = describeError({ code: ERROR_CODES.badResponse, message: '' });
      throw new ClientError(ERROR_CODES.badResponse, text, 'not a Result', method);
    }
    if (!answer.ok) {
      throw new ClientError(answer.error.code, describeError(answer.error), answer.error.message, method);
    }
    const checked = parseResult(method, answer.value);
    if (!checked.ok) {
      throw new ClientError(checked.error.code, describeError(checked.error), checked.error.message, method);
    }
    return checked.value;
  }

  function on<E extends EventName>(event: E, callback: (payload: EventPayload<E>) => void): () => void {
    if (!isEventName(event)) throw new TypeError('event must be an event name of the contract');
    if (typeof callback !== 'function') throw new TypeError('callback must be a function');
    return bridge.subscribe(event, (payload: unknown) => {
      const parsed = parseEventPayload(event, payload);
      if (!parsed.ok) {
        onInvalidEvent(event, parsed.error.message);
        return;
      }
      callback(parsed.value);
    });
  }

  return { call, on };
}
