/**
 * `npm run bench -- rendezvous [--setups N] [--messages N]`
 *
 * On a multi-process devnet on loopback (3 discovery, 2 authority, 7 onion nodes), two users
 * with registered identities, certificates and presence on two presence nodes each:
 * - setup: the time for Alice to open a private channel to Bob from nothing — presence lookup
 *   through a circuit, a 3-hop circuit to a rendezvous point, the sealed introduction through a
 *   3-hop circuit to Bob's presence node, Bob's checks and his 3-hop circuit to the rendezvous
 *   point, and the end-to-end handshake (`setup_ms_*`); and the same with Bob's presence already
 *   known (`setup_known_ms_*`), as when a broken channel is re-established;
 * - rtt: over an established channel, the time from sending a chat message to its delivery
 *   receipt (Bob stored it and acknowledged it): 6 onion hops each way plus both SQLite writes.
 */
import type { NodeSpec } from '../../node-core/io/devnet/devnet';
import { dialPeer } from '../../node-core/io/client/channel';
import { lookupPresence } from '../../node-core/io/client/presence';
import { startTestNet } from '../support/devnet';
import { waitForAsync } from '../support/raw-link';
import { openUser, removeUserDirs } from '../messenger/helpers';
import { emit, quantile, round } from './emit';

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
}

export async function main(args: string[]): Promise<void> {
  const setups = Math.max(50, arg(args, 'setups', 50));
  const messages = arg(args, 'messages', 200);
  const layout: NodeSpec[] = [
    ...[1, 2, 3].map((i) => ({ nickname: `discovery${i}`, roles: ['discovery' as const], port: 0 })),
    ...[1, 2].map((i) => ({ nickname: `authority${i}`, roles: ['authority' as const], port: 0 })),
    ...[1, 2, 3, 4, 5, 6, 7].map((i) => ({ nickname: `onion${i}`, roles: ['onion' as const], port: 0 })),
  ];
  // Both users dial from 127.0.0.1, and each setup builds four circuits: the per-address CREATE
  // rate limit (3/s, burst 90 — there to slow one address flooding a node) is raised so that the
  // benchmark measures setup time rather than that limit.
  const net = await startTestNet({
    layout,
    periodMs: 5000,
    authorityThreshold: 2,
    configPatch: { logLevel: 'warn', limits: { relay: { createsPerSecondPerIp: 1000, createBurstPerIp: 1000 } } },
  });
  const alice = await openUser('alice', net.devnet.networkFile);
  // Bob raises the introduction rate his presence nodes allow him (30 a minute by default).
  const bob = await openUser('bob', net.devnet.networkFile, { introductionCaps: { maxPending: 64, perMinute: 6000 } });
  try {
    await waitForAsync(async () => (await alice.client.session.refreshDirectory().catch(() => undefined))?.nodes.length === layout.length, 'a full list', 90_000);
    await Promise.all([alice.client.start(), bob.client.start()]);
    await alice.client.addContact(bob.client.identity.text, 'bob');
    await bob.client.addContact(alice.client.identity.text, 'alice');
    const bobKey = bob.client.identity.publicKey;
    // A fresh devnet's DHT routing tables fill over its first seconds: wait until lookups through
    // several different exits find Bob, so setups measure the steady state.
    let found = 0;
    const known = await waitForAsync(async () => {
      const v = await lookupPresence(alice.client.session, bobKey).catch(() => null);
      found = v ? found + 1 : 0;
      return found >= 10 ? v! : undefined;
    }, 'Bob’s presence through ten exits in a row', 60_000);

    const setup: number[] = [];
    const setupKnown: number[] = [];
    for (let i = 0; i < setups; i++) {
      for (const [list, presence] of [
        [setup, undefined],
        [setupKnown, known],
      ] as const) {
        const t0 = performance.now();
        const ch = await dialPeer(alice.client.session, alice.client.identity, bobKey, presence ? { presence } : {});
        list.push(performance.now() - t0);
        ch.close();
      }
    }
    emit({ bench: 'rendezvous', metric: 'setup_ms_p50', value: round(quantile(setup, 0.5)), unit: 'ms', setups, lookup: true });
    emit({ bench: 'rendezvous', metric: 'setup_ms_p95', value: round(quantile(setup, 0.95)), unit: 'ms', setups, lookup: true });
    emit({ bench: 'rendezvous', metric: 'setup_known_ms_p50', value: round(quantile(setupKnown, 0.5)), unit: 'ms', setups, lookup: false });
    emit({ bench: 'rendezvous', metric: 'setup_known_ms_p95', value: round(quantile(setupKnown, 0.95)), unit: 'ms', setups, lookup: false });

    // Round trips over one established channel, through the chat layer (stored, acknowledged).
    await alice.client.connect(bobKey);
    const rtt: number[] = [];
    for (let i = 0; i < messages; i++) {
      const t0 = performance.now();
      const done = new Promise<void>((resolve) => {
        const on = (_p: string, id: string, s: string) => {
          if (id === m && s === 'delivered') {
            alice.client.off('status', on);
            resolve();
          }
        };
        let m = '';
        alice.client.on('status', on);
        void alice.client.sendText(bobKey, `ping ${i}`).then((x) => (m = x.id));
      });
      await done;
      rtt.push(performance.now() - t0);
    }
    emit({ bench: 'rendezvous', metric: 'rtt_ms_p50', value: round(quantile(rtt, 0.5)), unit: 'ms', messages, hopsEachWay: 6 });
    emit({ bench: 'rendezvous', metric: 'rtt_ms_p95', value: round(quantile(rtt, 0.95)), unit: 'ms', messages, hopsEachWay: 6 });
  } finally {
    await alice.stop();
    await bob.stop();
    await net.stop();
    removeUserDirs();
  }
}
