/**
 * Broadcast slice: the live stream this profile sends. `broadcast.status`, kept live by
 * `broadcast.stats`; the form (bitrate, viewers, public or private); the camera and microphone
 * (their list, the choice, the capture stream for the preview); and the media pipeline that
 * encodes the capture and feeds `broadcast.frames` (renderer/src/lib/media).
 *
 * Order of a start: `broadcast.start` first — in the desktop app the camera may be opened only
 * while a broadcast runs (main/security.ts) — then the camera and microphone, then the pipeline.
 * If the camera cannot be opened, the broadcast is stopped again. The pipeline lives here, not in
 * the screen, so the broadcast goes on while the person chats.
 *
 * Media objects (streams, encoders) come through `BroadcastMedia`, so the slice is tested with fakes.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import {
  MAX_BROADCAST_BITRATE,
  MAX_BROADCAST_VIEWERS,
  MAX_STREAM_DESCRIPTION,
  MAX_STREAM_TITLE,
  MIN_BROADCAST_BITRATE,
  type MethodResult,
} from '../../../app/contract';
import { errorCode, errorMessage, type SiriusClient } from '../client';
import type { DeviceChoice, DeviceList } from '../lib/media/capture';
import type { PipelineStats } from '../lib/media/encoder';
import type { FramesAnswer, WireFrame } from '../lib/media/frames';
import { Freshness } from './sync';
import type { UiStore } from './ui';

export type BroadcastStatus = MethodResult<'broadcast.status'>;

export interface BroadcastForm {
  /** Target video bitrate in kbit/s (the contract takes bit/s). */
  readonly bitrateKbps: number;
  readonly maxViewers: number;
  /** Publish as a public stream (listed, its key readable by anyone). */
  readonly publish: boolean;
  readonly title: string;
  readonly description: string;
}

export const DEFAULT_FORM: BroadcastForm = Object.freeze({ bitrateKbps: 1500, maxViewers: 50, publish: false, title: '', description: '' });

/** Why `form` cannot start a broadcast, in words, or null. */
export function broadcastFormProblem(form: BroadcastForm): string | null {
  if (typeof form !== 'object' || form === null) throw new TypeError('form must be an object');
  const kbps = form.bitrateKbps;
  if (typeof kbps !== 'number' || !Number.isInteger(kbps)) return 'Enter the bitrate as a whole number of kbit/s.';
  if (kbps * 1000 < MIN_BROADCAST_BITRATE || kbps * 1000 > MAX_BROADCAST_BITRATE) {
    return `The bitrate must be between ${MIN_BROADCAST_BITRATE / 1000} and ${(MAX_BROADCAST_BITRATE / 1000).toLocaleString('en')} kbit/s.`;
  }
  if (typeof form.maxViewers !== 'number' || !Number.isInteger(form.maxViewers) || form.maxViewers < 1 || form.maxViewers > MAX_BROADCAST_VIEWERS) {
    return `Viewers must be a whole number from 1 to ${MAX_BROADCAST_VIEWERS.toLocaleString('en')}.`;
  }
  if (form.publish) {
    const title = form.title.trim();
    if (title.length === 0) return 'A public stream needs a title.';
    if (title.length > MAX_STREAM_TITLE) return `The title can be at most ${MAX_STREAM_TITLE} characters.`;
    if (form.description.length > MAX_STREAM_DESCRIPTION) return `The description can be at most ${MAX_STREAM_DESCRIPTION} characters.`;
  }
  return null;
}

/** A running encoder pipeline (lib/media/encoder.ts BroadcastPipeline). */
export interface PipelineHandle {
  setStream(stream: MediaStream): void;
  requestKeyframe(): void;
  stop(): Promise<void>;
  readonly stats: PipelineStats;
}

export interface PipelineStart {
  readonly stream: MediaStream;
  readonly bitrate: number;
  readonly send: (frames: WireFrame[]) => Promise<FramesAnswer>;
  readonly onSendError: (error: unknown) => void;
  readonly onFatal: (problem: string) => void;
}

/** What the slice needs from the browser's media stack. */
export interface BroadcastMedia {
  open(choice: DeviceChoice): Promise<MediaStream>;
  close(stream: MediaStream): void;
  devices(): Promise<DeviceList>;
  /** Words for an `open` failure. */
  problem(error: unknown): string;
  startPipeline(start: PipelineStart): PipelineHandle;
}

export type CaptureState = 'off' | 'opening' | 'on';

export interface BroadcastState {
  readonly status: BroadcastStatus | null;
  readonly form: BroadcastForm;
  readonly devices: DeviceList;
  readonly choice: DeviceChoice;
  /** The camera/microphone stream (preview and capture), or null. */
  readonly stream: MediaStream | null;
  readonly capture: CaptureState;
  /** Why the camera could not be opened, in words. */
  readonly captureProblem: string | null;
  /** Whether this window encodes and sends frames now. */
  readonly sending: boolean;
  readonly busy: 'start' | 'stop' | 'share' | null;
  connect(): () => void;
  load(): Promise<void>;
  setForm(change: Partial<BroadcastForm>): void;
  /** Opens the camera for the preview (before a broadcast, where the browser allows it). */
  preview(): Promise<boolean>;
  /** Closes the preview (not while sending). */
  closePreview(): void;
  /** Picks another camera or microphone; while capturing, switches to it at once. */
  choose(change: Partial<DeviceChoice>): Promise<void>;
  start(): Promise<boolean>;
  /** Sends from this window's camera to a broadcast that runs without a sender (after a reload). */
  resume(): Promise<boolean>;
  stop(): Promise<boolean>;
  /** Sends the invite to `peer` in the chat. */
  share(peer: string, name: string): Promise<boolean>;
  pipelineStats(): PipelineStats | null;
}

export type BroadcastStore = StoreApi<BroadcastState>;

export interface BroadcastDeps {
  readonly client: SiriusClient;
  readonly ui: UiStore;
  readonly media: BroadcastMedia;
}

const PEER_RE = /^[0-9a-f]{64}$/;

export function createBroadcastStore({ client, ui, media }: BroadcastDeps): BroadcastStore {
  if (typeof media !== 'object' || media === null) throw new TypeError('media must be an object');
  const freshness = new Freshness();
  let pipeline: PipelineHandle | null = null;
  let sendErrorShown = false;

  return createStore<BroadcastState>()((set, get) => {
    async function load(): Promise<void> {
      const token = freshness.begin();
      try {
        const status = await client.call('broadcast.status', {});
        if (freshness.isCurrent(token)) set({ status });
      } catch {
        // The status comes again with the next broadcast.stats.
      }
    }

    async function refreshDevices(): Promise<void> {
      try {
        set({ devices: await media.devices() });
      } catch {
        // The lists stay as they were.
      }
    }

    async function openStream(): Promise<MediaStream | null> {
      const existing = get().stream;
      if (existing !== null) return existing;
      set({ capture: 'opening', captureProblem: null });
      try {
        const stream = await media.open(get().choice);
        set({ stream, capture: 'on' });
        void refreshDevices();
        return stream;
      } catch (error) {
        set({ capture: 'off', captureProblem: media.problem(error) });
        return null;
      }
    }

    function closeStream(): void {
      const stream = get().stream;
      if (stream !== null) media.close(stream);
      set({ stream: null, capture: 'off' });
    }

    async function stopPipeline(): Promise<void> {
      const running = pipeline;
      pipeline = null;
      set({ sending: false });
      if (running !== null) await running.stop().catch(() => undefined);
    }

    /** Opens the camera if needed and starts encoding; false (camera problem shown) when it cannot. */
    async function beginSending(bitrate: number): Promise<boolean> {
      const stream = await openStream();
      if (stream === null) {
        ui.getState().showError(`The broadcast needs the camera or microphone. ${get().captureProblem ?? ''}`.trim());
        return false;
      }
      sendErrorShown = false;
      try {
        pipeline = media.startPipeline({
          stream,
          bitrate,
          send: (frames) => client.call('broadcast.frames', { frames }),
          onSendError: (error) => {
            // Not broadcasting any more (ended elsewhere): broadcast.stats says so; stay quiet.
            if (errorCode(error) === 'broadcast.not_broadcasting') return;
            if (sendErrorShown) return;
            sendErrorShown = true;
            ui.getState().reportError(error, 'Some video could not be sent.');
          },
          onFatal: (problem) => {
            ui.getState().showError(`The broadcast stopped: ${problem}`);
            void stop();
          },
        });
      } catch (error) {
        ui.getState().showError(`The broadcast cannot encode video here: ${errorMessage(error)}`);
        return false;
      }
      set({ sending: true });
      return true;
    }

    async function stop(): Promise<boolean> {
      if (get().busy === 'stop') return false;
      set({ busy: 'stop' });
      await stopPipeline();
      try {
        if (get().status?.live === true) {
          const token = freshness.begin();
          const status = await client.call('broadcast.stop', {});
          if (freshness.isCurrent(token)) set({ status });
        }
        return true;
      } catch (error) {
        if (errorCode(error) !== 'broadcast.not_broadcasting') {
          ui.getState().reportError(error, 'Could not stop the broadcast.');
          return false;
        }
        void load();
        return true;
      } finally {
        closeStream();
        set({ busy: null });
      }
    }

    return {
      status: null,
      form: DEFAULT_FORM,
      devices: { cameras: [], microphones: [] },
      choice: { cameraId: '', microphoneId: '' },
      stream: null,
      capture: 'off',
      captureProblem: null,
      sending: false,
      busy: null,
      connect() {
        return client.on('broadcast.stats', (status) => {
          freshness.bump();
          set({ status });
          // Ended elsewhere (the network, a lock): the camera goes off here too.
          if (!status.live && (pipeline !== null || get().stream !== null) && get().busy !== 'start') {
            void stopPipeline().then(closeStream);
          }
        });
      },
      load,
      setForm(change) {
        if (typeof change !== 'object' || change === null) throw new TypeError('change must be an object');
        set({ form: { ...get().form, ...change } });
      },
      async preview() {
        return (await openStream()) !== null;
      },
      closePreview() {
        if (pipeline !== null) return;
        closeStream();
      },
      async choose(change) {
        if (typeof change !== 'object' || change === null) throw new TypeError('change must be an object');
        const choice = { ...get().choice, ...change };
        if (choice.cameraId === null && choice.microphoneId === null) {
          ui.getState().showError('Keep at least a camera or a microphone.');
          return;
        }
        set({ choice });
        const old = get().stream;
        if (old === null) return;
        set({ capture: 'opening', captureProblem: null });
        try {
          const stream = await media.open(choice);
          pipeline?.setStream(stream);
          media.close(old);
          set({ stream, capture: 'on' });
        } catch (error) {
          set({ capture: 'on', captureProblem: media.problem(error) });
        }
      },
      async start() {
        if (get().busy !== null || get().status?.live === true) return false;
        const form = get().form;
        const problem = broadcastFormProblem(form);
        if (problem !== null) {
          ui.getState().showError(problem);
          return false;
        }
        set({ busy: 'start' });
        const bitrate = form.bitrateKbps * 1000;
        try {
          const token = freshness.begin();
          await client.call('broadcast.start', {
            bitrate,
            maxViewers: form.maxViewers,
            ...(form.publish ? { public: { title: form.title.trim(), description: form.description } } : {}),
          });
          if (freshness.isCurrent(token)) void load();
        } catch (error) {
          ui.getState().reportError(error, 'Could not start the broadcast.');
          set({ busy: null });
          return false;
        }
        const sending = await beginSending(bitrate);
        set({ busy: null });
        if (!sending) {
          await client.call('broadcast.stop', {}).then((status) => set({ status }), () => void load());
          closeStream();
          return false;
        }
        return true;
      },
      async resume() {
        const status = get().status;
        if (status?.live !== true || pipeline !== null || get().busy !== null) return false;
        set({ busy: 'start' });
        try {
          return await beginSending(get().form.bitrateKbps * 1000);
        } finally {
          set({ busy: null });
        }
      },
      stop,
      async share(peer, name) {
        if (typeof peer !== 'string' || !PEER_RE.test(peer)) throw new RangeError('peer must be a 64-character hex key');
        if (typeof name !== 'string') throw new TypeError('name must be a string');
        if (get().busy !== null) return false;
        set({ busy: 'share' });
        try {
          await client.call('broadcast.shareInvite', { peer });
          ui.getState().toast(`Invite sent to ${name}`);
          return true;
        } catch (error) {
          ui.getState().reportError(error, 'Could not send the invite.');
          return false;
        } finally {
          set({ busy: null });
        }
      },
      pipelineStats() {
        return pipeline?.stats ?? null;
      },
    };
  });
}
