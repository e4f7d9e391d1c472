/**
 * `npm run bench -- bootstrap [--runs N]`
 *
 * On a multi-process devnet in the testnet layout (5 discovery, 3 authority, 9 onion nodes),
 * the time a client takes from a cold start (only the network file; no links, no list) to a
 * verified node list and a valid access certificate: fetch the list over a one-hop circuit,
 * verify its signatures, register over 3-hop circuits to the authorities, and obtain a
 * certificate co-signed by two of them. Each run is a new client with a new identity.
 */
import { nodeSuite } from '../../node-core/io/crypto-node';
import { testnetLayout } from '../../node-core/io/devnet/devnet';
import { ClientSession, clientIdentity } from '../../node-core/io/client/session';
import { startTestNet } from '../support/devnet';
import { waitForAsync } from '../support/raw-link';
import { emit, quantile, round } from './emit';

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
}

export async function main(args: string[]): Promise<void> {
  const runs = arg(args, 'runs', 30);
  const net = await startTestNet({ layout: testnetLayout(), periodMs: 5000, configPatch: { logLevel: 'warn' } });
  try {
    const probe = new ClientSession({ suite: nodeSuite, network: net.devnet.networkFile });
    await waitForAsync(async () => (await probe.refreshDirectory().catch(() => undefined))?.nodes.length === 17, 'a full node list', 90_000);
    probe.close();
    const times: number[] = [];
    const listTimes: number[] = [];
    for (let i = 0; i < runs; i++) {
      const identity = clientIdentity(nodeSuite, nodeSuite.randomBytes(32));
      const t0 = performance.now();
      const s = new ClientSession({ suite: nodeSuite, network: net.devnet.networkFile });
      await s.refreshDirectory();
      listTimes.push(performance.now() - t0);
      await s.register(identity);
      await s.obtainCertificate(identity);
      times.push(performance.now() - t0);
      s.close();
    }
    emit({ bench: 'bootstrap', metric: 'bootstrap_ms_p50', value: round(quantile(times, 0.5)), unit: 'ms', runs });
    emit({ bench: 'bootstrap', metric: 'bootstrap_ms_p95', value: round(quantile(times, 0.95)), unit: 'ms', runs });
    emit({ bench: 'bootstrap', metric: 'verified_list_ms_p50', value: round(quantile(listTimes, 0.5)), unit: 'ms', runs });
  } finally {
    await net.stop();
  }
}
