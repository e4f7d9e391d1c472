/**
 * Viewer slice: the stream this profile watches. `view.join` from an invite (pasted, the Watch
 * button of an invite card in a chat, or the public list from `streams.public`), `view.leave`,
 * the figures of `view.stats`, and `view.ended`.
 *
 * Frames (`view.frames`) are not kept in the store: they go straight to the one registered sink,
 * the viewer screen's player, and are dropped while none is registered (the video then starts
 * again at the next keyframe). Frames of another stream than the one joined are dropped.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { parseStreamInvite, type EventPayload, type MethodResult } from '../../../app/contract';
import { errorCode, errorMessage, type SiriusClient } from '../client';
import type { WireFrame } from '../lib/media/frames';
import type { UiStore } from './ui';

export type ViewerStats = EventPayload<'view.stats'>;
export type PublicStream = MethodResult<'streams.public'>[number];
export type ViewerPhase = 'idle' | 'joining' | 'watching' | 'ended';
export type FrameSink = (frames: readonly WireFrame[]) => void;

export interface ViewerState {
  readonly phase: ViewerPhase;
  readonly streamId: string | null;
  readonly stats: ViewerStats | null;
  /** Why the last stream ended, in words. */
  readonly endedReason: string | null;
  readonly publicStreams: readonly PublicStream[];
  readonly publicLoading: boolean;
  /** Why the public list could not be fetched. */
  readonly publicError: string | null;
  readonly leaving: boolean;
  connect(): () => void;
  load(): Promise<void>;
  /** Joins from a `sirius-stream:` text; resolves false (error in the banner) when it cannot. */
  join(invite: string): Promise<boolean>;
  leave(): Promise<boolean>;
  loadPublic(): Promise<void>;
  /** Registers where frames go (one sink at a time); returns the function that removes it. */
  setSink(sink: FrameSink): () => void;
  /** Back to the join page after a stream ended. */
  dismissEnded(): void;
}

export type ViewerStore = StoreApi<ViewerState>;

export interface ViewerDeps {
  readonly client: SiriusClient;
  readonly ui: UiStore;
}

/** Whether `text` is a stream invite as a chat shows it (exactly `sirius-stream:<base58>`). */
export function isStreamInvite(text: unknown): text is string {
  return typeof text === 'string' && parseStreamInvite(text) !== null;
}

export function createViewerStore({ client, ui }: ViewerDeps): ViewerStore {
  let sink: FrameSink | null = null;
  /** Bumped by join and leave: answers and events of an earlier one are dropped. */
  let generation = 0;

  return createStore<ViewerState>()((set, get) => ({
    phase: 'idle',
    streamId: null,
    stats: null,
    endedReason: null,
    publicStreams: [],
    publicLoading: false,
    publicError: null,
    leaving: false,
    connect() {
      const offs = [
        client.on('view.frames', ({ streamId, frames }) => {
          const { phase, streamId: current } = get();
          if (phase !== 'watching' && phase !== 'joining') return;
          if (current !== null && current !== streamId) return;
          sink?.(frames);
        }),
        client.on('view.stats', (stats) => {
          if (get().phase === 'watching') set({ stats });
        }),
        client.on('view.ended', ({ streamId, reason }) => {
          const { phase, streamId: current } = get();
          if (phase !== 'watching' || current !== streamId) return;
          generation++;
          set({ phase: 'ended', endedReason: reason });
        }),
      ];
      return () => {
        for (const off of offs) off();
      };
    },
    async load() {
      const started = generation;
      try {
        const status = await client.call('view.status', {});
        if (started !== generation) return;
        if (status.watching && status.streamId !== undefined) {
          const { watching: _w, streamId, ...stats } = status;
          set({ phase: 'watching', streamId, stats });
        } else if (get().phase === 'watching') set({ phase: 'idle', streamId: null, stats: null });
      } catch {
        // Asked again on the next load.
      }
    },
    async join(invite) {
      if (typeof invite !== 'string') throw new TypeError('invite must be a string');
      const text = invite.trim();
      if (!isStreamInvite(text)) {
        ui.getState().showError('That is not a stream invite. An invite starts with “sirius-stream:”.');
        return false;
      }
      const phase = get().phase;
      if (phase === 'joining') return false;
      if (phase === 'watching') {
        ui.getState().showError('You are already watching a stream. Leave it first.');
        return false;
      }
      const started = ++generation;
      set({ phase: 'joining', streamId: null, stats: null, endedReason: null });
      try {
        const { streamId } = await client.call('view.join', { invite: text });
        if (started !== generation) return false;
        set({ phase: 'watching', streamId });
        return true;
      } catch (error) {
        if (started !== generation) return false;
        set({ phase: 'idle' });
        ui.getState().reportError(error, 'Could not join the stream.');
        return false;
      }
    },
    async leave() {
      const phase = get().phase;
      if (phase === 'ended') {
        set({ phase: 'idle', endedReason: null, streamId: null, stats: null });
        return true;
      }
      if (phase !== 'watching' || get().leaving) return false;
      generation++;
      set({ leaving: true });
      try {
        await client.call('view.leave', {});
        return true;
      } catch (error) {
        // Not watching any more on the backend's side is what was wanted.
        if (errorCode(error) !== 'view.not_watching') {
          ui.getState().reportError(error, 'Could not leave the stream cleanly.');
        }
        return true;
      } finally {
        set({ phase: 'idle', streamId: null, stats: null, leaving: false });
      }
    },
    async loadPublic() {
      if (get().publicLoading) return;
      set({ publicLoading: true });
      try {
        set({ publicStreams: await client.call('streams.public', {}), publicError: null });
      } catch (error) {
        set({ publicError: errorMessage(error) });
      } finally {
        set({ publicLoading: false });
      }
    },
    setSink(next) {
      if (typeof next !== 'function') throw new TypeError('sink must be a function');
      sink = next;
      return () => {
        if (sink === next) sink = null;
      };
    },
    dismissEnded() {
      if (get().phase === 'ended') set({ phase: 'idle', endedReason: null, streamId: null, stats: null });
    },
  }));
}
