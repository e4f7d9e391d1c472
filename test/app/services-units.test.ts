/**
 * The parts of app/services that need no network: settings files, the key protectors and the
 * keychain-sealed secret file, profiles sealed by the OS keychain, the dispatcher, presence
 * points for small networks and the words used for problems.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  callMethod,
  DEFAULT_SETTINGS,
  deferredKeychainProtector,
  describeOnlineProblem,
  loadOrCreateKeychainSecret,
  loadSettings,
  passphraseProtector,
  presencePointsFor,
  profilePaths,
  saveSettings,
  ServiceError,
  type SafeStorageLike,
  type ServiceHandlers,
} from '../../app/services';
import { deadNetworkFile, openAppUser, removeTempRoots, tempRoot } from './helpers';

afterAll(() => removeTempRoots());

describe('settings files', () => {
  it('give the defaults when missing, fill in missing fields, and drop unknown ones', () => {
    const dir = tempRoot('settings');
    const file = join(dir, 'settings.json');
    expect(loadSettings(file)).toEqual({ settings: DEFAULT_SETTINGS });
    writeFileSync(file, JSON.stringify({ displayName: 'Zoe', theme: 'dark' }));
    expect(loadSettings(file)).toEqual({ settings: { ...DEFAULT_SETTINGS, displayName: 'Zoe' } });
    saveSettings(file, { ...DEFAULT_SETTINGS, readReceipts: false });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ readReceipts: false });
    expect(() => saveSettings(file, { ...DEFAULT_SETTINGS, relayBandwidthKBps: 1 })).toThrow();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ readReceipts: false });
  });

  it('keep an unusable file aside instead of losing it', () => {
    const dir = tempRoot('settings-bad');
    const file = join(dir, 'settings.json');
    for (const bad of ['{not json', '[1,2]', '{"relayBandwidthKBps": "fast"}']) {
      writeFileSync(file, bad);
      const loaded = loadSettings(file, () => 42);
      expect(loaded.settings).toEqual(DEFAULT_SETTINGS);
      expect(loaded.movedAside).toBe(`${file}.bad-42`);
      expect(readFileSync(`${file}.bad-42`, 'utf8')).toBe(bad);
      expect(existsSync(file)).toBe(false);
    }
  });
});

describe('profile paths', () => {
  it('put a profile under <root>/profiles/<name> and refuse names that are not folder-safe', () => {
    const p = profilePaths('/data', 'work-2');
    expect(p.dir).toBe(join('/data', 'profiles', 'work-2'));
    expect(p.chatDb).toBe(join(p.dir, 'chat.sqlite'));
    expect(p.keychainSecret).toBe(join(p.dir, 'keychain.secret'));
    for (const bad of ['', '..', 'a/b', 'a b', 'x'.repeat(65)]) expect(() => profilePaths('/data', bad), bad).toThrow(RangeError);
    expect(() => profilePaths('relative', 'a')).toThrow(RangeError);
  });
});

describe('key protectors', () => {
  it('passphrase protection has no keychain secret', async () => {
    const p = passphraseProtector();
    expect(p.kind).toBe('passphrase');
    await expect(p.keychainSecret()).rejects.toThrow(/keychain/);
  });

  it('the deferred keychain takes the first valid secret only, and times out without one', async () => {
    const k = deferredKeychainProtector(200);
    const waiting = k.protector.keychainSecret();
    expect(k.provide('not hex')).toBe(false);
    expect(k.provide('ab'.repeat(31))).toBe(false);
    expect(k.provide('ab'.repeat(32))).toBe(true);
    expect(k.provide('cd'.repeat(32))).toBe(false);
    await expect(waiting).resolves.toBe('ab'.repeat(32));
    await expect(k.protector.keychainSecret()).resolves.toBe('ab'.repeat(32));
    await expect(deferredKeychainProtector(50).protector.keychainSecret()).rejects.toThrow(/did not provide/);
    expect(() => deferredKeychainProtector(0)).toThrow(RangeError);
  });
});

/** A stand-in for Electron's safeStorage: XOR with a fixed byte, so sealed ≠ plain. */
const fakeStorage: SafeStorageLike = {
  encryptString: (plain) => Uint8Array.from(Buffer.from(plain, 'utf8'), (b) => b ^ 0x5a),
  decryptString: (sealed) => Buffer.from(Uint8Array.from(sealed, (b) => b ^ 0x5a)).toString('utf8'),
};

describe('the keychain secret file', () => {
  it('is made once, sealed, and read back the same', () => {
    const file = join(tempRoot('keychain'), 'profiles', 'p', 'keychain.secret');
    const secret = loadOrCreateKeychainSecret(file, fakeStorage);
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(file).toString('utf8')).not.toContain(secret);
    expect(loadOrCreateKeychainSecret(file, fakeStorage)).toBe(secret);
  });

  it('is never replaced when it cannot be unsealed', () => {
    const dir = tempRoot('keychain-bad');
    const file = join(dir, 'keychain.secret');
    writeFileSync(file, 'garbage');
    expect(() => loadOrCreateKeychainSecret(file, fakeStorage)).toThrow(/keychain secret/);
    const failing: SafeStorageLike = { ...fakeStorage, decryptString: () => { throw new Error('keychain locked'); } };
    expect(() => loadOrCreateKeychainSecret(file, failing)).toThrow(/keychain locked/);
    expect(readFileSync(file, 'utf8')).toBe('garbage');
    expect(() => loadOrCreateKeychainSecret(file, {} as SafeStorageLike)).toThrow(TypeError);
  });
});

describe('a profile sealed by the OS keychain', () => {
  it('is created and unlocked without a passphrase, and only with its own secret', async () => {
    const root = tempRoot('keychain-profile');
    const network = await deadNetworkFile(root);
    const secret = 'e1'.repeat(32);
    let keychain = deferredKeychainProtector(2000);
    const user = openAppUser('kc', { keys: keychain.protector }, root);
    await user.ok('settings.set', { networkFile: network });
    expect(await user.ok('profile.status', {})).toEqual({ state: 'none', keyProtection: 'os-keychain' });
    setTimeout(() => keychain.provide(secret), 50);
    const created = await user.ok('profile.create', { displayName: 'Kim' });
    expect(created).toMatchObject({ state: 'starting', keyProtection: 'os-keychain' });
    const profile = JSON.parse(readFileSync(join(root, 'profiles', 'default', 'profile.json'), 'utf8')) as { keyProtection: string };
    expect(profile.keyProtection).toBe('os-keychain');

    // Next start: the same secret from the keychain opens it.
    keychain = deferredKeychainProtector(2000);
    await user.services.close();
    const next = openAppUser('kc', { keys: keychain.protector }, root);
    keychain.provide(secret);
    expect((await next.ok('profile.unlock', {})).identity).toBe(created.identity);
    await next.services.close();

    // With autoUnlock (the desktop backend) it opens by itself once the secret arrives.
    const auto = deferredKeychainProtector(2000);
    const autoUser = openAppUser('kc', { keys: auto.protector, autoUnlock: true }, root);
    expect((await autoUser.ok('profile.status', {})).state).toBe('locked');
    auto.provide(secret);
    const start = Date.now();
    while ((await autoUser.ok('profile.status', {})).state === 'locked' && Date.now() - start < 20_000) await new Promise((r) => setTimeout(r, 20));
    expect((await autoUser.ok('profile.status', {})).identity).toBe(created.identity);
    expect((await autoUser.ok('profile.status', {})).state).not.toBe('locked');
    await autoUser.services.close();

    // Another secret does not, and nothing is changed by trying.
    const wrong = deferredKeychainProtector(2000);
    wrong.provide('f0'.repeat(32));
    const other = openAppUser('kc', { keys: wrong.protector }, root);
    const refused = await other.call('profile.unlock', {});
    expect(!refused.ok && refused.error.code).toBe('profile.keychain_unavailable');
    expect((await other.ok('profile.status', {})).state).toBe('locked');
    await other.services.close();

    // The web host (passphrases only) cannot open it, and says where it can be opened.
    const web = openAppUser('kc', { keys: passphraseProtector() }, root);
    const viaWeb = await web.call('profile.unlock', { passphrase: 'any passphrase at all' });
    expect(!viaWeb.ok && viaWeb.error.message).toMatch(/desktop app/);
    await web.services.close();
  });
});

describe('the dispatcher', () => {
  const handlers = {
    'app.version': () => ({ version: '1.0.0' }),
    'profile.status': () => {
      throw new ServiceError('profile.busy', 'Try again.');
    },
    'profile.lock': () => {
      throw new Error('secret detail');
    },
    'settings.get': () => ({ wrong: true }),
  } as unknown as ServiceHandlers;

  it('parses params, maps ServiceErrors to their code and hides anything else', async () => {
    const failures: unknown[] = [];
    const call = (m: unknown, p: unknown) => callMethod(handlers, m, p, (_m, e) => failures.push(e));
    expect(await call('app.version', {})).toEqual({ ok: true, value: { version: '1.0.0' } });
    expect(await call('app.version', { a: 1 })).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
    expect(await call('nope', {})).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    expect(await call('profile.status', {})).toEqual({ ok: false, error: { code: 'profile.busy', message: 'Try again.' } });
    expect(await call('profile.lock', {})).toEqual({ ok: false, error: { code: 'internal', message: 'internal error' } });
    expect(await call('settings.get', {})).toEqual({ ok: false, error: { code: 'internal', message: 'internal error' } });
    expect(failures).toHaveLength(2);
    expect(() => new ServiceError('Bad Code', 'x')).toThrow(RangeError);
    expect(() => new ServiceError('ok.code', '')).toThrow(TypeError);
  });
});

describe('going online', () => {
  it('uses one presence point on networks too small for two (a rendezvous point must remain)', () => {
    expect([0, 3, 5, 6].map(presencePointsFor)).toEqual([1, 1, 1, 1]);
    expect([7, 9, 100].map(presencePointsFor)).toEqual([2, 2, 2]);
    expect(() => presencePointsFor(-1)).toThrow(RangeError);
  });

  it('describes problems in words, by the step that failed', () => {
    expect(describeOnlineProblem('list', new Error('no valid node list could be fetched (a: b)'))).toBe('Could not reach the network: no node answered with a valid node list.');
    expect(describeOnlineProblem('register', new Error('x'))).toMatch(/authorities did not accept/);
    expect(describeOnlineProblem('certificate', new Error('x'))).toMatch(/access certificate/);
    expect(describeOnlineProblem('presence', new Error('no presence node accepted'))).toMatch(/No presence node accepted/);
    expect(describeOnlineProblem('local-network', new Error('the local network did not start in time'))).toBe('The local network could not be started: did not start in time.');
    expect(describeOnlineProblem('network', new Error('f.json is invalid'))).toBe('The network file could not be used: f.json is invalid.');
    for (const step of ['list', 'register', 'certificate', 'presence']) {
      expect(describeOnlineProblem(step, new Error('at Object.<anonymous> (/x/y.ts:1:1)'))).not.toMatch(/\.ts|at Object/);
    }
  });

  it('a profile whose network cannot be reached reports it while it keeps trying', async () => {
    const root = tempRoot('offline');
    const network = await deadNetworkFile(root);
    const user = openAppUser('offline', { timing: { retryFirstMs: 100, retryMaxMs: 200, startingForMs: 300, networkEventMs: 100 } }, root);
    await user.ok('settings.set', { networkFile: network });
    await user.ok('profile.create', { displayName: 'Off', passphrase: 'offline passphrase' });
    const start = Date.now();
    let status = await user.ok('profile.status', {});
    while (status.state !== 'offline' && Date.now() - start < 60_000) {
      await new Promise((r) => setTimeout(r, 50));
      status = await user.ok('profile.status', {});
    }
    expect(status).toMatchObject({ state: 'offline', problem: 'Could not reach the network: no node answered with a valid node list.' });
    expect((await user.ok('network.status', {})).online).toBe(false);
    // Messages written meanwhile are kept for later.
    const peer = 'ab'.repeat(32);
    const m = await user.ok('chat.send', { peer, text: 'for later' });
    expect((await user.ok('chat.messages', { peer })).map((x) => x.id)).toEqual([m.id]);
    await user.services.close();
    expect(readdirSync(join(root, 'profiles', 'default')).filter((f) => f.endsWith('.lock'))).toEqual([]);
  });
});
