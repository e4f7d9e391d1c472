/**
 * The node's side of application messages: complete ESCAPE messages arriving at the end of a
 * circuit are decoded and passed to the handler registered for their event; a request's
 * handler returns the response body (or throws a HandlerError), and the router answers with a
 * Response or an Error message carrying the same request id. A malformed message or an unknown
 * event gets an Error answer; nothing else changes.
 */
import type { CircuitEndpoint, RelayApp } from '../onion/relay';
import { AppEvent, decodeMessage, encodeErrorBody, encodeMessage, ErrorCode, MessageKind, type AppMessage } from './envelope';

export class HandlerError extends Error {
  override readonly name = 'HandlerError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export type RequestHandler = (body: Uint8Array, ctx: { endpoint: CircuitEndpoint; message: AppMessage }) => Uint8Array | Promise<Uint8Array>;
export type NoticeHandler = (body: Uint8Array, ctx: { endpoint: CircuitEndpoint; message: AppMessage }) => void;

export class MessageRouter implements RelayApp {
  private readonly requests = new Map<number, RequestHandler>();
  private readonly notices = new Map<number, NoticeHandler>();
  private readonly closeHandlers: ((e: CircuitEndpoint) => void)[] = [];
  /** Bytes received by the Discard service per circuit. */
  private readonly discarded = new Map<string, number>();

  constructor(private readonly onError?: (detail: string) => void) {
    this.handle(AppEvent.Echo, (body) => body);
    this.handle(AppEvent.Discard, (body, { endpoint }) => {
      const total = (this.discarded.get(endpoint.key) ?? 0) + body.length;
      this.discarded.set(endpoint.key, total);
      const out = new Uint8Array(8);
      new DataView(out.buffer).setBigUint64(0, BigInt(total));
      return out;
    });
  }

  handle(event: number, handler: RequestHandler): void {
    this.requests.set(event, handler);
  }

  onNotice(event: number, handler: NoticeHandler): void {
    this.notices.set(event, handler);
  }

  onClosed(handler: (e: CircuitEndpoint) => void): void {
    this.closeHandlers.push(handler);
  }

  onMessage(endpoint: CircuitEndpoint, bytes: Uint8Array): void {
    let m: AppMessage;
    try {
      m = decodeMessage(bytes);
    } catch (err) {
      this.onError?.(`malformed application message: ${(err as Error).message}`);
      return this.reply(endpoint, 0, 0, ErrorCode.Malformed, 'malformed application message');
    }
    if (m.kind === MessageKind.Notice) {
      const h = this.notices.get(m.event);
      if (h) {
        try {
          h(m.body, { endpoint, message: m });
        } catch (err) {
          this.onError?.(`notice handler ${m.event} failed: ${(err as Error).message}`);
        }
      }
      return;
    }
    if (m.kind !== MessageKind.Request) return;
    const h = this.requests.get(m.event);
    if (!h) return this.reply(endpoint, m.event, m.requestId, ErrorCode.UnknownEvent, `event ${m.event} is not served here`);
    Promise.resolve()
      .then(() => h(m.body, { endpoint, message: m }))
      .then(
        (body) => {
          if (!endpoint.isOpen) return;
          try {
            endpoint.send(encodeMessage({ event: m.event, kind: MessageKind.Response, requestId: m.requestId, body }));
          } catch (err) {
            // A reply that cannot be sent (too large for one message) becomes an error answer.
            this.onError?.(`reply to ${m.event} not sent: ${(err as Error).message}`);
            this.reply(endpoint, m.event, m.requestId, ErrorCode.Internal, 'reply too large');
          }
        },
        (err: unknown) => {
          if (err instanceof HandlerError) return this.reply(endpoint, m.event, m.requestId, err.code, err.message);
          this.onError?.(`handler ${m.event} failed: ${(err as Error)?.message ?? String(err)}`);
          this.reply(endpoint, m.event, m.requestId, ErrorCode.Internal, 'internal error');
        },
      );
  }

  onCircuitClosed(endpoint: CircuitEndpoint): void {
    this.discarded.delete(endpoint.key);
    for (const h of this.closeHandlers) h(endpoint);
  }

  private reply(endpoint: CircuitEndpoint, event: number, requestId: number, code: number, message: string): void {
    if (!endpoint.isOpen) return;
    endpoint.send(encodeMessage({ event, kind: MessageKind.Error, requestId, body: encodeErrorBody({ code, message }) }));
  }
}
