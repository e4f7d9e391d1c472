/**
 * An in-memory network of DiscoveryVoting instances on a fake clock, for the voting tests:
 * messages are delivered in FIFO order with no delay, nodes can be down (they get no events and
 * their messages are dropped), and an interceptor can rewrite what a node sends (to play a
 * dishonest discovery node). Every loop is bounded. Test helper, not a test file.
 */
import {
  type DiscoveryVotingConfig,
  DiscoveryVoting,
  type VerifiedConsensus,
  type VotingAction,
  decodeDiscoveryMessage,
  encodeDiscoveryMessage,
} from '../../node-core/directory';
import { fromHex, toHex } from '../../node-core/util/bytes';
import { type KeyPair, NETWORK, POLICY, discovery, discoveryKeys, signedDescriptor, suite } from './helpers';

export const NET_PERIOD_MS = 60_000;
export const NET_VOTE_OFFSET = 10_000;
export const NET_COMPUTE_OFFSET = 30_000;
/** A period well after T0, so descriptors published "now" are fresh. */
export const NET_START_PERIOD = 28_333_400;

export interface Delivery {
  readonly to: string;
  readonly bytes: Uint8Array;
  /** Sender identity hex, or a client name for replies to clients. */
  readonly from: string;
}

export type Interceptor = (from: string, action: Extract<VotingAction, { type: 'send' }>) => Uint8Array | null;

export class VotingNet {
  readonly nodes = new Map<string, DiscoveryVoting>();
  readonly down = new Set<string>();
  readonly actions = new Map<string, VotingAction[]>();
  /** Replies sent to non-discovery senders (clients, publishing nodes), by their name. */
  readonly clientInbox = new Map<string, Uint8Array[]>();
  private queue: Delivery[] = [];
  now: number;
  intercept: Interceptor | undefined;

  constructor(
    readonly members: readonly KeyPair[] = discovery,
    over: Partial<DiscoveryVotingConfig> = {},
    start = NET_START_PERIOD * NET_PERIOD_MS + 1000,
  ) {
    this.now = start;
    for (const m of members) {
      const node = new DiscoveryVoting({
        suite,
        network: NETWORK,
        secretKey: m.secretKey,
        discoveryKeys: over.discoveryKeys ?? discoveryKeys,
        threshold: 3,
        periodMs: NET_PERIOD_MS,
        voteOffsetMs: NET_VOTE_OFFSET,
        computeOffsetMs: NET_COMPUTE_OFFSET,
        descriptorPolicy: POLICY,
        ...over,
      });
      this.nodes.set(toHex(m.publicKey), node);
      this.actions.set(toHex(m.publicKey), []);
    }
  }

  key(k: KeyPair): string {
    return toHex(k.publicKey);
  }

  node(k: KeyPair): DiscoveryVoting {
    return this.nodes.get(this.key(k))!;
  }

  log(k: KeyPair): VotingAction[] {
    return this.actions.get(this.key(k))!;
  }

  published(k: KeyPair): VerifiedConsensus[] {
    return this.log(k).flatMap((a) => (a.type === 'publish' ? [a.consensus] : []));
  }

  rejected(k: KeyPair): Extract<VotingAction, { type: 'rejected' }>[] {
    return this.log(k).flatMap((a) => (a.type === 'rejected' ? [a] : []));
  }

  /** Hands an event to one node and routes what it does. */
  private run(to: string, event: Parameters<DiscoveryVoting['handle']>[0], replyTo: string): void {
    if (this.down.has(to)) return;
    const node = this.nodes.get(to);
    if (node === undefined) return;
    const out = node.handle(event);
    this.actions.get(to)!.push(...out);
    for (const a of out) {
      if (a.type === 'send') {
        const bytes = this.intercept ? this.intercept(to, a) : a.message;
        if (bytes !== null) this.queue.push({ to: toHex(a.to), bytes, from: to });
      } else if (a.type === 'reply') {
        if (this.nodes.has(replyTo)) this.queue.push({ to: replyTo, bytes: a.message, from: to });
        else {
          const inbox = this.clientInbox.get(replyTo) ?? [];
          inbox.push(a.message);
          this.clientInbox.set(replyTo, inbox);
        }
      }
    }
  }

  /** Delivers queued messages until none is left (bounded). */
  deliver(): void {
    for (let guard = 0; this.queue.length > 0; guard++) {
      if (guard > 100_000) throw new Error('VotingNet: message storm');
      const d = this.queue.shift()!;
      if (this.down.has(d.to) || this.down.has(d.from)) continue;
      const from = this.nodes.has(d.from) ? fromHex(d.from) : undefined;
      this.run(d.to, { type: 'message', now: this.now, bytes: d.bytes, ...(from ? { from } : {}) }, d.from);
    }
  }

  tickAll(): void {
    for (const k of this.nodes.keys()) this.run(k, { type: 'tick', now: this.now }, k);
    this.deliver();
  }

  /** Moves the clock to `until`, stopping at every wakeup a live node asked for. */
  runUntil(until: number): void {
    for (let guard = 0; ; guard++) {
      if (guard > 10_000) throw new Error('VotingNet: clock does not advance');
      this.tickAll();
      let next = until;
      for (const [k, n] of this.nodes) if (!this.down.has(k)) next = Math.min(next, n.nextWakeup(this.now));
      if (next <= this.now) next = this.now + 1;
      if (next > until) break;
      this.now = next;
    }
    this.now = until;
    this.tickAll();
  }

  /** A node (not a discovery node) publishes its descriptor to every discovery node. */
  publishDescriptor(node: KeyPair, to: readonly KeyPair[] = this.members, over: Parameters<typeof signedDescriptor>[1] = {}): void {
    const bytes = encodeDiscoveryMessage({
      type: 'publish',
      descriptor: signedDescriptor(node, { publishedAt: this.now, validUntil: this.now + 3_600_000, ...over }),
    });
    for (const d of to) this.run(this.key(d), { type: 'message', now: this.now, bytes }, `client:${node.label}`);
    this.deliver();
  }

  /** A client pulls the consensus from one node; returns the decoded answer. */
  pull(from: KeyPair, client = 'client:puller'): ReturnType<typeof decodeDiscoveryMessage> | undefined {
    this.run(this.key(from), { type: 'message', now: this.now, bytes: encodeDiscoveryMessage({ type: 'pull', network: NETWORK }) }, client);
    const inbox = this.clientInbox.get(client) ?? [];
    const last = inbox.pop();
    return last === undefined ? undefined : decodeDiscoveryMessage(last);
  }
}
