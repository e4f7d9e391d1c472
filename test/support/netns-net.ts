/**
 * A devnet whose nodes each live in their own network namespace (their own IP address), for
 * tests that must show which addresses a node actually sees.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { base58 } from '@scure/base';
import { spawnNode, stopChild, writeNodeFiles, type NodeSpec } from '../../node-core/io/devnet/devnet';
import type { NodeConfig } from '../../node-core/io/node/config';
import type { NodeInfo } from '../../node-core/io/node/node';
import type { KnownNode } from '../../node-core/io/client/network';
import { createTestHosts, type TestHosts } from './netns';

export interface NetnsNet {
  hosts: TestHosts;
  infos: NodeInfo[];
  nodes: KnownNode[];
  observations(nickname: string): Record<string, unknown>[];
  kill(nickname: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startNetnsNet(layout: NodeSpec[], patch: Partial<NodeConfig> = {}): Promise<NetnsNet> {
  const dir = mkdtempSync(join(tmpdir(), 'psp-netns-'));
  const hosts = createTestHosts(layout.map((s) => s.nickname));
  const children = new Map<string, ChildProcess>();
  const infos: NodeInfo[] = [];
  try {
    await Promise.all(
      layout.map(async (spec) => {
        const addr = hosts.address(spec.nickname);
        const cfg = writeNodeFiles(dir, spec, addr, spec.port, { dangerouslyRecordObservations: 'observations.jsonl', ...patch });
        const { process: child, info } = await spawnNode(cfg, spec.nickname, undefined, 60_000, (cmd, args) => hosts.spawn(spec.nickname, cmd, args));
        children.set(spec.nickname, child);
        infos.push(info);
      }),
    );
  } catch (err) {
    await Promise.all([...children.values()].map((c) => stopChild(c)));
    hosts.destroy();
    throw err;
  }
  const order = new Map(layout.map((s, i) => [s.nickname, i]));
  infos.sort((a, b) => order.get(a.nickname)! - order.get(b.nickname)!);
  const nodes = infos.map((i) => ({
    nickname: i.nickname,
    roles: i.roles,
    identity: base58.decode(i.identity),
    onionKey: base58.decode(i.onionKey),
    addresses: [{ host: i.host, port: i.port }],
  }));
  return {
    hosts,
    infos,
    nodes,
    observations(nickname) {
      const f = join(dir, nickname, 'observations.jsonl');
      if (!existsSync(f)) return [];
      return readFileSync(f, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    async kill(nickname) {
      const c = children.get(nickname);
      if (c) await stopChild(c);
    },
    async stop() {
      await Promise.all([...children.values()].map((c) => stopChild(c)));
      hosts.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
