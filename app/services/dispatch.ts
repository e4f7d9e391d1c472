/**
 * How a contract method reaches the services: the handler table type, the error a handler throws
 * to answer with a message meant for the user, and `callMethod`, which parses untrusted params
 * against the contract, runs the handler and checks its value against the result schema. The web
 * host answers its WebSocket with it; the Electron backend uses main/backend-dispatch.ts, whose
 * handler table has the same shape and runs every request through `callMethod`.
 */
import {
  ERROR_CODES,
  err,
  isMethodName,
  ok,
  parseParams,
  parseResult,
  type MethodName,
  type MethodParams,
  type MethodResult,
  type Result,
} from '../contract';

/** One handler per contract method. */
export type ServiceHandlers = {
  readonly [M in MethodName]: (params: MethodParams<M>) => MethodResult<M> | Promise<MethodResult<M>>;
};

/**
 * Thrown by a handler: `code` is domain-prefixed (`profile.locked`, `chat.offline`, …) and
 * `message` is shown to the user as it is, so it says what happened in plain words.
 */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    if (typeof code !== 'string' || !/^[a-z][a-z0-9_.-]{0,63}$/.test(code)) throw new RangeError('code must be 1-64 characters of [a-z0-9_.-]');
    if (typeof message !== 'string' || message.length === 0) throw new TypeError('message must be a non-empty string');
    this.code = code;
  }
}

/** Receives unexpected failures (for the log); their details never reach the caller. */
export type FailureSink = (method: MethodName, error: unknown) => void;

/** Runs one method call from an untrusted caller; always resolves with a Result. */
export async function callMethod(
  handlers: ServiceHandlers,
  method: unknown,
  rawParams: unknown,
  onFailure: FailureSink = () => {},
): Promise<Result<unknown>> {
  if (typeof handlers !== 'object' || handlers === null) throw new TypeError('handlers must be an object');
  if (!isMethodName(method)) return err(ERROR_CODES.unknownMethod, 'unknown method');
  const params = parseParams(method, rawParams);
  if (!params.ok) return params;
  const handler = handlers[method] as (p: unknown) => unknown;
  if (typeof handler !== 'function') return err(ERROR_CODES.unknownMethod, `no handler for ${method}`);
  let value: unknown;
  try {
    value = await handler(params.value);
  } catch (error) {
    if (error instanceof ServiceError) return err(error.code, error.message);
    onFailure(method, error);
    return err(ERROR_CODES.internal, 'internal error');
  }
  const checked = parseResult(method, value);
  if (!checked.ok) {
    onFailure(method, new Error(`handler result does not match the contract: ${checked.error.message}`));
    return err(ERROR_CODES.internal, 'internal error');
  }
  return ok(checked.value);
}
