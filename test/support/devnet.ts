/**
 * Starting a real multi-process devnet from a test, with per-node observation files, and
 * turning its network file into client targets.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeConfig } from '../../node-core/io/node/config';
import { type Devnet, smallLayout, startDevnet, type NodeSpec } from '../../node-core/io/devnet/devnet';
import { loadNetworkFile, type KnownNode } from '../../node-core/io/client/network';

export interface TestNet {
  devnet: Devnet;
  dir: string;
  nodes: KnownNode[];
  observations(nickname: string): Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startTestNet(
  opts: { layout?: NodeSpec[]; onions?: number; configPatch?: Partial<NodeConfig>; observe?: boolean; periodMs?: number; onLine?: (n: string, l: string) => void } = {},
): Promise<TestNet> {
  const dir = mkdtempSync(join(tmpdir(), 'psp-testnet-'));
  const layout = opts.layout ?? smallLayout(opts.onions ?? 3);
  const patch: Partial<NodeConfig> = { logLevel: 'info', ...opts.configPatch };
  if (opts.observe) patch.dangerouslyRecordObservations = 'observations.jsonl';
  const devnet = await startDevnet({
    dir,
    layout,
    ports: 'auto',
    configPatch: patch,
    ...(opts.periodMs ? { periodMs: opts.periodMs } : {}),
    ...(opts.onLine ? { onLine: opts.onLine } : {}),
  });
  const { nodes } = loadNetworkFile(devnet.networkFile);
  return {
    devnet,
    dir,
    nodes,
    observations(nickname) {
      const f = join(dir, nickname, 'observations.jsonl');
      if (!existsSync(f)) return [];
      return readFileSync(f, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    async stop() {
      await devnet.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
