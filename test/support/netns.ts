/**
 * Network namespaces as test hosts: each host gets its own network stack and IP address on a
 * private bridge, so a test can show which address a node actually sees. Needs root and
 * iproute2 (.ci/run installs it). Everything is created with a per-run prefix and removed by
 * `destroy()`; the traffic stays on the bridge between these namespaces and the test process.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface TestHosts {
  /** The test process's own address on the bridge. */
  hostAddress: string;
  /**
   * More addresses of the test process on the bridge (.2, .3, …), so in-process clients can
   * dial from addresses of their own (pass one as a client's localAddress).
   */
  clientAddresses: string[];
  /** Address of each named namespace host. */
  address(name: string): string;
  /** The namespace name for a host (for `ip netns exec`). */
  namespace(name: string): string;
  /** Spawns `command args` inside the host's namespace. */
  spawn(name: string, command: string, args: string[]): ChildProcess;
  destroy(): void;
}

export function netnsAvailable(): boolean {
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

export function createTestHosts(names: string[], clientAddresses = 2): TestHosts {
  if (!netnsAvailable()) throw new Error('network namespace tests need root and iproute2 (ip netns)');
  const tag = (process.pid % 10_000).toString(36);
  const octet = 100 + (process.pid % 150);
  const subnet = `10.231.${octet}`;
  const bridge = `pspbr${tag}`;
  const made: { ns: string[]; links: string[] } = { ns: [], links: [] };
  const addresses = new Map<string, string>();
  const namespaces = new Map<string, string>();
  const destroy = () => {
    for (const l of made.links) {
      try {
        ip('link', 'del', l);
      } catch {
        /* already gone with its namespace */
      }
    }
    for (const ns of made.ns) {
      try {
        ip('netns', 'del', ns);
      } catch {
        /* already gone */
      }
    }
    try {
      ip('link', 'del', bridge);
    } catch {
      /* already gone */
    }
  };
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    made.links.push(bridge);
    ip('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
    for (let i = 0; i < clientAddresses; i++) ip('addr', 'add', `${subnet}.${2 + i}/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    names.forEach((name, i) => {
      const ns = `psp${tag}-${i}`;
      const outer = `psp${tag}o${i}`;
      const inner = `psp${tag}i${i}`;
      const addr = `${subnet}.${10 + i}`;
      ip('netns', 'add', ns);
      made.ns.push(ns);
      ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
      made.links.push(outer);
      ip('link', 'set', inner, 'netns', ns);
      ip('link', 'set', outer, 'master', bridge);
      ip('link', 'set', outer, 'up');
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${addr}/24`, 'dev', inner);
      ip('netns', 'exec', ns, 'ip', 'link', 'set', inner, 'up');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
      addresses.set(name, addr);
      namespaces.set(name, ns);
    });
  } catch (err) {
    destroy();
    throw err;
  }
  const get = <T>(m: Map<string, T>, name: string): T => {
    const v = m.get(name);
    if (v === undefined) throw new Error(`no test host ${name}`);
    return v;
  };
  return {
    hostAddress: `${subnet}.1`,
    clientAddresses: Array.from({ length: clientAddresses }, (_, i) => `${subnet}.${2 + i}`),
    address: (name) => get(addresses, name),
    namespace: (name) => get(namespaces, name),
    spawn: (name, command, args) =>
      spawn('ip', ['netns', 'exec', get(namespaces, name), command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } }),
    destroy,
  };
}
