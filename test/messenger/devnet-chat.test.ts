/**
 * Private chat across real node processes (seed 004 §7): Alice and Bob, each with an identity
 * registered at the authorities and a presence on two presence nodes, chat through a rendezvous
 * point. Every node records what it saw; the records show that no node saw both users'
 * identities. Also: a channel that breaks is re-established by itself; a stranger's request is
 * refused unless the user accepts; a public entity can be met directly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../node-core/io/devnet/devnet';
import { ChannelSetupError, dialPeer, type PrivateChannel } from '../../node-core/io/client/channel';
import { forwardIntroduction, forwardOutcomeName } from '../../node-core/io/client/presence-control';
import { lookupPresence } from '../../node-core/io/client/presence';
import { realScheduler } from '../../node-core/io/onion/runtime';
import { CircuitRpc } from '../../node-core/message/rpc';
import { linkSpecifiersFor, NTOR_RENDEZVOUS } from '../../node-core/onion/client';
import { ntorClientCreate } from '../../node-core/circuit';
import { sealIntroduction } from '../../node-core/rendezvous';
import { sha256 } from '@noble/hashes/sha2.js';
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
  for (const u of [alice, bob]) {
    await waitForAsync(async () => (await u.client.session.refreshDirectory().catch(() => undefined))?.nodes.length === layout.length, 'a full node list', 60_000);
  }
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

  it('carries a 64 KiB message and a 1 MiB file over the real channel, the file checked by its hash', async () => {
    const bobKey = bob.client.identity.publicKey;
    const big = 'é'.repeat(32_768); // 65,536 bytes of UTF-8
    await alice.client.sendText(bobKey, big);
    await waitFor(() => texts(bob, alice).includes(big), 'the 64 KiB message', 30_000);
    await expect(alice.client.sendText(bobKey, big + 'x')).rejects.toThrow(RangeError);

    const bytes = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 31 + 7) & 0xff);
    const completed = new Promise<string>((resolve) => bob.client.on('file-complete', (_p, fileId) => resolve(fileId)));
    const m = await alice.client.sendFile(bobKey, {
      name: 'photo.bin',
      size: bytes.length,
      sha256: sha256(bytes),
      read: async (offset, length) => bytes.subarray(offset, offset + length),
    });
    const fileId = await completed;
    expect(fileId).toBe(m.file!.fileId);
    const got = await bob.store.readFileBytes(toHex(alice.client.identity.publicKey), fileId, 'in', 0, bytes.length);
    expect(Buffer.from(got).equals(Buffer.from(bytes))).toBe(true);
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

  it('refuses an introduction flood past the owner’s cap, tells the owner, and lets a legitimate introduction through after', async () => {
    const bobKey = bob.client.identity.publicKey;
    const mallory = await openUser('mallory', net.devnet.networkFile);
    const capNotices: { refused: number }[] = [];
    bob.client.on('presence-cap', (info) => capNotices.push(info));
    try {
      await mallory.client.start();
      const s = mallory.client.session;
      const presence = await waitForAsync(async () => (await lookupPresence(s, bobKey).catch(() => null)) ?? undefined, 'Bob’s presence', 30_000);
      const target = s.listedNode(presence.points[0]!.nodeIdentity)!;
      // Bob's presence node keeps at most 16 of his introductions waiting and forwards at most 30
      // a minute (the default caps): Mallory sends ten times the larger, each one valid and freshly
      // sealed, over 1-hop circuits (an attacker does not hide), five per circuit (its burst).
      const FLOOD = 300;
      const outcomes = new Map<string, number>();
      const sendOne = async (rpc: CircuitRpc) => {
        const envelope = sealIntroduction(s.suite, {
          from: { secretKey: mallory.client.identity.secretKey, identityText: mallory.client.identity.text },
          certificate: s.certificate!.bytes,
          to: { identityKey: bobKey, announcementKey: presence.value.announcementKey },
          rendezvous: { cookie: s.suite.randomBytes(32), nodeIdentity: target.identity, nodeOnionKey: target.onionKey, linkSpecifiers: linkSpecifiersFor(target) },
          onionskin: ntorClientCreate(s.suite, { nodeId: bobKey, nodeOnionKey: presence.value.announcementKey, protocol: NTOR_RENDEZVOUS }).onionskin,
          createdAt: Date.now(),
        });
        const o = forwardOutcomeName(await forwardIntroduction(rpc, envelope, 60_000));
        outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
      };
      const circuits = await Promise.all(Array.from({ length: FLOOD / 5 }, () => s.onion.manager.build({ last: target, hops: 1 })));
      const floodStart = Date.now();
      await Promise.all(circuits.map(async (c) => {
        const rpc = new CircuitRpc(c, realScheduler);
        await Promise.all(Array.from({ length: 5 }, () => sendOne(rpc)));
        c.destroy();
      }));
      // At most 30 a minute reach Bob: the burst, plus one every 2 s while the flood lasted.
      const forwardedAtMost = 30 + Math.ceil((Date.now() - floodStart) / 2000);
      const refused = (outcomes.get('busy') ?? 0) + (outcomes.get('rate-limited') ?? 0);
      expect(outcomes.get('accepted') ?? 0).toBe(0);
      expect(outcomes.get('denied') ?? 0).toBeLessThanOrEqual(forwardedAtMost); // Bob saw only what the caps let through, and said no
      expect(refused).toBeGreaterThanOrEqual(FLOOD - forwardedAtMost);
      await waitFor(() => capNotices.length > 0, 'Bob to be told his cap was reached', 15_000);
      expect(capNotices.reduce((n, c) => n + c.refused, 0)).toBeGreaterThan(0);

      // The flood is over: Alice's introduction, through the very presence node that was flooded,
      // gets through as soon as the cap allows one more.
      const flooded = { ...presence, points: [presence.points[0]!] };
      const start = Date.now();
      let channel: PrivateChannel | null = null;
      let refusedFirst = 0;
      while (!channel && Date.now() - start < 60_000) {
        channel = await dialPeer(alice.client.session, alice.client.identity, bobKey, { presence: flooded, avoid: alice.client.session.onion.manager.guards }).catch((e: unknown) => {
          refusedFirst++;
          if (!(e instanceof ChannelSetupError) || e.reason !== 'refused') throw e;
          return null;
        });
        if (!channel) await new Promise((r) => setTimeout(r, 1000));
      }
      expect(channel?.isOpen).toBe(true);
      channel?.close();
      process.stderr.write(`flood: ${JSON.stringify(Object.fromEntries(outcomes))}; Alice refused ${refusedFirst} time(s) before getting through\n`);
    } finally {
      await mallory.stop();
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
