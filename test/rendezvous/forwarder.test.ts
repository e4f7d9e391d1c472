/**
 * The presence node's introduction forwarder (node-core/rendezvous/forwarder.ts) on a fake
 * clock: forwarding and decisions, per-owner caps and rate with the owner's settings, the
 * throttled cap-reached notice, per-circuit rate, node-wide cap, timeout, replay cache,
 * cancellation, owner circuits closing and rebinding, key conflicts, and a flood at ten times
 * the cap after which a legitimate introduction still gets through.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FORWARDER_LIMITS,
  IntroductionForwarder,
  isPresenceMessageError,
  type ControlNotice,
  type ForwarderLimits,
  type IntroductionOutcome,
} from '../../node-core/rendezvous';
import { toHex } from '../../node-core/util/bytes';
import { FakeScheduler } from '../onion/memnet';
import { bob, bobAnnounce, carol, carolAnnounce, fakeEnvelope, introduction } from './helpers';

interface Sent {
  circuit: string;
  notice: ControlNotice;
}

function setup(limits: Partial<ForwarderLimits> = {}) {
  const sched = new FakeScheduler();
  const sent: Sent[] = [];
  const f = new IntroductionForwarder({ scheduler: sched, notify: (circuit, notice) => sent.push({ circuit, notice }), limits });
  const outcomes = new Map<string, IntroductionOutcome[]>();
  /** Sends `envelope` from circuit `from`; returns the list its outcome lands in. */
  const intro = (from: string, envelope: Uint8Array): IntroductionOutcome[] => {
    const list: IntroductionOutcome[] = [];
    f.introduce(from, envelope, (o) => list.push(o));
    outcomes.set(from, [...(outcomes.get(from) ?? []), ...list]);
    return list;
  };
  const of = (type: ControlNotice['type']) => sent.filter((s) => s.notice.type === type);
  const handles = () => of('introduction').map((s) => (s.notice as { handle: number }).handle);
  return { sched, sent, f, intro, of, handles };
}

describe('IntroductionForwarder', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_FORWARDER_LIMITS.maxPendingPerOwner).toBe(16);
    expect(DEFAULT_FORWARDER_LIMITS.perMinutePerOwner).toBe(30);
    expect(DEFAULT_FORWARDER_LIMITS.timeoutMs).toBe(120_000);
    expect(DEFAULT_FORWARDER_LIMITS.replayTtlMs).toBe(10 * 60_000);
    expect(DEFAULT_FORWARDER_LIMITS.capNoticeIntervalMs).toBe(10_000);
  });

  it('forwards to the owner bound to the key and answers with his decision', () => {
    const { f, sent, intro } = setup();
    expect(f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public)).toBe('bound');
    expect(f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public)).toBe('renewed');
    expect(f.isOwnerCircuit('bob-circ')).toBe(true);
    expect(toHex(f.ownerOf('bob-circ')!)).toBe(toHex(bob.publicKey));
    const env = introduction();
    const out = intro('alice-1', env);
    expect(out).toEqual([]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.circuit).toBe('bob-circ');
    const n = sent[0]!.notice;
    expect(n.type).toBe('introduction');
    if (n.type !== 'introduction') return;
    expect(toHex(n.envelope)).toBe(toHex(env));
    expect(f.decide('bob-circ', n.handle, true)).toBe('ok');
    expect(out).toEqual(['accepted']);
    expect(f.decide('bob-circ', n.handle, true)).toBe('unknown-handle');
    const out2 = intro('alice-2', introduction());
    const h2 = (sent[1]!.notice as { handle: number }).handle;
    expect(h2).not.toBe(n.handle);
    expect(f.decide('alice-2', h2, false)).toBe('not-owner');
    expect(f.decide('bob-circ', h2, false)).toBe('ok');
    expect(out2).toEqual(['denied']);
    expect(f.stats.pending).toBe(0);
  });

  it('answers unknown-recipient for a key no owner announced here, offline when he is gone', () => {
    const { f, intro } = setup({ ownerMemoryMs: 60_000 });
    expect(intro('a', introduction())).toEqual(['unknown-recipient']);
    f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public);
    f.circuitClosed('bob-circ');
    expect(f.isOwnerCircuit('bob-circ')).toBe(false);
    expect(intro('b', introduction())).toEqual(['offline']);
  });

  it('forgets an offline owner after ownerMemoryMs', () => {
    const { f, intro, sched } = setup({ ownerMemoryMs: 60_000 });
    f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public);
    f.circuitClosed('bob-circ');
    sched.advance(60_000);
    expect(intro('b', introduction())).toEqual(['offline']);
    sched.advance(1);
    expect(intro('c', introduction())).toEqual(['unknown-recipient']);
    f.prune();
    expect(f.stats.owners).toBe(0);
  });

  it('refuses a malformed envelope with a typed error and changes nothing', () => {
    const { f, sent } = setup();
    f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public);
    let answered = false;
    for (const bad of [new Uint8Array(0), fakeEnvelope(bobAnnounce.public, 10), fakeEnvelope(bobAnnounce.public, 40, 2)]) {
      let err: unknown;
      try {
        f.introduce('a', bad, () => (answered = true));
      } catch (e) {
        err = e;
      }
      expect(isPresenceMessageError(err)).toBe(true);
    }
    expect(answered).toBe(false);
    expect(sent).toHaveLength(0);
    expect(f.stats.circuits).toBe(0);
  });

  it('caps pending introductions per owner: past the cap busy, counted, the owner told', () => {
    const { f, intro, of } = setup();
    f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public);
    const answers: IntroductionOutcome[][] = [];
    for (let i = 0; i < 18; i++) answers.push(intro(`a${i}`, introduction()));
    expect(answers.slice(0, 16).every((a) => a.length === 0)).toBe(true);
    expect(answers.slice(16)).toEqual([['busy'], ['busy']]);
    expect(f.pendingFor(bob.publicKey)).toBe(16);
    const caps = of('cap-reached');
    expect(caps).toHaveLength(1);
    expect(caps[0]!.notice).toEqual({ type: 'cap-reached', pending: 16, cap: 16, refused: 1 });
  });

  it('the owner sets his own caps', () => {
    const { f, intro, handles } = setup();
    f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public);
    expect(f.settings('bob-circ', { maxPending: 2, perMinute: 3 })).toBe(true);
    expect(f.settings('other', { maxPending: 2, perMinute: 3 })).toBe(false);
    expect(intro('a', introduction())).toEqual([]);
    expect(intro('b', introduction())).toEqual([]);
    expect(intro('c', introduction())).toEqual(['busy']);
    for (const h of handles()) f.decide('bob-circ', h, false);
    // Three per minute: the third of this minute goes through, the fourth is rate-limited.
    expect(intro('d', introduction())).toEqual([]);
    expect(intro('e', introduction())).toEqual(['rate-limited']);
    expect(() => f.settings('bob-circ', { maxPending: 0, perMinute: 3 })).toThrow(/maxPending/);
    expect(() => f.settings('bob-circ', { maxPending: 2, perMinute: 6001 })).toThrow(/perMinute/);
  });

  it('rate-limits per owner (30 a minute by default), refilling with time', () => {
    const { f, intro, handles, sched, of } = setup({ perCircuitBurst: 1000, perCircuitPerMinute: 100_000 });
    f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public);
    const lists: IntroductionOutcome[][] = [];
    for (let i = 0; i < 40; i++) {
      lists.push(intro('a', introduction()));
      for (const h of handles()) f.decide('bob-circ', h, false);
    }
    const got = lists.flat();
    expect(got).toHaveLength(40);
    // 30 forwarded (and denied at once by Bob), 10 refused for the rate.
    expect(got.filter((o) => o === 'denied')).toHaveLength(30);
    expect(got.filter((o) => o === 'rate-limited')).toHaveLength(10);
    expect(of('cap-reached')).toHaveLength(1);
    sched.advance(2_000); // one more token
    expect(intro('a', introduction())).toEqual([]);
    expect(intro('a', introduction())).toEqual(['rate-limited']);
  });

  it('sends at most one cap-reached notice per 10 s, carrying the count since the last', () => {
    const { f, intro, of, sched } = setup({ maxPendingPerOwner: 1 });
    f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public);
    intro('first', introduction());
    for (let i = 0; i < 5; i++) expect(intro(`x${i}`, introduction())).toEqual(['busy']);
    expect(of('cap-reached').map((s) => s.notice)).toEqual([{ type: 'cap-reached', pending: 1, cap: 1, refused: 1 }]);
    sched.advance(9_999);
    expect(of('cap-reached')).toHaveLength(1);
    sched.advance(1);
    // The trailing notice reports the four refused in the window.
    expect(of('cap-reached').map((s) => s.notice)).toEqual([
      { type: 'cap-reached', pending: 1, cap: 1, refused: 1 },
      { type: 'cap-reached', pending: 1, cap: 1, refused: 4 },
    ]);
    // Nothing refused since: no more notices.
    sched.advance(60_000);
    expect(of('cap-reached')).toHaveLength(2);
  });

  it('rate-limits each introducer circuit', () => {
    const { f, intro, handles } = setup({ perCircuitPerMinute: 6, perCircuitBurst: 2 });
    f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public);
    expect(intro('mallory', introduction())).toEqual([]);
    expect(intro('mallory', introduction())).toEqual([]);
    expect(intro('mallory', introduction())).toEqual(['rate-limited']);
    // Another circuit is not affected, nor is the owner told (it is not his cap).
    expect(intro('alice', introduction())).toEqual([]);
    expect(handles()).toHaveLength(3);
  });

  it('caps pending introductions across the node', () => {
    const { f, intro } = setup({ maxPendingTotal: 3 });
    f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public);
    f.bindOwner(carol.publicKey, 'carol-circ', carolAnnounce.public);
    expect(intro('a', introduction())).toEqual([]);
    expect(intro('b', introduction())).toEqual([]);
    expect(intro('c', introduction({ to: carol, announcementKey: carolAnnounce.public }))).toEqual([]);
    expect(intro('d', introduction({ to: carol, announcementKey: carolAnnounce.public }))).toEqual(['busy']);
    expect(f.stats.pending).toBe(3);
  });

  it('times out undecided introductions (120 s by default) and tells the owner', () => {
    const { f, intro, of, sched, handles } = setup();
    f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public);
    const out = intro('a', introduction());
    sched.advance(119_999);
    expect(out).toEqual([]);
    sched.advance(1);
    expect(out).toEqual(['timeout']);
    expect(of('cancelled').map((s) => s.notice)).toEqual([{ type: 'cancelled', handle: handles()[0] }]);
    expect(f.decide('bob-circ', handles()[0]!, true)).toBe('unknown-handle');
    expect(out).toEqual(['timeout']);
  });

  it('answers replayed for an introduction forwarded within the replay TTL', () => {
    const { f, intro, handles, sched } = setup();
    f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public);
    const env = introduction();
    expect(intro('a', env)).toEqual([]);
    f.decide('bob-circ', handles()[0]!, false);
    // From another circuit, while pending or after the decision: replayed, and not forwarded.
    expect(intro('b', env)).toEqual(['replayed']);
    expect(handles()).toHaveLength(1);
    sched.advance(10 * 60_000 - 1);
    expect(intro('c', env)).toEqual(['replayed']);
    sched.advance(1);
    expect(intro('d', env)).toEqual([]);
    expect(handles()).toHaveLength(2);
  });

  it('a refused introduction is not remembered as forwarded: it may be tried again', () => {
    const { f, intro, handles } = setup({ maxPendingPerOwner: 1 });
    f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public);
    intro('a', introduction());
    const env = introduction();
    expect(intro('b', env)).toEqual(['busy']);
    f.decide('bob-circ', handles()[0]!, false);
    expect(intro('b', env)).toEqual([]);
  });

  it('keeps a bounded replay cache', () => {
    const { f, intro, handles } = setup({ maxReplayEntries: 2, perCircuitBurst: 100 });
    f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public);
    const envs = [introduction(), introduction(), introduction()];
    for (const e of envs) intro('a', e);
    for (const h of handles()) f.decide('bob-circ', h, false);
    expect(f.stats.replayEntries).toBe(2);
    // The oldest was forgotten to make room.
    expect(intro('a', envs[0]!)).toEqual([]);
    expect(intro('a', envs[2]!)).toEqual(['replayed']);
  });

  it('cancel answers every pending introduction of the circuit and tells the owner', () => {
    const { f, intro, of, handles } = setup();
    f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public);
    const a1 = intro('alice', introduction());
    const a2 = intro('alice', introduction());
    const other = intro('carol', introduction());
    expect(f.cancelFrom('alice')).toBe(2);
    expect(a1).toEqual(['cancelled']);
    expect(a2).toEqual(['cancelled']);
    expect(other).toEqual([]);
    const [h1, h2] = handles();
    expect(of('cancelled').map((s) => (s.notice as { handle: number }).handle)).toEqual([h1, h2]);
    expect(f.decide('bob-circ', h1!, true)).toBe('unknown-handle');
    expect(f.cancelFrom('alice')).toBe(0);
  });

  it('the introducer circuit closing cancels its introductions', () => {
    const { f, intro, of } = setup();
    f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public);
    const out = intro('alice', introduction());
    f.circuitClosed('alice');
    expect(out).toEqual(['cancelled']);
    expect(of('cancelled')).toHaveLength(1);
    expect(f.stats.circuits).toBe(0);
  });

  it('the owner circuit closing answers pending introductions offline', () => {
    const { f, intro, of } = setup();
    f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public);
    const out = intro('alice', introduction());
    f.circuitClosed('bob-circ');
    expect(out).toEqual(['offline']);
    expect(of('cancelled')).toHaveLength(0);
    expect(f.stats.pending).toBe(0);
  });

  it('a new announcing circuit takes over and is offered what is pending', () => {
    const { f, intro, sent } = setup();
    f.bindOwner(bob.publicKey, 'old', bobAnnounce.public);
    const out = intro('alice', introduction());
    expect(f.bindOwner(bob.publicKey, 'new', bobAnnounce.public)).toBe('bound');
    expect(f.isOwnerCircuit('old')).toBe(false);
    expect(sent.map((s) => s.circuit)).toEqual(['old', 'new']);
    const h = (sent[1]!.notice as { handle: number }).handle;
    expect(f.decide('old', h, true)).toBe('not-owner');
    expect(f.decide('new', h, true)).toBe('ok');
    expect(out).toEqual(['accepted']);
    // The old circuit closing now is no longer the owner's.
    f.circuitClosed('old');
    expect(f.isOwnerCircuit('new')).toBe(true);
  });

  it('a key already bound to a remembered owner is not taken by another', () => {
    const { f, intro, sent } = setup();
    f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public);
    expect(f.bindOwner(carol.publicKey, 'carol-circ', bobAnnounce.public)).toBe('key-conflict');
    expect(f.isOwnerCircuit('carol-circ')).toBe(false);
    intro('alice', introduction());
    expect(sent.map((s) => s.circuit)).toEqual(['bob-circ']);
  });

  it('survives a flood at ten times the cap: refused past the cap, owner told, legitimate introduction later gets through', () => {
    const { f, intro, of, sched, handles } = setup();
    f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public);
    const flood: IntroductionOutcome[][] = [];
    // 160 introductions from 160 circuits (so no per-circuit limit applies) within a second.
    for (let i = 0; i < 160; i++) flood.push(intro(`flood-${i}`, introduction({ from: carol })));
    const immediate = flood.filter((a) => a.length > 0).map((a) => a[0]);
    expect(immediate).toHaveLength(144);
    expect(immediate.every((o) => o === 'busy')).toBe(true);
    expect(f.pendingFor(bob.publicKey)).toBe(16);
    expect(handles()).toHaveLength(16);
    // The owner heard of it at once, then the rest of the count after the throttle window.
    sched.advance(10_000);
    const caps = of('cap-reached').map((s) => s.notice as { refused: number; pending: number; cap: number });
    expect(caps.reduce((n, c) => n + c.refused, 0)).toBe(144);
    expect(caps.length).toBeLessThanOrEqual(2);
    expect(caps[0]).toMatchObject({ pending: 16, cap: 16 });
    // A legitimate introduction during the flood is refused too ...
    expect(intro('alice', introduction())).toEqual(['busy']);
    // ... the flood's introductions time out (Bob never answers them) ...
    sched.advance(120_000);
    expect(flood.every((a) => a.length === 1)).toBe(true);
    expect(flood.filter((a) => a[0] === 'timeout')).toHaveLength(16);
    // ... and once it has stopped, Alice gets through and Bob accepts.
    const out = intro('alice', introduction());
    expect(out).toEqual([]);
    const last = handles().at(-1)!;
    expect(f.decide('bob-circ', last, true)).toBe('ok');
    expect(out).toEqual(['accepted']);
  });

  it('stop answers what is pending and refuses later introductions', () => {
    const { f, intro, sched } = setup();
    f.bindOwner(bob.publicKey, 'bob-circ', bobAnnounce.public);
    const out = intro('a', introduction());
    f.stop();
    expect(out).toEqual(['offline']);
    expect(intro('b', introduction())).toEqual(['offline']);
    expect(sched.pendingTimers).toBe(0);
  });

  it('checks its parameters', () => {
    const sched = new FakeScheduler();
    expect(() => new IntroductionForwarder({ scheduler: sched, notify: 1 as never })).toThrow(/notify/);
    expect(() => new IntroductionForwarder({ scheduler: null as never, notify: () => undefined })).toThrow(/scheduler/);
    expect(() => new IntroductionForwarder({ scheduler: sched, notify: () => undefined, limits: { maxPendingPerOwner: 1025 } })).toThrow(/maxPendingPerOwner/);
    expect(() => new IntroductionForwarder({ scheduler: sched, notify: () => undefined, limits: { timeoutMs: 0 } })).toThrow(/timeoutMs/);
    const f = new IntroductionForwarder({ scheduler: sched, notify: () => undefined });
    expect(() => f.bindOwner(new Uint8Array(31), 'c', bobAnnounce.public)).toThrow(/owner/);
    expect(() => f.bindOwner(bob.publicKey, '', bobAnnounce.public)).toThrow(/circuit/);
    expect(() => f.introduce('a', introduction(), null as never)).toThrow(/answer/);
    expect(() => f.decide('c', -1, true)).toThrow(/handle/);
  });
});
