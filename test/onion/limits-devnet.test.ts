/**
 * Node limits across real processes: a CREATE flood from one address is refused past its burst
 * while a client at another address still builds circuits through the same node; an EXTEND
 * chain longer than the RELAY_EARLY budget is refused by the node itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeSuite } from '../../node-core/io/crypto-node';
import { OnionClient } from '../../node-core/io/client/onion-client';
import { CircuitClosedError } from '../../node-core/onion/client';
import { startTestNet, type TestNet } from '../support/devnet';

let net: TestNet;
const clients: OnionClient[] = [];

beforeAll(async () => {
  net = await startTestNet({ onions: 3, configPatch: { limits: { relay: { createsPerSecondPerIp: 1, createBurstPerIp: 20 } } } });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await net?.stop();
});

function newClient(localAddress: string): OnionClient {
  const c = new OnionClient({ suite: nodeSuite, nodes: () => net.nodes, localAddress });
  clients.push(c);
  return c;
}

describe('node limits between processes', () => {
  it('refuses a CREATE flood from one address past its burst while another address is served', async () => {
    const entry = net.nodes[0]!;
    const flooder = newClient('127.0.0.2');
    const ch = await flooder.channelTo(entry);
    const attempts = Array.from({ length: 60 }, () => {
      const circuit = flooder.circuits.open(ch);
      return circuit.create(entry, 20_000).then(
        () => 'created',
        (e: unknown) => (e instanceof CircuitClosedError ? e.reason : String(e)),
      );
    });
    const outcomes = await Promise.all(attempts);
    const created = outcomes.filter((o) => o === 'created').length;
    const refused = outcomes.filter((o) => o === 'ResourceLimit').length;
    expect(created).toBeGreaterThanOrEqual(20);
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBe(60 - created); // nothing else went wrong

    // Another address builds full circuits through the same entry node while the flooder is limited.
    const other = newClient('127.0.0.3');
    for (let i = 0; i < 3; i++) {
      const c = await other.circuits.build([entry, net.nodes[1]!, net.nodes[2]!]);
      expect(c.isOpen).toBe(true);
      c.destroy();
    }
    // The flooder is still refused right now.
    const again = await flooder.circuits
      .open(ch)
      .create(entry, 20_000)
      .then(
        () => 'created',
        (e: unknown) => (e instanceof CircuitClosedError ? e.reason : String(e)),
      );
    expect(again).toBe('ResourceLimit');
  });

  it('refuses an EXTEND chain longer than the RELAY_EARLY budget', async () => {
    const c = newClient('127.0.0.4');
    const [a, b, d] = net.nodes as [typeof net.nodes[0], typeof net.nodes[0], typeof net.nodes[0]];
    const path = [a, b, d, a, b, d, a, b, d]; // 1 CREATE + 8 EXTENDs: the most allowed
    const circuit = await c.circuits.build(path);
    expect(circuit.length).toBe(9);
    await expect(circuit.extend(a, 5000)).rejects.toThrow(/more than 8 times/);
    const err = await circuit.dangerouslyExtendPastLimit(a, 20_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CircuitClosedError);
    expect((err as CircuitClosedError).reason).toBe('Protocol'); // the entry node counted the 9th RELAY_EARLY
    expect(circuit.isOpen).toBe(false);
  });
});
