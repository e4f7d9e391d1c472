import { describe, expect, it } from 'vitest';
import { fromHex } from '../../node-core/util/bytes';
import { Mutator } from './mutate';
import { Prng } from './prng';
import { runFuzz, runFuzzCommand } from './run';
import type { FuzzTarget } from './targets';
import { fuzzTargets } from './targets';

const SEED = 20240601;

describe('fuzz targets', () => {
  for (const [name, target] of Object.entries(fuzzTargets)) {
    it(`${name}: 20,000 inputs, no crash, both outcomes reached`, () => {
      const stats = runFuzz(target, { count: 20_000, seed: SEED });
      expect(stats.crashSamples).toEqual([]);
      expect(stats.crashes).toBe(0);
      expect(stats.inputs).toBe(20_000);
      expect(stats.accepted + stats.rejected).toBe(20_000);
      expect(stats.accepted).toBeGreaterThan(0);
      expect(stats.rejected).toBeGreaterThan(0);
    });

    it(`${name}: every seed is a well-behaved input`, () => {
      for (const seed of target.seeds()) {
        expect(['accepted', 'rejected']).toContain(target.run(seed.slice()));
      }
    });
  }

  it('cells: the seeds are accepted and corpus-like inputs rejected', () => {
    const cells = fuzzTargets.cells!;
    expect(cells.seeds().map((s) => cells.run(s))).toContain('accepted');
    expect(cells.run(fromHex('0000000006'))).toBe('rejected'); // unknown command 6
    expect(cells.run(fromHex('0000000005'))).toBe('rejected'); // RELAY on circuit 0
  });
});

describe('fuzz driver', () => {
  const crashy: FuzzTarget = {
    seeds: () => [Uint8Array.of(1, 2, 3)],
    run(input) {
      if (input.length > 0 && input[0] === 0xff) throw new Error('crash on 0xff');
      return input.length % 2 === 0 ? 'accepted' : 'rejected';
    },
  };

  it('counts and reports crashes, with the input as hex', () => {
    const stats = runFuzz(crashy, { count: 5000, seed: 1 });
    expect(stats.crashes).toBeGreaterThan(0);
    expect(stats.crashSamples.length).toBeGreaterThan(0);
    expect(stats.crashSamples.length).toBeLessThanOrEqual(10);
    for (const s of stats.crashSamples) {
      expect(s.hex.startsWith('ff')).toBe(true);
      expect(s.error).toContain('crash on 0xff');
      expect(() => crashy.run(fromHex(s.hex))).toThrow('crash on 0xff');
    }
    expect(stats.inputs).toBe(stats.accepted + stats.rejected + stats.crashes);
  });

  it('treats an unexpected return value as a crash', () => {
    const odd: FuzzTarget = { seeds: () => [new Uint8Array(1)], run: () => 'maybe' as 'accepted' };
    const stats = runFuzz(odd, { count: 3, seed: 1 });
    expect(stats.crashes).toBe(3);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const seen: string[][] = [];
    for (const seed of [7, 7, 8]) {
      const inputs: string[] = [];
      const recorder: FuzzTarget = {
        seeds: () => [Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7)],
        run(input) {
          inputs.push(Buffer.from(input).toString('hex'));
          return 'accepted';
        },
      };
      runFuzz(recorder, { count: 300, seed });
      seen.push(inputs);
    }
    expect(seen[0]).toEqual(seen[1]);
    expect(seen[0]).not.toEqual(seen[2]);
  });

  it('restores Error.stackTraceLimit after a run', () => {
    const before = Error.stackTraceLimit;
    runFuzz(crashy, { count: 100, seed: 3 });
    expect(Error.stackTraceLimit).toBe(before);
  });

  it('the mutator produces varied inputs within its bound', () => {
    const rng = new Prng(99);
    const m = new Mutator(rng, 64);
    const base = Uint8Array.from({ length: 40 }, (_, i) => i);
    const lengths = new Set<number>();
    let changed = 0;
    for (let i = 0; i < 2000; i++) {
      const out = m.mutate(base, [Uint8Array.of(9, 9, 9)]);
      expect(out.length).toBeLessThanOrEqual(64);
      lengths.add(out.length);
      if (out.length !== base.length || out.some((b, j) => b !== base[j])) changed++;
    }
    expect(lengths.size).toBeGreaterThan(20);
    expect(changed).toBeGreaterThan(1800);
    expect(lengths.has(0)).toBe(true);
    expect(lengths.has(64)).toBe(true);
  });
});

describe('runFuzzCommand', () => {
  function capture(): { io: Parameters<typeof runFuzzCommand>[2] & object; out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), now: () => 1_700_000_000_123 }, out, err };
  }

  it('prints exactly one JSON line for a target and exits 0', async () => {
    const { io, out, err } = capture();
    const code = await runFuzzCommand('cells', ['--count', '2000', '--seed', '5'], io);
    expect(code).toBe(0);
    expect(out.join('').trim().split('\n')).toHaveLength(1);
    const line = JSON.parse(out.join('')) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual(['fuzz', 'inputs', 'rejected', 'accepted', 'crashes', 'seed']);
    expect(line).toMatchObject({ fuzz: 'cells', inputs: 2000, crashes: 0, seed: 5 });
    expect((line.rejected as number) + (line.accepted as number)).toBe(2000);
    expect(err.join('')).toContain('done');
  });

  it('takes the seed from the clock when none is given, and prints it', async () => {
    const { io, out, err } = capture();
    await runFuzzCommand('cells', ['--count=10'], io);
    const seed = 1_700_000_000_123 >>> 0;
    expect(JSON.parse(out.join('')).seed).toBe(seed);
    expect(err.join('')).toContain(`--seed ${seed}`);
  });

  it("runs every target for 'all'", async () => {
    const { io, out } = capture();
    expect(await runFuzzCommand('all', ['--count', '100', '--seed', '1'], io)).toBe(0);
    const names = out.join('').trim().split('\n').map((l) => (JSON.parse(l) as { fuzz: string }).fuzz);
    expect(names).toEqual(Object.keys(fuzzTargets).sort());
  });

  it('exits 1 and writes crashing inputs as hex to stderr when a target crashes', async () => {
    fuzzTargets['test-crashy'] = {
      seeds: () => [Uint8Array.of(0xff, 0xee)],
      run(input) {
        if (input[0] === 0xff) throw new Error('crash on 0xff');
        return 'rejected';
      },
    };
    try {
      const { io, out, err } = capture();
      expect(await runFuzzCommand('test-crashy', ['--count', '50', '--seed', '2'], io)).toBe(1);
      expect(JSON.parse(out.join('')).crashes).toBeGreaterThan(0);
      expect(err.join('')).toContain('input hex: ffee');
      expect(err.join('')).toContain('crash on 0xff');
    } finally {
      delete fuzzTargets['test-crashy'];
    }
  });

  it('refuses unknown targets and bad arguments with code 2', async () => {
    for (const [name, args] of [
      [undefined, []],
      ['nope', []],
      ['cells', ['--count']],
      ['cells', ['--count', '-1']],
      ['cells', ['--seed', '4294967296']],
      ['cells', ['--fast']],
    ] as const) {
      const { io, out, err } = capture();
      expect(await runFuzzCommand(name, [...args], io)).toBe(2);
      expect(out).toEqual([]);
      expect(err.join('')).toContain('usage');
    }
  });
});
