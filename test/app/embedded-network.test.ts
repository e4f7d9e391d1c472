/**
 * The embedded local network (settings.networkFile null): the first profile that goes online
 * starts it through a detached keeper process, a second profile under the same data root reuses
 * it, the two chat over it, and it stops when the last profile leaves — also when that last user
 * is killed with SIGKILL. It outlives none of its users.
 */
import { spawn } from 'node:child_process';
import { base58 } from '@scure/base';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedNetworkDir } from '../../app/services';
import { liveUsers, readKeeperState, type KeeperState } from '../../app/services/embedded-network';
import { isHolderAlive } from '../../app/services/process-lock';
import { openAppUser, removeTempRoots, tempRoot, waitOnline, waitUntil } from './helpers';

const USER_CHILD = fileURLToPath(new URL('./network-user-child.ts', import.meta.url));
const keepers: KeeperState[] = [];

afterAll(async () => {
  // Nothing may be left running, whatever happened in the tests.
  for (const k of keepers) {
    for (const p of [k, ...k.nodes]) if (isHolderAlive(p)) process.kill(p.pid, 'SIGKILL');
  }
  removeTempRoots();
});

async function waitStopped(k: KeeperState, dir: string): Promise<void> {
  await waitUntil(() => !isHolderAlive(k) && !existsSync(join(dir, 'keeper.json')), 'the keeper to stop', 60_000);
  await waitUntil(() => k.nodes.every((n) => !isHolderAlive(n)), 'the nodes to stop', 30_000);
}

const keyOf = (identity: string): string => Buffer.from(base58.decode(identity.split('.')[3]!)).toString('hex');

describe('the embedded network', () => {
  it('serves two profiles with one keeper, and stops when the last profile leaves', async () => {
    const root = tempRoot('embedded');
    const dir = embeddedNetworkDir(root);
    const a = openAppUser('anna', { profile: 'anna' }, root);
    const b = openAppUser('ben', { profile: 'ben' }, root);
    expect((await a.ok('settings.get', {})).networkFile).toBeNull();
    const [sa, sb] = await Promise.all([
      a.ok('profile.create', { displayName: 'Anna', passphrase: 'anna passphrase' }),
      b.ok('profile.create', { displayName: 'Ben', passphrase: 'ben passphrase' }),
    ]);
    await Promise.all([waitOnline(a, 150_000), waitOnline(b, 150_000)]);
    const keeper = readKeeperState(dir)!;
    keepers.push(keeper);
    expect(keeper).toMatchObject({ state: 'ready' });
    expect(keeper.nodes).toHaveLength(11);
    expect(liveUsers(dir)).toHaveLength(2);
    expect(await a.ok('network.status', {})).toMatchObject({ network: 'local', networkFile: null, online: true });
    expect(eventsWithProgress(a)).toContain('Starting the local network…');

    await a.ok('contacts.add', { identity: sb.identity!, name: 'Ben' });
    await b.ok('contacts.add', { identity: sa.identity!, name: 'Anna' });
    await a.ok('chat.send', { peer: keyOf(sb.identity!), text: 'over the local network' });
    await waitUntil(async () => (await b.ok('chat.messages', { peer: keyOf(sa.identity!) }))[0]?.text === 'over the local network', 'the message');

    await a.services.close();
    await new Promise((r) => setTimeout(r, 2500));
    expect(isHolderAlive(keeper)).toBe(true);
    expect(readKeeperState(dir)?.state).toBe('ready');
    expect(liveUsers(dir)).toHaveLength(1);
    await b.services.close();
    await waitStopped(keeper, dir);
    expect(liveUsers(dir)).toEqual([]);
  });

  it('stops when its only user is killed with SIGKILL', async () => {
    const root = tempRoot('embedded-kill');
    const dir = embeddedNetworkDir(root);
    const child = spawn(process.execPath, ['--import', 'tsx', USER_CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const ready = await new Promise<{ keeperPid: number }>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => resolve(JSON.parse(line) as { keeperPid: number }));
      child.once('exit', (code) => reject(new Error(`the user exited (${code}): ${stderr.slice(-2000)}`)));
    });
    const keeper = readKeeperState(dir)!;
    keepers.push(keeper);
    expect(keeper.pid).toBe(ready.keeperPid);
    expect(isHolderAlive(keeper)).toBe(true);
    child.kill('SIGKILL');
    await waitStopped(keeper, dir);
  });
});

function eventsWithProgress(u: ReturnType<typeof openAppUser>): string[] {
  return u.events.filter((e) => e.event === 'profile.changed').map((e) => (e.payload as { progress?: string }).progress ?? '');
}
