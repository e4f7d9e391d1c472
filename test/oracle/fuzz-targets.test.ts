/**
 * The oracle fuzz targets keep their contract: seeds are accepted, runs are deterministic,
 * arbitrary bytes give accepted or rejected only, and a short seeded run of the shared fuzz driver
 * finds no crash and reaches both outcomes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../fuzz/run';
import { oracleFuzzTargets } from './fuzz-targets';

const names = Object.keys(oracleFuzzTargets);

describe('oracle fuzz targets', () => {
  it('cover the credential, the peer record and the usage ledger, named as the registry asks', () => {
    expect(names.sort()).toEqual(['oracle-credential', 'oracle-peer-record', 'oracle-usage']);
    for (const n of names) expect(n).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  it.each(names)('%s: every seed is accepted', (name) => {
    const t = oracleFuzzTargets[name]!;
    const seeds = t.seeds();
    expect(seeds.length).toBeGreaterThan(0);
    for (const s of seeds) expect(t.run(s)).toBe('accepted');
  });

  it.each(names)('%s: arbitrary inputs give accepted or rejected, the same twice', (name) => {
    const t = oracleFuzzTargets[name]!;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (input) => {
        const a = t.run(input);
        expect(['accepted', 'rejected']).toContain(a);
        expect(t.run(input)).toBe(a);
      }),
      { numRuns: 200 },
    );
  });

  it.each(names)('%s: 2,000 driver inputs, no crash, both outcomes', (name) => {
    const stats = runFuzz(oracleFuzzTargets[name]!, { count: 2_000, seed: 5_000 });
    expect(stats.crashSamples).toEqual([]);
    expect(stats.accepted).toBeGreaterThan(0);
    expect(stats.rejected).toBeGreaterThan(0);
  });
});
