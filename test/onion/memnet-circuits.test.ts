/**
 * Circuits over the in-memory network: building 1 to 9 hops and the RELAY_EARLY budget (client
 * side and node side), EXTEND only inside RELAY_EARLY, application messages of every size
 * boundary at every hop, DESTROY propagation in both directions, and what each hop can read.
 */
import { describe, expect, it } from 'vitest';
import { CellCommand } from '../../node-core/cell';
import { CircuitError, encodeExtend, HandshakeType, NTOR_PSP, ntorClientCreate, RelayCommand } from '../../node-core/circuit';
import { AppEvent } from '../../node-core/message/envelope';
import { CircuitRpc } from '../../node-core/message/rpc';
import { CircuitClosedError, type ClientCircuit } from '../../node-core/onion/client';
import { MAX_RELAY_EARLY } from '../../node-core/onion/relay';
import { toHex } from '../../node-core/util/bytes';
import { MemNet, sameBytes, type MemNode } from './memnet';

function echo(net: MemNet, circuit: ClientCircuit, hop: number, body: Uint8Array): Promise<Uint8Array> {
  return net.until(new CircuitRpc(circuit, net.sched, hop).request(AppEvent.Echo, body));
}

function closed(circuit: ClientCircuit): Promise<CircuitClosedError> {
  return new Promise((resolve) => {
    const prev = circuit.events.onClose;
    circuit.events.onClose = (e) => {
      prev?.(e);
      resolve(e);
    };
  });
}

describe('building circuits', () => {
  it('builds 1, 3, 8 and 9 hops, each carrying a message to its last hop', async () => {
    const net = new MemNet();
    const [a, b, c, d] = net.addNodes(4) as [MemNode, MemNode, MemNode, MemNode];
    const client = net.addClient();
    const cyclic = (n: number) => Array.from({ length: n }, (_, i) => [a, b, c][i % 3]!.target);
    for (const path of [[d.target], [a.target, b.target, c.target], cyclic(8), cyclic(MAX_RELAY_EARLY + 1)]) {
      const circuit = await net.until(client.circuits.build(path));
      expect(circuit.length).toBe(path.length);
      expect(circuit.path.map(toHex)).toEqual(path.map((t) => toHex(t.identity)));
      const body = net.suite.randomBytes(700);
      expect(sameBytes(await echo(net, circuit, path.length - 1, body), body)).toBe(true);
      // Every hop holds exactly the segments of this circuit that pass through it.
      const segments = (n: MemNode) => path.filter((t) => toHex(t.identity) === n.hex).length;
      expect(net.relayCircuits()).toEqual([a, b, c, d].map(segments));
      circuit.destroy();
      await net.idle();
      expect(net.relayCircuits()).toEqual([0, 0, 0, 0]);
    }
  });

  it('refuses a 10-hop build before sending anything, and a 9th EXTEND on the client', async () => {
    const net = new MemNet();
    const [a, b, c] = net.addNodes(3) as [MemNode, MemNode, MemNode];
    const client = net.addClient();
    const cyclic = (n: number) => Array.from({ length: n }, (_, i) => [a, b, c][i % 3]!.target);
    await expect(net.until(client.circuits.build(cyclic(MAX_RELAY_EARLY + 2)))).rejects.toThrow(RangeError);
    expect(net.connectAttempts).toEqual([]);
    expect(net.channels).toEqual([]);

    const circuit = await net.until(client.circuits.build(cyclic(MAX_RELAY_EARLY + 1)));
    const link = client.links.get(a.hex)!;
    const before = link.log.length;
    const err = await net.until(circuit.extend(a.target, 5000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CircuitError);
    expect((err as Error).message).toMatch(/more than 8 times/);
    expect(link.log.length).toBe(before); // nothing went out
    expect(circuit.isOpen).toBe(true);
  });

  it('the entry node refuses a 9th RELAY_EARLY: DESTROY reaches the client and every hop', async () => {
    const net = new MemNet();
    const [a, b, c] = net.addNodes(3) as [MemNode, MemNode, MemNode];
    const client = net.addClient();
    const path = Array.from({ length: MAX_RELAY_EARLY + 1 }, (_, i) => [a, b, c][i % 3]!.target);
    const circuit = await net.until(client.circuits.build(path));
    const err = await net.until(circuit.dangerouslyExtendPastLimit(a.target, 5000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CircuitClosedError);
    expect((err as CircuitClosedError).reason).toBe('Protocol');
    expect(circuit.isOpen).toBe(false);
    // The entry node (hop 0) is the one that counted.
    expect(a.events.some((e) => e.type === 'destroyed' && /more than 8 RELAY_EARLY/.test(e.detail ?? ''))).toBe(true);
    const destroys = client.links.get(a.hex)!.peer.sent(CellCommand.Destroy);
    expect(destroys.map((d) => d.payload[0])).toEqual([1]); // DestroyReason.Protocol
    await net.idle();
    expect(net.relayCircuits()).toEqual([0, 0, 0]);
  });

  it('one handshake at a time, and nothing more once the circuit is closed', async () => {
    const net = new MemNet();
    const [a, b, c] = net.addNodes(3) as [MemNode, MemNode, MemNode];
    const client = net.addClient();
    const circuit = await net.until(client.circuits.build([a.target]));
    const first = circuit.extend(b.target, 5000);
    await expect(net.until(circuit.extend(c.target, 5000))).rejects.toThrow(/already in progress/);
    await net.until(first);
    expect(circuit.length).toBe(2);
    circuit.destroy();
    await net.idle();
    const link = client.links.get(a.hex)!;
    const before = link.log.length;
    await expect(net.until(circuit.extend(c.target, 5000))).rejects.toBeInstanceOf(CircuitClosedError);
    expect(() => circuit.dangerouslySendRelay(0, RelayCommand.Drop, new Uint8Array(0))).toThrow(CircuitClosedError);
    expect(link.log.length).toBe(before); // its id may already name another circuit: nothing went out
  });

  it('an EXTEND inside a plain RELAY cell is refused by the node', async () => {
    const net = new MemNet();
    const [a, b, c] = net.addNodes(3) as [MemNode, MemNode, MemNode];
    const client = net.addClient();
    const circuit = await net.until(client.circuits.build([a.target, b.target]));
    const { onionskin } = ntorClientCreate(net.suite, { nodeId: c.identity, nodeOnionKey: c.onionPublic, protocol: NTOR_PSP });
    const extend = encodeExtend({
      linkSpecifiers: [
        { type: 'ed25519', identity: c.identity },
        { type: 'ipv4', address: Uint8Array.of(10, 3, 0, 1), port: 443 },
      ],
      create: { handshakeType: HandshakeType.NtorV1Psp, handshake: onionskin },
    });
    const done = closed(circuit);
    circuit.dangerouslySendRelay(1, RelayCommand.Extend, extend, false);
    const reason = await net.until(done);
    // Hop 1 refused with Protocol; hop 0 passes it on as Destroyed (no hop tells which one failed).
    expect(reason.reason).toBe('Destroyed');
    expect(b.events.some((e) => /EXTEND outside RELAY_EARLY/.test(e.detail ?? ''))).toBe(true);
    expect(a.linkTo(b)!.peer.sent(CellCommand.Destroy).map((d) => d.payload[0])).toEqual([1]); // Protocol
    expect(net.connectAttempts.some((x) => x.from === b.name && x.to === c.name)).toBe(false);
    await net.idle();
    expect(net.relayCircuits()).toEqual([0, 0, 0]);
  });
});

describe('application messages at every hop', () => {
  // Bodies; the envelope adds 7 bytes. 488 + 7 = 495 fills the first fragment exactly; 65529 + 7
  // is the largest message (64 KiB).
  const sizes = [1, 488, 489, 500, 501, 509, 10 * 1024, 65536 - 7];

  it('round-trips every size through Echo at hops 0, 1 and 2', async () => {
    const net = new MemNet();
    const nodes = net.addNodes(3);
    const client = net.addClient();
    const circuit = await net.until(client.circuits.build(nodes.map((n) => n.target)));
    for (const hop of [0, 1, 2]) {
      const rpc = new CircuitRpc(circuit, net.sched, hop);
      for (const size of sizes) {
        const body = net.suite.randomBytes(size);
        expect(sameBytes(await net.until(rpc.request(AppEvent.Echo, body)), body)).toBe(true);
      }
    }
    expect(circuit.isOpen).toBe(true);
  });

  it('refuses a message over 64 KiB before sending it; the circuit stays usable', async () => {
    const net = new MemNet();
    const [a] = net.addNodes(1) as [MemNode];
    const client = net.addClient();
    const circuit = await net.until(client.circuits.build([a.target]));
    const link = client.links.get(a.hex)!;
    const before = link.log.length;
    const rpc = new CircuitRpc(circuit, net.sched, 0);
    await expect(net.until(rpc.request(AppEvent.Echo, new Uint8Array(65536 - 6)))).rejects.toThrow(RangeError);
    expect(link.log.length).toBe(before);
    expect(await echo(net, circuit, 0, Uint8Array.of(7))).toEqual(Uint8Array.of(7));
  });
});

describe('DESTROY propagation', () => {
  it('a client DESTROY reaches every hop', async () => {
    const net = new MemNet();
    const nodes = net.addNodes(4);
    const client = net.addClient();
    const circuit = await net.until(client.circuits.build(nodes.map((n) => n.target)));
    expect(net.relayCircuits()).toEqual([1, 1, 1, 1]);
    circuit.destroy();
    expect(circuit.closeReason?.reason).toBe('Requested');
    await net.idle();
    expect(net.relayCircuits()).toEqual([0, 0, 0, 0]);
    for (const n of nodes) expect(n.events.filter((e) => e.type === 'destroyed')).toHaveLength(1);
    // Each link carried exactly one DESTROY, forward.
    const [a, b, c, d] = nodes as [MemNode, MemNode, MemNode, MemNode];
    expect(client.links.get(a.hex)!.sent(CellCommand.Destroy)).toHaveLength(1);
    expect(a.linkTo(b)!.sent(CellCommand.Destroy)).toHaveLength(1);
    expect(b.linkTo(c)!.sent(CellCommand.Destroy)).toHaveLength(1);
    expect(c.linkTo(d)!.sent(CellCommand.Destroy)).toHaveLength(1);
    // Nothing travelled back: the DESTROY came from the client.
    expect(client.links.get(a.hex)!.peer.sent(CellCommand.Destroy)).toHaveLength(0);
    expect(d.linkTo(c)!.sent(CellCommand.Destroy)).toHaveLength(0);
  });

  for (const which of ['the link before the middle node', 'the link after the middle node', 'the middle node itself'] as const) {
    it(`closing ${which} destroys the circuit at the client and at the other hops`, async () => {
      const net = new MemNet();
      const [a, b, c] = net.addNodes(3) as [MemNode, MemNode, MemNode];
      const [o1, o2] = net.addNodes(2) as [MemNode, MemNode];
      const client = net.addClient();
      const circuit = await net.until(client.circuits.build([a.target, b.target, c.target]));
      // An unrelated circuit survives.
      const bystander = await net.until(client.circuits.build([o1.target, o2.target]));
      const pending = new CircuitRpc(circuit, net.sched, 2).request(AppEvent.Echo, Uint8Array.of(1), 60_000);
      const failed = pending.then(
        () => null,
        (e: unknown) => e,
      );
      const done = closed(circuit);
      if (which === 'the link before the middle node') a.linkTo(b)!.close('test');
      else if (which === 'the link after the middle node') b.linkTo(c)!.close('test');
      else b.kill();
      const reason = await net.until(done);
      expect(['Destroyed', 'ChannelClosed']).toContain(reason.reason);
      expect(await net.until(failed)).toBeInstanceOf(CircuitClosedError);
      await net.idle();
      expect(net.relayCircuits()).toEqual([0, 0, 0, 1, 1]);
      expect(bystander.isOpen).toBe(true);
      expect(await echo(net, bystander, 1, Uint8Array.of(9))).toEqual(Uint8Array.of(9));
    });
  }
});

describe('what each hop can read', () => {
  it('only the hop a message is for decrypts its plaintext; only the entry sees the client address', async () => {
    const net = new MemNet();
    const [a, b, c] = net.addNodes(3, { observe: true }) as [MemNode, MemNode, MemNode];
    const client = net.addClient({ ip: '203.0.113.7' });
    const circuit = await net.until(client.circuits.build([a.target, b.target, c.target]));
    const hex = (x: Uint8Array) => toHex(x);
    const forward = (n: MemNode) => n.observations.filter((o) => o.type === 'relay-forward');
    const sees = (n: MemNode, marker: Uint8Array) => forward(n).some((o) => String(o.payload).includes(hex(marker)));

    const toLast = net.suite.randomBytes(16);
    const big = net.suite.randomBytes(3000);
    const inBig = big.subarray(1500, 1516); // inside one fragment (message bytes 1507..1523)
    const toMiddle = net.suite.randomBytes(16);
    expect(await echo(net, circuit, 2, toLast)).toEqual(toLast);
    expect(sameBytes(await echo(net, circuit, 2, big), big)).toBe(true);
    expect(await echo(net, circuit, 1, toMiddle)).toEqual(toMiddle);

    expect(sees(c, toLast)).toBe(true);
    expect(sees(c, inBig)).toBe(true);
    expect(sees(b, toMiddle)).toBe(true);
    for (const n of [a, b]) {
      expect(sees(n, toLast)).toBe(false);
      expect(sees(n, inBig)).toBe(false);
    }
    expect(sees(a, toMiddle)).toBe(false);
    expect(sees(c, toMiddle)).toBe(false); // never forwarded past its hop
    // The entry could read only the EXTEND addressed to it (relay command 1).
    const readable = forward(a).filter((o) => o.recognized === true);
    expect(readable).toHaveLength(1);
    expect(String(readable[0]!.payload).slice(0, 2)).toBe('01');
    // The middle read its EXTEND and the one message addressed to it (ESCAPE, command 3).
    expect(forward(b).filter((o) => o.recognized === true).map((o) => String(o.payload).slice(0, 2))).toEqual(['01', '03']);
    expect(forward(c).every((o) => o.recognized === true)).toBe(true);

    const created = (n: MemNode) => n.observations.filter((o) => o.type === 'circuit-created');
    expect(created(a)).toEqual([expect.objectContaining({ prevIdentity: null, prevIp: '203.0.113.7' })]);
    for (const n of [b, c]) {
      expect(created(n)).toHaveLength(1);
      expect(created(n)[0]!.prevIdentity).not.toBeNull();
      expect(created(n)[0]!.prevIp).not.toBe('203.0.113.7');
    }
  });
});
