/**
 * `npm run bench -- glass [--seconds N] [--bitrate BPS]`
 *
 * Glass-to-glass latency of the network path, as a viewer experiences it: on a multi-process
 * devnet on loopback (3 discovery, 2 authority, 2 oracle nodes; a landing node and a distribution
 * node), a broadcaster sends 30 frames a second at the target bitrate (2.2 Mbit/s by default, a
 * keyframe every 2 s); a viewer redirected to the distribution node (the landing node's own
 * capacity is 1 and kept for the distribution node) verifies each group signature, decrypts and
 * decodes every frame. glass = the frame's hand-out at the viewer − the broadcaster's sendFrame
 * call for it (one monotonic clock, both in this process): SFrame encryption, packetising, signing, the TLS link to the
 * landing node, its fan-out, the link to the distribution node, its fan-out, the viewer's link,
 * verification and decryption. Camera capture, encoding, decoding and display are the browser's
 * and are not in it.
 */
import { joinStream, startBroadcast } from '../../node-core/io/client/stream-client';
import { startTestNet } from '../support/devnet';
import { performance } from 'node:perf_hooks';
import { frameNumber, openStreamUser, streamLayout, syntheticFrame } from '../stream/support';
import { emit, quantile, round } from './emit';

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  return cond();
}

export async function main(args: string[]): Promise<void> {
  const seconds = Math.max(10, arg(args, 'seconds', 20));
  const bitrate = arg(args, 'bitrate', 2_200_000);
  const fps = 30;
  const frameBytes = Math.round(bitrate / 8 / fps);
  const layout = streamLayout({ landing: 1, distribution: 1, onions: 5 });
  const net = await startTestNet({
    layout,
    periodMs: 5000,
    authorityThreshold: 2,
    configPatch: { logLevel: 'warn', limits: { stream: { landingCapacity: 1 } } },
  });
  const creator = await openStreamUser(net.devnet.networkFile, layout.length);
  const viewer = await openStreamUser(net.devnet.networkFile, layout.length);
  try {
    const b = await startBroadcast(creator.session, creator.identity, { bitrate, maxViewers: 10 });
    const servedByDistribution = () => until(() => b.stats().nodes >= 2 && b.stats().viewers === 1, 10_000);
    let n = 0;
    const sentAt = new Map<number, number>();
    const started = performance.now();
    const timer = setInterval(() => {
      // Paced by the clock, so a late tick does not bunch frames up.
      const due = Math.floor(((performance.now() - started) * fps) / 1000);
      while (n <= due) {
        sentAt.set(n, performance.now());
        b.sendFrame(syntheticFrame(n++, { keyEvery: 2 * fps, size: frameBytes, fps }));
      }
    }, 5);
    // The viewer must be served by the distribution node: on a devnet just started, a node list
    // that does not name every node yet can keep it out of the tree for a moment; join again then.
    let v = await joinStream(viewer.session, b.invite);
    for (let attempt = 0; attempt < 5 && !(await servedByDistribution()); attempt++) {
      await v.leave();
      await new Promise((r) => setTimeout(r, 6000));
      v = await joinStream(viewer.session, b.invite);
    }
    if (!(await servedByDistribution())) throw new Error('the viewer was not served by the distribution node');
    const latencies: number[] = [];
    let warm = false;
    v.onFrame((f) => {
      // Measured on one monotonic clock: from the broadcaster's sendFrame to the viewer's hand-out.
      const t = sentAt.get(frameNumber(f));
      if (warm && t !== undefined) latencies.push(performance.now() - t);
    });
    await new Promise((r) => setTimeout(r, 2000));
    warm = true;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    clearInterval(timer);
    const stats = v.stats();
    await v.leave();
    await b.stop();
    const extra = { frames: latencies.length, bitrate, fps, tiers: 'landing+distribution', dropped: stats.framesDropped };
    emit({ bench: 'glass', metric: 'glass_ms_p50', value: round(quantile(latencies, 0.5)), unit: 'ms', ...extra });
    emit({ bench: 'glass', metric: 'glass_ms_p95', value: round(quantile(latencies, 0.95)), unit: 'ms', ...extra });
  } finally {
    creator.session.close();
    viewer.session.close();
    await net.stop();
  }
}
