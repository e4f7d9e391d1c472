/**
 * The rendezvous fuzz targets keep their contract: seeds are accepted, runs are deterministic,
 * arbitrary bytes give accepted or rejected only, and a short seeded run of the shared fuzz
 * driver finds no crash and reaches both outcomes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { runFuzz } from '../fuzz/run';
import { rendezvousFuzzTargets } from './fuzz-targets';

const names = Object.keys(rendezvousFuzzTargets);

describe('rendezvous fuzz targets', () => {
  it('cover every new decoder and are named as the registry asks', () => {
    expect(names.sort()).toEqual([
      'mailbox-item',
      'presence-control-notice',
      'presence-control-request',
      'presence-control-response',
      'presence-mailbox-request',
      'presence-outcome',
    ]);
    for (const n of names) expect(n).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  it.each(names)('%s: every seed is accepted', (name) => {
    const t = rendezvousFuzzTargets[name]!;
    const seeds = t.seeds();
    expect(seeds.length).toBeGreaterThan(0);
    for (const s of seeds) expect(t.run(s)).toBe('accepted');
  });

  it.each(names)('%s: arbitrary inputs give accepted or rejected, the same twice', (name) => {
    const t = rendezvousFuzzTargets[name]!;
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
    const stats = runFuzz(rendezvousFuzzTargets[name]!, { count: 2_000, seed: 424242 });
    expect(stats.crashSamples).toEqual([]);
    expect(stats.accepted).toBeGreaterThan(0);
    expect(stats.rejected).toBeGreaterThan(0);
  });
});

describe('rendezvous fuzz seeds', () => {
  it('are the same bytes on every call', () => {
    for (const t of Object.values(rendezvousFuzzTargets)) {
      const a = t.seeds().map((s) => Buffer.from(s).toString('hex'));
      expect(t.seeds().map((s) => Buffer.from(s).toString('hex'))).toEqual(a);
    }
  });
});
