/**
 * The client's side of introductions and offline mailboxes at presence nodes (seed 004 §7.1;
 * wire formats in node-core/rendezvous/messages.ts):
 * - `PresenceControl`: the owner's end of event 4000 over his announcing circuit — notices from
 *   the node (introduction, cancelled, cap-reached, mailbox-waiting) become callbacks; settings,
 *   decisions, mailbox fetch and ack are requests.
 * - `forwardIntroduction`, `cancelIntroductions`: the introducer's end of event 5, over a circuit
 *   ending at one of the owner's presence nodes.
 * - `depositMailbox`: event 4001, leaving a sealed item for an owner who is away.
 *
 * CircuitRpc hands every notice of its circuit to one `onNotice` callback; PresenceControl takes
 * the PresenceControl notices and passes any other message on to the callback that was there
 * before it. Use the same CircuitRpc that announced on the circuit: two CircuitRpc objects on
 * one circuit would take each other's answers.
 */
import { AppEvent, MessageKind, type AppMessage } from '../../message/envelope';
import { CircuitRpc } from '../../message/rpc';
import type { ClientCircuit } from '../../onion/client';
import {
  decodeControlNotice,
  decodeControlResponse,
  decodeIntroductionOutcome,
  decodeMailboxResponse,
  encodeControlRequest,
  encodeMailboxRequest,
  INTRODUCTION_OUTCOMES,
  type CapReached,
  type IntroductionOutcome,
  type MailboxEntry,
  type PresenceSettings,
} from '../../rendezvous';
import { assertBytes } from '../../util/bytes';

/** The ForwardPresence outcome codes (messages.ts INTRODUCTION_OUTCOMES, by name). */
export const ForwardOutcome = Object.freeze({
  Accepted: 0,
  Denied: 1,
  Offline: 2,
  Busy: 3,
  RateLimited: 4,
  Timeout: 5,
  Replayed: 6,
  UnknownRecipient: 7,
  Cancelled: 8,
} as const);
export type ForwardOutcome = (typeof ForwardOutcome)[keyof typeof ForwardOutcome];

/** The outcome's name ('accepted', 'busy', …). */
export function forwardOutcomeName(outcome: ForwardOutcome): IntroductionOutcome {
  const name = INTRODUCTION_OUTCOMES[outcome];
  if (name === undefined) throw new RangeError(`outcome ${String(outcome)} is not a ForwardPresence outcome`);
  return name;
}

/** Callbacks for what the presence node tells the owner. */
export interface PresenceControlHandlers {
  /** A sealed introduction waits for `decide(handle, …)`. It may arrive again after a rebind. */
  onIntroduction?: (handle: number, envelope: Uint8Array) => void;
  /** The introducer cancelled, or the introduction timed out, before a decision. */
  onCancelled?: (handle: number) => void;
  /** Introductions were refused because a cap or rate was reached. */
  onCapReached?: (info: CapReached) => void;
  /** `count` items wait in this node's mailbox. */
  onMailboxWaiting?: (count: number) => void;
  /** A PresenceControl notice that did not decode (dropped). */
  onBadNotice?: (err: Error) => void;
}

export interface PresenceControlOptions {
  /** Request timeout (default 15 s). */
  timeoutMs?: number;
}

function checkTimeout(v: unknown, name: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer (ms), got ${String(v)}`);
}

export class PresenceControl {
  private readonly previous: ((m: AppMessage) => void) | undefined;
  private readonly timeoutMs: number;
  private detached = false;

  /**
   * `rpc` must be the CircuitRpc on `circuit` (the owner's announcing circuit, its last hop the
   * presence node) that made the announcement.
   */
  constructor(
    readonly circuit: ClientCircuit,
    readonly rpc: CircuitRpc,
    public handlers: PresenceControlHandlers = {},
    options: PresenceControlOptions = {},
  ) {
    if (!(rpc instanceof CircuitRpc)) throw new TypeError('rpc must be a CircuitRpc');
    if (rpc.circuit !== circuit) throw new RangeError('rpc must be the CircuitRpc of circuit');
    if (typeof handlers !== 'object' || handlers === null) throw new TypeError('handlers must be an object');
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    this.timeoutMs = options.timeoutMs ?? 15_000;
    checkTimeout(this.timeoutMs, 'options.timeoutMs');
    this.previous = rpc.onNotice;
    rpc.onNotice = (m) => this.onNotice(m);
  }

  get isOpen(): boolean {
    return this.circuit.isOpen && !this.detached;
  }

  /** Sets this owner's caps at the node. */
  async settings(settings: PresenceSettings): Promise<void> {
    const body = encodeControlRequest({ type: 'settings', ...settings });
    this.expectOk(await this.request(body));
  }

  /** Accepts or denies introduction `handle`; the node answers the introducer. */
  async decide(handle: number, accept: boolean): Promise<void> {
    this.expectOk(await this.request(encodeControlRequest({ type: 'decision', handle, accept })));
  }

  /**
   * Up to `max` items from the node's mailbox for this owner, oldest first (fewer when they
   * would not fit one message). They stay there until `ackMailbox`.
   */
  async fetchMailbox(max: number): Promise<MailboxEntry[]> {
    const answer = decodeControlResponse(await this.request(encodeControlRequest({ type: 'mailbox-fetch', max })));
    if (answer.type !== 'mailbox-items') throw new Error('presence node answered a mailbox fetch without items');
    return answer.items;
  }

  /** Deletes the listed items (by id) from the node's mailbox. */
  async ackMailbox(ids: Uint8Array[]): Promise<void> {
    this.expectOk(await this.request(encodeControlRequest({ type: 'mailbox-ack', ids })));
  }

  /** Stops taking notices; the callback that was there before gets them again. */
  detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.rpc.onNotice = this.previous;
  }

  private request(body: Uint8Array): Promise<Uint8Array> {
    if (this.detached) return Promise.reject(new Error('PresenceControl is detached'));
    return this.rpc.request(AppEvent.PresenceControl, body, this.timeoutMs);
  }

  private expectOk(body: Uint8Array): void {
    if (decodeControlResponse(body).type !== 'ok') throw new Error('presence node answered with items where ok was expected');
  }

  private onNotice(m: AppMessage): void {
    if (this.detached || m.event !== AppEvent.PresenceControl || m.kind !== MessageKind.Notice) {
      this.previous?.(m);
      return;
    }
    let notice;
    try {
      notice = decodeControlNotice(m.body);
    } catch (err) {
      this.handlers.onBadNotice?.(err as Error);
      return;
    }
    switch (notice.type) {
      case 'introduction':
        this.handlers.onIntroduction?.(notice.handle, notice.envelope);
        break;
      case 'cancelled':
        this.handlers.onCancelled?.(notice.handle);
        break;
      case 'cap-reached':
        this.handlers.onCapReached?.({ pending: notice.pending, cap: notice.cap, refused: notice.refused });
        break;
      case 'mailbox-waiting':
        this.handlers.onMailboxWaiting?.(notice.count);
        break;
    }
  }
}

/**
 * Sends a sealed introduction through `rpc` (a circuit ending at one of the owner's presence
 * nodes) and waits for the outcome. `timeoutMs` should exceed the node's decision timeout
 * (120 s by default). Throws RemoteError when the node refuses the envelope as malformed, and
 * RequestTimeoutError when no answer comes.
 */
export async function forwardIntroduction(rpc: CircuitRpc, envelope: Uint8Array, timeoutMs = 135_000): Promise<ForwardOutcome> {
  if (!(rpc instanceof CircuitRpc)) throw new TypeError('rpc must be a CircuitRpc');
  assertBytes(envelope, 'envelope');
  checkTimeout(timeoutMs, 'timeoutMs');
  const answer = await rpc.request(AppEvent.ForwardPresence, envelope, timeoutMs);
  return INTRODUCTION_OUTCOMES.indexOf(decodeIntroductionOutcome(answer)) as ForwardOutcome;
}

/** Cancels every introduction still pending from `rpc`'s circuit (each is answered 'cancelled'). */
export function cancelIntroductions(rpc: CircuitRpc): void {
  if (!(rpc instanceof CircuitRpc)) throw new TypeError('rpc must be a CircuitRpc');
  rpc.notify(AppEvent.ForwardPresence, new Uint8Array(0));
}

/**
 * Leaves a sealed mailbox item for the owner `recipientKey` (his identity key) at the presence
 * node `rpc`'s circuit ends at. Throws RemoteError when refused (Refused: quota or rate;
 * NotFound: not his presence node; Malformed).
 */
export async function depositMailbox(rpc: CircuitRpc, recipientKey: Uint8Array, item: Uint8Array, timeoutMs = 15_000): Promise<void> {
  if (!(rpc instanceof CircuitRpc)) throw new TypeError('rpc must be a CircuitRpc');
  checkTimeout(timeoutMs, 'timeoutMs');
  const body = encodeMailboxRequest({ type: 'deposit', recipient: recipientKey, item });
  decodeMailboxResponse(await rpc.request(AppEvent.Mailbox, body, timeoutMs));
}
