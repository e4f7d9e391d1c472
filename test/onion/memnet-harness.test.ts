/**
 * The in-memory network itself: the fake clock's timers and deferred work, the channel's order,
 * high-water mark, drain, pause and close, and the bounded waits. The onion tests rely on these.
 */
import { describe, expect, it } from 'vitest';
import { type Cell, CellCommand } from '../../node-core/cell';
import { channelPair, type ChannelOwner, FakeScheduler, type MemChannel, MemNet, NotSettledError } from './memnet';

function recorder() {
  const got: { ch: MemChannel; circId: number }[] = [];
  const events: string[] = [];
  const owner: ChannelOwner = {
    onCell: (ch, cell) => got.push({ ch, circId: cell.circId }),
    onChannelDrain: (ch) => events.push(`drain ${ch.id}`),
    onChannelClosed: (ch) => events.push(`closed ${ch.id}`),
  };
  return { owner, got, events };
}

const relay = (circId: number): Cell => ({ circId, command: CellCommand.Relay, payload: new Uint8Array(509) });

describe('FakeScheduler', () => {
  it('runs deferred work in order and timers only when the clock reaches them', () => {
    const s = new FakeScheduler(0);
    const log: string[] = [];
    s.setTimeout(() => log.push('t20'), 20);
    const cancelled = s.setTimeout(() => log.push('never'), 5);
    s.setTimeout(() => log.push('t10a'), 10);
    s.setTimeout(() => log.push('t10b'), 10);
    s.defer(() => {
      log.push('d1');
      s.defer(() => log.push('d3'));
    });
    s.defer(() => log.push('d2'));
    cancelled.cancel();
    s.runUntilIdle();
    expect(log).toEqual(['d1', 'd2', 'd3']);
    s.advance(9);
    expect(log).toHaveLength(3);
    expect(s.now()).toBe(9);
    s.advance(1);
    expect(log.slice(3)).toEqual(['t10a', 't10b']);
    s.advance(100);
    expect(log.slice(5)).toEqual(['t20']);
    expect(s.now()).toBe(110);
    expect(s.pendingTimers).toBe(0);
  });

  it('gives timers set by timers their own due time', () => {
    const s = new FakeScheduler(0);
    const at: number[] = [];
    const tick = () => {
      at.push(s.now());
      if (at.length < 5) s.setTimeout(tick, 7);
    };
    s.setTimeout(tick, 7);
    s.advance(100);
    expect(at).toEqual([7, 14, 21, 28, 35]);
  });

  it('stops a livelock instead of spinning', () => {
    const s = new FakeScheduler(0);
    const again = () => s.defer(again);
    s.defer(again);
    expect(() => s.runUntilIdle(1000)).toThrow(/without becoming idle/);
  });
});

describe('MemChannel', () => {
  it('delivers in order through the wire format, one cell per task', () => {
    const s = new FakeScheduler();
    const left = recorder();
    const right = recorder();
    const [a, b] = channelPair(s, { owner: left.owner, peerIdentity: null, remoteIp: '10.0.0.2' }, { owner: right.owner, peerIdentity: null, remoteIp: '10.0.0.1' });
    expect([a.initiatedByUs, b.initiatedByUs]).toEqual([true, false]);
    for (let i = 1; i <= 5; i++) expect(a.send(relay(i))).toBe(true);
    expect(right.got).toEqual([]);
    expect(a.buffered).toBe(5);
    s.runUntilIdle();
    expect(right.got.map((g) => g.circId)).toEqual([1, 2, 3, 4, 5]);
    expect(right.got.every((g) => g.ch === b)).toBe(true);
    // A short payload arrives padded to 509 bytes, as from a socket.
    a.send({ circId: 9, command: CellCommand.Destroy, payload: Uint8Array.of(3) });
    expect(a.log.at(-1)!.payload).toHaveLength(509);
    // What no socket could carry is refused at the sender.
    expect(() => a.send({ circId: 0, command: CellCommand.Relay, payload: new Uint8Array(509) })).toThrow();
  });

  it('reports a high-water mark and a later drain; pause holds cells until resume', () => {
    const s = new FakeScheduler();
    const left = recorder();
    const right = recorder();
    const [a] = channelPair(s, { owner: left.owner, peerIdentity: null, remoteIp: 'x', highWaterMark: 3 }, { owner: right.owner, peerIdentity: null, remoteIp: 'y' });
    expect([a.send(relay(1)), a.send(relay(2)), a.send(relay(3)), a.send(relay(4))]).toEqual([true, true, false, false]);
    a.pause();
    s.runUntilIdle();
    expect(right.got).toHaveLength(0);
    expect(left.events).toEqual([]);
    a.resume();
    s.runUntilIdle();
    expect(right.got.map((g) => g.circId)).toEqual([1, 2, 3, 4]); // accepted even above the mark
    expect(left.events).toEqual([`drain ${a.id}`]);
    expect(a.maxBuffered).toBe(4);
  });

  it('close closes both ends, loses undelivered cells and tells both owners', () => {
    const s = new FakeScheduler();
    const left = recorder();
    const right = recorder();
    const [a, b] = channelPair(s, { owner: left.owner, peerIdentity: null, remoteIp: 'x' }, { owner: right.owner, peerIdentity: null, remoteIp: 'y' });
    a.send(relay(1));
    b.close('bye');
    expect(a.isOpen || b.isOpen).toBe(false);
    expect(a.send(relay(2))).toBe(false);
    s.runUntilIdle();
    expect(right.got).toEqual([]);
    expect(left.events).toEqual([`closed ${a.id}`]);
    expect(right.events).toEqual([`closed ${b.id}`]);
    expect(a.closeReason).toBe('bye');
  });
});

describe('bounded waits', () => {
  it('until moves the clock to the next timer when only timers are left', async () => {
    const net = new MemNet();
    const start = net.sched.now();
    const value = await net.until(new Promise<string>((resolve) => net.sched.setTimeout(() => resolve('late'), 30_000)));
    expect(value).toBe('late');
    expect(net.sched.now()).toBe(start + 30_000);
  });

  it('until fails at once on a promise nothing can settle, and after maxSteps on one that never does', async () => {
    const net = new MemNet();
    await expect(net.until(new Promise(() => {}))).rejects.toBeInstanceOf(NotSettledError);
    const forever = () => net.sched.setTimeout(forever, 1000);
    forever();
    await expect(net.until(new Promise(() => {}), 50)).rejects.toThrow(/within 50 steps/);
  });
});
