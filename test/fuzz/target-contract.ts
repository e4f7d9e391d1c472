/**
 * The contract every area's fuzz targets keep, as shared test cases (call inside a describe):
 * seeds are accepted, runs are deterministic, arbitrary bytes give accepted or rejected only,
 * and a short seeded run of the shared fuzz driver finds no crash and reaches both outcomes.
 * Test helper, not a test file.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { runFuzz } from './run';
import type { FuzzTarget } from './target';

export function fuzzTargetContract(targets: Record<string, FuzzTarget>, opts: { seed: number; count?: number }): void {
  const names = Object.keys(targets);

  it.each(names)('%s: every seed is accepted', (name) => {
    const t = targets[name]!;
    const seeds = t.seeds();
    expect(seeds.length).toBeGreaterThan(0);
    for (const s of seeds) expect(t.run(s)).toBe('accepted');
  });

  it.each(names)('%s: arbitrary inputs give accepted or rejected, the same twice', (name) => {
    const t = targets[name]!;
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
    const stats = runFuzz(targets[name]!, { count: opts.count ?? 2_000, seed: opts.seed });
    expect(stats.crashSamples).toEqual([]);
    expect(stats.accepted).toBeGreaterThan(0);
    expect(stats.rejected).toBeGreaterThan(0);
  });
}
