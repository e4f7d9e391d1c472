/**
 * OracleService against a real MessageRouter, with fake circuit ends (the router's view of a
 * circuit: its key and the previous hop) and a fake clock: receipts for subscribers only, over
 * circuits of two or more hops, once per credential; viewer IDs for solved puzzles, once per
 * challenge; rate limits; usage reports normalised and saved; the peer record codec.
 */
import { describe, expect, it } from 'vitest';
import { OracleService, encodeOraclePeerRecord, parseOraclePeerRecord, verifyOraclePeerRecord, type OracleOptions } from '../../node-core/io/node/oracle-service';
import { MemorySubscriptionRegistry, type SubscriptionRegistry } from '../../node-core/io/storage/subscription-registry';
import { AppEvent, ErrorCode, MessageKind } from '../../node-core/message/envelope';
import { MessageRouter } from '../../node-core/message/router';
import type { CircuitClient } from '../../node-core/onion/client';
import { encodeStreamMessage, type StreamMessage } from '../../node-core/stream/messages';
import { leadingZeroBits, makePuzzleChallenge, parsePuzzleChallenge, solvePuzzle } from '../../node-core/stream/puzzle';
import { parseReceipt, parseViewerId, verifyReceipt, verifyViewerId } from '../../node-core/stream/receipt';
import { concatBytes, equalBytes, toHex } from '../../node-core/util/bytes';
import { FakeScheduler } from '../onion/memnet';
import {
  ALICE,
  BOB,
  MALLORY,
  MINUTE,
  NETWORK,
  NETWORK_CONFIG,
  ORACLE_1,
  ORACLE_2,
  REQUEST,
  T0,
  FakeEndpoint,
  ask,
  bytesOf,
  credential,
  errorAnswer,
  expectStreamError,
  keyPair,
  refusal,
  streamAnswer,
  suite,
} from './helpers';

const RELAY = keyPair('middle-relay').publicKey;
const DIST_NODE = keyPair('distribution-node').publicKey;
const TRUST = { network: NETWORK, oracleKeys: NETWORK_CONFIG.oracle!.oracleKeys };
const PLAN = { maxBitrate: 4_000_000, maxViewers: 100, publicAllowed: false };

/** A registry that counts receipt records written. */
class CountingRegistry extends MemorySubscriptionRegistry {
  receiptsWritten = 0;
  override async recordReceipt(...args: Parameters<SubscriptionRegistry['recordReceipt']>) {
    const r = await super.recordReceipt(...args);
    if (r === 'recorded') this.receiptsWritten++;
    return r;
  }
}

function world(options: OracleOptions = {}) {
  const sched = new FakeScheduler(T0);
  const router = new MessageRouter();
  const registry = new CountingRegistry();
  const client = { scheduler: sched } as unknown as CircuitClient; // no peers: nothing is shared here
  const service = new OracleService({
    suite,
    identity: ORACLE_1,
    network: NETWORK_CONFIG,
    router,
    client,
    registry,
    scheduler: sched,
    peers: () => [],
    options: { puzzleDifficulty: 6, ...options },
  });
  return { sched, router, registry, service };
}

function receiptRequest(cred: Uint8Array, params: { bitrate: number; maxViewers: number; public: boolean } = REQUEST): Uint8Array {
  return encodeStreamMessage({ type: 'receipt-request', params: { bitrate: params.bitrate, maxViewers: params.maxViewers }, public: params.public, credential: cred });
}

async function subscribe(registry: SubscriptionRegistry, who = ALICE, over: Partial<typeof PLAN & { expiresAt: number }> = {}) {
  await registry.putSubscription({ identity: who.publicKey, expiresAt: T0 + 30 * 24 * 60 * MINUTE, ...PLAN, ...over }, T0);
}

/** The answer must be a receipt; returns it. */
function receiptOf(m: Awaited<ReturnType<typeof ask>>): Uint8Array {
  const s = streamAnswer(m);
  if (s.type !== 'receipt') throw new Error(`expected a receipt, got ${s.type}${s.type === 'refused' ? ` (${s.reason})` : ''}`);
  return s.receipt;
}

describe('OracleService: receipts', () => {
  it('gives a subscriber a receipt that names no identity, and keeps receiptId ↔ identity', async () => {
    const w = world();
    await subscribe(w.registry);
    const m = await ask(w.router, new FakeEndpoint(RELAY), receiptRequest(credential(ALICE, ORACLE_1.publicKey)));
    const bytes = receiptOf(m);
    const r = verifyReceipt(suite, parseReceipt(bytes), T0, TRUST);
    expect(equalBytes(r.oracle, ORACLE_1.publicKey)).toBe(true);
    expect(r.allowed).toEqual({ maxBitrate: REQUEST.bitrate, maxViewers: REQUEST.maxViewers, publicAllowed: false });
    expect(r.expiresAt - r.issuedAt).toBe(10 * MINUTE);
    // Nothing of Alice's key is in the receipt.
    expect(toHex(bytes).includes(toHex(ALICE.publicKey))).toBe(false);
    expect(equalBytes((await w.service.identityOfReceipt(r.receiptId))!, ALICE.publicKey)).toBe(true);
    expect((await w.registry.getReceipt(r.receiptId))!.source).toBe('own');
  });

  it('refuses a request over a one-hop circuit: the oracle would see the creator’s address', async () => {
    const w = world();
    await subscribe(w.registry);
    const e = errorAnswer(await ask(w.router, new FakeEndpoint(null), receiptRequest(credential(ALICE, ORACLE_1.publicKey))));
    expect(e.code).toBe(ErrorCode.Refused);
    expect(e.message).toMatch(/two hops/);
    expect(w.registry.receiptsWritten).toBe(0);
  });

  it('refuses identities without a subscription, or whose subscription expired', async () => {
    const w = world();
    expect(refusal(await ask(w.router, new FakeEndpoint(RELAY), receiptRequest(credential(ALICE, ORACLE_1.publicKey))))).toBe('not-subscribed');
    await subscribe(w.registry, BOB, { expiresAt: T0 });
    expect(refusal(await ask(w.router, new FakeEndpoint(RELAY), receiptRequest(credential(BOB, ORACLE_1.publicKey))))).toBe('not-subscribed');
    await subscribe(w.registry, BOB, { expiresAt: T0 + 1 });
    receiptOf(await ask(w.router, new FakeEndpoint(RELAY), receiptRequest(credential(BOB, ORACLE_1.publicKey))));
    expect(w.registry.receiptsWritten).toBe(1);
  });

  it('refuses what the plan does not allow', async () => {
    const w = world();
    await subscribe(w.registry);
    const tooFast = { ...REQUEST, bitrate: PLAN.maxBitrate + 1 };
    expect(refusal(await ask(w.router, new FakeEndpoint(RELAY), receiptRequest(credential(ALICE, ORACLE_1.publicKey, { request: tooFast }), tooFast)))).toBe('receipt-limits');
    const pub = { ...REQUEST, public: true };
    expect(refusal(await ask(w.router, new FakeEndpoint(RELAY), receiptRequest(credential(ALICE, ORACLE_1.publicKey, { request: pub }), pub)))).toBe('receipt-limits');
    const crowd = { ...REQUEST, maxViewers: PLAN.maxViewers + 1 };
    expect(refusal(await ask(w.router, new FakeEndpoint(RELAY), receiptRequest(credential(ALICE, ORACLE_1.publicKey, { request: crowd }), crowd)))).toBe('receipt-limits');
    const atLimit = { bitrate: PLAN.maxBitrate, maxViewers: PLAN.maxViewers, public: false };
    receiptOf(await ask(w.router, new FakeEndpoint(RELAY), receiptRequest(credential(ALICE, ORACLE_1.publicKey, { request: atLimit }), atLimit)));
    expect(w.registry.receiptsWritten).toBe(1);
  });

  it('refuses credentials that do not verify, are for another oracle, or sign other parameters', async () => {
    const w = world();
    await subscribe(w.registry);
    const good = credential(ALICE, ORACLE_1.publicKey);
    const badSig = good.slice();
    badSig[badSig.length - 1]! ^= 1;
    expect(refusal(await ask(w.router, new FakeEndpoint(RELAY), receiptRequest(badSig)))).toBe('protocol');
    expect(refusal(await ask(w.router, new FakeEndpoint(RELAY), receiptRequest(credential(ALICE, ORACLE_2.publicKey))))).toBe('protocol');
    expect(refusal(await ask(w.router, new FakeEndpoint(RELAY), receiptRequest(good, { ...REQUEST, maxViewers: 3 })))).toBe('protocol');
    const stale = credential(ALICE, ORACLE_1.publicKey, { createdAt: T0 - 10 * MINUTE });
    expect(refusal(await ask(w.router, new FakeEndpoint(RELAY), receiptRequest(stale)))).toBe('protocol');
    expect(refusal(await ask(w.router, new FakeEndpoint(RELAY), receiptRequest(new Uint8Array(0))))).toBe('protocol');
    expect(w.registry.receiptsWritten).toBe(0);
    // The good one still works: none of the refusals spent it.
    receiptOf(await ask(w.router, new FakeEndpoint(RELAY), receiptRequest(good)));
  });

  it('gives one receipt per credential: a replay is refused, even on another circuit', async () => {
    const w = world();
    await subscribe(w.registry);
    const cred = credential(ALICE, ORACLE_1.publicKey);
    receiptOf(await ask(w.router, new FakeEndpoint(RELAY), receiptRequest(cred)));
    expect(refusal(await ask(w.router, new FakeEndpoint(RELAY), receiptRequest(cred)))).toBe('duplicate');
    expect(refusal(await ask(w.router, new FakeEndpoint(keyPair('other-relay').publicKey), receiptRequest(cred)))).toBe('duplicate');
    // Two copies at once: exactly one wins.
    const twin = credential(ALICE, ORACLE_1.publicKey);
    const answers = await Promise.all([ask(w.router, new FakeEndpoint(RELAY), receiptRequest(twin)), ask(w.router, new FakeEndpoint(RELAY), receiptRequest(twin))]);
    const kinds = answers.map((a) => streamAnswer(a).type).sort();
    expect(kinds).toEqual(['receipt', 'refused']);
    expect(w.registry.receiptsWritten).toBe(2);
  });

  it('with a default plan, serves certified identities without a row, but not expired rows', async () => {
    const w = world({ defaultPlan: { maxBitrate: 1_000_000, maxViewers: 10, publicAllowed: true } });
    const small = { bitrate: 1_000_000, maxViewers: 10, public: true };
    receiptOf(await ask(w.router, new FakeEndpoint(RELAY), receiptRequest(credential(MALLORY, ORACLE_1.publicKey, { request: small }), small)));
    expect(refusal(await ask(w.router, new FakeEndpoint(RELAY), receiptRequest(credential(MALLORY, ORACLE_1.publicKey)))))
      .toBe('receipt-limits');
    await subscribe(w.registry, BOB, { expiresAt: T0 - 1 });
    expect(refusal(await ask(w.router, new FakeEndpoint(RELAY), receiptRequest(credential(BOB, ORACLE_1.publicKey, { request: small }), small)))).toBe('not-subscribed');
  });

  it('answers bodies it cannot take with Malformed, and Unavailable once stopped', async () => {
    const w = world();
    const e1 = errorAnswer(await ask(w.router, new FakeEndpoint(RELAY), Uint8Array.of(0x99)));
    expect(e1.code).toBe(ErrorCode.Malformed);
    const joined = encodeStreamMessage({ type: 'joined', streamId: bytesOf(16, 1) });
    const e2 = errorAnswer(await ask(w.router, new FakeEndpoint(RELAY), joined));
    expect(e2.code).toBe(ErrorCode.Malformed);
    expect(e2.message).toMatch(/not accepted/);
    await w.service.stop();
    const e3 = errorAnswer(await ask(w.router, new FakeEndpoint(RELAY), encodeStreamMessage({ type: 'challenge-request' })));
    expect(e3.code).toBe(ErrorCode.Unavailable);
  });
});

describe('OracleService: viewer identification IDs', () => {
  async function challengeOf(w: ReturnType<typeof world>, ep = new FakeEndpoint(null)): Promise<Uint8Array> {
    const s = streamAnswer(await ask(w.router, ep, encodeStreamMessage({ type: 'challenge-request' })));
    if (s.type !== 'challenge') throw new Error(`expected a challenge, got ${s.type}`);
    return s.challenge;
  }

  function solutionMessage(challenge: Uint8Array, nonce?: bigint): Uint8Array {
    return encodeStreamMessage({ type: 'solution', challenge, nonce: nonce ?? solvePuzzle(suite, challenge)! });
  }

  it('issues a viewer ID for a solved puzzle; the ID names only a random session', async () => {
    const w = world();
    const c = await challengeOf(w);
    expect(parsePuzzleChallenge(c).difficulty).toBe(6);
    const s = streamAnswer(await ask(w.router, new FakeEndpoint(null), solutionMessage(c)));
    if (s.type !== 'viewer-id') throw new Error(`expected a viewer-id, got ${s.type}`);
    const v = verifyViewerId(suite, parseViewerId(s.viewerId), T0, TRUST);
    expect(equalBytes(v.oracle, ORACLE_1.publicKey)).toBe(true);
    expect(v.expiresAt - v.issuedAt).toBe(60 * MINUTE);
  });

  it('takes each challenge once', async () => {
    const w = world();
    const c = await challengeOf(w);
    const first = solvePuzzle(suite, c)!;
    streamAnswer(await ask(w.router, new FakeEndpoint(null), solutionMessage(c, first)));
    expect(refusal(await ask(w.router, new FakeEndpoint(null), solutionMessage(c, first)))).toBe('bad-solution');
    const second = solvePuzzle(suite, c, { startNonce: first + 1n })!;
    expect(refusal(await ask(w.router, new FakeEndpoint(null), solutionMessage(c, second)))).toBe('bad-solution');
  });

  it('refuses a wrong solution, a challenge it did not make, and an expired one', async () => {
    const w = world();
    const c = await challengeOf(w);
    let wrong = 0n;
    while (leadingZeroBits(suite.sha256(concatBytes(c, new Uint8Array(new BigUint64Array([wrong]).buffer).reverse()))) >= 6) wrong++;
    expect(refusal(await ask(w.router, new FakeEndpoint(null), solutionMessage(c, wrong)))).toBe('bad-solution');
    // A wrong answer does not spend the challenge.
    expect(streamAnswer(await ask(w.router, new FakeEndpoint(null), solutionMessage(c))).type).toBe('viewer-id');
    const forged = makePuzzleChallenge(suite, bytesOf(32, 0x66), { difficulty: 6, now: T0 });
    expect(refusal(await ask(w.router, new FakeEndpoint(null), solutionMessage(forged)))).toBe('bad-solution');
    const late = await challengeOf(w);
    w.sched.advance(2 * MINUTE);
    expect(refusal(await ask(w.router, new FakeEndpoint(null), solutionMessage(late)))).toBe('bad-solution');
  });

  it('still checks challenges of the previous secret after a rotation', async () => {
    const w = world({ puzzleSecretRotationMs: 3 * MINUTE, puzzleTtlMs: 3 * MINUTE });
    w.sched.advance(MINUTE);
    const before = await challengeOf(w); // made with the first secret, valid until T0 + 4 min
    w.sched.advance(2 * MINUTE);
    const after = await challengeOf(w, new FakeEndpoint(null)); // T0 + 3 min: the secret rotates
    expect(streamAnswer(await ask(w.router, new FakeEndpoint(null), solutionMessage(before))).type).toBe('viewer-id');
    expect(streamAnswer(await ask(w.router, new FakeEndpoint(null), solutionMessage(after))).type).toBe('viewer-id');
  });

  it('rate-limits challenge requests per circuit, and in all', async () => {
    const w = world({ challengesPerCircuit: { rate: 0.1, burst: 2 }, challengesInAll: { rate: 1, burst: 3 } });
    const a = new FakeEndpoint(null);
    await challengeOf(w, a);
    await challengeOf(w, a);
    expect(refusal(await ask(w.router, a, encodeStreamMessage({ type: 'challenge-request' })))).toBe('rate-limited');
    const b = new FakeEndpoint(null);
    await challengeOf(w, b);
    expect(refusal(await ask(w.router, b, encodeStreamMessage({ type: 'challenge-request' })))).toBe('rate-limited'); // the shared budget
    w.sched.advance(10_000);
    await challengeOf(w, a);
    // A closed circuit is forgotten; a new circuit starts with a full bucket.
    w.router.onCircuitClosed(a);
    await challengeOf(w, new FakeEndpoint(null));
  });
});

describe('OracleService: usage reports', () => {
  const SESSION = bytesOf(16, 0x5e);
  const PERIOD = 60_000;
  const start = T0 - (T0 % PERIOD);

  function usage(role: 'viewer' | 'distribution', downBytes: number, over: Partial<Extract<StreamMessage, { type: 'usage-report' }>> = {}): Uint8Array {
    return encodeStreamMessage({ type: 'usage-report', sessionId: SESSION, role, periodStart: start, periodEnd: start + PERIOD, downBytes, upBytes: 100, ...over });
  }

  it('takes both sides, normalises them when the slot closes and saves them', async () => {
    const w = world({ usagePeriodMs: PERIOD, housekeepingMs: 1000 });
    w.service.start();
    w.sched.jumpTo(start + PERIOD);
    const viewer = await ask(w.router, new FakeEndpoint(RELAY), usage('viewer', 1_000_000));
    expect(viewer.kind).toBe(MessageKind.Response);
    expect(viewer.body.length).toBe(0);
    const node = await ask(w.router, new FakeEndpoint(DIST_NODE), usage('distribution', 5_000_000));
    expect(node.body.length).toBe(0);
    expect(refusal(await ask(w.router, new FakeEndpoint(DIST_NODE), usage('distribution', 5_000_000)))).toBe('duplicate');
    expect(await w.registry.usageOf(SESSION)).toEqual([]);
    w.sched.advance(2 * PERIOD);
    await new Promise((r) => setImmediate(r));
    const saved = await w.registry.usageOf(SESSION);
    expect(saved).toHaveLength(1);
    expect(saved[0]!.status).toBe('disputed');
    expect(saved[0]!.accepted.downBytes).toBe(1_000_000 + 100_000 + 65_536);
    expect(await w.registry.reporterStats(DIST_NODE)).toEqual({ periods: 1, disputed: 1 });
    await w.service.stop();
  });

  it('takes a distribution report only from a node, and refuses reports the rule refuses', async () => {
    const w = world({ usagePeriodMs: PERIOD });
    w.sched.jumpTo(start + PERIOD);
    expect(refusal(await ask(w.router, new FakeEndpoint(null), usage('distribution', 1)))).toBe('protocol');
    expect(refusal(await ask(w.router, new FakeEndpoint(null), usage('viewer', 1, { periodEnd: start + PERIOD + 1 })))).toBe('protocol');
    expect(refusal(await ask(w.router, new FakeEndpoint(null), usage('viewer', 1, { periodStart: start - 10 * PERIOD, periodEnd: start - 9 * PERIOD })))).toBe('protocol');
    expect(w.service.usage.size).toBe(0);
  });

  it('saves the closed slots when it stops', async () => {
    const w = world({ usagePeriodMs: PERIOD });
    w.sched.jumpTo(start + PERIOD);
    await ask(w.router, new FakeEndpoint(null), usage('viewer', 1000));
    w.sched.jumpTo(start + 3 * PERIOD);
    await w.service.stop();
    expect((await w.registry.usageOf(SESSION)).map((u) => u.status)).toEqual(['unconfirmed']);
  });
});

describe('OracleService: construction', () => {
  const base = () => {
    const sched = new FakeScheduler(T0);
    return { suite, identity: ORACLE_1, network: NETWORK_CONFIG, router: new MessageRouter(), client: { scheduler: sched } as unknown as CircuitClient, registry: new MemorySubscriptionRegistry(), scheduler: sched };
  };

  it('refuses a configuration it could not serve', () => {
    expect(() => new OracleService({ ...base(), identity: MALLORY })).toThrow(/not one of options\.network\.oracle\.oracleKeys/);
    const { oracle: _o, ...noOracle } = NETWORK_CONFIG;
    expect(() => new OracleService({ ...base(), network: noOracle })).toThrow(/names no oracle/);
    const { authority: _a, ...noAuthority } = NETWORK_CONFIG;
    expect(() => new OracleService({ ...base(), network: noAuthority })).toThrow(/authority/);
    expect(() => new OracleService({ ...base(), identity: { secretKey: ORACLE_1.secretKey, publicKey: ORACLE_2.publicKey } })).toThrow(RangeError);
    expect(() => new OracleService({ ...base(), options: { receiptTtlMs: 16 * MINUTE } })).toThrow(/receiptTtlMs/);
    expect(() => new OracleService({ ...base(), options: { puzzleDifficulty: 41 } })).toThrow(/puzzleDifficulty/);
    expect(() => new OracleService({ ...base(), options: { defaultPlan: { maxBitrate: 0, maxViewers: 1, publicAllowed: true } } })).toThrow(/defaultPlan/);
    expect(() => new OracleService({ ...base(), registry: {} as SubscriptionRegistry })).toThrow(TypeError);
  });
});

describe('oracle peer records', () => {
  const trust = { network: NETWORK, oracleKeys: [ORACLE_1.publicKey, ORACLE_2.publicKey], self: ORACLE_2.publicKey };
  const entries = [{ receiptId: bytesOf(16, 1), identity: ALICE.publicKey, issuedAt: T0, expiresAt: T0 + MINUTE }];

  it('round-trip and verify from another configured oracle', () => {
    const bytes = encodeOraclePeerRecord(suite, { network: NETWORK, sentAt: T0, receipts: entries }, ORACLE_1.secretKey);
    const v = verifyOraclePeerRecord(suite, parseOraclePeerRecord(bytes), T0 + 1000, trust);
    expect(equalBytes(v.sender, ORACLE_1.publicKey)).toBe(true);
    expect(v.receipts).toEqual(entries);
  });

  it('refuse a stranger, oneself, another network, an old record and any changed byte', () => {
    const forged = encodeOraclePeerRecord(suite, { network: NETWORK, sentAt: T0, receipts: entries }, MALLORY.secretKey);
    expectStreamError(() => verifyOraclePeerRecord(suite, parseOraclePeerRecord(forged), T0, trust), 'unknown-oracle');
    const mine = encodeOraclePeerRecord(suite, { network: NETWORK, sentAt: T0, receipts: entries }, ORACLE_2.secretKey);
    expectStreamError(() => verifyOraclePeerRecord(suite, parseOraclePeerRecord(mine), T0, trust), 'unknown-oracle');
    const other = encodeOraclePeerRecord(suite, { network: 'othernet', sentAt: T0, receipts: entries }, ORACLE_1.secretKey);
    expectStreamError(() => verifyOraclePeerRecord(suite, parseOraclePeerRecord(other), T0, trust), 'wrong-network');
    const good = encodeOraclePeerRecord(suite, { network: NETWORK, sentAt: T0, receipts: entries }, ORACLE_1.secretKey);
    expectStreamError(() => verifyOraclePeerRecord(suite, parseOraclePeerRecord(good), T0 + 5 * MINUTE, trust), 'expired');
    expectStreamError(() => verifyOraclePeerRecord(suite, parseOraclePeerRecord(good), T0 - 6 * MINUTE, trust), 'not-yet-valid');
    for (let at = 0; at < good.length; at += 7) {
      const m = good.slice();
      m[at]! ^= 0x10;
      let ok = false;
      try {
        verifyOraclePeerRecord(suite, parseOraclePeerRecord(m), T0, trust);
        ok = true;
      } catch (e) {
        expect((e as Error).name).toBe('StreamError');
      }
      expect(ok, `byte ${at} changed`).toBe(false);
    }
  });

  it('are answered by the service: a forged one with Refused and nothing stored', async () => {
    const sched = new FakeScheduler(T0);
    const router = new MessageRouter();
    const registry = new MemorySubscriptionRegistry();
    new OracleService({ suite, identity: ORACLE_2, network: NETWORK_CONFIG, router, client: { scheduler: sched } as unknown as CircuitClient, registry, scheduler: sched, peers: () => [] });
    const forged = encodeOraclePeerRecord(suite, { network: NETWORK, sentAt: T0, receipts: entries }, MALLORY.secretKey);
    const e = errorAnswer(await ask(router, new FakeEndpoint(MALLORY.publicKey), forged, AppEvent.OraclePeer));
    expect(e.code).toBe(ErrorCode.Refused);
    expect(await registry.getReceipt(entries[0]!.receiptId)).toBeUndefined();
    const good = encodeOraclePeerRecord(suite, { network: NETWORK, sentAt: T0, receipts: entries }, ORACLE_1.secretKey);
    const ok = await ask(router, new FakeEndpoint(ORACLE_1.publicKey), good, AppEvent.OraclePeer);
    expect(ok.kind).toBe(MessageKind.Response);
    expect((await registry.getReceipt(entries[0]!.receiptId))?.source).toBe('shared');
    expect(errorAnswer(await ask(router, new FakeEndpoint(null), Uint8Array.of(1, 2, 3), AppEvent.OraclePeer)).code).toBe(ErrorCode.Malformed);
  });
});
