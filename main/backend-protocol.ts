/**
 * Messages between the main process and the backend utility process, and the envelope the renderer
 * sends over IPC. The main process checks envelopes only (message type, request id, method and event
 * names); the params and values inside are parsed by the backend against the contract's schemas,
 * so the main process never interprets a payload.
 *
 * main → backend:  { type: 'ping', id } | { type: 'request', id, method, params }
 *                | { type: 'unlock-secret', secret }   (once after spawn, desktop keychain only)
 * backend → main:  { type: 'pong', id } | { type: 'response', id, result }
 *                | { type: 'event', event, payload } | { type: 'media-access', active }
 */
import type { EventName, MethodName, Result } from '../app/contract/wire';
import { isEventName, isMethodName, isResult } from '../app/contract/wire';

/** Request ids are positive safe integers chosen by the main process. */
function isRequestId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

export interface PingMessage {
  readonly type: 'ping';
  readonly id: number;
}
export interface RequestMessage {
  readonly type: 'request';
  readonly id: number;
  readonly method: MethodName;
  readonly params: unknown;
}
export type ToBackendMessage = PingMessage | RequestMessage;

export interface PongMessage {
  readonly type: 'pong';
  readonly id: number;
}
export interface ResponseMessage {
  readonly type: 'response';
  readonly id: number;
  readonly result: Result<unknown>;
}
export interface EventMessage {
  readonly type: 'event';
  readonly event: EventName;
  readonly payload: unknown;
}
/** The backend asks the main process to allow (or stop allowing) camera and microphone. */
export interface MediaAccessMessage {
  readonly type: 'media-access';
  readonly active: boolean;
}
export type FromBackendMessage = PongMessage | ResponseMessage | EventMessage | MediaAccessMessage;

/**
 * The profile's keychain secret (app/services/keys.ts): 32 random bytes as 64 lower-case hex
 * digits, which the main process keeps sealed with Electron safeStorage and sends once after the
 * backend starts. It unseals the profile's key files, so it is checked strictly and answered with
 * nothing.
 */
export interface UnlockSecretMessage {
  readonly type: 'unlock-secret';
  readonly secret: string;
}

/** The renderer's request as it arrives over IPC, after the envelope check. */
export interface InvokeEnvelope {
  readonly method: MethodName;
  readonly params: unknown;
}

/** The event as the main process forwards it to the renderer. */
export interface EventEnvelope {
  readonly event: EventName;
  readonly payload: unknown;
}

function asRecord(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** Checks the renderer's `{ method, params }` envelope; null when it is not one. */
export function parseInvokeEnvelope(raw: unknown): InvokeEnvelope | null {
  const record = asRecord(raw);
  if (record === null) return null;
  if (!isMethodName(record.method)) return null;
  return { method: record.method, params: record.params };
}

/** Checks a `{ event, payload }` envelope (main → renderer); null when it is not one. */
export function parseEventEnvelope(raw: unknown): EventEnvelope | null {
  const record = asRecord(raw);
  if (record === null) return null;
  if (!isEventName(record.event)) return null;
  return { event: record.event, payload: record.payload };
}

/** Checks a message arriving at the backend; null when it is not one. */
export function parseToBackendMessage(raw: unknown): ToBackendMessage | null {
  const record = asRecord(raw);
  if (record === null || !isRequestId(record.id)) return null;
  if (record.type === 'ping') return { type: 'ping', id: record.id };
  if (record.type === 'request') {
    if (!isMethodName(record.method)) return null;
    return { type: 'request', id: record.id, method: record.method, params: record.params };
  }
  return null;
}

/**
 * Checks an 'unlock-secret' message (main → backend): a plain object with exactly `type` and
 * `secret`, the secret 64 lower-case hex digits; null for anything else.
 */
export function parseUnlockSecretMessage(raw: unknown): UnlockSecretMessage | null {
  const record = asRecord(raw);
  if (record === null || Object.getPrototypeOf(record) !== Object.prototype) return null;
  const keys = Object.keys(record);
  if (keys.length !== 2 || record.type !== 'unlock-secret' || typeof record.secret !== 'string') return null;
  if (!/^[0-9a-f]{64}$/.test(record.secret)) return null;
  return { type: 'unlock-secret', secret: record.secret };
}

/** Checks a message arriving from the backend; null when it is not one. */
export function parseFromBackendMessage(raw: unknown): FromBackendMessage | null {
  const record = asRecord(raw);
  if (record === null) return null;
  switch (record.type) {
    case 'pong':
      return isRequestId(record.id) ? { type: 'pong', id: record.id } : null;
    case 'response':
      return isRequestId(record.id) && isResult(record.result)
        ? { type: 'response', id: record.id, result: record.result }
        : null;
    case 'event':
      return isEventName(record.event) ? { type: 'event', event: record.event, payload: record.payload } : null;
    case 'media-access':
      return typeof record.active === 'boolean' ? { type: 'media-access', active: record.active } : null;
    default:
      return null;
  }
}
