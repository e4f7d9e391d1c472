/**
 * The API between the UI and the backend (DESIGN §2, "app/contract"): a registry that maps every
 * method name to a runtime schema for its params and one for its result, and every event name to a
 * schema for its payload. The same registry is served over Electron IPC (through the preload) and
 * over the web host's WebSocket.
 *
 * Handlers parse `unknown` input with these schemas and answer with a Result; nothing here performs
 * I/O. The plain-data half (names, channels, Result helpers) lives in `./wire` and is re-exported.
 */
import { z } from 'zod';
import type { EventName, MethodName, Result } from './wire';
import { ERROR_CODES, err, isEventName, isMethodName, ok } from './wire';

export * from './wire';

/** One method: what the renderer sends and what it gets back inside `{ ok: true, value }`. */
export interface MethodSpec {
  readonly params: z.ZodType;
  readonly result: z.ZodType;
}

/** Version strings as reported by the app (semver with optional pre-release/build suffix). */
const versionString = z.string().min(1).max(64).regex(/^[0-9A-Za-z.+-]+$/);

/**
 * Method registry. `satisfies` makes the compiler reject a method missing here or one that is not
 * in METHOD_NAMES.
 */
export const methods = {
  /** The application's version. */
  'app.version': {
    params: z.strictObject({}),
    result: z.strictObject({ version: versionString }),
  },
} as const satisfies { readonly [M in MethodName]: MethodSpec };

/** Event registry, checked against EVENT_NAMES the same way. */
export const events = {
  /** Whether the backend process is running and answering. Sent by the main process. */
  'backend.status': z.strictObject({ connected: z.boolean() }),
} as const satisfies { readonly [E in EventName]: z.ZodType };

/** What a caller passes for `method`. */
export type MethodParams<M extends MethodName> = z.input<(typeof methods)[M]['params']>;
/** What a caller gets in `{ ok: true, value }` for `method`. */
export type MethodResult<M extends MethodName> = z.output<(typeof methods)[M]['result']>;
/** The payload delivered to subscribers of `event`. */
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;

/** Formats the first schema issue as `path: message` for an error Result. */
function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid value';
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
  return `${path}: ${issue.message}`;
}

/** Parses untrusted params for `method`; unknown methods and schema mismatches give an error Result. */
export function parseParams<M extends MethodName>(method: M, params: unknown): Result<MethodParams<M>> {
  if (!isMethodName(method)) return err(ERROR_CODES.unknownMethod, 'unknown method');
  const parsed = methods[method].params.safeParse(params);
  if (!parsed.success) return err(ERROR_CODES.invalidParams, describeIssue(parsed.error));
  return ok(parsed.data as MethodParams<M>);
}

/** Checks a handler's value against the method's result schema before it leaves the backend. */
export function parseResult<M extends MethodName>(method: M, value: unknown): Result<MethodResult<M>> {
  if (!isMethodName(method)) return err(ERROR_CODES.unknownMethod, 'unknown method');
  const parsed = methods[method].result.safeParse(value);
  if (!parsed.success) return err(ERROR_CODES.badResponse, describeIssue(parsed.error));
  return ok(parsed.data as MethodResult<M>);
}

/** Parses an event payload; gives an error Result for unknown events and mismatching payloads. */
export function parseEventPayload<E extends EventName>(event: E, payload: unknown): Result<EventPayload<E>> {
  if (!isEventName(event)) return err(ERROR_CODES.badRequest, 'unknown event');
  const parsed = events[event].safeParse(payload);
  if (!parsed.success) return err(ERROR_CODES.badResponse, describeIssue(parsed.error));
  return ok(parsed.data as EventPayload<E>);
}

/**
 * The one object the preload exposes as `window.sirius` (and the web host's client mirrors).
 * `invoke` resolves with a Result and rejects only for a method name that is not in the contract;
 * `subscribe` returns the function that ends the subscription.
 */
export interface SiriusBridge {
  invoke<M extends MethodName>(method: M, params: MethodParams<M>): Promise<Result<MethodResult<M>>>;
  subscribe<E extends EventName>(event: E, callback: (payload: EventPayload<E>) => void): () => void;
}
