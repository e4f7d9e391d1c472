/**
 * `npm run bench -- dht [--nodes N] [--lookups L] [--records R] [--fractions 0,0.1,0.2,0.3]
 * [--paths 1,4] [--puzzle-bits C] [--seed S]`: S/Kademlia lookups over disjoint paths in a
 * simulated network (test/dht/sim.ts) with colluding adversaries.
 *
 * For each adversarial fraction a fresh network of N nodes (default 1,000, each with a
 * puzzle-valid id and its own /16, converged routing tables with k = 20) is built; a third of the
 * adversaries drop every request, a third answer with the adversarial nodes closest to the target
 * (eclipse), a third do that and also answer FIND_VALUE with replayed, forged or expired records.
 * R owners (default 100) publish a record through a random honest node, then a second version
 * (so adversaries that stored the first can replay it). Then, for each number of disjoint paths d,
 * L lookups (default 300) start at random honest nodes for those records — the same (node, record)
 * pairs for every d — with alpha = 3 and a 5 s request timeout on the simulated clock.
 *
 * One line per (adversarial, d) and metric, e.g.
 *   {"bench":"dht","metric":"lookup_success","value":0.98,"unit":"fraction","nodes":1000,"adversarial":0.2,"d":4}
 * - lookup_success: fraction of lookups whose result was the newest version of the record;
 * - hops_median, hops_mean: hop distance of the node that supplied the chosen record, over the
 *   successful lookups (a seed from the initiator's own table is hop 1);
 * - messages_per_lookup: mean requests sent per lookup (each request expects one answer).
 * Progress and timings go to stderr. Nothing here measures wall-clock speed.
 */
import { performance } from 'node:perf_hooks';
import { deriveRecordKey, signRecord } from '../../node-core/dht';
import { toHex } from '../../node-core/util/bytes';
import { DhtSim, simKeys } from '../dht/sim';
import { Prng } from '../fuzz/prng';
import { emit, quantile, round } from './emit';

interface Options {
  nodes: number;
  lookups: number;
  records: number;
  fractions: number[];
  paths: number[];
  puzzleBits: number;
  seed: number;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i === -1) return undefined;
  const v = args[i + 1];
  if (v === undefined) throw new RangeError(`--${name} needs a value`);
  return v;
}

function intOption(args: string[], name: string, def: number, min: number, max: number): number {
  const raw = option(args, name);
  if (raw === undefined) return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`--${name} must be an integer ${min}..${max}`);
  return v;
}

function listOption(args: string[], name: string, def: number[], ok: (v: number) => boolean, what: string): number[] {
  const raw = option(args, name);
  if (raw === undefined) return def;
  const list = raw.split(',').map(Number);
  if (list.length === 0 || !list.every(ok)) throw new RangeError(`--${name} must be a comma-separated list of ${what}`);
  return list;
}

function parseOptions(args: string[]): Options {
  return {
    nodes: intOption(args, 'nodes', 1000, 30, 20_000),
    lookups: intOption(args, 'lookups', 300, 1, 100_000),
    records: intOption(args, 'records', 100, 1, 10_000),
    fractions: listOption(args, 'fractions', [0, 0.1, 0.2, 0.3], (v) => v >= 0 && v < 1, 'fractions in [0, 1)'),
    paths: listOption(args, 'paths', [1, 4], (v) => Number.isInteger(v) && v >= 1 && v <= 16, 'integers 1..16'),
    puzzleBits: intOption(args, 'puzzle-bits', 8, 0, 16),
    seed: intOption(args, 'seed', 1, 0, 0xffffffff),
  };
}

function log(msg: string): void {
  process.stderr.write(`[dht] ${msg}\n`);
}

/** Runs `jobs` through `run`, `batch` at a time (concurrent lookups share the simulated clock). */
async function inBatches<T, R>(jobs: T[], batch: number, run: (chunk: T[]) => Promise<R[]>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < jobs.length; i += batch) out.push(...(await run(jobs.slice(i, i + batch))));
  return out;
}

export async function main(args: string[]): Promise<void> {
  const o = parseOptions(args);
  const t0 = performance.now();
  simKeys(o.nodes, o.puzzleBits, o.seed);
  log(`${o.nodes} puzzle-valid identities (c1 = ${o.puzzleBits}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  for (const fraction of o.fractions) {
    const t1 = performance.now();
    const sim = new DhtSim({ nodes: o.nodes, puzzleBits: o.puzzleBits, seed: o.seed, adversarial: fraction, behaviour: 'mixed' });
    const owners = Array.from({ length: o.records }, () => {
      const secretKey = sim.prng.bytes(32);
      const owner = sim.suite.ed25519PublicKey(secretKey);
      return { secretKey, owner, key: deriveRecordKey(sim.suite, 'sim', owner), publisher: sim.randomHonest() };
    });
    let latest: Uint8Array[] = [];
    let stored = 0;
    for (const sequence of [1n, 2n]) {
      latest = owners.map((w) =>
        signRecord(sim.suite, { key: w.key, owner: w.owner, sequence, expiresAt: sim.clock.now() + 3_600_000, value: sim.prng.bytes(96) }, w.secretKey),
      );
      const outcomes = await inBatches(
        owners.map((w, i) => ({ w, rec: latest[i]! })),
        25,
        (chunk) => sim.run(Promise.all(chunk.map(({ w, rec }) => w.publisher.dht.publish(rec)))),
      );
      stored = 0;
      for (const out of outcomes) {
        if (!out.ok) throw new Error(`publishing failed: ${out.message}`);
        stored += out.result.stored;
      }
    }
    log(
      `adversarial ${fraction}: network built and ${o.records} records published (mean ${(stored / o.records).toFixed(1)} STOREs acknowledged) ` +
        `in ${((performance.now() - t1) / 1000).toFixed(1)} s`,
    );

    // The same (initiator, record) pairs for every d.
    const pick = new Prng((o.seed ^ 0x5bd1e995) >>> 0);
    const jobs = Array.from({ length: o.lookups }, (_, i) => ({ from: sim.honest[pick.below(sim.honest.length)]!, index: i % o.records }));
    for (const d of o.paths) {
      const t2 = performance.now();
      const results = await inBatches(jobs, 25, (chunk) =>
        sim.run(Promise.all(chunk.map((j) => sim.lookupValue(j.from, owners[j.index]!.key, { d })))),
      );
      let ok = 0;
      let messages = 0;
      const hops: number[] = [];
      results.forEach((r, i) => {
        messages += r.messages;
        if (r.record !== null && toHex(r.record.ownerSigned) === toHex(latest[jobs[i]!.index]!)) {
          ok++;
          hops.push(r.hops);
        }
      });
      const extra = { nodes: o.nodes, adversarial: fraction, d };
      emit({ bench: 'dht', metric: 'lookup_success', value: round(ok / results.length, 3), unit: 'fraction', ...extra });
      emit({ bench: 'dht', metric: 'hops_median', value: hops.length > 0 ? quantile(hops, 0.5) : 0, unit: 'hops', ...extra });
      emit({ bench: 'dht', metric: 'hops_mean', value: hops.length > 0 ? round(hops.reduce((a, b) => a + b, 0) / hops.length, 2) : 0, unit: 'hops', ...extra });
      emit({ bench: 'dht', metric: 'messages_per_lookup', value: round(messages / results.length, 2), unit: 'messages', ...extra });
      log(`adversarial ${fraction}, d = ${d}: ${o.lookups} lookups in ${((performance.now() - t2) / 1000).toFixed(1)} s`);
    }
  }
  log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
