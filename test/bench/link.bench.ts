/**
 * `npm run bench -- link [--handshakes N] [--megabytes M]`
 *
 * Link-handshake latency (TCP + TLS 1.3 + the PSP link handshake, anonymous client to a node
 * daemon running as its own process) and the throughput of RELAY cells over one link (the node
 * process echoes nothing; we time how fast it accepts cells, and the reverse direction through a
 * second in-process link for comparison is not measured).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base58 } from '@scure/base';
import { CellCommand } from '../../node-core/cell';
import { nodeSuite } from '../../node-core/io/crypto-node';
import { spawnNode, stopChild, writeNodeFiles } from '../../node-core/io/devnet/devnet';
import { connectLink } from '../../node-core/io/link/transport';
import { emit, quantile, round } from './emit';

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
}

export async function main(args: string[]): Promise<void> {
  const handshakes = arg(args, 'handshakes', 200);
  const megabytes = arg(args, 'megabytes', 64);
  const dir = mkdtempSync(join(tmpdir(), 'psp-bench-link-'));
  const configPath = writeNodeFiles(dir, { nickname: 'bench', roles: ['onion'], port: 0 }, '127.0.0.1', 0, {
    logLevel: 'warn',
    limits: { link: { cellsPerSecond: 1e9, cellBurst: 1e9, maxQueuedBytes: 256 * 1024 * 1024, queueHighWater: 4 * 1024 * 1024 }, listener: { maxConnectionsPerIp: 1024 } },
  });
  const node = await spawnNode(configPath, 'bench');
  try {
    const expectedPeer = base58.decode(node.info.identity);
    const opts = { suite: nodeSuite, host: '127.0.0.1', port: node.info.port, expectedPeer };
    // Warm up.
    for (let i = 0; i < 10; i++) (await connectLink(opts)).close();
    const times: number[] = [];
    for (let i = 0; i < handshakes; i++) {
      const t0 = performance.now();
      const link = await connectLink(opts);
      times.push(performance.now() - t0);
      link.close();
    }
    emit({ bench: 'link', metric: 'handshake_ms_p50', value: round(quantile(times, 0.5)), unit: 'ms', samples: handshakes });
    emit({ bench: 'link', metric: 'handshake_ms_p95', value: round(quantile(times, 0.95)), unit: 'ms', samples: handshakes });

    // Throughput: stream RELAY cells to the node, respecting backpressure, until M MiB are flushed.
    const link = await connectLink({ ...opts, linkLimits: { maxQueuedBytes: 256 * 1024 * 1024, queueHighWater: 4 * 1024 * 1024 } });
    const cell = { circId: 0x80000001, command: CellCommand.Relay, payload: nodeSuite.randomBytes(509) };
    const total = Math.ceil((megabytes * 1024 * 1024) / 514);
    const t0 = performance.now();
    let sent = 0;
    while (sent < total) {
      while (sent < total && link.send(cell)) sent++;
      if (sent < total) await new Promise<void>((r) => link.once('drain', () => r()));
    }
    await new Promise<void>((r) => {
      const check = () => (link.queuedBytes === 0 ? r() : setTimeout(check, 1));
      check();
    });
    const seconds = (performance.now() - t0) / 1000;
    emit({ bench: 'link', metric: 'throughput_mb_s', value: round((sent * 514) / 1e6 / seconds), unit: 'MB/s', cells: sent });
    link.close();
  } finally {
    await stopChild(node.process);
    rmSync(dir, { recursive: true, force: true });
  }
}
