/**
 * Circuits between hosts with distinct IP addresses (network namespaces): the entry node sees
 * the client's address; the middle and last nodes see only the previous node's address, never
 * the client's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppEvent } from '../../node-core/message/envelope';
import { CircuitRpc } from '../../node-core/message/rpc';
import { nodeSuite } from '../../node-core/io/crypto-node';
import { OnionClient } from '../../node-core/io/client/onion-client';
import { realScheduler } from '../../node-core/io/onion/runtime';
import { smallLayout } from '../../node-core/io/devnet/devnet';
import { startTestNet, type TestNet } from '../support/devnet';

let net: TestNet;
let client: OnionClient;

beforeAll(async () => {
  net = await startTestNet({ layout: smallLayout(3).map((s) => ({ ...s, port: 9001 })), namespaces: true, observe: true });
  client = new OnionClient({ suite: nodeSuite, nodes: () => net.nodes, localAddress: net.hosts!.hostAddress });
});

afterAll(async () => {
  client?.close();
  await net?.stop();
});

describe('circuits across hosts', () => {
  it('only the entry node sees the client address', async () => {
    const [a, b, c] = net.nodes as [(typeof net.nodes)[0], (typeof net.nodes)[0], (typeof net.nodes)[0]];
    const circuit = await client.circuits.build([a, b, c]);
    const rpc = new CircuitRpc(circuit, realScheduler);
    expect(await rpc.request(AppEvent.Echo, Uint8Array.of(7))).toEqual(Uint8Array.of(7));
    await new Promise((r) => setTimeout(r, 200));
    const clientIp = net.hosts!.hostAddress;
    const created = (n: string) => net.observations(n).filter((o) => o.type === 'circuit-created');
    expect(created('onion1').map((o) => o.prevIp)).toContain(clientIp);
    expect(created('onion2').map((o) => o.prevIp)).toEqual([net.hosts!.address('onion1')]);
    expect(created('onion3').map((o) => o.prevIp)).toEqual([net.hosts!.address('onion2')]);
    for (const n of ['onion2', 'onion3']) {
      expect(JSON.stringify(net.observations(n))).not.toContain(`"${clientIp}"`);
    }
  });
});
