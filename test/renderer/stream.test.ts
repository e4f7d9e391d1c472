/**
 * The renderer's live-stream parts that run without a browser: the media pipeline's plain logic
 * (renderer/src/lib/media/frames.ts: encoder choice, keyframe clock, batching with backpressure,
 * checksums) and the broadcast and viewer slices (state/broadcast.ts, state/viewer.ts) over a
 * fake bridge and fake media.
 */
import { describe, expect, it } from 'vitest';
import { formatStreamInvite } from '../../app/contract';
import { createClient } from '../../renderer/src/client';
import {
  FrameBatcher,
  H264_CODEC,
  KEYFRAME_INTERVAL_US,
  KeyframeClock,
  RateMeter,
  chooseConfig,
  evenDimension,
  fnv1a,
  formatBitrate,
  videoEncoderCandidates,
  type FramesAnswer,
  type WireFrame,
} from '../../renderer/src/lib/media/frames';
import { DEFAULT_FORM, broadcastFormProblem, createBroadcastStore, type BroadcastMedia, type PipelineHandle, type PipelineStart } from '../../renderer/src/state/broadcast';
import { createUiStore } from '../../renderer/src/state/ui';
import { createViewerStore, isStreamInvite } from '../../renderer/src/state/viewer';
import { BOB, FakeBridge, FakeFailure, FakeRuntime, flush } from './fakes';

const STREAM = '0123456789abcdef0123456789abcdef';
const INVITE = formatStreamInvite(Uint8Array.from({ length: 126 }, (_, i) => (i * 7 + 1) & 0xff));

function frame(track: 'video' | 'audio', n: number, keyframe = false, bytes = 3): WireFrame {
  const data = btoa(String.fromCharCode(...Array.from({ length: bytes }, (_, i) => (n + i) & 0xff)));
  return track === 'video'
    ? { track, keyframe, timestampUs: n * 1000, capturedAtMs: 1, codec: 'vp8', width: 640, height: 480, description: '', data }
    : { track, keyframe, timestampUs: n * 1000, capturedAtMs: 1, codec: 'opus', sampleRate: 48_000, channels: 1, description: '', data };
}

function broadcastStatus(fields: Record<string, unknown> = {}) {
  return { live: false, viewers: 0, nodes: 0, bitrateBps: 0, framesSent: 0, framesSkipped: 0, relayBytesOut: 0, relayFramesDropped: 0, ...fields };
}

describe('encoder configuration', () => {
  it('tries VP8 first, then H.264 in avc format with even dimensions, both in realtime mode', async () => {
    const [vp8, h264] = videoEncoderCandidates(641, 481, 1_500_000, 30);
    expect(vp8).toEqual({ codec: 'vp8', width: 641, height: 481, bitrate: 1_500_000, framerate: 30, latencyMode: 'realtime' });
    expect(h264).toEqual({ codec: H264_CODEC, width: 640, height: 480, bitrate: 1_500_000, framerate: 30, latencyMode: 'realtime', avc: { format: 'avc' } });
    const asked: string[] = [];
    const chosen = await chooseConfig([vp8!, h264!], async (c) => {
      asked.push(c.codec);
      return { supported: c.codec !== 'vp8' };
    });
    expect(chosen?.codec).toBe(H264_CODEC);
    expect(asked).toEqual(['vp8', H264_CODEC]);
    expect(await chooseConfig([vp8!], () => Promise.reject(new Error('no')))).toBeNull();
    expect(() => videoEncoderCandidates(1, 480, 1, 30)).toThrow(RangeError);
    expect(() => videoEncoderCandidates(640, 480, 0, 30)).toThrow(RangeError);
    expect(() => videoEncoderCandidates(640, 480, 1, 0)).toThrow(RangeError);
    expect(evenDimension(7)).toBe(6);
    expect(() => evenDimension(1)).toThrow(RangeError);
  });

  it('makes a keyframe first, every 2 s, when forced, and after time went back', () => {
    const clock = new KeyframeClock();
    expect(clock.intervalUs).toBe(KEYFRAME_INTERVAL_US);
    const keys = [0, 40_000, 1_999_999, 2_000_000, 2_040_000].map((t) => clock.next(t));
    expect(keys).toEqual([true, false, false, true, false]);
    clock.force();
    expect(clock.next(2_080_000)).toBe(true);
    expect(clock.next(2_120_000)).toBe(false);
    expect(clock.next(100)).toBe(true);
    expect(() => new KeyframeClock(0)).toThrow(RangeError);
    expect(() => clock.next(Number.NaN)).toThrow(TypeError);
  });
});

describe('frame batching', () => {
  function setup(opts: { maxQueuedFrames?: number } = {}) {
    const sent: WireFrame[][] = [];
    const answers: Array<(a: FramesAnswer) => void> = [];
    const failures: Array<(e: Error) => void> = [];
    let keyframesWanted = 0;
    const errors: unknown[] = [];
    const batcher = new FrameBatcher({
      send: (frames) => {
        sent.push(frames);
        return new Promise<FramesAnswer>((resolve, reject) => {
          answers.push(resolve);
          failures.push(reject);
        });
      },
      onKeyframeWanted: () => keyframesWanted++,
      onError: (e) => errors.push(e),
      ...opts,
    });
    return { batcher, sent, answers, failures, errors, wanted: () => keyframesWanted };
  }

  it('sends one call at a time, in order, each taking what queued meanwhile', async () => {
    const t = setup();
    t.batcher.push(frame('video', 0, true));
    t.batcher.push(frame('audio', 1));
    t.batcher.push(frame('video', 2));
    expect(t.sent.map((b) => b.map((f) => f.timestampUs))).toEqual([[0]]);
    t.answers[0]!({ accepted: 1, skipped: 0, wantKeyframe: false });
    await flush();
    expect(t.sent.map((b) => b.map((f) => f.timestampUs))).toEqual([[0], [1000, 2000]]);
    t.answers[1]!({ accepted: 1, skipped: 1, wantKeyframe: true });
    await flush();
    expect(t.wanted()).toBe(1);
    expect(t.batcher.stats).toMatchObject({ accepted: 2, skippedRemote: 1, queued: 0, inFlight: false });
  });

  it('never puts more than 64 frames in a call', async () => {
    const t = setup({ maxQueuedFrames: 1000 });
    for (let i = 0; i < 150; i++) t.batcher.push(frame('audio', i));
    t.answers[0]!({ accepted: 1, skipped: 0, wantKeyframe: false });
    await flush();
    t.answers[1]!({ accepted: 64, skipped: 0, wantKeyframe: false });
    await flush();
    expect(t.sent.map((b) => b.length)).toEqual([1, 64, 64]);
    expect(t.sent.flat().map((f) => f.timestampUs)).toEqual(Array.from({ length: 129 }, (_, i) => i * 1000));
  });

  it('drops video up to the next keyframe when calls cannot keep up, keeping audio', async () => {
    const t = setup({ maxQueuedFrames: 4 });
    t.batcher.push(frame('video', 0, true)); // in flight
    for (let i = 1; i <= 3; i++) t.batcher.push(frame('video', i));
    t.batcher.push(frame('audio', 4));
    // Five queued: past the bound — queued video goes, audio stays, a keyframe is asked for.
    t.batcher.push(frame('video', 5));
    expect(t.wanted()).toBe(1);
    t.batcher.push(frame('video', 6)); // still no keyframe: dropped
    t.batcher.push(frame('video', 7, true));
    t.batcher.push(frame('video', 8));
    t.answers[0]!({ accepted: 1, skipped: 0, wantKeyframe: false });
    await flush();
    expect(t.sent[1]!.map((f) => [f.track, f.timestampUs / 1000])).toEqual([
      ['audio', 4],
      ['video', 7],
      ['video', 8],
    ]);
    expect(t.batcher.stats.droppedLocal).toBe(5);
  });

  it('after a failed call reports it, asks for a keyframe and goes on with the next', async () => {
    const t = setup();
    t.batcher.push(frame('video', 0, true));
    t.batcher.push(frame('video', 1));
    t.failures[0]!(new Error('backend gone'));
    await flush();
    expect(t.errors).toHaveLength(1);
    expect(t.wanted()).toBe(1);
    // The delta queued behind the lost keyframe was sent, but new deltas wait for a keyframe.
    expect(t.sent[1]!.map((f) => f.timestampUs)).toEqual([1000]);
    t.batcher.push(frame('video', 2));
    t.batcher.push(frame('video', 3, true));
    t.answers[1]!({ accepted: 1, skipped: 0, wantKeyframe: false });
    await flush();
    expect(t.sent[2]!.map((f) => f.timestampUs)).toEqual([3000]);
    t.batcher.close();
    t.batcher.push(frame('video', 4, true));
    expect(t.sent).toHaveLength(3);
  });

  it('checks its options', () => {
    expect(() => new FrameBatcher(null as never)).toThrow(TypeError);
    expect(() => new FrameBatcher({ send: 1 as never, onKeyframeWanted: () => {}, onError: () => {} })).toThrow(/send/);
    expect(() => new FrameBatcher({ send: async () => ({ accepted: 0, skipped: 0, wantKeyframe: false }), onKeyframeWanted: () => {}, onError: () => {}, maxQueuedFrames: 0 })).toThrow(RangeError);
  });
});

describe('small media helpers', () => {
  it('fingerprint pixels, format bitrates and measure rates', () => {
    expect(fnv1a(new Uint8Array(0))).toBe('811c9dc5');
    // FNV-1a 32 of "a" is 0xe40c292c (the published test value).
    expect(fnv1a(new TextEncoder().encode('a'))).toBe('e40c292c');
    expect(fnv1a(new Uint8ClampedArray([1, 2, 3]))).not.toBe(fnv1a(new Uint8ClampedArray([1, 2, 4])));
    expect(() => fnv1a([1] as never)).toThrow(TypeError);
    expect(formatBitrate(0)).toBe('0 kbit/s');
    expect(formatBitrate(640_000)).toBe('640 kbit/s');
    expect(formatBitrate(1_534_000)).toBe('1.5 Mbit/s');
    expect(formatBitrate(12_400_000)).toBe('12 Mbit/s');
    expect(() => formatBitrate(-1)).toThrow(RangeError);
    const meter = new RateMeter(1000);
    for (let t = 0; t < 1000; t += 100) meter.add(t);
    expect(meter.perSecond(999)).toBe(10);
    expect(meter.perSecond(1550)).toBe(4);
  });

  it('recognise an invite only in exactly the chat form', () => {
    expect(isStreamInvite(INVITE)).toBe(true);
    expect(isStreamInvite(`${INVITE} `)).toBe(false);
    expect(isStreamInvite(`Watch: ${INVITE}`)).toBe(false);
    expect(isStreamInvite(undefined)).toBe(false);
  });
});

// ---- slices ---------------------------------------------------------------------------------------

class FakeMedia implements BroadcastMedia {
  readonly opened: unknown[] = [];
  readonly closed: unknown[] = [];
  readonly pipelines: Array<PipelineStart & { handle: PipelineHandle & { stopped: boolean; streams: unknown[] } }> = [];
  failOpen: Error | null = null;
  async open(choice: unknown): Promise<MediaStream> {
    if (this.failOpen) throw this.failOpen;
    const stream = { id: `stream-${this.opened.length}`, choice } as unknown as MediaStream;
    this.opened.push(stream);
    return stream;
  }
  close(stream: MediaStream): void {
    this.closed.push(stream);
  }
  async devices() {
    return { cameras: [{ deviceId: 'cam1', label: 'Front' }], microphones: [] };
  }
  problem(): string {
    return 'Access to the camera or microphone was not allowed.';
  }
  startPipeline(start: PipelineStart): PipelineHandle {
    const handle = {
      stopped: false,
      streams: [start.stream] as unknown[],
      setStream(s: MediaStream) {
        handle.streams.push(s);
      },
      requestKeyframe() {},
      async stop() {
        handle.stopped = true;
      },
      stats: { videoCodec: 'vp8', width: 640, height: 480, audio: true, framesEncoded: 0, framesSkipped: 0, keyframes: 0, accepted: 0, skippedRemote: 0, droppedLocal: 0 },
    };
    this.pipelines.push({ ...start, handle });
    return handle;
  }
}

function broadcastSlice() {
  const fake = new FakeBridge();
  const ui = createUiStore(new FakeRuntime());
  const media = new FakeMedia();
  const store = createBroadcastStore({ client: createClient(fake.bridge), ui, media });
  const off = store.getState().connect();
  return { fake, ui, media, store, off };
}

describe('the broadcast slice', () => {
  it('checks the form before anything is sent', () => {
    expect(broadcastFormProblem(DEFAULT_FORM)).toBeNull();
    expect(broadcastFormProblem({ ...DEFAULT_FORM, bitrateKbps: 99 })).toMatch(/between 100 and 20,000/);
    expect(broadcastFormProblem({ ...DEFAULT_FORM, bitrateKbps: Number.NaN })).toMatch(/whole number/);
    expect(broadcastFormProblem({ ...DEFAULT_FORM, maxViewers: 0 })).toMatch(/Viewers/);
    expect(broadcastFormProblem({ ...DEFAULT_FORM, publish: true, title: '  ' })).toMatch(/title/);
    expect(broadcastFormProblem({ ...DEFAULT_FORM, publish: true, title: 'x'.repeat(129) })).toMatch(/128/);
    expect(broadcastFormProblem({ ...DEFAULT_FORM, publish: true, title: 'ok', description: 'x'.repeat(1025) })).toMatch(/1024/);
  });

  it('starts the broadcast first, then opens the camera and starts encoding into broadcast.frames', async () => {
    const t = broadcastSlice();
    t.store.getState().setForm({ publish: true, title: ' Sky ', description: 'stars' });
    const starting = t.store.getState().start();
    // Nothing is captured before the backend allowed the broadcast (and the camera with it).
    expect(t.media.opened).toEqual([]);
    const call = t.fake.next('broadcast.start');
    expect(call.params).toEqual({ bitrate: 1_500_000, maxViewers: 50, public: { title: 'Sky', description: 'stars' } });
    call.resolve({ streamId: STREAM, isPublic: true });
    t.fake.handle('broadcast.status', () => broadcastStatus({ live: true, streamId: STREAM, isPublic: true }));
    expect(await starting).toBe(true);
    expect(t.media.opened).toHaveLength(1);
    expect(t.store.getState()).toMatchObject({ sending: true, capture: 'on', busy: null });
    expect(t.store.getState().devices.cameras).toEqual([{ deviceId: 'cam1', label: 'Front' }]);
    const pipeline = t.media.pipelines[0]!;
    expect(pipeline.bitrate).toBe(1_500_000);
    // The pipeline's sender is broadcast.frames.
    t.fake.handle('broadcast.frames', () => ({ accepted: 1, skipped: 0, wantKeyframe: false }));
    expect(await pipeline.send([frame('video', 0, true)])).toEqual({ accepted: 1, skipped: 0, wantKeyframe: false });
    expect(t.fake.callsOf('broadcast.frames')[0]!.params).toEqual({ frames: [frame('video', 0, true)] });
  });

  it('stops the broadcast again when the camera cannot be opened', async () => {
    const t = broadcastSlice();
    t.media.failOpen = Object.assign(new Error('denied'), { name: 'NotAllowedError' });
    t.fake.handle('broadcast.start', () => ({ streamId: STREAM, isPublic: false }));
    t.fake.handle('broadcast.status', () => broadcastStatus({ live: true, streamId: STREAM }));
    t.fake.handle('broadcast.stop', () => broadcastStatus({ streamId: STREAM }));
    expect(await t.store.getState().start()).toBe(false);
    expect(t.fake.callsOf('broadcast.stop')).toHaveLength(1);
    expect(t.media.pipelines).toEqual([]);
    expect(t.ui.getState().error?.text).toMatch(/camera or microphone/);
    expect(t.store.getState().status?.live).toBe(false);
  });

  it('refuses a bad form with a message and sends nothing', async () => {
    const t = broadcastSlice();
    t.store.getState().setForm({ bitrateKbps: 50 });
    expect(await t.store.getState().start()).toBe(false);
    expect(t.fake.calls).toEqual([]);
    expect(t.ui.getState().error?.text).toMatch(/bitrate/);
  });

  it('stops encoding and closes the camera on stop, and when the broadcast ends elsewhere', async () => {
    const t = broadcastSlice();
    t.fake.handle('broadcast.start', () => ({ streamId: STREAM, isPublic: false }));
    t.fake.handle('broadcast.status', () => broadcastStatus({ live: true, streamId: STREAM }));
    t.fake.handle('broadcast.stop', () => broadcastStatus({ streamId: STREAM, framesSent: 9 }));
    await t.store.getState().start();
    await flush();
    expect(await t.store.getState().stop()).toBe(true);
    expect(t.media.pipelines[0]!.handle.stopped).toBe(true);
    expect(t.media.closed).toHaveLength(1);
    expect(t.store.getState()).toMatchObject({ sending: false, stream: null, status: { live: false, framesSent: 9 } });

    await t.store.getState().start();
    await flush();
    t.fake.emit('broadcast.stats', broadcastStatus({ streamId: STREAM, endedReason: 'The profile was locked.' }));
    await flush();
    expect(t.media.pipelines[1]!.handle.stopped).toBe(true);
    expect(t.media.closed).toHaveLength(2);
    expect(t.store.getState().status?.endedReason).toBe('The profile was locked.');
  });

  it('switches devices while live without stopping the encoder', async () => {
    const t = broadcastSlice();
    t.fake.handle('broadcast.start', () => ({ streamId: STREAM, isPublic: false }));
    t.fake.handle('broadcast.status', () => broadcastStatus({ live: true, streamId: STREAM }));
    await t.store.getState().start();
    await t.store.getState().choose({ cameraId: 'cam1' });
    const pipeline = t.media.pipelines[0]!;
    expect(pipeline.handle.streams).toHaveLength(2);
    expect(pipeline.handle.stopped).toBe(false);
    expect(t.media.closed).toEqual([t.media.opened[0]]);
    expect(t.store.getState().choice).toEqual({ cameraId: 'cam1', microphoneId: '' });
    await t.store.getState().choose({ cameraId: null, microphoneId: null });
    expect(t.ui.getState().error?.text).toMatch(/at least a camera or a microphone/);
  });

  it('shares the invite with a contact and says so', async () => {
    const t = broadcastSlice();
    t.fake.handle('broadcast.shareInvite', ({ peer }) => ({ id: '1'.repeat(32), peer, direction: 'out', kind: 'text', text: INVITE, sentAt: 1, status: 'pending' }));
    expect(await t.store.getState().share(BOB, 'Bob')).toBe(true);
    expect(t.fake.callsOf('broadcast.shareInvite')[0]!.params).toEqual({ peer: BOB });
    expect(t.ui.getState().toasts.map((n) => n.text)).toEqual(['Invite sent to Bob']);
    t.fake.handle('broadcast.shareInvite', () => {
      throw new FakeFailure('broadcast.not_broadcasting', 'Not broadcasting: start a broadcast first.');
    });
    expect(await t.store.getState().share(BOB, 'Bob')).toBe(false);
    expect(t.ui.getState().error?.text).toMatch(/Not broadcasting/);
    await expect(t.store.getState().share('nope', 'x')).rejects.toThrow(RangeError);
  });
});

function viewerSlice() {
  const fake = new FakeBridge();
  const ui = createUiStore(new FakeRuntime());
  const store = createViewerStore({ client: createClient(fake.bridge), ui });
  const off = store.getState().connect();
  return { fake, ui, store, off };
}

describe('the viewer slice', () => {
  it('joins from an invite and hands that stream’s frames to the sink, dropping others', async () => {
    const t = viewerSlice();
    const got: WireFrame[][] = [];
    t.store.getState().setSink((frames) => got.push([...frames]));
    t.fake.handle('view.join', () => ({ streamId: STREAM }));
    expect(await t.store.getState().join(`  ${INVITE}\n`)).toBe(true);
    expect(t.fake.callsOf('view.join')[0]!.params).toEqual({ invite: INVITE });
    expect(t.store.getState()).toMatchObject({ phase: 'watching', streamId: STREAM });
    t.fake.emit('view.frames', { streamId: STREAM, frames: [frame('video', 0, true)] });
    t.fake.emit('view.frames', { streamId: 'f'.repeat(32), frames: [frame('video', 1, true)] });
    expect(got).toEqual([[frame('video', 0, true)]]);
    t.fake.emit('view.stats', { framesReceived: 5, framesPlayed: 5, framesDropped: 0, badSignatures: 0, bitrateBps: 9, fps: 25, latencyMs: 80 });
    expect(t.store.getState().stats?.latencyMs).toBe(80);
  });

  it('refuses text that is not an invite without asking the backend', async () => {
    const t = viewerSlice();
    expect(await t.store.getState().join('hello')).toBe(false);
    expect(t.fake.calls).toEqual([]);
    expect(t.ui.getState().error?.text).toMatch(/not a stream invite/);
  });

  it('shows the end of the stream, and leaves', async () => {
    const t = viewerSlice();
    t.fake.handle('view.join', () => ({ streamId: STREAM }));
    await t.store.getState().join(INVITE);
    t.fake.emit('view.ended', { streamId: STREAM, reason: 'The broadcaster ended the stream.' });
    expect(t.store.getState()).toMatchObject({ phase: 'ended', endedReason: 'The broadcaster ended the stream.' });
    const got: unknown[] = [];
    t.store.getState().setSink((f) => got.push(f));
    t.fake.emit('view.frames', { streamId: STREAM, frames: [frame('video', 2, true)] });
    expect(got).toEqual([]);
    t.store.getState().dismissEnded();
    expect(t.store.getState().phase).toBe('idle');

    await t.store.getState().join(INVITE);
    t.fake.handle('view.leave', () => ({ watching: false, framesReceived: 0, framesPlayed: 0, framesDropped: 0, badSignatures: 0, bitrateBps: 0, fps: 0, latencyMs: 0 }));
    expect(await t.store.getState().leave()).toBe(true);
    expect(t.store.getState()).toMatchObject({ phase: 'idle', streamId: null });
    expect(t.fake.callsOf('view.leave')).toHaveLength(1);
  });

  it('reports a join the backend refused and is ready for another', async () => {
    const t = viewerSlice();
    t.fake.handle('view.join', () => {
      throw new FakeFailure('view.failed', 'Could not join the stream: the landing node refused the viewer.');
    });
    expect(await t.store.getState().join(INVITE)).toBe(false);
    expect(t.store.getState().phase).toBe('idle');
    expect(t.ui.getState().error?.text).toMatch(/landing node refused/);
  });

  it('lists public streams', async () => {
    const t = viewerSlice();
    t.fake.handle('streams.public', () => [{ streamId: STREAM, title: 'Night sky', invite: INVITE }]);
    await t.store.getState().loadPublic();
    expect(t.store.getState().publicStreams).toEqual([{ streamId: STREAM, title: 'Night sky', invite: INVITE }]);
  });
});
