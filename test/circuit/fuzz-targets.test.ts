/**
 * The circuit fuzz targets keep their contract: seeds are accepted, runs are deterministic, and
 * a short seeded run through the shared fuzz driver finds no crash.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { runFuzz } from '../fuzz/run';
import { circuitFuzzTargets } from './fuzz-targets';
import { hex } from './helpers';

const names = Object.keys(circuitFuzzTargets);

describe('circuit fuzz targets', () => {
  it('are named as the registry asks (lower-case words joined by -)', () => {
    expect(names.sort()).toEqual(['circuit-payloads', 'circuit-reassembler', 'circuit-relay-cell']);
    for (const n of names) expect(n).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  it.each(names)('%s: every seed is accepted', (name) => {
    const t = circuitFuzzTargets[name]!;
    const seeds = t.seeds();
    expect(seeds.length).toBeGreaterThan(0);
    for (const s of seeds) expect(t.run(s)).toBe('accepted');
  });

  it.each(names)('%s: arbitrary inputs give accepted or rejected, the same twice', (name) => {
    const t = circuitFuzzTargets[name]!;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1200 }), (input) => {
        const a = t.run(input);
        expect(['accepted', 'rejected']).toContain(a);
        expect(t.run(input.slice())).toBe(a);
      }),
      { numRuns: 300 },
    );
  });

  it('reject what the decoders reject', () => {
    expect(circuitFuzzTargets['circuit-payloads']!.run(hex('00' + '00010060'))).toBe('rejected');
    expect(circuitFuzzTargets['circuit-relay-cell']!.run(hex('0c'))).toBe('rejected');
    expect(circuitFuzzTargets['circuit-reassembler']!.run(hex('0002' + '00aa'))).toBe('rejected');
  });

  it.each(names)('%s: a short seeded run of the shared driver finds no crash', (name) => {
    const stats = runFuzz(circuitFuzzTargets[name]!, { count: 3000, seed: 12345 });
    expect(stats.crashSamples).toEqual([]);
    expect(stats.crashes).toBe(0);
    expect(stats.rejected).toBeGreaterThan(0);
    expect(stats.accepted).toBeGreaterThan(0);
  });
});
