/**
 * The object the preload exposes as `window.sirius`, built over a minimal transport so it can be
 * tested without Electron. It offers exactly two calls: `invoke` for contract methods (names checked
 * against the contract before anything is sent) and `subscribe` for contract events. There is no
 * way to name an IPC channel from the page.
 */
import type { SiriusBridge } from '../app/contract';
import { ERROR_CODES, IPC_CHANNELS, err, isEventName, isMethodName, isResult, type Result } from '../app/contract/wire';
import { parseEventEnvelope } from './backend-protocol';

/** The part of ipcRenderer the bridge uses; listeners receive the message body only. */
export interface BridgeTransport {
  invoke(channel: string, payload: unknown): Promise<unknown>;
  on(channel: string, listener: (payload: unknown) => void): void;
}

/** Receives exceptions thrown by subscriber callbacks, so one faulty callback cannot starve others. */
export type ListenerErrorSink = (error: unknown) => void;

export function createBridge(
  transport: BridgeTransport,
  onListenerError: ListenerErrorSink = (error) => console.error(error),
): SiriusBridge {
  if (typeof transport !== 'object' || transport === null) throw new TypeError('transport must be an object');
  if (typeof transport.invoke !== 'function' || typeof transport.on !== 'function') {
    throw new TypeError('transport must have invoke and on functions');
  }
  if (typeof onListenerError !== 'function') throw new TypeError('onListenerError must be a function');

  const listeners = new Map<string, Set<(payload: unknown) => void>>();

  transport.on(IPC_CHANNELS.event, (raw) => {
    const envelope = parseEventEnvelope(raw);
    if (envelope === null) return;
    const set = listeners.get(envelope.event);
    if (set === undefined) return;
    for (const callback of [...set]) {
      try {
        callback(envelope.payload);
      } catch (error) {
        onListenerError(error);
      }
    }
  });

  async function invoke(method: unknown, params: unknown): Promise<Result<unknown>> {
    if (!isMethodName(method)) throw new TypeError('method must be a method name of the contract');
    let response: unknown;
    try {
      response = await transport.invoke(IPC_CHANNELS.invoke, { method, params });
    } catch {
      return err(ERROR_CODES.backendUnavailable, 'the request could not be delivered');
    }
    return isResult(response) ? response : err(ERROR_CODES.badResponse, 'malformed response');
  }

  function subscribe(event: unknown, callback: unknown): () => void {
    if (!isEventName(event)) throw new TypeError('event must be an event name of the contract');
    if (typeof callback !== 'function') throw new TypeError('callback must be a function');
    const listener = (payload: unknown): void => {
      (callback as (payload: unknown) => void)(payload);
    };
    let set = listeners.get(event);
    if (set === undefined) {
      set = new Set();
      listeners.set(event, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  return Object.freeze({ invoke, subscribe }) as SiriusBridge;
}
