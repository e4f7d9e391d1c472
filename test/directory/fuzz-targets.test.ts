/**
 * The directory and authority fuzz targets keep their contract: seeds are accepted, runs are
 * deterministic, arbitrary bytes give accepted or rejected only, and a short seeded run of the
 * shared fuzz driver finds no crash.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { runFuzz } from '../fuzz/run';
import { directoryFuzzTargets } from './fuzz-targets';

const names = Object.keys(directoryFuzzTargets);

describe('directory fuzz targets', () => {
  it('cover every decoder and are named as the registry asks', () => {
    expect(names.sort()).toEqual([
      'authority-access-certificate',
      'authority-certificate-request',
      'authority-message',
      'authority-registration',
      'directory-consensus-body',
      'directory-descriptor',
      'directory-message',
      'directory-signed-consensus',
      'directory-vote',
    ]);
    for (const n of names) expect(n).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  it.each(names)('%s: every seed is accepted', (name) => {
    const t = directoryFuzzTargets[name]!;
    const seeds = t.seeds();
    expect(seeds.length).toBeGreaterThan(0);
    for (const s of seeds) expect(t.run(s)).toBe('accepted');
  });

  it.each(names)('%s: arbitrary inputs give accepted or rejected, the same twice', (name) => {
    const t = directoryFuzzTargets[name]!;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1500, size: 'max' }), (input) => {
        const a = t.run(input);
        expect(['accepted', 'rejected']).toContain(a);
        expect(t.run(input.slice())).toBe(a);
      }),
      { numRuns: 200 },
    );
  });

  it.each(names)('%s: a short seeded run of the shared driver finds no crash', (name) => {
    const stats = runFuzz(directoryFuzzTargets[name]!, { count: 1500, seed: 4242 });
    expect(stats.crashSamples).toEqual([]);
    expect(stats.crashes).toBe(0);
    expect(stats.rejected).toBeGreaterThan(0);
    expect(stats.accepted).toBeGreaterThan(0);
  });
});
