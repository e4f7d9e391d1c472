/**
 * Settings slice: `settings.get` / `settings.set`, and the app's version. The contract has no
 * "settings changed" event, so the settings are fetched again whenever the settings screen opens.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { MethodParams, MethodResult } from '../../../app/contract';
import { errorMessage, type SiriusClient } from '../client';
import { Freshness } from './sync';
import type { UiStore } from './ui';

export type Settings = MethodResult<'settings.get'>;
export type SettingsChange = MethodParams<'settings.set'>;

export interface SettingsState {
  readonly settings: Settings | null;
  readonly saving: boolean;
  /** Why the last fetch failed. */
  readonly error: string | null;
  readonly version: string | null;
  load(): Promise<void>;
  loadVersion(): Promise<void>;
  /** Saves the fields in `change` only; resolves false (error in the banner) on failure. */
  save(change: SettingsChange): Promise<boolean>;
  clear(): void;
}

export type SettingsStore = StoreApi<SettingsState>;

export interface SettingsDeps {
  readonly client: SiriusClient;
  readonly ui: UiStore;
}

const FIELDS = ['displayName', 'networkFile', 'acceptStrangers', 'readReceipts', 'relayBandwidthKBps'] as const;

export function createSettingsStore({ client, ui }: SettingsDeps): SettingsStore {
  const freshness = new Freshness();
  return createStore<SettingsState>()((set, get) => ({
    settings: null,
    saving: false,
    error: null,
    version: null,
    async load() {
      const token = freshness.begin();
      try {
        const settings = await client.call('settings.get', {});
        if (freshness.isCurrent(token)) set({ settings, error: null });
      } catch (error) {
        if (freshness.isCurrent(token)) set({ error: errorMessage(error) });
      }
    },
    async loadVersion() {
      try {
        const { version } = await client.call('app.version', {});
        set({ version });
      } catch {
        // The version is decoration on the settings screen; without it the line is left out.
      }
    },
    async save(change) {
      if (typeof change !== 'object' || change === null) throw new TypeError('change must be an object');
      for (const key of Object.keys(change)) {
        if (!(FIELDS as readonly string[]).includes(key)) throw new RangeError(`change.${key} is not a setting`);
      }
      if (Object.keys(change).length === 0) return true;
      if (get().saving) return false;
      const token = freshness.begin();
      set({ saving: true });
      try {
        const settings = await client.call('settings.set', change);
        if (freshness.isCurrent(token)) set({ settings, error: null });
        return true;
      } catch (error) {
        ui.getState().reportError(error, 'Could not save the settings.');
        return false;
      } finally {
        set({ saving: false });
      }
    },
    clear() {
      freshness.bump();
      set({ settings: null, error: null });
    },
  }));
}
