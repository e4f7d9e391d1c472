/**
 * Network slice: what the node list, circuits, channels, presence points, entry guards and the
 * access certificate look like (`network.status`), kept live by `network.changed`. The time an
 * answer arrived is kept, so the screen can age the node list between events.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { MethodResult } from '../../../app/contract';
import { errorMessage, type SiriusClient } from '../client';
import type { Runtime } from './runtime';
import { Freshness } from './sync';

export type NetworkStatus = MethodResult<'network.status'>;

export interface NetworkState {
  readonly status: NetworkStatus | null;
  /** When `status` arrived (runtime clock). */
  readonly receivedAt: number | null;
  readonly loading: boolean;
  /** Why the last fetch failed; cleared by the next status. */
  readonly error: string | null;
  connect(): () => void;
  load(): Promise<void>;
}

export type NetworkStore = StoreApi<NetworkState>;

export interface NetworkDeps {
  readonly client: SiriusClient;
  readonly runtime: Runtime;
}

export function createNetworkStore({ client, runtime }: NetworkDeps): NetworkStore {
  const freshness = new Freshness();
  return createStore<NetworkState>()((set) => ({
    status: null,
    receivedAt: null,
    loading: false,
    error: null,
    connect() {
      return client.on('network.changed', (status) => {
        freshness.bump();
        set({ status, receivedAt: runtime.now(), error: null });
      });
    },
    async load() {
      const token = freshness.begin();
      set({ loading: true });
      try {
        const status = await client.call('network.status', {});
        if (freshness.isCurrent(token)) set({ status, receivedAt: runtime.now(), error: null });
      } catch (error) {
        if (freshness.isCurrent(token)) set({ error: errorMessage(error) });
      } finally {
        set({ loading: false });
      }
    },
  }));
}

/** Age of the node list now, from the status and the time it arrived. */
export function listAgeNow(state: Pick<NetworkState, 'status' | 'receivedAt'>, now: number): number | null {
  const age = state.status?.listAgeMs ?? null;
  if (age === null || state.receivedAt === null) return age;
  return age + Math.max(0, now - state.receivedAt);
}
