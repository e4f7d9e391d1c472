/**
 * UI slice: which screen is shown, the error banner, short notes ("toasts") and whether the
 * backend process is connected. Every other slice reports failures here, so a person sees one
 * clear message instead of a failure being swallowed.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { errorCode, errorMessage } from '../client';
import { checkRuntime, type Runtime, type TimerHandle } from './runtime';

export const SCREENS = ['chat', 'contacts', 'network', 'relay', 'settings', 'broadcast', 'watch'] as const;
export type Screen = (typeof SCREENS)[number];

export interface Notice {
  readonly id: number;
  readonly kind: 'error' | 'info';
  readonly text: string;
  /** The backend's error code, or "client" for checks made in the UI; "" for info notes. */
  readonly code: string;
  readonly at: number;
}

/** How long a toast stays up. */
export const TOAST_MS = 4000;
/** At most this many toasts at once; older ones go first. */
export const MAX_TOASTS = 3;

export interface UiState {
  readonly screen: Screen;
  /** The error shown in the banner; a newer error replaces it. */
  readonly error: Notice | null;
  readonly toasts: readonly Notice[];
  /** null until the backend has said anything; false while its process is down. */
  readonly backendConnected: boolean | null;
  navigate(screen: Screen): void;
  /**
   * Shows `error` (anything a client call throws) in the banner; `action` says what failed, as a
   * sentence ("Could not send the message.").
   */
  reportError(error: unknown, action?: string): void;
  /** Shows a message that did not come from a call (a check made in the UI). */
  showError(text: string, code?: string): void;
  dismissError(): void;
  toast(text: string): void;
  dismissToast(id: number): void;
  setBackendConnected(connected: boolean): void;
}

export type UiStore = StoreApi<UiState>;

export function createUiStore(runtime: Runtime): UiStore {
  checkRuntime(runtime);
  let nextId = 1;
  const timers = new Map<number, TimerHandle>();

  return createStore<UiState>()((set, get) => {
    function showError(text: string, code = 'client'): void {
      if (typeof text !== 'string') throw new TypeError('text must be a string');
      if (typeof code !== 'string') throw new TypeError('code must be a string');
      set({ error: { id: nextId++, kind: 'error', text, code, at: runtime.now() } });
    }

    function dismissToast(id: number): void {
      const timer = timers.get(id);
      if (timer !== undefined) runtime.clearTimer(timer);
      timers.delete(id);
      set({ toasts: get().toasts.filter((toast) => toast.id !== id) });
    }

    return {
      screen: 'chat',
      error: null,
      toasts: [],
      backendConnected: null,
      navigate(screen) {
        if (!(SCREENS as readonly string[]).includes(screen)) throw new RangeError(`screen must be one of ${SCREENS.join(', ')}`);
        set({ screen });
      },
      reportError(error, action) {
        if (action !== undefined && typeof action !== 'string') throw new TypeError('action must be a string');
        const message = errorMessage(error);
        showError(action === undefined ? message : `${action} ${message}`, errorCode(error));
      },
      showError,
      dismissError() {
        set({ error: null });
      },
      toast(text) {
        if (typeof text !== 'string') throw new TypeError('text must be a string');
        const notice: Notice = { id: nextId++, kind: 'info', text, code: '', at: runtime.now() };
        const kept = get().toasts;
        for (const old of kept.slice(0, Math.max(0, kept.length - (MAX_TOASTS - 1)))) dismissToast(old.id);
        set({ toasts: [...get().toasts, notice] });
        timers.set(notice.id, runtime.setTimer(() => dismissToast(notice.id), TOAST_MS));
      },
      dismissToast,
      setBackendConnected(connected) {
        if (typeof connected !== 'boolean') throw new TypeError('connected must be a boolean');
        set({ backendConnected: connected });
      },
    };
  });
}
