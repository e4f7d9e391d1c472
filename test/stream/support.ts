/**
 * Live-stream devnets for tests and benchmarks: discovery, authority and oracle nodes, onion
 * nodes of which some land streams and some distribute them, and client sessions on it.
 */
import type { NodeSpec } from '../../node-core/io/devnet/devnet';
import { streamRoles } from '../../node-core/io/devnet/devnet';
import { nodeSuite } from '../../node-core/io/crypto-node';
import { ClientSession, clientIdentity, type ClientIdentity } from '../../node-core/io/client/session';
import type { MediaFrame } from '../../node-core/stream/media-frame';
import { waitForAsync } from '../support/raw-link';

export function streamLayout(opts: { landing?: number; distribution?: number; onions?: number } = {}): NodeSpec[] {
  const landing = opts.landing ?? 1;
  const distribution = opts.distribution ?? 2;
  const onions = opts.onions ?? Math.max(landing + distribution + 3, 6);
  return [
    ...[1, 2, 3].map((i) => ({ nickname: `discovery${i}`, roles: ['discovery' as const], port: 0 })),
    ...[1, 2].map((i) => ({ nickname: `authority${i}`, roles: ['authority' as const], port: 0 })),
    ...[1, 2].map((i) => ({ nickname: `oracle${i}`, roles: ['oracle' as const], port: 0 })),
    ...Array.from({ length: onions }, (_, k) => ({ nickname: `onion${k + 1}`, roles: streamRoles(k + 1, landing, distribution), port: 0 })),
  ];
}

export interface StreamUser {
  session: ClientSession;
  identity: ClientIdentity;
}

/** A client session with a registered identity and an access certificate, once the node list is complete. */
export async function openStreamUser(networkFile: string, nodeCount: number, localAddress?: string): Promise<StreamUser> {
  const identity = clientIdentity(nodeSuite, nodeSuite.randomBytes(32));
  const session = new ClientSession({ suite: nodeSuite, network: networkFile, ...(localAddress ? { localAddress } : {}) });
  await waitForAsync(async () => (await session.refreshDirectory().catch(() => undefined))?.nodes.length === nodeCount, 'a full node list', 90_000);
  await session.start(identity);
  return { session, identity };
}

/** A synthetic video frame: `size` bytes whose content names the frame. */
export function syntheticFrame(n: number, opts: { keyEvery?: number; size?: number; fps?: number } = {}): MediaFrame {
  const keyEvery = opts.keyEvery ?? 30;
  const size = opts.size ?? 4000;
  const fps = opts.fps ?? 30;
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (n * 31 + i * 7) & 0xff;
  new DataView(data.buffer).setUint32(0, n);
  return {
    track: 'video',
    keyframe: n % keyEvery === 0,
    timestampUs: Math.round((n * 1e6) / fps),
    capturedAtMs: Date.now(),
    codec: 'vp8',
    width: 320,
    height: 240,
    description: new Uint8Array(0),
    data,
  };
}

/** The frame number a synthetic frame carries. */
export function frameNumber(f: MediaFrame): number {
  return new DataView(f.data.buffer, f.data.byteOffset, f.data.byteLength).getUint32(0);
}
