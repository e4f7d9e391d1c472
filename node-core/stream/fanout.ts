/**
 * Fan-out of a live stream at a relay (landing or distribution node), and the landing node's plan
 * of its distribution tree (seed 004 §8.1 "Fan-outs could be stacked together forming a
 * distributed network", §8.2 fig. 5; DESIGN §3 "Live streams"; PSP reference flows/fanout.md
 * "Stream rate control").
 *
 * FanoutRelay — a pure state machine. Input: the stream's media and group-signature messages from
 * upstream, in order (push), subscribers coming and going, and the I/O layer's word that it
 * finished writing what it was given (acknowledge). Output: per-subscriber actions the I/O layer
 * performs ('send' these bytes — the upstream message unchanged, so relays forward opaque
 * ciphertext; 'close' a subscriber that stopped reading).
 *
 *   Upstream order (else StreamError 'protocol', and nothing changes): a frame's pieces come
 *   consecutively, part 0..parts-1; a new group starts only with its keyframe and a higher
 *   groupSeq; frames within a group have increasing frameSeq (gaps allowed: a sender may skip,
 *   never repeat or go back); a group signature comes between frames, for frames already sent.
 *   Non-keyframes before the first keyframe, and signatures of an earlier group, are ignored.
 *
 *   Per subscriber: up to maxInFlightBytes are handed to the I/O layer at once (at least one
 *   message); the rest waits in the subscriber's queue. Everything is per subscriber, so a slow
 *   one never delays the others.
 *   - Late joiners start at the latest keyframe: the relay keeps the current group from its
 *     keyframe (up to maxGroupCacheBytes) and queues it for a new subscriber, who then follows
 *     live. Without a cached group it waits for the next keyframe.
 *   - Congestion: when a new frame starts while more than congestionBytes wait in a subscriber's
 *     queue, the queued frames not yet begun are dropped as stale and the subscriber skips every
 *     frame until the next keyframe (flows/fanout.md: "prevent from sending any more video packets
 *     until the next key frame if at least one video frame was skipped"). A keyframe arriving on a
 *     congested queue likewise replaces the stale frames before it. A frame whose first piece went
 *     out is always completed ("segmented packets are being delivered in full").
 *   - A subscriber that acknowledges nothing while stallGroups new groups begin, or whose queue
 *     would pass maxQueueBytes, is closed ('too-slow').
 *   - Keyframe requests are never sent upstream: a relay has none to send.
 *
 * FanoutTree — the landing node's plan (pure; the I/O layer performs the actions). Each attached
 * node (the landing node is the root) has a capacity: how many subscribers, viewers or child
 * distribution nodes, it serves directly. Distribution nodes offered to the stream wait in a pool;
 * when no attached node has room, one is attached as a child of the shallowest node with a free
 * slot (each node keeps its last slot for a child while the pool is not empty, so the tree can
 * always grow); a new viewer goes to the least-loaded node with room; a failed node's children
 * move, with their subtrees, under other nodes and its viewers are placed again.
 *
 * Does not: decrypt or verify anything (group.ts, the viewer's side), decide who may join
 * (receipt.ts, the node service), or touch sockets or timers.
 */
import { assertBytes, equalBytes } from '../util/bytes';
import { STREAM_ID_LENGTH, checkInt, checkObject, fail } from './internal';
import { decodeStreamMessage } from './messages';

export type SubscriberId = string;

export interface FanoutOptions {
  readonly streamId: Uint8Array;
  /** Bytes handed to the I/O layer and not yet acknowledged, per subscriber (default 256 KiB). */
  readonly maxInFlightBytes?: number;
  /** Queued bytes past which a subscriber skips to the next keyframe (default 512 KiB). */
  readonly congestionBytes?: number;
  /** Queued bytes past which a subscriber is closed (default 8 MiB). */
  readonly maxQueueBytes?: number;
  /** Largest current group kept for late joiners (default 4 MiB, at most maxQueueBytes). */
  readonly maxGroupCacheBytes?: number;
  /** New groups a subscriber may let pass without acknowledging anything (default 3). */
  readonly stallGroups?: number;
  /** Most subscribers (default 10,000). */
  readonly maxSubscribers?: number;
}

export const DEFAULT_FANOUT = Object.freeze({
  maxInFlightBytes: 256 * 1024,
  congestionBytes: 512 * 1024,
  maxQueueBytes: 8 * 1024 * 1024,
  maxGroupCacheBytes: 4 * 1024 * 1024,
  stallGroups: 3,
  maxSubscribers: 10_000,
});

export type FanoutAction =
  /** Write `bytes` to the subscriber, then call acknowledge(subscriber) once written. */
  | { readonly type: 'send'; readonly subscriber: SubscriberId; readonly bytes: Uint8Array }
  /** The subscriber stopped reading: close it (it is already removed). */
  | { readonly type: 'close'; readonly subscriber: SubscriberId; readonly reason: 'too-slow' };

export type SubscriberMode = 'waiting-keyframe' | 'live' | 'skipping';

export interface SubscriberStats {
  readonly mode: SubscriberMode;
  readonly queuedBytes: number;
  readonly queuedMessages: number;
  readonly inFlightBytes: number;
  readonly inFlightMessages: number;
  /** Messages (media pieces and signatures) handed to the I/O layer. */
  readonly messagesOut: number;
  /** Frames whose last piece was handed to the I/O layer. */
  readonly framesOut: number;
  readonly bytesOut: number;
  /** Frames this subscriber did not get because of congestion. */
  readonly framesDropped: number;
  /** Times the subscriber skipped to a keyframe. */
  readonly skips: number;
}

export interface FanoutStats {
  /** Subscribers now. */
  readonly viewers: number;
  /** Messages accepted from upstream (those before the first keyframe included). */
  readonly messagesIn: number;
  /** Frames from the first keyframe on. */
  readonly framesIn: number;
  readonly bytesIn: number;
  readonly groupsIn: number;
  readonly messagesOut: number;
  readonly framesOut: number;
  readonly bytesOut: number;
  readonly framesDropped: number;
  readonly skips: number;
  /** Subscribers closed as too slow. */
  readonly closed: number;
  readonly cachedBytes: number;
}

/** One message as a subscriber's queue holds it. */
interface Entry {
  readonly bytes: Uint8Array;
  /** First piece of a frame. */
  readonly start: boolean;
  /** Last piece of a frame. */
  readonly end: boolean;
  readonly signature: boolean;
}

/** A FIFO with amortised O(1) shift. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(x: T): void {
    this.items.push(x);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  at(i: number): T | undefined {
    return this.items[this.head + i];
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head++];
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
  /** Keeps the first `n` items. */
  truncate(n: number): T[] {
    const removed = this.items.splice(this.head + n);
    return removed;
  }
}

interface Subscriber {
  readonly id: SubscriberId;
  mode: SubscriberMode;
  /** The group whose keyframe it received (signatures of that group are forwarded); -1 for none. */
  group: number;
  /** It took the first piece of the upstream frame in progress and takes the rest. */
  frameOpen: boolean;
  readonly queue: Fifo<Entry>;
  queuedBytes: number;
  readonly inFlight: Fifo<number>;
  inFlightBytes: number;
  /** New groups begun since its last acknowledgement while it had messages in flight. */
  stalledGroups: number;
  messagesOut: number;
  framesOut: number;
  bytesOut: number;
  framesDropped: number;
  skips: number;
}

function checkBytesOption(v: unknown, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  checkInt(v, name, 1, 2 ** 40);
  return v;
}

function checkSubscriberId(id: unknown, name: string): asserts id is SubscriberId {
  if (typeof id !== 'string') throw new TypeError(`${name} must be a string`);
  if (id.length < 1 || id.length > 256) throw new RangeError(`${name} must be 1..256 characters`);
}

export class FanoutRelay {
  readonly streamId: Uint8Array;
  readonly maxInFlightBytes: number;
  readonly congestionBytes: number;
  readonly maxQueueBytes: number;
  readonly maxGroupCacheBytes: number;
  readonly stallGroups: number;
  readonly maxSubscribers: number;

  private readonly subs = new Map<SubscriberId, Subscriber>();
  // Upstream position.
  private group: number | null = null;
  private lastFrame: number | null = null;
  /** The frame in progress upstream; `ignored` when it came before the first keyframe. */
  private open: { groupSeq: number; frameSeq: number; parts: number; next: number; ignored: boolean } | null = null;
  // The current group from its keyframe, for late joiners.
  private cache: Entry[] = [];
  private cacheBytes = 0;
  private cacheValid = false;
  // Totals.
  private messagesIn = 0;
  private framesIn = 0;
  private bytesIn = 0;
  private groupsIn = 0;
  private messagesOut = 0;
  private framesOut = 0;
  private bytesOut = 0;
  private framesDropped = 0;
  private skips = 0;
  private closed = 0;

  constructor(options: FanoutOptions) {
    checkObject(options, 'options');
    assertBytes(options.streamId, 'options.streamId', STREAM_ID_LENGTH);
    this.streamId = options.streamId.slice();
    this.maxInFlightBytes = checkBytesOption(options.maxInFlightBytes, 'options.maxInFlightBytes', DEFAULT_FANOUT.maxInFlightBytes);
    this.congestionBytes = checkBytesOption(options.congestionBytes, 'options.congestionBytes', DEFAULT_FANOUT.congestionBytes);
    this.maxQueueBytes = checkBytesOption(options.maxQueueBytes, 'options.maxQueueBytes', DEFAULT_FANOUT.maxQueueBytes);
    this.maxGroupCacheBytes = checkBytesOption(
      options.maxGroupCacheBytes,
      'options.maxGroupCacheBytes',
      Math.min(DEFAULT_FANOUT.maxGroupCacheBytes, this.maxQueueBytes),
    );
    if (this.congestionBytes > this.maxQueueBytes) throw new RangeError('options.congestionBytes must not exceed options.maxQueueBytes');
    if (this.maxGroupCacheBytes > this.maxQueueBytes) throw new RangeError('options.maxGroupCacheBytes must not exceed options.maxQueueBytes');
    const stall = options.stallGroups ?? DEFAULT_FANOUT.stallGroups;
    checkInt(stall, 'options.stallGroups', 1, 1000);
    this.stallGroups = stall;
    const maxSubs = options.maxSubscribers ?? DEFAULT_FANOUT.maxSubscribers;
    checkInt(maxSubs, 'options.maxSubscribers', 1, 1 << 24);
    this.maxSubscribers = maxSubs;
  }

  /** Subscribers now. */
  get viewers(): number {
    return this.subs.size;
  }

  get isFull(): boolean {
    return this.subs.size >= this.maxSubscribers;
  }

  has(id: SubscriberId): boolean {
    return this.subs.has(id);
  }

  /**
   * Adds a subscriber (a viewer or a child distribution node). It starts at the cached current
   * group, from its keyframe, when there is one; otherwise at the next keyframe. RangeError when
   * `id` is already subscribed or the relay is full (check isFull first).
   */
  addSubscriber(id: SubscriberId): FanoutAction[] {
    checkSubscriberId(id, 'id');
    if (this.subs.has(id)) throw new RangeError(`subscriber ${id} is already subscribed`);
    if (this.isFull) throw new RangeError(`the relay already serves ${this.maxSubscribers} subscribers`);
    const sub: Subscriber = {
      id,
      mode: 'waiting-keyframe',
      group: -1,
      frameOpen: false,
      queue: new Fifo(),
      queuedBytes: 0,
      inFlight: new Fifo(),
      inFlightBytes: 0,
      stalledGroups: 0,
      messagesOut: 0,
      framesOut: 0,
      bytesOut: 0,
      framesDropped: 0,
      skips: 0,
    };
    this.subs.set(id, sub);
    const actions: FanoutAction[] = [];
    if (this.cacheValid && this.cache.length > 0 && this.group !== null) {
      sub.mode = 'live';
      sub.group = this.group;
      sub.frameOpen = this.open !== null;
      for (const e of this.cache) this.enqueue(sub, e, actions);
      if (this.subs.has(sub.id)) this.flush(sub, actions);
    }
    return actions;
  }

  /** Removes a subscriber (it left, or its connection closed); false when unknown. */
  removeSubscriber(id: SubscriberId): boolean {
    checkSubscriberId(id, 'id');
    return this.subs.delete(id);
  }

  /**
   * The I/O layer finished writing the oldest `count` messages it was given for `id`: more may
   * go. An unknown subscriber (closed or removed meanwhile) gives no actions. RangeError when
   * `count` exceeds what is in flight.
   */
  acknowledge(id: SubscriberId, count = 1): FanoutAction[] {
    checkSubscriberId(id, 'id');
    const sub = this.subs.get(id);
    if (sub === undefined) return [];
    checkInt(count, 'count', 1, Number.MAX_SAFE_INTEGER);
    if (count > sub.inFlight.length) throw new RangeError(`count ${count} exceeds the ${sub.inFlight.length} messages in flight`);
    for (let i = 0; i < count; i++) sub.inFlightBytes -= sub.inFlight.shift()!;
    sub.stalledGroups = 0;
    const actions: FanoutAction[] = [];
    this.flush(sub, actions);
    return actions;
  }

  /**
   * Takes the next message from upstream: a media packet or a group signature of this stream,
   * encoded (messages.ts). Returns what to send to whom. Throws StreamError for bytes that do
   * not decode, another stream ('protocol'), or a break of the upstream order ('protocol');
   * then nothing changes.
   */
  push(message: Uint8Array): FanoutAction[] {
    const m = decodeStreamMessage(message, ['media', 'group-signature']);
    if (m.type !== 'media' && m.type !== 'group-signature') throw fail('unknown-type', 'not a media message'); // the decoder filtered it already
    if (!equalBytes(m.streamId, this.streamId)) throw fail('protocol', 'message for another stream');
    const bytes = message.slice();
    const actions: FanoutAction[] = [];
    if (m.type === 'group-signature') {
      if (this.open !== null) throw fail('protocol', 'group signature inside a frame');
      if (this.group === null || m.groupSeq !== this.group) {
        this.countIn(message); // an earlier group: nobody can use it
        return actions;
      }
      if (this.lastFrame === null || m.throughFrame > this.lastFrame) {
        throw fail('protocol', `group signature through frame ${m.throughFrame}, which was not sent`);
      }
      this.countIn(bytes);
      const e: Entry = { bytes, start: false, end: false, signature: true };
      this.remember(e, false);
      for (const sub of [...this.subs.values()]) {
        if (sub.mode !== 'waiting-keyframe' && sub.group === m.groupSeq) {
          this.enqueue(sub, e, actions);
          if (this.subs.has(sub.id)) this.flush(sub, actions);
        }
      }
      return actions;
    }
    // Check the order first, so a bad message changes nothing.
    const start = m.part === 0;
    if (this.open !== null) {
      const o = this.open;
      if (m.groupSeq !== o.groupSeq || m.frameSeq !== o.frameSeq || m.parts !== o.parts || m.part !== o.next) {
        throw fail('protocol', `expected piece ${o.next} of ${o.parts} of frame ${o.frameSeq} in group ${o.groupSeq}`);
      }
    } else if (!start) {
      throw fail('protocol', `piece ${m.part} of a frame whose first piece was not sent`);
    } else if (m.keyframe) {
      if (this.group !== null && m.groupSeq <= this.group) throw fail('protocol', `group ${m.groupSeq} does not follow group ${this.group}`);
    } else if (this.group === null) {
      // Before the first keyframe: nothing can use it (its later pieces are skipped too).
      this.open = m.parts > 1 ? { groupSeq: m.groupSeq, frameSeq: m.frameSeq, parts: m.parts, next: 1, ignored: true } : null;
      this.countIn(message);
      return actions;
    } else if (m.groupSeq !== this.group || m.frameSeq <= this.lastFrame!) {
      throw fail('protocol', `frame ${m.frameSeq} of group ${m.groupSeq} does not follow frame ${this.lastFrame} of group ${this.group}`);
    }
    const end = m.part === m.parts - 1;
    if (this.open !== null && this.open.ignored) {
      this.open = end ? null : { ...this.open, next: this.open.next + 1 };
      this.countIn(message);
      return actions;
    }
    if (start) {
      this.open = end ? null : { groupSeq: m.groupSeq, frameSeq: m.frameSeq, parts: m.parts, next: 1, ignored: false };
      this.lastFrame = m.frameSeq;
      this.framesIn++;
      if (m.keyframe) {
        this.group = m.groupSeq;
        this.groupsIn++;
      }
    } else {
      this.open = end ? null : { ...this.open!, next: this.open!.next + 1 };
    }
    this.countIn(bytes);
    const e: Entry = { bytes, start, end, signature: false };
    this.remember(e, start && m.keyframe);
    if (start && m.keyframe) this.noteNewGroup(actions);
    for (const sub of [...this.subs.values()]) {
      this.deliver(sub, e, m.keyframe, m.groupSeq, actions);
      if (this.subs.has(sub.id)) this.flush(sub, actions);
    }
    return actions;
  }

  subscriberStats(id: SubscriberId): SubscriberStats | undefined {
    checkSubscriberId(id, 'id');
    const s = this.subs.get(id);
    if (s === undefined) return undefined;
    return {
      mode: s.mode,
      queuedBytes: s.queuedBytes,
      queuedMessages: s.queue.length,
      inFlightBytes: s.inFlightBytes,
      inFlightMessages: s.inFlight.length,
      messagesOut: s.messagesOut,
      framesOut: s.framesOut,
      bytesOut: s.bytesOut,
      framesDropped: s.framesDropped,
      skips: s.skips,
    };
  }

  stats(): FanoutStats {
    return {
      viewers: this.subs.size,
      messagesIn: this.messagesIn,
      framesIn: this.framesIn,
      bytesIn: this.bytesIn,
      groupsIn: this.groupsIn,
      messagesOut: this.messagesOut,
      framesOut: this.framesOut,
      bytesOut: this.bytesOut,
      framesDropped: this.framesDropped,
      skips: this.skips,
      closed: this.closed,
      cachedBytes: this.cacheValid ? this.cacheBytes : 0,
    };
  }

  // ---- internals ----------------------------------------------------------------------------

  private countIn(bytes: Uint8Array): void {
    this.messagesIn++;
    this.bytesIn += bytes.length;
  }

  /** Keeps `e` in the current group's cache (a keyframe starts a new one). */
  private remember(e: Entry, newGroup: boolean): void {
    if (newGroup) {
      this.cache = [];
      this.cacheBytes = 0;
      this.cacheValid = true;
    }
    if (!this.cacheValid) return;
    if (this.cacheBytes + e.bytes.length > this.maxGroupCacheBytes) {
      // Too long a group to replay: late joiners wait for the next keyframe.
      this.cache = [];
      this.cacheBytes = 0;
      this.cacheValid = false;
      return;
    }
    this.cache.push(e);
    this.cacheBytes += e.bytes.length;
  }

  /** A new group begins: subscribers that acknowledged nothing for too long are closed. */
  private noteNewGroup(actions: FanoutAction[]): void {
    for (const sub of [...this.subs.values()]) {
      if (sub.inFlight.length === 0) {
        sub.stalledGroups = 0;
        continue;
      }
      sub.stalledGroups++;
      if (sub.stalledGroups > this.stallGroups) this.close(sub, actions);
    }
  }

  private deliver(sub: Subscriber, e: Entry, keyframe: boolean, groupSeq: number, actions: FanoutAction[]): void {
    if (!e.start) {
      // A later piece goes where its first piece went.
      if (sub.frameOpen) {
        if (e.end) sub.frameOpen = false;
        this.enqueue(sub, e, actions);
      }
      return;
    }
    sub.frameOpen = false;
    if (keyframe) {
      if (sub.mode === 'live' && sub.queuedBytes > this.congestionBytes) {
        if (this.dropStale(sub) > 0) this.countSkip(sub);
      } else if (sub.mode === 'skipping') {
        this.dropStale(sub);
      }
      sub.mode = 'live';
      sub.group = groupSeq;
    } else {
      if (sub.mode === 'waiting-keyframe') return;
      if (sub.mode === 'skipping') {
        this.countDrop(sub, 1);
        return;
      }
      if (sub.queuedBytes > this.congestionBytes) {
        this.dropStale(sub);
        sub.mode = 'skipping';
        this.countSkip(sub);
        this.countDrop(sub, 1);
        return;
      }
    }
    sub.frameOpen = !e.end;
    this.enqueue(sub, e, actions);
  }

  /**
   * Drops the queued messages from the first one that begins a frame or is a signature: what
   * remains ahead of it finishes a frame whose first piece already went out. Returns the number
   * of frames dropped.
   */
  private dropStale(sub: Subscriber): number {
    let keep = 0;
    while (keep < sub.queue.length) {
      const e = sub.queue.at(keep)!;
      if (e.start || e.signature) break;
      keep++;
    }
    const removed = sub.queue.truncate(keep);
    let frames = 0;
    for (const e of removed) {
      sub.queuedBytes -= e.bytes.length;
      if (e.start) frames++;
    }
    if (frames > 0) sub.frameOpen = false;
    this.countDrop(sub, frames);
    return frames;
  }

  private countDrop(sub: Subscriber, frames: number): void {
    sub.framesDropped += frames;
    this.framesDropped += frames;
  }

  private countSkip(sub: Subscriber): void {
    sub.skips++;
    this.skips++;
  }

  private enqueue(sub: Subscriber, e: Entry, actions: FanoutAction[]): void {
    if (!this.subs.has(sub.id)) return;
    if (sub.queuedBytes + e.bytes.length > this.maxQueueBytes) {
      this.close(sub, actions);
      return;
    }
    sub.queue.push(e);
    sub.queuedBytes += e.bytes.length;
  }

  /** Hands queued messages to the I/O layer while the in-flight window allows (at least one). */
  private flush(sub: Subscriber, actions: FanoutAction[]): void {
    while (sub.queue.length > 0) {
      const e = sub.queue.peek()!;
      if (sub.inFlight.length > 0 && sub.inFlightBytes + e.bytes.length > this.maxInFlightBytes) break;
      sub.queue.shift();
      sub.queuedBytes -= e.bytes.length;
      sub.inFlight.push(e.bytes.length);
      sub.inFlightBytes += e.bytes.length;
      sub.messagesOut++;
      sub.bytesOut += e.bytes.length;
      this.messagesOut++;
      this.bytesOut += e.bytes.length;
      if (e.end) {
        sub.framesOut++;
        this.framesOut++;
      }
      actions.push({ type: 'send', subscriber: sub.id, bytes: e.bytes });
    }
  }

  private close(sub: Subscriber, actions: FanoutAction[]): void {
    if (!this.subs.delete(sub.id)) return;
    this.closed++;
    actions.push({ type: 'close', subscriber: sub.id, reason: 'too-slow' });
  }
}

// =============================================================================================
// The distribution tree

export type NodeId = string;

export interface FanoutTreeOptions {
  /** The landing node. */
  readonly root: NodeId;
  /** Subscribers the landing node serves directly (viewers and child nodes). */
  readonly rootCapacity: number;
  /** Deepest level below the root a distribution node may sit at (default 3). */
  readonly maxDepth?: number;
}

export type TreeAction =
  /** Tell `node` to relay the stream from `parent` (attach-distribution), and `parent` to accept it. */
  | { readonly type: 'attach'; readonly node: NodeId; readonly parent: NodeId }
  /** Tell `node` to stop relaying the stream (detach-distribution); it returns to the pool. */
  | { readonly type: 'detach'; readonly node: NodeId }
  /** Point `viewer` at `node` (redirect, or serve it here when `node` is the root). */
  | { readonly type: 'assign'; readonly viewer: string; readonly node: NodeId };

export interface TreeNodeInfo {
  readonly id: NodeId;
  readonly parent: NodeId | null;
  readonly depth: number;
  readonly capacity: number;
  readonly viewers: number;
  readonly children: readonly NodeId[];
}

interface TreeNode {
  readonly id: NodeId;
  readonly capacity: number;
  parent: NodeId | null;
  depth: number;
  readonly children: NodeId[];
  readonly viewers: Set<string>;
  /** Attach order, for stable ties. */
  order: number;
}

function checkId(v: unknown, name: string): asserts v is string {
  if (typeof v !== 'string') throw new TypeError(`${name} must be a string`);
  if (v.length < 1 || v.length > 256) throw new RangeError(`${name} must be 1..256 characters`);
}

export class FanoutTree {
  readonly root: NodeId;
  readonly maxDepth: number;
  private readonly nodes = new Map<NodeId, TreeNode>();
  private readonly pool = new Map<NodeId, { capacity: number; order: number }>();
  private readonly viewerNode = new Map<string, NodeId>();
  private seq = 0;

  constructor(options: FanoutTreeOptions) {
    checkObject(options, 'options');
    checkId(options.root, 'options.root');
    checkInt(options.rootCapacity, 'options.rootCapacity', 1, 1 << 24);
    const maxDepth = options.maxDepth ?? 3;
    checkInt(maxDepth, 'options.maxDepth', 0, 16);
    this.root = options.root;
    this.maxDepth = maxDepth;
    this.nodes.set(options.root, {
      id: options.root,
      capacity: options.rootCapacity,
      parent: null,
      depth: 0,
      children: [],
      viewers: new Set(),
      order: this.seq++,
    });
  }

  get viewerCount(): number {
    return this.viewerNode.size;
  }

  /** Attached distribution nodes (the root not counted). */
  get attachedCount(): number {
    return this.nodes.size - 1;
  }

  get poolSize(): number {
    return this.pool.size;
  }

  /**
   * An estimate of the viewers the tree could still take: free slots of attached nodes, plus
   * what each pooled node adds (its capacity less the parent slot it takes). When it runs low
   * the landing node asks the creator for more distribution nodes (seed 004 §8.2).
   */
  get spareViewerSlots(): number {
    let n = 0;
    for (const t of this.nodes.values()) n += this.free(t);
    for (const p of this.pool.values()) n += p.capacity - 1;
    return n;
  }

  /** Offers a distribution node to the stream; it waits in the pool until needed. */
  offerNode(id: NodeId, capacity: number): void {
    checkId(id, 'id');
    checkInt(capacity, 'capacity', 1, 1 << 24);
    if (this.nodes.has(id) || this.pool.has(id)) throw new RangeError(`node ${id} is already part of the stream`);
    this.pool.set(id, { capacity, order: this.seq++ });
  }

  /**
   * Places a new viewer at the least-loaded attached node with room, attaching a pooled node
   * first when none has room. Returns the node and the actions (attach before assign), or null
   * when the tree is full (nothing changes).
   */
  placeViewer(viewer: string): { node: NodeId; actions: TreeAction[] } | null {
    checkId(viewer, 'viewer');
    if (this.viewerNode.has(viewer)) throw new RangeError(`viewer ${viewer} is already placed`);
    const actions: TreeAction[] = [];
    const node = this.pickForViewer(actions);
    if (node === null) return null;
    node.viewers.add(viewer);
    this.viewerNode.set(viewer, node.id);
    actions.push({ type: 'assign', viewer, node: node.id });
    return { node: node.id, actions };
  }

  /** Removes a viewer that left; returns the node it was at, or null when unknown. */
  removeViewer(viewer: string): NodeId | null {
    checkId(viewer, 'viewer');
    const at = this.viewerNode.get(viewer);
    if (at === undefined) return null;
    this.viewerNode.delete(viewer);
    this.nodes.get(at)?.viewers.delete(viewer);
    return at;
  }

  nodeOf(viewer: string): NodeId | null {
    checkId(viewer, 'viewer');
    return this.viewerNode.get(viewer) ?? null;
  }

  /** An attached node (or the root), or null. */
  info(id: NodeId): TreeNodeInfo | null {
    checkId(id, 'id');
    const t = this.nodes.get(id);
    if (t === undefined) return null;
    return { id, parent: t.parent, depth: t.depth, capacity: t.capacity, viewers: t.viewers.size, children: [...t.children] };
  }

  /** Every attached node, the root first, parents before children. */
  snapshot(): TreeNodeInfo[] {
    const out: TreeNodeInfo[] = [];
    const walk = (id: NodeId): void => {
      out.push(this.info(id)!);
      for (const c of this.nodes.get(id)!.children) walk(c);
    };
    walk(this.root);
    return out;
  }

  /**
   * A node failed (or left). A pooled node just leaves the pool. An attached node's children move,
   * each with its subtree, under the shallowest, least-loaded node with a free slot and depth to
   * spare; a subtree that fits nowhere is detached to the pool and its viewers placed again, like
   * the failed node's own viewers. Returns the actions and the viewers that found no place (tell
   * them to retry later). RangeError for the root or an unknown node.
   */
  nodeFailed(id: NodeId): { actions: TreeAction[]; unplaced: string[] } {
    checkId(id, 'id');
    if (id === this.root) throw new RangeError('the root (the landing node) cannot fail within its own stream');
    if (this.pool.delete(id)) return { actions: [], unplaced: [] };
    const failed = this.nodes.get(id);
    if (failed === undefined) throw new RangeError(`node ${id} is not part of the stream`);
    const actions: TreeAction[] = [];
    this.unlink(failed);
    this.nodes.delete(id);
    const orphans: string[] = [];
    for (const v of failed.viewers) {
      this.viewerNode.delete(v);
      orphans.push(v);
    }
    for (const childId of failed.children) {
      const child = this.nodes.get(childId)!;
      child.parent = null;
      const subtree = this.subtree(child);
      const height = Math.max(...subtree.map((t) => t.depth)) - child.depth;
      const inside = new Set(subtree.map((t) => t.id));
      const parent = this.best([...this.nodes.values()].filter((t) => !inside.has(t.id) && this.free(t) >= 1 && t.depth + 1 + height <= this.maxDepth), true);
      if (parent !== null) {
        this.link(child, parent);
        actions.push({ type: 'attach', node: child.id, parent: parent.id });
        continue;
      }
      for (const t of subtree.reverse()) {
        for (const v of t.viewers) {
          this.viewerNode.delete(v);
          orphans.push(v);
        }
        this.nodes.delete(t.id);
        this.pool.set(t.id, { capacity: t.capacity, order: this.seq++ });
        actions.push({ type: 'detach', node: t.id });
      }
    }
    const unplaced: string[] = [];
    for (const v of orphans) {
      const node = this.pickForViewer(actions);
      if (node === null) {
        unplaced.push(v);
        continue;
      }
      node.viewers.add(v);
      this.viewerNode.set(v, node.id);
      actions.push({ type: 'assign', viewer: v, node: node.id });
    }
    return { actions, unplaced };
  }

  /** Detaches attached nodes left with no viewers and no children (they return to the pool). */
  releaseIdle(): TreeAction[] {
    const actions: TreeAction[] = [];
    for (;;) {
      const idle = [...this.nodes.values()].filter((t) => t.id !== this.root && t.viewers.size === 0 && t.children.length === 0);
      if (idle.length === 0) return actions;
      for (const t of idle) {
        this.unlink(t);
        this.nodes.delete(t.id);
        this.pool.set(t.id, { capacity: t.capacity, order: this.seq++ });
        actions.push({ type: 'detach', node: t.id });
      }
    }
  }

  // ---- internals ----------------------------------------------------------------------------

  private free(t: TreeNode): number {
    return t.capacity - t.viewers.size - t.children.length;
  }

  private load(t: TreeNode): number {
    return (t.viewers.size + t.children.length) / t.capacity;
  }

  /** The least-loaded candidate (or, with `shallowFirst`, the shallowest, then least-loaded); ties by attach order. */
  private best(candidates: TreeNode[], shallowFirst: boolean): TreeNode | null {
    let best: TreeNode | null = null;
    for (const t of candidates) {
      if (best === null) {
        best = t;
        continue;
      }
      const byLoad = this.load(t) - this.load(best);
      const byDepth = t.depth - best.depth;
      const primary = shallowFirst ? byDepth : byLoad;
      const secondary = shallowFirst ? byLoad : byDepth;
      if (primary < 0 || (primary === 0 && (secondary < 0 || (secondary === 0 && t.order < best.order)))) best = t;
    }
    return best;
  }

  private pickForViewer(actions: TreeAction[]): TreeNode | null {
    const growable = this.pool.size > 0;
    // Keep each node's last slot for a child while the pool can still grow the tree.
    const direct = [...this.nodes.values()].filter((t) => this.free(t) >= (growable && t.depth < this.maxDepth ? 2 : 1));
    const chosen = this.best(direct, false);
    if (chosen !== null || !growable) return chosen;
    const parent = this.best(
      [...this.nodes.values()].filter((t) => this.free(t) >= 1 && t.depth < this.maxDepth),
      true,
    );
    if (parent === null) return null;
    let pick: { id: NodeId; capacity: number; order: number } | null = null;
    for (const [id, p] of this.pool) {
      if (pick === null || p.capacity > pick.capacity || (p.capacity === pick.capacity && p.order < pick.order)) pick = { id, ...p };
    }
    const { id, capacity } = pick!;
    this.pool.delete(id);
    const child: TreeNode = { id, capacity, parent: null, depth: 0, children: [], viewers: new Set(), order: this.seq++ };
    this.nodes.set(id, child);
    this.link(child, parent);
    actions.push({ type: 'attach', node: id, parent: parent.id });
    return child;
  }

  private link(child: TreeNode, parent: TreeNode): void {
    child.parent = parent.id;
    parent.children.push(child.id);
    const shift = parent.depth + 1 - child.depth;
    for (const t of this.subtree(child)) t.depth += shift;
  }

  private unlink(t: TreeNode): void {
    if (t.parent === null) return;
    const p = this.nodes.get(t.parent);
    if (p !== undefined) {
      const i = p.children.indexOf(t.id);
      if (i >= 0) p.children.splice(i, 1);
    }
    t.parent = null;
  }

  /** `t` and every node below it, parents before children. */
  private subtree(t: TreeNode): TreeNode[] {
    const out: TreeNode[] = [t];
    for (let i = 0; i < out.length; i++) {
      for (const c of out[i]!.children) {
        const n = this.nodes.get(c);
        if (n !== undefined) out.push(n);
      }
    }
    return out;
  }
}
