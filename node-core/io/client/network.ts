/**
 * Reading the network file (written by the devnet, or shipped with a network): the nodes a
 * client needs to start, with their addresses and keys. Until the signed directory is in use
 * this is also the list circuits are built from.
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
    network: z.string().min(1).max(64),
    version: z.literal(1),
    createdAt: z.string(),
    nodes: z.array(nodeSchema).min(1),
  })
  .passthrough();

export type NetworkFileData = z.infer<typeof networkFileSchema>;

export interface KnownNode extends NodeTarget {
  nickname: string;
  roles: string[];
}

export function parseNetworkFile(text: string, source = 'network file'): { network: string; nodes: KnownNode[] } {
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
    const identity = base58.decode(n.identity);
    const onionKey = base58.decode(n.onionKey);
    if (identity.length !== 32 || onionKey.length !== 32) throw new Error(`${source}: node ${n.nickname} has a key that is not 32 bytes`);
    return { nickname: n.nickname, roles: n.roles, identity, onionKey, addresses: [{ host: n.host, port: n.port }] };
  });
  return { network: parsed.data.network, nodes };
}

export function loadNetworkFile(path: string): { network: string; nodes: KnownNode[] } {
  return parseNetworkFile(readFileSync(path, 'utf8'), path);
}
