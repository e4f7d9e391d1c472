/**
 * Private chat between hosts with distinct IP addresses (network namespaces): every node runs in
 * a namespace of its own, and Alice and Bob dial from addresses of their own. Bob's presence
 * nodes — which forward Alice's introduction — never see Alice's address, nor her identity; the
 * rendezvous point's circuits come from other nodes; and each client's address is seen by its
 * entry guard alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../node-core/io/devnet/devnet';
import { startTestNet, type TestNet } from '../support/devnet';
import { waitFor, waitForAsync } from '../support/raw-link';
import { openUser, removeUserDirs, texts, usersSeen, type TestUser } from './helpers';

const layout: NodeSpec[] = [
  ...[1, 2, 3].map((i) => ({ nickname: `discovery${i}`, roles: ['discovery' as const], port: 9001 })),
  ...[1, 2].map((i) => ({ nickname: `authority${i}`, roles: ['authority' as const], port: 9001 })),
  ...[1, 2, 3, 4, 5, 6, 7].map((i) => ({ nickname: `onion${i}`, roles: ['onion' as const], port: 9001 })),
];

let net: TestNet;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  net = await startTestNet({ layout, periodMs: 3000, observe: true, namespaces: true, authorityThreshold: 2 });
  const [aliceIp, bobIp] = net.hosts!.clientAddresses as [string, string];
  const onions = net.nodes.filter((n) => n.roles.includes('onion'));
  // Presence points and entry guards pinned, so the test knows which node plays which part.
  alice = await openUser('alice', net.devnet.networkFile, { localAddress: aliceIp, presenceNodes: [onions[0]!.identity, onions[1]!.identity], entryGuards: [onions[4]!.identity] });
  bob = await openUser('bob', net.devnet.networkFile, { localAddress: bobIp, presenceNodes: [onions[2]!.identity, onions[3]!.identity], entryGuards: [onions[5]!.identity, onions[6]!.identity] });
  for (const u of [alice, bob]) {
    await waitForAsync(async () => (await u.client.session.refreshDirectory().catch(() => undefined))?.nodes.length === layout.length, 'a full node list', 60_000);
  }
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

describe('private chat across hosts', () => {
  it('Bob’s presence nodes never see Alice’s address; the rendezvous point sees no client address', async () => {
    const [aliceIp, bobIp] = net.hosts!.clientAddresses as [string, string];
    await alice.client.sendText(bob.client.identity.publicKey, 'across hosts');
    await waitFor(() => texts(bob, alice).includes('across hosts'), 'Bob to get the message', 60_000);
    await bob.client.sendText(alice.client.identity.publicKey, 'and back');
    await waitFor(() => texts(alice, bob).includes('and back'), 'Alice to get the reply', 30_000);
    await new Promise((r) => setTimeout(r, 300));

    const onions = net.nodes.filter((n) => n.roles.includes('onion'));
    const dump = (nick: string) => JSON.stringify(net.observations(nick));
    // Alice's address reached her entry guard and, on her first start, the discovery node she
    // fetched the node list from — no other node …
    const discovery = net.nodes.filter((n) => n.roles.includes('discovery')).map((n) => n.nickname);
    const sawAlice = net.nodes.filter((n) => dump(n.nickname).includes(`"${aliceIp}"`)).map((n) => n.nickname);
    expect(sawAlice).toContain(onions[4]!.nickname);
    for (const n of sawAlice) expect([onions[4]!.nickname, ...discovery]).toContain(n);
    // … but never Bob's presence nodes, which forwarded her introduction.
    for (const p of [onions[2]!, onions[3]!]) {
      expect(dump(p.nickname)).not.toContain(`"${aliceIp}"`);
      expect(usersSeen(net.observations(p.nickname), [alice, bob])).toEqual(['bob']);
    }
    const forwarded = [onions[2]!, onions[3]!].filter((p) => net.observations(p.nickname).some((o) => o.type === 'app-message' && String(o.message).startsWith('0005')));
    expect(forwarded.length).toBeGreaterThanOrEqual(1); // the introduction did pass through one
    // The rendezvous point's two circuits came from nodes, not from either client.
    const rps = net.nodes.filter((n) => net.observations(n.nickname).some((o) => o.type === 'rendezvous-joined'));
    expect(rps.length).toBeGreaterThanOrEqual(1);
    for (const rp of rps) {
      const obs = net.observations(rp.nickname);
      for (const j of obs.filter((o) => o.type === 'rendezvous-joined')) {
        const created = obs.filter((o) => o.type === 'circuit-created' && (o.circuit === j.circuit || o.circuit === j.peerCircuit));
        expect(created).toHaveLength(2);
        for (const c of created) {
          expect(c.prevIdentity).not.toBeNull();
          expect([aliceIp, bobIp]).not.toContain(c.prevIp);
        }
      }
    }
    for (const n of net.nodes.filter((x) => dump(x.nickname).includes(`"${bobIp}"`))) {
      expect([onions[5]!.nickname, onions[6]!.nickname, ...discovery]).toContain(n.nickname);
    }
  });
});
