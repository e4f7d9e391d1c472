/**
 * `sirius chat`: the terminal messenger. Two terminals on one devnet can chat:
 *
 *   sirius chat init --data alice --network .devnet/network.json     # prints alice's identity
 *   sirius chat register --data alice                                 # registers, gets a certificate
 *   sirius chat add <bob's identity> --name bob --data alice
 *   sirius chat listen --data alice        # online: prints messages; a line typed is sent
 *   sirius chat send bob "hello" --data alice
 *
 * The passphrase that seals the keys comes from SIRIUS_PASSPHRASE, from --passphrase-file, or
 * is asked for on the terminal. Chat history and contacts live in <data>/chat.sqlite.
 */
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { networkFileOf, readPassphrase } from './common';
import { Command, InvalidArgumentError } from 'commander';
import type { ChatMessage } from '../../chat';
import { fromHex, toHex } from '../../util/bytes';
import { ChatClient, type ChatClientOptions } from '../client/chat-client';
import { nodeSuite } from '../crypto-node';
import { createLogger } from '../log';
import { SqliteChatStore } from '../storage/chat-store';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';

interface CommonOptions {
  data: string;
  network?: string;
  passphraseFile?: string;
  verbose?: boolean;
}



async function openClient(o: CommonOptions, extra: Partial<ChatClientOptions> = {}): Promise<ChatClient> {
  const passphrase = await readPassphrase(o);
  const store = await SqliteChatStore.open(join(o.data, 'chat.sqlite'), { filesDir: join(o.data, 'files') });
  return ChatClient.open({
    suite: nodeSuite,
    network: networkFileOf(o),
    dataDir: o.data,
    passphrase,
    store,
    log: createLogger({ level: o.verbose ? 'debug' : 'warn', name: 'chat', destination: 2 }),
    ...extra,
  });
}

/** A contact by name, identity string or hex key. */
async function resolveContact(client: ChatClient, who: string): Promise<Uint8Array> {
  const contacts = await client.store.contacts();
  const c = contacts.find((x) => x.name === who || x.identity === who || x.key === who);
  if (c) return fromHex(c.key);
  if (who.includes('.account.')) return fromHex(await client.addContact(who));
  throw new InvalidArgumentError(`no contact named ${who}; add one with: sirius chat add <identity> --name ${who}`);
}

function print(line: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(line) + '\n');
}

function common(cmd: Command): Command {
  return cmd
    .requiredOption('-d, --data <dir>', 'this user’s data folder (keys, chat history)')
    .option('-n, --network <file>', 'the network file (remembered by init)')
    .option('--passphrase-file <file>', 'read the passphrase from a file instead of SIRIUS_PASSPHRASE')
    .option('-v, --verbose', 'log what the client does');
}

export function chatCommand(): Command {
  const chat = new Command('chat').description('anonymous 1:1 chat over the network (terminal client)');

  common(chat.command('init').description('create this user’s identity (keys sealed with the passphrase)')).action(async (o: CommonOptions) => {
    mkdirSync(o.data, { recursive: true, mode: 0o700 });
    if (o.network) writeFileSync(join(o.data, 'network-path'), resolve(o.network) + '\n');
    const client = await openClient(o);
    print({ event: 'identity', identity: client.identity.text });
    await client.close();
  });

  common(chat.command('whoami').description('print this user’s identity string')).action(async (o: CommonOptions) => {
    const client = await openClient(o);
    print({ event: 'identity', identity: client.identity.text });
    await client.close();
  });

  common(chat.command('register').description('register the identity and obtain an access certificate')).action(async (o: CommonOptions) => {
    const client = await openClient(o);
    try {
      await client.session.start(client.identity, { register: true });
      const cert = client.session.certificate!.verified;
      print({ event: 'registered', identity: client.identity.text, certificateExpiresAt: cert.expiresAt, signers: cert.signers.length });
    } finally {
      await client.close();
    }
  });

  common(chat.command('add').argument('<identity>', 'the contact’s identity string').option('--name <name>', 'a name for the contact'))
    .description('add a contact')
    .action(async (identity: string, o: CommonOptions & { name?: string }) => {
      const client = await openClient(o);
      try {
        const key = await client.addContact(identity, o.name);
        print({ event: 'contact-added', key, name: o.name ?? identity });
      } finally {
        await client.close();
      }
    });

  common(chat.command('contacts').description('list contacts')).action(async (o: CommonOptions) => {
    const client = await openClient(o);
    try {
      for (const c of await client.store.contacts()) print({ event: 'contact', ...c });
    } finally {
      await client.close();
    }
  });

  common(chat.command('history').argument('<contact>').option('--limit <n>', 'how many', '50'))
    .description('print the conversation with a contact')
    .action(async (who: string, o: CommonOptions & { limit: string }) => {
      const client = await openClient(o);
      try {
        const peer = await resolveContact(client, who);
        const list = await client.store.listMessages(toHex(peer), { limit: Number(o.limit) });
        for (const m of list) print(messageLine(m));
      } finally {
        await client.close();
      }
    });

  common(
    chat
      .command('send')
      .argument('<contact>', 'name, identity string or key')
      .argument('<text...>', 'the message')
      .option('--timeout <s>', 'give up waiting after this many seconds', '120'),
  )
    .description('go online, send one message, and wait until it is delivered or left in the peer’s mailbox')
    .action(async (who: string, words: string[], o: CommonOptions & { timeout: string }) => {
      const client = await openClient(o);
      try {
        await client.start();
        const peer = await resolveContact(client, who);
        const outcome = await new Promise<string>((res) => {
          let id = '';
          const timer = setTimeout(() => res('timeout'), Number(o.timeout) * 1000);
          client.on('status', (p, mid, s) => {
            if (p === toHex(peer) && mid === id && s === 'delivered') {
              clearTimeout(timer);
              res('delivered');
            }
          });
          client.on('mailbox-deposited', (p) => {
            if (p === toHex(peer)) {
              clearTimeout(timer);
              res('mailbox');
            }
          });
          client.on('dial-failed', (p, reason) => {
            if (p === toHex(peer) && reason.startsWith('refused')) {
              clearTimeout(timer);
              res('refused');
            }
          });
          client.sendText(peer, words.join(' ')).then((m) => (id = m.id), (err: Error) => res(`error: ${err.message}`));
        });
        print({ event: 'sent', to: who, outcome });
        if (outcome !== 'delivered' && outcome !== 'mailbox') process.exitCode = 1;
      } finally {
        await client.close();
      }
    });

  common(
    chat
      .command('listen')
      .option('--accept-all', 'accept chat requests from anyone (otherwise only from contacts)')
      .option('--to <contact>', 'where typed lines go'),
  )
    .description('stay online: print incoming messages (JSON lines); lines typed on stdin are sent ("/to <contact>" switches)')
    .action(async (o: CommonOptions & { acceptAll?: boolean; to?: string }) => {
      const client = await openClient(o, o.acceptAll ? { onRequest: (r) => void r.accept().catch(() => undefined) } : {});
      client.on('message', (peer, m) => print({ ...messageLine(m), peer }));
      client.on('status', (peer, id, status) => print({ event: 'status', peer, id, status }));
      client.on('channel', (peer, state, d) => print({ event: 'channel', peer, state, ...d }));
      client.on('request', (r) => print({ event: 'request', from: r.from.text, greeting: r.greeting }));
      client.on('mailbox-received', (peer, frames) => print({ event: 'mailbox', peer, frames }));
      client.on('presence-cap', (info) => print({ event: 'presence-cap', ...info }));
      await client.start();
      print({ event: 'online', identity: client.identity.text });
      let to: Uint8Array | null = o.to ? await resolveContact(client, o.to) : null;
      const rl = createInterface({ input: process.stdin });
      await new Promise<void>((done) => {
        const stop = () => {
          rl.close();
          done();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        rl.on('close', () => {
          if (!process.stdin.readableEnded) return;
          // stdin ended (a pipe closed): keep listening until a signal.
        });
        rl.on('line', (line) => {
          (async () => {
            if (line.startsWith('/to ')) {
              to = await resolveContact(client, line.slice(4).trim());
              print({ event: 'to', peer: toHex(to) });
            } else if (line === '/quit') stop();
            else if (line.trim()) {
              if (!to) throw new Error('choose a contact first: /to <contact>');
              const m = await client.sendText(to, line);
              print({ event: 'queued', id: m.id, peer: toHex(to) });
            }
          })().catch((err: Error) => print({ event: 'error', message: err.message }));
        });
      });
      await client.close();
    });

  // One-shot commands leave nothing worth waiting for: exit when the action is done.
  chat.hook('postAction', () => process.exit(process.exitCode ?? 0));
  return chat;
}

function messageLine(m: ChatMessage): Record<string, unknown> {
  return { event: 'message', id: m.id, direction: m.direction, seq: m.seq, kind: m.kind, text: m.text, sentAt: m.sentAt, status: m.status };
}
