/**
 * The DHT service hands the presence service the circuit of every successful announcement
 * (node-core/io/node/dht-service.ts → PresenceService.ownerAnnounced), and only of successful
 * ones: a real DhtService on an in-memory node, with no other DHT nodes around it.
 */
import { describe, expect, it } from 'vitest';
import { buildPresenceRecord } from '../../node-core/dht';
import { silentLogger } from '../../node-core/io/log';
import { DhtService } from '../../node-core/io/node/dht-service';
import { PresenceService } from '../../node-core/io/node/presence-service';
import { forwardIntroduction, ForwardOutcome, PresenceControl } from '../../node-core/io/client/presence-control';
import { AppEvent, ErrorCode } from '../../node-core/message/envelope';
import { CircuitRpc, RemoteError } from '../../node-core/message/rpc';
import { MemNet, type MemNode } from '../onion/memnet';
import { bob, bobAnnounce, introduction, suite } from './helpers';

describe('DhtService → PresenceService', () => {
  it('binds the announcing circuit of an accepted announcement, and not of a refused one', async () => {
    const net = new MemNet(suite);
    const [a, b, P] = net.addNodes(3) as [MemNode, MemNode, MemNode];
    const dht = new DhtService({
      suite,
      identity: { secretKey: P.secretKey, publicKey: P.identity },
      puzzleBits: 0,
      maxTtlMs: 3600_000,
      address: () => ({ host: P.host, port: 443 }),
      consensus: () => undefined,
      client: P.client,
      router: P.router,
      log: silentLogger(),
    });
    const presence = new PresenceService({ router: P.router, scheduler: net.sched });
    dht.attachPresence(presence);

    const bobClient = net.addClient();
    const circuit = await net.until(bobClient.circuits.build([a.target, b.target, P.target]));
    const rpc = new CircuitRpc(circuit, net.sched);
    const offered: number[] = [];
    const control = new PresenceControl(circuit, rpc, { onIntroduction: (h) => offered.push(h) });
    const record = (expiresAt: number) =>
      buildPresenceRecord(suite, {
        ownerSecretKey: bob.secretKey,
        value: { points: [{ nodeIdentity: P.identity, address: { host: P.host, port: 443 } }], announcementKey: bobAnnounce.public, public: false, acceptsDirect: false, version: 1 },
        sequence: 1n,
        expiresAt,
      });

    // A record the DHT refuses (expired): the circuit is not Bob's.
    await expect(net.until(rpc.request(AppEvent.AnnouncePresence, record(Date.now() - 1000)))).rejects.toBeInstanceOf(RemoteError);
    const refused = await net.until(control.fetchMailbox(1)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RemoteError);
    expect((refused as RemoteError).code).toBe(ErrorCode.Refused);

    // An accepted one: the circuit is Bob's, and introductions for his key reach him over it.
    await net.until(rpc.request(AppEvent.AnnouncePresence, record(Date.now() + 600_000)));
    expect(await net.until(control.fetchMailbox(1))).toEqual([]);
    const alice = net.addClient();
    const aliceCircuit = await net.until(alice.circuits.build([b.target, a.target, P.target]));
    const aliceRpc = new CircuitRpc(aliceCircuit, net.sched);
    const pending = forwardIntroduction(aliceRpc, introduction());
    await net.idle();
    expect(offered).toHaveLength(1);
    await net.until(control.decide(offered[0]!, false));
    expect(await net.until(pending)).toBe(ForwardOutcome.Denied);

    dht.stop();
    expect(await net.until(forwardIntroduction(aliceRpc, introduction()))).toBe(ForwardOutcome.Offline);
  });
});
