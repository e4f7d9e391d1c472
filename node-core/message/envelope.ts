/**
 * Application messages (reference application/application.md): what rides inside ESCAPE cells
 * over circuits, one complete message per fragmented sequence (node-core/circuit/fragment.ts).
 *
 *   event u16 | kind u8 | requestId u32 | body
 *
 * The reference has only `event | body` (protobuf); this adds a kind (request, response, error,
 * notice) and a request id so several requests can be outstanding on one circuit and answers
 * find their question. Bodies are each event's own strict binary codec. An error body is
 * `code u16 | message (UTF-8, ≤ 512 bytes)`.
 */
import { Reader, Writer } from '../util/bytes';

/** Event ids: the reference's where it has them; ours are 2004, 3000, 4000–4001, 5000–5002 and 9000–9001. */
export const AppEvent = Object.freeze({
  AnnouncePresence: 1,
  AnnouncementResult: 2,
  LookupPresence: 3,
  LookupResult: 4,
  ForwardPresence: 5,
  ForwardPresenceResult: 6,
  /** Authority requests: registrations and certificate requests (node-core/authority/messages.ts). */
  RequestCertificate: 1000,
  CertificateResult: 1001,
  DiscoveryPull: 2001,
  DiscoveryDirectory: 2002,
  DiscoveryPublish: 2003,
  /** Between discovery nodes: votes, signatures and consensus documents (notices). */
  DiscoveryPeer: 2004,
  /** DHT requests between nodes (node-core/dht/messages.ts), over one-hop circuits. */
  Dht: 3000,
  /** Between a presence node and an owner, over the owner's announcing circuit (node-core/rendezvous/messages.ts). */
  PresenceControl: 4000,
  /** Deposits into an owner's offline mailbox at a presence node (node-core/rendezvous/messages.ts). */
  Mailbox: 4001,
  /** Requests to an oracle node: receipts, viewer IDs and usage reports (node-core/stream/messages.ts 0x31, 0x50–0x55). */
  Oracle: 5000,
  /** Between oracle nodes: the receipt id ↔ identity records they share. */
  OraclePeer: 5001,
  /** A client asks a DHT node for a landing node's public-streams record (node-core/stream/public-streams.ts). */
  LookupPublicStreams: 5002,
  /** Diagnostics: the node answers with the same body (reachability and round-trip tests). */
  Echo: 9000,
  /** Diagnostics: the node counts and drops the body; a request with an empty body asks for the count. */
  Discard: 9001,
} as const);
export type AppEvent = (typeof AppEvent)[keyof typeof AppEvent];

export const MessageKind = Object.freeze({ Request: 0, Response: 1, Error: 2, Notice: 3 } as const);
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];

export interface AppMessage {
  event: number;
  kind: MessageKind;
  requestId: number;
  body: Uint8Array;
}

export class MessageError extends Error {
  override readonly name = 'MessageError';
  constructor(
    readonly code: 'malformed' | 'unknown-kind',
    message: string,
  ) {
    super(message);
  }
}

export const ENVELOPE_HEADER = 7;

export function encodeMessage(m: AppMessage): Uint8Array {
  return new Writer().u16(m.event).u8(m.kind).u32(m.requestId).bytes(m.body).finish();
}

export function decodeMessage(bytes: Uint8Array): AppMessage {
  const r = new Reader(bytes, (what) => new MessageError('malformed', `application message too short (${what})`));
  const event = r.u16('event');
  const kind = r.u8('kind');
  if (kind > MessageKind.Notice) throw new MessageError('unknown-kind', `unknown message kind ${kind}`);
  const requestId = r.u32('requestId');
  return { event, kind: kind as MessageKind, requestId, body: r.rest().slice() };
}

export interface ErrorBody {
  code: number;
  message: string;
}

export function encodeErrorBody(e: ErrorBody): Uint8Array {
  const text = new TextEncoder().encode(e.message.slice(0, 512)).subarray(0, 512);
  return new Writer().u16(e.code).bytes(text).finish();
}

export function decodeErrorBody(body: Uint8Array): ErrorBody {
  const r = new Reader(body, () => new MessageError('malformed', 'error body too short'));
  const code = r.u16();
  const rest = r.rest();
  if (rest.length > 512) throw new MessageError('malformed', 'error message longer than 512 bytes');
  return { code, message: new TextDecoder('utf-8', { fatal: false }).decode(rest) };
}

/** Common error codes in error bodies. */
export const ErrorCode = Object.freeze({
  UnknownEvent: 1,
  Malformed: 2,
  Refused: 3,
  RateLimited: 4,
  NotFound: 5,
  Internal: 6,
  Unavailable: 7,
} as const);
