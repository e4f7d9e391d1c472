/**
 * The renderer's state: one store per feature, wired together.
 *
 * `start()` subscribes every store to its events before anything is fetched (so no change can slip
 * between a fetch and its subscription), then asks for the profile's status. The stores that hold
 * a person's data (contacts, requests, conversations, settings) are fetched once the profile is
 * unlocked and cleared when it is locked again. When the backend process comes back after a
 * restart, everything is fetched again.
 */
import type { SiriusClient } from '../client';
import { browserBroadcastMedia } from '../lib/media/browser';
import { createBroadcastStore, type BroadcastMedia, type BroadcastStore } from './broadcast';
import { createChatStore, type ChatStore } from './chat';
import { createContactsStore, type ContactsStore } from './contacts';
import { createNetworkStore, type NetworkStore } from './network';
import { createProfileStore, isUnlocked, type ProfileStore } from './profile';
import { createRelayStore, type RelayStore } from './relay';
import { browserRuntime, checkRuntime, type Runtime } from './runtime';
import { createSettingsStore, type SettingsStore } from './settings';
import { createUiStore, type UiStore } from './ui';
import { createViewerStore, type ViewerStore } from './viewer';

export interface AppState {
  readonly runtime: Runtime;
  readonly ui: UiStore;
  readonly profile: ProfileStore;
  readonly contacts: ContactsStore;
  readonly chat: ChatStore;
  readonly network: NetworkStore;
  readonly relay: RelayStore;
  readonly settings: SettingsStore;
  readonly broadcast: BroadcastStore;
  readonly viewer: ViewerStore;
  /** Subscribes and fetches; returns the function that unsubscribes everything. */
  start(): () => void;
  /** Fetches everything again (after the backend restarted, or from a "retry" button). */
  refresh(): Promise<void>;
}

/** A short name for a peer who is not a contact: the start of its key. */
export function shortPeerName(peer: string): string {
  if (typeof peer !== 'string') throw new TypeError('peer must be a string');
  return `Peer ${peer.slice(0, 8)}`;
}

/** `media` is the browser's camera, microphone and encoders (lib/media/browser.ts); tests pass fakes. */
export function createAppState(client: SiriusClient, runtime: Runtime = browserRuntime, media: BroadcastMedia = browserBroadcastMedia): AppState {
  if (typeof client !== 'object' || client === null || typeof client.call !== 'function' || typeof client.on !== 'function') {
    throw new TypeError('client must have call and on functions');
  }
  checkRuntime(runtime);
  const ui = createUiStore(runtime);
  const profile = createProfileStore({ client, ui });
  const contacts = createContactsStore({ client, ui });
  const chat = createChatStore({
    client,
    ui,
    runtime,
    nameOf: (peer) => contacts.getState().contacts.find((c) => c.key === peer)?.name ?? shortPeerName(peer),
    onIncoming: (_message, name) => ui.getState().toast(`New message from ${name}`),
  });
  const network = createNetworkStore({ client, runtime });
  const relay = createRelayStore({ client, ui });
  const settings = createSettingsStore({ client, ui });
  const broadcast = createBroadcastStore({ client, ui, media });
  const viewer = createViewerStore({ client, ui });

  /** Whether the unlocked profile's data has been fetched since it was last unlocked. */
  let dataLoaded = false;

  async function loadData(): Promise<void> {
    dataLoaded = true;
    await Promise.all([
      contacts.getState().load(),
      contacts.getState().loadRequests(),
      chat.getState().loadConversations(),
      settings.getState().load(),
    ]);
  }

  function clearData(): void {
    dataLoaded = false;
    contacts.getState().clear();
    chat.getState().clear();
    settings.getState().clear();
  }

  async function refresh(): Promise<void> {
    // Set again by the profile subscription (or below) once the profile is known to be unlocked.
    dataLoaded = false;
    // Stream status is not awaited: it changes nothing else, and its events keep it current.
    void broadcast.getState().load();
    void viewer.getState().load();
    await Promise.all([
      profile.getState().load(),
      network.getState().load(),
      relay.getState().load(),
      settings.getState().loadVersion(),
    ]);
    if (isUnlocked(profile.getState().status) && !dataLoaded) await loadData();
  }

  function start(): () => void {
    const offs: Array<() => void> = [
      profile.getState().connect(),
      contacts.getState().connect(),
      chat.getState().connect(),
      network.getState().connect(),
      relay.getState().connect(),
      broadcast.getState().connect(),
      viewer.getState().connect(),
      client.on('backend.status', ({ connected }) => {
        const before = ui.getState().backendConnected;
        ui.getState().setBackendConnected(connected);
        if (connected && before === false) void refresh();
      }),
      profile.subscribe((state, previous) => {
        if (state.status === previous.status) return;
        const unlocked = isUnlocked(state.status);
        if (unlocked && !dataLoaded) void loadData();
        else if (!unlocked && state.status !== null && dataLoaded) clearData();
        // A change of profile state can change what the network looks like (going online).
        if (state.status?.state !== previous.status?.state && state.status !== null) void network.getState().load();
      }),
    ];
    void refresh();
    return () => {
      for (const off of offs) off();
    };
  }

  return { runtime, ui, profile, contacts, chat, network, relay, settings, broadcast, viewer, start, refresh };
}
