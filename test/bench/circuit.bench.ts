/**
 * `npm run bench -- circuit [--builds N] [--megabytes M]`
 *
 * On a multi-process devnet (5 onion nodes on loopback, each its own process):
 * - build_ms_p50 / build_ms_p95: time to build a 3-hop circuit (links to entry nodes already
 *   open, as in steady use), over N builds through random paths;
 * - throughput_mb_s: application bytes per second through one 3-hop circuit to the last hop's
 *   Discard service, with the nodes' default onion-layer rate limit (the onion layer is for
 *   signalling and chat, so nodes deliberately cap a circuit's rate);
 * - throughput_uncapped_mb_s: the same on a second devnet whose rate limits are lifted, which
 *   measures the implementation rather than the policy.
 * CREATE-rate limits per client address are raised on these devnets so that N builds from one
 * address are measured rather than refused.
 */
import { AppEvent } from '../../node-core/message/envelope';
import { CircuitRpc } from '../../node-core/message/rpc';
import { nodeSuite } from '../../node-core/io/crypto-node';
import { OnionClient } from '../../node-core/io/client/onion-client';
import { realScheduler } from '../../node-core/io/onion/runtime';
import type { NodeConfig } from '../../node-core/io/node/config';
import { startTestNet } from '../support/devnet';
import { emit, quantile, round } from './emit';

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
}

async function throughput(client: OnionClient, nodes: Parameters<OnionClient['circuits']['build']>[0], megabytes: number): Promise<number> {
  const circuit = await client.circuits.build(nodes);
  const rpc = new CircuitRpc(circuit, realScheduler);
  const chunk = nodeSuite.randomBytes(60 * 1024);
  const total = Math.ceil((megabytes * 1024 * 1024) / chunk.length);
  const t0 = performance.now();
  // Keep 8 requests in flight; every promise gets its handler at once, so a failure surfaces
  // as one error rather than as unhandled rejections.
  const inflight: Promise<Uint8Array>[] = [];
  let failure: unknown = null;
  for (let i = 0; i < total && !failure; i++) {
    const p = rpc.request(AppEvent.Discard, chunk, 300_000);
    p.catch((e: unknown) => (failure ??= e));
    inflight.push(p);
    if (inflight.length >= 8) await inflight.shift()!.catch(() => undefined);
  }
  if (failure) throw failure;
  const answers = await Promise.all(inflight);
  const last = answers[answers.length - 1]!;
  const received = Number(new DataView(last.buffer, last.byteOffset, 8).getBigUint64(0));
  const seconds = (performance.now() - t0) / 1000;
  if (received !== total * chunk.length) throw new Error(`node received ${received} bytes, expected ${total * chunk.length}`);
  circuit.destroy();
  return received / 1e6 / seconds;
}

export async function main(args: string[]): Promise<void> {
  const builds = arg(args, 'builds', 150);
  const megabytes = arg(args, 'megabytes', 8);
  const createLimits = { createsPerSecondPerIp: 10_000, createBurstPerIp: 10_000 };
  const net = await startTestNet({ onions: 5, configPatch: { logLevel: 'warn', limits: { relay: createLimits } } });
  const client = new OnionClient({ suite: nodeSuite, nodes: () => net.nodes });
  try {
    // Warm up: open links to every entry.
    for (const n of net.nodes) (await client.circuits.build([n])).destroy();
    const times: number[] = [];
    for (let i = 0; i < builds; i++) {
      const path = client.manager.choosePath(3);
      const t0 = performance.now();
      const c = await client.circuits.build(path);
      times.push(performance.now() - t0);
      c.destroy();
    }
    emit({ bench: 'circuit', metric: 'build_ms_p50', value: round(quantile(times, 0.5)), unit: 'ms', builds, hops: 3 });
    emit({ bench: 'circuit', metric: 'build_ms_p95', value: round(quantile(times, 0.95)), unit: 'ms', builds, hops: 3 });
    const capped = await throughput(client, net.nodes.slice(0, 3), megabytes);
    emit({ bench: 'circuit', metric: 'throughput_mb_s', value: round(capped), unit: 'MB/s', megabytes, hops: 3 });
  } finally {
    client.close();
    await net.stop();
  }

  const uncapped: Partial<NodeConfig> = {
    logLevel: 'warn',
    limits: { relay: { ...createLimits, circuitCellsPerSecond: 1e9, circuitCellBurst: 1e9, nodeCellsPerSecond: 1e9, nodeCellBurst: 1e9 } },
  };
  const net2 = await startTestNet({ onions: 3, configPatch: uncapped });
  const client2 = new OnionClient({ suite: nodeSuite, nodes: () => net2.nodes });
  try {
    const mbs = await throughput(client2, net2.nodes.slice(0, 3), megabytes * 4);
    emit({ bench: 'circuit', metric: 'throughput_uncapped_mb_s', value: round(mbs), unit: 'MB/s', megabytes: megabytes * 4, hops: 3 });
  } finally {
    client2.close();
    await net2.stop();
  }
}
