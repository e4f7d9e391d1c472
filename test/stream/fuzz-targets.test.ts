/**
 * The stream fuzz targets keep their contract: seeds are accepted, runs are deterministic,
 * arbitrary bytes give accepted or rejected only, and a short seeded run of the shared fuzz driver
 * finds no crash and reaches both outcomes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { runFuzz } from '../fuzz/run';
import { streamFuzzTargets } from './fuzz-targets';

const names = Object.keys(streamFuzzTargets);

describe('stream fuzz targets', () => {
  it('cover every decoder and the relay, named as the registry asks', () => {
    expect(names.sort()).toEqual(['stream-fanout', 'stream-invite', 'stream-media-frame', 'stream-message', 'stream-public', 'stream-puzzle', 'stream-receipt', 'stream-viewer-id']);
    for (const n of names) expect(n).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  it.each(names)('%s: every seed is accepted', (name) => {
    const t = streamFuzzTargets[name]!;
    const seeds = t.seeds();
    expect(seeds.length).toBeGreaterThan(0);
    for (const s of seeds) expect(t.run(s)).toBe('accepted');
  });

  it.each(names)('%s: arbitrary inputs give accepted or rejected, the same twice', (name) => {
    const t = streamFuzzTargets[name]!;
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
    const stats = runFuzz(streamFuzzTargets[name]!, { count: 2_000, seed: 8_008 });
    expect(stats.crashSamples).toEqual([]);
    expect(stats.accepted).toBeGreaterThan(0);
    expect(stats.rejected).toBeGreaterThan(0);
  });
});
