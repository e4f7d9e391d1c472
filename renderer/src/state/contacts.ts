/**
 * Contacts slice: the contact list and the pending chat requests from people who are not contacts.
 * Both are fetched again on `contacts.changed` / `requests.changed`; the answers to add, rename,
 * remove and answer are applied at once, and a fetch that was already on its way is repeated so
 * it cannot undo them.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { MethodResult } from '../../../app/contract';
import type { SiriusClient } from '../client';
import { createReloader } from './sync';
import type { UiStore } from './ui';

export type Contact = MethodResult<'contacts.add'>;
export type ChatRequest = MethodResult<'requests.list'>[number];

export interface ContactsState {
  /** Sorted by name (case-insensitive), then key. */
  readonly contacts: readonly Contact[];
  /** Newest first. */
  readonly requests: readonly ChatRequest[];
  readonly loaded: boolean;
  readonly requestsLoaded: boolean;
  /** Contact keys and request ids with an action on its way. */
  readonly pending: Readonly<Record<string, true>>;
  connect(): () => void;
  load(): Promise<void>;
  loadRequests(): Promise<void>;
  /** Adds a contact; resolves with it, or null (error shown in the banner). */
  add(identity: string, name: string): Promise<Contact | null>;
  rename(key: string, name: string): Promise<boolean>;
  remove(key: string): Promise<boolean>;
  answer(id: string, accept: boolean): Promise<boolean>;
  /** Forgets everything (the profile was locked). */
  clear(): void;
}

export type ContactsStore = StoreApi<ContactsState>;

export interface ContactsDeps {
  readonly client: SiriusClient;
  readonly ui: UiStore;
}

function byName(a: Contact, b: Contact): number {
  const names = a.name.localeCompare(b.name, undefined, { sensitivity: 'base' });
  return names !== 0 ? names : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function sortContacts(list: readonly Contact[]): Contact[] {
  return [...list].sort(byName);
}

function sortRequests(list: readonly ChatRequest[]): ChatRequest[] {
  return [...list].sort((a, b) => b.receivedAt - a.receivedAt);
}

export function createContactsStore({ client, ui }: ContactsDeps): ContactsStore {
  /** Bumped by clear(): answers to requests made before it are dropped. */
  let generation = 0;

  return createStore<ContactsState>()((set, get) => {
    const contactsReloader = createReloader(
      async () => ({ generation, list: await client.call('contacts.list', {}) }),
      (answer) => {
        if (answer.generation === generation) set({ contacts: sortContacts(answer.list), loaded: true });
      },
    );
    const requestsReloader = createReloader(
      async () => ({ generation, list: await client.call('requests.list', {}) }),
      (answer) => {
        if (answer.generation === generation) set({ requests: sortRequests(answer.list), requestsLoaded: true });
      },
    );

    async function load(): Promise<void> {
      try {
        await contactsReloader.reload();
      } catch (error) {
        ui.getState().reportError(error, 'Could not load your contacts.');
      }
    }

    async function loadRequests(): Promise<void> {
      try {
        await requestsReloader.reload();
      } catch (error) {
        ui.getState().reportError(error, 'Could not load chat requests.');
      }
    }

    function setPending(id: string, on: boolean): void {
      const pending = { ...get().pending };
      if (on) pending[id] = true;
      else delete pending[id];
      set({ pending });
    }

    function upsert(contact: Contact): void {
      set({ contacts: sortContacts([...get().contacts.filter((c) => c.key !== contact.key), contact]) });
      contactsReloader.invalidate();
    }

    return {
      contacts: [],
      requests: [],
      loaded: false,
      requestsLoaded: false,
      pending: {},
      connect() {
        const offContacts = client.on('contacts.changed', () => void load());
        const offRequests = client.on('requests.changed', () => void loadRequests());
        return () => {
          offContacts();
          offRequests();
        };
      },
      load,
      loadRequests,
      async add(identity, name) {
        if (typeof identity !== 'string') throw new TypeError('identity must be a string');
        if (typeof name !== 'string') throw new TypeError('name must be a string');
        try {
          const before = generation;
          const contact = await client.call('contacts.add', { identity: identity.trim(), name: name.trim() });
          if (before === generation) upsert(contact);
          return contact;
        } catch (error) {
          ui.getState().reportError(error, 'Could not add the contact.');
          return null;
        }
      },
      async rename(key, name) {
        if (typeof key !== 'string') throw new TypeError('key must be a string');
        if (typeof name !== 'string') throw new TypeError('name must be a string');
        setPending(key, true);
        try {
          const before = generation;
          const contact = await client.call('contacts.rename', { key, name: name.trim() });
          if (before === generation) upsert(contact);
          return true;
        } catch (error) {
          ui.getState().reportError(error, 'Could not rename the contact.');
          return false;
        } finally {
          setPending(key, false);
        }
      },
      async remove(key) {
        if (typeof key !== 'string') throw new TypeError('key must be a string');
        setPending(key, true);
        try {
          await client.call('contacts.remove', { key });
          set({ contacts: get().contacts.filter((c) => c.key !== key) });
          contactsReloader.invalidate();
          return true;
        } catch (error) {
          ui.getState().reportError(error, 'Could not remove the contact.');
          return false;
        } finally {
          setPending(key, false);
        }
      },
      async answer(id, accept) {
        if (typeof id !== 'string') throw new TypeError('id must be a string');
        if (typeof accept !== 'boolean') throw new TypeError('accept must be a boolean');
        setPending(id, true);
        try {
          await client.call('requests.answer', { id, accept });
          set({ requests: get().requests.filter((r) => r.id !== id) });
          requestsReloader.invalidate();
          return true;
        } catch (error) {
          ui.getState().reportError(error, accept ? 'Could not accept the request.' : 'Could not deny the request.');
          return false;
        } finally {
          setPending(id, false);
        }
      },
      clear() {
        generation += 1;
        set({ contacts: [], requests: [], loaded: false, requestsLoaded: false, pending: {} });
      },
    };
  });
}
