/**
 * "Also run as relay node" (DESIGN §1): a full onion node (PspNode, roles ['onion']) inside the
 * backend process, with its own keys and data in the profile's `relay/` folder, publishing its
 * descriptor to the profile's network like any node.
 *
 * Bandwidth cap: the user's KB/s become the node's onion-layer rate limit for the whole node
 * (RelayLimits.nodeCellsPerSecond = KB/s × 1024 / 514, one fixed cell on the wire being 514
 * bytes: 4 circuit id + 1 command + 509 payload, DESIGN §3), with a burst of two seconds' worth.
 * A per-circuit rate above the node's is pointless, so it is capped at the node's.
 *
 * Stopping closes the node; it then drops out of the signed node list once its last descriptor
 * expires (descriptors are valid for three directory periods and the discovery nodes vote only
 * on valid ones), i.e. within about four periods.
 *
 * The node's key files are sealed with a random passphrase kept beside them in `relay/passphrase`
 * (as the devnet does): a relay's identity is public, and it must be able to start without the
 * user typing anything.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { base58 } from '@scure/base';
import type { CryptoSuite } from '../../node-core/crypto/api';
import { freePort } from '../../node-core/io/devnet/devnet';
import { nodeConfigSchema, type NodeConfig } from '../../node-core/io/node/config';
import { PspNode } from '../../node-core/io/node/node';
import type { Logger } from '../../node-core/io/log';
import { toHex } from '../../node-core/util/bytes';

/** Bytes of one fixed cell on the wire (DESIGN §3: 4 + 1 + 509). */
export const CELL_BYTES = 514;

/** The node-wide onion-layer limits for a bandwidth cap in KB/s (1 KB = 1024 bytes). */
export function relayLimitsFor(bandwidthKBps: number): { nodeCellsPerSecond: number; nodeCellBurst: number; circuitCellsPerSecond: number; circuitCellBurst: number } {
  if (typeof bandwidthKBps !== 'number' || !Number.isSafeInteger(bandwidthKBps)) throw new TypeError('bandwidthKBps must be an integer');
  if (bandwidthKBps < 1) throw new RangeError('bandwidthKBps must be at least 1');
  const perSecond = Math.max(1, Math.floor((bandwidthKBps * 1024) / CELL_BYTES));
  const burst = perSecond * 2;
  return {
    nodeCellsPerSecond: perSecond,
    nodeCellBurst: burst,
    circuitCellsPerSecond: Math.min(4000, perSecond),
    circuitCellBurst: Math.min(8000, burst),
  };
}

export interface RelayFigures {
  readonly running: boolean;
  readonly listed: boolean;
  readonly nickname: string | null;
  readonly identity: string | null;
  readonly address: string | null;
  readonly circuits: number;
  readonly circuitsTotal: number;
  readonly bytesUp: number;
  readonly bytesDown: number;
  readonly uptimeMs: number;
}

export interface RelayRunnerOptions {
  /** The relay's own folder (keys, onion key ring, nickname). */
  readonly dir: string;
  readonly suite: CryptoSuite;
  readonly log: Logger;
  /** Listen address (default 127.0.0.1) and port (default 0: a free one). */
  readonly host?: string;
  readonly port?: number;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export class RelayRunner {
  private node: PspNode | null = null;
  private startedAt = 0;
  private totals = { circuits: 0, bytesUp: 0, bytesDown: 0 };
  private starting: Promise<void> | null = null;

  constructor(private readonly opts: RelayRunnerOptions) {
    if (typeof opts !== 'object' || opts === null) throw new TypeError('opts must be an object');
    if (typeof opts.dir !== 'string' || opts.dir.length === 0) throw new TypeError('opts.dir must be a non-empty string');
    if (opts.port !== undefined && (!Number.isSafeInteger(opts.port) || opts.port < 0 || opts.port > 65535)) {
      throw new RangeError('opts.port must be 0..65535');
    }
  }

  get running(): boolean {
    return this.node !== null;
  }

  /** The running node's configuration (for tests and diagnostics). */
  get config(): NodeConfig | null {
    return this.node?.config ?? null;
  }

  /** The node's nickname, made once and kept in the relay folder. */
  private nickname(): string {
    const file = join(this.opts.dir, 'nickname');
    try {
      const n = readFileSync(file, 'utf8').trim();
      if (/^[A-Za-z0-9_-]{1,32}$/.test(n)) return n;
    } catch {
      // first start
    }
    const n = `relay-${randomBytes(4).toString('hex')}`;
    writeFileSync(file, n + '\n', { mode: 0o600 });
    return n;
  }

  private passphraseFile(): string {
    const file = join(this.opts.dir, 'passphrase');
    try {
      writeFileSync(file, randomBytes(24).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    return file;
  }

  /**
   * The port to listen on: the configured one, else the one of the last run (kept in the relay
   * folder, so the address stays the same while it is free), else a free one. The node needs a
   * real port before it starts: its DHT contact names it.
   */
  private async listenPort(host: string, fresh: boolean): Promise<number> {
    if (this.opts.port !== undefined && this.opts.port !== 0) return this.opts.port;
    const file = join(this.opts.dir, 'port');
    if (!fresh) {
      try {
        const saved = Number(readFileSync(file, 'utf8').trim());
        if (Number.isSafeInteger(saved) && saved > 0 && saved <= 65535) return saved;
      } catch {
        // first start
      }
    }
    const port = await freePort(host);
    writeFileSync(file, `${port}\n`, { mode: 0o600 });
    return port;
  }

  /** Starts the node on `networkFile` with the cap; a running node is restarted with the new settings. */
  async start(networkFile: string, bandwidthKBps: number): Promise<void> {
    if (typeof networkFile !== 'string' || networkFile.length === 0) throw new TypeError('networkFile must be a non-empty string');
    const limits = relayLimitsFor(bandwidthKBps);
    await this.starting?.catch(() => undefined);
    const run = async (): Promise<void> => {
      if (this.node) await this.stop();
      mkdirSync(this.opts.dir, { recursive: true, mode: 0o700 });
      const host = this.opts.host ?? '127.0.0.1';
      try {
        await this.launch(networkFile, host, await this.listenPort(host, false), limits);
      } catch (e) {
        // The port of the last run may be taken now: once more on a fresh one.
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || (this.opts.port ?? 0) !== 0) throw e;
        await this.launch(networkFile, host, await this.listenPort(host, true), limits);
      }
    };
    this.starting = run();
    try {
      await this.starting;
    } finally {
      this.starting = null;
    }
  }

  private async launch(networkFile: string, host: string, port: number, limits: ReturnType<typeof relayLimitsFor>): Promise<void> {
    const config = nodeConfigSchema.parse({
      nickname: this.nickname(),
      roles: ['onion'],
      listen: { host, port },
      dataDir: this.opts.dir,
      passphraseFile: this.passphraseFile(),
      network: networkFile,
      logLevel: 'warn',
      limits: {
        relay: limits,
        // Every node of a network on one machine connects from the same loopback address.
        ...(LOOPBACK.test(host) ? { listener: { maxConnectionsPerIp: 1024 } } : {}),
      },
    });
    const node = await PspNode.create(config, this.opts.suite, this.opts.log);
    try {
      await node.start();
    } catch (e) {
      await node.stop().catch(() => undefined);
      throw e;
    }
    this.node = node;
    this.startedAt = Date.now();
    this.opts.log.info({ nickname: config.nickname, port: node.info.port, cellsPerSecond: limits.nodeCellsPerSecond }, 'relay node started');
  }

  /** Stops the node (idempotent); the figures of the run are kept in the totals. */
  async stop(): Promise<void> {
    const node = this.node;
    if (node === null) return;
    this.node = null;
    const t = node.traffic;
    this.totals = {
      circuits: this.totals.circuits + node.relay.stats.created,
      bytesUp: this.totals.bytesUp + t.bytesOut,
      bytesDown: this.totals.bytesDown + t.bytesIn,
    };
    await node.stop();
    this.opts.log.info('relay node stopped');
  }

  /** Live figures; `circuitsTotal` and the byte counts add up every run since this runner was made. */
  figures(now = Date.now()): RelayFigures {
    const node = this.node;
    if (node === null) {
      return {
        running: false,
        listed: false,
        nickname: null,
        identity: null,
        address: null,
        circuits: 0,
        circuitsTotal: this.totals.circuits,
        bytesUp: this.totals.bytesUp,
        bytesDown: this.totals.bytesDown,
        uptimeMs: 0,
      };
    }
    const info = node.info;
    const me = toHex(node.identity.publicKey);
    const listed = node.directory?.current()?.nodes.some((n) => toHex(n.identity) === me) ?? false;
    const t = node.traffic;
    return {
      running: true,
      listed,
      nickname: info.nickname,
      identity: base58.encode(node.identity.publicKey),
      address: `${info.host}:${info.port}`,
      circuits: node.relay.stats.circuits,
      circuitsTotal: this.totals.circuits + node.relay.stats.created,
      bytesUp: this.totals.bytesUp + t.bytesOut,
      bytesDown: this.totals.bytesDown + t.bytesIn,
      uptimeMs: Math.max(0, now - this.startedAt),
    };
  }
}
