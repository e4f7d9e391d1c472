/**
 * Crash safety of a profile: a process sending a burst of messages through the app services is
 * killed with SIGKILL (twice, the second time a new process reopened the profile the first left
 * behind); every message the services reported as stored is in the history afterwards. The
 * owner file of a dead process is replaced and the SQLite lock folder it left is removed — but a
 * live process's profile is never taken, nor its lock touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { deadNetworkFile, openAppUser, removeTempRoots, tempRoot, type AppUser } from './helpers';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  removeTempRoots();
});

interface Burst {
  readonly child: ChildProcess;
  readonly stored: string[];
  /** Resolves once the child has opened the profile. */
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  stderr: string;
}

function startBurst(root: string, peer: string, network: string, mode: 'create' | 'unlock' | 'hold'): Burst {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, root, peer, network, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const stored: string[] = [];
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => (markReady = r));
  const burst: Burst = { child, stored, ready, exited: new Promise((r) => child.once('exit', () => r())), stderr: '' };
  child.stderr!.on('data', (d: Buffer) => (burst.stderr += d.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = JSON.parse(line) as { ready?: boolean; stored?: string };
    if (m.ready) markReady();
    if (m.stored) stored.push(m.stored);
  });
  return burst;
}

async function killAfter(b: Burst, count: number): Promise<void> {
  const start = Date.now();
  while (b.stored.length < count) {
    if (b.child.exitCode !== null) throw new Error(`the child exited early: ${b.stderr.slice(-2000)}`);
    if (Date.now() - start > 90_000) throw new Error(`the child stored only ${b.stored.length} messages: ${b.stderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  b.child.kill('SIGKILL');
  await b.exited;
}

/** Whether the killed process left node-sqlite3-wasm's lock folder (it did when killed mid-statement). */
const lockLeft = (root: string): boolean => existsSync(join(root, 'profiles', 'default', 'chat.sqlite.lock'));

async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '0']);
  const pid = c.pid!;
  await new Promise((r) => c.once('exit', r));
  return pid;
}

describe('a profile killed with SIGKILL', () => {
  it('keeps every message reported stored, across two kills, and reopens', async () => {
    const root = tempRoot('crash');
    const network = await deadNetworkFile(root);
    const peer = randomBytes(32).toString('hex');

    const first = startBurst(root, peer, network, 'create');
    await killAfter(first, 40);
    const leftLocks = [lockLeft(root)];
    // A new process opens the profile the killed one left (its owner file and maybe its SQLite
    // lock folder) and carries on.
    const second = startBurst(root, peer, network, 'unlock');
    await killAfter(second, 40);
    leftLocks.push(lockLeft(root));
    console.log(`lock folders left by the kills: ${JSON.stringify(leftLocks)}`);

    const user = openAppUser('crash', {}, root);
    try {
      await user.ok('profile.unlock', { passphrase: 'crash passphrase' });
      const ids = new Set((await user.ok('chat.messages', { peer, limit: 500 })).map((m) => m.id));
      const reported = [...first.stored, ...second.stored];
      expect(reported.length).toBeGreaterThanOrEqual(80);
      expect(reported.filter((id) => !ids.has(id))).toEqual([]);
      const texts = (await user.ok('chat.messages', { peer, limit: 500 })).map((m) => m.text);
      expect(new Set(texts).size).toBe(texts.length);
      expect(existsSync(join(root, 'profiles', 'default', 'chat.sqlite.lock'))).toBe(false);
    } finally {
      await user.services.close();
    }
  });

  it('removes the SQLite lock a dead holder left, but never takes a live process’s profile', async () => {
    const root = tempRoot('locks');
    const network = await deadNetworkFile(root);
    const peer = randomBytes(32).toString('hex');
    const dir = join(root, 'profiles', 'default');
    let user: AppUser = openAppUser('locks', {}, root);
    await user.ok('settings.set', { networkFile: network });
    await user.ok('profile.create', { displayName: 'Locks', passphrase: 'crash passphrase' });
    await user.ok('chat.send', { peer, text: 'before' });
    await user.services.close();

    // A live process holds the profile (and, as if in a statement, its SQLite lock): opening it
    // here is refused and the lock is left alone.
    const live = startBurst(root, peer, network, 'hold');
    await live.ready;
    mkdirSync(join(dir, 'chat.sqlite.lock'), { recursive: true });
    user = openAppUser('locks', {}, root);
    const busy = await user.call('profile.unlock', { passphrase: 'crash passphrase' });
    expect(busy.ok).toBe(false);
    if (!busy.ok) {
      expect(busy.error.code).toBe('profile.busy');
      expect(busy.error.message).toMatch(new RegExp(`process ${live.child.pid}`));
    }
    expect(existsSync(join(dir, 'chat.sqlite.lock'))).toBe(true);
    expect((await user.ok('profile.status', {})).state).toBe('locked');
    live.child.kill('SIGKILL');
    await live.exited;

    // A dead holder's owner file and lock folder (as SIGKILL inside a transaction leaves them).
    writeFileSync(join(dir, 'profile.lock'), JSON.stringify({ pid: await deadPid(), host: hostname(), startTicks: null }));
    expect(existsSync(join(dir, 'chat.sqlite.lock'))).toBe(true);
    await user.ok('profile.unlock', { passphrase: 'crash passphrase' });
    expect(existsSync(join(dir, 'chat.sqlite.lock'))).toBe(false);
    expect((await user.ok('chat.messages', { peer })).map((m) => m.text)[0]).toBe('before');
    await user.ok('chat.send', { peer, text: 'after' });
    await user.services.close();
  });
});
