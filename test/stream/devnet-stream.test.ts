/**
 * Live streams over a devnet of real node processes on loopback TLS: oracle receipts and viewer
 * IDs, a landing node, distribution nodes attached as viewers grow, frames end to end (SFrame and
 * group signatures), viewer counts back at the broadcaster — and what the nodes saw: no stream
 * message to any node carries the stream key, the bytes relays forward do not open without it,
 * and a frame under a bad broadcaster signature is dropped by the viewer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStreamMessage, decodeInvite, frameMetadata, streamSFrameContext, type StreamKeys, FrameAssembler } from '../../node-core/stream';
import { joinStream, listPublicStreams, startBroadcast } from '../../node-core/io/client/stream-client';
import type { StreamBroadcaster, StreamViewer } from '../../node-core/io/client/stream-api';
import type { MediaFrame } from '../../node-core/stream/media-frame';
import { fromHex, toHex } from '../../node-core/util/bytes';
import { nodeSuite } from '../../node-core/io/crypto-node';
import { startTestNet, type TestNet } from '../support/devnet';
import { waitFor, waitForAsync } from '../support/raw-link';
import { frameNumber, openStreamUser, streamLayout, syntheticFrame, type StreamUser } from './support';

const layout = streamLayout({ landing: 1, distribution: 2, onions: 6 });
let net: TestNet;
let creator: StreamUser;
let viewers: StreamUser[];

beforeAll(async () => {
  // A small landing capacity so that the third viewer is redirected to a distribution node.
  net = await startTestNet({ layout, periodMs: 3000, observe: true, configPatch: { limits: { stream: { landingCapacity: 2, reportIntervalMs: 300 } } } });
  creator = await openStreamUser(net.devnet.networkFile, layout.length);
  viewers = await Promise.all([0, 1, 2].map(() => openStreamUser(net.devnet.networkFile, layout.length)));
}, 180_000);

afterAll(async () => {
  for (const u of [creator, ...(viewers ?? [])]) u?.session.close();
  await net?.stop();
});

/** Sends frames at ~30 fps until stopped. */
function pump(b: StreamBroadcaster, start = 0): { stop(): void; sent: () => number } {
  let n = start;
  const t = setInterval(() => {
    b.sendFrame(syntheticFrame(n));
    n++;
  }, 33);
  return { stop: () => clearInterval(t), sent: () => n };
}

function collect(v: StreamViewer): MediaFrame[] {
  const got: MediaFrame[] = [];
  v.onFrame((f) => got.push(f));
  return got;
}

describe('a live stream over the devnet', () => {
  let b: StreamBroadcaster;
  let keys: StreamKeys;

  it('reaches viewers at the landing node and, past its capacity, at a distribution node; counts go back to the broadcaster', async () => {
    b = await startBroadcast(creator.session, creator.identity, { bitrate: 2_000_000, maxViewers: 10 });
    keys = decodeInvite(b.invite).keys;
    const p = pump(b);
    try {
      const joined: StreamViewer[] = [];
      const frames: MediaFrame[][] = [];
      for (const u of viewers) {
        const v = await joinStream(u.session, b.invite);
        joined.push(v);
        frames.push(collect(v));
      }
      await waitFor(() => b.stats().viewers === 3, 'three viewers reported to the broadcaster', 30_000);
      await waitFor(() => frames.every((f) => f.length >= 60), 'every viewer playing frames', 30_000);
      for (const got of frames) {
        // Each viewer starts at a keyframe and then gets consecutive frames, byte for byte.
        expect(got[0]!.keyframe).toBe(true);
        const first = frameNumber(got[0]!);
        got.slice(0, 60).forEach((f, i) => {
          expect(frameNumber(f)).toBe(first + i);
          expect(toHex(f.data)).toBe(toHex(syntheticFrame(first + i).data));
        });
      }
      expect(b.stats().nodes).toBeGreaterThanOrEqual(2); // a distribution node was attached
      for (const v of joined) await v.leave();
      await waitFor(() => b.stats().viewers === 0, 'the count back at zero', 30_000);
    } finally {
      p.stop();
    }
  }, 120_000);

  it('no stream message to any node carries the stream key, and the media relays forward does not open without it', () => {
    const keyHex = toHex(keys.streamKey);
    let media = 0;
    for (const n of net.nodes) {
      for (const o of net.observations(n.nickname)) {
        const hex = typeof o.message === 'string' ? o.message : typeof o.payload === 'string' ? o.payload : '';
        expect(hex.includes(keyHex), `${n.nickname} saw the stream key`).toBe(false);
        if (o.type !== 'stream-message' || hex === '') continue;
        const m = decodeStreamMessage(fromHex(hex));
        if (m.type === 'media') media++;
      }
    }
    expect(media).toBeGreaterThan(0);
    // What the landing node received: the frames open with the invite's keys only.
    const landing = net.nodes.find((n) => n.roles.includes('landing'))!;
    const asm = new FrameAssembler();
    const wrong: StreamKeys = { ...keys, streamKey: nodeSuite.randomBytes(32) };
    let opened = 0;
    let tried = 0;
    for (const o of net.observations(landing.nickname)) {
      if (o.type !== 'stream-message' || o.message === '') continue;
      const m = decodeStreamMessage(fromHex(o.message as string));
      if (m.type !== 'media') continue;
      const f = asm.push(m);
      if (!f) continue;
      tried++;
      const meta = frameMetadata(f.streamId, f.groupSeq, f.frameSeq);
      expect(() => streamSFrameContext(f.streamId, wrong, 'decrypt').decrypt(f.ciphertext, meta)).toThrow();
      const { plaintext } = streamSFrameContext(f.streamId, keys, 'decrypt').decrypt(f.ciphertext, meta);
      expect(plaintext.length).toBeGreaterThan(0);
      opened++;
    }
    expect(tried).toBeGreaterThan(0);
    expect(opened).toBe(tried);
  });

  it('a viewer drops frames under a bad broadcaster signature and plays the next good group', async () => {
    const v = await joinStream(viewers[0]!.session, b.invite);
    const got = collect(v);
    let n = 10_000;
    const send = (count: number) => {
      for (let i = 0; i < count; i++) b.sendFrame(syntheticFrame(n++));
    };
    send(30);
    await waitFor(() => got.length >= 20, 'frames of the good group', 20_000);
    // Frames signed with a key that is not the stream's (an injector who knows the stream key).
    const internals = b as unknown as { signingSecret: Uint8Array };
    const good = internals.signingSecret.slice();
    internals.signingSecret.set(nodeSuite.randomBytes(32));
    const bad = new Set<number>();
    for (let i = 0; i < 30; i++) {
      bad.add(n);
      send(1);
    }
    internals.signingSecret.set(good);
    send(40);
    await waitFor(() => got.some((f) => frameNumber(f) >= n - 20), 'frames of the next good group', 20_000);
    expect(got.filter((f) => bad.has(frameNumber(f)))).toEqual([]);
    expect(v.stats().badSignatures).toBeGreaterThan(0);
    await v.leave();
    await b.stop();
  }, 60_000);

  it('a public stream is listed through the DHT, watched from the list, and unlisted when it ends', async () => {
    const pub = await startBroadcast(creator.session, creator.identity, {
      bitrate: 1_000_000,
      maxViewers: 5,
      public: { title: 'Public test stream', description: 'listed in the DHT' },
    });
    const p = pump(pub);
    try {
      const listed = await waitForAsync(
        async () => (await listPublicStreams(viewers[1]!.session)).find((s) => toHex(s.streamId) === toHex(pub.streamId)),
        'the public stream listed',
        30_000,
      );
      expect(listed.title).toBe('Public test stream');
      const v = await joinStream(viewers[1]!.session, listed.invite);
      const got = collect(v);
      await waitFor(() => got.length >= 10, 'frames of the public stream', 20_000);
      await v.leave();
    } finally {
      p.stop();
      await pub.stop();
    }
    await waitForAsync(
      async () => !(await listPublicStreams(viewers[1]!.session)).some((s) => toHex(s.streamId) === toHex(pub.streamId)),
      'the public stream unlisted',
      30_000,
    );
  }, 90_000);

  it('carries audio with video: audio frames (each a key chunk, as Opus gives them) ride the video groups', async () => {
    const b2 = await startBroadcast(creator.session, creator.identity, { bitrate: 1_000_000, maxViewers: 5 });
    const audioFrame = (k: number): MediaFrame => ({
      track: 'audio',
      keyframe: true,
      timestampUs: k * 20_000,
      capturedAtMs: Date.now(),
      codec: 'opus',
      sampleRate: 48_000,
      channels: 1,
      description: new Uint8Array(0),
      data: Uint8Array.of(k & 0xff, 1, 2, 3),
    });
    let k = 0;
    // Audio first (before any video), then both, as a browser's encoders deliver them.
    for (let i = 0; i < 5; i++) b2.sendFrame(audioFrame(k++));
    const p = pump(b2);
    const at = setInterval(() => b2.sendFrame(audioFrame(k++)), 20);
    try {
      const v = await joinStream(viewers[2]!.session, b2.invite);
      const got = collect(v);
      await waitFor(() => got.filter((f) => f.track === 'video').length >= 60 && got.filter((f) => f.track === 'audio').length >= 60, 'video and audio frames', 30_000);
      expect(v.stats().badSignatures).toBe(0);
      await v.leave();
    } finally {
      p.stop();
      clearInterval(at);
      await b2.stop();
    }
  }, 60_000);
});
