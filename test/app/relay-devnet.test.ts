/**
 * "Also run as relay node" on a devnet: relay.set starts a full onion node inside the services,
 * with the bandwidth cap as its onion-layer rate limit; it publishes its descriptor, appears in
 * the next signed node list, carries circuits (live figures count them and their bytes), comes
 * back by itself after a restart, and once turned off drops out of the signed list when its last
 * descriptor expires (a few directory periods).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayLimitsFor } from '../../app/services';
import { ClientSession } from '../../node-core/io/client/session';
import { nodeSuite } from '../../node-core/io/crypto-node';
import { base58 } from '@scure/base';
import type { TestNet } from '../support/devnet';
import { eventsOf, openAppUser, removeTempRoots, startAppNet, waitOnline, waitUntil, type AppUser } from './helpers';

const PERIOD_MS = 2000;
let net: TestNet;
let user: AppUser;
let observer: ClientSession;

beforeAll(async () => {
  net = await startAppNet(PERIOD_MS);
  user = openAppUser('relay', { relay: { host: '127.0.0.1' } });
  await user.ok('settings.set', { networkFile: net.devnet.networkFile });
  await user.ok('profile.create', { displayName: 'Relay Runner', passphrase: 'relay passphrase' });
  await waitOnline(user);
  observer = new ClientSession({ suite: nodeSuite, network: net.devnet.networkFile });
}, 120_000);

afterAll(async () => {
  observer?.close();
  await user?.services.close();
  await net?.stop();
  removeTempRoots();
});

/** Whether the newest signed list an outside client can fetch names `identity` (base58). */
async function listedForOthers(identity: string): Promise<boolean> {
  const c = await observer.refreshDirectory();
  return c.nodes.some((n) => base58.encode(n.identity) === identity);
}

describe('relay node', () => {
  it('maps the bandwidth cap to the node-wide onion-layer rate (514-byte cells)', () => {
    expect(relayLimitsFor(64)).toEqual({ nodeCellsPerSecond: 127, nodeCellBurst: 254, circuitCellsPerSecond: 127, circuitCellBurst: 254 });
    expect(relayLimitsFor(100_000).nodeCellsPerSecond).toBe(Math.floor((100_000 * 1024) / 514));
    expect(relayLimitsFor(100_000).circuitCellsPerSecond).toBe(4000);
    expect(() => relayLimitsFor(0)).toThrow(RangeError);
    expect(() => relayLimitsFor(1.5)).toThrow(TypeError);
  });

  it('starts, is listed, carries circuits and counts them', async () => {
    const on = await user.ok('relay.set', { enabled: true, bandwidthKBps: 64 });
    expect(on).toMatchObject({ enabled: true, running: true, bandwidthKBps: 64 });
    expect(on.identity).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,50}$/);
    expect(on.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(user.services.relayConfig()?.limits.relay).toMatchObject({ nodeCellsPerSecond: 127, nodeCellBurst: 254 });
    expect((await user.ok('settings.get', {})).relayBandwidthKBps).toBe(64);

    await waitUntil(async () => (await user.ok('relay.status', {})).listed, 'the relay to be in its own newest list');
    await waitUntil(() => listedForOthers(on.identity!), 'the relay to be in the list others fetch');

    // A client builds a circuit through the relay: the live figures count it and its bytes.
    const before = await user.ok('relay.status', {});
    const target = await waitUntil(() => observer.listedNode(base58.decode(on.identity!)), 'the relay as a circuit target');
    const circuit = await observer.onion.circuits.build([target], 10_000);
    const during = await waitUntil(async () => {
      const s = await user.ok('relay.status', {});
      return s.circuits >= 1 && s;
    }, 'the circuit to be counted');
    expect(during.circuitsTotal).toBeGreaterThan(before.circuitsTotal);
    expect(during.bytesDown).toBeGreaterThan(0);
    expect(during.bytesUp).toBeGreaterThan(0);
    expect(during.uptimeMs).toBeGreaterThan(0);
    circuit.destroy();
    await waitUntil(() => eventsOf(user, 'relay.changed').some((p) => (p as { running: boolean; circuitsTotal: number }).circuitsTotal > 0), 'a relay.changed event with the figures');
  });

  it('comes back after a restart of the app, with the same identity', async () => {
    const identity = (await user.ok('relay.status', {})).identity;
    await user.restart();
    expect(await user.ok('relay.status', {})).toMatchObject({ enabled: true, running: false });
    await user.ok('profile.unlock', { passphrase: 'relay passphrase' });
    await waitOnline(user);
    const s = await waitUntil(async () => {
      const r = await user.ok('relay.status', {});
      return r.running && r;
    }, 'the relay to start again');
    expect(s.identity).toBe(identity);
    expect(s.bandwidthKBps).toBe(64);
  });

  it('stops when turned off and drops out of the signed list within a few periods', async () => {
    const identity = (await user.ok('relay.status', {})).identity!;
    await waitUntil(() => listedForOthers(identity), 'the relay to be listed before it stops');
    const off = await user.ok('relay.set', { enabled: false });
    expect(off).toMatchObject({ enabled: false, running: false, listed: false, circuits: 0, uptimeMs: 0 });
    // Its last descriptor is valid for three periods; the first vote after that leaves it out.
    await waitUntil(async () => !(await listedForOthers(identity)), 'the relay to leave the signed list', 60_000, PERIOD_MS / 2);
    expect(user.failures).toEqual([]);
  });
});
