/**
 * `npm run bench -- <name> [args]` runs test/bench/<name>.bench.ts;
 * `npm run fuzz -- <name> [--count N] [--seed S]` runs the fuzz target <name> from test/fuzz/targets.ts.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

async function bench(name: string | undefined, args: string[]): Promise<void> {
  const dir = join(here, '..', 'bench');
  const available = readdirSync(dir)
    .filter((f) => f.endsWith('.bench.ts'))
    .map((f) => f.slice(0, -'.bench.ts'.length))
    .sort();
  if (!name || !available.includes(name)) {
    process.stderr.write(`usage: npm run bench -- <name>\navailable: ${available.join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  const file = join(dir, `${name}.bench.ts`);
  if (!existsSync(file)) throw new Error(`no benchmark ${name}`);
  const mod = (await import(file)) as { main(args: string[]): Promise<void> };
  await mod.main(args);
  // A benchmark has printed its lines; stray handles (sockets closing, timers) must not keep it alive.
  process.exit(process.exitCode ?? 0);
}

async function fuzz(name: string | undefined, args: string[]): Promise<void> {
  const { runFuzzCommand } = await import('../fuzz/run');
  await runFuzzCommand(name, args);
}

const [command, name, ...rest] = process.argv.slice(2);
try {
  if (command === 'bench') await bench(name, rest);
  else if (command === 'fuzz') await fuzz(name, rest);
  else {
    process.stderr.write('usage: sirius-dev bench|fuzz <name> [args]\n');
    process.exitCode = 2;
  }
} catch (err) {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
