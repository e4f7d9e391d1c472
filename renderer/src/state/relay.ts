/**
 * Relay slice: the onion node inside the app ("also run as relay node"): `relay.status`, kept
 * live by `relay.changed`, and `relay.set` to switch it on or off and to cap its bandwidth.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { MethodResult } from '../../../app/contract';
import { errorMessage, type SiriusClient } from '../client';
import { Freshness } from './sync';
import type { UiStore } from './ui';

export type RelayStatus = MethodResult<'relay.status'>;

/** Bandwidth cap bounds from the contract (`relay.set`), in KB/s. */
export const MIN_BANDWIDTH_KBPS = 16;
export const MAX_BANDWIDTH_KBPS = 1_000_000;

export interface RelayState {
  readonly status: RelayStatus | null;
  /** A `relay.set` is on its way. */
  readonly busy: boolean;
  /** Why the last fetch failed. */
  readonly error: string | null;
  connect(): () => void;
  load(): Promise<void>;
  setEnabled(enabled: boolean): Promise<boolean>;
  setBandwidth(kbps: number): Promise<boolean>;
}

export type RelayStore = StoreApi<RelayState>;

export interface RelayDeps {
  readonly client: SiriusClient;
  readonly ui: UiStore;
}

/** Why `kbps` is not a valid bandwidth cap, or null. */
export function bandwidthProblem(kbps: number): string | null {
  if (typeof kbps !== 'number' || !Number.isFinite(kbps)) return 'Enter a number of KB/s.';
  if (!Number.isInteger(kbps)) return 'Enter a whole number of KB/s.';
  if (kbps < MIN_BANDWIDTH_KBPS) return `The cap must be at least ${MIN_BANDWIDTH_KBPS} KB/s.`;
  if (kbps > MAX_BANDWIDTH_KBPS) return `The cap can be at most ${MAX_BANDWIDTH_KBPS.toLocaleString('en')} KB/s.`;
  return null;
}

export function createRelayStore({ client, ui }: RelayDeps): RelayStore {
  const freshness = new Freshness();
  return createStore<RelayState>()((set, get) => {
    async function load(): Promise<void> {
      const token = freshness.begin();
      try {
        const status = await client.call('relay.status', {});
        if (freshness.isCurrent(token)) set({ status, error: null });
      } catch (error) {
        if (freshness.isCurrent(token)) set({ error: errorMessage(error) });
      }
    }

    async function change(params: { enabled: boolean; bandwidthKBps?: number }, action: string): Promise<boolean> {
      if (get().busy) return false;
      const token = freshness.begin();
      set({ busy: true });
      try {
        const status = await client.call('relay.set', params);
        if (freshness.isCurrent(token)) set({ status, error: null });
        else void load();
        return true;
      } catch (error) {
        ui.getState().reportError(error, action);
        return false;
      } finally {
        set({ busy: false });
      }
    }

    return {
      status: null,
      busy: false,
      error: null,
      connect() {
        return client.on('relay.changed', (status) => {
          freshness.bump();
          set({ status, error: null });
        });
      },
      load,
      setEnabled(enabled) {
        if (typeof enabled !== 'boolean') throw new TypeError('enabled must be a boolean');
        return change({ enabled }, enabled ? 'Could not start the relay node.' : 'Could not stop the relay node.');
      },
      setBandwidth(kbps) {
        const problem = bandwidthProblem(kbps);
        if (problem !== null) throw new RangeError(`kbps: ${problem}`);
        const enabled = get().status?.enabled ?? false;
        return change({ enabled, bandwidthKBps: kbps }, 'Could not change the bandwidth cap.');
      },
    };
  });
}
