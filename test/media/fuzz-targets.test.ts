/**
 * The media fuzz targets keep their contract: seeds are accepted, runs are deterministic,
 * arbitrary bytes give accepted or rejected only, a short seeded run of the shared fuzz driver
 * finds no crash and reaches both outcomes, and the invariants a target checks do fire.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { runFuzz } from '../fuzz/run';
import { fromHex } from '../../node-core/util/bytes';
import { mediaFuzzTargets } from './fuzz-targets';

const names = Object.keys(mediaFuzzTargets);

describe('media fuzz targets', () => {
  it('cover the header decoder, decryption and the IVF reader, named as the registry asks', () => {
    expect(names.sort()).toEqual(['ivf', 'sframe-decrypt', 'sframe-header']);
    for (const n of names) expect(n).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  it.each(names)('%s: every seed is accepted', (name) => {
    const t = mediaFuzzTargets[name]!;
    const seeds = t.seeds();
    expect(seeds.length).toBeGreaterThan(0);
    for (const s of seeds) expect(t.run(s)).toBe('accepted');
  });

  it.each(names)('%s: arbitrary inputs give accepted or rejected, the same twice', (name) => {
    const t = mediaFuzzTargets[name]!;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (input) => {
        const a = t.run(input);
        expect(['accepted', 'rejected']).toContain(a);
        expect(t.run(input)).toBe(a);
      }),
      { numRuns: 300 },
    );
  });

  it.each(names)('%s: 3,000 driver inputs, no crash, both outcomes', (name) => {
    const stats = runFuzz(mediaFuzzTargets[name]!, { count: 3_000, seed: 424242 });
    expect(stats.crashSamples).toEqual([]);
    expect(stats.accepted).toBeGreaterThan(0);
    expect(stats.rejected).toBeGreaterThan(0);
  });

  it('sframe-decrypt: a seed accepted twice stays accepted (no replay state between runs)', () => {
    const t = mediaFuzzTargets['sframe-decrypt']!;
    const [seed] = t.seeds();
    expect(t.run(seed!)).toBe('accepted');
    expect(t.run(seed!)).toBe('accepted');
    const bad = seed!.slice();
    bad[bad.length - 1]! ^= 1;
    expect(t.run(bad)).toBe('rejected');
  });

  it('sframe-header: non-minimal and short headers are rejected', () => {
    const t = mediaFuzzTargets['sframe-header']!;
    expect(t.run(fromHex('8007'))).toBe('rejected');
    expect(t.run(fromHex('09'))).toBe('rejected');
    expect(t.run(new Uint8Array(0))).toBe('rejected');
    expect(t.run(fromHex('0000'))).toBe('accepted');
  });
});
