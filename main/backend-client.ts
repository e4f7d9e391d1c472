/**
 * The main process's side of the backend link: numbers requests, matches responses to them, fails
 * them when the backend goes away or does not answer in time, and hands pushed events on. It sees
 * only envelopes (see ./backend-protocol); params and values pass through untouched. Pure: the
 * utility process is reached through the injected {@link BackendPort}.
 */
import { ERROR_CODES, err, type MethodName, type Result } from '../app/contract/wire';
import { parseFromBackendMessage, type EventEnvelope, type ToBackendMessage } from './backend-protocol';

/** Where requests go: in Electron, a UtilityProcess's postMessage. May throw if the process is gone. */
export interface BackendPort {
  postMessage(message: ToBackendMessage): void;
}

export interface BackendClientOptions {
  /** How long a request may stay unanswered before it fails with 'timeout'. Default 60 s. */
  readonly timeoutMs?: number;
  /** Receives events the backend pushes. */
  readonly onEvent?: (event: EventEnvelope) => void;
  /** Receives the backend's requests to allow or revoke camera and microphone access. */
  readonly onMediaAccess?: (active: boolean) => void;
}

interface Pending {
  readonly resolve: (result: Result<unknown>) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

const DEFAULT_TIMEOUT_MS = 60_000;

export class BackendClient {
  readonly #port: BackendPort;
  readonly #timeoutMs: number;
  readonly #onEvent: (event: EventEnvelope) => void;
  readonly #onMediaAccess: (active: boolean) => void;
  readonly #pending = new Map<number, Pending>();
  readonly #pings = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  constructor(port: BackendPort, options: BackendClientOptions = {}) {
    if (typeof port !== 'object' || port === null || typeof port.postMessage !== 'function') {
      throw new TypeError('port must have a postMessage function');
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (typeof timeoutMs !== 'number' || !Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
      throw new RangeError('options.timeoutMs must be a positive integer');
    }
    this.#port = port;
    this.#timeoutMs = timeoutMs;
    this.#onEvent = options.onEvent ?? (() => {});
    this.#onMediaAccess = options.onMediaAccess ?? (() => {});
  }

  /** True after {@link close}; every later request fails at once. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Number of requests and pings still waiting for an answer. */
  get pendingCount(): number {
    return this.#pending.size + this.#pings.size;
  }

  /** Sends a request; resolves with the backend's Result or with a transport error Result. */
  request(method: MethodName, params: unknown): Promise<Result<unknown>> {
    if (typeof method !== 'string') throw new TypeError('method must be a string');
    return this.#send(this.#pending, (id) => ({ type: 'request', id, method, params }));
  }

  /** Checks that the backend answers; resolves true on its pong, false on timeout or close. */
  async ping(): Promise<boolean> {
    const result = await this.#send(this.#pings, (id) => ({ type: 'ping', id }));
    return result.ok;
  }

  /** Feeds one message from the backend in. Malformed or unmatched messages are dropped. */
  handleMessage(raw: unknown): void {
    if (this.#closed) return;
    const message = parseFromBackendMessage(raw);
    if (message === null) return;
    switch (message.type) {
      case 'pong':
        this.#settle(this.#pings, message.id, { ok: true, value: undefined });
        return;
      case 'response':
        this.#settle(this.#pending, message.id, message.result);
        return;
      case 'event':
        this.#onEvent({ event: message.event, payload: message.payload });
        return;
      case 'media-access':
        this.#onMediaAccess(message.active);
        return;
    }
  }

  /** Fails everything pending with 'backend_unavailable' and refuses further requests. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const map of [this.#pending, this.#pings]) {
      for (const id of [...map.keys()]) {
        this.#settle(map, id, err(ERROR_CODES.backendUnavailable, 'the backend stopped'));
      }
    }
  }

  #send(map: Map<number, Pending>, build: (id: number) => ToBackendMessage): Promise<Result<unknown>> {
    if (this.#closed) return Promise.resolve(err(ERROR_CODES.backendUnavailable, 'the backend is not running'));
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#settle(map, id, err(ERROR_CODES.timeout, 'the backend did not answer in time'));
      }, this.#timeoutMs);
      map.set(id, { resolve, timer });
      try {
        this.#port.postMessage(build(id));
      } catch {
        this.#settle(map, id, err(ERROR_CODES.backendUnavailable, 'the backend is not running'));
      }
    });
  }

  #settle(map: Map<number, Pending>, id: number, result: Result<unknown>): void {
    const pending = map.get(id);
    if (pending === undefined) return;
    map.delete(id);
    clearTimeout(pending.timer);
    pending.resolve(result);
  }
}
