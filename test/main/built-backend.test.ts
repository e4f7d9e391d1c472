/**
 * The BUILT backend bundle (dist/main/backend.js, as `npm run build` makes it and the packaged
 * app runs it) in a plain Node process standing in for Electron's utility process: it loads with
 * nothing but Node built-ins, finds its SQLite WebAssembly next to itself, creates a profile whose
 * keys are sealed by a passphrase, and keeps a contact in its database. `npm test` builds first.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readKeeperState } from '../../app/services/embedded-network';
import { formatIdentity } from '../../node-core/crypto/identity';
import { nodeSuite } from '../../node-core/io/crypto-node';
import { deadNetworkFile } from '../app/helpers';

const BUNDLE = join(import.meta.dirname, '../../dist/main/backend.js');
const root = mkdtempSync(join(tmpdir(), 'psp-built-backend-'));

// The embedded network's keeper stops its nodes once no profile uses them: wait for it (and its
// nodes) to be gone before the folder goes, so no node process outlives the test.
afterAll(async () => {
  const state = readKeeperState(join(root, 'data', 'network'));
  const pids = state ? [state.pid, ...state.nodes.map((n) => n.pid)] : [];
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 150 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 200));
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGTERM');
  rmSync(root, { recursive: true, force: true, maxRetries: 40, retryDelay: 500 });
});

describe('the built backend bundle', () => {
  it('runs outside the source tree: profile, sealed keys and SQLite', async () => {
    if (!existsSync(BUNDLE)) throw new Error('dist/main/backend.js is missing: run `npm run build` (npm test does)');
    const { call, stop } = startBundle('built');
    try {
      expect(await call('app.version', {})).toEqual({ ok: true, value: { version: '9.9.9' } });
      const network = await deadNetworkFile(root);
      expect((await call('settings.set', { networkFile: network })).ok).toBe(true);
      const created = await call('profile.create', { displayName: 'Built', passphrase: 'a long enough passphrase' });
      expect(created.ok, JSON.stringify(created)).toBe(true);
      expect(created.value!.keyProtection).toBe('passphrase');
      const bob = formatIdentity({ namespace: 'sirius', app: 'chat', publicKey: nodeSuite.ed25519PublicKey(nodeSuite.randomBytes(32)) });
      const added = await call('contacts.add', { identity: bob, name: 'Bob' });
      expect(added.ok, JSON.stringify(added)).toBe(true);
      const list = await call('contacts.list', {});
      expect((list.value as unknown as { name: string }[]).map((c) => c.name)).toEqual(['Bob']);
    } finally {
      stop();
    }
  });

  it('with no network configured, starts the embedded local network and goes online (npm start)', async () => {
    const { call, stop } = startBundle('embedded');
    try {
      const created = await call('profile.create', { displayName: 'Solo', passphrase: 'a long enough passphrase' });
      expect(created.ok, JSON.stringify(created)).toBe(true);
      let state = '';
      for (let i = 0; i < 240 && state !== 'online'; i++) {
        await new Promise((r) => setTimeout(r, 500));
        const st = await call('profile.status', {});
        state = String(st.value?.state);
        if (state === 'offline') throw new Error(`went offline: ${JSON.stringify(st.value)}`);
      }
      expect(state).toBe('online');
      const net = await call('network.status', {});
      expect(net.value!.networkFile).toBeNull();
      expect(Number(net.value!.listedNodes)).toBeGreaterThan(0);
      await call('profile.lock', {});
    } finally {
      stop();
    }
  });
});

function startBundle(profile: string) {
  if (!existsSync(BUNDLE)) throw new Error('dist/main/backend.js is missing: run `npm run build` (npm test does)');
    // Stand-in for Electron's utility process: process.parentPort over a fork's IPC channel.
    const shim = join(root, 'utility-shim.mjs');
    writeFileSync(
      shim,
      [
        'const listeners = [];',
        'const early = [];',
        "process.parentPort = { on(e, cb) { if (e === 'message') listeners.push(cb); return this; }, postMessage(m) { process.send(m); } };",
        "process.on('message', (m) => { if (!listeners.length) early.push(m); for (const l of listeners) l({ data: m }); });",
        `await import(${JSON.stringify(pathToFileURL(BUNDLE).href)});`,
        'for (const m of early.splice(0)) for (const l of listeners) l({ data: m });',
      ].join('\n'),
    );
    const child = fork(shim, ['--app-version=9.9.9', `--data-root=${join(root, 'data')}`, '--profile', profile], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const replies = new Map<number, { ok: boolean; value?: Record<string, unknown>; error?: { message: string } }>();
    child.on('message', (m: { type?: string; id?: number; result?: never }) => {
      if (m.type === 'response' && m.id !== undefined) replies.set(m.id, m.result!);
    });
    let next = 1;
    const call = async (method: string, params: unknown) => {
      const id = next++;
      child.send({ type: 'request', id, method, params });
      for (let i = 0; i < 3000 && !replies.has(id); i++) await new Promise((r) => setTimeout(r, 20));
      const r = replies.get(id);
      if (!r) throw new Error(`no answer to ${method}; backend stderr: ${stderr.slice(-2000)}`);
      return r;
    };
  return { call, stop: () => child.kill('SIGTERM') };
}
