/**
 * Stream creation across hosts with distinct IP addresses (network namespaces): every node runs
 * in a namespace of its own, and the creator and a viewer dial from addresses of their own. The
 * split of knowledge that makes creation anonymous (seed 004 §8.2) holds in what the nodes saw:
 * the oracle learned who asked for a receipt but never from where; the landing node learned where
 * the stream comes from but never who. No node saw the stream key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinStream, startBroadcast } from '../../node-core/io/client/stream-client';
import { decodeInvite } from '../../node-core/stream';
import { toHex } from '../../node-core/util/bytes';
import { startTestNet, type TestNet } from '../support/devnet';
import { waitFor } from '../support/raw-link';
import { openStreamUser, streamLayout, syntheticFrame, type StreamUser } from './support';

const layout = streamLayout({ landing: 1, distribution: 1, onions: 5 }).map((s) => ({ ...s, port: 9001 }));
let net: TestNet;
let creator: StreamUser;
let viewer: StreamUser;
let creatorIp: string;
const marks = new Map<string, number>();

beforeAll(async () => {
  net = await startTestNet({ layout, periodMs: 3000, observe: true, namespaces: true, authorityThreshold: 2 });
  const [a, b] = net.hosts!.clientAddresses as [string, string];
  creatorIp = a;
  creator = await openStreamUser(net.devnet.networkFile, layout.length, a);
  viewer = await openStreamUser(net.devnet.networkFile, layout.length, b);
  // Registration and certificates (the authorities see each identity, by design) are behind us.
  for (const n of net.nodes) marks.set(n.nickname, net.observations(n.nickname).length);
}, 180_000);

afterAll(async () => {
  creator?.session.close();
  viewer?.session.close();
  await net?.stop();
});

describe('anonymous stream creation across hosts', () => {
  it('the oracle never learns the creator’s address; the landing node never learns her identity', async () => {
    const b = await startBroadcast(creator.session, creator.identity, { bitrate: 1_000_000, maxViewers: 4 });
    const v = await joinStream(viewer.session, b.invite);
    let frames = 0;
    v.onFrame(() => frames++);
    let n = 0;
    const t = setInterval(() => b.sendFrame(syntheticFrame(n++)), 33);
    try {
      await waitFor(() => frames >= 30 && b.stats().viewers === 1, 'the viewer playing, counted at the broadcaster', 30_000);
    } finally {
      clearInterval(t);
    }
    await v.leave();
    await b.stop();
    await new Promise((r) => setTimeout(r, 300));

    const seen = (nick: string) => JSON.stringify(net.observations(nick).slice(marks.get(nick) ?? 0));
    const identityHex = toHex(creator.identity.publicKey);
    const keyHex = toHex(decodeInvite(b.invite).keys.streamKey);
    const oracles = net.nodes.filter((x) => x.roles.includes('oracle'));
    const landing = net.nodes.find((x) => x.roles.includes('landing'))!;

    // The oracle that issued the receipt saw the creator's identity (in her credential) …
    const issuing = oracles.filter((o) => seen(o.nickname).includes(identityHex));
    expect(issuing.length).toBeGreaterThanOrEqual(1);
    // … but no oracle ever saw her address: the request came through a 3-hop circuit.
    for (const o of oracles) expect(seen(o.nickname)).not.toContain(`"${creatorIp}"`);

    // The landing node saw the creator's address (her anonymous link) …
    const landingObs = net.observations(landing.nickname).slice(marks.get(landing.nickname) ?? 0);
    expect(landingObs.some((o) => o.type === 'link-open' && o.ip === creatorIp && o.peerIdentity === null)).toBe(true);
    expect(landingObs.some((o) => o.type === 'stream-message' && o.ip === creatorIp && String(o.message).startsWith('01'))).toBe(true);
    // … and never her identity, in anything it received.
    expect(seen(landing.nickname)).not.toContain(identityHex);

    // No node saw the stream key of this private stream.
    for (const x of net.nodes) expect(seen(x.nickname)).not.toContain(keyHex);
  }, 120_000);
});
