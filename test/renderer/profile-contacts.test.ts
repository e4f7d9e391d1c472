import { describe, expect, it } from 'vitest';
import { createClient } from '../../renderer/src/client';
import { createContactsStore } from '../../renderer/src/state/contacts';
import { createProfileStore, isUnlocked } from '../../renderer/src/state/profile';
import { TOAST_MS, createUiStore } from '../../renderer/src/state/ui';
import { ALICE, BOB, BOB_IDENTITY, CAROL, FakeBridge, FakeRuntime, contact, flush, profileStatus } from './fakes';

function setup() {
  const fake = new FakeBridge();
  const runtime = new FakeRuntime();
  const client = createClient(fake.bridge);
  const ui = createUiStore(runtime);
  return { fake, runtime, client, ui };
}

describe('ui slice', () => {
  it('shows one error at a time with the action and the reason', () => {
    const { ui } = setup();
    ui.getState().reportError(new Error('disk full'), 'Could not save.');
    expect(ui.getState().error?.text).toBe('Could not save. Disk full.');
    expect(ui.getState().error?.code).toBe('client');
    ui.getState().showError('Second.', 'x.y');
    expect(ui.getState().error).toMatchObject({ text: 'Second.', code: 'x.y' });
    ui.getState().dismissError();
    expect(ui.getState().error).toBeNull();
  });

  it('lets toasts expire on the runtime clock and keeps at most three', () => {
    const { ui, runtime } = setup();
    for (const text of ['a', 'b', 'c', 'd']) ui.getState().toast(text);
    expect(ui.getState().toasts.map((t) => t.text)).toEqual(['b', 'c', 'd']);
    runtime.advance(TOAST_MS - 1);
    expect(ui.getState().toasts).toHaveLength(3);
    runtime.advance(1);
    expect(ui.getState().toasts).toHaveLength(0);
    expect(runtime.pendingTimers).toBe(0);
  });

  it('refuses unknown screens', () => {
    const { ui } = setup();
    ui.getState().navigate('relay');
    expect(ui.getState().screen).toBe('relay');
    expect(() => ui.getState().navigate('nowhere' as 'relay')).toThrow(RangeError);
    expect(ui.getState().screen).toBe('relay');
  });
});

describe('profile slice', () => {
  it('keeps the state an event brought when an older answer arrives afterwards', async () => {
    const { fake, client, ui } = setup();
    const profile = createProfileStore({ client, ui });
    profile.getState().connect();
    const load = profile.getState().load();
    fake.emit('profile.changed', profileStatus({ state: 'online' }));
    fake.next('profile.status').resolve(profileStatus({ state: 'starting' }));
    await load;
    expect(profile.getState().status?.state).toBe('online');
    expect(profile.getState().loading).toBe(false);
  });

  it('remembers why the status could not be fetched', async () => {
    const { fake, client, ui } = setup();
    const profile = createProfileStore({ client, ui });
    const load = profile.getState().load();
    fake.next('profile.status').fail('backend_unavailable', 'gone');
    await load;
    expect(profile.getState().status).toBeNull();
    expect(profile.getState().loadError).toMatch(/not running/);
  });

  it('creates an identity, is busy meanwhile, and marks it just created', async () => {
    const { fake, client, ui } = setup();
    const profile = createProfileStore({ client, ui });
    const done = profile.getState().create('Alice', 'correct horse battery');
    expect(profile.getState().busy).toBe('create');
    // A second action while one runs is refused without a call.
    await expect(profile.getState().unlock('whatever1')).resolves.toBe(false);
    const call = fake.next('profile.create');
    expect(call.params).toEqual({ displayName: 'Alice', passphrase: 'correct horse battery' });
    call.resolve(profileStatus({ state: 'online' }));
    await expect(done).resolves.toBe(true);
    expect(profile.getState()).toMatchObject({ busy: null, justCreated: true });
    expect(profile.getState().status?.state).toBe('online');
    expect(fake.callsOf('profile.unlock')).toHaveLength(0);
    profile.getState().finishOnboarding();
    expect(profile.getState().justCreated).toBe(false);
  });

  it('shows why unlocking failed and asks for the state again', async () => {
    const { fake, client, ui } = setup();
    const profile = createProfileStore({ client, ui });
    const done = profile.getState().unlock('wrong passphrase');
    fake.next('profile.unlock').fail('profile.wrong_passphrase', 'the passphrase does not open these keys');
    await expect(done).resolves.toBe(false);
    expect(ui.getState().error?.text).toBe('Could not unlock your profile. The passphrase does not open these keys.');
    expect(ui.getState().error?.code).toBe('profile.wrong_passphrase');
    expect(fake.waiting('profile.status')).toHaveLength(1);
    expect(profile.getState().busy).toBeNull();
  });

  it('asks again when an event overtook the answer to an action', async () => {
    const { fake, client, ui } = setup();
    const profile = createProfileStore({ client, ui });
    profile.getState().connect();
    const done = profile.getState().unlock('long enough');
    fake.emit('profile.changed', profileStatus({ state: 'online' }));
    fake.next('profile.unlock').resolve(profileStatus({ state: 'starting' }));
    await done;
    expect(profile.getState().status?.state).toBe('online');
    fake.next('profile.status').resolve(profileStatus({ state: 'online', displayName: 'Alice B' }));
    await flush();
    expect(profile.getState().status?.displayName).toBe('Alice B');
  });

  it('sends no passphrase when none is given (OS keychain)', async () => {
    const { fake, client, ui } = setup();
    const profile = createProfileStore({ client, ui });
    void profile.getState().unlock();
    expect(fake.next('profile.unlock').params).toEqual({});
    expect(() => profile.getState().create(3 as never)).toThrow(TypeError);
  });

  it('tells unlocked states apart', () => {
    expect(isUnlocked(null)).toBe(false);
    expect(isUnlocked(profileStatus({ state: 'locked' }))).toBe(false);
    expect(isUnlocked(profileStatus({ state: 'none' }))).toBe(false);
    expect(isUnlocked(profileStatus({ state: 'offline' }))).toBe(true);
    expect(isUnlocked(profileStatus({ state: 'starting' }))).toBe(true);
  });
});

describe('contacts slice', () => {
  it('fetches again when the list changes during a fetch, and keeps the newer list', async () => {
    const { fake, client, ui } = setup();
    const contacts = createContactsStore({ client, ui });
    contacts.getState().connect();
    const load = contacts.getState().load();
    fake.emit('contacts.changed', {});
    fake.next('contacts.list').resolve([contact(BOB, 'Bob')]);
    await flush();
    expect(contacts.getState().contacts).toEqual([]);
    fake.next('contacts.list').resolve([contact(BOB, 'Bob'), contact(CAROL, 'carol', { connected: true })]);
    await load;
    expect(contacts.getState().contacts.map((c) => c.name)).toEqual(['Bob', 'carol']);
    expect(contacts.getState().loaded).toBe(true);
    expect(fake.callsOf('contacts.list')).toHaveLength(2);
  });

  it('adds a contact at once, sorted by name, and a fetch already on its way cannot undo it', async () => {
    const { fake, client, ui } = setup();
    const contacts = createContactsStore({ client, ui });
    const load = contacts.getState().load();
    const add = contacts.getState().add(`  ${BOB_IDENTITY} `, ' Bob ');
    const addCall = fake.next('contacts.add');
    expect(addCall.params).toEqual({ identity: BOB_IDENTITY, name: 'Bob' });
    addCall.resolve(contact(BOB, 'Bob'));
    await expect(add).resolves.toMatchObject({ key: BOB });
    expect(contacts.getState().contacts.map((c) => c.key)).toEqual([BOB]);
    // The list fetch started before the add answers without Bob: it is fetched again.
    fake.next('contacts.list').resolve([]);
    await flush();
    expect(contacts.getState().contacts.map((c) => c.key)).toEqual([BOB]);
    fake.next('contacts.list').resolve([contact(CAROL, 'Anna'), contact(BOB, 'Bob')]);
    await load;
    expect(contacts.getState().contacts.map((c) => c.name)).toEqual(['Anna', 'Bob']);
  });

  it('reports a refused add and changes nothing', async () => {
    const { fake, client, ui } = setup();
    const contacts = createContactsStore({ client, ui });
    const add = contacts.getState().add(BOB_IDENTITY, 'Bob');
    fake.next('contacts.add').fail('invalid_params', 'identity: an identity string like sirius.chat.account.…');
    await expect(add).resolves.toBeNull();
    expect(contacts.getState().contacts).toEqual([]);
    expect(ui.getState().error?.text).toBe('Could not add the contact. Identity string: an identity string like sirius.chat.account.…');
  });

  it('renames and removes, marking the contact busy meanwhile', async () => {
    const { fake, client, ui } = setup();
    const contacts = createContactsStore({ client, ui });
    fake.handle('contacts.list', () => [contact(BOB, 'Bob'), contact(CAROL, 'Carol')]);
    await contacts.getState().load();
    const rename = contacts.getState().rename(BOB, 'Zed');
    expect(contacts.getState().pending[BOB]).toBe(true);
    fake.next('contacts.rename').resolve(contact(BOB, 'Zed'));
    await expect(rename).resolves.toBe(true);
    expect(contacts.getState().contacts.map((c) => c.name)).toEqual(['Carol', 'Zed']);
    expect(contacts.getState().pending[BOB]).toBeUndefined();

    const remove = contacts.getState().remove(CAROL);
    fake.next('contacts.remove').fail('timeout', 'late');
    await expect(remove).resolves.toBe(false);
    expect(contacts.getState().contacts).toHaveLength(2);
    const again = contacts.getState().remove(CAROL);
    fake.next('contacts.remove').resolve({ removed: true });
    await expect(again).resolves.toBe(true);
    expect(contacts.getState().contacts.map((c) => c.key)).toEqual([BOB]);
  });

  it('answers requests and keeps them newest first', async () => {
    const { fake, client, ui } = setup();
    const contacts = createContactsStore({ client, ui });
    contacts.getState().connect();
    fake.handle('requests.list', () => [
      { id: 'r1', from: BOB_IDENTITY, greeting: 'hi', receivedAt: 10 },
      { id: 'r2', from: BOB_IDENTITY, greeting: 'hello again', receivedAt: 20 },
    ]);
    fake.emit('requests.changed', { pending: 2 });
    await flush();
    expect(contacts.getState().requests.map((r) => r.id)).toEqual(['r2', 'r1']);
    fake.hold('requests.list');
    const answer = contacts.getState().answer('r1', true);
    const call = fake.next('requests.answer');
    expect(call.params).toEqual({ id: 'r1', accept: true });
    call.resolve({});
    await expect(answer).resolves.toBe(true);
    expect(contacts.getState().requests.map((r) => r.id)).toEqual(['r2']);
  });

  it('drops answers to fetches made before clear()', async () => {
    const { fake, client, ui } = setup();
    const contacts = createContactsStore({ client, ui });
    const load = contacts.getState().load();
    contacts.getState().clear();
    fake.next('contacts.list').resolve([contact(ALICE, 'Old')]);
    await load;
    expect(contacts.getState().contacts).toEqual([]);
    expect(contacts.getState().loaded).toBe(false);
  });

  it('reports a failed fetch', async () => {
    const { fake, client, ui } = setup();
    const contacts = createContactsStore({ client, ui });
    const load = contacts.getState().load();
    fake.next('contacts.list').fail('internal', 'internal error');
    await load;
    expect(ui.getState().error?.text).toMatch(/^Could not load your contacts\. Something went wrong/);
  });
});
