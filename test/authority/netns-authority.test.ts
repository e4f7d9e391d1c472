/**
 * Hosts with their own addresses (network namespaces): a client registers and obtains an access
 * certificate; the authorities that sign it see only the address of the node before them on the
 * circuit, never the client's address, although they learn the client's identity.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeSuite } from '../../node-core/io/crypto-node';
import type { NodeSpec } from '../../node-core/io/devnet/devnet';
import { ClientSession, clientIdentity } from '../../node-core/io/client/session';
import { toHex } from '../../node-core/util/bytes';
import { startTestNet, type TestNet } from '../support/devnet';
import { waitForAsync } from '../support/raw-link';

const layout: NodeSpec[] = [
  ...[1, 2, 3].map((i) => ({ nickname: `discovery${i}`, roles: ['discovery' as const], port: 9001 })),
  ...[1, 2].map((i) => ({ nickname: `authority${i}`, roles: ['authority' as const], port: 9001 })),
  ...[1, 2, 3].map((i) => ({ nickname: `onion${i}`, roles: ['onion' as const], port: 9001 })),
];

let net: TestNet;
let session: ClientSession;

beforeAll(async () => {
  net = await startTestNet({ layout, periodMs: 3000, authorityThreshold: 2, namespaces: true, observe: true });
});

afterAll(async () => {
  session?.close();
  await net?.stop();
});

describe('authorities across hosts', () => {
  it('issue a certificate without seeing the client address', async () => {
    session = new ClientSession({ suite: nodeSuite, network: net.devnet.networkFile, localAddress: net.hosts!.hostAddress });
    await waitForAsync(async () => (await session.refreshDirectory().catch(() => undefined))?.nodes.length === 8, 'a list of all 8 nodes', 60_000);
    const identity = clientIdentity(nodeSuite, nodeSuite.randomBytes(32));
    await session.register(identity);
    const cert = await session.obtainCertificate(identity);
    expect(toHex(cert.subject)).toBe(toHex(identity.publicKey));
    expect(cert.signers.map(toHex).sort()).toEqual(session.network.authority!.authorityKeys.map(toHex).sort());

    const clientIp = `"${net.hosts!.hostAddress}"`;
    const nodeIps = new Set(layout.map((s) => net.hosts!.address(s.nickname)));
    for (const a of ['authority1', 'authority2']) {
      const obs = net.observations(a);
      const fromCircuits = obs.filter((o) => o.type === 'circuit-created').map((o) => String(o.prevIp));
      expect(fromCircuits.length).toBeGreaterThan(0);
      for (const ip of fromCircuits) expect([...nodeIps], `prevIp ${ip} at ${a}`).toContain(ip);
      expect(JSON.stringify(obs)).not.toContain(clientIp);
    }
    // The entry nodes the client used did see its address (the test can tell the difference).
    const entrySaw = layout.some((s) => JSON.stringify(net.observations(s.nickname)).includes(clientIp));
    expect(entrySaw).toBe(true);
  });
});
