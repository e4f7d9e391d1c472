/**
 * Lookups over disjoint paths: on small hand-made networks (disjointness, timeouts, misbehaving
 * answers, the negative record corpus at lookup time) and on a 200-node simulation with and
 * without adversaries (test/dht/sim.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  type Contact,
  type DhtRpc,
  type LookupContext,
  type StoreResult,
  compareDistance,
  deriveRecordKey,
  lookupNode,
  lookupValue,
  publishRecord,
  signRecord,
} from '../../node-core/dht';
import { toHex, utf8 } from '../../node-core/util/bytes';
import { ALICE, NODE, POLICY, badRecords } from './corpus';
import { HOUR, NOW, puzzleKeyPair, signedRecord, suite } from './helpers';
import { DhtSim, SimClock, settle } from './sim';

const C1 = 2;

// ---- a hand-made network ------------------------------------------------------------------------

interface Peer {
  readonly contact: Contact;
  /** What the peer answers; null = it never answers. */
  answer: (target: Uint8Array, kind: 'node' | 'value') => { contacts: Contact[]; records?: Uint8Array[] } | null;
}

function makePeers(n: number, tag: string): Peer[] {
  return Array.from({ length: n }, (_, i) => {
    const k = puzzleKeyPair(`${tag}-${i}`, C1);
    return { contact: { nodeId: k.nodeId, identityKey: k.publicKey, addresses: [{ host: `10.${i}.0.1`, port: 9000 }] }, answer: () => ({ contacts: [] }) };
  });
}

/** Every peer answers with the `k` peers closest to the target that it knows (here: all). */
function omniscient(peers: Peer[], k: number): void {
  for (const p of peers) {
    p.answer = (target) => ({
      contacts: peers
        .map((q) => q.contact)
        .filter((c) => c !== p.contact)
        .sort((a, b) => compareDistance(target, a.nodeId, b.nodeId))
        .slice(0, k),
    });
  }
}

function fakeRpc(clock: SimClock, peers: Peer[], log: string[]): DhtRpc {
  const byId = new Map(peers.map((p) => [toHex(p.contact.nodeId), p]));
  const ask = (peer: Contact, target: Uint8Array, kind: 'node' | 'value') =>
    new Promise<{ contacts: Contact[]; records?: Uint8Array[] }>((resolve) => {
      log.push(toHex(peer.nodeId));
      const a = byId.get(toHex(peer.nodeId))?.answer(target, kind) ?? null;
      if (a !== null) clock.setTimeout(() => resolve(a), 10);
    });
  return {
    findNode: (peer, target) => ask(peer, target, 'node').then((a) => a.contacts),
    findValue: (peer, key) => ask(peer, key, 'value'),
    store: async (): Promise<StoreResult> => ({ ok: true, status: 'stored' }),
    ping: async () => true,
  };
}

function context(clock: SimClock, peers: Peer[], seeds: Contact[], log: string[], params = {}, extra: Partial<LookupContext> = {}): LookupContext {
  return { suite, rpc: fakeRpc(clock, peers, log), scheduler: clock, puzzleBits: C1, seeds, params: { k: 8, requestTimeoutMs: 1000, ...params }, ...extra };
}

describe('lookups on a hand-made network', () => {
  it('queries each node at most once over d paths, and finds the true k closest', async () => {
    const clock = new SimClock(NOW);
    const peers = makePeers(60, 'disjoint');
    omniscient(peers, 8);
    for (const d of [1, 2, 4, 8]) {
      const log: string[] = [];
      const target = suite.sha256(utf8(`target ${d}`));
      const far = [...peers].sort((a, b) => -compareDistance(target, a.contact.nodeId, b.contact.nodeId)).slice(0, 8).map((p) => p.contact);
      const r = await settle(clock, lookupNode(context(clock, peers, far, log, { d }), target));
      expect(new Set(log).size).toBe(log.length);
      expect(r.messages).toBe(log.length);
      const truth = [...peers].sort((a, b) => compareDistance(target, a.contact.nodeId, b.contact.nodeId)).slice(0, 8);
      expect(r.closest.map((c) => toHex(c.nodeId))).toEqual(truth.map((p) => toHex(p.contact.nodeId)));
      expect(r.hops).toBeGreaterThan(1);
    }
  });

  it('a silent node costs one timeout and is reported; the lookup still ends', async () => {
    const clock = new SimClock(NOW);
    const peers = makePeers(30, 'silent');
    omniscient(peers, 8);
    const target = suite.sha256(utf8('silent target'));
    const sorted = [...peers].sort((a, b) => compareDistance(target, a.contact.nodeId, b.contact.nodeId));
    sorted[0]!.answer = () => null;
    sorted[1]!.answer = () => null;
    const failures: string[] = [];
    const log: string[] = [];
    const start = clock.now();
    const r = await settle(
      clock,
      lookupNode(context(clock, peers, sorted.slice(10, 18).map((p) => p.contact), log, { d: 2 }, { onFailure: (p, why) => failures.push(`${toHex(p.nodeId)}:${why}`) }), target),
    );
    expect(r.failed).toBe(2);
    expect(failures.sort()).toEqual([sorted[0]!, sorted[1]!].map((p) => `${toHex(p.contact.nodeId)}:timeout`).sort());
    expect(r.closest.map((c) => toHex(c.nodeId))).not.toContain(toHex(sorted[0]!.contact.nodeId));
    expect(clock.now() - start).toBeGreaterThanOrEqual(1000); // it waited for the timeout, on the fake clock
  });

  it('an answer naming a contact that fails the puzzle is discarded whole and reported', async () => {
    const clock = new SimClock(NOW);
    const peers = makePeers(20, 'puzzle');
    const liar = peers[0]!;
    const bogus: Contact = { nodeId: suite.sha256(utf8('not a hash of the key')), identityKey: peers[1]!.contact.identityKey, addresses: [{ host: '10.99.0.1', port: 1 }] };
    liar.answer = () => ({ contacts: [peers[2]!.contact, bogus] });
    const reasons: string[] = [];
    const log: string[] = [];
    const r = await settle(
      clock,
      lookupNode(context(clock, peers, [liar.contact], log, { d: 1 }, { onMisbehaviour: (_, why) => reasons.push(why) }), suite.sha256(utf8('t'))),
    );
    expect(reasons).toEqual(['bad-contact']);
    expect(r.misbehaved).toBe(1);
    expect(log).toEqual([toHex(liar.contact.nodeId)]); // peers[2] was not used either
    expect(r.closest).toEqual([]);
  });

  it('refuses bad arguments with TypeError/RangeError', async () => {
    const clock = new SimClock(NOW);
    const ctx = context(clock, [], [], []);
    await expect(lookupNode(ctx, new Uint8Array(31))).rejects.toThrow(RangeError);
    await expect(lookupNode({ ...ctx, params: { d: 0 } }, new Uint8Array(32))).rejects.toThrow(/params.d/);
    await expect(lookupNode({ ...ctx, seeds: [{} as Contact] }, new Uint8Array(32))).rejects.toThrow(TypeError);
    await expect(publishRecord(ctx, new Uint8Array(5))).rejects.toThrow(RangeError);
  });
});

describe('invalid records are rejected at lookup time', () => {
  const key = deriveRecordKey(suite, 'test', ALICE.publicKey);
  const good = signedRecord(ALICE, NODE, { sequence: 1n });

  /** Peer 0 answers with `bad`, peer 1 with the good record; both are seeds of one path. */
  async function lookupWith(bad: Uint8Array, lookupKey = key) {
    const clock = new SimClock(NOW);
    const peers = makePeers(2, 'records');
    peers[0]!.answer = () => ({ contacts: [], records: [bad] });
    peers[1]!.answer = () => ({ contacts: [], records: [good] });
    return settle(clock, lookupValue(context(clock, peers, peers.map((p) => p.contact), [], { d: 1, alpha: 2 }), lookupKey, POLICY));
  }

  for (const bad of badRecords()) {
    it(`${bad.name}: rejected as ${bad.code}; the good record wins`, async () => {
      const r = await lookupWith(bad.bytes, bad.code === 'wrong-key' ? (bad.bytes.slice(1, 33) as Uint8Array) : key);
      if (bad.code === 'wrong-key') {
        // Looked up under the squatted key: the squatter's record is refused, Alice's is for another key.
        expect(r.rejectedRecords.map((x) => x.code)).toEqual(['wrong-key', 'wrong-key']);
        expect(r.record).toBeNull();
      } else {
        expect(r.rejectedRecords.map((x) => x.code)).toEqual([bad.code]);
        expect(r.invalidRecords).toBe(1);
        expect(toHex(r.record!.bytes)).toBe(toHex(good));
      }
    });
  }

  it('a replayed older version loses to the newest one', async () => {
    const v2 = signedRecord(ALICE, NODE, { sequence: 2n });
    const clock = new SimClock(NOW);
    const peers = makePeers(2, 'replay');
    peers[0]!.answer = () => ({ contacts: [], records: [good] });
    peers[1]!.answer = () => ({ contacts: [], records: [v2] });
    const r = await settle(clock, lookupValue(context(clock, peers, peers.map((p) => p.contact), [], { d: 2 }), key, POLICY));
    expect(r.record!.sequence).toBe(2n);
    expect(r.records.map((x) => x.sequence)).toEqual([2n, 1n]);
  });
});

// ---- the 200-node simulation --------------------------------------------------------------------

interface Published {
  readonly key: Uint8Array;
  readonly latest: Uint8Array;
}

/** Publishes `n` records (versions 1 then 2) from random honest nodes; returns the newest versions. */
async function publishAll(sim: DhtSim, n: number): Promise<Published[]> {
  const owners = Array.from({ length: n }, () => {
    const secretKey = sim.prng.bytes(32);
    const owner = sim.suite.ed25519PublicKey(secretKey);
    return { secretKey, owner, key: deriveRecordKey(sim.suite, 'sim', owner), publisher: sim.randomHonest() };
  });
  let latest: Uint8Array[] = [];
  for (const sequence of [1n, 2n]) {
    latest = owners.map((o) =>
      signRecord(sim.suite, { key: o.key, owner: o.owner, sequence, expiresAt: sim.clock.now() + HOUR, value: sim.prng.bytes(48) }, o.secretKey),
    );
    const outcomes = await sim.run(Promise.all(owners.map((o, i) => o.publisher.dht.publish(latest[i]!))));
    for (const out of outcomes) expect(out.ok).toBe(true);
  }
  return owners.map((o, i) => ({ key: o.key, latest: latest[i]! }));
}

async function successRate(sim: DhtSim, records: Published[], lookups: number, d: number, seed: number): Promise<number> {
  const pick = new (await import('../fuzz/prng')).Prng(seed);
  const jobs = Array.from({ length: lookups }, (_, i) => ({ from: sim.honest[pick.below(sim.honest.length)]!, rec: records[i % records.length]! }));
  const results = await sim.run(Promise.all(jobs.map((j) => sim.lookupValue(j.from, j.rec.key, { d }))));
  let ok = 0;
  results.forEach((r, i) => {
    if (r.record !== null && toHex(r.record.ownerSigned) === toHex(jobs[i]!.rec.latest)) ok++;
  });
  return ok / lookups;
}

describe('200-node simulation', () => {
  it('without adversaries: records land on the k closest nodes and every lookup finds the newest version', async () => {
    const sim = new DhtSim({ nodes: 200, seed: 11 });
    const records = await publishAll(sim, 10);
    for (const r of records) {
      const truth = new Set(sim.trueClosest(r.key).map((n) => toHex(n.contact.nodeId)));
      const holders = sim.holders(r.key).map((n) => toHex(n.contact.nodeId));
      // The publisher keeps its own copy too; everyone else holding it is among the k closest.
      expect(holders.filter((h) => truth.has(h)).length).toBe(20);
    }
    expect(await successRate(sim, records, 40, 1, 1)).toBe(1);
    expect(await successRate(sim, records, 40, 4, 2)).toBe(1);
  });

  it('with 20 % adversaries (eclipse, drop, bad records): lookups over 4 disjoint paths still succeed', async () => {
    const sim = new DhtSim({ nodes: 200, seed: 12, adversarial: 0.2 });
    expect(sim.adversaries.length).toBe(40);
    const records = await publishAll(sim, 10);
    expect(await successRate(sim, records, 60, 4, 3)).toBeGreaterThanOrEqual(0.95);
  });

  it('under adversaries, d = 4 disjoint paths beat d = 1', async () => {
    // 30 % colluding nodes that lie about contacts and answer with replayed or forged records;
    // smaller buckets (k = 8) make lookups take more hops, which is where they bite.
    const sim = new DhtSim({ nodes: 200, seed: 2, adversarial: 0.3, behaviour: 'bad-records', k: 8 });
    const records = await publishAll(sim, 20);
    const one = await successRate(sim, records, 100, 1, 4);
    const four = await successRate(sim, records, 100, 4, 4);
    expect(four - one).toBeGreaterThanOrEqual(0.1);
    expect(four).toBeGreaterThanOrEqual(0.95);
  });
});
