/**
 * Every contract method against the real app services on a devnet (separate node processes):
 * profiles going online, contacts, chat requests from strangers, messages with delivery and read
 * receipts, files, typing, search, network and relay status, settings — and, for every method,
 * malformed requests answered with `{ ok: false }` and a clear error while nothing changes.
 * Finally a restart keeps identity, contacts and history, and mail sent while a profile was
 * locked arrives after it unlocks.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { base58 } from '@scure/base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METHOD_NAMES, type MethodName } from '../../app/contract';
import type { TestNet } from '../support/devnet';
import { eventsOf, openAppUser, removeTempRoots, startAppNet, waitOnline, waitUntil, type AppUser } from './helpers';

let net: TestNet;
let alice: AppUser;
let bob: AppUser;
let carol: AppUser;
let dave: AppUser;
const identities = new Map<AppUser, string>();
/** A user's identity key as the UI names peers: 64 hex digits. */
const keyOf = (u: AppUser): string => {
  const id = identities.get(u);
  if (!id) throw new Error(`${u.name} has no identity yet`);
  return Buffer.from(base58.decode(id.split('.')[3]!)).toString('hex');
};

beforeAll(async () => {
  net = await startAppNet();
  alice = openAppUser('alice');
  bob = openAppUser('bob');
  carol = openAppUser('carol');
  dave = openAppUser('dave');
  for (const u of [alice, bob, carol, dave]) await u.ok('settings.set', { networkFile: net.devnet.networkFile });
}, 120_000);

afterAll(async () => {
  for (const u of [alice, bob, carol, dave]) await u?.services.close();
  await net?.stop();
  removeTempRoots();
});

/** What must not change when a request is refused. */
async function snapshot(u: AppUser): Promise<unknown> {
  const status = await u.ok('profile.status', {});
  const unlocked = status.state !== 'none' && status.state !== 'locked';
  return {
    state: status.state,
    identity: status.identity ?? null,
    settings: await u.ok('settings.get', {}),
    contacts: unlocked ? (await u.ok('contacts.list', {})).map((c) => [c.key, c.name]) : null,
    conversations: unlocked ? (await u.ok('chat.conversations', {})).map((c) => [c.peer, c.last?.id]) : null,
    requests: unlocked ? (await u.ok('requests.list', {})).length : null,
    relay: (await u.ok('relay.status', {})).enabled,
    files: existsSync(join(u.root, 'profiles', 'default')) ? readdirSync(join(u.root, 'profiles', 'default')).filter((f) => !f.endsWith('.tmp')).sort() : [],
  };
}

async function expectRefused(u: AppUser, method: unknown, params: unknown, code: string | RegExp, message?: RegExp): Promise<void> {
  const before = await snapshot(u);
  const r = await u.raw(method, params);
  expect(r.ok, `${String(method)} ${JSON.stringify(params)?.slice(0, 200)}`).toBe(false);
  if (!r.ok) {
    if (typeof code === 'string') expect(r.error.code).toBe(code);
    else expect(r.error.code).toMatch(code);
    expect(r.error.message.length).toBeGreaterThan(3);
    if (message) expect(r.error.message).toMatch(message);
  }
  expect(await snapshot(u)).toEqual(before);
}

async function create(u: AppUser, displayName: string): Promise<void> {
  const s = await u.ok('profile.create', { displayName, passphrase: `${u.name} passphrase` });
  expect(s.state).toBe('starting');
  expect(s.identity).toMatch(/^sirius\.chat\.account\.[1-9A-HJ-NP-Za-km-z]+$/);
  identities.set(u, s.identity!);
}

function lastMessage(u: AppUser, peer: string): Promise<{ text?: string; status: string; id: string } | undefined> {
  return u.ok('chat.messages', { peer, limit: 1 }).then((m) => m[0]);
}

describe('profiles', () => {
  it('start without an identity and refuse everything that needs one, changing nothing', async () => {
    expect(await alice.ok('profile.status', {})).toEqual({ state: 'none', keyProtection: 'passphrase' });
    await expectRefused(alice, 'contacts.list', {}, 'profile.none', /Create one/);
    await expectRefused(alice, 'chat.conversations', {}, 'profile.none');
    await expectRefused(alice, 'profile.unlock', { passphrase: 'whatever passphrase' }, 'profile.none');
    await expectRefused(alice, 'relay.set', { enabled: true }, 'profile.none');
    await expectRefused(alice, 'profile.create', { displayName: 'Alice' }, 'profile.passphrase_required', /passphrase/);
    await expectRefused(alice, 'profile.create', { displayName: 'Alice', passphrase: 'short' }, 'invalid_params', /passphrase.*8/);
    await expectRefused(alice, 'profile.create', { displayName: '   ', passphrase: 'long enough' }, 'invalid_params', /displayName/);
    expect(existsSync(join(alice.root, 'profiles', 'default', 'identity.key'))).toBe(false);
  });

  it('create an identity with sealed keys, register, get a certificate and announce presence', async () => {
    await Promise.all([create(alice, 'Alice'), create(bob, 'Bob'), create(carol, 'Carol'), create(dave, 'Dave')]);
    await Promise.all([alice, bob, carol, dave].map((u) => waitOnline(u)));
    for (const u of [alice, bob, carol, dave]) {
      const s = await u.ok('profile.status', {});
      expect(s).toMatchObject({ state: 'online', identity: identities.get(u), keyProtection: 'passphrase' });
    }
    // The progress went through the steps, in order, and the key files are sealed (no seed in the clear).
    const steps = eventsOf(alice, 'profile.changed').map((p) => (p as { progress?: string }).progress).filter(Boolean);
    expect(steps).toContain('Fetching the node list…');
    expect(steps).toContain('Announcing your presence…');
    expect(steps.indexOf('Registering your identity…')).toBeLessThan(steps.lastIndexOf('Announcing your presence…'));
    expect(eventsOf(alice, 'profile.changed').at(-1)).toMatchObject({ state: 'online' });
    await expectRefused(alice, 'profile.create', { displayName: 'Again', passphrase: 'alice passphrase' }, 'profile.exists');
  });

  it('report the network as seen from the client', async () => {
    // Early lists may not name every node yet; the client refreshes its list each period.
    const n = await waitUntil(async () => {
      const status = await alice.ok('network.status', {});
      return status.listedNodes === 10 && status;
    }, 'a list naming all 10 nodes');
    expect(n).toMatchObject({ network: 'devnet', networkFile: net.devnet.networkFile, online: true, listedNodes: 10 });
    expect(n.listAgeMs).not.toBeNull();
    // Five onion nodes: one presence point per user, so a rendezvous point always remains.
    expect(n.presencePoints.length).toBe(1);
    expect(n.presencePoints.every((p) => p.accepted && /^onion\d$/.test(p.nickname))).toBe(true);
    expect(n.guards.length).toBe(2);
    expect(n.certificateExpiresAt).toBeGreaterThan(Date.now());
    await waitUntil(() => eventsOf(alice, 'network.changed').some((p) => (p as { online: boolean }).online), 'a network.changed event');
  });
});

describe('contacts', () => {
  it('are added by identity string, renamed and removed, with contacts.changed events', async () => {
    const before = eventsOf(alice, 'contacts.changed').length;
    const added = await alice.ok('contacts.add', { identity: identities.get(bob)!, name: 'Bobby' });
    expect(added).toMatchObject({ key: keyOf(bob), identity: identities.get(bob), name: 'Bobby' });
    expect((await alice.ok('contacts.rename', { key: keyOf(bob), name: 'Bob' })).name).toBe('Bob');
    await bob.ok('contacts.add', { identity: identities.get(alice)!, name: 'Alice' });
    expect((await alice.ok('contacts.list', {})).map((c) => [c.key, c.name])).toEqual([[keyOf(bob), 'Bob']]);
    // A contact not written with yet is in the conversation list, so a chat can start there.
    expect(await alice.ok('chat.conversations', {})).toEqual([{ peer: keyOf(bob), name: 'Bob', unread: 0 }]);
    await alice.ok('contacts.add', { identity: identities.get(dave)!, name: 'Dave' });
    expect(await alice.ok('contacts.remove', { key: keyOf(dave) })).toEqual({ removed: true });
    expect(await alice.ok('contacts.remove', { key: keyOf(dave) })).toEqual({ removed: false });
    expect(eventsOf(alice, 'contacts.changed').length).toBeGreaterThanOrEqual(before + 4);
  });

  it('refuse a bad identity, one’s own identity, bad names and unknown keys, changing nothing', async () => {
    const validLooking = 'sirius.chat.account.' + '1'.repeat(44);
    await expectRefused(alice, 'contacts.add', { identity: validLooking, name: 'X' }, 'contacts.invalid_identity', /not a valid identity/);
    await expectRefused(alice, 'contacts.add', { identity: 'not an identity', name: 'X' }, 'invalid_params', /identity/);
    await expectRefused(alice, 'contacts.add', { identity: identities.get(alice)!, name: 'Me' }, 'contacts.self', /your own/);
    await expectRefused(alice, 'contacts.add', { identity: identities.get(carol)!, name: 'a\u0007b' }, 'contacts.invalid_name');
    await expectRefused(alice, 'contacts.rename', { key: 'ab'.repeat(32), name: 'Nobody' }, 'contacts.not_found');
    await expectRefused(alice, 'contacts.rename', { key: 'AB'.repeat(32), name: 'Nobody' }, 'invalid_params', /key/);
  });
});

describe('chat', () => {
  it('sends a message that arrives, is delivered and read, with events on both sides', async () => {
    const sent = await alice.ok('chat.send', { peer: keyOf(bob), text: 'Hello Bob, lunch today?' });
    expect(sent).toMatchObject({ peer: keyOf(bob), direction: 'out', kind: 'text', text: 'Hello Bob, lunch today?' });
    expect(['pending', 'sent', 'delivered']).toContain(sent.status);
    await waitUntil(() => eventsOf(bob, 'chat.message').some((m) => (m as { id: string }).id === sent.id), 'Bob to get chat.message');
    const convs = await bob.ok('chat.conversations', {});
    expect(convs).toHaveLength(1);
    expect(convs[0]).toMatchObject({ peer: keyOf(alice), name: 'Alice', unread: 1, last: { id: sent.id, direction: 'in', status: 'received' } });
    await waitUntil(() => eventsOf(alice, 'chat.status').some((s) => (s as { id: string; status: string }).id === sent.id && (s as { status: string }).status === 'delivered'), 'the delivery receipt');
    expect(await bob.ok('chat.markRead', { peer: keyOf(alice) })).toEqual({});
    expect((await bob.ok('chat.conversations', {}))[0]!.unread).toBe(0);
    await waitUntil(async () => (await lastMessage(alice, keyOf(bob)))?.status === 'read', 'the read receipt');
    expect(eventsOf(alice, 'chat.status')).toContainEqual({ peer: keyOf(bob), id: sent.id, status: 'read' });
  });

  it('shows typing, pages history back and searches it', async () => {
    await bob.ok('chat.typing', { peer: keyOf(alice), active: true });
    await waitUntil(() => eventsOf(alice, 'chat.typing').some((t) => (t as { active: boolean }).active), 'the typing indicator');
    for (let i = 1; i <= 5; i++) await bob.ok('chat.send', { peer: keyOf(alice), text: `reply ${i}${i === 3 ? ' about LUNCH' : ''}` });
    await waitUntil(async () => (await lastMessage(alice, keyOf(bob)))?.text === 'reply 5', 'the replies');
    const page = await alice.ok('chat.messages', { peer: keyOf(bob), limit: 2 });
    expect(page.map((m) => m.text)).toEqual(['reply 4', 'reply 5']);
    const older = await alice.ok('chat.messages', { peer: keyOf(bob), limit: 3, before: page[0]!.id });
    expect(older.map((m) => m.text)).toEqual(['reply 1', 'reply 2', 'reply 3 about LUNCH']);
    const found = await alice.ok('chat.search', { query: 'lunch' });
    expect(found.map((m) => m.text)).toEqual(['reply 3 about LUNCH', 'Hello Bob, lunch today?']);
    expect((await alice.ok('chat.search', { query: 'LUNCH', peer: keyOf(carol) }))).toEqual([]);
    await expectRefused(alice, 'chat.messages', { peer: keyOf(bob), before: 'ab'.repeat(16) }, 'chat.not_found');
  });

  it('sends a file whose bytes arrive intact, with progress events', async () => {
    const bytes = Buffer.alloc(150_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 0xff;
    const sent = await alice.ok('chat.sendFile', { peer: keyOf(bob), name: 'notes.bin', data: bytes.toString('base64') });
    expect(sent).toMatchObject({ kind: 'file', file: { name: 'notes.bin', size: bytes.length, complete: false } });
    const fileId = sent.file!.fileId;
    await waitUntil(() => eventsOf(bob, 'chat.file').some((f) => (f as { fileId: string; complete: boolean }).fileId === fileId && (f as { complete: boolean }).complete), 'the file to arrive');
    const got = await bob.ok('chat.fileData', { peer: keyOf(alice), fileId });
    expect(got.name).toBe('notes.bin');
    expect(Buffer.from(got.data, 'base64').equals(bytes)).toBe(true);
    const msg = (await bob.ok('chat.messages', { peer: keyOf(alice), limit: 1 }))[0]!;
    expect(msg).toMatchObject({ kind: 'file', direction: 'in', file: { fileId, size: bytes.length, transferred: bytes.length, complete: true } });
    // The sender's copy is readable too, and the temporary copy in the profile is gone.
    expect((await alice.ok('chat.fileData', { peer: keyOf(bob), fileId })).data).toBe(bytes.toString('base64'));
    expect(readdirSync(join(alice.root, 'profiles', 'default', 'outgoing'))).toEqual([]);
    await waitUntil(async () => (await alice.ok('chat.messages', { peer: keyOf(bob), limit: 1 }))[0]?.file?.complete, 'the sender to see it complete');
  });

  it('refuses malformed files and unknown ones, changing nothing', async () => {
    await expectRefused(alice, 'chat.sendFile', { peer: keyOf(bob), name: 'x.bin', data: 'QUJD=' }, 'chat.invalid_file', /base64/);
    await expectRefused(alice, 'chat.sendFile', { peer: keyOf(bob), name: 'x.bin', data: 'not base64!' }, 'invalid_params', /data/);
    await expectRefused(alice, 'chat.sendFile', { peer: keyOf(bob), name: '..', data: 'QUJD' }, 'chat.invalid_file', /name/);
    await expectRefused(alice, 'chat.sendFile', { peer: keyOf(alice), name: 'x', data: 'QUJD' }, 'chat.self');
    await expectRefused(alice, 'chat.fileData', { peer: keyOf(bob), fileId: 'cd'.repeat(16) }, 'chat.not_found');
    await expectRefused(alice, 'chat.send', { peer: keyOf(bob), text: '' }, 'invalid_params', /text/);
    await expectRefused(alice, 'chat.send', { peer: keyOf(bob), text: 'x'.repeat(65_537) }, 'invalid_params', /text/);
  });

  it('with read receipts off, reading moves only a local mark: the sender never sees "read"', async () => {
    await carol.ok('settings.set', { readReceipts: false });
    await carol.ok('contacts.add', { identity: identities.get(bob)!, name: 'Bob' });
    await bob.ok('contacts.add', { identity: identities.get(carol)!, name: 'Carol' });
    const sent = await bob.ok('chat.send', { peer: keyOf(carol), text: 'are you there?' });
    await waitUntil(async () => (await carol.ok('chat.conversations', {})).find((c) => c.peer === keyOf(bob))?.unread === 1, 'Carol to get it');
    await waitUntil(async () => (await lastMessage(bob, keyOf(carol)))?.status === 'delivered', 'the delivery receipt');
    await carol.ok('chat.markRead', { peer: keyOf(bob) });
    expect((await carol.ok('chat.conversations', {})).find((c) => c.peer === keyOf(bob))?.unread).toBe(0);
    expect((await lastMessage(carol, keyOf(bob)))?.status).toBe('read');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await lastMessage(bob, keyOf(carol)))?.status).toBe('delivered');
    expect(eventsOf(bob, 'chat.status')).not.toContainEqual({ peer: keyOf(carol), id: sent.id, status: 'read' });
  });
});

describe('chat requests from strangers', () => {
  it('are listed, can be denied, and accepted (making a contact)', async () => {
    // Dave is no contact of Alice (he was removed): his messages arrive as requests.
    await dave.ok('contacts.add', { identity: identities.get(alice)!, name: 'Alice' });
    await dave.ok('chat.send', { peer: keyOf(alice), text: 'hi, it is Dave' });
    const first = await waitUntil(async () => (await alice.ok('requests.list', {}))[0], 'a request');
    expect(first).toMatchObject({ from: identities.get(dave), greeting: '' });
    expect(eventsOf(alice, 'requests.changed')).toContainEqual({ pending: 1 });
    await alice.ok('requests.answer', { id: first.id, accept: false });
    expect(await alice.ok('requests.list', {})).toEqual([]);
    await expectRefused(alice, 'requests.answer', { id: first.id, accept: true }, 'requests.not_found', /no longer waiting/);
    expect((await alice.ok('contacts.list', {})).some((c) => c.key === keyOf(dave))).toBe(false);

    // Dave's client gives up on a peer that refused once its dial has ended; a message sent
    // after that dials again (one sent while the refused dial is still ending would wait).
    await new Promise((r) => setTimeout(r, 2000));
    await dave.ok('chat.send', { peer: keyOf(alice), text: 'please?' });
    const second = await waitUntil(async () => (await alice.ok('requests.list', {}))[0], 'a second request', 90_000);
    await alice.ok('requests.answer', { id: second.id, accept: true });
    await waitUntil(async () => (await alice.ok('contacts.list', {})).some((c) => c.key === keyOf(dave)), 'Dave to become a contact');
    await waitUntil(async () => (await lastMessage(alice, keyOf(dave)))?.text === 'please?', 'Dave’s messages');
    const texts = (await alice.ok('chat.messages', { peer: keyOf(dave) })).map((m) => m.text);
    expect(texts).toEqual(['hi, it is Dave', 'please?']);
  });

  it('are accepted without asking when acceptStrangers is on', async () => {
    await carol.ok('settings.set', { acceptStrangers: true });
    await dave.ok('contacts.add', { identity: identities.get(carol)!, name: 'Carol' });
    await dave.ok('chat.send', { peer: keyOf(carol), text: 'hello Carol' });
    await waitUntil(async () => (await lastMessage(carol, keyOf(dave)))?.text === 'hello Carol', 'the message', 90_000);
    expect(await carol.ok('requests.list', {})).toEqual([]);
    expect((await carol.ok('contacts.list', {})).some((c) => c.key === keyOf(dave))).toBe(true);
  });
});

describe('settings and relay status', () => {
  it('reads and writes settings, refusing bad values without change', async () => {
    expect(await bob.ok('settings.get', {})).toEqual({
      displayName: 'Bob',
      networkFile: net.devnet.networkFile,
      acceptStrangers: false,
      readReceipts: true,
      relayBandwidthKBps: 256,
    });
    const s = await bob.ok('settings.set', { displayName: 'Robert', relayBandwidthKBps: 512 });
    expect(s).toMatchObject({ displayName: 'Robert', relayBandwidthKBps: 512 });
    expect((await bob.ok('profile.status', {})).displayName).toBe('Robert');
    expect((await bob.ok('relay.status', {})).bandwidthKBps).toBe(512);
    const bogus = join(bob.root, 'bogus-network.json');
    writeFileSync(bogus, '{"network":"x"}');
    await expectRefused(bob, 'settings.set', { networkFile: bogus }, 'settings.invalid_network_file', /cannot be used/);
    await expectRefused(bob, 'settings.set', { networkFile: join(bob.root, 'missing.json') }, 'settings.invalid_network_file');
    await expectRefused(bob, 'settings.set', { relayBandwidthKBps: 1 }, 'invalid_params', /relayBandwidthKBps/);
    await expectRefused(bob, 'settings.set', { acceptStrangers: 'yes' }, 'invalid_params');
    await expectRefused(bob, 'settings.set', { theme: 'dark' }, 'invalid_params');
  });

  it('reports the relay off', async () => {
    expect(await bob.ok('relay.status', {})).toMatchObject({ enabled: false, running: false, listed: false, circuits: 0, uptimeMs: 0 });
  });
});

describe('malformed requests', () => {
  it('get { ok: false } with a clear error for every method, and change nothing', async () => {
    const junk: unknown[] = [undefined, null, 42, 'x', [], { unexpected: 1 }];
    for (const method of METHOD_NAMES) {
      for (const params of junk) {
        // An empty object is valid for methods without params; those get only the others.
        await expectRefused(alice, method, params, 'invalid_params');
      }
    }
    for (const method of ['fs.readFile', '__proto__', 'constructor', '', 'chat.send ', 7, null] as unknown[]) {
      await expectRefused(alice, method, {}, 'unknown_method');
    }
    const bad: Array<[MethodName, unknown]> = [
      ['chat.send', { peer: 'zz', text: 'x' }],
      ['chat.messages', { peer: keyOf(bob), limit: 0 }],
      ['chat.messages', { peer: keyOf(bob), limit: 501 }],
      ['chat.search', { query: '' }],
      ['chat.search', { query: 'x', limit: 201 }],
      ['chat.markRead', { peer: keyOf(bob).toUpperCase() }],
      ['chat.typing', { peer: keyOf(bob), active: 'yes' }],
      ['chat.fileData', { peer: keyOf(bob), fileId: 'x' }],
      ['requests.answer', { id: '', accept: true }],
      ['relay.set', { enabled: true, bandwidthKBps: 15 }],
      ['relay.set', { enabled: 1 }],
      ['profile.unlock', { passphrase: 'short' }],
      ['contacts.remove', { key: 'g'.repeat(64) }],
    ];
    for (const [method, params] of bad) await expectRefused(alice, method, params, 'invalid_params');
    expect(alice.failures).toEqual([]);
  });
});

describe('lock, restart and unlock', () => {
  it('keeps identity, contacts and history; refuses a wrong passphrase; delivers mail sent meanwhile', async () => {
    const identity = identities.get(alice)!;
    const contactsBefore = (await alice.ok('contacts.list', {})).map((c) => [c.key, c.name]);
    const historyBefore = (await alice.ok('chat.messages', { peer: keyOf(bob) })).map((m) => m.id);
    expect((await alice.ok('profile.lock', {})).state).toBe('locked');
    await expectRefused(alice, 'chat.send', { peer: keyOf(bob), text: 'locked' }, 'profile.locked', /Unlock/);

    // While Alice is away, Bob writes: the message waits in Alice's presence nodes' mailboxes.
    const whileAway = await bob.ok('chat.send', { peer: keyOf(alice), text: 'written while you were away' });

    await alice.restart();
    expect(await alice.ok('profile.status', {})).toMatchObject({ state: 'locked', identity, keyProtection: 'passphrase', displayName: 'Alice' });
    await expectRefused(alice, 'profile.unlock', { passphrase: 'not the passphrase' }, 'profile.wrong_passphrase', /not right/);
    await expectRefused(alice, 'profile.unlock', {}, 'profile.passphrase_required');
    const s = await alice.ok('profile.unlock', { passphrase: 'alice passphrase' });
    expect(s).toMatchObject({ identity });
    await waitOnline(alice);
    expect((await alice.ok('contacts.list', {})).map((c) => [c.key, c.name])).toEqual(contactsBefore);
    const history = (await alice.ok('chat.messages', { peer: keyOf(bob) })).map((m) => m.id);
    expect(history.slice(0, historyBefore.length)).toEqual(historyBefore);
    await waitUntil(async () => (await alice.ok('chat.messages', { peer: keyOf(bob) })).some((m) => m.id === whileAway.id), 'the message sent while away', 90_000);
    expect(alice.failures).toEqual([]);
    expect(bob.failures).toEqual([]);
  });
});
