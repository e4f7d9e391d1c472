/**
 * Messenger clients for devnet tests: a ChatClient per user with its own data folder and SQLite
 * chat store, opened, closed and re-opened (a restart) from the same folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatMessage } from '../../node-core/chat';
import { ChatClient, type ChatClientOptions } from '../../node-core/io/client/chat-client';
import { nodeSuite } from '../../node-core/io/crypto-node';
import { SqliteChatStore } from '../../node-core/io/storage/chat-store';
import { base58 } from '@scure/base';
import { AppEvent } from '../../node-core/message/envelope';
import { toHex } from '../../node-core/util/bytes';

export interface TestUser {
  name: string;
  dir: string;
  client: ChatClient;
  store: SqliteChatStore;
  /** Incoming messages by peer (hex), in the order they were shown. */
  received: Map<string, ChatMessage[]>;
  /** Outgoing message ids that reached 'delivered'. */
  delivered: Set<string>;
  /** Frames taken from the mailbox, over all runs. */
  mailboxFrames: number;
  restart(extra?: Partial<ChatClientOptions>): Promise<void>;
  stop(): Promise<void>;
}

const dirs: string[] = [];

export async function openUser(
  name: string,
  network: string,
  extra: Partial<ChatClientOptions> = {},
  dir = mkdtempSync(join(tmpdir(), `psp-chat-${name}-`)),
): Promise<TestUser> {
  dirs.push(dir);
  const user = { name, dir, received: new Map(), delivered: new Set(), mailboxFrames: 0 } as unknown as TestUser;
  const open = async (more: Partial<ChatClientOptions>) => {
    const store = await SqliteChatStore.open(join(dir, 'chat.sqlite'), { filesDir: join(dir, 'files') });
    const client = await ChatClient.open({
      suite: nodeSuite,
      network,
      dataDir: dir,
      passphrase: `passphrase of ${name}`,
      store,
      scrypt: { logN: 10 },
      redialMs: { first: 500, max: 4000 },
      ...extra,
      ...more,
    });
    client.on('message', (peer, m) => {
      const list = user.received.get(peer) ?? [];
      list.push(m);
      user.received.set(peer, list);
    });
    client.on('status', (_p, id, s) => {
      if (s === 'delivered' || s === 'read') user.delivered.add(id);
    });
    client.on('mailbox-received', (_p, n) => (user.mailboxFrames += n));
    user.client = client;
    user.store = store;
  };
  await open({});
  user.restart = async (more = {}) => {
    await user.client.close();
    await user.store.close();
    await open(more);
    await user.client.start();
  };
  user.stop = async () => {
    await user.client.close();
    await user.store.close();
  };
  return user;
}

export function texts(user: TestUser, peer: TestUser): string[] {
  return (user.received.get(toHex(peer.client.identity.publicKey)) ?? []).map((m) => m.text ?? '');
}

export function removeUserDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/**
 * The users whose identity key appears in what clients asked of a node: the application
 * messages that ended at it (observation records of type 'app-message'), except the DHT's and
 * the directory's own traffic between nodes. That traffic carries every user's public presence
 * record to the DHT nodes that store it (which is what a DHT is for), whether or not the user
 * talks to anyone; what must stay apart is what the users' own requests show.
 */
const NODE_TO_NODE_EVENTS = new Set<number>([AppEvent.Dht, AppEvent.DiscoveryPublish, AppEvent.DiscoveryPeer, AppEvent.DiscoveryPull]);
export function usersSeen(observations: Record<string, unknown>[], users: TestUser[]): string[] {
  const seen = new Set<string>();
  for (const o of observations) {
    if (o.type !== 'app-message') continue;
    const hex = String(o.message);
    if (NODE_TO_NODE_EVENTS.has(parseInt(hex.slice(0, 4), 16))) continue;
    for (const u of users) {
      const key = u.client.identity.publicKey;
      if (hex.includes(toHex(key)) || hex.includes(Buffer.from(base58.encode(key)).toString('hex'))) seen.add(u.name);
    }
  }
  return [...seen];
}
