/**
 * `npm run bench -- presence [--runs N]`
 *
 * On a multi-process devnet (3 discovery, 6 onion nodes on loopback): the time to announce a
 * presence anonymously on two presence nodes (two 3-hop circuits built and the owner-signed
 * record co-signed, stored and replicated by each point) and the time to look a user up by
 * identity through a fresh 3-hop circuit (a DHT lookup by the circuit's last node, verified by
 * the client).
 */
import { nodeSuite } from '../../node-core/io/crypto-node';
import type { NodeSpec } from '../../node-core/io/devnet/devnet';
import { ClientSession, clientIdentity } from '../../node-core/io/client/session';
import { lookupPresence, PresenceAnnouncer } from '../../node-core/io/client/presence';
import { startTestNet } from '../support/devnet';
import { waitForAsync } from '../support/raw-link';
import { emit, quantile, round } from './emit';

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
}

export async function main(args: string[]): Promise<void> {
  const runs = arg(args, 'runs', 30);
  const layout: NodeSpec[] = [
    ...[1, 2, 3].map((i) => ({ nickname: `discovery${i}`, roles: ['discovery' as const], port: 0 })),
    ...[1, 2, 3, 4, 5, 6].map((i) => ({ nickname: `onion${i}`, roles: ['onion' as const], port: 0 })),
  ];
  const net = await startTestNet({ layout, periodMs: 5000, configPatch: { logLevel: 'warn' } });
  const alice = new ClientSession({ suite: nodeSuite, network: net.devnet.networkFile });
  const bob = new ClientSession({ suite: nodeSuite, network: net.devnet.networkFile });
  try {
    for (const s of [alice, bob]) {
      await waitForAsync(async () => (await s.refreshDirectory().catch(() => undefined))?.nodes.length === layout.length, 'a full list', 90_000);
      await s.start();
    }
    const announce: number[] = [];
    const lookup: number[] = [];
    const announcers: PresenceAnnouncer[] = [];
    for (let i = 0; i < runs; i++) {
      const id = clientIdentity(nodeSuite, nodeSuite.randomBytes(32));
      const nodes = alice.relayNodes();
      const points = [nodes[i % nodes.length]!, nodes[(i + 1) % nodes.length]!];
      const a = new PresenceAnnouncer(alice, id, { points, announcementKey: nodeSuite.x25519PublicKey(nodeSuite.randomBytes(32)), keepAliveMs: 3600_000 });
      announcers.push(a);
      let t0 = performance.now();
      if ((await a.start()) !== 2) throw new Error(`announce failed: ${[...a.failures.values()].join('; ')}`);
      announce.push(performance.now() - t0);
      t0 = performance.now();
      const v = await lookupPresence(bob, id.publicKey);
      if (!v) throw new Error('lookup found nothing');
      lookup.push(performance.now() - t0);
    }
    for (const a of announcers) a.stop();
    emit({ bench: 'presence', metric: 'announce_ms_p50', value: round(quantile(announce, 0.5)), unit: 'ms', runs, points: 2 });
    emit({ bench: 'presence', metric: 'announce_ms_p95', value: round(quantile(announce, 0.95)), unit: 'ms', runs, points: 2 });
    emit({ bench: 'presence', metric: 'lookup_ms_p50', value: round(quantile(lookup, 0.5)), unit: 'ms', runs });
    emit({ bench: 'presence', metric: 'lookup_ms_p95', value: round(quantile(lookup, 0.95)), unit: 'ms', runs });
  } finally {
    alice.close();
    bob.close();
    await net.stop();
  }
}
