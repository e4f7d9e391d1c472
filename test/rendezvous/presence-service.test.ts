/**
 * PresenceService end to end over the in-memory network (test/onion/memnet.ts): Bob announces
 * over a 3-hop circuit ending at his presence node P and keeps it as his control channel
 * (PresenceControl); Alice reaches P over her own 3-hop circuit and sends sealed introductions
 * (forwardIntroduction) that P forwards to Bob, who accepts, denies or ignores them; Alice
 * cancels or closes her circuit; Bob goes offline, Alice leaves mail, Bob comes back and fetches
 * it. Neither client ever has a link to P.
 *
 * P's AnnouncePresence handler here does what dht-service.ts does for a published record (verify
 * the owner's record, co-sign, then `ownerAnnounced`), without a DHT around it.
 */
import { describe, expect, it } from 'vitest';
import { buildPresenceRecord, cosignRecord, parseOwnerRecord, presenceKeyRule, verifyOwnerRecord } from '../../node-core/dht';
import { PresenceService, type PresenceRouter } from '../../node-core/io/node/presence-service';
import {
  cancelIntroductions,
  depositMailbox,
  forwardIntroduction,
  ForwardOutcome,
  forwardOutcomeName,
  PresenceControl,
  type PresenceControlHandlers,
} from '../../node-core/io/client/presence-control';
import { AppEvent, ErrorCode } from '../../node-core/message/envelope';
import { CircuitRpc, RemoteError } from '../../node-core/message/rpc';
import type { ClientCircuit } from '../../node-core/onion/client';
import { introductionId, openIntroduction, openMailboxItem } from '../../node-core/rendezvous';
import { concatBytes, toHex, utf8 } from '../../node-core/util/bytes';
import { MemNet, type MemClient, type MemNode } from '../onion/memnet';
import { alice, bob, bobAnnounce, bobRecipient, carol, fakeEnvelope, introduction, mailboxItem, suite } from './helpers';

interface World {
  net: MemNet;
  P: MemNode;
  service: PresenceService;
  entry: MemNode[];
  bobClient: MemClient;
  aliceClient: MemClient;
  /** Envelopes P's router was handed by introducers, as P saw them. */
  seenAtP: Uint8Array[];
}

function world(opts: { forwarder?: ConstructorParameters<typeof PresenceService>[0]['forwarder'] } = {}): World {
  const net = new MemNet(suite);
  const nodes = net.addNodes(6);
  const P = nodes[5]!;
  // Record what reaches the service's ForwardPresence handler, i.e. all P learns of an introduction.
  const seenAtP: Uint8Array[] = [];
  const recording: PresenceRouter = {
    handle: (event, handler) =>
      P.router.handle(event, (body, ctx) => {
        if (event === AppEvent.ForwardPresence) seenAtP.push(body.slice());
        return handler(body, ctx);
      }),
    onNotice: (event, handler) => P.router.onNotice(event, handler),
    onClosed: (handler) => P.router.onClosed(handler),
  };
  const service = new PresenceService({ router: recording, scheduler: net.sched, ...(opts.forwarder ? { forwarder: opts.forwarder } : {}) });
  P.router.handle(AppEvent.AnnouncePresence, (body, { endpoint }) => {
    const now = net.sched.now();
    const owned = verifyOwnerRecord(suite, parseOwnerRecord(body), now, { maxTtlMs: 3600_000, maxValueBytes: 1024, keyRule: presenceKeyRule(suite) });
    const record = cosignRecord(suite, owned, now, P.secretKey);
    service.ownerAnnounced(endpoint, record);
    return record;
  });
  return { net, P, service, entry: nodes.slice(0, 5), bobClient: net.addClient({ ip: '192.0.2.2' }), aliceClient: net.addClient({ ip: '192.0.2.1' }), seenAtP };
}

async function circuitToP(w: World, client: MemClient, hops: [number, number]): Promise<{ circuit: ClientCircuit; rpc: CircuitRpc }> {
  const circuit = await w.net.until(client.circuits.build([w.entry[hops[0]]!.target, w.entry[hops[1]]!.target, w.P.target]));
  return { circuit, rpc: new CircuitRpc(circuit, w.net.sched) };
}

/** Bob announces on a fresh circuit to P and takes it as his control channel. */
async function bobOnline(w: World, handlers: PresenceControlHandlers): Promise<PresenceControl> {
  const { circuit, rpc } = await circuitToP(w, w.bobClient, [0, 1]);
  const control = new PresenceControl(circuit, rpc, handlers);
  const record = buildPresenceRecord(suite, {
    ownerSecretKey: bob.secretKey,
    value: {
      points: [{ nodeIdentity: w.P.identity, address: { host: w.P.host, port: 443 } }],
      announcementKey: bobAnnounce.public,
      public: false,
      acceptsDirect: false,
      version: 1,
    },
    sequence: BigInt(w.net.sched.now()),
    expiresAt: w.net.sched.now() + 600_000,
  });
  await w.net.until(rpc.request(AppEvent.AnnouncePresence, record));
  return control;
}

/** Bob's usual handler: open the introduction, check it is Alice's, answer `accept`. */
function bobDecides(w: World, accept: boolean, seen: { from: string; greeting: string | undefined }[], control: () => PresenceControl): PresenceControlHandlers {
  return {
    onIntroduction: (handle, envelope) => {
      const opened = openIntroduction(suite, envelope, bobRecipient, w.net.sched.now());
      seen.push({ from: opened.from.text, greeting: opened.greeting });
      void control().decide(handle, accept);
    },
  };
}

async function remoteCode(p: Promise<unknown>, w: World): Promise<number> {
  try {
    await w.net.until(p);
  } catch (e) {
    if (e instanceof RemoteError) return e.code;
    throw e;
  }
  throw new Error('expected a RemoteError');
}

describe('PresenceService over the in-memory network', () => {
  it('forwards an introduction to Bob, who accepts; then one he denies', async () => {
    const w = world();
    const seen: { from: string; greeting: string | undefined }[] = [];
    let accept = true;
    let control!: PresenceControl;
    control = await bobOnline(w, {
      onIntroduction: (handle, envelope) => {
        const opened = openIntroduction(suite, envelope, bobRecipient, w.net.sched.now());
        seen.push({ from: opened.from.text, greeting: opened.greeting });
        void control.decide(handle, accept);
      },
    });
    const { rpc } = await circuitToP(w, w.aliceClient, [2, 3]);
    const env = introduction({ greeting: 'hello Bob' });
    expect(await w.net.until(forwardIntroduction(rpc, env))).toBe(ForwardOutcome.Accepted);
    expect(seen).toEqual([{ from: alice.identityText, greeting: 'hello Bob' }]);

    accept = false;
    const second = await w.net.until(forwardIntroduction(rpc, introduction()));
    expect(second).toBe(ForwardOutcome.Denied);
    expect(forwardOutcomeName(second)).toBe('denied');
    expect(seen).toHaveLength(2);

    // What P handled is exactly the sealed envelopes: no identity of Alice's, no greeting.
    expect(w.seenAtP.map(toHex)[0]).toBe(toHex(env));
    for (const b of w.seenAtP) {
      const hex = toHex(b);
      for (const secret of [alice.publicKey, utf8(alice.identityText), utf8('hello Bob')]) expect(hex.includes(toHex(secret))).toBe(false);
    }
    // Neither client ever had a link to P: both circuits had two hops before it.
    expect(w.P.clientEnds).toHaveLength(0);
    expect(w.service.forwarder.stats.pending).toBe(0);
  });

  it('cancel: Alice withdraws, P answers cancelled and tells Bob; her circuit closing does the same', async () => {
    const w = world();
    const offered: number[] = [];
    const cancelled: number[] = [];
    await bobOnline(w, { onIntroduction: (h) => offered.push(h), onCancelled: (h) => cancelled.push(h) });
    const { rpc } = await circuitToP(w, w.aliceClient, [2, 3]);
    const pending = forwardIntroduction(rpc, introduction());
    await w.net.idle();
    expect(offered).toHaveLength(1);
    cancelIntroductions(rpc);
    expect(await w.net.until(pending)).toBe(ForwardOutcome.Cancelled);
    await w.net.idle();
    expect(cancelled).toEqual([offered[0]]);

    const second = await circuitToP(w, w.aliceClient, [3, 4]);
    const lost = forwardIntroduction(second.rpc, introduction()).catch((e: Error) => e);
    await w.net.idle();
    expect(offered).toHaveLength(2);
    second.circuit.destroy();
    await w.net.idle();
    expect(cancelled).toEqual([offered[0], offered[1]]);
    expect(await w.net.until(lost)).toBeInstanceOf(Error);
    expect(w.service.forwarder.stats.pending).toBe(0);
  });

  it('offline: with Bob gone, introductions are answered offline and mail waits for him', async () => {
    const w = world();
    const seen: { from: string; greeting: string | undefined }[] = [];
    let control!: PresenceControl;
    control = await bobOnline(w, bobDecides(w, true, seen, () => control));
    control.circuit.destroy();
    await w.net.idle();

    const { rpc } = await circuitToP(w, w.aliceClient, [2, 3]);
    expect(await w.net.until(forwardIntroduction(rpc, introduction()))).toBe(ForwardOutcome.Offline);
    expect(seen).toHaveLength(0);

    // Alice leaves two items; a deposit for someone P never served is NotFound.
    const payloads = [utf8('are you there?'), utf8('call me back')];
    for (const payload of payloads) await w.net.until(depositMailbox(rpc, bob.publicKey, mailboxItem({ payload, createdAt: w.net.sched.now() })));
    expect(await remoteCode(depositMailbox(rpc, carol.publicKey, mailboxItem({ to: carol })), w)).toBe(ErrorCode.NotFound);
    // The client refuses to send a malformed item; sent by hand, the node answers Malformed.
    const broken = fakeEnvelope(bobAnnounce.public, 40).fill(0, 65, 67);
    await expect(depositMailbox(rpc, bob.publicKey, broken)).rejects.toThrow(RangeError);
    expect(await remoteCode(rpc.request(AppEvent.Mailbox, concatBytes(Uint8Array.of(1), bob.publicKey, broken)), w)).toBe(ErrorCode.Malformed);

    // Bob comes back on a new circuit: P tells him mail waits; he fetches, reads, acks.
    const waiting: number[] = [];
    const back = await bobOnline(w, { onMailboxWaiting: (n) => waiting.push(n) });
    await w.net.idle();
    expect(waiting).toEqual([2]);
    const items = await w.net.until(back.fetchMailbox(10));
    expect(items).toHaveLength(2);
    const read = items.map((e) => openMailboxItem(suite, e.bytes, bobRecipient, w.net.sched.now()));
    expect(read.map((r) => r.from.text)).toEqual([alice.identityText, alice.identityText]);
    expect(read.map((r) => new TextDecoder().decode(r.payload))).toEqual(['are you there?', 'call me back']);
    await w.net.until(back.ackMailbox(items.map((e) => e.id)));
    expect(await w.net.until(back.fetchMailbox(10))).toEqual([]);

    // While he is online, a new deposit is announced at once.
    await w.net.until(depositMailbox(rpc, bob.publicKey, mailboxItem({ payload: utf8('one more'), createdAt: w.net.sched.now() })));
    await w.net.idle();
    expect(waiting).toEqual([2, 1]);
  });

  it('times out an introduction Bob never decides, and tells him', async () => {
    const w = world();
    const offered: number[] = [];
    const cancelled: number[] = [];
    await bobOnline(w, { onIntroduction: (h) => offered.push(h), onCancelled: (h) => cancelled.push(h) });
    const { rpc } = await circuitToP(w, w.aliceClient, [2, 3]);
    const start = w.net.sched.now();
    expect(await w.net.until(forwardIntroduction(rpc, introduction()))).toBe(ForwardOutcome.Timeout);
    expect(w.net.sched.now() - start).toBeGreaterThanOrEqual(120_000);
    await w.net.idle();
    expect(cancelled).toEqual(offered);
  });

  it("applies Bob's caps and tells him when they are reached", async () => {
    const w = world();
    const caps: { pending: number; cap: number; refused: number }[] = [];
    const offered: number[] = [];
    const control = await bobOnline(w, { onIntroduction: (h) => offered.push(h), onCapReached: (c) => caps.push(c) });
    await w.net.until(control.settings({ maxPending: 1, perMinute: 10 }));
    const a = await circuitToP(w, w.aliceClient, [2, 3]);
    const b = await circuitToP(w, w.aliceClient, [3, 4]);
    const first = forwardIntroduction(a.rpc, introduction());
    expect(await w.net.until(forwardIntroduction(b.rpc, introduction()))).toBe(ForwardOutcome.Busy);
    await w.net.idle();
    expect(caps).toEqual([{ pending: 1, cap: 1, refused: 1 }]);
    await w.net.until(control.decide(offered[0]!, true));
    expect(await w.net.until(first)).toBe(ForwardOutcome.Accepted);
    // A decision on a handle that is no longer pending is NotFound.
    expect(await remoteCode(control.decide(offered[0]!, true), w)).toBe(ErrorCode.NotFound);
  });

  it('refuses control requests from a circuit that did not announce, and malformed envelopes', async () => {
    const w = world();
    await bobOnline(w, {});
    const { circuit, rpc } = await circuitToP(w, w.aliceClient, [2, 3]);
    const intruder = new PresenceControl(circuit, rpc);
    expect(await remoteCode(intruder.fetchMailbox(10), w)).toBe(ErrorCode.Refused);
    expect(await remoteCode(intruder.decide(1, true), w)).toBe(ErrorCode.Refused);
    expect(await remoteCode(forwardIntroduction(rpc, fakeEnvelope(bobAnnounce.public, 3)), w)).toBe(ErrorCode.Malformed);
    expect(await remoteCode(rpc.request(AppEvent.PresenceControl, Uint8Array.of(0x09)), w)).toBe(ErrorCode.Refused);
  });

  it('answers replayed for the same introduction sent again through another circuit', async () => {
    const w = world();
    const seen: { from: string; greeting: string | undefined }[] = [];
    let control!: PresenceControl;
    control = await bobOnline(w, bobDecides(w, false, seen, () => control));
    const env = introduction();
    const a = await circuitToP(w, w.aliceClient, [2, 3]);
    expect(await w.net.until(forwardIntroduction(a.rpc, env))).toBe(ForwardOutcome.Denied);
    const b = await circuitToP(w, w.aliceClient, [3, 4]);
    expect(await w.net.until(forwardIntroduction(b.rpc, env))).toBe(ForwardOutcome.Replayed);
    expect(seen).toHaveLength(1);
    expect(toHex(introductionId(env))).toHaveLength(64);
  });

  it('stop answers what is pending and cancels its timers', async () => {
    const w = world();
    await bobOnline(w, {});
    const { rpc } = await circuitToP(w, w.aliceClient, [2, 3]);
    const pending = forwardIntroduction(rpc, introduction());
    await w.net.idle();
    w.service.stop();
    expect(await w.net.until(pending)).toBe(ForwardOutcome.Offline);
  });
});
