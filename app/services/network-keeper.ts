/**
 * The keeper of the embedded local network (see ./embedded-network for the protocol with its
 * users): runs the nodes with startDevnet, publishes its state in keeper.json, drops users whose
 * process died, and stops the network and itself when no user is left or on SIGTERM/SIGINT.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { startDevnet, type Devnet, type NodeSpec } from '../../node-core/io/devnet/devnet';
import { writeFileAtomic } from './files';
import { embeddedLayout, KEEPER_FILE, liveUsers, readKeeperState, type KeeperPhase } from './embedded-network';
import { ownRecord, processStartTicks, type OwnerRecord } from './process-lock';

export interface KeeperOptions {
  readonly dir: string;
  readonly layout?: NodeSpec[];
  /** The directory period (default 3 s: the first node list is signed a few seconds after start). */
  readonly periodMs?: number;
  /** How often the users are checked (default 1 s). */
  readonly pollMs?: number;
  /** Lines for the keeper's log. */
  readonly log?: (line: string) => void;
}

export async function runNetworkKeeper(opts: KeeperOptions): Promise<number> {
  const { dir } = opts;
  const log = opts.log ?? ((line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`));
  const me = ownRecord();
  let nodes: OwnerRecord[] = [];
  let stopping = false;
  /** Publishes the state; false when the folder cannot be written (e.g. it was removed). */
  const write = (state: KeeperPhase, extra: { networkFile?: string; problem?: string } = {}): boolean => {
    try {
      writeFileAtomic(join(dir, KEEPER_FILE), JSON.stringify({ ...me, state, nodes, ...extra }) + '\n');
      return true;
    } catch (e) {
      log(`keeper ${process.pid} cannot write its state: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  };
  write('starting');
  log(`keeper ${process.pid} starting the local network in ${dir}`);

  let devnet: Devnet;
  try {
    devnet = await startDevnet({
      dir: join(dir, 'nodes'),
      layout: opts.layout ?? embeddedLayout(),
      ports: 'auto',
      periodMs: opts.periodMs ?? 3000,
      configPatch: { logLevel: 'warn' },
      networkName: 'local',
    });
  } catch (e) {
    const problem = `the local network could not be started: ${e instanceof Error ? e.message : String(e)}`;
    log(problem);
    write('failed', { problem });
    // Stay long enough for waiting users to read why, then go.
    await new Promise((r) => setTimeout(r, 3000));
    removeStateFile(dir, me);
    return 1;
  }
  nodes = devnet.nodes.flatMap((n) => {
    const pid = n.process.pid;
    return pid === undefined ? [] : [{ pid, host: me.host, startTicks: processStartTicks(pid) }];
  });
  const networkFile = devnet.networkFile;
  write('ready', { networkFile });
  log(`keeper ${process.pid} ready: ${networkFile}`);
  for (const n of devnet.nodes) {
    n.process.once('exit', (code, signal) => {
      if (!stopping) log(`node ${n.spec.nickname} exited unexpectedly (${code ?? signal})`);
    });
  }

  await new Promise<void>((resolve) => {
    const stop = (why: string): void => {
      if (stopping) return;
      stopping = true;
      clearInterval(timer);
      log(`keeper ${process.pid} stopping: ${why}`);
      devnet.stop().then(resolve, resolve);
    };
    const timer = setInterval(() => {
      if (stopping) return;
      // Nobody can find a network whose folder is gone: its nodes must not outlive it.
      if (!existsSync(dir)) return stop('its folder was removed');
      if (liveUsers(dir).length > 0) return;
      // Announce the stop, then look once more: a user that registered before this look sees
      // us stop only after reading 'stopping', and then waits for a new keeper.
      write('stopping', { networkFile });
      if (liveUsers(dir).length > 0) {
        write('ready', { networkFile });
        return;
      }
      stop('no user left');
    }, opts.pollMs ?? 1000);
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    // Whatever goes wrong in the keeper, its nodes stop with it.
    process.once('uncaughtException', (e) => stop(`error: ${e instanceof Error ? e.message : String(e)}`));
  });
  removeStateFile(dir, me);
  log(`keeper ${process.pid} stopped`);
  return 0;
}

function removeStateFile(dir: string, me: OwnerRecord): void {
  const state = readKeeperState(dir);
  if (state && state.pid === me.pid && state.startTicks === me.startTicks) {
    try {
      unlinkSync(join(dir, KEEPER_FILE));
    } catch {
      // gone already
    }
  }
}
