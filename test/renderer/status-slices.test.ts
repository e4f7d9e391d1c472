import { describe, expect, it } from 'vitest';
import { createClient } from '../../renderer/src/client';
import { createNetworkStore, listAgeNow } from '../../renderer/src/state/network';
import { bandwidthProblem, createRelayStore } from '../../renderer/src/state/relay';
import { createSettingsStore } from '../../renderer/src/state/settings';
import { createUiStore } from '../../renderer/src/state/ui';
import { FakeBridge, FakeRuntime, flush, networkStatus, relayStatus, settingsValue } from './fakes';

function setup() {
  const fake = new FakeBridge();
  const runtime = new FakeRuntime();
  const client = createClient(fake.bridge);
  const ui = createUiStore(runtime);
  return { fake, runtime, client, ui };
}

describe('network slice', () => {
  it('follows network.changed and ignores an older answer that arrives later', async () => {
    const { fake, client, runtime } = setup();
    const network = createNetworkStore({ client, runtime });
    network.getState().connect();
    const load = network.getState().load();
    fake.emit('network.changed', networkStatus({ openCircuits: 5 }));
    fake.next('network.status').resolve(networkStatus({ openCircuits: 1 }));
    await load;
    expect(network.getState().status?.openCircuits).toBe(5);
    expect(network.getState().loading).toBe(false);
  });

  it('ages the node list from the time its status arrived', async () => {
    const { fake, client, runtime } = setup();
    const network = createNetworkStore({ client, runtime });
    fake.handle('network.status', () => networkStatus({ listAgeMs: 2000 }));
    await network.getState().load();
    runtime.advance(3000);
    expect(listAgeNow(network.getState(), runtime.now())).toBe(5000);
    expect(listAgeNow({ status: networkStatus({ listAgeMs: null }), receivedAt: 0 }, 10)).toBeNull();
  });

  it('keeps the last status and says why a fetch failed', async () => {
    const { fake, client, runtime } = setup();
    const network = createNetworkStore({ client, runtime });
    fake.handle('network.status', () => networkStatus());
    await network.getState().load();
    fake.hold('network.status');
    const load = network.getState().load();
    fake.next('network.status').fail('timeout', 'late');
    await load;
    expect(network.getState().status).not.toBeNull();
    expect(network.getState().error).toMatch(/too long/);
  });
});

describe('relay slice', () => {
  it('switches the relay on and keeps the current bandwidth', async () => {
    const { fake, client, ui } = setup();
    const relay = createRelayStore({ client, ui });
    relay.getState().connect();
    fake.emit('relay.changed', relayStatus({ bandwidthKBps: 2048 }));
    const on = relay.getState().setEnabled(true);
    expect(relay.getState().busy).toBe(true);
    const call = fake.next('relay.set');
    expect(call.params).toEqual({ enabled: true });
    call.resolve(relayStatus({ enabled: true, running: true, bandwidthKBps: 2048 }));
    await expect(on).resolves.toBe(true);
    expect(relay.getState()).toMatchObject({ busy: false, status: { enabled: true, running: true } });
    const cap = relay.getState().setBandwidth(100);
    expect(fake.next('relay.set').params).toEqual({ enabled: true, bandwidthKBps: 100 });
    fake.next('relay.set').resolve(relayStatus({ enabled: true, running: true, bandwidthKBps: 100 }));
    await cap;
    expect(relay.getState().status?.bandwidthKBps).toBe(100);
  });

  it('reports a refused change and keeps the old status', async () => {
    const { fake, client, ui } = setup();
    const relay = createRelayStore({ client, ui });
    fake.handle('relay.status', () => relayStatus());
    await relay.getState().load();
    const on = relay.getState().setEnabled(true);
    fake.next('relay.set').fail('relay.port_in_use', 'port 9001 is in use by another program');
    await expect(on).resolves.toBe(false);
    expect(relay.getState().status?.enabled).toBe(false);
    expect(ui.getState().error?.text).toBe('Could not start the relay node. Port 9001 is in use by another program.');
  });

  it('asks again when relay.changed overtook the answer', async () => {
    const { fake, client, ui } = setup();
    const relay = createRelayStore({ client, ui });
    relay.getState().connect();
    const on = relay.getState().setEnabled(true);
    fake.emit('relay.changed', relayStatus({ enabled: true, running: true, circuits: 3 }));
    fake.next('relay.set').resolve(relayStatus({ enabled: true, running: false }));
    await on;
    expect(relay.getState().status).toMatchObject({ running: true, circuits: 3 });
    fake.next('relay.status').resolve(relayStatus({ enabled: true, running: true, circuits: 4 }));
    await flush();
    expect(relay.getState().status?.circuits).toBe(4);
  });

  it('refuses bandwidth outside the contract bounds', () => {
    const { client, ui, fake } = setup();
    const relay = createRelayStore({ client, ui });
    expect(() => relay.getState().setBandwidth(15)).toThrow(RangeError);
    expect(() => relay.getState().setBandwidth(1.5)).toThrow(/whole number/);
    expect(fake.calls).toHaveLength(0);
    expect(bandwidthProblem(16)).toBeNull();
    expect(bandwidthProblem(1_000_000)).toBeNull();
    expect(bandwidthProblem(1_000_001)).toMatch(/at most/);
    expect(bandwidthProblem(Number.NaN)).toMatch(/number/);
  });
});

describe('settings slice', () => {
  it('loads, saves only what changed, and keeps the answer', async () => {
    const { fake, client, ui } = setup();
    const settings = createSettingsStore({ client, ui });
    fake.handle('settings.get', () => settingsValue());
    await settings.getState().load();
    expect(settings.getState().settings?.readReceipts).toBe(true);
    const save = settings.getState().save({ readReceipts: false });
    expect(settings.getState().saving).toBe(true);
    const call = fake.next('settings.set');
    expect(call.params).toEqual({ readReceipts: false });
    call.resolve(settingsValue({ readReceipts: false }));
    await expect(save).resolves.toBe(true);
    expect(settings.getState()).toMatchObject({ saving: false, settings: { readReceipts: false } });
  });

  it('reports a failed save and keeps the stored settings', async () => {
    const { fake, client, ui } = setup();
    const settings = createSettingsStore({ client, ui });
    fake.handle('settings.get', () => settingsValue());
    await settings.getState().load();
    const save = settings.getState().save({ networkFile: '/nope.json' });
    fake.next('settings.set').fail('settings.network_file', 'the network file cannot be read');
    await expect(save).resolves.toBe(false);
    expect(settings.getState().settings?.networkFile).toBeNull();
    expect(ui.getState().error?.text).toBe('Could not save the settings. The network file cannot be read.');
  });

  it('refuses unknown fields, and sends nothing for no change', async () => {
    const { fake, client, ui } = setup();
    const settings = createSettingsStore({ client, ui });
    await expect(settings.getState().save({ colour: 'red' } as never)).rejects.toThrow(RangeError);
    await expect(settings.getState().save({})).resolves.toBe(true);
    expect(fake.calls).toHaveLength(0);
  });

  it('fetches the version once asked, and lives without it', async () => {
    const { fake, client, ui } = setup();
    const settings = createSettingsStore({ client, ui });
    const v = settings.getState().loadVersion();
    fake.next('app.version').fail('timeout', 'late');
    await v;
    expect(settings.getState().version).toBeNull();
    expect(ui.getState().error).toBeNull();
    fake.handle('app.version', () => ({ version: '0.1.0' }));
    await settings.getState().loadVersion();
    expect(settings.getState().version).toBe('0.1.0');
  });
});
