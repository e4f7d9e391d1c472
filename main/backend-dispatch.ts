/**
 * The backend's request dispatcher: takes a raw message from the main process, answers pings,
 * parses a request's params against the contract, runs the method's handler and checks its value
 * against the result schema. Every request gets exactly one Result; nothing throws back across the
 * process boundary. Pure: no Electron, no I/O.
 */
import {
  ERROR_CODES,
  err,
  ok,
  parseParams,
  parseResult,
  type MethodName,
  type MethodParams,
  type MethodResult,
  type Result,
} from '../app/contract';
import { parseToBackendMessage, type PongMessage, type ResponseMessage } from './backend-protocol';

/** One handler per contract method; a handler may return its value or a promise of it. */
export type MethodHandlers = {
  readonly [M in MethodName]: (params: MethodParams<M>) => MethodResult<M> | Promise<MethodResult<M>>;
};

/** Thrown by a handler to answer with a specific error code and a message meant for the user. */
export class HandlerError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    if (typeof code !== 'string' || code.length === 0) throw new TypeError('code must be a non-empty string');
    this.name = 'HandlerError';
    this.code = code;
  }
}

/** Receives unexpected handler failures (for the backend's log); their details never reach the UI. */
export type FailureSink = (method: MethodName, error: unknown) => void;

/** Answers one raw message: a pong, a response, or null for anything that is not a valid message. */
export type Dispatcher = (raw: unknown) => Promise<PongMessage | ResponseMessage | null>;

export function createDispatcher(handlers: MethodHandlers, onFailure: FailureSink = () => {}): Dispatcher {
  if (typeof handlers !== 'object' || handlers === null) throw new TypeError('handlers must be an object');
  if (typeof onFailure !== 'function') throw new TypeError('onFailure must be a function');

  async function run<M extends MethodName>(method: M, rawParams: unknown): Promise<Result<unknown>> {
    const params = parseParams(method, rawParams);
    if (!params.ok) return params;
    const handler = handlers[method] as (p: MethodParams<M>) => MethodResult<M> | Promise<MethodResult<M>>;
    if (typeof handler !== 'function') return err(ERROR_CODES.unknownMethod, `no handler for ${method}`);
    let value: unknown;
    try {
      value = await handler(params.value);
    } catch (error) {
      if (error instanceof HandlerError) return err(error.code, error.message);
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

  return async (raw) => {
    const message = parseToBackendMessage(raw);
    if (message === null) return null;
    if (message.type === 'ping') return { type: 'pong', id: message.id };
    return { type: 'response', id: message.id, result: await run(message.method, message.params) };
  };
}
