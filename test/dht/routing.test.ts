/**
 * The routing table: buckets, puzzle refusal, IP-diversity limits, ping-before-evict with a
 * replacement cache, failure counting, closest-node queries and refresh bookkeeping.
 */
import { describe, expect, it } from 'vitest';
import {
  type Contact,
  type NodeAddress,
  RoutingTable,
  bucketIndex,
  compareDistance,
  nodeIdOf,
  satisfiesPuzzle,
  subnetOf,
} from '../../node-core/dht';
import { toHex } from '../../node-core/util/bytes';
import { NOW, puzzleKeyPair, seededSuite, suite } from './helpers';

const C1 = 2;
const SELF = suite.sha256(new TextEncoder().encode('routing-test-self'));

interface Pooled {
  readonly nodeId: Uint8Array;
  readonly identityKey: Uint8Array;
}

const pool: Pooled[] = Array.from({ length: 120 }, (_, i) => {
  const k = puzzleKeyPair(`routing-${i}`, C1);
  return { nodeId: k.nodeId, identityKey: k.publicKey };
});
const inBucket = (b: number): Pooled[] => pool.filter((p) => bucketIndex(SELF, p.nodeId) === b);

function contact(p: Pooled, address: NodeAddress): Contact {
  return { nodeId: p.nodeId, identityKey: p.identityKey, addresses: [address] };
}

let nextNet = 1;
/** A fresh /16 each call. */
function freshAddress(): NodeAddress {
  const n = nextNet++;
  return { host: `${10 + (n >> 8)}.${n & 255}.1.1`, port: 9000 };
}

function table(over: Partial<ConstructorParameters<typeof RoutingTable>[0]> = {}): RoutingTable {
  return new RoutingTable({ suite, selfId: SELF, puzzleBits: C1, now: NOW, ...over });
}

describe('routing table: admission', () => {
  it('puts contacts in the bucket of their common prefix with us, and finds them again', () => {
    const t = table();
    for (const p of pool.slice(0, 30)) expect(t.offer(contact(p, freshAddress()), NOW).kind).toBe('added');
    expect(t.size).toBe(30);
    for (const p of pool.slice(0, 30)) {
      expect(t.bucketContacts(bucketIndex(SELF, p.nodeId)).some((c) => toHex(c.nodeId) === toHex(p.nodeId))).toBe(true);
      expect(t.has(p.nodeId)).toBe(true);
    }
    expect(t.has(pool[40]!.nodeId)).toBe(false);
  });

  it('refuses ourselves, an id that is not the hash of its key, and a key that fails the puzzle', () => {
    const t = table();
    const p = pool[0]!;
    expect(t.offer({ nodeId: SELF, identityKey: p.identityKey, addresses: [freshAddress()] }, NOW)).toEqual({ kind: 'refused', reason: 'self' });
    expect(t.offer({ nodeId: pool[1]!.nodeId, identityKey: p.identityKey, addresses: [freshAddress()] }, NOW)).toEqual({
      kind: 'refused',
      reason: 'bad-node-id',
    });
    const s = seededSuite(3);
    let pk: Uint8Array;
    do pk = s.ed25519PublicKey(s.randomBytes(32));
    while (satisfiesPuzzle(suite, nodeIdOf(suite, pk), 6));
    const strict = table({ puzzleBits: 6 });
    expect(strict.offer({ nodeId: nodeIdOf(suite, pk), identityKey: pk, addresses: [freshAddress()] }, NOW)).toEqual({
      kind: 'refused',
      reason: 'bad-node-id',
    });
    expect(t.size + strict.size).toBe(0);
  });

  it('admits at most maxPerSubnet contacts of one IPv4 /16 per bucket', () => {
    const t = table({ maxPerSubnet: 2 });
    const b0 = inBucket(0);
    const same = (i: number): NodeAddress => ({ host: `192.168.${i}.7`, port: 9000 }); // one /16
    expect(t.offer(contact(b0[0]!, same(1)), NOW).kind).toBe('added');
    expect(t.offer(contact(b0[1]!, same(2)), NOW).kind).toBe('added');
    expect(t.offer(contact(b0[2]!, same(3)), NOW)).toEqual({ kind: 'refused', reason: 'subnet-limit' });
    expect(t.offer(contact(b0[2]!, { host: '192.169.3.7', port: 9000 }), NOW).kind).toBe('added');
    // Another bucket has its own allowance.
    expect(t.offer(contact(inBucket(1)[0]!, same(4)), NOW).kind).toBe('added');
  });

  it('counts IPv6 addresses by /48', () => {
    const t = table({ maxPerSubnet: 1 });
    const b0 = inBucket(0);
    expect(subnetOf({ host: '2001:db8:1:2::1', port: 1 })).toBe(subnetOf({ host: '2001:db8:1:ffff::9', port: 2 }));
    expect(t.offer(contact(b0[0]!, { host: '2001:db8:1:2::1', port: 9000 }), NOW).kind).toBe('added');
    expect(t.offer(contact(b0[1]!, { host: '2001:db8:1:ffff::9', port: 9000 }), NOW)).toEqual({ kind: 'refused', reason: 'subnet-limit' });
    expect(t.offer(contact(b0[1]!, { host: '2001:db8:2::9', port: 9000 }), NOW).kind).toBe('added');
  });

  it('caps one subnet across the whole table', () => {
    const t = table({ maxPerSubnet: 2, maxPerSubnetTotal: 3 });
    const addr = (i: number): NodeAddress => ({ host: `172.20.${i}.1`, port: 9000 });
    const picks = [inBucket(0)[0]!, inBucket(0)[1]!, inBucket(1)[0]!, inBucket(1)[1]!];
    expect(picks.slice(0, 3).map((p, i) => t.offer(contact(p, addr(i)), NOW).kind)).toEqual(['added', 'added', 'added']);
    expect(t.offer(contact(picks[3]!, addr(3)), NOW)).toEqual({ kind: 'refused', reason: 'subnet-total-limit' });
    // Removing one frees a place.
    expect(t.remove(picks[0]!.nodeId)).toBe(true);
    expect(t.offer(contact(picks[3]!, addr(3)), NOW).kind).toBe('added');
  });
});

describe('routing table: least recently seen and ping before evict', () => {
  it('a re-offered contact moves to the most recently seen end', () => {
    const t = table({ k: 4 });
    const b0 = inBucket(0).slice(0, 3);
    for (const p of b0) t.offer(contact(p, freshAddress()), NOW);
    expect(t.offer(contact(b0[0]!, freshAddress()), NOW + 1).kind).toBe('updated');
    expect(t.bucketContacts(0).map((c) => toHex(c.nodeId))).toEqual([b0[1]!, b0[2]!, b0[0]!].map((p) => toHex(p.nodeId)));
  });

  it('a full bucket asks for a ping of its oldest entry; an answer keeps it, silence evicts it for the freshest replacement', () => {
    const t = table({ k: 4 });
    const b0 = inBucket(0);
    for (const p of b0.slice(0, 4)) expect(t.offer(contact(p, freshAddress()), NOW).kind).toBe('added');
    const first = t.offer(contact(b0[4]!, freshAddress()), NOW + 10);
    expect(first.kind).toBe('ping');
    expect(first.kind === 'ping' && toHex(first.contact.nodeId)).toBe(toHex(b0[0]!.nodeId));
    expect(t.offer(contact(b0[5]!, freshAddress()), NOW + 11).kind).toBe('pending');
    expect(t.bucketReplacements(0).map((c) => toHex(c.nodeId))).toEqual([b0[4]!, b0[5]!].map((p) => toHex(p.nodeId)));

    // The oldest answers: it stays, now as the most recently seen; the newcomers wait.
    expect(t.pingResult(b0[0]!.nodeId, true, NOW + 20)).toEqual({ kind: 'kept' });
    expect(t.bucketContacts(0).map((c) => toHex(c.nodeId))).toEqual([b0[1]!, b0[2]!, b0[3]!, b0[0]!].map((p) => toHex(p.nodeId)));
    expect(t.has(b0[4]!.nodeId)).toBe(false);

    // Next offer pings the new oldest (b0[1]); it stays silent and is replaced by the freshest replacement.
    const second = t.offer(contact(b0[6]!, freshAddress()), NOW + 30);
    expect(second.kind === 'ping' && toHex(second.contact.nodeId)).toBe(toHex(b0[1]!.nodeId));
    const out = t.pingResult(b0[1]!.nodeId, false, NOW + 40);
    expect(out.kind).toBe('evicted');
    expect(out.kind === 'evicted' && out.replacedBy && toHex(out.replacedBy.nodeId)).toBe(toHex(b0[6]!.nodeId));
    expect(t.has(b0[1]!.nodeId)).toBe(false);
    expect(t.has(b0[6]!.nodeId)).toBe(true);
    expect(t.size).toBe(4);
    expect(t.pingResult(b0[1]!.nodeId, true, NOW + 50)).toEqual({ kind: 'unknown' });
  });

  it('a ping whose result never comes back stops blocking the bucket after pingTimeoutMs', () => {
    const t = table({ k: 2, pingTimeoutMs: 1000 });
    const b0 = inBucket(0);
    t.offer(contact(b0[0]!, freshAddress()), NOW);
    t.offer(contact(b0[1]!, freshAddress()), NOW);
    expect(t.offer(contact(b0[2]!, freshAddress()), NOW).kind).toBe('ping');
    expect(t.offer(contact(b0[3]!, freshAddress()), NOW + 999).kind).toBe('pending');
    const again = t.offer(contact(b0[3]!, freshAddress()), NOW + 1000);
    expect(again.kind === 'ping' && toHex(again.contact.nodeId)).toBe(toHex(b0[0]!.nodeId));
  });

  it('a promoted replacement must fit the diversity limits', () => {
    const t = table({ k: 2, maxPerSubnet: 1 });
    const b0 = inBucket(0);
    t.offer(contact(b0[0]!, { host: '10.50.0.1', port: 1 }), NOW);
    t.offer(contact(b0[1]!, { host: '10.51.0.1', port: 1 }), NOW);
    // A replacement from the /16 of b0[1] waits; when b0[0] goes, it still cannot enter beside b0[1].
    expect(t.offer(contact(b0[2]!, { host: '10.52.0.1', port: 1 }), NOW).kind).toBe('ping');
    expect(t.offer(contact(b0[3]!, { host: '10.51.9.9', port: 1 }), NOW)).toEqual({ kind: 'refused', reason: 'subnet-limit' });
    const out = t.pingResult(b0[0]!.nodeId, false, NOW);
    expect(out.kind === 'evicted' && out.replacedBy && toHex(out.replacedBy.nodeId)).toBe(toHex(b0[2]!.nodeId));
  });

  it('drops a contact after maxFailures consecutive failures and promotes a replacement', () => {
    const t = table({ k: 2, maxFailures: 3 });
    const b0 = inBucket(0);
    t.offer(contact(b0[0]!, freshAddress()), NOW);
    t.offer(contact(b0[1]!, freshAddress()), NOW);
    t.offer(contact(b0[2]!, freshAddress()), NOW); // waits as a replacement
    expect(t.failed(b0[1]!.nodeId)).toBe(false);
    expect(t.failed(b0[1]!.nodeId)).toBe(false);
    // An answer in between resets the count.
    t.offer(contact(b0[1]!, freshAddress()), NOW + 1);
    expect(t.failed(b0[1]!.nodeId)).toBe(false);
    expect(t.failed(b0[1]!.nodeId)).toBe(false);
    expect(t.failed(b0[1]!.nodeId)).toBe(true);
    expect(t.has(b0[1]!.nodeId)).toBe(false);
    expect(t.has(b0[2]!.nodeId)).toBe(true);
  });
});

describe('routing table: queries and refresh', () => {
  it('closest() returns the n closest contacts in distance order (brute force agrees)', () => {
    const t = table();
    for (const p of pool) t.offer(contact(p, freshAddress()), NOW);
    const held = t.contacts();
    for (let i = 0; i < 10; i++) {
      const target = suite.sha256(Uint8Array.of(i));
      const expected = [...held].sort((a, b) => compareDistance(target, a.nodeId, b.nodeId)).slice(0, 7);
      expect(t.closest(target, 7).map((c) => toHex(c.nodeId))).toEqual(expected.map((c) => toHex(c.nodeId)));
    }
    const skip = held[0]!;
    expect(t.closest(skip.nodeId, 5, (c) => toHex(c.nodeId) === toHex(skip.nodeId)).some((c) => toHex(c.nodeId) === toHex(skip.nodeId))).toBe(false);
  });

  it('buckets untouched for the refresh interval report themselves as due', () => {
    const t = table({ refreshIntervalMs: 1000 });
    for (const p of pool.slice(0, 40)) t.offer(contact(p, freshAddress()), NOW);
    expect(t.dueForRefresh(NOW + 999)).toEqual([]);
    const due = t.dueForRefresh(NOW + 1000);
    expect(due.length).toBeGreaterThan(1);
    expect(due[0]).toBe(0);
    // A lookup into bucket 0 and an explicit refresh of bucket 1 clear those two.
    const target = t.refreshTarget(0);
    expect(bucketIndex(SELF, target)).toBe(0);
    t.markLookup(target, NOW + 1000);
    t.markRefreshed(1, NOW + 1000);
    const after = t.dueForRefresh(NOW + 1000);
    expect(after).not.toContain(0);
    expect(after).not.toContain(1);
    expect(after.length).toBe(due.length - 2);
  });

  it('refuses bad options and arguments with errors naming them', () => {
    expect(() => table({ k: 0 })).toThrow(/options.k/);
    expect(() => table({ maxPerSubnet: 1.5 })).toThrow(/options.maxPerSubnet/);
    expect(() => new RoutingTable({ suite, selfId: new Uint8Array(3), puzzleBits: 1, now: NOW })).toThrow(/options.selfId/);
    const t = table();
    expect(() => t.offer({ nodeId: pool[0]!.nodeId, identityKey: pool[0]!.identityKey, addresses: [] }, NOW)).toThrow(/addresses/);
    expect(() => t.offer({ nodeId: pool[0]!.nodeId, identityKey: pool[0]!.identityKey, addresses: [{ host: '224.0.0.1', port: 1 }] }, NOW)).toThrow(
      /multicast/,
    );
    expect(() => t.closest(new Uint8Array(32), -1)).toThrow(RangeError);
    expect(t.size).toBe(0);
  });
});
