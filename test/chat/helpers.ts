/**
 * Test helpers for node-core/chat: keys, a fake clock driver, an in-memory lossy channel
 * (loss, duplication, reordering), a pair of users whose conversations can be restarted from
 * the same store, and snapshots of a store's state for "nothing changed" checks. Not a test file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as macrotask } from 'node:timers/promises';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  type ChatFrame,
  type ChatLimits,
  type ChatMessage,
  type ChatStore,
  type ChatTransport,
  Conversation,
  type ConversationEvents,
  type FileCancelReason,
  MemoryChatStore,
  type OutgoingFile,
  decodeFrame,
} from '../../node-core/chat';
import { SqliteChatStore } from '../../node-core/io/storage/chat-store';
import { toHex } from '../../node-core/util/bytes';
import { Prng } from '../fuzz/prng';
import { FakeScheduler } from '../onion/memnet';

export const ALICE_KEY = new Uint8Array(32).fill(0xa1);
export const BOB_KEY = new Uint8Array(32).fill(0xb0);
export const ALICE = toHex(ALICE_KEY);
export const BOB = toHex(BOB_KEY);

/** Deterministic "random" bytes for ids. */
export function seededRandom(seed: number): (n: number) => Uint8Array {
  const prng = new Prng(seed);
  return (n) => prng.bytes(n);
}

// ---- the clock ----------------------------------------------------------------------------------

export class Clock {
  readonly sched = new FakeScheduler();

  /** Runs deferred work, timers due now and promise callbacks until nothing is left. */
  async idle(maxSteps = 100_000): Promise<void> {
    for (let i = 0; i < maxSteps; i++) {
      this.sched.runUntilIdle(1_000_000);
      await macrotask();
      if (!this.sched.hasWork()) return;
    }
    throw new Error('the clock did not become idle');
  }

  /** Moves the clock forward `ms`, timer by timer, letting promises settle in between. */
  async advance(ms: number, maxSteps = 1_000_000): Promise<void> {
    const target = this.sched.now() + ms;
    for (let i = 0; i < maxSteps; i++) {
      await this.idle();
      const next = this.sched.nextTimerAt();
      if (next === null || next > target) {
        this.sched.jumpTo(target);
        await this.idle();
        return;
      }
      this.sched.jumpTo(next);
    }
    throw new Error(`advance(${ms}) did not finish`);
  }

  /** Runs the clock until `done()` holds; fails after `maxMs` of fake time. */
  async until(done: () => boolean, maxMs: number, what: string): Promise<void> {
    const limit = this.sched.now() + maxMs;
    for (;;) {
      await this.idle();
      if (done()) return;
      const next = this.sched.nextTimerAt();
      if (next === null) throw new Error(`${what}: nothing left to run`);
      if (next > limit) throw new Error(`${what}: not reached within ${maxMs} ms of fake time`);
      this.sched.jumpTo(next);
    }
  }
}

// ---- an in-memory channel -----------------------------------------------------------------------

export interface LinkOptions {
  /** Chance a frame is lost. */
  loss?: number;
  /** Chance a frame arrives twice. */
  duplicate?: number;
  /** Base one-way delay, ms. */
  delay?: number;
  /** Extra random delay 0..jitter ms (reorders frames). */
  jitter?: number;
  seed?: number;
}

/** Frames a test saw, per direction, for inspection. */
export interface LinkLog {
  sent: { at: number; frame: ChatFrame }[];
}

/**
 * A channel between two receivers: each end's `send` delivers to the other end's current
 * receiver after a delay, unless lost. Closing it drops everything still on the way.
 */
export class MemLink {
  open = true;
  readonly a: ChatTransport;
  readonly b: ChatTransport;
  readonly logA: LinkLog = { sent: [] };
  readonly logB: LinkLog = { sent: [] };
  private readonly prng: Prng;

  constructor(
    private readonly clock: Clock,
    toA: () => (f: Uint8Array) => Promise<void>,
    toB: () => (f: Uint8Array) => Promise<void>,
    private readonly opts: LinkOptions,
    private readonly errors: unknown[],
    readonly keepLog = false,
  ) {
    this.prng = new Prng(opts.seed ?? 1);
    const link = this;
    this.a = {
      send: (f) => this.carry(f, toB, this.logA),
      get isOpen() {
        return link.open;
      },
    };
    this.b = {
      send: (f) => this.carry(f, toA, this.logB),
      get isOpen() {
        return link.open;
      },
    };
  }

  private chance(p: number | undefined): boolean {
    return p !== undefined && p > 0 && this.prng.below(1_000_000) < p * 1_000_000;
  }

  private carry(f: Uint8Array, to: () => (f: Uint8Array) => Promise<void>, log: LinkLog): void {
    if (!this.open) throw new Error('send on a closed link');
    if (this.keepLog) log.sent.push({ at: this.clock.sched.now(), frame: decodeFrame(f) });
    if (this.chance(this.opts.loss)) return;
    const copies = this.chance(this.opts.duplicate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = (this.opts.delay ?? 5) + (this.opts.jitter ? this.prng.below(this.opts.jitter + 1) : 0);
      const bytes = f.slice();
      this.clock.sched.setTimeout(() => {
        if (!this.open) return;
        to()(bytes).catch((e: unknown) => this.errors.push(e));
      }, delay);
    }
  }

  close(): void {
    this.open = false;
  }
}

// ---- users --------------------------------------------------------------------------------------

export type StoreKind = 'memory' | 'sqlite';

/** A store that survives restarts: the memory store is kept, the SQLite one is closed and reopened. */
export class StoreHandle {
  private static dirs: string[] = [];
  store: ChatStore;
  private readonly dir: string | null;

  constructor(
    readonly kind: StoreKind,
    readonly name: string,
  ) {
    if (kind === 'memory') {
      this.dir = null;
      this.store = new MemoryChatStore({ now: () => 1_700_000_000_000 });
    } else {
      this.dir = mkdtempSync(join(tmpdir(), `psp-chat-${name}-`));
      StoreHandle.dirs.push(this.dir);
      this.store = this.openSqlite();
    }
  }

  private openSqlite(): SqliteChatStore {
    return SqliteChatStore.open(join(this.dir!, 'chat.sqlite'), { filesDir: join(this.dir!, 'files'), now: () => 1_700_000_000_000 });
  }

  get filesDir(): string | null {
    return this.dir === null ? null : join(this.dir, 'files');
  }

  /** Closes and reopens the database file (a restart); the memory store stays as it is. */
  reopen(): void {
    if (this.store instanceof SqliteChatStore) {
      this.store.close();
      this.store = this.openSqlite();
    }
  }

  close(): void {
    if (this.store instanceof SqliteChatStore) this.store.close();
  }

  static removeAll(): void {
    for (const d of StoreHandle.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

/** What a user saw through the events. */
export interface Seen {
  messages: ChatMessage[];
  statuses: Map<string, string[]>;
  typing: boolean[];
  progress: { fileId: string; bytes: number; total: number; direction: 'in' | 'out' }[];
  complete: string[];
  failed: { fileId: string; reason: FileCancelReason }[];
  protocolErrors: string[];
  errors: unknown[];
}

export function newSeen(): Seen {
  return { messages: [], statuses: new Map(), typing: [], progress: [], complete: [], failed: [], protocolErrors: [], errors: [] };
}

export function recorder(seen: Seen): ConversationEvents {
  return {
    onMessage: (m) => seen.messages.push(m),
    onStatus: (id, s) => seen.statuses.set(id, [...(seen.statuses.get(id) ?? []), s]),
    onTyping: (a) => seen.typing.push(a),
    onFileProgress: (fileId, bytes, total, direction) => seen.progress.push({ fileId, bytes, total, direction }),
    onFileComplete: (f) => seen.complete.push(f),
    onFileFailed: (fileId, reason) => seen.failed.push({ fileId, reason }),
    onProtocolError: (e) => seen.protocolErrors.push(e.code),
    onError: (e) => seen.errors.push(e),
  };
}

export class User {
  conv!: Conversation;
  readonly seen = newSeen();
  restarts = 0;

  constructor(
    readonly clock: Clock,
    readonly handle: StoreHandle,
    readonly self: Uint8Array,
    readonly peer: Uint8Array,
    readonly limits: Partial<ChatLimits> = {},
    readonly seed = 7,
  ) {}

  async open(): Promise<this> {
    this.conv = await Conversation.open({
      self: this.self,
      peer: this.peer,
      store: this.handle.store,
      scheduler: this.clock.sched,
      random: seededRandom(this.seed * 1000 + this.restarts),
      limits: this.limits,
      events: recorder(this.seen),
    });
    return this;
  }

  /** Whatever conversation is current receives (a closed one ignores frames). */
  receiver(): (f: Uint8Array) => Promise<void> {
    return (f) => this.conv.receiveFrame(f);
  }

  /**
   * Closes the conversation and opens a new one from the same store (reopening a database file
   * unless `reopenStore` is false).
   */
  async restart(reopenStore = true): Promise<void> {
    this.conv.detach();
    await this.conv.whenIdle();
    this.conv.close();
    if (reopenStore) this.handle.reopen();
    this.restarts++;
    await this.open();
  }
}

/** Two users and the channel between them (if any). */
export class Pair {
  link: MemLink | null = null;
  readonly linkErrors: unknown[] = [];
  private linkSeed = 100;

  constructor(
    readonly clock: Clock,
    readonly alice: User,
    readonly bob: User,
    readonly linkOptions: LinkOptions = {},
  ) {}

  static async create(kind: StoreKind, linkOptions: LinkOptions = {}, limits: Partial<ChatLimits> = {}): Promise<Pair> {
    const clock = new Clock();
    const alice = await new User(clock, new StoreHandle(kind, 'alice'), ALICE_KEY, BOB_KEY, { ...limits }, 1).open();
    const bob = await new User(clock, new StoreHandle(kind, 'bob'), BOB_KEY, ALICE_KEY, { ...limits }, 2).open();
    return new Pair(clock, alice, bob, linkOptions);
  }

  /** Opens a fresh channel and attaches both sides to it. */
  connect(keepLog = false): MemLink {
    this.disconnect();
    const link = new MemLink(this.clock, () => this.alice.receiver(), () => this.bob.receiver(), { ...this.linkOptions, seed: this.linkSeed++ }, this.linkErrors, keepLog);
    this.link = link;
    this.alice.conv.attach(link.a);
    this.bob.conv.attach(link.b);
    return link;
  }

  /** The channel breaks: both sides are told, frames on the way are lost. */
  disconnect(): void {
    if (this.link === null) return;
    this.link.close();
    this.link = null;
    this.alice.conv.detach();
    this.bob.conv.detach();
  }

  close(): void {
    this.disconnect();
    this.alice.conv.close();
    this.bob.conv.close();
    this.alice.handle.close();
    this.bob.handle.close();
  }
}

// ---- files ------------------------------------------------------------------------------------

/** A file source over bytes in memory. */
export function memFile(name: string, bytes: Uint8Array, hash = sha256(bytes)): OutgoingFile {
  return {
    name,
    size: bytes.length,
    sha256: hash,
    read: async (offset, length) => bytes.slice(offset, offset + length),
  };
}

export function pattern(n: number, seed = 3): Uint8Array {
  return new Prng(seed).bytes(n);
}

// ---- snapshots ----------------------------------------------------------------------------------

/** Everything a store holds about one conversation, as plain JSON-comparable data. */
export async function snapshot(store: ChatStore, peer: string): Promise<unknown> {
  const plain = (v: unknown): unknown =>
    JSON.parse(JSON.stringify(v, (_k, x: unknown) => (x instanceof Uint8Array ? `hex:${toHex(x)}` : x)));
  return plain({
    state: await store.conversationState(peer),
    messages: await store.listMessages(peer, { limit: 1000 }),
    outgoing: await store.outgoing(peer, 0, 100_000),
    transfers: await store.transfers(peer),
    conversations: await store.listConversations(),
  });
}

/** A transport that keeps what is sent to it, decoded. */
export class Capture implements ChatTransport {
  isOpen = true;
  readonly frames: ChatFrame[] = [];
  send(f: Uint8Array): void {
    this.frames.push(decodeFrame(f));
  }
  of<T extends ChatFrame['type']>(type: T): Extract<ChatFrame, { type: T }>[] {
    return this.frames.filter((f): f is Extract<ChatFrame, { type: T }> => f.type === type);
  }
}
