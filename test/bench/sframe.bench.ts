/**
 * `npm run bench -- sframe [--seconds S] [--suite ID]`: SFrame (node-core/media, RFC 9605)
 * encrypt and decrypt throughput for 1,200-byte packets and 30 KB video frames, for each cipher
 * suite (or only suite ID, 1-5). Two JSON lines per (suite, operation, size), e.g.
 *   {"bench":"sframe","metric":"encrypt_mb_s","value":41.2,"unit":"MB/s","suite":"AES_128_GCM_SHA256_128","payload_bytes":1200}
 *   {"bench":"sframe","metric":"encrypt_us_per_frame","value":29.1,"unit":"µs","suite":"AES_128_GCM_SHA256_128","payload_bytes":1200}
 * MB/s counts plaintext bytes (10^6 bytes per MB). Each measurement runs for about S seconds
 * (default 0.5) after a short warm-up. Decryption runs with the replay window off, since the
 * same ciphertexts are decrypted over and over.
 */
import { performance } from 'node:perf_hooks';
import { SFRAME_SUITE, SFrameContext, sframeSuite, type SFrameSuiteId } from '../../node-core/media';
import { emit, round } from './emit';

const SIZES = [
  { name: 'packet', bytes: 1200 },
  { name: 'video-frame', bytes: 30_000 },
];
/** Ciphertexts decrypted in rotation. */
const POOL = 64;

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
    if (now - t0 < 20) batch *= 2;
  }
  return calls / ((now - start) / 1000);
}

function parseArgs(args: string[]): { seconds: number; suites: SFrameSuiteId[] } {
  let seconds = 0.5;
  let suites = Object.values(SFRAME_SUITE) as SFrameSuiteId[];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--seconds') {
      seconds = Number(args[++i]);
      if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 60) throw new RangeError('--seconds must be a number in (0, 60]');
    } else if (a === '--suite') {
      const id = Number(args[++i]);
      sframeSuite(id as SFrameSuiteId); // throws for an unknown suite
      suites = [id as SFrameSuiteId];
    } else {
      throw new RangeError(`unknown argument ${a}; use --seconds S and --suite ID`);
    }
  }
  return { seconds, suites };
}

export async function main(args: string[]): Promise<void> {
  const { seconds, suites } = parseArgs(args);
  const baseKey = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const metadata = Uint8Array.of(2, 0, 0, 0, 7);
  for (const suite of suites) {
    const name = sframeSuite(suite).name;
    const sender = new SFrameContext({ suite });
    sender.addKey(1, baseKey, 'encrypt');
    const receiver = new SFrameContext({ suite, replayWindow: 0 });
    receiver.addKey(1, baseKey, 'decrypt');
    for (const size of SIZES) {
      const plaintext = globalThis.crypto.getRandomValues(new Uint8Array(size.bytes));
      const line = (op: string, perSecond: number) => {
        const extra = { suite: name, suite_id: suite, payload: size.name, payload_bytes: size.bytes };
        emit({ bench: 'sframe', metric: `${op}_mb_s`, value: round((perSecond * size.bytes) / 1e6, 1), unit: 'MB/s', ...extra });
        emit({ bench: 'sframe', metric: `${op}_us_per_frame`, value: round(1e6 / perSecond, 2), unit: 'µs', ...extra });
      };
      // Every call takes the next CTR, as a broadcaster would.
      line('encrypt', rate(() => sender.encrypt(1, undefined, metadata, plaintext), seconds));
      const pool = Array.from({ length: POOL }, () => sender.encrypt(1, undefined, metadata, plaintext));
      let i = 0;
      line(
        'decrypt',
        rate(() => {
          receiver.decrypt(pool[i++ % POOL]!, metadata);
        }, seconds),
      );
    }
  }
}
