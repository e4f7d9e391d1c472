/**
 * The DHT fuzz targets keep their contract: seeds are accepted, runs are deterministic, arbitrary
 * bytes give accepted or rejected only, and a short seeded run of the shared fuzz driver finds no
 * crash and reaches both outcomes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { runFuzz } from '../fuzz/run';
import { dhtFuzzTargets } from './fuzz-targets';

const names = Object.keys(dhtFuzzTargets);

describe('DHT fuzz targets', () => {
  it('cover every decoder and are named as the registry asks', () => {
    expect(names.sort()).toEqual(['dht-message', 'dht-presence', 'dht-record']);
    for (const n of names) expect(n).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  it.each(names)('%s: every seed is accepted', (name) => {
    const t = dhtFuzzTargets[name]!;
    const seeds = t.seeds();
    expect(seeds.length).toBeGreaterThan(0);
    for (const s of seeds) expect(t.run(s)).toBe('accepted');
  });

  it.each(names)('%s: arbitrary inputs give accepted or rejected, the same twice', (name) => {
    const t = dhtFuzzTargets[name]!;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 800 }), (input) => {
        const a = t.run(input);
        expect(['accepted', 'rejected']).toContain(a);
        expect(t.run(input)).toBe(a);
      }),
      { numRuns: 300 },
    );
  });

  it.each(names)('%s: 3,000 driver inputs, no crash, both outcomes', (name) => {
    const stats = runFuzz(dhtFuzzTargets[name]!, { count: 3_000, seed: 424242 });
    expect(stats.crashSamples).toEqual([]);
    expect(stats.accepted).toBeGreaterThan(0);
    expect(stats.rejected).toBeGreaterThan(0);
  });
});
