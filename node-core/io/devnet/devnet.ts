/**
 * The devnet: a whole PSP network as separate node processes on one machine.
 *
 * `startDevnet` writes a config and a passphrase file per node under `dir`, spawns one
 * `sirius node` process each, waits for every "node ready" line, and writes the network file
 * (`network.json`: the addresses and identity keys a client needs to start). `stop` sends
 * SIGTERM to every child and waits for them. Tests use it to run real multi-process networks.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { findPuzzleKey } from '../../dht';
import { createServer } from 'node:net';
import { base58 } from '@scure/base';
import { nodeSuite } from '../crypto-node';
import { loadOrCreateIdentityKey, writeKeyFile } from '../keystore';

/** S/Kademlia puzzle difficulty on a devnet (the network file carries it). */
export const DEVNET_PUZZLE_BITS = 8;
import { OnionKeyRing, ONION_KEY_ROTATION_MS } from '../node/onion-keys';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { NodeConfig, NodeRole } from '../node/config';
import type { NodeInfo } from '../node/node';

const SIRIUS_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/sirius.js');

export interface NodeSpec {
  nickname: string;
  roles: NodeRole[];
  port: number;
}

/**
 * The Sirius Stream testnet layout: 5 discovery, 3 authority, 9 onion nodes, plus 2 oracle nodes
 * on 7101–7102. Of the onion nodes, onion1–2 are also landing nodes of live streams and onion3–6
 * distribution nodes.
 */
export function testnetLayout(): NodeSpec[] {
  const out: NodeSpec[] = [];
  for (let i = 1; i <= 5; i++) out.push({ nickname: `discovery${i}`, roles: ['discovery'], port: 6000 + i });
  for (let i = 1; i <= 3; i++) out.push({ nickname: `authority${i}`, roles: ['authority'], port: 7000 + i });
  for (let i = 1; i <= 2; i++) out.push({ nickname: `oracle${i}`, roles: ['oracle'], port: 7100 + i });
  for (let i = 1; i <= 9; i++) out.push({ nickname: `onion${i}`, roles: streamRoles(i, 2, 4), port: 8000 + i });
  return out;
}

/** Onion node `i` (1-based) also lands streams when i ≤ landing, or distributes them for the next `distribution` nodes. */
export function streamRoles(i: number, landing: number, distribution: number): NodeRole[] {
  if (i <= landing) return ['onion', 'landing'];
  if (i <= landing + distribution) return ['onion', 'distribution'];
  return ['onion'];
}

export function smallLayout(onions = 3): NodeSpec[] {
  return Array.from({ length: onions }, (_, i) => ({ nickname: `onion${i + 1}`, roles: ['onion'] as NodeRole[], port: 8001 + i }));
}

export interface NetworkFile {
  network: string;
  version: 1;
  createdAt: string;
  directory?: { periodMs: number; threshold: number };
  authority?: { threshold: number };
  dht?: { puzzleBits: number; maxTtlMs: number };
  nodes: NodeInfo[];
}

export interface DevnetOptions {
  dir: string;
  layout: NodeSpec[];
  host?: string;
  /** 'fixed' uses each spec's port; 'auto' picks free ports first (for tests). */
  ports?: 'fixed' | 'auto';
  /** Extra config merged into every node's config (limits, log level). */
  configPatch?: Partial<NodeConfig>;
  /** Called with every stdout line of every node (JSON logs). */
  onLine?: (nickname: string, line: string) => void;
  networkName?: string;
  /** Directory period (the discovery nodes vote once per period); seconds in a devnet. */
  periodMs?: number;
  /** Signatures an access certificate needs (default: 2, or 1 with a single authority). */
  authorityThreshold?: number;
  /** Longest lifetime of a DHT record (presence); short on a devnet so expiry is quick to see. */
  recordTtlMs?: number;
  /** Starts a node process some other way (e.g. inside a network namespace). */
  launch?: (spec: NodeSpec, command: string, args: string[]) => ChildProcess;
  /** Address each node advertises, when it differs from `host` (namespaces). */
  hostFor?: (spec: NodeSpec) => string;
}

export interface DevnetNode {
  spec: NodeSpec;
  info: NodeInfo;
  process: ChildProcess;
  configPath: string;
}

export class Devnet {
  constructor(
    readonly dir: string,
    readonly nodes: DevnetNode[],
    readonly networkFile: string,
  ) {}

  node(nickname: string): DevnetNode {
    const n = this.nodes.find((x) => x.spec.nickname === nickname);
    if (!n) throw new Error(`no devnet node ${nickname}`);
    return n;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => stopChild(n.process)));
  }
}

export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}

/** Spawns one node process for `configPath` and resolves with its info once it is ready. */
export function spawnNode(
  configPath: string,
  nickname: string,
  onLine?: (nickname: string, line: string) => void,
  readyTimeoutMs = 60_000,
  /** Starts the process some other way (e.g. inside a network namespace). */
  launch?: (command: string, args: string[]) => ChildProcess,
): Promise<{ process: ChildProcess; info: NodeInfo }> {
  const args = [SIRIUS_BIN, 'node', '--config', configPath];
  const child = launch
    ? launch(process.execPath, args)
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  return new Promise((resolveSpawn, reject) => {
    let ready = false;
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${nickname} did not become ready; stderr: ${stderr.slice(-2000)}`));
    }, readyTimeoutMs);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      onLine?.(nickname, line);
      if (ready) return;
      try {
        const rec = JSON.parse(line) as { event?: string } & NodeInfo;
        if (rec.event === 'ready') {
          ready = true;
          clearTimeout(timer);
          const { nickname: nick, roles, host, port, identity, onionKey } = rec;
          resolveSpawn({ process: child, info: { nickname: nick, roles, host, port, identity, onionKey } });
        }
      } catch {
        // not a JSON line
      }
    });
    child.once('exit', (code, signal) => {
      if (!ready) {
        clearTimeout(timer);
        reject(new Error(`node ${nickname} exited (${code ?? signal}) before it was ready: ${stderr.slice(-2000)}`));
      }
    });
  });
}

/** The oracle settings of devnet oracle nodes. */
export const DEVNET_ORACLE = Object.freeze({
  defaultPlan: { maxBitrate: 20_000_000, maxViewers: 100_000, publicAllowed: true },
  puzzleDifficulty: 12,
});

export function writeNodeFiles(dir: string, spec: NodeSpec, host: string, port: number, patch?: Partial<NodeConfig>): string {
  const nodeDir = join(dir, spec.nickname);
  mkdirSync(nodeDir, { recursive: true, mode: 0o700 });
  const passphraseFile = join(nodeDir, 'passphrase');
  try {
    writeFileSync(passphraseFile, randomBytes(24).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const config = {
    nickname: spec.nickname,
    roles: spec.roles,
    listen: { host, port },
    dataDir: '.',
    passphraseFile: 'passphrase',
    // A devnet's oracles give every certified identity a plan: anyone may try streaming.
    ...(spec.roles.includes('oracle') ? { oracle: DEVNET_ORACLE } : {}),
    ...patch,
  };
  const configPath = join(nodeDir, 'config.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  return configPath;
}

/** Asks the OS for a free TCP port on `host` (released at once; the node binds it right after). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/**
 * Creates each node's folder, passphrase, identity key and onion key before any node starts,
 * so the network file — which every node reads to find the discovery and authority nodes — can
 * be written first.
 */
async function prepareNode(dir: string, spec: NodeSpec, host: string, port: number, puzzleBits: number | null): Promise<NodeInfo> {
  const nodeDir = join(dir, spec.nickname);
  mkdirSync(nodeDir, { recursive: true, mode: 0o700 });
  const passphraseFile = join(nodeDir, 'passphrase');
  try {
    writeFileSync(passphraseFile, randomBytes(24).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const passphrase = readFileSync(passphraseFile, 'utf8').trim();
  // Devnet keys are throwaway and their passphrase sits beside them, so a lighter scrypt cost
  // (2^12) keeps a 17-node devnet quick to start; operators' nodes use the default (2^15).
  const scrypt = { logN: 12 };
  const keyPath = join(nodeDir, 'identity.key');
  if (puzzleBits !== null && !existsSync(keyPath)) {
    // A DHT node's id must pass the S/Kademlia puzzle: make a key that does (node-core/dht/id.ts).
    const { secretKey } = findPuzzleKey(nodeSuite, puzzleBits);
    await writeKeyFile(keyPath, secretKey, passphrase, { suite: nodeSuite, scrypt, overwrite: false });
    secretKey.fill(0);
  }
  const secret = await loadOrCreateIdentityKey(join(nodeDir, 'identity.key'), passphrase, nodeSuite, { scrypt });
  const ring = await OnionKeyRing.load(join(nodeDir, 'onion.key'), passphrase, nodeSuite, ONION_KEY_ROTATION_MS, Date.now(), scrypt);
  const identity = base58.encode(nodeSuite.ed25519PublicKey(secret));
  secret.fill(0);
  return { nickname: spec.nickname, roles: [...spec.roles], host, port, identity, onionKey: base58.encode(ring.publicKey) };
}

export async function startDevnet(opts: DevnetOptions): Promise<Devnet> {
  const dir = resolve(opts.dir);
  const host = opts.host ?? '127.0.0.1';
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const withDirectory = opts.layout.some((s) => s.roles.includes('discovery'));
  const infos = await Promise.all(
    opts.layout.map(async (spec) => {
      const nodeHost = opts.hostFor?.(spec) ?? host;
      const port = opts.ports === 'auto' && !opts.hostFor ? await freePort(nodeHost) : spec.port;
      return prepareNode(dir, spec, nodeHost, port, withDirectory ? DEVNET_PUZZLE_BITS : null);
    }),
  );
  const discovery = opts.layout.filter((s) => s.roles.includes('discovery')).length;
  const authorities = opts.layout.filter((s) => s.roles.includes('authority')).length;
  const network: NetworkFile = {
    network: opts.networkName ?? 'devnet',
    version: 1,
    createdAt: new Date().toISOString(),
    ...(discovery ? { directory: { periodMs: opts.periodMs ?? 5000, threshold: Math.floor(discovery / 2) + 1 } } : {}),
    ...(authorities ? { authority: { threshold: opts.authorityThreshold ?? Math.min(2, authorities) } } : {}),
    ...(withDirectory ? { dht: { puzzleBits: DEVNET_PUZZLE_BITS, maxTtlMs: opts.recordTtlMs ?? 60_000 } } : {}),
    nodes: infos,
  };
  const networkFile = join(dir, 'network.json');
  writeFileSync(networkFile, JSON.stringify(network, null, 2) + '\n');

  const started: DevnetNode[] = [];
  try {
    await Promise.all(
      opts.layout.map(async (spec, i) => {
        const info = infos[i]!;
        // Every devnet node dials from the same loopback address, so the per-IP connection
        // limit is raised to fit the whole network; the limit itself is tested on its own.
        const limits = { ...opts.configPatch?.limits, listener: { maxConnectionsPerIp: 1024, ...opts.configPatch?.limits?.listener } };
        const configPath = writeNodeFiles(dir, spec, info.host, info.port, { network: networkFile, ...opts.configPatch, limits });
        const launch = opts.launch ? (cmd: string, args: string[]) => opts.launch!(spec, cmd, args) : undefined;
        const { process: child, info: ready } = await spawnNode(configPath, spec.nickname, opts.onLine, 60_000, launch);
        started.push({ spec, info: ready, process: child, configPath });
      }),
    );
  } catch (err) {
    await Promise.all(started.map((n) => stopChild(n.process)));
    throw err;
  }
  const order = new Map(opts.layout.map((s, i) => [s.nickname, i]));
  started.sort((a, b) => order.get(a.spec.nickname)! - order.get(b.spec.nickname)!);
  return new Devnet(dir, started, networkFile);
}
