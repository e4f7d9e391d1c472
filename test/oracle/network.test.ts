/**
 * Oracles on the in-memory network (test/onion/memnet.ts: real circuits, a fake clock): two
 * OracleServices share receipt records over one-hop node circuits and refuse a forged record;
 * sharing catches up after a peer was down; a client gets receipts and viewer IDs over 3-hop
 * circuits (the oracle-client `…Via` functions), falling over to the next oracle; a distribution
 * node's UsageReporter and a viewer report one session, which the oracle saves as confirmed;
 * the session access never picks an entry guard for a receipt.
 */
import { describe, expect, it } from 'vitest';
import type { ClientSession } from '../../node-core/io/client/session';
import {
  OracleRequestError,
  UsageReporter,
  reportViewerUsageVia,
  requestReceiptVia,
  requestViewerIdVia,
  sessionOracleAccess,
  usagePeriodOf,
  type OracleAccess,
} from '../../node-core/io/client/oracle-client';
import type { KnownNode } from '../../node-core/io/client/network';
import { OracleService, encodeOraclePeerRecord } from '../../node-core/io/node/oracle-service';
import { MemorySubscriptionRegistry } from '../../node-core/io/storage/subscription-registry';
import { AppEvent, ErrorCode } from '../../node-core/message/envelope';
import { CircuitRpc, RemoteError } from '../../node-core/message/rpc';
import { parseReceipt, parseViewerId } from '../../node-core/stream/receipt';
import { equalBytes } from '../../node-core/util/bytes';
import { MemNet, type MemNode } from '../onion/memnet';
import { ALICE, BOB, MINUTE, NETWORK, REQUEST, T0, bytesOf, certificate, networkWith, suite } from './helpers';

const PLAN = { maxBitrate: 8_000_000, maxViewers: 1000, publicAllowed: true };

function known(n: MemNode, nickname: string): KnownNode {
  return { nickname, roles: ['oracle', 'onion'], ...n.target };
}

function world() {
  const net = new MemNet(suite);
  const relays = net.addNodes(4);
  const o1 = net.addNode({ name: 'oracle1' });
  const o2 = net.addNode({ name: 'oracle2' });
  const network = networkWith([known(o1, 'oracle1'), known(o2, 'oracle2')]);
  const make = (n: MemNode) => {
    const registry = new MemorySubscriptionRegistry();
    const service = new OracleService({
      suite,
      identity: { secretKey: n.secretKey, publicKey: n.identity },
      network,
      router: n.router,
      client: n.client,
      registry,
      options: { puzzleDifficulty: 4, usagePeriodMs: 60_000, housekeepingMs: 1000 },
    });
    return { node: n, registry, service };
  };
  const client = net.addClient();
  const access = (oracles: MemNode[]): OracleAccess => ({
    suite,
    trust: { network: NETWORK, oracleKeys: network.oracle!.oracleKeys },
    now: () => net.sched.now(),
    oracles: () => oracles.map((o) => o.target),
    async open(oracle) {
      const circuit = await client.circuits.build([relays[0]!.target, relays[1]!.target, oracle]);
      const rpc = new CircuitRpc(circuit, net.sched);
      return { request: (body) => rpc.request(AppEvent.Oracle, body, 15_000), close: () => circuit.destroy() };
    },
  });
  return { net, relays, network, O1: make(o1), O2: make(o2), access };
}

async function subscribe(registry: MemorySubscriptionRegistry, who = ALICE): Promise<void> {
  await registry.putSubscription({ identity: who.publicKey, ...PLAN, expiresAt: T0 + 24 * 60 * MINUTE }, T0);
}

describe('oracles on the in-memory network', () => {
  it('a receipt O1 issued over a 3-hop circuit is known to O2 by its id', async () => {
    const w = world();
    await subscribe(w.O1.registry);
    expect(w.net.sched.now()).toBe(T0);
    const receipt = await w.net.until(requestReceiptVia(w.access([w.O1.node]), { identity: ALICE, certificate: certificate(ALICE), params: REQUEST }));
    const claimed = parseReceipt(receipt).claimed;
    expect(equalBytes(claimed.oracle, w.O1.node.identity)).toBe(true);
    await w.net.advance(1000);
    expect(equalBytes((await w.O2.service.identityOfReceipt(claimed.receiptId))!, ALICE.publicKey)).toBe(true);
    expect((await w.O2.registry.getReceipt(claimed.receiptId))!.source).toBe('shared');
    expect(equalBytes((await w.O2.registry.getReceipt(claimed.receiptId))!.oracle, w.O1.node.identity)).toBe(true);
  });

  it('a peer record forged by a node that is not an oracle is refused and stores nothing', async () => {
    const w = world();
    const forger = w.relays[2]!;
    const entry = { receiptId: bytesOf(16, 0x77), identity: BOB.publicKey, issuedAt: T0, expiresAt: T0 + MINUTE };
    const forged = encodeOraclePeerRecord(suite, { network: NETWORK, sentAt: T0, receipts: [entry] }, forger.secretKey);
    const circuit = await w.net.until(forger.client.build([w.O2.node.target]));
    const answer = new CircuitRpc(circuit, w.net.sched).request(AppEvent.OraclePeer, forged, 10_000);
    const err = await w.net.until(answer).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).code).toBe(ErrorCode.Refused);
    expect(await w.O2.service.identityOfReceipt(entry.receiptId)).toBeUndefined();
  });

  it('sharing catches up once a peer that was down is back', async () => {
    const w = world();
    await subscribe(w.O1.registry);
    w.O2.node.kill();
    const receipt = await w.net.until(requestReceiptVia(w.access([w.O1.node]), { identity: ALICE, certificate: certificate(ALICE), params: REQUEST }));
    const id = parseReceipt(receipt).claimed.receiptId;
    await w.net.advance(1500);
    expect(await w.O2.service.identityOfReceipt(id)).toBeUndefined();
    w.O2.node.down = false;
    await w.net.advance(30_000);
    expect(equalBytes((await w.O2.service.identityOfReceipt(id))!, ALICE.publicKey)).toBe(true);
  });

  it('a creator falls over to the next oracle, and learns why each one refused', async () => {
    const w = world();
    await subscribe(w.O2.registry); // only O2 knows Alice
    const receipt = await w.net.until(requestReceiptVia(w.access([w.O1.node, w.O2.node]), { identity: ALICE, certificate: certificate(ALICE), params: REQUEST }));
    expect(equalBytes(parseReceipt(receipt).claimed.oracle, w.O2.node.identity)).toBe(true);
    const err = await w.net
      .until(requestReceiptVia(w.access([w.O1.node, w.O2.node]), { identity: BOB, certificate: certificate(BOB), params: REQUEST }))
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(OracleRequestError);
    expect((err as OracleRequestError).attempts.map((a) => a.refused)).toEqual(['not-subscribed', 'not-subscribed']);
  });

  it('a viewer gets an ID for a solved puzzle over a 3-hop circuit', async () => {
    const w = world();
    const id = await w.net.until(requestViewerIdVia(w.access([w.O1.node])));
    const claimed = parseViewerId(id).claimed;
    expect(equalBytes(claimed.oracle, w.O1.node.identity)).toBe(true);
    expect(claimed.expiresAt - claimed.issuedAt).toBe(60 * MINUTE);
  });

  it('a distribution node and a viewer report one session; the oracle saves it as confirmed', async () => {
    const w = world();
    const dist = w.relays[3]!;
    w.O1.service.start();
    const reporter = new UsageReporter({ client: dist.client, oracles: () => [w.O1.node.target], periodMs: 60_000 });
    const session = parseViewerId(await w.net.until(requestViewerIdVia(w.access([w.O1.node])))).claimed.sessionId;
    const period = usagePeriodOf(w.net.sched.now(), 60_000);
    reporter.add(session, 'distribution', 3_000_000, 2000);
    reporter.add(session, 'distribution', 1_000_000, 0);
    await w.net.advance(period.periodEnd - w.net.sched.now() + 1);
    expect(reporter.stats).toEqual({ sent: 1, dropped: 0 });
    await w.net.until(reportViewerUsageVia(w.access([w.O1.node]), { sessionId: session, ...period, downBytes: 3_900_000, upBytes: 2000 }));
    await w.net.advance(3 * 60_000);
    const saved = await w.O1.registry.usageOf(session);
    expect(saved).toHaveLength(1);
    expect(saved[0]!.status).toBe('confirmed');
    expect(saved[0]!.accepted).toEqual({ downBytes: 4_000_000, upBytes: 2000 });
    expect(equalBytes(saved[0]!.distribution[0]!.node, dist.identity)).toBe(true);
    expect(await w.O1.registry.reporterStats(dist.identity)).toEqual({ periods: 1, disputed: 0 });
    // A replay of the viewer's report is refused by the oracle and reported as such.
    const replay = await w.net.until(reportViewerUsageVia(w.access([w.O1.node]), { sessionId: session, ...period, downBytes: 1, upBytes: 1 })).then(
      () => null,
      (e: unknown) => e,
    );
    expect((replay as OracleRequestError).attempts[0]!.refused).toBe('protocol'); // the slot has closed: late
    reporter.stop();
    await w.O1.service.stop();
  });
});

describe('sessionOracleAccess', () => {
  const net = new MemNet(suite);
  const [o1, o2] = [net.addNode(), net.addNode()];
  const network = networkWith([known(o1!, 'oracle1'), known(o2!, 'oracle2')]);
  const fakeSession = (guards: Uint8Array[]) =>
    ({ suite, network, onion: { manager: { guards } }, listedNode: () => undefined }) as unknown as ClientSession;

  it('never offers an entry guard for a receipt, and offers guards last otherwise', () => {
    const access = sessionOracleAccess(fakeSession([o1!.identity]));
    expect(access.oracles(true).map((t) => t.identity)).toEqual([o2!.identity]);
    expect(access.oracles(false).map((t) => t.identity)).toEqual([o2!.identity, o1!.identity]);
    expect(access.trust).toEqual({ network: NETWORK, oracleKeys: [o1!.identity, o2!.identity] });
  });

  it('refuses to ask for a receipt when every oracle is a guard', async () => {
    const access = sessionOracleAccess(fakeSession([o1!.identity, o2!.identity]));
    await expect(requestReceiptVia(access, { identity: ALICE, certificate: certificate(ALICE), params: REQUEST })).rejects.toThrow(/entry guards/);
  });

  it('needs a network with oracles', () => {
    const { oracle: _o, ...none } = network;
    expect(() => sessionOracleAccess({ ...fakeSession([]), network: none } as unknown as ClientSession)).toThrow(/no oracle/);
  });
});
