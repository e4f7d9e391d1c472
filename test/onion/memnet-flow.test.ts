/**
 * Flow control, backpressure and rate limits of the onion layer over the in-memory network:
 * SENDME windows per hop (seen in the links themselves), a client that ignores its window, a
 * circuit whose queue overflows behind a congested link, CREATE limits per client address and
 * for the backlog, and the per-circuit onion-layer cell rate.
 */
import { describe, expect, it } from 'vitest';
import { CellCommand } from '../../node-core/cell';
import { fragmentMessage, RelayCommand } from '../../node-core/circuit';
import { AppEvent, encodeMessage, MessageKind } from '../../node-core/message/envelope';
import { CircuitRpc } from '../../node-core/message/rpc';
import { CircuitClosedError, type ClientCircuit } from '../../node-core/onion/client';
import { WINDOW_START } from '../../node-core/onion/flow';
import { firstDifference, MemNet, type MemChannel, type MemNode } from './memnet';

const SINK = 9100; // a notice the tests' nodes record

/** Records the bodies of SINK notices a node receives, in order; `reached(n)` settles at n. */
function sink(node: MemNode) {
  const bodies: Uint8Array[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  node.router.onNotice(SINK, (body) => {
    bodies.push(body);
    for (const w of waiters.filter((x) => bodies.length >= x.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  return {
    bodies,
    reached: (n: number) => (bodies.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))),
  };
}

/** `count` messages of `size` bytes, each starting with its index (u32). */
function numbered(net: MemNet, count: number, size: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    const m = net.suite.randomBytes(size);
    new DataView(m.buffer).setUint32(0, i);
    return m;
  });
}

function cellsFor(size: number): number {
  return fragmentMessage(new Uint8Array(size + 7)).length;
}

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

function outcome(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'created',
    (e: unknown) => (e instanceof CircuitClosedError ? e.reason : `other: ${String(e)}`),
  );
}

describe('SENDME windows', () => {
  it('keeps at most WINDOW_START ESCAPE cells in flight per hop; SENDMEs reopen it; all arrive in order', async () => {
    const net = new MemNet();
    const [a, b, c] = net.addNodes(3) as [MemNode, MemNode, MemNode];
    const client = net.addClient();
    const circuit = await net.until(client.circuits.build([a.target, b.target, c.target]));
    const [atA, atB, atC] = [sink(a), sink(b), sink(c)];
    const size = 25_000;
    const perMessage = cellsFor(size);
    const count = Math.ceil(3000 / perMessage); // ≥ 3,000 cells
    const total = count * perMessage;
    expect(total).toBeGreaterThanOrEqual(3000);

    // Hop 1 alone: the link from a to b stalls; the client stops at the window.
    const ab = a.linkTo(b)!;
    ab.pause();
    const toB = numbered(net, count, size);
    const rpcB = new CircuitRpc(circuit, net.sched, 1);
    for (const m of toB) rpcB.notify(SINK, m);
    await net.idle();
    await net.advance(60_000); // time alone opens nothing
    expect(ab.buffered).toBe(WINDOW_START);
    expect(circuit.queuedCells).toBe(total - WINDOW_START);
    ab.resume();
    await net.until(atB.reached(count));
    expect(firstDifference(atB.bodies, toB)).toBe(-1);
    expect(ab.maxBuffered).toBe(WINDOW_START);
    expect(circuit.queuedCells).toBe(0);

    // Hops 0 and 2 at once (1,500 cells' worth each), with the client's own link stalled: one
    // window per hop.
    const entry = client.links.get(a.hex)!;
    entry.pause();
    const half = Math.ceil(1500 / perMessage);
    const toA = numbered(net, half, size);
    const toC = numbered(net, half, size);
    const rpcA = new CircuitRpc(circuit, net.sched, 0);
    const rpcC = new CircuitRpc(circuit, net.sched, 2);
    for (let i = 0; i < half; i++) {
      rpcA.notify(SINK, toA[i]!);
      rpcC.notify(SINK, toC[i]!);
    }
    await net.idle();
    expect(entry.buffered).toBe(2 * WINDOW_START);
    expect(circuit.queuedCells).toBe(2 * (half * perMessage - WINDOW_START));
    entry.resume();
    await net.until(Promise.all([atA.reached(half), atC.reached(half)]));
    expect(firstDifference(atA.bodies, toA)).toBe(-1);
    expect(firstDifference(atC.bodies, toC)).toBe(-1);
    expect(circuit.queuedCells).toBe(0);
    expect(circuit.isOpen).toBe(true);
    // The SENDMEs that reopened the windows: one per 100 cells delivered at each hop.
    const delivered = total + 2 * half * perMessage;
    expect(client.links.get(a.hex)!.peer.sent(CellCommand.Relay).length).toBeGreaterThanOrEqual(Math.floor(delivered / 100));
  });

  it('a node destroys a circuit whose client ignores the window', async () => {
    const net = new MemNet();
    const [a] = net.addNodes(1) as [MemNode];
    const atA = sink(a);
    const client = net.addClient();
    const circuit = await net.until(client.circuits.build([a.target]));
    // The node's link back to the client is congested: its SENDMEs cannot leave.
    const back = client.links.get(a.hex)!.peer;
    back.highWaterMark = 2;
    back.pause();
    const cell = fragmentMessage(encodeMessage({ event: SINK, kind: MessageKind.Notice, requestId: 0, body: Uint8Array.of(1) }));
    expect(cell).toHaveLength(1);
    for (let i = 0; i < 1300; i++) circuit.dangerouslySendRelay(0, RelayCommand.Escape, cell[0]!);
    await net.idle();
    // Two SENDMEs left before the link filled (credit 2 × 100); the next cell overran.
    expect(atA.bodies).toHaveLength(WINDOW_START + 200);
    expect(a.events.some((e) => e.type === 'destroyed' && /beyond the flow-control window/.test(e.detail ?? ''))).toBe(true);
    expect(a.relay.circuitCount).toBe(0);
    back.resume();
    const reason = await net.until(closed(circuit));
    expect(reason.reason).toBe('Protocol');
  });

  it('the same congestion does not hurt a client that keeps to the window', async () => {
    const net = new MemNet();
    const [a] = net.addNodes(1) as [MemNode];
    const atA = sink(a);
    const client = net.addClient();
    const circuit = await net.until(client.circuits.build([a.target]));
    const back = client.links.get(a.hex)!.peer;
    back.highWaterMark = 2;
    back.pause();
    const rpc = new CircuitRpc(circuit, net.sched, 0);
    const messages = numbered(net, 1300, 8);
    for (const m of messages) rpc.notify(SINK, m);
    await net.idle();
    expect(atA.bodies).toHaveLength(WINDOW_START);
    back.resume();
    await net.until(atA.reached(1300));
    expect(firstDifference(atA.bodies, messages)).toBe(-1);
    expect(circuit.isOpen).toBe(true);
    expect(a.relay.circuitCount).toBe(1);
  });

  it('a SENDME the node did not earn destroys the circuit', async () => {
    const net = new MemNet();
    const [a] = net.addNodes(1) as [MemNode];
    const client = net.addClient();
    const circuit = await net.until(client.circuits.build([a.target]));
    circuit.dangerouslySendRelay(0, RelayCommand.Sendme, new Uint8Array(0));
    expect((await net.until(closed(circuit))).reason).toBe('Protocol');
    expect(a.relay.circuitCount).toBe(0);
  });
});

describe('backpressure', () => {
  it('a circuit whose queue overflows behind a congested link is destroyed both ways; others carry on', async () => {
    const net = new MemNet();
    const [a, b, c, d, e] = net.addNodes(5, { limits: { maxCircuitQueue: 100 } }) as [MemNode, MemNode, MemNode, MemNode, MemNode];
    const atB = sink(b);
    const x = net.addClient();
    const y = net.addClient();
    const z = net.addClient();
    const flooded = await net.until(x.circuits.build([a.target, b.target]));
    const disjoint = await net.until(y.circuits.build([c.target, d.target]));
    const sameNode = await net.until(z.circuits.build([a.target, e.target]));
    const rpc = new CircuitRpc(flooded, net.sched, 1);

    // Without congestion the same burst passes.
    const first = numbered(net, 300, 8);
    for (const m of first) rpc.notify(SINK, m);
    await net.until(atB.reached(300));
    expect(firstDifference(atB.bodies, first)).toBe(-1);

    const ab = a.linkTo(b)!;
    ab.highWaterMark = 8;
    const echoes = [
      new CircuitRpc(disjoint, net.sched, 1).request(AppEvent.Echo, Uint8Array.of(1)),
      new CircuitRpc(sameNode, net.sched, 1).request(AppEvent.Echo, Uint8Array.of(2)),
    ];
    const done = closed(flooded);
    for (const m of numbered(net, 300, 8)) rpc.notify(SINK, m);
    expect((await net.until(done)).reason).toBe('ResourceLimit');
    expect(a.events.some((ev) => ev.type === 'destroyed' && ev.reason === 'ResourceLimit' && /queue overflow/.test(ev.detail ?? ''))).toBe(true);
    await net.idle();
    const toB = ab.sent(CellCommand.Destroy);
    expect(toB.map((cell) => cell.payload[0])).toEqual([5]); // ResourceLimit, forward too
    expect(b.relay.circuitCount).toBe(0);
    expect(await net.until(Promise.all(echoes))).toEqual([Uint8Array.of(1), Uint8Array.of(2)]);
    expect(disjoint.isOpen && sameNode.isOpen).toBe(true);
    expect(a.relay.circuitCount).toBe(1); // z's circuit
  });
});

describe('sharing a congested link', () => {
  it('serves the circuits waiting on a link in turn: a busy circuit does not starve a quiet one', async () => {
    const net = new MemNet();
    const [a, b] = net.addNodes(2) as [MemNode, MemNode];
    const arrivals: string[] = [];
    b.router.onNotice(SINK, (body) => arrivals.push(body[0] === 0xff ? 'quiet' : 'busy'));
    const busy = await net.until(net.addClient().circuits.build([a.target, b.target]));
    const quiet = await net.until(net.addClient().circuits.build([a.target, b.target]));
    const ab = a.linkTo(b)!;
    expect(ab.inUse).toBe(2); // both circuits share the link
    ab.highWaterMark = 4;
    const busyRpc = new CircuitRpc(busy, net.sched, 1);
    for (let i = 0; i < 500; i++) busyRpc.notify(SINK, Uint8Array.of(0, i & 0xff));
    new CircuitRpc(quiet, net.sched, 1).notify(SINK, Uint8Array.of(0xff));
    await net.idle();
    expect(arrivals).toHaveLength(501);
    // The quiet circuit's cell waited behind a few of the busy one's, not behind all of them.
    expect(arrivals.indexOf('quiet')).toBeLessThan(50);
    expect(busy.isOpen && quiet.isOpen).toBe(true);
  });
});

describe('CREATE limits', () => {
  it('limits CREATEs per client address, not per node; the clock refills the bucket', async () => {
    const net = new MemNet();
    const [a, b] = net.addNodes(2, { limits: { createsPerSecondPerIp: 1, createBurstPerIp: 5 } }) as [MemNode, MemNode];
    const flooder = net.addClient({ ip: '198.51.100.1' });
    const other = net.addClient({ ip: '198.51.100.2' });
    const creates = (who: typeof flooder, n: number, ch: MemChannel) =>
      net.until(Promise.all(Array.from({ length: n }, () => outcome(who.circuits.open(ch).create(a.target, 10_000)))));

    const ch = await net.until(flooder.connect(a.target));
    const flood = await creates(flooder, 12, ch);
    expect(flood.filter((o) => o === 'created')).toHaveLength(5);
    expect(flood.filter((o) => o === 'ResourceLimit')).toHaveLength(7);
    expect(a.events.filter((e) => e.detail === 'create-rate')).toHaveLength(7);
    // Another address is served meanwhile; the flooder, also on a fresh link, is not.
    expect(await creates(other, 3, await net.until(other.connect(a.target)))).toEqual(['created', 'created', 'created']);
    expect(await creates(flooder, 1, flooder.newLink(a))).toEqual(['ResourceLimit']);
    // A second later the flooder has one CREATE again.
    await net.advance(1000);
    expect(await creates(flooder, 2, ch)).toEqual(['created', 'ResourceLimit']);
    // Circuits extended by an authenticated node are not counted against any address.
    const built = await net.until(Promise.all(Array.from({ length: 12 }, () => outcome(b.client.build([a.target])))));
    expect(built).toEqual(Array(12).fill('created'));
    expect(a.relay.circuitCount).toBe(5 + 3 + 1 + 12);
  });

  it('bounds the backlog of CREATEs waiting for their handshake', async () => {
    const net = new MemNet();
    const [a] = net.addNodes(1, { limits: { maxPendingCreates: 4, createBurstPerIp: 1000 } }) as [MemNode];
    const client = net.addClient();
    const ch = await net.until(client.connect(a.target));
    const first = await net.until(Promise.all(Array.from({ length: 10 }, () => outcome(client.circuits.open(ch).create(a.target, 10_000)))));
    expect(first.filter((o) => o === 'created')).toHaveLength(4);
    expect(first.filter((o) => o === 'ResourceLimit')).toHaveLength(6);
    expect(a.events.filter((e) => e.detail === 'create-backlog')).toHaveLength(6);
    // Once the backlog is worked off, CREATEs are accepted again.
    const again = await net.until(Promise.all(Array.from({ length: 4 }, () => outcome(client.circuits.open(ch).create(a.target, 10_000)))));
    expect(again).toEqual(Array(4).fill('created'));
  });
});

describe('onion-layer cell rate', () => {
  it('delays cells above circuitCellsPerSecond until the clock allows them; none is dropped', async () => {
    const net = new MemNet();
    const [a, b] = net.addNodes(2, { limits: { circuitCellsPerSecond: 50, circuitCellBurst: 10, maxCircuitQueue: 1000 } }) as [MemNode, MemNode];
    const atB = sink(b);
    const client = net.addClient();
    const circuit = await net.until(client.circuits.build([a.target, b.target]));
    const rpc = new CircuitRpc(circuit, net.sched, 1);
    const messages = numbered(net, 60, 8);
    for (const m of messages) rpc.notify(SINK, m);
    await net.idle();
    // The burst, less the EXTENDED cell a already sent on this circuit, and no more.
    expect(atB.bodies).toHaveLength(9);
    const link = a.linkTo(b)!;
    expect(link.sent(CellCommand.Relay)).toHaveLength(9);
    await net.advance(500);
    const afterHalfSecond = atB.bodies.length;
    expect(afterHalfSecond).toBeGreaterThan(9);
    expect(afterHalfSecond).toBeLessThan(60);
    await net.advance(2000);
    expect(firstDifference(atB.bodies, messages)).toBe(-1);
    expect(circuit.isOpen).toBe(true);
    expect(a.events.filter((e) => e.type === 'destroyed')).toEqual([]);
  });

  it('the node-wide rate delays cells the same way', async () => {
    const net = new MemNet();
    const limits = { nodeCellsPerSecond: 50, nodeCellBurst: 5, circuitCellsPerSecond: 50, circuitCellBurst: 10, maxCircuitQueue: 1000 };
    const [a, b] = net.addNodes(2, { limits }) as [MemNode, MemNode];
    const atB = sink(b);
    const client = net.addClient();
    const circuit = await net.until(client.circuits.build([a.target, b.target]));
    const rpc = new CircuitRpc(circuit, net.sched, 1);
    const messages = numbered(net, 60, 8);
    for (const m of messages) rpc.notify(SINK, m);
    await net.idle();
    expect(atB.bodies).toHaveLength(4); // the node's burst, less the EXTENDED
    // The node's bucket is the tighter limit here: one second passes 50 more.
    await net.advance(1000);
    expect(atB.bodies).toHaveLength(54);
    await net.advance(1000);
    expect(firstDifference(atB.bodies, messages)).toBe(-1);
  });
});
