/**
 * `npm run bench -- fanout [--bitrate BPS] [--steps 10,25,50,…] [--seconds N]`
 *
 * How many viewers one distribution node process sustains, and the latency a relay hop adds. On a
 * multi-process devnet on loopback (3 discovery, 2 authority, 2 oracle nodes; one landing node,
 * one distribution node), a broadcaster sends 30 frames a second at 2.2 Mbit/s (a keyframe every
 * 2 s). The landing node serves one viewer itself (the reference) and sends every other viewer to
 * the distribution node. The viewers here are sinks: each has its own viewer identification ID
 * (a solved oracle puzzle) and its own TLS link from its own loopback address (127.0.x.y, so the
 * nodes' per-address connection limit holds unchanged), follows the redirect and records when
 * each frame's last piece arrives; they do not decrypt (that is the viewer's cost, not the
 * relay's).
 *
 * The viewer count grows in steps; at each step every viewer's frames over a measuring window
 * are counted against the frames sent. `viewers_sustained` is the largest step at which the
 * frames lost (never delivered to a viewer it was due to) stay under 0.1 %. `hop_ms_*`: for each
 * frame, its arrival at distribution-node viewers minus its arrival at the landing node's own
 * viewer, at the lightest step (the time one more relay adds: receive, fan out, send).
 *
 * Everything runs on the same machine: the sinks, the broadcaster and the nodes share its cores,
 * so the figure is a floor for a distribution node on a host of its own. The bench raises the
 * relay's per-address CREATE rate (the sinks' viewer-ID circuits all come from 127.0.0.1).
 */
import { performance } from 'node:perf_hooks';
import { startBroadcast } from '../../node-core/io/client/stream-client';
import { requestViewerId } from '../../node-core/io/client/oracle-client';
import { connectLink } from '../../node-core/io/link/transport';
import { StreamClosedError, StreamMux } from '../../node-core/io/link/stream-mux';
import type { Link } from '../../node-core/io/link/link';
import { decodeInvite } from '../../node-core/stream';
import { equalBytes } from '../../node-core/util/bytes';
import type { ClientSession } from '../../node-core/io/client/session';
import { startTestNet } from '../support/devnet';
import { waitFor } from '../support/raw-link';
import { openStreamUser, streamLayout, syntheticFrame } from '../stream/support';
import { emit, quantile, round } from './emit';

function arg(args: string[], name: string, def: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
}

const FPS = 30;
const KEY_EVERY = 2 * FPS;

interface Sink {
  /** Arrival time (performance.now) of each whole frame, by frame number. */
  arrivals: Map<number, number>;
  atLanding: boolean;
  link: Link;
}

/** A viewer that joins, follows the redirect and records frame arrivals without decrypting. */
async function openSink(session: ClientSession, invite: Uint8Array, viewerId: Uint8Array, localAddress: string): Promise<Sink> {
  const inv = decodeInvite(invite);
  let target = { identity: inv.landing, address: inv.address };
  for (let hop = 0; hop < 4; hop++) {
    const link = await connectLink({ suite: session.suite, host: target.address.host, port: target.address.port, expectedPeer: target.identity, localAddress });
    try {
      const { session: s } = await StreamMux.of(link, { route: true }).open({ type: 'join', streamId: inv.streamId, viewerId });
      const sink: Sink = { arrivals: new Map(), atLanding: equalBytes(target.identity, inv.landing), link };
      s.on('message', (b) => {
        // media: type 0x20 | streamId 16 | groupSeq u32 | frameSeq u32 | flags | part | parts
        if (b[0] !== 0x20 || b[26] !== b[27]! - 1) return;
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
        sink.arrivals.set(dv.getUint32(17) * KEY_EVERY + dv.getUint32(21), performance.now());
      });
      return sink;
    } catch (err) {
      link.close('not joined');
      const last = err instanceof StreamClosedError ? err.last : null;
      if (last?.type === 'redirect') {
        target = { identity: last.node, address: last.address };
        continue;
      }
      throw err;
    }
  }
  throw new Error('too many redirects');
}

async function inBatches<T>(n: number, size: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += size) out.push(...(await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, k) => fn(i + k)))));
  return out;
}

export async function main(args: string[]): Promise<void> {
  const bitrate = Number(arg(args, 'bitrate', '2200000'));
  const steps = arg(args, 'steps', '10,25,50,100,200,300,400,600,800,1000,1500')
    .split(',')
    .map(Number)
    .filter((x) => x > 0);
  const seconds = Number(arg(args, 'seconds', '8'));
  const frameBytes = Math.round(bitrate / 8 / FPS);
  const layout = streamLayout({ landing: 1, distribution: 1, onions: 5 });
  const net = await startTestNet({
    layout,
    periodMs: 5000,
    authorityThreshold: 2,
    configPatch: {
      logLevel: 'warn',
      limits: {
        stream: { landingCapacity: 2, distributionCapacity: 100_000, reportIntervalMs: 1000 },
        relay: { createsPerSecondPerIp: 1000, createBurstPerIp: 1000 },
      },
    },
  });
  const creator = await openStreamUser(net.devnet.networkFile, layout.length);
  const viewers = await openStreamUser(net.devnet.networkFile, layout.length);
  const sinks: Sink[] = [];
  try {
    const b = await startBroadcast(creator.session, creator.identity, { bitrate, maxViewers: 100_000 });
    let n = 0;
    const started = performance.now();
    const timer = setInterval(() => {
      const due = Math.floor(((performance.now() - started) * FPS) / 1000);
      while (n <= due) {
        b.sendFrame(syntheticFrame(n++, { keyEvery: KEY_EVERY, size: frameBytes, fps: FPS }));
      }
    }, 5);
    // The reference viewer at the landing node, then one at the distribution node: on a devnet
    // just started, a node list that does not name every node yet can keep the distribution node
    // out of the tree for a moment (the landing node offers it again a few seconds later).
    sinks.push(await openSink(viewers.session, b.invite, await requestViewerId(viewers.session), '127.0.1.1'));
    for (let attempt = 0; ; attempt++) {
      const probe = await openSink(viewers.session, b.invite, await requestViewerId(viewers.session), `127.0.1.${2 + attempt}`);
      if (!probe.atLanding) {
        sinks.push(probe);
        break;
      }
      probe.link.close('not at the distribution node');
      if (attempt >= 5) throw new Error('no viewer reached the distribution node');
      await new Promise((r) => setTimeout(r, 6000));
    }
    let sustained = 0;
    let limitFound = false;
    let hops: number[] = [];
    let sinkNo = 0;
    for (const step of steps) {
      const more = Math.max(0, step + 1 - sinks.length); // +1: the reference viewer at the landing node
      const ids = await inBatches(more, 8, () => requestViewerId(viewers.session));
      sinks.push(
        ...(await inBatches(more, 16, (i) => {
          const k = sinkNo++;
          return openSink(viewers.session, b.invite, ids[i]!, `127.0.${2 + Math.floor(k / 200)}.${1 + (k % 200)}`);
        })),
      );
      await waitFor(() => b.stats().viewers >= step + 1, `${step + 1} viewers reported`, 60_000);
      await new Promise((r) => setTimeout(r, 2000 + 2000 * Math.floor(step / 200)));
      const from = n;
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const to = n;
      await new Promise((r) => setTimeout(r, 1500));
      const dist = sinks.filter((s) => !s.atLanding);
      const ref = sinks.find((s) => s.atLanding);
      let due = 0;
      let got = 0;
      for (const s of dist) {
        for (let f = from; f < to; f++) {
          due++;
          if (s.arrivals.has(f)) got++;
        }
      }
      const loss = due ? 1 - got / due : 1;
      if (ref && hops.length === 0) {
        for (const s of dist.slice(0, 10)) {
          for (let f = from; f < to; f++) {
            const a = s.arrivals.get(f);
            const r = ref.arrivals.get(f);
            if (a !== undefined && r !== undefined) hops.push(a - r);
          }
        }
      }
      process.stderr.write(`fanout: ${dist.length} viewers at the distribution node, loss ${(loss * 100).toFixed(3)} %, broadcaster skipped ${b.stats().framesSkipped}\n`);
      for (const s of sinks) for (const f of [...s.arrivals.keys()]) if (f < to) s.arrivals.delete(f);
      if (loss >= 0.001) {
        limitFound = true;
        break;
      }
      sustained = dist.length;
    }
    clearInterval(timer);
    if (hops.length === 0) hops = [NaN];
    const extra = { bitrate, fps: FPS, nodeProcesses: layout.length, sameHost: true };
    emit({ bench: 'fanout', metric: 'viewers_sustained', value: sustained, unit: 'viewers', maxLossPct: 0.1, limitFound, ...extra });
    emit({ bench: 'fanout', metric: 'hop_ms_p50', value: round(quantile(hops, 0.5)), unit: 'ms', samples: hops.length, ...extra });
    emit({ bench: 'fanout', metric: 'hop_ms_p95', value: round(quantile(hops, 0.95)), unit: 'ms', samples: hops.length, ...extra });
    await b.stop();
  } finally {
    for (const s of sinks) s.link.close('bench over');
    creator.session.close();
    viewers.session.close();
    await net.stop();
  }
}
