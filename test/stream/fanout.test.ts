/**
 * The relay's fan-out state machine (node-core/stream/fanout.ts, FanoutRelay): opaque forwarding,
 * late joiners starting at the latest keyframe, a congested subscriber skipping to the next
 * keyframe while the others get every frame, slow subscribers closed, the upstream order
 * enforced without side effects, and the counters.
 */
import { describe, expect, it } from 'vitest';
import {
  FanoutRelay,
  StreamError,
  decodeStreamMessage,
  encodeStreamMessage,
  type FanoutAction,
  type FanoutOptions,
  type MediaPacket,
} from '../../node-core/stream';
import { toHex } from '../../node-core/util/bytes';
import { STREAM_ID, bytesOf, expectCode } from './helpers';

/** One media piece, encoded. Payload bytes encode (group, frame, part) so a test can tell them apart. */
function piece(group: number, frame: number, part = 0, parts = 1, size = 100): Uint8Array {
  return encodeStreamMessage({
    type: 'media',
    streamId: STREAM_ID,
    groupSeq: group,
    frameSeq: frame,
    keyframe: frame === 0,
    part,
    parts,
    payload: bytesOf(size, (group * 16 + frame * 4 + part) & 0xff),
  });
}

function sig(group: number, through: number): Uint8Array {
  return encodeStreamMessage({ type: 'group-signature', streamId: STREAM_ID, groupSeq: group, throughFrame: through, signature: bytesOf(64, 7) });
}

/** What a subscriber received, as "g.f" for a single-piece frame, "g.f/p" for pieces, "sig g.t" for signatures. */
function label(bytes: Uint8Array): string {
  const m = decodeStreamMessage(bytes);
  if (m.type === 'group-signature') return `sig ${m.groupSeq}.${m.throughFrame}`;
  const p = m as MediaPacket;
  return p.parts === 1 ? `${p.groupSeq}.${p.frameSeq}` : `${p.groupSeq}.${p.frameSeq}/${p.part}`;
}

/** The I/O side of a test: collects sends per subscriber; `auto` subscribers acknowledge at once. */
class Harness {
  readonly got = new Map<string, string[]>();
  readonly raw = new Map<string, Uint8Array[]>();
  readonly closed: string[] = [];
  readonly auto = new Set<string>();
  constructor(readonly relay: FanoutRelay) {}

  private apply(actions: FanoutAction[]): void {
    const queue = [...actions];
    while (queue.length > 0) {
      const a = queue.shift()!;
      if (a.type === 'close') {
        this.closed.push(a.subscriber);
        continue;
      }
      const list = this.got.get(a.subscriber) ?? [];
      list.push(label(a.bytes));
      this.got.set(a.subscriber, list);
      const raw = this.raw.get(a.subscriber) ?? [];
      raw.push(a.bytes);
      this.raw.set(a.subscriber, raw);
      if (this.auto.has(a.subscriber)) queue.push(...this.relay.acknowledge(a.subscriber));
    }
  }

  add(id: string, auto = true): void {
    if (auto) this.auto.add(id);
    this.got.set(id, this.got.get(id) ?? []);
    this.apply(this.relay.addSubscriber(id));
  }

  push(...messages: Uint8Array[]): void {
    for (const m of messages) this.apply(this.relay.push(m));
  }

  ack(id: string, count?: number): void {
    this.apply(this.relay.acknowledge(id, count));
  }

  /** Acknowledges everything in flight for `id`, repeatedly, until nothing more is sent. */
  drain(id: string): void {
    for (;;) {
      const n = this.relay.subscriberStats(id)?.inFlightMessages ?? 0;
      if (n === 0) return;
      this.ack(id, n);
    }
  }

  of(id: string): string[] {
    return this.got.get(id) ?? [];
  }
}

function harness(options: Partial<FanoutOptions> = {}): Harness {
  return new Harness(new FanoutRelay({ streamId: STREAM_ID, ...options }));
}

describe('forwarding', () => {
  it('forwards the upstream bytes unchanged, in order, starting at the first keyframe', () => {
    const h = harness();
    h.add('a');
    const before = piece(0, 3);
    // No keyframe yet: a frame from the middle of a group is of no use to anyone.
    h.push(before);
    expect(h.of('a')).toEqual([]);
    const msgs = [piece(1, 0), piece(1, 1), sig(1, 1), piece(1, 2, 0, 2), piece(1, 2, 1, 2), piece(2, 0)];
    h.push(...msgs);
    expect(h.of('a')).toEqual(['1.0', '1.1', 'sig 1.1', '1.2/0', '1.2/1', '2.0']);
    expect(h.raw.get('a')!.map(toHex)).toEqual(msgs.map(toHex));
  });

  it('skips the later pieces of a frame that began before the first keyframe', () => {
    const h = harness();
    h.add('a');
    h.push(piece(5, 2, 0, 3), piece(5, 2, 1, 3), piece(5, 2, 2, 3), piece(6, 0));
    expect(h.of('a')).toEqual(['6.0']);
    expect(h.relay.stats()).toMatchObject({ framesIn: 1, messagesIn: 4, framesOut: 1 });
  });

  it('hands at most maxInFlightBytes to the I/O layer at once, and more as it acknowledges', () => {
    const h = harness({ maxInFlightBytes: 300 });
    h.add('a', false);
    h.push(piece(0, 0), piece(0, 1), piece(0, 2), piece(0, 3), piece(0, 4));
    // Each message is 128 bytes: two fit the window.
    expect(h.of('a')).toEqual(['0.0', '0.1']);
    expect(h.relay.subscriberStats('a')).toMatchObject({ inFlightMessages: 2, queuedMessages: 3 });
    h.ack('a');
    expect(h.of('a')).toEqual(['0.0', '0.1', '0.2']);
    h.ack('a', 2);
    expect(h.of('a')).toEqual(['0.0', '0.1', '0.2', '0.3', '0.4']);
  });

  it('always hands out at least one message, however large', () => {
    const h = harness({ maxInFlightBytes: 10 });
    h.add('a', false);
    h.push(piece(0, 0, 0, 1, 5000), piece(0, 1));
    expect(h.of('a')).toEqual(['0.0']);
    h.ack('a');
    expect(h.of('a')).toEqual(['0.0', '0.1']);
  });
});

describe('late joiners', () => {
  it('start at the latest keyframe: the current group from its keyframe, then live', () => {
    const h = harness();
    h.add('early');
    h.push(piece(0, 0), piece(0, 1), sig(0, 1), piece(1, 0), piece(1, 1), sig(1, 1), piece(1, 2));
    h.add('late');
    expect(h.of('late')).toEqual(['1.0', '1.1', 'sig 1.1', '1.2']);
    h.push(piece(1, 3), piece(2, 0));
    expect(h.of('late')).toEqual(['1.0', '1.1', 'sig 1.1', '1.2', '1.3', '2.0']);
    expect(h.of('early')).toEqual(['0.0', '0.1', 'sig 0.1', '1.0', '1.1', 'sig 1.1', '1.2', '1.3', '2.0']);
  });

  it('joining in the middle of a frame, get its first pieces from the cache and the rest live', () => {
    const h = harness();
    h.push(piece(3, 0), piece(3, 1, 0, 3), piece(3, 1, 1, 3));
    h.add('late');
    h.push(piece(3, 1, 2, 3), piece(3, 2));
    expect(h.of('late')).toEqual(['3.0', '3.1/0', '3.1/1', '3.1/2', '3.2']);
  });

  it('wait for the next keyframe when there is none yet, or the group was too long to keep', () => {
    const none = harness();
    none.add('a');
    expect(none.of('a')).toEqual([]);
    const h = harness({ maxGroupCacheBytes: 300 });
    h.push(piece(0, 0), piece(0, 1), piece(0, 2));
    expect(h.relay.stats().cachedBytes).toBe(0);
    h.add('late');
    h.push(piece(0, 3));
    expect(h.of('late')).toEqual([]);
    h.push(piece(1, 0), piece(1, 1));
    expect(h.of('late')).toEqual(['1.0', '1.1']);
    expect(h.relay.stats().cachedBytes).toBe(256);
  });
});

describe('congestion', () => {
  /** A fast subscriber and one that stops reading; each message is 128 bytes on the wire. */
  function congested() {
    const h = harness({ maxInFlightBytes: 128, congestionBytes: 3 * 128 });
    h.add('fast');
    h.add('slow', false);
    return h;
  }

  it('a congested subscriber skips to the next keyframe while the others get every frame', () => {
    const h = congested();
    const group0 = Array.from({ length: 10 }, (_, f) => piece(0, f));
    for (const m of group0) {
      const before = h.of('fast').length;
      h.push(m);
      // One slow subscriber never delays the others: every push reaches the fast one at once.
      expect(h.of('fast').length).toBe(before + 1);
    }
    // The slow one took 0.0 (in flight) and queued 0.1–0.3; at 0.4 the queue was over the mark.
    expect(h.of('slow')).toEqual(['0.0']);
    const s = h.relay.subscriberStats('slow')!;
    expect(s.mode).toBe('skipping');
    expect(s.skips).toBe(1);
    // The stale frames 0.1–0.3 were dropped with 0.4–0.9.
    expect(s.framesDropped).toBe(9);
    expect(s.queuedMessages).toBe(0);
    // It reads again: nothing stale arrives; the next keyframe does.
    h.auto.add('slow');
    h.drain('slow');
    expect(h.of('slow')).toEqual(['0.0']);
    h.push(piece(1, 0), piece(1, 1));
    expect(h.of('slow')).toEqual(['0.0', '1.0', '1.1']);
    expect(h.relay.subscriberStats('slow')!.mode).toBe('live');
    expect(h.of('fast')).toEqual([...group0.map((_, f) => `0.${f}`), '1.0', '1.1']);
    expect(h.relay.subscriberStats('fast')).toMatchObject({ framesOut: 12, framesDropped: 0, skips: 0 });
  });

  it('a keyframe arriving on a congested queue replaces the stale frames before it', () => {
    const h = congested();
    h.push(piece(0, 0), piece(0, 1), piece(0, 2), piece(0, 3));
    // 0.0 in flight, 0.1–0.3 queued (exactly at the mark, not over): still live.
    expect(h.relay.subscriberStats('slow')).toMatchObject({ mode: 'live', queuedMessages: 3 });
    h.push(sig(0, 3)); // a signature does not count as a new frame
    h.push(piece(1, 0));
    const s = h.relay.subscriberStats('slow')!;
    expect(s).toMatchObject({ mode: 'live', framesDropped: 3, skips: 1, queuedMessages: 1 });
    h.auto.add('slow');
    h.drain('slow');
    expect(h.of('slow')).toEqual(['0.0', '1.0']);
  });

  it('a frame whose first piece went out is always completed', () => {
    const h = harness({ maxInFlightBytes: 128, congestionBytes: 2 * 128 });
    h.add('slow', false);
    h.push(piece(0, 0), piece(0, 1, 0, 4), piece(0, 1, 1, 4));
    h.ack('slow'); // 0.0 written: 0.1/0 goes out
    expect(h.of('slow')).toEqual(['0.0', '0.1/0']);
    h.push(piece(0, 1, 2, 4), piece(0, 1, 3, 4), piece(0, 2), piece(0, 3));
    // Congested at 0.2: the rest of 0.1 stays, 0.2 and later are skipped.
    expect(h.relay.subscriberStats('slow')!.mode).toBe('skipping');
    h.auto.add('slow');
    h.drain('slow');
    expect(h.of('slow')).toEqual(['0.0', '0.1/0', '0.1/1', '0.1/2', '0.1/3']);
  });

  it('a congested subscriber does not take the later pieces of a frame it skipped', () => {
    const h = harness({ maxInFlightBytes: 128, congestionBytes: 128 });
    h.add('slow', false);
    h.push(piece(0, 0), piece(0, 1), piece(0, 2));
    h.push(piece(0, 3, 0, 2), piece(0, 3, 1, 2), piece(0, 4));
    h.auto.add('slow');
    h.drain('slow');
    expect(h.of('slow')).toEqual(['0.0']);
    h.push(piece(1, 0, 0, 2), piece(1, 0, 1, 2));
    expect(h.of('slow')).toEqual(['0.0', '1.0/0', '1.0/1']);
  });

  it('signatures reach every subscriber that has the group, and none that waits for a keyframe', () => {
    const h = harness();
    h.push(piece(0, 0));
    h.add('a');
    h.push(piece(0, 1, 0, 2));
    expect(() => h.push(sig(0, 0))).toThrow(StreamError); // not inside a frame
    h.push(piece(0, 1, 1, 2), sig(0, 1));
    const late = harness({ maxGroupCacheBytes: 1 });
    late.push(piece(0, 0));
    late.add('w');
    late.push(sig(0, 0));
    expect(late.of('w')).toEqual([]);
    expect(h.of('a')).toEqual(['0.0', '0.1/0', '0.1/1', 'sig 0.1']);
    // A signature for an earlier group is of no use: ignored, not an error.
    h.push(piece(1, 0), sig(0, 1));
    expect(h.of('a').at(-1)).toBe('1.0');
  });
});

describe('slow subscribers are closed', () => {
  it('after stallGroups new groups without an acknowledgement', () => {
    const h = harness({ stallGroups: 2 });
    h.add('fast');
    h.add('stuck', false);
    h.push(piece(0, 0), piece(0, 1), piece(1, 0), piece(2, 0));
    expect(h.closed).toEqual([]);
    h.push(piece(3, 0));
    expect(h.closed).toEqual(['stuck']);
    expect(h.relay.has('stuck')).toBe(false);
    expect(h.relay.viewers).toBe(1);
    expect(h.relay.stats().closed).toBe(1);
    // Late acknowledgements for a closed subscriber are harmless.
    expect(h.relay.acknowledge('stuck')).toEqual([]);
    expect(h.of('fast')).toEqual(['0.0', '0.1', '1.0', '2.0', '3.0']);
  });

  it('an acknowledgement resets the count', () => {
    const h = harness({ stallGroups: 1 });
    h.add('s', false);
    h.push(piece(0, 0), piece(1, 0));
    h.ack('s');
    h.push(piece(2, 0));
    expect(h.closed).toEqual([]);
    h.push(piece(3, 0));
    expect(h.closed).toEqual(['s']);
  });

  it('when the queue would pass maxQueueBytes', () => {
    const h = harness({ maxInFlightBytes: 128, congestionBytes: 1000, maxQueueBytes: 1000, maxGroupCacheBytes: 1000 });
    h.add('s', false);
    h.push(piece(0, 0, 0, 16), ...Array.from({ length: 7 }, (_, i) => piece(0, 0, i + 1, 16)));
    expect(h.closed).toEqual([]);
    h.push(piece(0, 0, 8, 16));
    expect(h.closed).toEqual(['s']);
  });
});

describe('upstream order', () => {
  function started() {
    const h = harness();
    h.add('a');
    h.push(piece(4, 0), piece(4, 1), piece(4, 2, 0, 2));
    return h;
  }

  it.each([
    ['a new frame before the last one is complete', () => piece(4, 3)],
    ['a piece out of order', () => piece(4, 2, 0, 2)],
    ['a piece with another piece count', () => piece(4, 2, 1, 3)],
    ['a piece of another frame', () => piece(4, 3, 1, 2)],
    ['a signature inside a frame', () => sig(4, 1)],
  ])('refuses %s, and changes nothing', (_, bad) => {
    const h = started();
    const before = JSON.stringify([h.relay.stats(), h.relay.subscriberStats('a')]);
    expectCode(() => h.relay.push(bad()), 'protocol');
    expect(JSON.stringify([h.relay.stats(), h.relay.subscriberStats('a')])).toBe(before);
    h.push(piece(4, 2, 1, 2), piece(4, 3));
    expect(h.of('a')).toEqual(['4.0', '4.1', '4.2/0', '4.2/1', '4.3']);
  });

  it.each([
    ['a group that does not increase', () => piece(4, 0)],
    ['an earlier group', () => piece(3, 0)],
    ['a frame that does not increase', () => piece(4, 2)],
    ['a frame of another group without its keyframe', () => piece(5, 3)],
    ['a piece whose first piece never came', () => piece(4, 5, 1, 2)],
    ['a signature for a frame not sent', () => sig(4, 3)],
  ])('refuses %s', (_, bad) => {
    const h = started();
    h.push(piece(4, 2, 1, 2));
    const before = JSON.stringify(h.relay.stats());
    expectCode(() => h.relay.push(bad()), 'protocol');
    expect(JSON.stringify(h.relay.stats())).toBe(before);
  });

  it('allows gaps: a sender may skip frames and groups', () => {
    const h = harness();
    h.add('a');
    h.push(piece(1, 0), piece(1, 5), piece(9, 0));
    expect(h.of('a')).toEqual(['1.0', '1.5', '9.0']);
  });

  it('refuses another stream, other message kinds and bytes that do not decode', () => {
    const h = started();
    const other = encodeStreamMessage({ type: 'media', streamId: bytesOf(16, 1), groupSeq: 9, frameSeq: 0, keyframe: true, part: 0, parts: 1, payload: bytesOf(1, 1) });
    expectCode(() => h.relay.push(other), 'protocol');
    expectCode(() => h.relay.push(encodeStreamMessage({ type: 'leave', streamId: STREAM_ID })), 'unknown-type');
    expectCode(() => h.relay.push(Uint8Array.of(0x20, 1, 2)), 'malformed');
    expect(() => h.relay.push('x' as never)).toThrow(TypeError);
  });
});

describe('counters and parameters', () => {
  it('count frames, messages and bytes in and out, drops, skips and viewers', () => {
    const h = harness({ maxInFlightBytes: 128, congestionBytes: 128 });
    h.add('fast');
    h.add('slow', false);
    h.push(piece(0, 0), piece(0, 1), piece(0, 2), sig(0, 2), piece(0, 3), piece(1, 0, 0, 2), piece(1, 0, 1, 2));
    const st = h.relay.stats();
    expect(st).toMatchObject({ viewers: 2, messagesIn: 7, framesIn: 5, groupsIn: 2, skips: 1 });
    expect(st.bytesIn).toBe(6 * 128 + (1 + 16 + 4 + 4 + 64));
    const fast = h.relay.subscriberStats('fast')!;
    expect(fast).toMatchObject({ messagesOut: 7, framesOut: 5, framesDropped: 0, bytesOut: st.bytesIn });
    const slow = h.relay.subscriberStats('slow')!;
    // slow: 0.0 out; 0.1, 0.2 and the signature queued (the mark is passed only after 0.2);
    // at 0.3 it skips, dropping 0.1, 0.2 and 0.3; the keyframe 1.0 finds nothing stale.
    expect(slow).toMatchObject({ messagesOut: 1, framesOut: 1, framesDropped: 3, skips: 1, mode: 'live', queuedMessages: 2 });
    expect(st.framesDropped).toBe(3);
    expect(st.framesOut).toBe(6);
    expect(st.messagesOut).toBe(8);
    h.relay.removeSubscriber('slow');
    expect(h.relay.stats().viewers).toBe(1);
    expect(h.relay.subscriberStats('slow')).toBeUndefined();
  });

  it('refuses a second subscription, a full relay, bad options and bad acknowledgements', () => {
    const relay = new FanoutRelay({ streamId: STREAM_ID, maxSubscribers: 1 });
    relay.addSubscriber('a');
    expect(() => relay.addSubscriber('a')).toThrow(RangeError);
    expect(relay.isFull).toBe(true);
    expect(() => relay.addSubscriber('b')).toThrow(RangeError);
    expect(() => relay.addSubscriber('')).toThrow(RangeError);
    expect(() => relay.acknowledge('a')).toThrow(RangeError); // nothing in flight
    expect(() => relay.acknowledge('a', 0)).toThrow(RangeError);
    expect(() => new FanoutRelay({ streamId: bytesOf(15, 1) })).toThrow(RangeError);
    expect(() => new FanoutRelay({ streamId: STREAM_ID, congestionBytes: 10, maxQueueBytes: 5, maxGroupCacheBytes: 5 })).toThrow(RangeError);
    expect(() => new FanoutRelay({ streamId: STREAM_ID, maxGroupCacheBytes: 10, maxQueueBytes: 5, congestionBytes: 5 })).toThrow(RangeError);
    expect(() => new FanoutRelay({ streamId: STREAM_ID, stallGroups: 0 })).toThrow(RangeError);
    expect(() => new FanoutRelay({ streamId: STREAM_ID, maxInFlightBytes: 0 })).toThrow(RangeError);
  });
});
