/**
 * main/backend.ts, the utility-process entry, with a stand-in for `process.parentPort`: it hosts
 * the app services for the profile named on its command line, answers pings and contract
 * requests, pushes the services' events, takes the keychain secret from an 'unlock-secret'
 * message (answering nothing) and ignores anything else.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadNetworkFile } from '../app/helpers';

type MessageListener = (event: { data: unknown }) => void;

const posted: unknown[] = [];
let deliver: MessageListener = () => {};
const savedArgv = process.argv;
const processWithPort = process as unknown as { parentPort?: unknown };
const savedPort = processWithPort.parentPort;
const root = mkdtempSync(join(tmpdir(), 'psp-backend-'));

async function send(data: unknown): Promise<unknown[]> {
  const before = posted.length;
  deliver({ data });
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  return posted.slice(before);
}

async function call(id: number, method: string, params: unknown): Promise<{ ok: boolean; value?: Record<string, unknown>; error?: { code: string } }> {
  deliver({ data: { type: 'request', id, method, params } });
  const start = Date.now();
  for (;;) {
    const reply = posted.find((m) => (m as { type: string; id: number }).type === 'response' && (m as { id: number }).id === id);
    if (reply) return (reply as { result: { ok: boolean; value?: Record<string, unknown>; error?: { code: string } } }).result;
    if (Date.now() - start > 20_000) throw new Error(`no answer to ${method}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  process.argv = [...savedArgv, '--app-version=2.5.0-rc.1', `--data-root=${root}`, '--profile', 'work', '--keychain'];
  processWithPort.parentPort = {
    on(event: string, listener: MessageListener) {
      if (event === 'message') deliver = listener;
      return this;
    },
    postMessage(message: unknown) {
      posted.push(message);
    },
  };
  await import('../../main/backend');
});

afterAll(async () => {
  await call(900, 'profile.lock', {});
  process.argv = savedArgv;
  processWithPort.parentPort = savedPort;
  rmSync(root, { recursive: true, force: true });
});

describe('backend entry', () => {
  it('answers a ping', async () => {
    expect(await send({ type: 'ping', id: 3 })).toEqual([{ type: 'pong', id: 3 }]);
  });

  it('answers app.version with the version from its command line', async () => {
    expect(await send({ type: 'request', id: 4, method: 'app.version', params: {} })).toEqual([
      { type: 'response', id: 4, result: { ok: true, value: { version: '2.5.0-rc.1' } } },
    ]);
  });

  it('answers invalid params with an error Result', async () => {
    const [reply] = (await send({ type: 'request', id: 5, method: 'app.version', params: [] })) as Array<{
      result: { ok: boolean; error?: { code: string } };
    }>;
    expect(reply?.result.error?.code).toBe('invalid_params');
  });

  it('stays silent on messages that are not requests', async () => {
    expect(await send({ type: 'request', id: 6, method: 'shell.exec', params: {} })).toEqual([]);
    expect(await send('ping')).toEqual([]);
  });

  it('hosts the named profile, sealed by the keychain, under the data root', async () => {
    expect(await call(7, 'profile.status', {})).toEqual({ ok: true, value: { state: 'none', keyProtection: 'os-keychain' } });
    expect((await call(8, 'contacts.list', {})).error?.code).toBe('profile.none');
  });

  it('takes the keychain secret silently (malformed ones are ignored) and creates the profile with it', async () => {
    for (const bad of [
      { type: 'unlock-secret', secret: 'AB'.repeat(32) },
      { type: 'unlock-secret', secret: 'ab'.repeat(31) },
      { type: 'unlock-secret', secret: 'ab'.repeat(32), extra: 1 },
      { type: 'unlock-secret' },
    ]) {
      expect(await send(bad)).toEqual([]);
    }
    expect(await send({ type: 'unlock-secret', secret: 'ab'.repeat(32) })).toEqual([]);
    expect((await call(9, 'settings.set', { networkFile: await deadNetworkFile(root) })).ok).toBe(true);
    const created = await call(10, 'profile.create', { displayName: 'Worker' });
    expect(created).toMatchObject({ ok: true, value: { state: 'starting', keyProtection: 'os-keychain', displayName: 'Worker' } });
    // The services' events are pushed as 'event' messages.
    expect(posted.some((m) => (m as { type: string; event: string }).type === 'event' && (m as { event: string }).event === 'profile.changed')).toBe(true);
  });
});
