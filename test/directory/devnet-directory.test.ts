/**
 * The directory across real node processes (testnet layout: 5 discovery, 3 authority, 9 onion):
 * discovery nodes converge on one signed list per period; a client bootstraps from it, builds
 * circuits only through listed nodes, registers and holds a certificate co-signed by the
 * authorities; with two discovery nodes stopped, new lists are still produced and accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDiscoveryMessage, encodeDiscoveryMessage } from '../../node-core/directory';
import { AppEvent } from '../../node-core/message/envelope';
import { CircuitRpc } from '../../node-core/message/rpc';
import { nodeSuite } from '../../node-core/io/crypto-node';
import { stopChild, testnetLayout } from '../../node-core/io/devnet/devnet';
import { ClientSession, clientIdentity } from '../../node-core/io/client/session';
import { realScheduler } from '../../node-core/io/onion/runtime';
import { parseSignedConsensus } from '../../node-core/directory';
import { toHex } from '../../node-core/util/bytes';
import { startTestNet, type TestNet } from '../support/devnet';
import { waitForAsync } from '../support/raw-link';

const PERIOD = 3000;
let net: TestNet;
let session: ClientSession;

beforeAll(async () => {
  net = await startTestNet({ layout: testnetLayout(), periodMs: PERIOD });
});

afterAll(async () => {
  session?.close();
  await net?.stop();
});

async function bootstrapped(): Promise<ClientSession> {
  const s = new ClientSession({ suite: nodeSuite, network: net.devnet.networkFile });
  // The first lists appear within a period or two of the nodes starting; wait for one that
  // lists every node (the earliest may miss nodes whose descriptors arrived after the vote).
  await waitForAsync(async () => (await s.refreshDirectory().catch(() => undefined))?.nodes.length === 19, 'a list of all 19 nodes', 60_000);
  return s;
}

describe('directory on the devnet', () => {
  it('discovery nodes converge on one signed list; a client bootstraps and uses only listed nodes', async () => {
    session = await bootstrapped();
    const c = session.consensus!;
    expect(c.signers.length).toBeGreaterThanOrEqual(3);
    expect(c.nodes.length).toBe(19);
    // Every discovery node serves the same body for the period (or a later one).
    const pull = encodeDiscoveryMessage({ type: 'pull', network: session.network.network });
    const digests = new Map<number, Set<string>>();
    for (const d of session.network.directory!.discovery) {
      const circuit = await session.onion.circuits.build([d]);
      const m = decodeDiscoveryMessage(await new CircuitRpc(circuit, realScheduler).request(AppEvent.DiscoveryPull, pull));
      circuit.destroy();
      expect(m.type).toBe('consensus');
      if (m.type !== 'consensus') continue;
      const u = parseSignedConsensus(m.consensus);
      const digest = toHex(nodeSuite.sha256(u.body));
      const period = u.claimed.period;
      if (!digests.has(period)) digests.set(period, new Set());
      digests.get(period)!.add(digest);
    }
    for (const set of digests.values()) expect(set.size).toBe(1);

    // Circuits use listed onion nodes only.
    const listed = new Set(session.relayNodes().map((n) => toHex(n.identity)));
    expect(listed.size).toBe(9);
    for (let i = 0; i < 5; i++) {
      const circuit = await session.onion.manager.build();
      for (const hop of circuit.path) expect(listed.has(toHex(hop))).toBe(true);
      circuit.destroy();
    }
  });

  it('registers an identity and obtains a certificate co-signed by the authorities', async () => {
    const identity = clientIdentity(nodeSuite, nodeSuite.randomBytes(32));
    await session.register(identity);
    const cert = await session.obtainCertificate(identity);
    expect(toHex(cert.subject)).toBe(toHex(identity.publicKey));
    expect(cert.identity).toBe(identity.text);
    expect(cert.signers.length).toBeGreaterThanOrEqual(session.network.authority!.threshold);
    expect(cert.expiresAt).toBeGreaterThan(Date.now());
    // A replayed registration changes nothing and still succeeds.
    await session.register(identity);
  });

  it('keeps producing accepted lists with two of five discovery nodes stopped', async () => {
    const before = session.consensus!.period;
    await Promise.all(['discovery4', 'discovery5'].map((n) => stopChild(net.devnet.node(n).process)));
    const stoppedAt = Date.now();
    const newer = await waitForAsync(
      async () => {
        const c = await session.refreshDirectory().catch(() => undefined);
        return c && c.period > before + 1 && c.validAfter > stoppedAt ? c : undefined;
      },
      'a list made after two discovery nodes stopped',
      60_000,
    );
    expect(newer.signers.length).toBeGreaterThanOrEqual(3);
    expect(newer.signers.length).toBeLessThanOrEqual(3); // only three discovery nodes are left to sign
  });
});
