/**
 * App services for tests: a profile per user under a temporary data root, called through the
 * same dispatcher the web host uses (contract-checked params and results), with every event
 * recorded. Test helper, not a test file.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventName, MethodName, MethodParams, MethodResult, Result } from '../../app/contract';
import { callMethod, createServices, type Services, type ServicesOptions } from '../../app/services';
import { base58 } from '@scure/base';
import { freePort, type NodeSpec } from '../../node-core/io/devnet/devnet';
import { createLogger } from '../../node-core/io/log';
import { startTestNet, type TestNet } from '../support/devnet';

/** The embedded network's shape: 3 discovery, 2 authority, 5 onion nodes. */
export const APP_LAYOUT: NodeSpec[] = [
  ...[1, 2, 3].map((i) => ({ nickname: `discovery${i}`, roles: ['discovery' as const], port: 0 })),
  ...[1, 2].map((i) => ({ nickname: `authority${i}`, roles: ['authority' as const], port: 0 })),
  ...[1, 2, 3, 4, 5].map((i) => ({ nickname: `onion${i}`, roles: ['onion' as const], port: 0 })),
];

export function startAppNet(periodMs = 2000): Promise<TestNet> {
  return startTestNet({ layout: APP_LAYOUT, periodMs, configPatch: { logLevel: 'warn' } });
}

const roots: string[] = [];

export function tempRoot(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `psp-app-${name}-`));
  roots.push(dir);
  return dir;
}

export function removeTempRoots(): void {
  for (const d of roots.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface RecordedEvent {
  readonly event: EventName;
  readonly payload: unknown;
}

export interface AppUser {
  readonly name: string;
  readonly root: string;
  services: Services;
  readonly events: RecordedEvent[];
  /** Unexpected handler failures (they must stay empty). */
  readonly failures: unknown[];
  call<M extends MethodName>(method: M, params: MethodParams<M>): Promise<Result<MethodResult<M>>>;
  /** Calls and returns the value, failing the test on an error Result. */
  ok<M extends MethodName>(method: M, params: MethodParams<M>): Promise<MethodResult<M>>;
  /** A raw call with anything as method and params (for malformed requests). */
  raw(method: unknown, params: unknown): Promise<Result<unknown>>;
  /** Closes the services and opens new ones on the same folder (a restart of the app). */
  restart(): Promise<void>;
}

export const FAST_TIMING: ServicesOptions['timing'] = {
  networkEventMs: 500,
  relayEventMs: 250,
  retryFirstMs: 500,
  retryMaxMs: 3000,
  startingForMs: 60_000,
};

export function openAppUser(name: string, extra: Partial<ServicesOptions> = {}, root = tempRoot(name)): AppUser {
  const events: RecordedEvent[] = [];
  const failures: unknown[] = [];
  const make = (): Services => {
    const s = createServices({
      dataRoot: root,
      profile: 'default',
      appVersion: '1.0.0-test',
      scrypt: { logN: 10 },
      timing: FAST_TIMING,
      chat: { redialMs: { first: 500, max: 4000 } },
      // SIRIUS_TEST_LOG_DIR=<folder> keeps what each user's services and client do (debug level)
      // in <folder>/<name>.log, for looking into a failure.
      ...(process.env.SIRIUS_TEST_LOG_DIR
        ? { log: createLogger({ name, level: 'debug', destination: createWriteStream(join(process.env.SIRIUS_TEST_LOG_DIR, `${name}.log`), { flags: 'a' }) }) }
        : {}),
      ...extra,
    });
    s.subscribe((event, payload) => events.push({ event, payload }));
    return s;
  };
  const user: AppUser = {
    name,
    root,
    services: make(),
    events,
    failures,
    raw: (method, params) => callMethod(user.services.handlers, method, params, (_m, e) => failures.push(e)),
    call: (method, params) => user.raw(method, params) as never,
    async ok(method, params) {
      const r = await user.call(method, params);
      if (!r.ok) throw new Error(`${name}: ${method} failed: ${r.error.code}: ${r.error.message}`);
      return r.value;
    },
    async restart() {
      await user.services.close();
      user.services = make();
    },
  };
  return user;
}

export async function waitUntil<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until the profile is online; fails early with the problem if it goes offline. */
export async function waitOnline(user: AppUser, timeoutMs = 90_000): Promise<void> {
  await waitUntil(
    async () => {
      const s = await user.ok('profile.status', {});
      if (s.state === 'offline') throw new Error(`${user.name} went offline: ${s.problem ?? '?'}`);
      return s.state === 'online';
    },
    `${user.name} to be online`,
    timeoutMs,
  );
}

/**
 * A network file that names nodes nobody runs (random keys, ports nothing listens on): a
 * profile using it stays 'starting'/'offline' but works locally. Returns the file's path.
 */
export async function deadNetworkFile(dir: string): Promise<string> {
  const node = async (nickname: string, roles: string[]) => ({
    nickname,
    roles,
    host: '127.0.0.1',
    port: await freePort('127.0.0.1'),
    identity: base58.encode(randomBytes(32)),
    onionKey: base58.encode(randomBytes(32)),
  });
  const file = join(dir, 'dead-network.json');
  const network = {
    network: 'nowhere',
    version: 1,
    createdAt: new Date().toISOString(),
    directory: { periodMs: 5000, threshold: 1 },
    authority: { threshold: 1 },
    nodes: [await node('discovery1', ['discovery']), await node('authority1', ['authority']), await node('onion1', ['onion'])],
  };
  writeFileSync(file, JSON.stringify(network, null, 2));
  return file;
}

export function eventsOf<E extends EventName>(user: AppUser, event: E): unknown[] {
  return user.events.filter((e) => e.event === event).map((e) => e.payload);
}
