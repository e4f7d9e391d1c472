/**
 * The embedded local network: with no network file configured (settings.networkFile null), a
 * profile uses a small PSP network running on this machine (DESIGN §4), shared by every profile
 * under the same data root and alive exactly as long as one of them uses it.
 *
 * A *keeper* process (./network-keeper.ts, started detached so it outlives the process that
 * started it) runs the network with startDevnet and watches its *users*. Every user (a services
 * instance) registers a file `users/<pid>-<random>.json` holding its pid before it asks for the
 * network, and removes it when done. The keeper drops user files whose process has died and,
 * when none remain, stops the nodes and exits. So a second profile reuses the running network,
 * the network outlives neither, and a crashed user does not keep it running.
 *
 * Folder `<root>/network/`:
 *   keeper.json   the keeper's state {pid, host, startTicks, state, networkFile?, problem?, nodes}
 *                 written atomically by the keeper
 *   keeper.start  owner file (./process-lock) held while one user starts a keeper, so two users
 *                 arriving together start one keeper
 *   keeper.log    the keeper's output
 *   users/        one file per user
 *   nodes/        the nodes' folders (keys kept across runs, so identities stay) and network.json
 *
 * The hand-over is race-free because a user registers before it reads the keeper's state, and
 * the keeper, before stopping, announces 'stopping' and then looks at the users once more: a
 * user that read 'ready' registered before that last look, and a user that reads 'stopping'
 * waits for the keeper to exit and starts a new one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { streamRoles, type NodeSpec } from '../../node-core/io/devnet/devnet';
import { OwnedElsewhereError, acquireOwnerFile, isHolderAlive, ownRecord, parseOwnerRecord, type OwnerRecord } from './process-lock';

/**
 * 3 discovery, 2 authority, 1 oracle and 5 onion nodes, on free ports of 127.0.0.1; onion1 also
 * lands live streams and onion2–3 distribute them.
 */
export function embeddedLayout(): NodeSpec[] {
  return [
    ...[1, 2, 3].map((i) => ({ nickname: `discovery${i}`, roles: ['discovery' as const], port: 0 })),
    ...[1, 2].map((i) => ({ nickname: `authority${i}`, roles: ['authority' as const], port: 0 })),
    { nickname: 'oracle1', roles: ['oracle' as const], port: 0 },
    ...[1, 2, 3, 4, 5].map((i) => ({ nickname: `onion${i}`, roles: streamRoles(i, 1, 2), port: 0 })),
  ];
}

export type KeeperPhase = 'starting' | 'ready' | 'stopping' | 'failed';

export interface KeeperState extends OwnerRecord {
  readonly state: KeeperPhase;
  readonly networkFile?: string;
  readonly problem?: string;
  /** The node processes, so a user that finds the keeper dead can stop its orphans. */
  readonly nodes: readonly OwnerRecord[];
}

export const KEEPER_FILE = 'keeper.json';
export const KEEPER_START_FILE = 'keeper.start';
export const KEEPER_LOG = 'keeper.log';
export const USERS_DIR = 'users';

export function readKeeperState(dir: string): KeeperState | null {
  let text: string;
  try {
    text = readFileSync(join(dir, KEEPER_FILE), 'utf8');
  } catch {
    return null;
  }
  const record = parseOwnerRecord(text);
  if (record === null) return null;
  const raw = JSON.parse(text) as Record<string, unknown>;
  const state = raw.state;
  if (state !== 'starting' && state !== 'ready' && state !== 'stopping' && state !== 'failed') return null;
  const nodes = Array.isArray(raw.nodes) ? raw.nodes.map((n) => parseOwnerRecord(JSON.stringify(n))).filter((n): n is OwnerRecord => n !== null) : [];
  return {
    ...record,
    state,
    nodes,
    ...(typeof raw.networkFile === 'string' ? { networkFile: raw.networkFile } : {}),
    ...(typeof raw.problem === 'string' ? { problem: raw.problem } : {}),
  };
}

/** Starts a keeper for `dir`; returns its process (already detached from this one). */
export type KeeperLauncher = (dir: string) => ChildProcess;

/**
 * Runs ./network-keeper-main.ts with this Node binary (tsx's loader compiles it), detached, its
 * output going to keeper.log.
 */
export const defaultKeeperLauncher: KeeperLauncher = (dir) => {
  const require = createRequire(import.meta.url);
  const loader = pathToFileURL(require.resolve('tsx')).href;
  // From the sources (tests, the web host), or from the bundled backend in dist/main/ when it
  // runs inside the source tree (`npm start`). An installed app carries no TypeScript sources: it
  // must be pointed at a network file, or pass its own launcher.
  const entry = [
    new URL('./network-keeper-main.ts', import.meta.url),
    new URL('../../app/services/network-keeper-main.ts', import.meta.url),
  ]
    .map((u) => fileURLToPath(u))
    .find((f) => existsSync(f));
  if (!entry) throw new Error('its keeper program is not part of this build');
  const log = openSync(join(dir, KEEPER_LOG), 'a', 0o600);
  try {
    const child = spawn(process.execPath, ['--import', loader, entry, dir], {
      detached: true,
      stdio: ['ignore', log, log],
      // Inside Electron the binary is Electron's: make it behave as Node.
      env: { ...process.env, ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) },
    });
    child.unref();
    return child;
  } finally {
    closeSync(log);
  }
};

export interface NetworkLease {
  /** The network file of the running network. */
  readonly networkFile: string;
  readonly keeperPid: number;
  /** Stops using the network (idempotent); the keeper stops it when no user is left. */
  release(): void;
}

export interface AcquireOptions {
  /** The network folder, `<root>/network` (see ./paths embeddedNetworkDir). */
  readonly dir: string;
  readonly launch?: KeeperLauncher;
  /** How long to wait for the network to be ready (default 120 s). */
  readonly timeoutMs?: number;
  /** Called with short progress texts while waiting. */
  readonly onProgress?: (text: string) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Lists the live users' files, deleting those whose process has died. */
export function liveUsers(dir: string): string[] {
  const usersDir = join(dir, USERS_DIR);
  let names: string[];
  try {
    names = readdirSync(usersDir);
  } catch {
    return [];
  }
  const live: string[] = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const path = join(usersDir, name);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    const record = parseOwnerRecord(text);
    if (record !== null && isHolderAlive(record)) live.push(name);
    else {
      try {
        unlinkSync(path);
      } catch {
        // removed by someone else
      }
    }
  }
  return live;
}

/** Terminates node processes a dead keeper left behind (only those that are still the same processes). */
function stopOrphans(state: KeeperState): void {
  for (const n of state.nodes) {
    if (!isHolderAlive(n)) continue;
    try {
      process.kill(n.pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
  }
}

/** Registers as a user of the embedded network, starting it when it does not run, and waits until it is ready. */
export async function acquireEmbeddedNetwork(opts: AcquireOptions): Promise<NetworkLease> {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('opts must be an object');
  if (typeof opts.dir !== 'string' || opts.dir.length === 0) throw new TypeError('opts.dir must be a non-empty string');
  const { dir } = opts;
  const launch = opts.launch ?? defaultKeeperLauncher;
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  const progress = opts.onProgress ?? (() => {});
  mkdirSync(join(dir, USERS_DIR), { recursive: true, mode: 0o700 });
  const userFile = join(dir, USERS_DIR, `${process.pid}-${randomBytes(6).toString('hex')}.json`);
  writeFileSync(userFile, JSON.stringify(ownRecord()) + '\n', { mode: 0o600, flag: 'wx' });
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    try {
      unlinkSync(userFile);
    } catch {
      // already gone
    }
  };
  try {
    let spawned: ChildProcess | null = null;
    for (;;) {
      if (Date.now() > deadline) throw new Error('the local network did not start in time');
      const state = readKeeperState(dir);
      const alive = state !== null && isHolderAlive(state);
      if (alive && state.state === 'ready' && state.networkFile) {
        return { networkFile: state.networkFile, keeperPid: state.pid, release };
      }
      if (alive && state.state === 'failed') throw new Error(state.problem ?? 'the local network could not be started');
      if (alive) {
        progress(state.state === 'stopping' ? 'Waiting for the local network to restart…' : 'Starting the local network…');
        await sleep(200);
        continue;
      }
      if (spawned && spawned.exitCode !== null) {
        throw new Error(`the local network stopped while starting (${lastLogLine(dir)})`);
      }
      // No keeper runs: start one, unless another user is doing so right now.
      let starter;
      try {
        starter = acquireOwnerFile(join(dir, KEEPER_START_FILE));
      } catch (e) {
        if (!(e instanceof OwnedElsewhereError)) throw e;
        await sleep(200);
        continue;
      }
      try {
        const again = readKeeperState(dir);
        if (again === null || !isHolderAlive(again)) {
          if (again !== null) stopOrphans(again);
          progress('Starting the local network…');
          spawned = launch(dir);
          // Hold the start file until the new keeper has written its state.
          while (Date.now() < deadline) {
            const s = readKeeperState(dir);
            if (s !== null && s.pid === spawned.pid && isHolderAlive(s)) break;
            if (spawned.exitCode !== null || spawned.signalCode !== null) break;
            await sleep(100);
          }
        }
      } finally {
        starter.release();
      }
    }
  } catch (e) {
    release();
    throw e;
  }
}

function lastLogLine(dir: string): string {
  try {
    const lines = readFileSync(join(dir, KEEPER_LOG), 'utf8').trim().split('\n');
    return (lines[lines.length - 1] ?? 'no output').slice(0, 300);
  } catch {
    return 'no output';
  }
}
