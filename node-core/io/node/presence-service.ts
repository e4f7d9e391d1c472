/**
 * A presence node's introductions and offline mailboxes (seed 004 §7.1), wired onto the node's
 * MessageRouter:
 * - event 5 ForwardPresence: a Request from an introducer's circuit carries a sealed
 *   introduction; the IntroductionForwarder passes it to the owner who announced its key here
 *   and the Response carries the outcome. A Notice with an empty body cancels that circuit's
 *   pending introductions; the circuit closing does the same.
 * - event 4000 PresenceControl: requests from an owner's announcing circuit (settings, decision,
 *   mailbox fetch and ack); notices to it (introduction, cancelled, cap-reached,
 *   mailbox-waiting). Any other circuit is Refused.
 * - event 4001 Mailbox: deposits of sealed items for an owner who is, or was within the
 *   mailbox TTL, bound here.
 *
 * An owner's circuit becomes his when an announcement on it succeeds: the DHT service calls
 * `ownerAnnounced` with the record it published (dht-service.ts).
 *
 * What this node learns: the announcement key each envelope or item is sealed to, sizes and
 * times. The introducer's identity, address and words are sealed to the owner; logs carry
 * counts only.
 */
import { decodePresenceValue, parseRecord } from '../../dht';
import { AppEvent, encodeMessage, ErrorCode, MessageKind } from '../../message/envelope';
import { HandlerError, type MessageRouter } from '../../message/router';
import type { Scheduler } from '../../onion/channel';
import type { CircuitEndpoint } from '../../onion/relay';
import {
  decodeControlRequest,
  decodeMailboxRequest,
  encodeControlNotice,
  encodeControlResponse,
  encodeIntroductionOutcome,
  encodeOk,
  IntroductionForwarder,
  isPresenceMessageError,
  MailboxStore,
  MAX_PRESENCE_BODY_LENGTH,
  type ControlNotice,
  type ForwarderLimits,
  type MailboxStoreLimits,
} from '../../rendezvous';
import { silentLogger, type Logger } from '../log';
import type { PresenceOwnerBinder } from './dht-service';
import { realScheduler } from '../onion/runtime';

/** The parts of MessageRouter the service uses. */
export type PresenceRouter = Pick<MessageRouter, 'handle' | 'onNotice' | 'onClosed'>;

export interface PresenceServiceOptions {
  /** The node's router (or anything that registers handlers on it). */
  router: PresenceRouter;
  /** Clock and timers (default: the real ones). */
  scheduler?: Scheduler;
  log?: Logger;
  forwarder?: Partial<ForwarderLimits>;
  mailbox?: Partial<MailboxStoreLimits>;
  /** How often expired mailbox items and forgotten owners are swept (default 60 s). */
  sweepIntervalMs?: number;
}

/** The most a mailbox-waiting notice can count. */
const MAX_WAITING = 0xffff;

export class PresenceService implements PresenceOwnerBinder {
  readonly forwarder: IntroductionForwarder;
  readonly mailbox: MailboxStore;
  private readonly scheduler: Scheduler;
  private readonly log: Logger;
  /** Owner circuits by key, for sending notices. */
  private readonly ownerEndpoints = new Map<string, CircuitEndpoint>();
  private sweepTimer: { cancel(): void } | null = null;
  private stopped = false;

  constructor(o: PresenceServiceOptions) {
    if (typeof o !== 'object' || o === null) throw new TypeError('options must be an object');
    if (typeof o.router !== 'object' || o.router === null) throw new TypeError('options.router must be a MessageRouter');
    this.scheduler = o.scheduler ?? realScheduler;
    this.log = o.log ?? silentLogger();
    this.forwarder = new IntroductionForwarder({
      scheduler: this.scheduler,
      notify: (circuit, notice) => this.notify(circuit, notice),
      ...(o.forwarder ? { limits: o.forwarder } : {}),
    });
    this.mailbox = new MailboxStore(o.mailbox ?? {});
    const sweepMs = o.sweepIntervalMs ?? 60_000;
    if (!Number.isSafeInteger(sweepMs) || sweepMs < 1) throw new RangeError(`options.sweepIntervalMs must be a positive integer, got ${sweepMs}`);

    const router = o.router;
    router.handle(AppEvent.ForwardPresence, (body, { endpoint }) => this.forward(body, endpoint));
    router.onNotice(AppEvent.ForwardPresence, (body, { endpoint }) => {
      // An empty notice cancels every pending introduction of this circuit; nothing else is defined.
      if (body.length === 0) this.forwarder.cancelFrom(endpoint.key);
    });
    router.handle(AppEvent.PresenceControl, (body, { endpoint }) => this.control(body, endpoint));
    router.handle(AppEvent.Mailbox, (body, { endpoint }) => this.deposit(body, endpoint));
    router.onClosed((endpoint) => {
      this.ownerEndpoints.delete(endpoint.key);
      this.forwarder.circuitClosed(endpoint.key);
      this.mailbox.forgetSource(endpoint.key);
    });
    this.scheduleSweep(sweepMs);
  }

  /**
   * An announcement on `endpoint` succeeded and `record` (the co-signed presence record) was
   * published: that circuit is now the owner's here.
   */
  ownerAnnounced(endpoint: CircuitEndpoint, record: Uint8Array): void {
    if (this.stopped || !endpoint.isOpen) return;
    let owner: Uint8Array;
    let announcementKey: Uint8Array;
    try {
      const claimed = parseRecord(record).claimed;
      owner = claimed.owner;
      announcementKey = decodePresenceValue(claimed.value).announcementKey;
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'announced record not usable for introductions');
      return;
    }
    const result = this.forwarder.bindOwner(owner, endpoint.key, announcementKey);
    if (result === 'key-conflict') {
      this.log.info('announcement key already bound to another owner here; introductions stay with the first');
      return;
    }
    this.ownerEndpoints.set(endpoint.key, endpoint);
    const now = this.scheduler.now();
    if (!this.mailbox.noteOwner(owner, announcementKey, now)) this.log.warn('mailbox owner table full; deposits for a new owner are refused');
    if (result === 'bound') {
      const waiting = this.mailbox.count(owner, now);
      if (waiting > 0) this.notify(endpoint.key, { type: 'mailbox-waiting', count: Math.min(waiting, MAX_WAITING) });
    }
  }

  /** Answers what is pending, stops the sweep; handlers stay registered but refuse. */
  stop(): void {
    this.stopped = true;
    this.sweepTimer?.cancel();
    this.forwarder.stop();
  }

  private forward(body: Uint8Array, endpoint: CircuitEndpoint): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      try {
        this.forwarder.introduce(endpoint.key, body, (outcome) => resolve(encodeIntroductionOutcome(outcome)));
      } catch (err) {
        if (isPresenceMessageError(err)) reject(new HandlerError(ErrorCode.Malformed, err.message));
        else reject(err as Error);
      }
    });
  }

  private control(body: Uint8Array, endpoint: CircuitEndpoint): Uint8Array {
    const owner = this.forwarder.ownerOf(endpoint.key);
    if (owner === undefined) throw new HandlerError(ErrorCode.Refused, 'not an owner circuit: announce presence on it first');
    let req;
    try {
      req = decodeControlRequest(body);
    } catch (err) {
      if (isPresenceMessageError(err)) throw new HandlerError(ErrorCode.Malformed, err.message);
      throw err;
    }
    const now = this.scheduler.now();
    switch (req.type) {
      case 'settings':
        this.forwarder.settings(endpoint.key, req);
        return encodeOk();
      case 'decision': {
        const r = this.forwarder.decide(endpoint.key, req.handle, req.accept);
        if (r === 'unknown-handle') throw new HandlerError(ErrorCode.NotFound, `no pending introduction ${req.handle}`);
        if (r === 'not-owner') throw new HandlerError(ErrorCode.Refused, 'not an owner circuit');
        return encodeOk();
      }
      case 'mailbox-fetch': {
        // The answer carries type u8 | count u16 before the items.
        const items = this.mailbox.fetch(owner, req.max, now, MAX_PRESENCE_BODY_LENGTH - 3);
        return encodeControlResponse({ type: 'mailbox-items', items });
      }
      case 'mailbox-ack':
        this.mailbox.ack(owner, req.ids, now);
        return encodeOk();
    }
  }

  private deposit(body: Uint8Array, endpoint: CircuitEndpoint): Uint8Array {
    if (this.stopped) throw new HandlerError(ErrorCode.Unavailable, 'presence service stopped');
    let req;
    try {
      req = decodeMailboxRequest(body);
    } catch (err) {
      if (isPresenceMessageError(err)) throw new HandlerError(ErrorCode.Malformed, err.message);
      throw err;
    }
    const now = this.scheduler.now();
    const r = this.mailbox.deposit(req.recipient, req.item, now, endpoint.key);
    if (!r.ok) {
      const code = r.reason === 'not-found' ? ErrorCode.NotFound : r.reason === 'malformed' ? ErrorCode.Malformed : ErrorCode.Refused;
      throw new HandlerError(code, r.message);
    }
    if (!r.duplicate) {
      const circuit = this.forwarder.circuitOf(req.recipient);
      if (circuit !== undefined) this.notify(circuit, { type: 'mailbox-waiting', count: Math.min(r.count, MAX_WAITING) });
    }
    return encodeOk();
  }

  private notify(circuit: string, notice: ControlNotice): void {
    const endpoint = this.ownerEndpoints.get(circuit);
    if (!endpoint?.isOpen) return;
    try {
      endpoint.send(encodeMessage({ event: AppEvent.PresenceControl, kind: MessageKind.Notice, requestId: 0, body: encodeControlNotice(notice) }));
    } catch (err) {
      this.log.debug({ err: (err as Error).message, notice: notice.type }, 'presence notice not sent');
    }
  }

  private scheduleSweep(ms: number): void {
    if (this.stopped) return;
    this.sweepTimer = this.scheduler.setTimeout(() => {
      const now = this.scheduler.now();
      const dropped = this.mailbox.expire(now);
      this.forwarder.prune();
      if (dropped > 0) this.log.debug({ dropped }, 'expired mailbox items dropped');
      this.scheduleSweep(ms);
    }, ms);
  }
}
