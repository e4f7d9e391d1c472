/**
 * What the onion layer needs from a link, and from its runtime, as small interfaces. The I/O
 * part adapts real TLS links (node-core/io/link) to `CellChannel`; tests may use in-memory ones.
 */
import type { Cell, CircIdAllocator } from '../cell';

export interface CellChannel {
  /** Unique per process; keys circuit tables. */
  readonly id: number;
  /** True if we opened the link (our circuit ids then carry the MSB). */
  readonly initiatedByUs: boolean;
  /** The peer's proven node identity, or null for an anonymous client. */
  readonly peerIdentity: Uint8Array | null;
  /** The peer's IP address, for per-address limits only (never logged as is). */
  readonly remoteIp: string;
  readonly isOpen: boolean;
  /** Returns false when the link is above its high-water mark; wait for onChannelDrain. */
  send(cell: Cell): boolean;
  close(reason: string): void;
  /** Circuits using the channel (keeps it from closing as idle). */
  inUse: number;
  /**
   * The channel's circuit-id allocator, shared by everything that creates circuits on it (a
   * node's relay and its own circuit client), so their ids never clash.
   */
  readonly circIds?: CircIdAllocator;
}

/** Timers and the clock, injected so the onion layer runs on a fake clock in tests. */
export interface Scheduler {
  now(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
  /** Runs `fn` soon, after the current event (setImmediate in Node). */
  defer(fn: () => void): void;
}

/** Where a node can be reached, as the directory (or network file) names it. */
export interface NodeTarget {
  identity: Uint8Array;
  onionKey: Uint8Array;
  /** IPv4 or IPv6 literal addresses with ports. */
  addresses: { host: string; port: number }[];
}

/** Observations for privacy tests: what a node actually saw. Off unless a test asks. */
export interface Observer {
  record(event: Record<string, unknown>): void;
}

export const NO_OBSERVER: Observer = { record() {} };
