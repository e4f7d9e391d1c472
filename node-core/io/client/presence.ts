/**
 * Presence from the client's side (seed 004 §6.2–6.3; seed 003): announce anonymously on several
 * presence nodes — each over a 3-hop circuit whose last hop is the presence node, so the node
 * never learns the client's address — keep the announcement alive over those circuits, and look
 * other users up by identity through a circuit.
 *
 * The presence record is signed once by the user and lists every presence point; each point
 * co-signs and publishes its own copy to the DHT. Keep-alive re-announces with a higher
 * sequence before the record's TTL runs out; when it stops, the records expire and are wiped.
 */
import {
  buildPresenceRecord,
  decodeDhtMessage,
  parseRecord,
  pickPresence,
  presenceKeyRule,
  verifyRecord,
  type PresenceView,
  type VerifiedRecord,
} from '../../dht';
import { AppEvent } from '../../message/envelope';
import { CircuitRpc } from '../../message/rpc';
import type { NodeTarget } from '../../onion/channel';
import type { ClientCircuit } from '../../onion/client';
import { equalBytes } from '../../util/bytes';
import { realScheduler } from '../onion/runtime';
import type { ClientIdentity, ClientSession } from './session';

export interface AnnounceOptions {
  /** The presence nodes (1..4). */
  points: NodeTarget[];
  /** X25519 public key others use to encrypt introductions to this user. */
  announcementKey: Uint8Array;
  /** Record lifetime; defaults to the network's maximum. */
  ttlMs?: number;
  /** Re-announce this often (default a third of the TTL). */
  keepAliveMs?: number;
  /** Announce over one hop (public, seed 004 §6.3) instead of three. */
  public?: boolean;
  /**
   * Called when an announcement was accepted on a new circuit (the presence node now forwards
   * introductions and mailbox notices over it). `i` indexes `points`.
   */
  onCircuit?: (i: number, circuit: ClientCircuit, rpc: CircuitRpc) => void;
  /** Re-announce this soon after an announcing circuit fails (default 2 s, then backing off). */
  retryMs?: number;
}

export class PresenceAnnouncer {
  private sequence = 0n;
  private readonly circuits = new Map<number, { circuit: ClientCircuit; rpc: CircuitRpc }>();
  private timer: { cancel(): void } | null = null;
  private stopped = false;
  /** Presence points whose last announcement was accepted. */
  readonly accepted = new Set<number>();
  /** Why the last announcement failed at each point that refused it. */
  readonly failures = new Map<number, string>();

  constructor(
    private readonly session: ClientSession,
    private readonly identity: ClientIdentity,
    private readonly opts: AnnounceOptions,
  ) {
    if (opts.points.length < 1 || opts.points.length > 4) throw new RangeError('announce on 1 to 4 presence points');
  }

  /** The presence points announced on, in the order `accepted` and `failures` index them. */
  get points(): readonly NodeTarget[] {
    return this.opts.points;
  }

  private get ttlMs(): number {
    return this.opts.ttlMs ?? this.session.network.dht?.maxTtlMs ?? 600_000;
  }

  private record(): Uint8Array {
    this.sequence++;
    return buildPresenceRecord(this.session.suite, {
      ownerSecretKey: this.identity.secretKey,
      sequence: BigInt(Date.now()) * 1000n + this.sequence,
      expiresAt: Date.now() + this.ttlMs,
      value: {
        points: this.opts.points.map((p) => ({ nodeIdentity: p.identity, address: p.addresses[0]! })),
        announcementKey: this.opts.announcementKey,
        public: this.opts.public ?? false,
        acceptsDirect: this.opts.public ?? false,
        version: 1,
      },
    });
  }

  private retry: { cancel(): void } | null = null;
  private failuresInRow = 0;

  private async circuitFor(i: number): Promise<{ circuit: ClientCircuit; rpc: CircuitRpc; fresh: boolean }> {
    const open = this.circuits.get(i);
    if (open?.circuit.isOpen) return { ...open, fresh: false };
    const point = this.session.listedNode(this.opts.points[i]!.identity) ?? this.opts.points[i]!;
    const c = await this.session.onion.manager.build({ last: point, hops: this.opts.public ? 1 : 3 });
    const rpc = new CircuitRpc(c, realScheduler);
    this.circuits.set(i, { circuit: c, rpc });
    const prevClose = c.events.onClose;
    c.events.onClose = (reason) => {
      prevClose?.(reason);
      if (this.circuits.get(i)?.circuit === c) this.circuits.delete(i);
      this.accepted.delete(i);
      this.scheduleRetry();
    };
    return { circuit: c, rpc, fresh: true };
  }

  /** After an announcing circuit failed: announce again soon (backing off up to a minute). */
  private scheduleRetry(): void {
    if (this.stopped || this.retry) return;
    const base = this.opts.retryMs ?? 2000;
    const wait = Math.min(60_000, base * 2 ** Math.min(this.failuresInRow, 5));
    this.retry = realScheduler.setTimeout(() => {
      this.retry = null;
      if (this.stopped) return;
      this.announce().then(
        (n) => {
          this.failuresInRow = n === this.opts.points.length ? 0 : this.failuresInRow + 1;
          if (n < this.opts.points.length) this.scheduleRetry();
        },
        () => {
          this.failuresInRow++;
          this.scheduleRetry();
        },
      );
    }, wait);
  }

  /** Announces on every point; resolves with how many accepted. */
  async announce(): Promise<number> {
    const record = this.record();
    const results = await Promise.allSettled(
      this.opts.points.map(async (_, i) => {
        const { circuit: c, rpc, fresh } = await this.circuitFor(i);
        await rpc.request(AppEvent.AnnouncePresence, record, 15_000);
        if (fresh) this.opts.onCircuit?.(i, c, rpc);
        return i;
      }),
    );
    this.accepted.clear();
    this.failures.clear();
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') this.accepted.add(r.value);
      else this.failures.set(i, r.reason instanceof Error ? r.reason.message : String(r.reason));
    });
    return this.accepted.size;
  }

  /** Announces now and keeps the announcement alive until stop(). */
  async start(): Promise<number> {
    const n = await this.announce();
    this.schedule();
    return n;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = realScheduler.setTimeout(() => {
      this.announce().finally(() => this.schedule());
    }, this.opts.keepAliveMs ?? Math.floor(this.ttlMs / 3));
  }

  /** Stops the keep-alive and closes the presence circuits; the records then expire. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.retry?.cancel();
    for (const { circuit } of this.circuits.values()) circuit.destroy();
    this.circuits.clear();
  }
}

/**
 * Looks a user up by identity key through a circuit; null when no valid presence is found.
 * `avoidExit` names nodes that must not be the circuit's last hop.
 */
export async function lookupPresence(session: ClientSession, owner: Uint8Array, opts: { avoidExit?: Uint8Array[] } = {}): Promise<PresenceView | null> {
  // The exit learns whom we look for; it must not be a node that knows us (our presence nodes).
  const avoid = opts.avoidExit ?? [];
  const exits = session.relayNodes().filter((n) => !avoid.some((k) => equalBytes(k, n.identity)));
  const last = exits[Math.floor(Math.random() * exits.length)];
  const circuit = await session.onion.manager.build(last ? { last } : {});
  try {
    const answer = decodeDhtMessage(await new CircuitRpc(circuit, realScheduler).request(AppEvent.LookupPresence, owner, 20_000));
    if (answer.type !== 'value') throw new Error(`unexpected answer ${answer.type}`);
    const now = Date.now();
    const listed = (k: Uint8Array) => session.consensus?.nodes.some((n) => equalBytes(n.identity, k)) ?? false;
    const policy = {
      maxTtlMs: session.network.dht?.maxTtlMs ?? 600_000,
      maxValueBytes: 1024,
      keyRule: presenceKeyRule(session.suite),
      isDhtNode: listed,
      maxClockSkewMs: 60_000,
    };
    const verified: VerifiedRecord[] = [];
    for (const bytes of answer.records) {
      try {
        verified.push(verifyRecord(session.suite, parseRecord(bytes), now, policy));
      } catch {
        // A record that fails verification is ignored (the node that sent it may be lying).
      }
    }
    return pickPresence(session.suite, verified, now, owner);
  } finally {
    circuit.destroy();
  }
}
