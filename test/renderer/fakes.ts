/**
 * Test doubles for the renderer's state layer: a SiriusBridge whose answers the test gives one by
 * one (or through standing handlers), and a runtime with a hand-moved clock.
 */
import type { EventName, EventPayload, MethodName, MethodParams, MethodResult, Result, SiriusBridge } from '../../app/contract';
import type { Runtime } from '../../renderer/src/state/runtime';

export interface PendingCall {
  readonly method: MethodName;
  readonly params: unknown;
  /** Answers `{ ok: true, value }`. */
  resolve(value: unknown): void;
  /** Answers `{ ok: false, error: { code, message } }`. */
  fail(code: string, message: string): void;
  /** Makes the bridge's promise reject (the transport broke). */
  reject(error: Error): void;
  readonly settled: boolean;
}

type Handler = (params: never) => unknown;

/** Thrown by a standing handler to answer with an error Result. */
export class FakeFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class FakeBridge {
  /** Every call in order, answered or not. */
  readonly calls: PendingCall[] = [];
  readonly #handlers = new Map<MethodName, Handler>();
  readonly #listeners = new Map<EventName, Set<(payload: unknown) => void>>();

  /** Answers every later call of `method` with `handler(params)` (throw FakeFailure for errors). */
  handle<M extends MethodName>(method: M, handler: (params: MethodParams<M>) => MethodResult<M> | unknown): this {
    this.#handlers.set(method, handler as Handler);
    return this;
  }

  /** Stops answering `method` automatically; its calls wait for the test. */
  hold(method: MethodName): this {
    this.#handlers.delete(method);
    return this;
  }

  readonly bridge: SiriusBridge = {
    invoke: ((method: MethodName, params: unknown): Promise<Result<unknown>> => {
      return new Promise<Result<unknown>>((resolvePromise, rejectPromise) => {
        let settled = false;
        const call: PendingCall = {
          method,
          params,
          resolve: (value) => {
            if (settled) throw new Error(`${method} answered twice`);
            settled = true;
            resolvePromise({ ok: true, value });
          },
          fail: (code, message) => {
            if (settled) throw new Error(`${method} answered twice`);
            settled = true;
            resolvePromise({ ok: false, error: { code, message } });
          },
          reject: (error) => {
            if (settled) throw new Error(`${method} answered twice`);
            settled = true;
            rejectPromise(error);
          },
          get settled() {
            return settled;
          },
        };
        this.calls.push(call);
        const handler = this.#handlers.get(method);
        if (handler === undefined) return;
        try {
          call.resolve(handler(params as never));
        } catch (error) {
          if (error instanceof FakeFailure) call.fail(error.code, error.message);
          else throw error;
        }
      });
    }) as SiriusBridge['invoke'],
    subscribe: ((event: EventName, callback: (payload: unknown) => void): (() => void) => {
      let set = this.#listeners.get(event);
      if (set === undefined) {
        set = new Set();
        this.#listeners.set(event, set);
      }
      set.add(callback);
      return () => set.delete(callback);
    }) as SiriusBridge['subscribe'],
  };

  /** Delivers an event to the subscribers (the payload is not checked here; the client does). */
  emit<E extends EventName>(event: E, payload: EventPayload<E> | unknown): void {
    for (const callback of [...(this.#listeners.get(event) ?? [])]) callback(payload);
  }

  listenerCount(event: EventName): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** The unanswered calls of `method`, oldest first. */
  waiting(method: MethodName): PendingCall[] {
    return this.calls.filter((c) => c.method === method && !c.settled);
  }

  /** The oldest unanswered call of `method`; throws if there is none. */
  next(method: MethodName): PendingCall {
    const call = this.waiting(method)[0];
    if (call === undefined) throw new Error(`no unanswered ${method} call (calls so far: ${this.calls.map((c) => c.method).join(', ')})`);
    return call;
  }

  /** All calls of `method`, answered or not. */
  callsOf(method: MethodName): PendingCall[] {
    return this.calls.filter((c) => c.method === method);
  }
}

/** A runtime whose clock moves only when the test says so. */
export class FakeRuntime implements Runtime {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, { at: number; callback: () => void }>();

  constructor(start = Date.UTC(2025, 4, 14, 10, 0, 0)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + ms, callback });
    return id;
  }

  clearTimer(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Moves the clock forward, running due timers in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let dueId: number | undefined;
      let dueAt = Infinity;
      for (const [id, timer] of this.#timers) {
        if (timer.at <= end && timer.at < dueAt) {
          dueAt = timer.at;
          dueId = id;
        }
      }
      if (dueId === undefined) break;
      const timer = this.#timers.get(dueId);
      this.#timers.delete(dueId);
      this.#now = dueAt;
      timer?.callback();
    }
    this.#now = end;
  }
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

// ---- sample values -----------------------------------------------------------------------------

export const ALICE = 'a'.repeat(64);
export const BOB = 'b'.repeat(64);
export const CAROL = 'c'.repeat(64);
export const ALICE_IDENTITY = 'sirius.chat.account.7xQ2mBoKq9ZcV3WdEfGhJkLmNpR';
export const BOB_IDENTITY = 'sirius.chat.account.4tYvPQ8rSaXbCdEfGhJkLmNpQrS';

let messageCounter = 0;

/** A 32-hex message id, different on every call unless `n` is given. */
export function messageId(n?: number): string {
  const value = n ?? ++messageCounter + 1000;
  return value.toString(16).padStart(32, '0');
}

export type ChatMessage = MethodResult<'chat.send'>;

export function message(fields: Partial<ChatMessage> & Pick<ChatMessage, 'peer'>): ChatMessage {
  return {
    id: messageId(),
    direction: 'in',
    kind: 'text',
    text: 'hello',
    sentAt: Date.UTC(2025, 4, 14, 9, 0, 0),
    status: 'received',
    ...fields,
  };
}

export function profileStatus(fields: Partial<MethodResult<'profile.status'>> = {}): MethodResult<'profile.status'> {
  return { state: 'online', identity: ALICE_IDENTITY, displayName: 'Alice', keyProtection: 'passphrase', ...fields };
}

export function networkStatus(fields: Partial<MethodResult<'network.status'>> = {}): MethodResult<'network.status'> {
  return {
    network: 'local',
    networkFile: null,
    online: true,
    listAgeMs: 1000,
    listedNodes: 9,
    openCircuits: 2,
    openChannels: 1,
    presencePoints: [{ identity: 'n1', nickname: 'onion1', accepted: true }],
    guards: [{ identity: 'g1', nickname: 'guard1' }],
    certificateExpiresAt: Date.UTC(2025, 4, 14, 12, 0, 0),
    ...fields,
  };
}

export function relayStatus(fields: Partial<MethodResult<'relay.status'>> = {}): MethodResult<'relay.status'> {
  return {
    enabled: false,
    running: false,
    listed: false,
    nickname: null,
    identity: null,
    address: null,
    bandwidthKBps: 512,
    circuits: 0,
    circuitsTotal: 0,
    bytesUp: 0,
    bytesDown: 0,
    uptimeMs: 0,
    ...fields,
  };
}

export function contact(key: string, name: string, fields: Partial<MethodResult<'contacts.add'>> = {}): MethodResult<'contacts.add'> {
  return { key, identity: key === BOB ? BOB_IDENTITY : ALICE_IDENTITY, name, addedAt: 1, connected: false, ...fields };
}

export function settingsValue(fields: Partial<MethodResult<'settings.get'>> = {}): MethodResult<'settings.get'> {
  return { displayName: 'Alice', networkFile: null, acceptStrangers: false, readReceipts: true, relayBandwidthKBps: 512, ...fields };
}
