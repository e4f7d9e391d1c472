import { describe, expect, it } from 'vitest';
import { EVENT_NAMES } from '../../app/contract';
import { createClient } from '../../renderer/src/client';
import { createAppState, shortPeerName } from '../../renderer/src/state/app';
import { BOB, FakeBridge, FakeRuntime, contact, flush, message, networkStatus, profileStatus, relayStatus, settingsValue } from './fakes';

function backend(state: 'none' | 'locked' | 'online') {
  const fake = new FakeBridge();
  fake
    .handle('profile.status', () => profileStatus({ state }))
    .handle('network.status', () => networkStatus())
    .handle('relay.status', () => relayStatus())
    .handle('app.version', () => ({ version: '1.2.3' }))
    .handle('contacts.list', () => [contact(BOB, 'Bob')])
    .handle('requests.list', () => [])
    .handle('chat.conversations', () => [{ peer: BOB, name: 'Bob', unread: 2 }])
    .handle('settings.get', () => settingsValue());
  return fake;
}

describe('app state', () => {
  it('subscribes to every event before it asks anything', () => {
    const fake = backend('online');
    const counts: number[] = [];
    const original = fake.bridge.invoke;
    const bridge = {
      subscribe: fake.bridge.subscribe,
      invoke: ((method: never, params: never) => {
        counts.push(Math.min(...EVENT_NAMES.map((e) => fake.listenerCount(e))));
        return original(method, params);
      }) as typeof original,
    };
    const app = createAppState(createClient(bridge), new FakeRuntime());
    app.start();
    expect(counts.length).toBeGreaterThan(0);
    expect(Math.min(...counts)).toBe(1);
  });

  it("loads a person's data only once the profile is unlocked, and forgets it on lock", async () => {
    const fake = backend('locked');
    const app = createAppState(createClient(fake.bridge), new FakeRuntime());
    const stop = app.start();
    await flush();
    expect(app.profile.getState().status?.state).toBe('locked');
    expect(fake.callsOf('contacts.list')).toHaveLength(0);
    expect(app.settings.getState().version).toBe('1.2.3');

    fake.emit('profile.changed', profileStatus({ state: 'online' }));
    await flush();
    expect(app.contacts.getState().contacts.map((c) => c.name)).toEqual(['Bob']);
    expect(app.chat.getState().conversations[0]?.unread).toBe(2);
    expect(app.settings.getState().settings).not.toBeNull();

    fake.emit('chat.message', message({ peer: BOB, text: 'hi' }));
    expect(app.ui.getState().toasts.map((t) => t.text)).toEqual(['New message from Bob']);

    fake.emit('profile.changed', profileStatus({ state: 'locked' }));
    await flush();
    expect(app.contacts.getState().contacts).toEqual([]);
    expect(app.chat.getState().conversations).toEqual([]);
    expect(app.settings.getState().settings).toBeNull();

    stop();
    expect(EVENT_NAMES.every((e) => fake.listenerCount(e) === 0)).toBe(true);
  });

  it('fetches everything again when the backend comes back', async () => {
    const fake = backend('online');
    const app = createAppState(createClient(fake.bridge), new FakeRuntime());
    app.start();
    await flush();
    const before = fake.callsOf('contacts.list').length;
    expect(before).toBe(1);
    fake.emit('backend.status', { connected: false });
    expect(app.ui.getState().backendConnected).toBe(false);
    fake.emit('backend.status', { connected: true });
    await flush();
    expect(app.ui.getState().backendConnected).toBe(true);
    expect(fake.callsOf('profile.status')).toHaveLength(2);
    expect(fake.callsOf('contacts.list')).toHaveLength(2);
    expect(fake.callsOf('chat.conversations')).toHaveLength(2);
  });

  it('shows a start-up problem when the backend does not answer, and recovers on refresh', async () => {
    const fake = backend('online');
    fake.hold('profile.status');
    const app = createAppState(createClient(fake.bridge), new FakeRuntime());
    app.start();
    fake.next('profile.status').fail('backend_unavailable', 'not started');
    await flush();
    expect(app.profile.getState().loadError).toMatch(/not running/);
    fake.handle('profile.status', () => profileStatus({ state: 'none' }));
    await app.refresh();
    expect(app.profile.getState()).toMatchObject({ loadError: null, status: { state: 'none' } });
  });

  it('names strangers by the start of their key and checks its arguments', () => {
    expect(shortPeerName(BOB)).toBe('Peer bbbbbbbb');
    expect(() => createAppState(null as never)).toThrow(TypeError);
    expect(() => createAppState(createClient(new FakeBridge().bridge), { now: () => 0 } as never)).toThrow(/setTimer/);
  });
});
