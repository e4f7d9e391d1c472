/**
 * The client's circuit manager over the in-memory network: path choice (distinct nodes,
 * distinct /16 networks when the node list allows, a fixed last hop, entry guards), the pool of ready
 * circuits refilling after one closes, and retries that avoid the node that failed.
 */
import { describe, expect, it } from 'vitest';
import type { NodeTarget } from '../../node-core/onion/channel';
import { NoPathError, netOf } from '../../node-core/onion/manager';
import { toHex } from '../../node-core/util/bytes';
import { MemNet, type MemNode } from './memnet';

const ids = (path: NodeTarget[]) => path.map((t) => toHex(t.identity));
const distinct = <T>(xs: T[]) => new Set(xs).size === xs.length;

describe('choosing paths', () => {
  it('picks distinct nodes in distinct /16 networks when there are enough networks', () => {
    const net = new MemNet();
    for (const host of ['10.1.0.1', '10.1.0.2', '10.1.7.3', '10.2.0.1', '10.2.9.2', '10.3.0.1', '10.3.0.2']) net.addNode({ host });
    const { manager } = net.addClient();
    const netsSeen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const path = manager.choosePath(3);
      expect(path).toHaveLength(3);
      expect(distinct(ids(path))).toBe(true);
      expect(distinct(path.map(netOf))).toBe(true);
      for (const t of path) netsSeen.add(toHex(t.identity));
    }
    expect(netsSeen.size).toBe(7); // every node gets used
    // Four hops over three networks: still distinct nodes, and all three networks used.
    for (let i = 0; i < 50; i++) {
      const path = manager.choosePath(4);
      expect(distinct(ids(path))).toBe(true);
      expect(new Set(path.map(netOf)).size).toBe(3);
    }
  });

  it('falls back to distinct nodes in one network, and refuses when there are too few nodes', () => {
    const net = new MemNet();
    for (let i = 1; i <= 4; i++) net.addNode({ host: `127.0.0.${i}` });
    const { manager } = net.addClient();
    for (let i = 0; i < 50; i++) expect(distinct(ids(manager.choosePath(4)))).toBe(true);
    expect(() => manager.choosePath(5)).toThrow(NoPathError);
    const [first] = net.nodes as [MemNode];
    expect(() => manager.choosePath(4, undefined, [first.identity])).toThrow(NoPathError);
    for (let i = 0; i < 20; i++) expect(ids(manager.choosePath(3, undefined, [first.identity]))).not.toContain(first.hex);
  });

  it('honours a fixed last hop: last, once, and its network avoided by the others', () => {
    const net = new MemNet();
    for (const host of ['10.1.0.1', '10.1.0.2', '10.2.0.1', '10.2.0.2', '10.3.0.1', '10.3.0.2']) net.addNode({ host });
    const { manager } = net.addClient();
    const last = net.nodes[0]!.target;
    for (let i = 0; i < 100; i++) {
      const path = manager.choosePath(3, last);
      expect(path).toHaveLength(3);
      expect(ids(path).at(-1)).toBe(toHex(last.identity));
      expect(ids(path).filter((x) => x === toHex(last.identity))).toHaveLength(1);
      expect(distinct(path.map(netOf))).toBe(true);
    }
    expect(ids(manager.choosePath(1, last))).toEqual([toHex(last.identity)]);
  });

  it('enters only through an entry guard, and builds nothing when none is usable', () => {
    const net = new MemNet();
    for (let i = 1; i <= 8; i++) net.addNode({ host: `10.${i}.0.1` });
    const { manager } = net.addClient();
    const [g1, g2, other] = net.nodes as [MemNode, MemNode, MemNode];
    manager.guards = [g1.identity, g2.identity];
    const entries = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const path = manager.choosePath(3);
      expect(distinct(ids(path))).toBe(true);
      entries.add(ids(path)[0]!);
      // A circuit that must end at a guard enters through the other guard.
      expect(ids(manager.choosePath(3, g1.target))[0]).toBe(g2.hex);
      // One hop is the last hop itself: no guard involved.
      expect(ids(manager.choosePath(1, other.target))).toEqual([other.hex]);
    }
    expect([...entries].sort()).toEqual([g1.hex, g2.hex].sort());
    // With no guard usable, no circuit: never a silent fallback to another entry.
    expect(() => manager.choosePath(3, undefined, [g1.identity, g2.identity])).toThrow(NoPathError);
    manager.guards = [g1.identity];
    expect(() => manager.choosePath(3, g1.target)).toThrow(NoPathError);
  });
});

describe('the pool', () => {
  it('keeps poolSize circuits ready and refills after a pooled circuit closes', async () => {
    const net = new MemNet();
    net.addNodes(5);
    const client = net.addClient({ manager: { poolSize: 2, hops: 3 } });
    const built = () => client.managerEvents.filter((e) => e.type === 'built').length;
    client.manager.start();
    await net.idle();
    expect(client.manager.ready).toBe(2);
    expect(built()).toBe(2);

    // A pooled circuit dies (its entry link closes): the pool builds a replacement.
    const victim = client.circuits.openCircuits[0]!;
    const entry = net.nodeByIdentity(victim.path[0]!)!;
    client.links.get(entry.hex)!.close('test');
    await net.idle();
    expect(victim.isOpen).toBe(false);
    expect(client.manager.ready).toBe(2);
    expect(client.circuits.openCircuits.every((c) => c.isOpen)).toBe(true);
    expect(built()).toBeGreaterThanOrEqual(3);

    // Taking a circuit hands out a ready one and refills behind it.
    const before = built();
    const taken = await net.until(client.manager.take());
    expect(taken.isOpen).toBe(true);
    await net.idle();
    expect(client.manager.ready).toBe(2);
    expect(built()).toBe(before + 1);

    client.manager.stop();
    await net.idle();
    expect(client.manager.ready).toBe(0);
    expect(client.circuits.openCircuits).toEqual([taken]);
  });

  it('retries a failed refill later, once the network is back', async () => {
    const net = new MemNet();
    const nodes = net.addNodes(3);
    const client = net.addClient({ manager: { poolSize: 1, hops: 3, maxAttempts: 1, nodes: () => nodes.map((n) => n.target) } });
    nodes[1]!.down = true;
    client.manager.start();
    await net.idle();
    expect(client.manager.ready).toBe(0);
    expect(client.managerEvents.filter((e) => e.type === 'failed').length).toBeGreaterThan(0);
    nodes[1]!.down = false;
    await net.advance(1000);
    expect(client.manager.ready).toBe(1);
    client.manager.stop();
  });
});

describe('build retries', () => {
  it('avoids the node that failed and still finds a path among the rest', async () => {
    const net = new MemNet();
    const nodes = net.addNodes(5);
    const dead = [nodes[1]!, nodes[3]!];
    for (const d of dead) d.down = true; // still listed in the directory, but unreachable
    const client = net.addClient({ manager: { hops: 3, maxAttempts: 3, nodes: () => nodes.map((n) => n.target) } });
    for (let round = 0; round < 6; round++) {
      const attemptsBefore = net.connectAttempts.length;
      const circuit = await net.until(client.manager.build());
      expect(circuit.isOpen).toBe(true);
      expect(circuit.path.map(toHex).some((x) => dead.some((d) => d.hex === x))).toBe(false);
      // Within one build, each dead node was tried at most once.
      const tries = net.connectAttempts.slice(attemptsBefore);
      for (const d of dead) expect(tries.filter((t) => t.to === d.name).length).toBeLessThanOrEqual(1);
      circuit.destroy();
    }
    await net.idle();
    expect(net.relayCircuits()).toEqual([0, 0, 0, 0, 0]);
  });

  it('gives up after maxAttempts with the last failure', async () => {
    const net = new MemNet();
    const nodes = net.addNodes(4);
    for (const n of nodes) n.down = true;
    const client = net.addClient({ manager: { hops: 1, maxAttempts: 3, nodes: () => nodes.map((n) => n.target) } });
    await expect(net.until(client.manager.build())).rejects.toThrow(/cannot connect/);
    expect(client.managerEvents.filter((e) => e.type === 'failed')).toHaveLength(3);
    expect(new Set(net.connectAttempts.map((t) => t.to)).size).toBe(3); // three different nodes
  });
});
