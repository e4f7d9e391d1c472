/**
 * The fuzz driver: `runFuzz` mutates a target's seeds with a seeded PRNG and counts outcomes;
 * `runFuzzCommand` is `npm run fuzz -- <name|all> [--count N] [--seed S]`.
 *
 * The command prints progress to stderr and one JSON line per target on stdout:
 *   {"fuzz":"cells","inputs":N,"rejected":R,"accepted":A,"crashes":C,"seed":S}
 * On crashes it writes each crashing input as hex to stderr and exits with code 1.
 */
import { toHex } from '../../node-core/util/bytes';
import { Mutator } from './mutate';
import { Prng } from './prng';
import type { FuzzTarget } from './target';
import { fuzzTargets } from './targets';

export interface CrashSample {
  /** The input, hex-encoded; `target.run(fromHex(hex))` replays it. */
  hex: string;
  /** What was thrown (message and stack head). */
  error: string;
}

export interface FuzzStats {
  inputs: number;
  rejected: number;
  accepted: number;
  crashes: number;
  /** The first crashing inputs (at most `maxCrashSamples`). */
  crashSamples: CrashSample[];
}

export interface FuzzOptions {
  /** Inputs to run, seeds included. */
  count: number;
  /** PRNG seed, 0..2^32-1: the same seed replays the same inputs. */
  seed: number;
  /** Called every `progressEvery` inputs with the counts so far. */
  onProgress?: (stats: Readonly<FuzzStats>) => void;
  progressEvery?: number;
  maxCrashSamples?: number;
}

/** Accepted mutants kept for further mutation and splicing, so inputs can grow deeper. */
const POOL_LIMIT = 256;

function describe(err: unknown): string {
  if (err instanceof Error) {
    const stack = err.stack?.split('\n').slice(0, 4).join('\n');
    return stack ?? `${err.name}: ${err.message}`;
  }
  return `non-Error thrown: ${String(err)}`;
}

export function runFuzz(target: FuzzTarget, options: FuzzOptions): FuzzStats {
  if (typeof target !== 'object' || target === null || typeof target.run !== 'function' || typeof target.seeds !== 'function') {
    throw new TypeError('target must be a FuzzTarget');
  }
  const { count, seed } = options;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`options.count must be a non-negative integer, got ${count}`);
  const progressEvery = options.progressEvery ?? 100_000;
  if (!Number.isInteger(progressEvery) || progressEvery < 1) throw new RangeError('options.progressEvery must be a positive integer');
  const maxSamples = options.maxCrashSamples ?? 10;
  // Capturing a stack costs far more than parsing a small input, and most inputs end in a
  // typed error; stacks are off during the run and a crash is replayed with them on (below).
  const stackLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return fuzzLoop(target, options, count, seed, progressEvery, maxSamples, stackLimit);
  } finally {
    Error.stackTraceLimit = stackLimit;
  }
}

function replayForStack(target: FuzzTarget, input: Uint8Array, stackLimit: number, first: unknown): string {
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = stackLimit;
  try {
    target.run(input.slice());
    return `${describe(first)}\n(the replay did not crash: the target is not deterministic)`;
  } catch (err) {
    return describe(err);
  } finally {
    Error.stackTraceLimit = saved;
  }
}

function fuzzLoop(
  target: FuzzTarget,
  options: FuzzOptions,
  count: number,
  seed: number,
  progressEvery: number,
  maxSamples: number,
  stackLimit: number,
): FuzzStats {
  const rng = new Prng(seed);
  const seeds = target.seeds().map((s) => s.slice());
  const largestSeed = seeds.reduce((m, s) => Math.max(m, s.length), 0);
  // Inputs may grow to twice the largest seed (at least 4 KiB); the pool keeps smaller ones.
  const mutator = new Mutator(rng, Math.max(4096, 2 * largestSeed));
  const poolMaxInput = mutator.maxLength >>> 1;
  const pool: Uint8Array[] = [...seeds];
  const given = new Uint8Array(mutator.maxLength);
  const stats: FuzzStats = { inputs: 0, rejected: 0, accepted: 0, crashes: 0, crashSamples: [] };

  for (let i = 0; i < count; i++) {
    const input = i < seeds.length ? seeds[i]! : mutator.mutate(pool.length > 0 ? rng.pick(pool) : new Uint8Array(0), pool);
    // The target gets its own copy, so a target that writes to its input cannot change what is
    // reported or kept.
    given.set(input);
    let outcome: unknown;
    let thrown: { error: unknown } | undefined;
    try {
      outcome = target.run(given.subarray(0, input.length));
    } catch (err) {
      thrown = { error: err };
    }
    stats.inputs++;
    if (thrown || (outcome !== 'accepted' && outcome !== 'rejected')) {
      stats.crashes++;
      if (stats.crashSamples.length < maxSamples) {
        const error = thrown
          ? thrown.error instanceof Error
            ? replayForStack(target, input, stackLimit, thrown.error)
            : describe(thrown.error)
          : `target returned ${String(outcome)}, not 'accepted' or 'rejected'`;
        stats.crashSamples.push({ hex: toHex(input), error });
      }
    } else if (outcome === 'accepted') {
      stats.accepted++;
      if (i >= seeds.length && input.length <= poolMaxInput && (rng.u32() & 15) === 0) {
        if (pool.length < POOL_LIMIT) pool.push(input.slice());
        else pool[seeds.length + rng.below(POOL_LIMIT - seeds.length)] = input.slice();
      }
    } else {
      stats.rejected++;
    }
    if (options.onProgress && stats.inputs % progressEvery === 0) options.onProgress(stats);
  }
  return stats;
}

export interface FuzzCommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  now(): number;
}

const processIo: FuzzCommandIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  now: () => Date.now(),
};

const USAGE = 'usage: npm run fuzz -- <target|all> [--count N] [--seed S]';

function parseArgs(args: readonly string[]): { count: number; seed: number | undefined } {
  let count = 100_000;
  let seed: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    const key = eq >= 0 ? arg.slice(0, eq) : arg;
    if (key !== '--count' && key !== '--seed') throw new RangeError(`unknown argument ${arg}`);
    const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || !/^\d+$/.test(value)) throw new RangeError(`${key} needs a non-negative integer`);
    const n = Number(value);
    if (key === '--count') {
      if (!Number.isSafeInteger(n)) throw new RangeError('--count is too large');
      count = n;
    } else {
      if (n > 0xffffffff) throw new RangeError('--seed must be at most 4294967295');
      seed = n;
    }
  }
  return { count, seed };
}

/**
 * Runs the named target (or every target for 'all'). Returns the exit code (0 ok, 1 crashes,
 * 2 usage error) and, with the default io, also sets process.exitCode.
 */
export async function runFuzzCommand(name: string | undefined, args: readonly string[], io: FuzzCommandIo = processIo): Promise<number> {
  const code = fuzzCommand(name, args, io);
  if (io === processIo && code !== 0) process.exitCode = code;
  return code;
}

function fuzzCommand(name: string | undefined, args: readonly string[], io: FuzzCommandIo): number {
  const available = Object.keys(fuzzTargets).sort();
  if (name === undefined || (name !== 'all' && !Object.hasOwn(fuzzTargets, name))) {
    io.stderr(`${name === undefined ? '' : `no fuzz target ${name}\n`}${USAGE}\ntargets: ${available.join(', ')}, all\n`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs(args);
  } catch (err) {
    io.stderr(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  const seed = parsed.seed ?? io.now() >>> 0;
  if (parsed.seed === undefined) io.stderr(`fuzz: seed ${seed} (replay with --seed ${seed})\n`);
  const names = name === 'all' ? available : [name];
  let crashed = false;
  for (const targetName of names) {
    const target = fuzzTargets[targetName]!;
    const started = io.now();
    const stats = runFuzz(target, {
      count: parsed.count,
      seed,
      progressEvery: 100_000,
      onProgress: (s) => {
        const secs = Math.max(1e-3, (io.now() - started) / 1000);
        io.stderr(
          `fuzz ${targetName}: ${s.inputs}/${parsed.count} inputs, ${Math.round(s.inputs / secs)}/s, ` +
            `${s.rejected} rejected, ${s.crashes} crashes\n`,
        );
      },
    });
    const secs = Math.max(1e-3, (io.now() - started) / 1000);
    io.stderr(`fuzz ${targetName}: done, ${stats.inputs} inputs in ${secs.toFixed(1)} s (${Math.round(stats.inputs / secs)}/s)\n`);
    if (stats.crashes > 0) {
      crashed = true;
      stats.crashSamples.forEach((s, i) => {
        io.stderr(`fuzz ${targetName}: crash ${i + 1}/${stats.crashes}: ${s.error}\n  input hex: ${s.hex}\n`);
      });
      if (stats.crashes > stats.crashSamples.length) {
        io.stderr(`fuzz ${targetName}: ${stats.crashes - stats.crashSamples.length} more crashes not shown\n`);
      }
    }
    io.stdout(
      JSON.stringify({
        fuzz: targetName,
        inputs: stats.inputs,
        rejected: stats.rejected,
        accepted: stats.accepted,
        crashes: stats.crashes,
        seed,
      }) + '\n',
    );
  }
  return crashed ? 1 : 0;
}
