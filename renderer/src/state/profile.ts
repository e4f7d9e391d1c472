/**
 * Profile slice: whether an identity exists, is unlocked and online (`profile.status`), and the
 * actions that create, unlock and lock it. Kept live by `profile.changed`.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { EventPayload, MethodResult } from '../../../app/contract';
import type { SiriusClient } from '../client';
import { Freshness } from './sync';
import type { UiStore } from './ui';

export type ProfileStatus = MethodResult<'profile.status'>;
export type ProfileAction = 'create' | 'unlock' | 'lock';

export interface ProfileState {
  readonly status: ProfileStatus | null;
  /** Why the status could not be fetched (the backend is unreachable), for the start screen. */
  readonly loadError: string | null;
  readonly loading: boolean;
  /** The action in progress, if any. */
  readonly busy: ProfileAction | null;
  /** The identity was created in this session and the "share your identity" page is still due. */
  readonly justCreated: boolean;
  connect(): () => void;
  load(): Promise<void>;
  /** Creates the identity and goes online; resolves false (error shown in the banner) on failure. */
  create(displayName: string, passphrase?: string): Promise<boolean>;
  unlock(passphrase?: string): Promise<boolean>;
  lock(): Promise<boolean>;
  /** Leaves the "share your identity" page. */
  finishOnboarding(): void;
}

export type ProfileStore = StoreApi<ProfileState>;

export interface ProfileDeps {
  readonly client: SiriusClient;
  readonly ui: UiStore;
}

const ACTION_FAILED: Readonly<Record<ProfileAction, string>> = {
  create: 'Could not create your identity.',
  unlock: 'Could not unlock your profile.',
  lock: 'Could not lock your profile.',
};

export function createProfileStore({ client, ui }: ProfileDeps): ProfileStore {
  const freshness = new Freshness();
  let pendingLoads = 0;

  return createStore<ProfileState>()((set, get) => {
    async function load(): Promise<void> {
      const token = freshness.begin();
      pendingLoads += 1;
      set({ loading: true });
      try {
        const status = await client.call('profile.status', {});
        if (freshness.isCurrent(token)) set({ status, loadError: null });
      } catch (error) {
        if (freshness.isCurrent(token)) set({ loadError: error instanceof Error ? error.message : String(error) });
      } finally {
        pendingLoads -= 1;
        if (pendingLoads === 0) set({ loading: false });
      }
    }

    /** Applies an action's answer, or asks again when an event overtook it. */
    function settle(token: number, status: ProfileStatus): void {
      if (freshness.isCurrent(token)) set({ status, loadError: null });
      else void load();
    }

    async function run(action: ProfileAction, call: () => Promise<ProfileStatus>): Promise<boolean> {
      if (get().busy !== null) return false;
      const token = freshness.begin();
      set({ busy: action });
      try {
        const status = await call();
        settle(token, status);
        if (action === 'create') set({ justCreated: true });
        return true;
      } catch (error) {
        ui.getState().reportError(error, ACTION_FAILED[action]);
        // The failed attempt may have changed the state (e.g. registration failed after the keys
        // were made); ask for the truth instead of guessing.
        void load();
        return false;
      } finally {
        set({ busy: null });
      }
    }

    return {
      status: null,
      loadError: null,
      loading: false,
      busy: null,
      justCreated: false,
      connect() {
        return client.on('profile.changed', (status: EventPayload<'profile.changed'>) => {
          freshness.bump();
          set({ status, loadError: null });
        });
      },
      load,
      create(displayName, passphrase) {
        if (typeof displayName !== 'string') throw new TypeError('displayName must be a string');
        if (passphrase !== undefined && typeof passphrase !== 'string') throw new TypeError('passphrase must be a string');
        const params = passphrase === undefined ? { displayName } : { displayName, passphrase };
        return run('create', () => client.call('profile.create', params));
      },
      unlock(passphrase) {
        if (passphrase !== undefined && typeof passphrase !== 'string') throw new TypeError('passphrase must be a string');
        const params = passphrase === undefined ? {} : { passphrase };
        return run('unlock', () => client.call('profile.unlock', params));
      },
      lock() {
        return run('lock', () => client.call('profile.lock', {}));
      },
      finishOnboarding() {
        set({ justCreated: false });
      },
    };
  });
}

/** True when the profile's keys are unlocked (the messenger's screens make sense). */
export function isUnlocked(status: ProfileStatus | null): boolean {
  return status !== null && (status.state === 'starting' || status.state === 'online' || status.state === 'offline');
}
