/**
 * The landing node's distribution tree (node-core/stream/fanout.ts, FanoutTree): capacity,
 * stacking distribution nodes as fan-out grows, least-loaded placement, re-homing the viewers
 * and children of a failed node, releasing idle nodes, and the invariants under random use.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FanoutTree, type TreeAction } from '../../node-core/stream';

function place(tree: FanoutTree, ...viewers: string[]): TreeAction[] {
  const out: TreeAction[] = [];
  for (const v of viewers) {
    const r = tree.placeViewer(v);
    if (r === null) throw new Error(`no place for ${v}`);
    out.push(...r.actions);
  }
  return out;
}

const vs = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** Checks the tree's invariants: capacity, depth, parent links, every viewer in one place. */
function checkInvariants(tree: FanoutTree, viewers: Set<string>): void {
  const snap = tree.snapshot();
  let counted = 0;
  for (const n of snap) {
    expect(n.viewers + n.children.length).toBeLessThanOrEqual(n.capacity);
    expect(n.depth).toBeLessThanOrEqual(tree.maxDepth);
    for (const c of n.children) {
      const child = tree.info(c)!;
      expect(child.parent).toBe(n.id);
      expect(child.depth).toBe(n.depth + 1);
    }
    counted += n.viewers;
  }
  expect(counted).toBe(tree.viewerCount);
  expect(tree.viewerCount).toBe(viewers.size);
  for (const v of viewers) expect(tree.nodeOf(v)).not.toBeNull();
}

describe('placement', () => {
  it('serves viewers at the landing node up to its capacity, then reports full', () => {
    const tree = new FanoutTree({ root: 'L', rootCapacity: 3 });
    expect(place(tree, 'a', 'b', 'c')).toEqual([
      { type: 'assign', viewer: 'a', node: 'L' },
      { type: 'assign', viewer: 'b', node: 'L' },
      { type: 'assign', viewer: 'c', node: 'L' },
    ]);
    expect(tree.placeViewer('d')).toBeNull();
    expect(tree.viewerCount).toBe(3);
    expect(tree.spareViewerSlots).toBe(0);
  });

  it('stacks a distribution node when the landing node fills, keeping its last slot for it', () => {
    const tree = new FanoutTree({ root: 'L', rootCapacity: 3 });
    tree.offerNode('D1', 4);
    const actions = place(tree, 'a', 'b', 'c');
    // a, b at L; the third would take L's last slot, so D1 is attached there and takes c.
    expect(actions).toEqual([
      { type: 'assign', viewer: 'a', node: 'L' },
      { type: 'assign', viewer: 'b', node: 'L' },
      { type: 'attach', node: 'D1', parent: 'L' },
      { type: 'assign', viewer: 'c', node: 'D1' },
    ]);
    expect(tree.info('L')).toMatchObject({ viewers: 2, children: ['D1'] });
    expect(tree.info('D1')).toMatchObject({ parent: 'L', depth: 1, viewers: 1 });
    expect(tree.poolSize).toBe(0);
    // With the pool empty, D1 fills to capacity.
    place(tree, 'd', 'e', 'f');
    expect(tree.info('D1')!.viewers).toBe(4);
    expect(tree.placeViewer('g')).toBeNull();
  });

  it('puts a new viewer at the least-loaded node with room', () => {
    const tree = new FanoutTree({ root: 'L', rootCapacity: 2 });
    tree.offerNode('A', 10);
    tree.offerNode('B', 10);
    place(tree, 'v0'); // L: v0 (its last slot is kept)
    place(tree, 'v1'); // attaches A (largest capacity first, then offer order) under L
    expect(tree.info('L')!.children).toEqual(['A']);
    place(tree, ...vs('x', 8)); // A: 9 of 10, its last slot kept for B
    expect(tree.info('A')!.viewers).toBe(9);
    const r = tree.placeViewer('y')!;
    expect(r.actions[0]).toEqual({ type: 'attach', node: 'B', parent: 'A' });
    expect(r.node).toBe('B');
    // B (1 of 10) is now less loaded than A (10 of 10): the next viewers go to B.
    expect(tree.placeViewer('z')!.node).toBe('B');
  });

  it('prefers the larger offered node, and attaches under the shallowest node with a slot', () => {
    const tree = new FanoutTree({ root: 'L', rootCapacity: 3 });
    tree.offerNode('small', 2);
    tree.offerNode('big', 50);
    place(tree, 'a', 'b', 'c');
    expect(tree.info('big')).toMatchObject({ parent: 'L', depth: 1 });
    place(tree, 'd');
    // L has one slot left (kept), big has plenty: d goes to big, not a new node.
    expect(tree.nodeOf('d')).toBe('big');
    expect(tree.poolSize).toBe(1);
  });

  it('respects the depth limit', () => {
    const tree = new FanoutTree({ root: 'L', rootCapacity: 1, maxDepth: 1 });
    tree.offerNode('D1', 1);
    tree.offerNode('D2', 5);
    const r = tree.placeViewer('a')!;
    expect(r.actions).toEqual([
      { type: 'attach', node: 'D2', parent: 'L' },
      { type: 'assign', viewer: 'a', node: 'D2' },
    ]);
    place(tree, ...vs('b', 4));
    // D2 is at the depth limit: it keeps no slot for a child, and D1 cannot go below it.
    expect(tree.info('D2')!.viewers).toBe(5);
    expect(tree.placeViewer('over')).toBeNull();
    expect(tree.poolSize).toBe(1);
  });

  it('checks its parameters', () => {
    expect(() => new FanoutTree({ root: '', rootCapacity: 1 })).toThrow(RangeError);
    expect(() => new FanoutTree({ root: 'L', rootCapacity: 0 })).toThrow(RangeError);
    expect(() => new FanoutTree({ root: 'L', rootCapacity: 1, maxDepth: 17 })).toThrow(RangeError);
    const tree = new FanoutTree({ root: 'L', rootCapacity: 2 });
    tree.offerNode('D', 2);
    expect(() => tree.offerNode('D', 2)).toThrow(RangeError);
    expect(() => tree.offerNode('L', 2)).toThrow(RangeError);
    expect(() => tree.offerNode('E', 0)).toThrow(RangeError);
    place(tree, 'a');
    expect(() => tree.placeViewer('a')).toThrow(RangeError);
    expect(() => tree.nodeFailed('L')).toThrow(RangeError);
    expect(() => tree.nodeFailed('nobody')).toThrow(RangeError);
    expect(() => tree.placeViewer(5 as never)).toThrow(TypeError);
  });
});

describe('leaving and releasing', () => {
  it('a viewer leaving frees its slot; idle distribution nodes return to the pool, deepest first', () => {
    const tree = new FanoutTree({ root: 'L', rootCapacity: 2 });
    tree.offerNode('A', 2);
    tree.offerNode('B', 3);
    place(tree, 'a', 'b', 'c', 'd');
    // L: a + B; B: b, c + A; A: d
    expect(tree.snapshot().map((n) => [n.id, n.parent, n.viewers])).toEqual([
      ['L', null, 1],
      ['B', 'L', 2],
      ['A', 'B', 1],
    ]);
    expect(tree.removeViewer('d')).toBe('A');
    expect(tree.removeViewer('d')).toBeNull();
    expect(tree.releaseIdle()).toEqual([{ type: 'detach', node: 'A' }]);
    tree.removeViewer('b');
    tree.removeViewer('c');
    expect(tree.releaseIdle()).toEqual([{ type: 'detach', node: 'B' }]);
    expect(tree.attachedCount).toBe(0);
    expect(tree.poolSize).toBe(2);
    expect(tree.releaseIdle()).toEqual([]);
  });
});

describe('re-homing after a failure', () => {
  it("a failed leaf's viewers go to the least-loaded nodes with room", () => {
    const tree = new FanoutTree({ root: 'L', rootCapacity: 10 });
    tree.offerNode('A', 5);
    place(tree, ...vs('r', 9)); // L: 9 viewers, its last slot kept
    place(tree, ...vs('a', 3)); // A attached under L, takes 3
    expect(tree.info('A')!.viewers).toBe(3);
    tree.offerNode('B', 20);
    const { actions, unplaced } = tree.nodeFailed('A');
    expect(unplaced).toEqual([]);
    // L has one slot and the pool has B: B is attached there and takes all three.
    expect(actions).toEqual([
      { type: 'attach', node: 'B', parent: 'L' },
      { type: 'assign', viewer: 'a0', node: 'B' },
      { type: 'assign', viewer: 'a1', node: 'B' },
      { type: 'assign', viewer: 'a2', node: 'B' },
    ]);
    expect(tree.info('A')).toBeNull();
    expect(tree.poolSize).toBe(0);
    checkInvariants(tree, new Set([...vs('r', 9), ...vs('a', 3)]));
  });

  it("a failed node's child moves with its subtree under another node", () => {
    const tree = new FanoutTree({ root: 'L', rootCapacity: 3, maxDepth: 3 });
    tree.offerNode('A', 3);
    tree.offerNode('B', 2);
    tree.offerNode('C', 2);
    place(tree, ...vs('v', 6));
    // L: v0, v1 + A; A: v2, v3 + B; B: v4 + C; C: v5
    expect(tree.snapshot().map((n) => `${n.id}<${n.parent ?? '-'}:${n.viewers}`)).toEqual(['L<-:2', 'A<L:2', 'B<A:1', 'C<B:1']);
    tree.removeViewer('v1'); // a free slot at L
    const { actions, unplaced } = tree.nodeFailed('A');
    // B (with C below it) takes L's free slot; then A's viewers go to the least loaded:
    // C (1 of 2) before L (2 of 3), then L, the only node left with room.
    expect(actions).toEqual([
      { type: 'attach', node: 'B', parent: 'L' },
      { type: 'assign', viewer: 'v2', node: 'C' },
      { type: 'assign', viewer: 'v3', node: 'L' },
    ]);
    expect(unplaced).toEqual([]);
    expect(tree.info('B')).toMatchObject({ parent: 'L', depth: 1 });
    expect(tree.info('C')).toMatchObject({ parent: 'B', depth: 2 });
    checkInvariants(tree, new Set(['v0', 'v2', 'v3', 'v4', 'v5']));
  });

  it('viewers that find no room are reported as unplaced', () => {
    const tree = new FanoutTree({ root: 'L', rootCapacity: 2 });
    tree.offerNode('A', 3);
    tree.offerNode('B', 2);
    place(tree, 'a', 'b', 'c', 'd');
    // L: a + A; A: b, c + B; B: d
    const { actions, unplaced } = tree.nodeFailed('A');
    // L's only free slot takes B back as a child... with its subtree (just B and d).
    expect(actions[0]).toEqual({ type: 'attach', node: 'B', parent: 'L' });
    // b and c must go somewhere: B has one slot left.
    expect(actions.slice(1)).toEqual([{ type: 'assign', viewer: 'b', node: 'B' }]);
    expect(unplaced).toEqual(['c']);
    checkInvariants(tree, new Set(['a', 'b', 'd']));
  });

  it('a child that fits nowhere is detached to the pool and its viewers placed again', () => {
    const tree = new FanoutTree({ root: 'L', rootCapacity: 1, maxDepth: 2 });
    tree.offerNode('A', 3);
    place(tree, 'a1'); // A attached under L, takes a1
    tree.offerNode('B', 1);
    tree.offerNode('C', 1);
    place(tree, 'x', 'y'); // x at A; y needs A's last slot: B attached under A, takes y
    tree.removeViewer('x');
    place(tree, 'z'); // C attached under A, takes z
    tree.removeViewer('a1');
    expect(tree.snapshot().map((n) => `${n.id}<${n.parent ?? '-'}:${n.viewers}`)).toEqual(['L<-:0', 'A<L:0', 'B<A:1', 'C<A:1']);
    const { actions, unplaced } = tree.nodeFailed('A');
    // B takes the slot A left at L; C fits nowhere (L and B are full): it returns to the pool,
    // and z, placed again, finds no room either.
    expect(actions).toEqual([
      { type: 'attach', node: 'B', parent: 'L' },
      { type: 'detach', node: 'C' },
    ]);
    expect(unplaced).toEqual(['z']);
    expect(tree.poolSize).toBe(1);
    expect(tree.nodeOf('z')).toBeNull();
    checkInvariants(tree, new Set(['y']));
  });

  it('a pooled node failing only leaves the pool', () => {
    const tree = new FanoutTree({ root: 'L', rootCapacity: 2 });
    tree.offerNode('P', 5);
    expect(tree.nodeFailed('P')).toEqual({ actions: [], unplaced: [] });
    expect(tree.poolSize).toBe(0);
  });
});

describe('invariants under random use', () => {
  it('capacity, depth, links and viewer placement hold after any sequence of operations', () => {
    type Op = { op: 'offer'; cap: number } | { op: 'place' } | { op: 'leave'; i: number } | { op: 'fail'; i: number } | { op: 'release' };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('offer' as const), cap: fc.integer({ min: 1, max: 6 }) }),
      fc.constant({ op: 'place' as const }),
      fc.constant({ op: 'place' as const }),
      fc.record({ op: fc.constant('leave' as const), i: fc.nat(50) }),
      fc.record({ op: fc.constant('fail' as const), i: fc.nat(20) }),
      fc.constant({ op: 'release' as const }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 4 }), fc.array(opArb, { maxLength: 60 }), (rootCap, maxDepth, ops) => {
        const tree = new FanoutTree({ root: 'L', rootCapacity: rootCap, maxDepth });
        const viewers = new Set<string>();
        let nodes = 0;
        let vseq = 0;
        for (const o of ops) {
          if (o.op === 'offer') tree.offerNode(`N${nodes++}`, o.cap);
          else if (o.op === 'place') {
            const v = `v${vseq++}`;
            const r = tree.placeViewer(v);
            if (r !== null) {
              viewers.add(v);
              expect(r.actions.at(-1)).toEqual({ type: 'assign', viewer: v, node: r.node });
            }
          } else if (o.op === 'leave') {
            const v = [...viewers][o.i % Math.max(1, viewers.size)];
            if (v !== undefined) {
              expect(tree.removeViewer(v)).not.toBeNull();
              viewers.delete(v);
            }
          } else if (o.op === 'fail') {
            const attached = tree.snapshot().filter((n) => n.id !== 'L');
            const n = attached[o.i % Math.max(1, attached.length)];
            if (n !== undefined) {
              const { actions, unplaced } = tree.nodeFailed(n.id);
              for (const u of unplaced) viewers.delete(u);
              for (const a of actions) if (a.type === 'assign') expect(tree.nodeOf(a.viewer)).toBe(a.node);
              expect(tree.info(n.id)).toBeNull();
            }
          } else {
            tree.releaseIdle();
          }
          checkInvariants(tree, viewers);
        }
      }),
      { numRuns: 200 },
    );
  });
});
