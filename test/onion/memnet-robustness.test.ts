/**
 * What a node does with cells and messages it should not get, over the in-memory network:
 * circuit ids of the wrong side or already in use, broken handshakes, CREATED and RELAY for
 * circuits it does not know, cells no hop recognizes, relay commands it does not serve, and
 * malformed or unknown application messages. After each, the node keeps serving.
 */
import { describe, expect, it } from 'vitest';
import { type Cell, CellCommand } from '../../node-core/cell';
import { encodeCreate, encodeCreated, HandshakeType, NTOR_PSP, ntorClientCreate, RelayCommand } from '../../node-core/circuit';
import { AppEvent, decodeErrorBody, decodeMessage, encodeMessage, ErrorCode, MessageKind } from '../../node-core/message/envelope';
import { CircuitRpc, RemoteError } from '../../node-core/message/rpc';
import type { CircuitClosedError, ClientCircuit } from '../../node-core/onion/client';
import { type MemChannel, type MemClient, MemNet, type MemNode } from './memnet';

const MSB = 0x80000000;

function closed(circuit: ClientCircuit): Promise<CircuitClosedError> {
  if (circuit.closeReason) return Promise.resolve(circuit.closeReason);
  return new Promise((resolve) => {
    const prev = circuit.events.onClose;
    circuit.events.onClose = (e) => {
      prev?.(e);
      resolve(e);
    };
  });
}

function createCell(net: MemNet, node: MemNode, circId: number): Cell {
  const { onionskin } = ntorClientCreate(net.suite, { nodeId: node.identity, nodeOnionKey: node.onionPublic, protocol: NTOR_PSP });
  return { circId, command: CellCommand.Create, payload: encodeCreate({ handshakeType: HandshakeType.NtorV1Psp, handshake: onionskin }) };
}

/** Cells the node sent back for `circId` that no circuit of the client claimed. */
function answers(client: MemClient, circId: number): Cell[] {
  return client.stray.filter((s) => s.cell.circId === circId).map((s) => s.cell);
}

async function setup(nodes = 1) {
  const net = new MemNet();
  const list = net.addNodes(nodes);
  const client = net.addClient();
  const ch: MemChannel = await net.until(client.connect(list[0]!.target));
  return { net, nodes: list, a: list[0]!, client, ch };
}

/** The node still builds circuits and answers Echo. */
async function stillServes(net: MemNet, client: MemClient, nodes: MemNode[]): Promise<void> {
  const circuit = await net.until(client.circuits.build(nodes.map((n) => n.target)));
  const reply = await net.until(new CircuitRpc(circuit, net.sched).request(AppEvent.Echo, Uint8Array.of(4, 2)));
  expect(reply).toEqual(Uint8Array.of(4, 2));
  circuit.destroy();
}

describe('refused CREATEs', () => {
  it('refuses a CREATE whose circuit id belongs to the other side of the link', async () => {
    const { net, a, client, ch } = await setup();
    ch.send(createCell(net, a, 0x1234)); // the client opened the link: its ids have the MSB set
    await net.idle();
    expect(answers(client, 0x1234).map((c) => [c.command, c.payload[0]])).toEqual([[CellCommand.Destroy, 1]]);
    expect(a.relay.circuitCount).toBe(0);
    expect(a.events.some((e) => /wrong side/.test(e.detail ?? ''))).toBe(true);
    // Between nodes: the side that did not open the link may not use MSB ids either.
    const b = net.addNode();
    await net.until(a.openChannel({ identity: b.identity, addresses: [] }));
    const responderEnd = a.linkTo(b)!.peer; // b's end
    responderEnd.send(createCell(net, a, (MSB | 0x55) >>> 0));
    await net.idle();
    expect(a.linkTo(b)!.sent(CellCommand.Destroy).map((c) => c.circId)).toEqual([(MSB | 0x55) >>> 0]);
    expect(a.relay.circuitCount).toBe(0);
    await stillServes(net, client, [a]);
  });

  it('a CREATE for a circuit id in use destroys that circuit', async () => {
    const { net, a, client } = await setup();
    const circuit = await net.until(client.circuits.build([a.target]));
    circuit.channel.send(createCell(net, a, circuit.circId));
    expect((await net.until(closed(circuit))).reason).toBe('Protocol');
    await net.idle();
    expect(a.relay.circuitCount).toBe(0);
    await stillServes(net, client, [a]);
  });

  it('two CREATEs with one circuit id in the same burst leave no circuit behind', async () => {
    const { net, a, client, ch } = await setup();
    const id = (MSB | 0x777) >>> 0;
    ch.send(createCell(net, a, id));
    ch.send(createCell(net, a, id));
    await net.idle();
    // The client was told the id is dead, and the node holds nothing for it.
    expect(answers(client, id).at(-1)?.command).toBe(CellCommand.Destroy);
    expect(a.relay.circuitCount).toBe(0);
    await stillServes(net, client, [a]);
  });

  it('refuses a garbage handshake and an unsupported handshake type', async () => {
    const { net, a, client, ch } = await setup();
    const garbage = encodeCreate({ handshakeType: HandshakeType.NtorV1Psp, handshake: net.suite.randomBytes(96) });
    const wrongType = Uint8Array.of(0, 1, 0, 96, ...net.suite.randomBytes(96));
    const ids = [(MSB | 1) >>> 0, (MSB | 2) >>> 0];
    ch.send({ circId: ids[0]!, command: CellCommand.Create, payload: garbage });
    ch.send({ circId: ids[1]!, command: CellCommand.Create, payload: wrongType });
    await net.idle();
    for (const id of ids) expect(answers(client, id).map((c) => [c.command, c.payload[0]])).toEqual([[CellCommand.Destroy, 1]]);
    expect(a.relay.circuitCount).toBe(0);
    expect(a.events.filter((e) => /bad CREATE/.test(e.detail ?? ''))).toHaveLength(2);
    await stillServes(net, client, [a]);
  });
});

describe('cells for circuits the node does not have', () => {
  it('answers a CREATED for an unknown circuit with DESTROY and touches nothing else', async () => {
    const { net, a, client, ch } = await setup();
    const circuit = await net.until(client.circuits.build([a.target]));
    const id = (MSB | 0x4242) >>> 0;
    ch.send({ circId: id, command: CellCommand.Created, payload: encodeCreated({ handshake: new Uint8Array(64) }) });
    await net.idle();
    expect(answers(client, id).map((c) => c.command)).toEqual([CellCommand.Destroy]);
    expect(circuit.isOpen).toBe(true);
    expect(a.relay.circuitCount).toBe(1);
    expect(await net.until(new CircuitRpc(circuit, net.sched).request(AppEvent.Echo, Uint8Array.of(1)))).toEqual(Uint8Array.of(1));
  });

  it('a CREATED sent on an existing circuit from its client side destroys that circuit', async () => {
    const { net, a, client } = await setup();
    const circuit = await net.until(client.circuits.build([a.target]));
    circuit.channel.send({ circId: circuit.circId, command: CellCommand.Created, payload: encodeCreated({ handshake: new Uint8Array(64) }) });
    expect((await net.until(closed(circuit))).reason).toBe('Protocol');
    await net.idle();
    expect(a.relay.circuitCount).toBe(0);
  });

  it('drops a RELAY cell for an unknown circuit without effect', async () => {
    const { net, a, client, ch } = await setup();
    const circuit = await net.until(client.circuits.build([a.target]));
    const back = ch.peer;
    const sentBefore = back.log.length;
    const stats = { ...a.relay.stats };
    for (const command of [CellCommand.Relay, CellCommand.RelayEarly, CellCommand.Destroy]) {
      ch.send({ circId: (MSB | 0x999) >>> 0, command, payload: net.suite.randomBytes(command === CellCommand.Destroy ? 1 : 509) });
    }
    await net.idle();
    expect(back.log.length).toBe(sentBefore); // not a single cell in answer
    expect(a.relay.stats).toEqual(stats);
    expect(a.events).toEqual([]);
    expect(circuit.isOpen).toBe(true);
    expect(await net.until(new CircuitRpc(circuit, net.sched).request(AppEvent.Echo, Uint8Array.of(3)))).toEqual(Uint8Array.of(3));
  });
});

describe('cells a circuit cannot take', () => {
  it('a relay cell no hop recognizes is forwarded to the last hop, which destroys the circuit', async () => {
    const { net, nodes, client } = await setup(3);
    const [a, b, c] = nodes as [MemNode, MemNode, MemNode];
    const circuit = await net.until(client.circuits.build([a.target, b.target, c.target]));
    circuit.channel.send({ circId: circuit.circId, command: CellCommand.Relay, payload: net.suite.randomBytes(509) });
    const reason = await net.until(closed(circuit));
    expect(['Destroyed', 'Protocol']).toContain(reason.reason);
    expect(c.events.some((e) => /unrecognized relay cell at the last hop/.test(e.detail ?? ''))).toBe(true);
    // It went through a and b as ciphertext; they did not object.
    expect(a.events.filter((e) => /unrecognized/.test(e.detail ?? ''))).toEqual([]);
    await net.idle();
    expect(net.relayCircuits()).toEqual([0, 0, 0]);
    await stillServes(net, client, [a, b, c]);
  });

  it('destroys a circuit that sends a hop a relay command no node accepts', async () => {
    const { net, nodes, client } = await setup(2);
    const [a, b] = nodes as [MemNode, MemNode];
    const circuit = await net.until(client.circuits.build([a.target, b.target]));
    // RENDEZVOUS_JOINED_1 travels only from a node to a client; a node never accepts it.
    circuit.dangerouslySendRelay(1, RelayCommand.RendezvousJoined1, new Uint8Array(32));
    await net.until(closed(circuit));
    expect(b.events.some((e) => /not accepted by a node/.test(e.detail ?? ''))).toBe(true);
    await net.idle();
    expect(net.relayCircuits()).toEqual([0, 0]);
  });

  it('destroys a circuit that sends a malformed fragment', async () => {
    const { net, a, client } = await setup();
    const circuit = await net.until(client.circuits.build([a.target]));
    circuit.dangerouslySendRelay(0, RelayCommand.Escape, Uint8Array.of(0x80, 1, 2, 3)); // reserved flag bit
    expect((await net.until(closed(circuit))).reason).toBe('Protocol');
    expect(a.relay.circuitCount).toBe(0);
    await stillServes(net, client, [a]);
  });

  it('tears a circuit down on a DESTROY whose reason byte is unknown', async () => {
    const { net, nodes, client } = await setup(2);
    const circuit = await net.until(client.circuits.build(nodes.map((n) => n.target)));
    circuit.channel.send({ circId: circuit.circId, command: CellCommand.Destroy, payload: Uint8Array.of(200) });
    await net.idle();
    expect(net.relayCircuits()).toEqual([0, 0]);
  });
});

describe('application messages', () => {
  it('answers a malformed message with Error/Malformed and an unknown event with UnknownEvent; keeps serving', async () => {
    const { net, nodes, client } = await setup(2);
    const circuit = await net.until(client.circuits.build(nodes.map((n) => n.target)));
    const replies: { hop: number; bytes: Uint8Array }[] = [];
    circuit.events.onMessage = (hop, bytes) => replies.push({ hop, bytes });
    circuit.send(Uint8Array.of(1, 2, 3), 1); // shorter than the 7-byte envelope header
    circuit.send(encodeMessage({ event: AppEvent.Echo, kind: 9 as MessageKind, requestId: 5, body: new Uint8Array(1) }), 0);
    await net.idle();
    expect(replies.map((r) => r.hop).sort()).toEqual([0, 1]);
    for (const r of replies) {
      const m = decodeMessage(r.bytes);
      expect(m.kind).toBe(MessageKind.Error);
      expect(decodeErrorBody(m.body).code).toBe(ErrorCode.Malformed);
    }
    const rpc = new CircuitRpc(circuit, net.sched, 1);
    const err = await net.until(rpc.request(0x7777, Uint8Array.of(1))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).code).toBe(ErrorCode.UnknownEvent);
    // A notice for an unknown event is ignored silently.
    rpc.notify(0x7778, Uint8Array.of(1));
    expect(await net.until(rpc.request(AppEvent.Echo, Uint8Array.of(6)))).toEqual(Uint8Array.of(6));
    expect(circuit.isOpen).toBe(true);
    expect(net.relayCircuits()).toEqual([1, 1]);
  });
});
