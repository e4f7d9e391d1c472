/**
 * Onion circuits across separate node processes on loopback: a 3-hop circuit carries messages
 * of 1 B, 509 B, 10 KiB and 64 KiB to the last hop and back; what each hop decrypted shows that
 * only the last hop saw the plaintext; killing the middle node tears the circuit down and the
 * client's manager builds a replacement.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppEvent } from '../../node-core/message/envelope';
import { CircuitRpc } from '../../node-core/message/rpc';
import { nodeSuite } from '../../node-core/io/crypto-node';
import { OnionClient } from '../../node-core/io/client/onion-client';
import { realScheduler } from '../../node-core/io/onion/runtime';
import { toHex } from '../../node-core/util/bytes';
import { startTestNet, type TestNet } from '../support/devnet';
import { waitFor } from '../support/raw-link';
import { stopChild } from '../../node-core/io/devnet/devnet';

let net: TestNet;
let client: OnionClient;

beforeAll(async () => {
  net = await startTestNet({ onions: 5, observe: true });
  client = new OnionClient({ suite: nodeSuite, nodes: () => net.nodes, manager: { buildTimeoutMs: 5000 } });
});

afterAll(async () => {
  client?.close();
  await net?.stop();
});

describe('circuits through node processes', () => {
  it('round-trips 1 B, 509 B, 10 KiB and 64 KiB; only the last hop sees plaintext', async () => {
    const path = net.nodes.slice(0, 3);
    const circuit = await client.circuits.build(path);
    expect(circuit.length).toBe(3);
    const rpc = new CircuitRpc(circuit, realScheduler);
    const sizes = [1, 509, 10 * 1024, 64 * 1024 - 7]; // 64 KiB messages: the envelope's 7 bytes included
    const sent: Uint8Array[] = [];
    for (const size of sizes) {
      const body = nodeSuite.randomBytes(size);
      sent.push(body);
      const echoed = await rpc.request(AppEvent.Echo, body);
      expect(echoed).toEqual(body);
    }
    // Give observers a moment to flush, then inspect what each hop decrypted.
    await new Promise((r) => setTimeout(r, 200));
    const [first, middle, last] = path.map((n) => net.observations(n.nickname).filter((o) => o.type === 'relay-forward'));
    expect(first!.length).toBeGreaterThan(0);
    expect(middle!.length).toBeGreaterThan(0);
    const marker = toHex(sent[3]!.subarray(1000, 1032));
    const small = toHex(sent[1]!.subarray(0, 32));
    const sees = (obs: Record<string, unknown>[], hex: string) => obs.some((o) => String(o.payload).includes(hex));
    expect(sees(last!, marker)).toBe(true);
    expect(sees(last!, small)).toBe(true);
    for (const hop of [first!, middle!]) {
      expect(sees(hop, marker)).toBe(false);
      expect(sees(hop, small)).toBe(false);
      // The only cells a non-final hop can read are the EXTENDs addressed to it (relay command 1).
      const readable = hop.filter((o) => o.recognized === true);
      expect(readable).toHaveLength(1);
      expect(String(readable[0]!.payload).slice(0, 2)).toBe('01');
    }
    expect(last!.every((o) => o.recognized === true)).toBe(true);
    // The first hop saw the client's address; the middle and last hops only saw nodes.
    const created = (n: string) => net.observations(n).filter((o) => o.type === 'circuit-created');
    expect(created(path[0]!.nickname).some((o) => o.prevIdentity === null)).toBe(true);
    expect(created(path[1]!.nickname).every((o) => o.prevIdentity !== null)).toBe(true);
    expect(created(path[2]!.nickname).every((o) => o.prevIdentity !== null)).toBe(true);
    circuit.destroy();
  });

  it('tears a circuit down when its middle node dies, and the manager builds a replacement', async () => {
    client.manager.start();
    await waitFor(() => client.manager.ready >= 1, 'a pooled circuit');
    const circuit = await client.manager.take();
    const middleId = toHex(circuit.path[1]!);
    const middle = net.devnet.nodes.find((n) => toHex(net.nodes.find((k) => k.nickname === n.spec.nickname)!.identity) === middleId)!;
    const closed = new Promise<string>((r) => {
      const prev = circuit.events.onClose;
      circuit.events.onClose = (e) => {
        prev?.(e);
        r(e.reason);
      };
    });
    await stopChild(middle.process, 10);
    const reason = await closed;
    expect(circuit.isOpen).toBe(false);
    expect(['Destroyed', 'ChannelClosed', 'link-closed']).toContain(reason);
    // A pooled circuit built through the middle node just before it died may still be handed
    // out: it must close too, and the one after it must avoid the dead node.
    let replacement = await client.manager.take();
    for (let i = 0; i < 5 && replacement.path.some((p) => toHex(p) === middleId); i++) {
      const doomed = replacement;
      await waitFor(() => !doomed.isOpen, 'a pooled circuit through the dead node to close', 30_000);
      replacement = await client.manager.take();
    }
    expect(replacement.isOpen).toBe(true);
    expect(replacement.path.some((p) => toHex(p) === middleId)).toBe(false);
    const rpc = new CircuitRpc(replacement, realScheduler);
    expect(await rpc.request(AppEvent.Echo, Uint8Array.of(1, 2, 3))).toEqual(Uint8Array.of(1, 2, 3));
  });
});
