/**
 * The backend's request dispatcher: takes a raw message from the main process, answers pings, and
 * runs a request through the services' one contract-checked call path (app/services/dispatch.ts:
 * params parsed against the contract, the handler run, its value checked against the result
 * schema). Every request gets exactly one Result; nothing throws back across the process
 * boundary. Pure: no Electron, no I/O.
 */
import { callMethod, ServiceError, type FailureSink, type ServiceHandlers } from '../app/services/dispatch';
import { parseToBackendMessage, type PongMessage, type ResponseMessage } from './backend-protocol';

/** One handler per contract method; a handler may return its value or a promise of it. */
export type MethodHandlers = ServiceHandlers;

/** Thrown by a handler to answer with a specific error code and a message meant for the user. */
export { ServiceError as HandlerError };

export type { FailureSink };

/** Answers one raw message: a pong, a response, or null for anything that is not a valid message. */
export type Dispatcher = (raw: unknown) => Promise<PongMessage | ResponseMessage | null>;

export function createDispatcher(handlers: MethodHandlers, onFailure: FailureSink = () => {}): Dispatcher {
  if (typeof handlers !== 'object' || handlers === null) throw new TypeError('handlers must be an object');
  if (typeof onFailure !== 'function') throw new TypeError('onFailure must be a function');
  return async (raw) => {
    const message = parseToBackendMessage(raw);
    if (message === null) return null;
    if (message.type === 'ping') return { type: 'pong', id: message.id };
    return { type: 'response', id: message.id, result: await callMethod(handlers, message.method, message.params, onFailure) };
  };
}
