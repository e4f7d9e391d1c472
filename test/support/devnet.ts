/**
 * Starting a real multi-process devnet from a test — on loopback, or with every node in its own
 * network namespace — with per-node observation files, and turning its network file into
 * client targets.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeConfig } from '../../node-core/io/node/config';
import { type Devnet, smallLayout, startDevnet, type DevnetOptions, type NodeSpec } from '../../node-core/io/devnet/devnet';
import { loadNetworkFile, type KnownNode } from '../../node-core/io/client/network';
import { createTestHosts, type TestHosts } from './netns';

export interface TestNet {
  devnet: Devnet;
  dir: string;
  nodes: KnownNode[];
  /** Set when the nodes run in network namespaces. */
  hosts?: TestHosts;
  observations(nickname: string): Record<string, unknown>[];
  stop(): Promise<void>;
}

export interface TestNetOptions {
  layout?: NodeSpec[];
  onions?: number;
  configPatch?: Partial<NodeConfig>;
  /** Record what each node sees (decrypted relay payloads, circuit neighbours). */
  observe?: boolean;
  periodMs?: number;
  authorityThreshold?: number;
  onLine?: (n: string, l: string) => void;
  /** Run every node in its own network namespace with its own IP address. */
  namespaces?: boolean;
}

/** The JSON lines a node with `dangerouslyRecordObservations` wrote. */
export function readObservations(dir: string, nickname: string): Record<string, unknown>[] {
  const f = join(dir, nickname, 'observations.jsonl');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export async function startTestNet(opts: TestNetOptions = {}): Promise<TestNet> {
  const dir = mkdtempSync(join(tmpdir(), 'psp-testnet-'));
  const layout = opts.layout ?? smallLayout(opts.onions ?? 3);
  const patch: Partial<NodeConfig> = { logLevel: 'info', ...opts.configPatch };
  if (opts.observe) patch.dangerouslyRecordObservations = 'observations.jsonl';
  const hosts = opts.namespaces ? createTestHosts(layout.map((s) => s.nickname)) : undefined;
  const devOpts: DevnetOptions = {
    dir,
    layout,
    ports: 'auto',
    configPatch: patch,
    ...(opts.periodMs ? { periodMs: opts.periodMs } : {}),
    ...(opts.authorityThreshold ? { authorityThreshold: opts.authorityThreshold } : {}),
    ...(opts.onLine ? { onLine: opts.onLine } : {}),
    ...(hosts
      ? { hostFor: (spec: NodeSpec) => hosts.address(spec.nickname), launch: (spec: NodeSpec, cmd: string, args: string[]) => hosts.spawn(spec.nickname, cmd, args) }
      : {}),
  };
  let devnet: Devnet;
  try {
    devnet = await startDevnet(devOpts);
  } catch (err) {
    hosts?.destroy();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const { nodes } = loadNetworkFile(devnet.networkFile);
  return {
    devnet,
    dir,
    nodes,
    ...(hosts ? { hosts } : {}),
    observations: (nickname) => readObservations(dir, nickname),
    async stop() {
      await devnet.stop();
      hosts?.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
