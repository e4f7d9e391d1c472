/**
 * Presence across real node processes (seed 004 §6.2): A announces anonymously on two presence
 * nodes over 3-hop circuits; B looks A up by identity through a circuit and finds both points;
 * with one presence node killed, A stays reachable through the other; when A stops its
 * keep-alive, the records are gone within their TTL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeSuite } from '../../node-core/io/crypto-node';
import type { NodeSpec } from '../../node-core/io/devnet/devnet';
import { stopChild } from '../../node-core/io/devnet/devnet';
import { ClientSession, clientIdentity } from '../../node-core/io/client/session';
import { lookupPresence, PresenceAnnouncer } from '../../node-core/io/client/presence';
import { toHex } from '../../node-core/util/bytes';
import { startTestNet, type TestNet } from '../support/devnet';
import { waitForAsync } from '../support/raw-link';

const TTL = 8000;
const layout: NodeSpec[] = [
  ...[1, 2, 3].map((i) => ({ nickname: `discovery${i}`, roles: ['discovery' as const], port: 0 })),
  ...[1, 2, 3, 4, 5, 6].map((i) => ({ nickname: `onion${i}`, roles: ['onion' as const], port: 0 })),
];

let net: TestNet;
let alice: ClientSession;
let bob: ClientSession;
let announcer: PresenceAnnouncer | undefined;

beforeAll(async () => {
  net = await startTestNet({ layout, periodMs: 3000 });
  const fresh = async () => {
    const s = new ClientSession({ suite: nodeSuite, network: net.devnet.networkFile });
    await waitForAsync(async () => (await s.refreshDirectory().catch(() => undefined))?.nodes.length === layout.length, 'a full node list', 60_000);
    await s.start(); // keeps the list fresh from now on
    return s;
  };
  [alice, bob] = await Promise.all([fresh(), fresh()]);
});

afterAll(async () => {
  announcer?.stop();
  alice?.close();
  bob?.close();
  await net?.stop();
});

describe('presence on the devnet', () => {
  it('announces on two presence nodes, is found by identity, survives one node, and expires', async () => {
    const a = clientIdentity(nodeSuite, nodeSuite.randomBytes(32));
    const points = alice.relayNodes().slice(0, 2);
    const announcementKey = nodeSuite.x25519PublicKey(nodeSuite.randomBytes(32));
    announcer = new PresenceAnnouncer(alice, a, { points, announcementKey, ttlMs: TTL, keepAliveMs: 2000 });
    const accepted = await announcer.start();
    expect([...announcer.failures.values()]).toEqual([]);
    expect(accepted).toBe(2);

    const found = await waitForAsync(async () => {
      const v = await lookupPresence(bob, a.publicKey).catch(() => null);
      return v && v.points.filter((p) => p.confirmed).length === 2 ? v : undefined;
    }, 'both presence points', 30_000);
    expect(found.points.map((p) => toHex(p.nodeIdentity)).sort()).toEqual(points.map((p) => toHex(p.identity)).sort());
    expect(toHex(found.value.announcementKey)).toBe(toHex(announcementKey));

    // Kill the first presence node: A is still found through the second.
    const first = net.nodes.find((n) => toHex(n.identity) === toHex(points[0]!.identity))!;
    await stopChild(net.devnet.node(first.nickname).process);
    const after = await waitForAsync(async () => {
      const v = await lookupPresence(bob, a.publicKey).catch(() => null);
      return v && v.points.some((p) => p.confirmed && toHex(p.nodeIdentity) === toHex(points[1]!.identity)) ? v : undefined;
    }, 'presence through the surviving point', 30_000);
    expect(after.expiresAt).toBeGreaterThan(Date.now());

    // Stop the keep-alive: within the TTL (plus upkeep) nobody finds A any more.
    announcer.stop();
    const stoppedAt = Date.now();
    let lastExpiry = after.expiresAt;
    await waitForAsync(async () => {
      const v = await lookupPresence(bob, a.publicKey).catch(() => undefined);
      if (v) lastExpiry = Math.max(lastExpiry, v.expiresAt);
      return v === null;
    }, 'the records to expire', TTL + 20_000);
    // The last announcement made before the stop is what expired: no record outlived its TTL.
    expect(lastExpiry).toBeLessThanOrEqual(stoppedAt + TTL);
  });
});
