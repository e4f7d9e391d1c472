/**
 * Private chat across real node processes (seed 004 §7): Alice and Bob, each with an identity
 * registered at the authorities and a presence on two presence nodes, chat through a rendezvous
 * point. Every node records what it saw; the records show that no node saw both users'
 * identities. Also: a channel that breaks is re-established by itself; a stranger's request is
 * refused unless the user accepts; a public entity can be met directly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../node-core/io/devnet/devnet';
import { ChannelSetupError } from '../../node-core/io/client/channel';
import { toHex } from '../../node-core/util/bytes';
import { startTestNet, type TestNet } from '../support/devnet';
import { waitFor, waitForAsync } from '../support/raw-link';
import { openUser, removeUserDirs, texts, usersSeen, type TestUser } from './helpers';

const layout: NodeSpec[] = [
  ...[1, 2, 3].map((i) => ({ nickname: `discovery${i}`, roles: ['discovery' as const], port: 0 })),
  ...[1, 2, 3].map((i) => ({ nickname: `authority${i}`, roles: ['authority' as const], port: 0 })),
  ...[1, 2, 3, 4, 5, 6, 7].map((i) => ({ nickname: `onion${i}`, roles: ['onion' as const], port: 0 })),
];

let net: TestNet;
let alice: TestUser;
let bob: TestUser;
const marks = new Map<string, number>();

function identitiesSeen(nickname: string, users: TestUser[]): string[] {
  return usersSeen(net.observations(nickname).slice(marks.get(nickname) ?? 0), users);
}

beforeAll(async () => {
  net = await startTestNet({ layout, periodMs: 3000, observe: true });
  const onions = net.nodes.filter((n) => n.roles.includes('onion'));
  alice = await openUser('alice', net.devnet.networkFile, { presenceNodes: [onions[0]!.identity, onions[1]!.identity] });
  bob = await openUser('bob', net.devnet.networkFile, { presenceNodes: [onions[2]!.identity, onions[3]!.identity] });
  // Registration and certificates first: the authorities see each identity, by design, in a
  // registration of its own. What counts is what nodes see from here on.
  await waitForAsync(async () => (await alice.client.session.refreshDirectory().catch(() => undefined))?.nodes.length === layout.length, 'a full node list', 60_000);
  await Promise.all([alice.client.session.start(alice.client.identity), bob.client.session.start(bob.client.identity)]);
  for (const n of net.nodes) marks.set(n.nickname, net.observations(n.nickname).length);
  await Promise.all([alice.client.start(), bob.client.start()]);
  await alice.client.addContact(bob.client.identity.text, 'bob');
  await bob.client.addContact(alice.client.identity.text, 'alice');
}, 120_000);

afterAll(async () => {
  await alice?.stop();
  await bob?.stop();
  await net?.stop();
  removeUserDirs();
});

describe('private chat on the devnet', () => {
  it('Alice and Bob chat through a rendezvous point; no node sees both identities', async () => {
    const bobKey = bob.client.identity.publicKey;
    const aliceKey = alice.client.identity.publicKey;
    const sent = await alice.client.sendText(bobKey, 'hello Bob');
    await waitFor(() => texts(bob, alice).includes('hello Bob'), 'Bob to get the message', 60_000);
    await waitFor(() => alice.delivered.has(sent.id), 'the delivery receipt', 30_000);
    const reply = await bob.client.sendText(aliceKey, 'hi Alice');
    await waitFor(() => texts(alice, bob).includes('hi Alice'), 'Alice to get the reply', 30_000);
    await waitFor(() => bob.delivered.has(reply.id), 'the reply’s receipt', 30_000);
    expect(alice.client.isConnected(bobKey)).toBe(true);

    // What the nodes saw: each user's identity only at nodes serving that user.
    await new Promise((r) => setTimeout(r, 300));
    const both = net.nodes.filter((n) => identitiesSeen(n.nickname, [alice, bob]).length === 2).map((n) => n.nickname);
    expect(both).toEqual([]);
    // The check can see identities: each user's own presence nodes saw that user.
    expect(identitiesSeen(net.nodes.filter((n) => n.roles.includes('onion'))[0]!.nickname, [alice, bob])).toEqual(['alice']);
    // Bob's presence nodes saw Bob (his announcement), never Alice.
    for (const k of [2, 3]) {
      const nick = net.nodes.filter((n) => n.roles.includes('onion'))[k]!.nickname;
      expect(identitiesSeen(nick, [alice, bob])).toEqual(['bob']);
    }
    // The rendezvous point joined two circuits and relayed ciphertext.
    const rps = net.nodes.filter((n) => net.observations(n.nickname).slice(marks.get(n.nickname)).some((o) => o.type === 'rendezvous-joined'));
    expect(rps.length).toBeGreaterThanOrEqual(1);
    for (const rp of rps) {
      const dump = JSON.stringify(net.observations(rp.nickname));
      expect(dump).not.toContain(Buffer.from('hello Bob').toString('hex'));
      expect(dump).not.toContain(Buffer.from('hi Alice').toString('hex'));
    }
  });

  it('re-establishes a broken channel by itself and loses nothing', async () => {
    const bobKey = bob.client.identity.publicKey;
    const before = texts(bob, alice).length;
    const channel = await alice.client.connect(bobKey);
    channel.close(); // the circuit fails
    for (let i = 0; i < 5; i++) await alice.client.sendText(bobKey, `after break ${i}`);
    await waitFor(() => texts(bob, alice).length === before + 5, 'all five after the break', 60_000);
    expect(texts(bob, alice).slice(before)).toEqual([0, 1, 2, 3, 4].map((i) => `after break ${i}`));
    expect(alice.client.isConnected(bobKey)).toBe(true);
  });

  it('refuses a stranger unless the user accepts, and tells the stranger', async () => {
    const carol = await openUser('carol', net.devnet.networkFile);
    try {
      await carol.client.start();
      await expect(carol.client.connect(bob.client.identity.publicKey)).rejects.toSatisfy(
        (e: unknown) => e instanceof ChannelSetupError && e.reason === 'refused',
      );
      // Alice accepts strangers who say hello.
      const requests: string[] = [];
      alice.client.on('request', (r) => {
        requests.push(r.from.text);
        void r.accept();
      });
      await carol.client.sendText(alice.client.identity.publicKey, 'hello, stranger');
      await waitFor(() => texts(alice, carol).includes('hello, stranger'), 'Alice to get Carol’s message', 60_000);
      expect(requests).toEqual([carol.client.identity.text]);
    } finally {
      await carol.stop();
    }
  });

  it('meets a public entity directly at its presence node, only when it allows it', async () => {
    const shop = await openUser('shop', net.devnet.networkFile, { publicEntity: true, presencePoints: 1, onRequest: (r) => void r.accept() });
    try {
      await shop.client.start();
      // Bob does not accept direct connections.
      await expect(alice.client.connect(bob.client.identity.publicKey, { direct: true })).rejects.toSatisfy(
        (e: unknown) => e instanceof ChannelSetupError && e.reason === 'no-direct',
      );
      await alice.client.addContact(shop.client.identity.text, 'shop');
      const ch = await alice.client.connect(shop.client.identity.publicKey, { direct: true });
      expect(ch.direct).toBe(true);
      expect(ch.circuit.length).toBe(2); // the presence node, then the end-to-end layer
      await alice.client.sendText(shop.client.identity.publicKey, 'one coffee');
      await waitFor(() => texts(shop, alice).includes('one coffee'), 'the shop to get the order', 30_000);
    } finally {
      await shop.stop();
    }
  });

  it('delivers to an offline peer through its mailbox after the sender went offline too', async () => {
    const bobKey = bob.client.identity.publicKey;
    const before = texts(bob, alice).length;
    await bob.stop(); // Bob goes offline: his presence circuits close
    let deposited = 0;
    alice.client.on('mailbox-deposited', (peer) => {
      if (peer === toHex(bobKey)) deposited++;
    });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await alice.client.sendText(bobKey, `while you were away ${i}`)).id);
    await waitFor(() => alice.client.depositedFrames(bobKey) >= 10, 'all ten left at Bob’s presence nodes', 90_000);
    expect(deposited).toBeGreaterThan(0);
    await alice.stop(); // Alice goes offline as well

    await bob.restart();
    await waitFor(() => texts(bob, alice).length === before + 10, 'all ten from the mailbox', 60_000);
    expect(texts(bob, alice).slice(before)).toEqual(Array.from({ length: 10 }, (_, i) => `while you were away ${i}`));
    expect(bob.mailboxFrames).toBeGreaterThanOrEqual(10); // they came from the mailbox: Alice is offline

    // Alice comes back: her messages turn 'delivered' once a channel tells her Bob has them.
    await alice.restart();
    await waitFor(() => ids.every((id) => alice.delivered.has(id)), 'delivery receipts after both are back', 90_000);
  });
});
