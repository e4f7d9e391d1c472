/**
 * Per-link and per-listener limits. Every limit is configurable; none exempts loopback, so tests
 * on 127.0.0.1 exercise exactly what a public node enforces.
 */
export interface LinkLimits {
  /** The TLS + link handshake must finish within this time. */
  handshakeTimeoutMs: number;
  /** Largest variable-length cell payload accepted during the handshake. */
  handshakeMaxVarPayload: number;
  /** Largest variable-length cell payload accepted once the link is open. */
  maxVarPayload: number;
  /** Sustained cells per second a peer may send on one link; above it the link is cut off. */
  cellsPerSecond: number;
  /** Cells a peer may send in a burst above the sustained rate. */
  cellBurst: number;
  /** Bytes we may hold queued for a peer that does not read; above it the link is cut off. */
  maxQueuedBytes: number;
  /** Queue level above which `send` returns false (backpressure); 'drain' follows. */
  queueHighWater: number;
  /** A PADDING cell goes out when nothing else has been sent for this long (binary/padding.md). */
  keepaliveMs: number;
  /** An open link with no circuits and no traffic but padding for this long is closed. */
  idleTimeoutMs: number;
  /** A link on which nothing at all (not even padding) arrives for this long is closed. */
  deadPeerMs: number;
}

export interface ListenerLimits {
  /** Simultaneous connections from one IP address. */
  maxConnectionsPerIp: number;
  /** Connections still in the TLS or link handshake (the handshake backlog). */
  maxPendingHandshakes: number;
  /** All inbound links. */
  maxLinks: number;
}

export const DEFAULT_LINK_LIMITS: Readonly<LinkLimits> = Object.freeze({
  handshakeTimeoutMs: 10_000,
  handshakeMaxVarPayload: 8192,
  maxVarPayload: 65_535,
  cellsPerSecond: 20_000,
  cellBurst: 40_000,
  maxQueuedBytes: 8 * 1024 * 1024,
  queueHighWater: 1024 * 1024,
  keepaliveMs: 30_000,
  idleTimeoutMs: 180_000,
  deadPeerMs: 120_000,
});

export const DEFAULT_LISTENER_LIMITS: Readonly<ListenerLimits> = Object.freeze({
  maxConnectionsPerIp: 16,
  maxPendingHandshakes: 64,
  maxLinks: 8192,
});

export function linkLimits(partial?: Partial<LinkLimits>): LinkLimits {
  const out = { ...DEFAULT_LINK_LIMITS, ...partial };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v !== 'number' || !(v > 0)) throw new RangeError(`link limit ${k} must be a positive number`);
  }
  if (out.queueHighWater > out.maxQueuedBytes) throw new RangeError('queueHighWater must not exceed maxQueuedBytes');
  return out;
}

export function listenerLimits(partial?: Partial<ListenerLimits>): ListenerLimits {
  const out = { ...DEFAULT_LISTENER_LIMITS, ...partial };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`listener limit ${k} must be a positive integer`);
  }
  return out;
}
