/**
 * The real runtime for the onion layer: a Scheduler on Node's timers (unref'd, so they never
 * keep a process alive by themselves) and an adapter from TLS links to CellChannel.
 */
import { type Cell, CircIdAllocator } from '../../cell';
import type { CryptoSuite } from '../../crypto/api';
import type { CellChannel, Scheduler } from '../../onion/channel';
import type { Link } from '../link/link';

export const realScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  defer(fn) {
    setImmediate(fn);
  },
};

let nextChannelId = 1;
const channels = new WeakMap<Link, LinkChannel>();

export class LinkChannel implements CellChannel {
  readonly id = nextChannelId++;
  readonly initiatedByUs: boolean;
  readonly remoteIp: string;
  readonly circIds: CircIdAllocator;

  private constructor(
    readonly link: Link,
    suite: CryptoSuite,
  ) {
    this.initiatedByUs = link.direction === 'outbound';
    this.remoteIp = link.remoteAddress ?? 'unknown';
    this.circIds = new CircIdAllocator({ initiator: this.initiatedByUs, random: suite });
  }

  /** The one channel object for a link. */
  static of(link: Link, suite: CryptoSuite = link.suite): LinkChannel {
    let ch = channels.get(link);
    if (!ch) {
      ch = new LinkChannel(link, suite);
      channels.set(link, ch);
    }
    return ch;
  }

  get peerIdentity(): Uint8Array | null {
    return this.link.peerIdentity;
  }

  get isOpen(): boolean {
    return this.link.isOpen;
  }

  get inUse(): number {
    return this.link.inUse;
  }

  set inUse(n: number) {
    this.link.inUse = n;
  }

  send(cell: Cell): boolean {
    if (!this.link.isOpen) return false;
    return this.link.send(cell);
  }

  close(reason: string): void {
    this.link.close(reason);
  }
}
