/**
 * A client's onion runtime: anonymous links to entry nodes (one per node, reused), the circuit
 * layer on top of them, and a circuit manager that keeps circuits ready. Used by the terminal
 * tools, the app's services and the tests.
 */
import type { Cell } from '../../cell';
import type { CryptoSuite } from '../../crypto/api';
import type { CellChannel, NodeTarget } from '../../onion/channel';
import { CircuitClient } from '../../onion/client';
import { CircuitManager, type CircuitManagerOptions } from '../../onion/manager';
import { toHex } from '../../util/bytes';
import type { Link } from '../link/link';
import type { LinkLimits } from '../link/limits';
import { connectLink } from '../link/transport';
import { type Logger, silentLogger } from '../log';
import { LinkChannel, realScheduler } from '../onion/runtime';

export interface OnionClientOptions {
  suite: CryptoSuite;
  /** The nodes circuits may use. */
  nodes: () => NodeTarget[];
  log?: Logger;
  linkLimits?: Partial<LinkLimits>;
  /** Bind outgoing links to this local address (tests with several loopback addresses). */
  localAddress?: string;
  manager?: Partial<Omit<CircuitManagerOptions, 'client' | 'suite' | 'nodes'>>;
}

export class OnionClient {
  readonly circuits: CircuitClient;
  readonly manager: CircuitManager;
  private readonly links = new Map<string, Link>();
  private readonly connecting = new Map<string, Promise<Link>>();
  private readonly log: Logger;

  constructor(private readonly opts: OnionClientOptions) {
    this.log = opts.log ?? silentLogger();
    this.circuits = new CircuitClient({ suite: opts.suite, scheduler: realScheduler, connect: (t) => this.channelTo(t) });
    this.manager = new CircuitManager({
      client: this.circuits,
      suite: opts.suite,
      nodes: opts.nodes,
      ...opts.manager,
    });
  }

  /** Open links to entry nodes. */
  get linkCount(): number {
    return [...this.links.values()].filter((l) => l.isOpen).length;
  }

  async channelTo(t: NodeTarget): Promise<CellChannel> {
    const k = toHex(t.identity);
    const open = this.links.get(k);
    if (open?.isOpen) return LinkChannel.of(open);
    let pending = this.connecting.get(k);
    if (!pending) {
      pending = this.dial(t).finally(() => this.connecting.delete(k));
      this.connecting.set(k, pending);
    }
    return LinkChannel.of(await pending);
  }

  private async dial(t: NodeTarget): Promise<Link> {
    let lastErr: unknown = new Error('node has no address');
    for (const a of t.addresses) {
      try {
        const link = await connectLink({
          suite: this.opts.suite,
          host: a.host,
          port: a.port,
          expectedPeer: t.identity,
          ...(this.opts.linkLimits ? { linkLimits: this.opts.linkLimits } : {}),
          ...(this.opts.localAddress ? { localAddress: this.opts.localAddress } : {}),
          log: this.log,
        });
        this.attach(link);
        return link;
      } catch (err) {
        lastErr = err;
      }
    }
    throw lastErr;
  }

  private attach(link: Link): void {
    const ch = LinkChannel.of(link);
    this.links.set(toHex(link.peerIdentity!), link);
    link.on('cell', (cell: Cell) => this.circuits.onCell(ch, cell));
    link.on('drain', () => this.circuits.onChannelDrain(ch));
    link.once('close', () => {
      const k = toHex(link.peerIdentity!);
      if (this.links.get(k) === link) this.links.delete(k);
      this.circuits.onChannelClosed(ch);
    });
  }

  close(): void {
    this.manager.stop();
    for (const c of this.circuits.openCircuits) c.destroy();
    for (const l of this.links.values()) l.close('client closing');
    this.links.clear();
  }
}
