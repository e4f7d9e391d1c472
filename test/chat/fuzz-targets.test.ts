/**
 * The chat fuzz targets keep their contract: seeds are accepted, runs are deterministic,
 * arbitrary bytes give accepted or rejected only, and a short seeded run of the shared fuzz
 * driver finds no crash and reaches both outcomes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../fuzz/run';
import { chatFuzzTargets } from './fuzz-targets';

const names = Object.keys(chatFuzzTargets);

describe('chat fuzz targets', () => {
  it('cover both decoders and are named as the registry asks', () => {
    expect(names.sort()).toEqual(['chat-frame', 'chat-item']);
    for (const n of names) expect(n).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  it.each(names)('%s: every seed is accepted, and the seeds are the same each time', (name) => {
    const t = chatFuzzTargets[name]!;
    const seeds = t.seeds();
    expect(seeds.length).toBeGreaterThan(0);
    for (const s of seeds) expect(t.run(s)).toBe('accepted');
    expect(t.seeds()).toEqual(seeds);
  });

  it.each(names)('%s: arbitrary inputs give accepted or rejected, the same twice', (name) => {
    const t = chatFuzzTargets[name]!;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (input) => {
        const a = t.run(input);
        expect(['accepted', 'rejected']).toContain(a);
        expect(t.run(input)).toBe(a);
      }),
      { numRuns: 300 },
    );
  });

  it.each(names)('%s: 5,000 driver inputs, no crash, both outcomes', (name) => {
    const stats = runFuzz(chatFuzzTargets[name]!, { count: 5_000, seed: 77 });
    expect(stats.crashSamples).toEqual([]);
    expect(stats.accepted).toBeGreaterThan(0);
    expect(stats.rejected).toBeGreaterThan(0);
  });
});
