/**
 * `npm run bench -- crypto [--seconds S]`: throughput of the two crypto suites, noble (pure) and
 * node (node:crypto), one JSON line per metric and suite, e.g.
 *   {"bench":"crypto","metric":"ed25519_verify_ops_s","value":12345.6,"unit":"ops/s","suite":"node"}
 * Each measurement runs for about S seconds (default 0.9) after a short warm-up; the whole
 * benchmark takes about 14·S seconds.
 */
import { performance } from 'node:perf_hooks';
import type { CryptoSuite } from '../../node-core/crypto/api';
import { nobleSuite } from '../../node-core/crypto/noble';
import { nodeSuite } from '../../node-core/io/crypto-node';
import { emit, round } from './emit';

const CELL = 509; // relay cell payload (DESIGN.md §3)

/** Calls `op` in growing batches for about `seconds`; returns calls per second. */
function rate(op: () => void, seconds: number): number {
  const warmUntil = performance.now() + 100;
  while (performance.now() < warmUntil) op();
  let calls = 0;
  let batch = 1;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    const t0 = now;
    for (let i = 0; i < batch; i++) op();
    calls += batch;
    now = performance.now();
    if (now - t0 < 20) batch *= 2; // keep batches short so the budget is not overshot
  }
  return calls / ((now - start) / 1000);
}

function parseSeconds(args: string[]): number {
  const i = args.indexOf('--seconds');
  if (i === -1) return 0.9;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v <= 0 || v > 60) throw new RangeError('--seconds must be a number in (0, 60]');
  return v;
}

function benchSuite(s: CryptoSuite, seconds: number): void {
  const line = (metric: string, value: number, unit: string, extra: Record<string, number> = {}) =>
    emit({ bench: 'crypto', metric, value: round(value, 1), unit, suite: s.name, ...extra });
  const mb = (opsPerSecond: number, bytes: number) => (opsPerSecond * bytes) / 1e6;

  const seed = s.randomBytes(32);
  const pk = s.ed25519PublicKey(seed);
  const msg = s.randomBytes(64);
  const sig = s.ed25519Sign(msg, seed);
  line('ed25519_sign_ops_s', rate(() => s.ed25519Sign(msg, seed), seconds), 'ops/s', { message_bytes: msg.length });
  line(
    'ed25519_verify_ops_s',
    rate(() => {
      if (!s.ed25519Verify(sig, msg, pk)) throw new Error('verification failed');
    }, seconds),
    'ops/s',
    { message_bytes: msg.length },
  );

  const xs = s.randomBytes(32);
  const peer = s.x25519PublicKey(s.randomBytes(32));
  line('x25519_ops_s', rate(() => s.x25519(xs, peer), seconds), 'ops/s');

  const cell = s.randomBytes(CELL);
  const stream = s.aesCtr(s.randomBytes(16), s.randomBytes(16));
  line('aes_ctr_mb_s', mb(rate(() => stream.update(cell), seconds), CELL), 'MB/s', { chunk_bytes: CELL, key_bits: 128 });

  line('sha256_mb_s', mb(rate(() => s.sha256(cell), seconds), CELL), 'MB/s', { chunk_bytes: CELL });

  // One key and nonce for every call: this measures speed only; real callers never repeat a nonce.
  const key = s.randomBytes(32);
  const nonce = s.randomBytes(12);
  line('chacha20poly1305_seal_mb_s', mb(rate(() => s.aeadSeal(key, nonce, cell), seconds), CELL), 'MB/s', {
    chunk_bytes: CELL,
  });
}

export async function main(args: string[]): Promise<void> {
  const seconds = parseSeconds(args);
  for (const s of [nobleSuite, nodeSuite]) {
    process.stderr.write(`crypto bench: ${s.name} suite\n`);
    benchSuite(s, seconds);
  }
}
