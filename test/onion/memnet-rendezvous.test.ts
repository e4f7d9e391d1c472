/**
 * Rendezvous points over the in-memory network (relay/rendezvous.md): Alice makes the last hop
 * of her circuit a rendezvous point; Bob joins it from his own circuit with his half of the
 * end-to-end ntor handshake; both add the end-to-end layer and exchange messages that the
 * rendezvous node relays without being able to read; either side closing ends both circuits.
 */
import { describe, expect, it } from 'vitest';
import { NTOR_PSP, ntorClientComplete, ntorClientCreate, ntorServerHandle, RelayCommand } from '../../node-core/circuit';
import { CircuitClosedError, NTOR_RENDEZVOUS, type ClientCircuit } from '../../node-core/onion/client';
import { toHex } from '../../node-core/util/bytes';
import { MemNet, type MemNode } from './memnet';

function nextMessage(net: MemNet, c: ClientCircuit, hop: number): Promise<Uint8Array> {
  return net.until(
    new Promise<Uint8Array>((resolve) => {
      const prev = c.events.onMessage;
      c.events.onMessage = (h, m) => {
        if (h === hop) {
          c.events.onMessage = prev;
          resolve(m);
        } else prev?.(h, m);
      };
    }),
  );
}

async function rendezvous(net: MemNet) {
  const [a, b, rp, d, e] = net.addNodes(5) as [MemNode, MemNode, MemNode, MemNode, MemNode];
  const alice = net.addClient({ ip: '192.0.2.1' });
  const bob = net.addClient({ ip: '192.0.2.2' });
  const suite = net.suite;
  // Bob's announcement key (published with his presence later; here handed over directly).
  const bobId = suite.randomBytes(32);
  const announceSecret = suite.randomBytes(32);
  const announce = { secret: announceSecret, public: suite.x25519PublicKey(announceSecret) };

  const cookie = suite.randomBytes(32);
  const aliceCircuit = await net.until(alice.circuits.build([a.target, b.target, rp.target]));
  await net.until(aliceCircuit.establishRendezvous(cookie, 5000));
  // Alice's half of the handshake (it would travel in her introduction).
  const { state, onionskin } = ntorClientCreate(suite, { nodeId: bobId, nodeOnionKey: announce.public, protocol: NTOR_RENDEZVOUS });
  const joined = new Promise<Uint8Array>((resolve) => (aliceCircuit.events.onRendezvousJoined = resolve));

  // Bob answers and joins from his own circuit.
  const { reply, keyMaterial: bobKeys } = ntorServerHandle(suite, onionskin, { nodeId: bobId, onionKeys: [announce], protocol: NTOR_RENDEZVOUS });
  const bobCircuit = await net.until(bob.circuits.build([d.target, e.target, rp.target]));
  await net.until(bobCircuit.joinRendezvous(cookie, reply, 5000));
  const handshake = await net.until(joined);
  const aliceKeys = ntorClientComplete(suite, state, handshake);
  expect(toHex(aliceKeys)).toBe(toHex(bobKeys));
  const peer = { identity: bobId, onionKey: announce.public, addresses: [] };
  const aliceHop = aliceCircuit.addEndToEndHop(aliceKeys, 'owner', peer);
  const bobHop = bobCircuit.addEndToEndHop(bobKeys, 'joiner', { ...peer, identity: suite.randomBytes(32) });
  return { net, rp, aliceCircuit, bobCircuit, aliceHop, bobHop };
}

describe('rendezvous', () => {
  it('joins two circuits end to end; the rendezvous node relays what it cannot read', async () => {
    const net = new MemNet();
    const { rp, aliceCircuit, bobCircuit, aliceHop, bobHop } = await rendezvous(net);
    expect(aliceHop).toBe(3);
    expect(bobHop).toBe(3);
    for (const size of [1, 500, 5000, 65536]) {
      const toBob = net.suite.randomBytes(size);
      const got = nextMessage(net, bobCircuit, bobHop);
      aliceCircuit.send(toBob, aliceHop);
      expect(toHex(await got)).toBe(toHex(toBob));
      const toAlice = net.suite.randomBytes(size);
      const back = nextMessage(net, aliceCircuit, aliceHop);
      bobCircuit.send(toAlice, bobHop);
      expect(toHex(await back)).toBe(toHex(toAlice));
    }
    // Enough traffic to need SENDMEs end to end (they travel inside the end-to-end layer).
    const many = Array.from({ length: 12 }, () => net.suite.randomBytes(60_000));
    const received: Uint8Array[] = [];
    bobCircuit.events.onMessage = (h, m) => h === bobHop && received.push(m);
    for (const m of many) aliceCircuit.send(m, aliceHop);
    await net.idle();
    expect(received.map(toHex)).toEqual(many.map(toHex));
    // The rendezvous node saw only ciphertext: no 16-byte run of any message in what it decrypted.
    const seen = rp.observations.map((o) => String(o.payload ?? '')).join(' ');
    for (const m of many) expect(seen.includes(toHex(m.subarray(100, 116)))).toBe(false);
  });

  it('ends both circuits when one side closes', async () => {
    const net = new MemNet();
    const { aliceCircuit, bobCircuit } = await rendezvous(net);
    const bobClosed = new Promise<CircuitClosedError>((r) => (bobCircuit.events.onClose = r));
    aliceCircuit.destroy();
    const reason = await net.until(bobClosed);
    expect(bobCircuit.isOpen).toBe(false);
    expect(reason).toBeInstanceOf(CircuitClosedError);
    await net.idle();
    expect(net.relayCircuits().every((n) => n === 0)).toBe(true);
  });

  it('refuses a join with an unknown cookie and a second rendezvous point with the same cookie', async () => {
    const net = new MemNet();
    const [a, b, rp] = net.addNodes(3) as [MemNode, MemNode, MemNode];
    const client = net.addClient();
    const c1 = await net.until(client.circuits.build([a.target, rp.target]));
    await expect(net.until(c1.joinRendezvous(net.suite.randomBytes(32), new Uint8Array(64), 5000))).rejects.toBeInstanceOf(CircuitClosedError);
    const cookie = net.suite.randomBytes(32);
    const c2 = await net.until(client.circuits.build([a.target, rp.target]));
    await net.until(c2.establishRendezvous(cookie, 5000));
    const c3 = await net.until(client.circuits.build([b.target, rp.target]));
    await expect(net.until(c3.establishRendezvous(cookie, 5000))).rejects.toBeInstanceOf(CircuitClosedError);
    expect(c2.isOpen).toBe(true);
    // A hop in the middle of a circuit cannot become a rendezvous point.
    const c4 = await net.until(client.circuits.build([a.target, b.target]));
    const c4closed = new Promise<CircuitClosedError>((r) => (c4.events.onClose = r));
    c4.dangerouslySendRelay(0, RelayCommand.EstablishRendezvous, net.suite.randomBytes(32));
    expect((await net.until(c4closed)).reason).toBe('Protocol');
    // A client's own circuits work as before (no NTOR_PSP confusion with the rendezvous ntor).
    expect(NTOR_PSP.protoId).not.toBe(NTOR_RENDEZVOUS.protoId);
  });
});
