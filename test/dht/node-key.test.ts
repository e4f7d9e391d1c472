/**
 * A node daemon that joins a network with a DHT creates an identity key whose node id passes
 * the S/Kademlia puzzle (otherwise it could never enter other nodes' routing tables).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base58 } from '@scure/base';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeIdOf, satisfiesPuzzle } from '../../node-core/dht';
import { nodeSuite } from '../../node-core/io/crypto-node';
import { nodeConfigSchema } from '../../node-core/io/node/config';
import { PspNode } from '../../node-core/io/node/node';
import { silentLogger } from '../../node-core/io/log';

const dir = mkdtempSync(join(tmpdir(), 'psp-node-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('node identity keys and the DHT puzzle', () => {
  it('a new onion node on a DHT network gets a key that passes the puzzle', async () => {
    const other = nodeSuite.ed25519PublicKey(nodeSuite.randomBytes(32));
    const network = {
      network: 'keytest',
      version: 1,
      createdAt: new Date().toISOString(),
      dht: { puzzleBits: 10, maxTtlMs: 60_000 },
      nodes: [{ nickname: 'x', roles: ['onion'], host: '127.0.0.1', port: 9, identity: base58.encode(other), onionKey: base58.encode(other) }],
    };
    writeFileSync(join(dir, 'network.json'), JSON.stringify(network));
    writeFileSync(join(dir, 'passphrase'), 'correct horse battery staple\n', { mode: 0o600 });
    const config = nodeConfigSchema.parse({
      nickname: 'keytest',
      roles: ['onion'],
      listen: { host: '127.0.0.1', port: 0 },
      dataDir: dir,
      passphraseFile: join(dir, 'passphrase'),
      network: join(dir, 'network.json'),
    });
    const node = await PspNode.create(config, nodeSuite, silentLogger());
    expect(satisfiesPuzzle(nodeSuite, nodeIdOf(nodeSuite, node.identity.publicKey), 10)).toBe(true);
    // The key is kept: a second start loads the same identity.
    const again = await PspNode.create(config, nodeSuite, silentLogger());
    expect(base58.encode(again.identity.publicKey)).toBe(base58.encode(node.identity.publicKey));
  });
});
