/**
 * Request/response over one hop of a client circuit: each request gets a fresh request id and a
 * timeout; the answer (or an error body) settles its promise. Notices (unsolicited messages) go
 * to a handler.
 */
import type { ClientCircuit } from '../onion/client';
import type { Scheduler } from '../onion/channel';
import { decodeErrorBody, decodeMessage, encodeMessage, MessageKind, type AppMessage } from './envelope';

export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
}

interface Pending {
  resolve: (body: Uint8Array) => void;
  reject: (e: Error) => void;
  timer: { cancel(): void };
}

export class CircuitRpc {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  onNotice?: (m: AppMessage) => void;
  onBadMessage?: (err: Error) => void;

  constructor(
    readonly circuit: ClientCircuit,
    private readonly scheduler: Scheduler,
    readonly hopIndex = circuit.length - 1,
  ) {
    const prev = circuit.events.onMessage;
    circuit.events.onMessage = (hop, bytes) => {
      if (hop !== this.hopIndex) return prev?.(hop, bytes);
      this.onMessage(bytes);
    };
    const prevClose = circuit.events.onClose;
    circuit.events.onClose = (reason) => {
      for (const p of this.pending.values()) {
        p.timer.cancel();
        p.reject(reason);
      }
      this.pending.clear();
      prevClose?.(reason);
    };
  }

  request(event: number, body: Uint8Array, timeoutMs = 15_000): Promise<Uint8Array> {
    const requestId = this.nextId++ >>> 0 || (this.nextId = 2, 1);
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = this.scheduler.setTimeout(() => {
        this.pending.delete(requestId);
        reject(new RequestTimeoutError(`request ${event} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
      try {
        this.circuit.send(encodeMessage({ event, kind: MessageKind.Request, requestId, body }), this.hopIndex);
      } catch (err) {
        timer.cancel();
        this.pending.delete(requestId);
        reject(err as Error);
      }
    });
  }

  notify(event: number, body: Uint8Array): void {
    this.circuit.send(encodeMessage({ event, kind: MessageKind.Notice, requestId: 0, body }), this.hopIndex);
  }

  private onMessage(bytes: Uint8Array): void {
    let m: AppMessage;
    try {
      m = decodeMessage(bytes);
    } catch (err) {
      this.onBadMessage?.(err as Error);
      return;
    }
    if (m.kind === MessageKind.Notice || m.kind === MessageKind.Request) {
      this.onNotice?.(m);
      return;
    }
    const p = this.pending.get(m.requestId);
    if (!p) return; // late answer after a timeout
    this.pending.delete(m.requestId);
    p.timer.cancel();
    if (m.kind === MessageKind.Response) p.resolve(m.body);
    else {
      try {
        const e = decodeErrorBody(m.body);
        p.reject(new RemoteError(e.code, e.message));
      } catch (err) {
        p.reject(err as Error);
      }
    }
  }
}
