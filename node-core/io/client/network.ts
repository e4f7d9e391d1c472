/**
 * The network file: what a client or node needs to join a network before it has a directory.
 * It names the nodes to start from (with addresses, identity and onion keys), and the trust
 * roots: the discovery nodes' keys with the number of their signatures a node list needs, and
 * the authority nodes' keys with the number of their signatures an access certificate needs.
 * Everything else (which onion nodes exist) comes from the signed directory.
 *
 *   { "network": "devnet", "version": 1, "createdAt": "…",
 *     "directory": { "periodMs": 5000, "threshold": 3 },
 *     "authority": { "threshold": 2 },
 *     "dht": { "puzzleBits": 8, "maxTtlMs": 60000 },
 *     "nodes": [ { "nickname", "roles", "host", "port", "identity", "onionKey" }, … ] }
 *
 * Discovery nodes are the entries with the role "discovery"; authorities those with "authority";
 * oracles (which sign stream receipts and viewer IDs) those with "oracle".
 */
import { readFileSync } from 'node:fs';
import { base58 } from '@scure/base';
import { z } from 'zod';
import type { NodeTarget } from '../../onion/channel';

const nodeSchema = z
  .object({
    nickname: z.string().min(1).max(32),
    roles: z.array(z.string()).min(1),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    identity: z.string().min(32).max(50),
    onionKey: z.string().min(32).max(50),
  })
  .passthrough();

export const networkFileSchema = z
  .object({
    network: z.string().regex(/^[a-z0-9-]{1,32}$/, '1-32 lowercase letters, digits or -'),
    version: z.literal(1),
    createdAt: z.string(),
    directory: z.object({ periodMs: z.number().int().min(1000), threshold: z.number().int().min(1) }).optional(),
    authority: z.object({ threshold: z.number().int().min(1) }).optional(),
    dht: z.object({ puzzleBits: z.number().int().min(0).max(32), maxTtlMs: z.number().int().min(1000) }).optional(),
    nodes: z.array(nodeSchema).min(1),
  })
  .passthrough();

export type NetworkFileData = z.infer<typeof networkFileSchema>;

export interface KnownNode extends NodeTarget {
  nickname: string;
  roles: string[];
}

export interface NetworkConfig {
  network: string;
  nodes: KnownNode[];
  /** Present when the network runs discovery nodes. */
  directory?: { periodMs: number; threshold: number; discoveryKeys: Uint8Array[]; discovery: KnownNode[] };
  /** Present when the network runs authority nodes. */
  authority?: { threshold: number; authorityKeys: Uint8Array[]; authorities: KnownNode[] };
  /** Present when the nodes run the DHT: the id puzzle's difficulty and the longest record TTL. */
  dht?: { puzzleBits: number; maxTtlMs: number };
  /** Present when the network file names oracle nodes (role "oracle"): the keys receipts and viewer IDs must be signed by. */
  oracle?: { oracleKeys: Uint8Array[]; oracles: KnownNode[] };
}

export function parseNetworkFile(text: string, source = 'network file'): NetworkConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = networkFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`${source} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const nodes = parsed.data.nodes.map((n) => {
    let identity: Uint8Array;
    let onionKey: Uint8Array;
    try {
      identity = base58.decode(n.identity);
      onionKey = base58.decode(n.onionKey);
    } catch {
      throw new Error(`${source}: node ${n.nickname} has a key that is not base58`);
    }
    if (identity.length !== 32 || onionKey.length !== 32) throw new Error(`${source}: node ${n.nickname} has a key that is not 32 bytes`);
    return { nickname: n.nickname, roles: n.roles, identity, onionKey, addresses: [{ host: n.host, port: n.port }] };
  });
  const out: NetworkConfig = { network: parsed.data.network, nodes };
  const discovery = nodes.filter((n) => n.roles.includes('discovery'));
  if (parsed.data.directory) {
    const { periodMs, threshold } = parsed.data.directory;
    if (discovery.length === 0) throw new Error(`${source}: a directory section needs discovery nodes`);
    if (threshold * 2 <= discovery.length || threshold > discovery.length) {
      throw new Error(`${source}: the directory threshold must be a strict majority of the ${discovery.length} discovery nodes`);
    }
    out.directory = { periodMs, threshold, discoveryKeys: discovery.map((d) => d.identity), discovery };
  }
  const authorities = nodes.filter((n) => n.roles.includes('authority'));
  if (parsed.data.authority) {
    const { threshold } = parsed.data.authority;
    if (authorities.length === 0 || threshold > authorities.length) {
      throw new Error(`${source}: the authority threshold exceeds the ${authorities.length} authority nodes`);
    }
    out.authority = { threshold, authorityKeys: authorities.map((a) => a.identity), authorities };
  }
  if (parsed.data.dht) out.dht = { ...parsed.data.dht };
  const oracles = nodes.filter((n) => n.roles.includes('oracle'));
  if (oracles.length > 0) out.oracle = { oracleKeys: oracles.map((o) => o.identity), oracles };
  return out;
}

export function loadNetworkFile(path: string): NetworkConfig {
  return parseNetworkFile(readFileSync(path, 'utf8'), path);
}
