/**
 * Live streams in the app services (app/services/stream.ts) over an in-memory stream network
 * (./stream-memnet): every stream method through the same contract-checked dispatcher the web
 * host uses, its errors ("already broadcasting", "not broadcasting", "not a stream invite"), one
 * broadcast and one view at a time, frames from broadcast.frames reaching a viewer as view.frames,
 * backpressure asking for a keyframe, the camera permission following the broadcast, and
 * everything ending on stopAll (what the services call on profile lock and close).
 *
 * Then the real services: the methods are registered and refuse without an online profile; and on
 * a devnet, two online profiles share an invite through an end-to-end chat message, watch, and
 * the broadcast and the view end when the broadcaster's profile is locked.
 */
import { randomBytes } from 'node:crypto';
import { base58 } from '@scure/base';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_BATCH_BYTES,
  MAX_MEDIA_DESCRIPTION_BYTES,
  MAX_MEDIA_DIMENSION,
  MAX_STREAM_INVITE_BYTES,
  METHOD_NAMES,
  STREAM_INVITE_PREFIX,
  formatStreamInvite,
  parseStreamInvite,
  type EventName,
  type MethodName,
  type MethodParams,
  type MethodResult,
  type Result,
} from '../../app/contract';
import { callMethod, ServiceError, type ServiceHandlers } from '../../app/services';
import { STREAM_METHODS, StreamService, mediaFrameFromContract, unavailableStreamNetwork, type StreamContext } from '../../app/services/stream';
import type { ClientIdentity, ClientSession } from '../../node-core/io/client/session';
import { silentLogger } from '../../node-core/io/log';
import { MAX_INVITE_LENGTH } from '../../node-core/stream/invite';
import { MAX_DESCRIPTION_LENGTH, MAX_VIDEO_DIMENSION, type MediaFrame } from '../../node-core/stream/media-frame';
import { deadNetworkFile, eventsOf, openAppUser, removeTempRoots, startAppNet, tempRoot, waitOnline, waitUntil, type AppUser } from './helpers';
import { MemoryBroadcaster, MemoryStreamNetwork } from './stream-memnet';

afterAll(() => removeTempRoots());

type Frame = MethodParams<'broadcast.frames'>['frames'][number];

const b64 = (bytes: Uint8Array | number[]): string => Buffer.from(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes)).toString('base64');

function video(n: number, keyframe = n % 10 === 0, extra: Partial<Frame> = {}): Frame {
  return {
    track: 'video',
    keyframe,
    timestampUs: n * 40_000,
    capturedAtMs: 1_700_000_000_000 + n * 40,
    codec: 'vp8',
    width: 640,
    height: 480,
    description: '',
    data: b64([n & 0xff, 1, 2, 3, 4]),
    ...extra,
  } as Frame;
}

function audio(n: number): Frame {
  return {
    track: 'audio',
    keyframe: false,
    timestampUs: n * 20_000,
    capturedAtMs: 1_700_000_000_000 + n * 20,
    codec: 'opus',
    sampleRate: 48_000,
    channels: 1,
    description: '',
    data: b64([0xfc, n & 0xff]),
  };
}

interface Harness {
  readonly net: MemoryStreamNetwork;
  readonly service: StreamService;
  readonly events: Array<{ event: EventName; payload: unknown }>;
  readonly media: boolean[];
  readonly chats: Array<{ peer: string; text: string }>;
  online: boolean;
  call<M extends MethodName>(method: M, params: MethodParams<M>): Promise<Result<MethodResult<M>>>;
  ok<M extends MethodName>(method: M, params: MethodParams<M>): Promise<MethodResult<M>>;
  raw(method: unknown, params: unknown): Promise<Result<unknown>>;
  eventsOf(event: EventName): unknown[];
}

const PEER = 'ab'.repeat(32);
const fakeContext: StreamContext = {
  session: { fake: 'session' } as unknown as ClientSession,
  identity: { text: 'sirius.chat.account.fake' } as unknown as ClientIdentity,
};

function harness(net = new MemoryStreamNetwork(), statsMs = 1000): Harness {
  const events: Harness['events'] = [];
  const media: boolean[] = [];
  const chats: Harness['chats'] = [];
  const failures: unknown[] = [];
  const h: Harness = {
    net,
    events,
    media,
    chats,
    online: true,
    service: new StreamService({
      network: net,
      context: () => {
        if (!h.online) throw new ServiceError('stream.offline', 'You are offline. Live streams work once you are online.');
        return fakeContext;
      },
      sendChat: async (peer, text) => {
        chats.push({ peer, text });
        return { id: '0'.repeat(32), peer, direction: 'out', kind: 'text', text, sentAt: 1, status: 'pending' };
      },
      emit: (event, payload) => events.push({ event, payload }),
      onMediaAccess: (active) => media.push(active),
      log: silentLogger(),
      statsMs,
      frameBatchMs: 0,
    }),
    raw: async (method, params) => {
      const table: Record<string, (p: never) => unknown> = {};
      for (const m of METHOD_NAMES) {
        table[m] = () => {
          throw new ServiceError('test.unused', `${m} is not used here`);
        };
      }
      Object.assign(table, h.service.handlers());
      const r = await callMethod(table as unknown as ServiceHandlers, method, params, (_m, e) => failures.push(e));
      expect(failures).toEqual([]);
      return r;
    },
    call: (method, params) => h.raw(method, params) as never,
    async ok(method, params) {
      const r = await h.call(method, params);
      if (!r.ok) throw new Error(`${method} failed: ${r.error.code}: ${r.error.message}`);
      return r.value;
    },
    eventsOf: (event) => events.filter((e) => e.event === event).map((e) => e.payload),
  };
  return h;
}

async function expectError(h: Harness, method: unknown, params: unknown, code: string, message?: RegExp): Promise<void> {
  const r = await h.raw(method, params);
  expect(r.ok, `${String(method)} ${JSON.stringify(params)?.slice(0, 120)}`).toBe(false);
  if (!r.ok) {
    expect(r.error.code).toBe(code);
    if (message) expect(r.error.message).toMatch(message);
  }
}

function only<T>(values: Iterable<T>): T {
  const all = [...values];
  expect(all).toHaveLength(1);
  return all[0]!;
}

/** Lets the 0 ms batching timers run. */
const tick = () => new Promise((r) => setTimeout(r, 5));

/** The frames that reached view.frames, in order. */
function viewedFrames(h: Harness): Frame[] {
  return h.eventsOf('view.frames').flatMap((p) => (p as { frames: Frame[] }).frames);
}

describe('the contract for streams', () => {
  it('mirrors the bounds of the frame and invite layouts', () => {
    expect(MAX_MEDIA_DESCRIPTION_BYTES).toBe(MAX_DESCRIPTION_LENGTH);
    expect(MAX_MEDIA_DIMENSION).toBe(MAX_VIDEO_DIMENSION);
    expect(MAX_STREAM_INVITE_BYTES).toBe(MAX_INVITE_LENGTH);
  });

  it('writes an invite as sirius-stream:<base58> and reads back only exactly that form', () => {
    const bytes = new Uint8Array(randomBytes(126));
    const text = formatStreamInvite(bytes);
    expect(text.startsWith(STREAM_INVITE_PREFIX)).toBe(true);
    expect(text.slice(STREAM_INVITE_PREFIX.length)).toBe(base58.encode(bytes));
    expect(parseStreamInvite(text)).toEqual(bytes);
    for (const bad of ['', 'sirius-stream:', `${text} `, ` ${text}`, `${text}\n`, text.replace('sirius-stream:', 'Sirius-Stream:'), `${text}0`, `${text}l`, 'sirius-stream:' + '2'.repeat(201), `see ${text}`]) {
      expect(parseStreamInvite(bad), JSON.stringify(bad)).toBeNull();
    }
    expect(() => formatStreamInvite(new Uint8Array(0))).toThrow(RangeError);
    expect(() => formatStreamInvite(new Uint8Array(MAX_STREAM_INVITE_BYTES + 1))).toThrow(RangeError);
    expect(() => formatStreamInvite('x' as never)).toThrow(TypeError);
    expect(() => parseStreamInvite(1 as never)).toThrow(TypeError);
  });
});

describe('broadcasting', () => {
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });

  it('starts one broadcast at a time, turning the camera permission on, and refuses a second', async () => {
    expect(await h.ok('broadcast.status', {})).toMatchObject({ live: false, viewers: 0 });
    const started = await h.ok('broadcast.start', { bitrate: 1_000_000, maxViewers: 10 });
    expect(started.streamId).toMatch(/^[0-9a-f]{32}$/);
    expect(started.isPublic).toBe(false);
    const b = only(h.net.streams.values());
    expect(b.options).toEqual({ bitrate: 1_000_000, maxViewers: 10, public: null });
    // The network was asked with the profile's own session and identity.
    expect(b.session).toBe(fakeContext.session);
    expect(b.identity).toBe(fakeContext.identity);
    expect(h.media).toEqual([true]);
    expect(h.eventsOf('broadcast.stats').at(-1)).toMatchObject({ live: true, streamId: started.streamId });
    await expectError(h, 'broadcast.start', { bitrate: 1_000_000, maxViewers: 10 }, 'broadcast.already', /already broadcasting/i);
    expect(h.net.streams.size).toBe(1);
    expect(await h.ok('broadcast.status', {})).toMatchObject({ live: true, streamId: started.streamId, viewers: 0, nodes: 1 });
  });

  it('refuses a second start while the first is still on its way', async () => {
    h.net.holdStart();
    const first = h.call('broadcast.start', { bitrate: 500_000, maxViewers: 5 });
    await tick();
    await expectError(h, 'broadcast.start', { bitrate: 500_000, maxViewers: 5 }, 'broadcast.already', /already broadcasting/i);
    h.net.release();
    expect((await first).ok).toBe(true);
    expect(h.net.streams.size).toBe(1);
  });

  it('refuses bad parameters with a clear error and starts nothing', async () => {
    const bad: unknown[] = [
      {},
      { bitrate: 99_999, maxViewers: 1 },
      { bitrate: 20_000_001, maxViewers: 1 },
      { bitrate: 1e6, maxViewers: 0 },
      { bitrate: 1e6, maxViewers: 100_001 },
      { bitrate: 1.5e6 + 0.5, maxViewers: 1 },
      { bitrate: 1e6, maxViewers: 1, public: { title: '', description: '' } },
      { bitrate: 1e6, maxViewers: 1, public: { title: '   ', description: '' } },
      { bitrate: 1e6, maxViewers: 1, public: { title: 'x'.repeat(129), description: '' } },
      { bitrate: 1e6, maxViewers: 1, public: { title: 'ok', description: 'x'.repeat(1025) } },
      { bitrate: 1e6, maxViewers: 1, public: { title: 'ok' } },
      { bitrate: 1e6, maxViewers: 1, extra: true },
      { bitrate: '1000000', maxViewers: 1 },
    ];
    for (const params of bad) await expectError(h, 'broadcast.start', params, 'invalid_params');
    expect(h.net.streams.size).toBe(0);
    expect(h.media).toEqual([]);
  });

  it('reports a start the network refused, and the slot is free again', async () => {
    h.net.failStart = new Error('no oracle accepted the receipt request');
    await expectError(h, 'broadcast.start', { bitrate: 1e6, maxViewers: 1 }, 'broadcast.failed', /could not start: no oracle accepted/);
    expect(h.media).toEqual([]);
    expect((await h.ok('broadcast.start', { bitrate: 1e6, maxViewers: 1 })).streamId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('needs an online profile', async () => {
    h.online = false;
    await expectError(h, 'broadcast.start', { bitrate: 1e6, maxViewers: 1 }, 'stream.offline', /offline/);
    await expectError(h, 'streams.public', {}, 'stream.offline');
    expect(h.net.streams.size).toBe(0);
  });

  it('hands frames to the broadcaster in order and answers how many went', async () => {
    await h.ok('broadcast.start', { bitrate: 1e6, maxViewers: 10 });
    const b = only(h.net.streams.values());
    const frames = [video(0, true), audio(0), video(1), audio(1), video(2)];
    expect(await h.ok('broadcast.frames', { frames })).toEqual({ accepted: 5, skipped: 0, wantKeyframe: false });
    expect(b.log.map((l) => [l.frame.track, l.frame.timestampUs, l.sent])).toEqual([
      ['video', 0, true],
      ['audio', 0, true],
      ['video', 40_000, true],
      ['audio', 20_000, true],
      ['video', 80_000, true],
    ]);
    const first = b.log[0]!.frame;
    expect(first).toMatchObject({ track: 'video', keyframe: true, codec: 'vp8', width: 640, height: 480, capturedAtMs: 1_700_000_000_000 });
    expect(Array.from(first.data)).toEqual([0, 1, 2, 3, 4]);
    expect(first.description).toEqual(new Uint8Array(0));
  });

  it('asks for a keyframe when frames were skipped, and sends again from the next keyframe', async () => {
    await h.ok('broadcast.start', { bitrate: 1e6, maxViewers: 10 });
    await h.ok('broadcast.frames', { frames: [video(0, true)] });
    h.net.backpressure = true;
    expect(await h.ok('broadcast.frames', { frames: [video(1), video(2)] })).toEqual({ accepted: 0, skipped: 2, wantKeyframe: true });
    h.net.backpressure = false;
    // Still waiting for a keyframe: deltas are skipped, audio goes.
    expect(await h.ok('broadcast.frames', { frames: [video(3), audio(3)] })).toEqual({ accepted: 1, skipped: 1, wantKeyframe: true });
    expect(await h.ok('broadcast.frames', { frames: [video(4, true), video(5)] })).toEqual({ accepted: 2, skipped: 0, wantKeyframe: false });
    expect((await h.ok('broadcast.status', {})).framesSkipped).toBe(3);
  });

  it('refuses a bad batch as a whole: nothing of it is sent', async () => {
    await h.ok('broadcast.start', { bitrate: 1e6, maxViewers: 10 });
    const b = only(h.net.streams.values());
    const big = Buffer.alloc(1024 * 1024 + 1).toString('base64');
    const bad: unknown[] = [
      { frames: [] },
      { frames: Array.from({ length: 65 }, (_, i) => video(i)) },
      { frames: [video(0, true), { ...video(1), data: 'not base64!' }] },
      { frames: [video(0, true), { ...video(1), data: 'AAA' }] },
      { frames: [video(0, true), { ...video(1), data: '' }] },
      { frames: [{ ...video(1), data: big }] },
      { frames: [{ ...video(1), description: Buffer.alloc(MAX_MEDIA_DESCRIPTION_BYTES + 1).toString('base64') }] },
      { frames: [video(0, true), { ...video(1), width: undefined }] },
      { frames: [{ ...video(1), width: 0 }] },
      { frames: [{ ...video(1), height: 8193 }] },
      { frames: [{ ...audio(1), width: 640 }] },
      { frames: [{ ...audio(1), sampleRate: 7999 }] },
      { frames: [{ ...audio(1), channels: 9 }] },
      { frames: [{ ...audio(1), track: 'data' }] },
      { frames: [{ ...video(1), codec: '' }] },
      { frames: [{ ...video(1), codec: 'vp 8' }] },
      { frames: [{ ...video(1), codec: 'v'.repeat(65) }] },
      { frames: [{ ...video(1), timestampUs: -1 }] },
      { frames: [{ ...video(1), timestampUs: 2 ** 53 }] },
      { frames: [{ ...video(1), capturedAtMs: 1.5 }] },
      { frames: [{ ...video(1), keyframe: 'yes' }] },
      { frames: [{ ...video(1), extra: 1 }] },
      { frames: [video(1)], extra: 1 },
    ];
    for (const params of bad) await expectError(h, 'broadcast.frames', params, 'invalid_params');
    // 17 frames of 1 MiB are each allowed, but not together in one batch.
    const mib = Buffer.alloc(1024 * 1024, 7).toString('base64');
    const tooMuch = Array.from({ length: MAX_BATCH_BYTES / (1024 * 1024) + 1 }, (_, i) => ({ ...video(i), data: mib }));
    await expectError(h, 'broadcast.frames', { frames: tooMuch }, 'invalid_params', /bytes of frames/);
    expect(b.log).toEqual([]);
  });

  it('checks each frame against the frame layout before any is sent', () => {
    const frame = { ...video(1), codec: 'bad codec' } as Frame;
    expect(() => mediaFrameFromContract(frame, 3)).toThrow(ServiceError);
    expect(() => mediaFrameFromContract(frame, 3)).toThrow(/Frame 4 .*codec/);
    expect(() => mediaFrameFromContract(null as never)).toThrow(TypeError);
    expect(() => mediaFrameFromContract(video(1), -1)).toThrow(RangeError);
    const ok: MediaFrame = mediaFrameFromContract(audio(2));
    expect(ok).toMatchObject({ track: 'audio', sampleRate: 48_000, channels: 1, codec: 'opus' });
  });

  it('stops: figures stay, the permission goes off, and then there is nothing to stop or feed', async () => {
    const { streamId } = await h.ok('broadcast.start', { bitrate: 1e6, maxViewers: 10 });
    const b = only(h.net.streams.values());
    await h.ok('broadcast.frames', { frames: [video(0, true), video(1)] });
    const stopped = await h.ok('broadcast.stop', {});
    expect(stopped).toMatchObject({ live: false, streamId, framesSent: 2, viewers: 0 });
    expect(stopped.endedReason).toBeUndefined();
    expect(b.stopped).toBe(true);
    expect(h.media).toEqual([true, false]);
    expect(h.eventsOf('broadcast.stats').at(-1)).toMatchObject({ live: false, streamId });
    await expectError(h, 'broadcast.stop', {}, 'broadcast.not_broadcasting', /not broadcasting/i);
    await expectError(h, 'broadcast.frames', { frames: [video(2, true)] }, 'broadcast.not_broadcasting', /not broadcasting/i);
    await expectError(h, 'broadcast.shareInvite', { peer: PEER }, 'broadcast.not_broadcasting', /not broadcasting/i);
    expect(b.log).toHaveLength(2);
    expect(h.chats).toEqual([]);
  });

  it('tells the UI when the network ends the broadcast, with the reason', async () => {
    await h.ok('broadcast.start', { bitrate: 1e6, maxViewers: 10 });
    const b = only(h.net.streams.values());
    b.end('The landing node closed the stream.');
    expect(h.eventsOf('broadcast.stats').at(-1)).toMatchObject({ live: false, endedReason: 'The landing node closed the stream.' });
    expect(await h.ok('broadcast.status', {})).toMatchObject({ live: false, endedReason: 'The landing node closed the stream.' });
    expect(h.media).toEqual([true, false]);
    // A new broadcast may start; its status no longer carries the old reason.
    await h.ok('broadcast.start', { bitrate: 1e6, maxViewers: 10 });
    expect((await h.ok('broadcast.status', {})).endedReason).toBeUndefined();
  });

  it('pushes broadcast.stats while live', async () => {
    const fast = harness(new MemoryStreamNetwork(), 20);
    await fast.ok('broadcast.start', { bitrate: 1e6, maxViewers: 10 });
    const before = fast.eventsOf('broadcast.stats').length;
    await waitUntil(() => fast.eventsOf('broadcast.stats').length >= before + 3, 'periodic broadcast.stats', 10_000, 10);
    await fast.ok('broadcast.stop', {});
    const after = fast.eventsOf('broadcast.stats').length;
    await new Promise((r) => setTimeout(r, 100));
    expect(fast.eventsOf('broadcast.stats').length).toBe(after);
  });
});

describe('invites and viewing', () => {
  let h: Harness;
  let viewer: Harness;
  beforeEach(() => {
    h = harness();
    viewer = harness(h.net);
  });

  async function shareAndJoin(): Promise<{ streamId: string; text: string }> {
    const { streamId } = await h.ok('broadcast.start', { bitrate: 1e6, maxViewers: 10 });
    const message = await h.ok('broadcast.shareInvite', { peer: PEER });
    const sent = only(h.chats);
    expect(sent.peer).toBe(PEER);
    expect(message.text).toBe(sent.text);
    // The chat hears of the message the service wrote.
    expect(h.eventsOf('chat.message')).toEqual([message]);
    // The chat text is exactly the invite form, and carries the broadcaster's invite bytes.
    expect(parseStreamInvite(sent.text)).toEqual(only(h.net.streams.values()).invite);
    expect(await viewer.ok('view.join', { invite: sent.text })).toEqual({ streamId });
    return { streamId, text: sent.text };
  }

  it('a viewer joins from the chat text and gets the frames, in order and intact', async () => {
    const { streamId } = await shareAndJoin();
    expect((await h.ok('broadcast.status', {})).viewers).toBe(1);
    expect(await viewer.ok('view.status', {})).toMatchObject({ watching: true, streamId });
    const frames = [video(0, true), audio(0), video(1), { ...video(2), description: b64([1, 2, 3]) }, audio(1)];
    await h.ok('broadcast.frames', { frames });
    await waitUntil(() => viewedFrames(viewer).length === frames.length, 'the frames to arrive', 10_000, 5);
    expect(viewedFrames(viewer)).toEqual(frames);
    expect(viewer.eventsOf('view.frames').every((p) => (p as { streamId: string }).streamId === streamId)).toBe(true);
    // The broadcaster's own profile is not watching.
    expect(h.eventsOf('view.frames')).toEqual([]);
  });

  it('batches many frames into events of at most 64', async () => {
    await shareAndJoin();
    const frames = Array.from({ length: 64 }, (_, i) => video(i, i === 0));
    await h.ok('broadcast.frames', { frames });
    await h.ok('broadcast.frames', { frames: frames.map((f, i) => ({ ...f, timestampUs: (64 + i) * 40_000, keyframe: false })) });
    await waitUntil(() => viewedFrames(viewer).length === 128, 'all frames', 10_000, 5);
    const sizes = viewer.eventsOf('view.frames').map((p) => (p as { frames: unknown[] }).frames.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(64);
    expect(viewedFrames(viewer).map((f) => f.timestampUs)).toEqual(Array.from({ length: 128 }, (_, i) => i * 40_000));
  });

  it('watches one stream at a time and refuses what is not an invite, changing nothing', async () => {
    const { text } = await shareAndJoin();
    await expectError(viewer, 'view.join', { invite: text }, 'view.already', /already watching/i);
    const other = harness(h.net);
    for (const invite of ['hello', 'sirius-stream:', `${STREAM_INVITE_PREFIX}${base58.encode(randomBytes(20))}`, text.slice(0, -3), `https://x/${text}`]) {
      await expectError(other, 'view.join', { invite }, 'view.not_invite', /not a stream invite/i);
    }
    await expectError(other, 'view.join', { invite: '' }, 'invalid_params');
    await expectError(other, 'view.join', { invite: 'x'.repeat(1025) }, 'invalid_params');
    await expectError(other, 'view.join', { invite: text, more: 1 }, 'invalid_params');
    expect(await other.ok('view.status', {})).toMatchObject({ watching: false });
    // Pasted with blanks around it is fine.
    expect((await other.ok('view.join', { invite: `  ${text}\n` })).streamId).toMatch(/^[0-9a-f]{32}$/);
    expect((await h.ok('broadcast.status', {})).viewers).toBe(2);
  });

  it('says when the stream cannot be joined, and the slot is free again', async () => {
    const elsewhere = harness();
    await elsewhere.ok('broadcast.start', { bitrate: 1e6, maxViewers: 1 });
    await elsewhere.ok('broadcast.shareInvite', { peer: PEER });
    const foreign = only(elsewhere.chats).text;
    await expectError(viewer, 'view.join', { invite: foreign }, 'view.failed', /could not join the stream: no such stream/i);
    h.net.failJoin = new Error('the landing node refused the viewer');
    await h.ok('broadcast.start', { bitrate: 1e6, maxViewers: 1 });
    await h.ok('broadcast.shareInvite', { peer: PEER });
    await expectError(viewer, 'view.join', { invite: only(h.chats).text }, 'view.failed', /refused the viewer/);
    expect((await viewer.ok('view.join', { invite: only(h.chats).text })).streamId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('leaves: the broadcaster sees the viewer go, and no frames or end event follow', async () => {
    await shareAndJoin();
    expect(await viewer.ok('view.leave', {})).toMatchObject({ watching: false });
    expect((await h.ok('broadcast.status', {})).viewers).toBe(0);
    await h.ok('broadcast.frames', { frames: [video(0, true)] });
    await tick();
    expect(viewedFrames(viewer)).toEqual([]);
    expect(viewer.eventsOf('view.ended')).toEqual([]);
    await expectError(viewer, 'view.leave', {}, 'view.not_watching', /not watching/i);
  });

  it('tells the viewer when the broadcast stops', async () => {
    const { streamId } = await shareAndJoin();
    await h.ok('broadcast.frames', { frames: [video(0, true)] });
    await h.ok('broadcast.stop', {});
    expect(viewer.eventsOf('view.ended')).toEqual([{ streamId, reason: 'The broadcaster ended the stream.' }]);
    // The frame sent before the end was delivered before the end event.
    expect(viewedFrames(viewer)).toHaveLength(1);
    expect(await viewer.ok('view.status', {})).toMatchObject({ watching: false });
  });

  it('pushes view.stats while watching', async () => {
    const fast = harness(h.net, 20);
    await h.ok('broadcast.start', { bitrate: 1e6, maxViewers: 10 });
    await h.ok('broadcast.shareInvite', { peer: PEER });
    await fast.ok('view.join', { invite: only(h.chats).text });
    await h.ok('broadcast.frames', { frames: [video(0, true), video(1)] });
    await waitUntil(() => fast.eventsOf('view.stats').some((s) => (s as { framesReceived: number }).framesReceived === 2), 'view.stats', 10_000, 10);
    expect(fast.eventsOf('view.stats').at(-1)).toEqual({ framesReceived: 2, framesPlayed: 2, framesDropped: 0, badSignatures: 0, bitrateBps: 1000, fps: 25, latencyMs: 12 });
  });

  it('lists public streams with an invite to join them by', async () => {
    const { streamId, isPublic } = await h.ok('broadcast.start', { bitrate: 1e6, maxViewers: 10, public: { title: '  Night sky  ', description: 'stars' } });
    expect(isPublic).toBe(true);
    expect(only(h.net.streams.values()).options.public).toEqual({ title: 'Night sky', description: 'stars' });
    const list = await viewer.ok('streams.public', {});
    expect(list).toEqual([{ streamId, title: 'Night sky', invite: expect.stringMatching(/^sirius-stream:/) }]);
    expect(await viewer.ok('view.join', { invite: list[0]!.invite })).toEqual({ streamId });
  });
});

describe('stopping everything (profile lock and close)', () => {
  it('ends the broadcast and the view, with events, and turns the camera permission off', async () => {
    const h = harness();
    const viewer = harness(h.net);
    const { streamId } = await h.ok('broadcast.start', { bitrate: 1e6, maxViewers: 10 });
    await h.ok('broadcast.shareInvite', { peer: PEER });
    const other = harness(h.net);
    await other.ok('broadcast.start', { bitrate: 1e6, maxViewers: 10 });
    await other.ok('broadcast.shareInvite', { peer: PEER });
    // h watches other's stream while broadcasting its own; viewer watches h's.
    await h.ok('view.join', { invite: only(other.chats).text });
    await viewer.ok('view.join', { invite: only(h.chats).text });
    const b = h.net.streams.get(streamId)!;
    const watched = [...h.net.streams.values()].find((x) => x !== b)!;
    expect(watched.viewers.size).toBe(1);

    await h.service.stopAll('The profile was locked.');
    expect(b.stopped).toBe(true);
    expect(watched.viewers.size).toBe(0);
    expect(h.service.broadcasting).toBe(false);
    expect(h.service.watching).toBe(false);
    expect(h.media).toEqual([true, false]);
    expect(h.eventsOf('broadcast.stats').at(-1)).toMatchObject({ live: false, endedReason: 'The profile was locked.' });
    expect(h.eventsOf('view.ended').at(-1)).toMatchObject({ reason: 'The profile was locked.' });
    // h's own viewer heard that h's stream ended.
    expect(viewer.eventsOf('view.ended')).toEqual([{ streamId, reason: 'The broadcaster ended the stream.' }]);
    await expectError(h, 'broadcast.stop', {}, 'broadcast.not_broadcasting');
    await expectError(h, 'view.leave', {}, 'view.not_watching');
    await expect(h.service.stopAll('')).rejects.toThrow(TypeError);
  });

  it('does not wait for a network that never confirms the stop', async () => {
    const net = new MemoryStreamNetwork();
    const media: boolean[] = [];
    const stuck = new StreamService({ network: net, context: () => fakeContext, sendChat: async () => ({}) as never, emit: () => {}, onMediaAccess: (a) => media.push(a), log: silentLogger(), stopWaitMs: 50 });
    await stuck.handlers()['broadcast.start']({ bitrate: 1e6, maxViewers: 1 });
    only(net.streams.values()).stop = () => new Promise<void>(() => {});
    await stuck.stopAll('The profile was locked.');
    expect(stuck.broadcasting).toBe(false);
    expect(media).toEqual([true, false]);
  });

  it('undoes a start that was still on its way', async () => {
    const h = harness();
    h.net.holdStart();
    const pending = h.call('broadcast.start', { bitrate: 1e6, maxViewers: 10 });
    await tick();
    await h.service.stopAll('The profile was locked.');
    h.net.release();
    const r = await pending;
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('broadcast.stopped');
    expect(h.net.streams.size).toBe(0);
    expect(h.media).toEqual([]);
    expect(h.service.broadcasting).toBe(false);
  });
});

describe('the stream service options', () => {
  it('are checked', () => {
    const base = { network: new MemoryStreamNetwork(), context: () => fakeContext, sendChat: async () => ({}) as never, emit: () => {}, log: silentLogger() };
    expect(() => new StreamService(null as never)).toThrow(TypeError);
    expect(() => new StreamService({ ...base, network: {} as never })).toThrow(/network/);
    expect(() => new StreamService({ ...base, emit: 1 as never })).toThrow(/emit/);
    expect(() => new StreamService({ ...base, onMediaAccess: 'x' as never })).toThrow(/onMediaAccess/);
    expect(() => new StreamService({ ...base, statsMs: 0 })).toThrow(RangeError);
    expect(() => new StreamService({ ...base, frameBatchMs: -1 })).toThrow(RangeError);
    expect(() => new StreamService({ ...base, stopWaitMs: 1.5 })).toThrow(RangeError);
    expect(Object.keys(new StreamService(base).handlers()).sort()).toEqual([...STREAM_METHODS].sort());
  });
});

describe('the app services', () => {
  it('register the stream methods, which refuse without an online profile and change nothing', async () => {
    const net = new MemoryStreamNetwork();
    const media: boolean[] = [];
    const u = openAppUser('stream-offline', { stream: { network: net, onMediaAccess: (a) => media.push(a) } });
    try {
      expect(await u.ok('broadcast.status', {})).toMatchObject({ live: false });
      expect(await u.ok('view.status', {})).toMatchObject({ watching: false });
      const r = await u.call('broadcast.start', { bitrate: 1e6, maxViewers: 1 });
      expect(r.ok ? null : r.error.code).toBe('profile.none');
      // Junk params are refused before any handler runs.
      for (const method of STREAM_METHODS) {
        for (const junk of [null, 42, 'x', [], { unexpected: 1 }]) {
          const answer = await u.raw(method, junk);
          expect(answer.ok ? null : answer.error.code, `${method} ${JSON.stringify(junk)}`).toBe('invalid_params');
        }
      }
      // A profile that cannot reach its network is unlocked but offline.
      await u.ok('settings.set', { networkFile: await deadNetworkFile(tempRoot('dead')) });
      await u.ok('profile.create', { displayName: 'Offline', passphrase: 'offline passphrase' });
      const offline = await u.call('broadcast.start', { bitrate: 1e6, maxViewers: 1 });
      expect(offline.ok ? null : offline.error.code).toBe('stream.offline');
      await u.ok('profile.lock', {});
      const locked = await u.call('streams.public', {});
      expect(locked.ok ? null : locked.error.code).toBe('profile.locked');
      expect(net.streams.size).toBe(0);
      expect(media).toEqual([]);
      expect(u.failures).toEqual([]);
    } finally {
      await u.services.close();
    }
  });

  it('without a stream network, say that streams are unavailable', async () => {
    const h = harness(unavailableStreamNetwork as MemoryStreamNetwork);
    await expectError(h, 'broadcast.start', { bitrate: 1e6, maxViewers: 1 }, 'stream.unavailable', /not available/);
    await expectError(h, 'streams.public', {}, 'stream.unavailable', /not available/);
    expect(h.media).toEqual([]);
    expect(await h.ok('broadcast.status', {})).toMatchObject({ live: false });
  });
});

describe('two profiles on a devnet', () => {
  it('share an invite through the chat, watch, and everything ends when the broadcaster locks', async () => {
    const net = await startAppNet();
    const streams = new MemoryStreamNetwork();
    const media: boolean[] = [];
    const alice: AppUser = openAppUser('stream-alice', { stream: { network: streams, onMediaAccess: (a) => media.push(a), frameBatchMs: 5 } });
    const bob: AppUser = openAppUser('stream-bob', { stream: { network: streams, frameBatchMs: 5 } });
    try {
      for (const u of [alice, bob]) await u.ok('settings.set', { networkFile: net.devnet.networkFile });
      const [a, b] = await Promise.all([
        alice.ok('profile.create', { displayName: 'Alice', passphrase: 'alice passphrase' }),
        bob.ok('profile.create', { displayName: 'Bob', passphrase: 'bob passphrase' }),
      ]);
      await Promise.all([waitOnline(alice), waitOnline(bob)]);
      const keyOf = (identity: string) => Buffer.from(base58.decode(identity.split('.')[3]!)).toString('hex');
      await alice.ok('contacts.add', { identity: b.identity!, name: 'Bob' });
      await bob.ok('contacts.add', { identity: a.identity!, name: 'Alice' });

      const { streamId } = await alice.ok('broadcast.start', { bitrate: 1_000_000, maxViewers: 10 });
      expect(media).toEqual([true]);
      // The broadcaster's stream was made with her own online session and identity.
      const broadcaster = streams.streams.get(streamId) as MemoryBroadcaster;
      expect(broadcaster.identity.text).toBe(a.identity);
      const shared = await alice.ok('broadcast.shareInvite', { peer: keyOf(b.identity!) });
      expect(shared).toMatchObject({ direction: 'out', kind: 'text', peer: keyOf(b.identity!) });

      // Bob gets the invite as an end-to-end chat message and joins with its text.
      const received = await waitUntil(
        () => eventsOf(bob, 'chat.message').find((m) => (m as { text?: string }).text === shared.text) as { text: string } | undefined,
        'Bob to receive the invite',
        90_000,
      );
      expect(parseStreamInvite(received.text)).toEqual(broadcaster.invite);
      expect(await bob.ok('view.join', { invite: received.text })).toEqual({ streamId });
      expect((await alice.ok('broadcast.status', {})).viewers).toBe(1);
      await alice.ok('broadcast.frames', { frames: [video(0, true), audio(0), video(1)] });
      await waitUntil(() => eventsOf(bob, 'view.frames').length > 0, 'frames at Bob', 10_000, 20);
      expect(eventsOf(bob, 'view.frames').flatMap((p) => (p as { frames: Frame[] }).frames).map((f) => f.track)).toEqual(['video', 'audio', 'video']);

      // Alice locks her profile: her broadcast stops, the permission goes off, Bob's view ends.
      await alice.ok('profile.lock', {});
      expect(broadcaster.stopped).toBe(true);
      expect(media).toEqual([true, false]);
      expect(eventsOf(alice, 'broadcast.stats').at(-1)).toMatchObject({ live: false, endedReason: 'The profile was locked.' });
      expect(eventsOf(bob, 'view.ended')).toEqual([{ streamId, reason: 'The broadcaster ended the stream.' }]);
      expect(await bob.ok('view.status', {})).toMatchObject({ watching: false });
      const locked = await alice.call('broadcast.start', { bitrate: 1e6, maxViewers: 1 });
      expect(locked.ok ? null : locked.error.code).toBe('profile.locked');
      expect([...alice.failures, ...bob.failures]).toEqual([]);
      // Bob was never watching his own frames, and his viewer is gone from the stream.
      expect((streams.streams.get(streamId) as MemoryBroadcaster | undefined)?.viewers.size ?? 0).toBe(0);
    } finally {
      await alice.services.close();
      await bob.services.close();
      await net.stop();
    }
  }, 240_000);
});
