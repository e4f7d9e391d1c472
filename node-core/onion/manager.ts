/**
 * The client's circuit manager (seed 004 §6.1; DESIGN §3): chooses paths from the known nodes,
 * builds circuits with a timeout and retries, keeps a small pool of pre-built circuits ready,
 * and replaces circuits that fail.
 *
 * Path rules: distinct nodes; distinct /16 networks (IPv4) or /32 (IPv6) where the node list
 * allows it, falling back to distinct nodes only when it does not (a one-machine devnet);
 * a required last hop (a presence or authority node) is honoured and never appears twice.
 */
import { shuffled } from '../util/shuffle';
import type { CryptoSuite } from '../crypto/api';
import type { NodeTarget } from './channel';
import { CircuitClosedError, type CircuitClient, type ClientCircuit } from './client';

export interface CircuitManagerOptions {
  client: CircuitClient;
  suite: CryptoSuite;
  /** The nodes circuits may use (from the verified directory or the network file). */
  nodes: () => NodeTarget[];
  /** Circuits kept built and ready. */
  poolSize?: number;
  hops?: number;
  buildTimeoutMs?: number;
  /** Paths tried per request before giving up. */
  maxAttempts?: number;
  onEvent?: (e: { type: 'built' | 'failed' | 'closed'; circuit?: number; ms?: number; error?: string }) => void;
}

export class NoPathError extends Error {
  override readonly name = 'NoPathError';
}

export class CircuitManager {
  /**
   * Entry guards (identity keys): when set, circuits of two or more hops start at one of them,
   * and cannot be built while none is usable. A failed build does not drop a guard.
   */
  guards: Uint8Array[] = [];
  private readonly pool: ClientCircuit[] = [];
  private building = 0;
  private running = false;
  private readonly poolSize: number;
  readonly hops: number;
  private readonly buildTimeoutMs: number;
  private readonly maxAttempts: number;
  private waiters: ((c: ClientCircuit) => void)[] = [];

  constructor(private readonly opts: CircuitManagerOptions) {
    this.poolSize = opts.poolSize ?? 2;
    this.hops = opts.hops ?? 3;
    this.buildTimeoutMs = opts.buildTimeoutMs ?? 15_000;
    this.maxAttempts = opts.maxAttempts ?? 3;
  }

  /** Starts keeping the pool full. */
  start(): void {
    this.running = true;
    this.refill();
  }

  stop(): void {
    this.running = false;
    for (const c of this.pool.splice(0)) c.destroy();
  }

  get ready(): number {
    return this.pool.filter((c) => c.isOpen).length;
  }

  /** A general-purpose circuit from the pool (built now if the pool is empty). */
  async take(): Promise<ClientCircuit> {
    const c = this.pool.find((x) => x.isOpen);
    if (c) {
      this.pool.splice(this.pool.indexOf(c), 1);
      this.refill();
      return c;
    }
    const built = await this.build();
    this.refill();
    return built;
  }

  /**
   * Builds a new circuit, retrying with fresh paths. `last` fixes the final hop; `hops`
   * overrides the length (≥ 1).
   */
  async build(opts: { last?: NodeTarget; hops?: number; exclude?: Uint8Array[] } = {}): Promise<ClientCircuit> {
    let lastErr: unknown;
    const exclude = [...(opts.exclude ?? [])];
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const path = this.choosePath(opts.hops ?? this.hops, opts.last, exclude);
      const t0 = this.opts.client.scheduler.now();
      let reached = 0;
      try {
        const c = await this.opts.client.build(path, this.buildTimeoutMs, (n) => (reached = n));
        this.opts.onEvent?.({ type: 'built', circuit: c.id, ms: this.opts.client.scheduler.now() - t0 });
        c.events.onClose = (reason) => this.onClosed(c, reason);
        return c;
      } catch (err) {
        lastErr = err;
        this.opts.onEvent?.({ type: 'failed', error: (err as Error).message });
        // Avoid the hop the build could not reach next time (never a fixed last hop). Only that
        // one: the hops before it answered, and excluding them too would soon leave a small
        // network without a path although working nodes remain.
        const failed = path[Math.min(reached, path.length - 1)]!;
        const isGuard = this.guards.some((g) => same(g, failed.identity));
        if ((!opts.last || !same(failed.identity, opts.last.identity)) && !isGuard) exclude.push(failed.identity);
      }
    }
    throw lastErr instanceof Error ? lastErr : new Error('circuit build failed');
  }

  private onClosed(c: ClientCircuit, reason: CircuitClosedError): void {
    const i = this.pool.indexOf(c);
    if (i >= 0) this.pool.splice(i, 1);
    this.opts.onEvent?.({ type: 'closed', circuit: c.id, error: reason.message });
    this.refill();
  }

  private refill(): void {
    if (!this.running) return;
    while (this.pool.length + this.building < this.poolSize) {
      this.building++;
      this.build().then(
        (c) => {
          this.building--;
          if (!this.running) return c.destroy();
          const w = this.waiters.shift();
          if (w) w(c);
          else this.pool.push(c);
        },
        () => {
          this.building--;
          // Try again a little later rather than spinning when the network is down.
          this.opts.client.scheduler.setTimeout(() => this.refill(), 1000);
        },
      );
    }
  }

  /** Waits until the pool has a ready circuit that is not `except`. */
  async waitForReplacement(): Promise<ClientCircuit> {
    const c = this.pool.find((x) => x.isOpen);
    if (c) return c;
    return new Promise((resolve) => this.waiters.push((x) => (this.pool.push(x), resolve(x))));
  }

  /** Chooses `n` distinct hops, preferring distinct networks; `last` is the final hop if given. */
  choosePath(n: number, last?: NodeTarget, exclude: Uint8Array[] = []): NodeTarget[] {
    const all = this.opts.nodes().filter((x) => !exclude.some((e) => same(e, x.identity)));
    const candidates = all.filter((x) => !last || !same(x.identity, last.identity));
    const need = last ? n - 1 : n;
    if (candidates.length < need) throw new NoPathError(`need ${n} distinct nodes, know only ${candidates.length + (last ? 1 : 0)}`);
    const order = shuffled(candidates, this.opts.suite);
    const path: NodeTarget[] = [];
    const nets = new Set<string>(last ? [netOf(last)] : []);
    // Entry guards: a multi-hop circuit enters the network through one of a few fixed nodes, so
    // that over time few nodes ever see the client's address (Tor's guard rule). Never through
    // another node: with no guard usable, no circuit (the caller learns why).
    if (need >= 1 && this.guards.length && n >= 2) {
      const guard = shuffled(
        candidates.filter((x) => this.guards.some((g) => same(g, x.identity))),
        this.opts.suite,
      )[0];
      if (!guard) throw new NoPathError('no entry guard is usable for this circuit');
      path.push(guard);
      nets.add(netOf(guard));
    }
    for (const strict of [true, false]) {
      for (const x of order) {
        if (path.length >= need) break;
        if (path.includes(x)) continue;
        if (strict && nets.has(netOf(x))) continue;
        path.push(x);
        nets.add(netOf(x));
      }
    }
    return last ? [...path, last] : path;
  }
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The /16 of an IPv4 address or the /32 of an IPv6 one, as a string key. */
export function netOf(t: NodeTarget): string {
  const host = t.addresses[0]?.host ?? '';
  const v4 = /^(\d+)\.(\d+)\./.exec(host);
  if (v4) return `4:${v4[1]}.${v4[2]}`;
  return `6:${host.split(':').slice(0, 2).join(':')}`;
}


export { CircuitClosedError };
