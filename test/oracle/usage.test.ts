/**
 * The usage normaliser (node-core/stream/usage.ts): per session and slot, the two sides'
 * figures confirm each other within the tolerance; beyond it the larger side is bounded and the
 * slot is disputed; a one-sided figure is capped and unconfirmed; every figure is bounded by the
 * maximum rate; reports that break the rule are refused and change nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { UsageReport } from '../../node-core/stream/messages';
import { UsageLedger, type UsageLedgerOptions, type UsageSource } from '../../node-core/stream/usage';
import { toHex } from '../../node-core/util/bytes';
import { bytesOf } from './helpers';

const PERIOD = 60_000;
const SLOT = 1_700_000_040_000 - (1_700_000_040_000 % PERIOD); // a slot start
const END = SLOT + PERIOD;
/** 8 Mbit/s: 1 MB per second, 60 MB per slot. */
const RATE = 8_000_000;
const SLOT_CAP = 60_000_000;
const SESSION = bytesOf(16, 0x51);
const NODE_A = bytesOf(32, 0xa1);
const NODE_B = bytesOf(32, 0xb2);
const VIEWER: UsageSource = { role: 'viewer' };
const A: UsageSource = { role: 'distribution', node: NODE_A };
const B: UsageSource = { role: 'distribution', node: NODE_B };

function ledger(over: Partial<UsageLedgerOptions> = {}): UsageLedger {
  return new UsageLedger({ periodMs: PERIOD, maxRateBps: RATE, toleranceBp: 1000, slackBytes: 1000, unconfirmedBp: 2500, graceMs: PERIOD, ...over });
}

function report(role: 'viewer' | 'distribution', downBytes: number, upBytes = 0, over: Partial<UsageReport> = {}): UsageReport {
  return { type: 'usage-report', sessionId: SESSION, role, periodStart: SLOT, periodEnd: END, downBytes, upBytes, ...over };
}

/** Submits and expects acceptance. */
function put(l: UsageLedger, r: UsageReport, s: UsageSource, now = END): void {
  const out = l.submit(r, s, now);
  if (!out.ok) throw new Error(`refused: ${out.reason} ${out.message}`);
}

function closeSlot(l: UsageLedger) {
  const out = l.finalize(END + PERIOD);
  expect(out).toHaveLength(1);
  return out[0]!;
}

describe('UsageLedger: both sides', () => {
  it('confirms agreeing figures and credits the larger one', () => {
    const l = ledger();
    put(l, report('viewer', 10_000_000, 20_000), VIEWER);
    put(l, report('distribution', 10_500_000, 20_000), A);
    const u = closeSlot(l);
    expect(u.status).toBe('confirmed');
    expect(u.accepted).toEqual({ downBytes: 10_500_000, upBytes: 20_000 });
    expect(u.viewer).toEqual({ downBytes: 10_000_000, upBytes: 20_000 });
    expect(u.distribution).toEqual([{ node: NODE_A, downBytes: 10_500_000, upBytes: 20_000 }]);
    expect(u.disputes).toEqual([]);
    expect([u.periodStart, u.periodEnd]).toEqual([SLOT, END]);
  });

  it('a distribution node that inflates is bounded by the viewer figure plus the tolerance, and disputed', () => {
    const l = ledger();
    put(l, report('viewer', 10_000_000), VIEWER);
    put(l, report('distribution', 40_000_000), A);
    const u = closeSlot(l);
    expect(u.status).toBe('disputed');
    expect(u.accepted.downBytes).toBe(10_000_000 + 1_000_000 + 1000);
    expect(u.disputes).toEqual([{ direction: 'down', higher: 'distribution', viewerBytes: 10_000_000, distributionBytes: 40_000_000 }]);
  });

  it('a viewer that under-reports drags the figure to its claim plus the tolerance, and the slot is disputed', () => {
    const l = ledger();
    put(l, report('viewer', 1_000_000), VIEWER);
    put(l, report('distribution', 30_000_000), A);
    const u = closeSlot(l);
    expect(u.status).toBe('disputed');
    expect(u.accepted.downBytes).toBe(1_000_000 + 100_000 + 1000);
    expect(u.disputes[0]!.higher).toBe('distribution');
    // And the other way round: a viewer claiming more than the node sent.
    const l2 = ledger();
    put(l2, report('viewer', 30_000_000), VIEWER);
    put(l2, report('distribution', 1_000_000), A);
    const u2 = closeSlot(l2);
    expect(u2.disputes[0]!.higher).toBe('viewer');
    expect(u2.accepted.downBytes).toBe(1_101_000);
  });

  it('compares each direction on its own', () => {
    const l = ledger();
    put(l, report('viewer', 5_000_000, 10_000_000), VIEWER);
    put(l, report('distribution', 5_000_000, 2_000_000), A);
    const u = closeSlot(l);
    expect(u.status).toBe('disputed');
    expect(u.accepted).toEqual({ downBytes: 5_000_000, upBytes: 2_201_000 });
    expect(u.disputes.map((d) => [d.direction, d.higher])).toEqual([['up', 'viewer']]);
  });

  it('adds up the nodes that served one session (a viewer moved between nodes)', () => {
    const l = ledger();
    put(l, report('viewer', 9_000_000), VIEWER);
    put(l, report('distribution', 4_000_000), A);
    put(l, report('distribution', 5_000_000), B);
    const u = closeSlot(l);
    expect(u.status).toBe('confirmed');
    expect(u.accepted.downBytes).toBe(9_000_000);
    expect(u.distribution.map((d) => toHex(d.node))).toEqual([toHex(NODE_A), toHex(NODE_B)]);
  });

  it('takes a slot in pieces from one reporter, but never overlapping pieces (a replay)', () => {
    const l = ledger();
    const half = SLOT + PERIOD / 2;
    put(l, report('viewer', 1_000_000, 0, { periodEnd: half }), VIEWER, half);
    const again = l.submit(report('viewer', 1_000_000, 0, { periodEnd: half }), VIEWER, half);
    expect(again).toMatchObject({ ok: false, reason: 'overlap' });
    put(l, report('viewer', 2_000_000, 0, { periodStart: half }), VIEWER);
    put(l, report('distribution', 3_000_000), A);
    expect(l.submit(report('distribution', 3_000_000), A, END)).toMatchObject({ ok: false, reason: 'overlap' });
    const u = closeSlot(l);
    expect(u.viewer!.downBytes).toBe(3_000_000);
    expect(u.status).toBe('confirmed');
  });
});

describe('UsageLedger: caps', () => {
  it('clips each piece to the maximum rate over its own duration', () => {
    const l = ledger();
    const r = l.submit(report('viewer', 999_000_000, 0, { periodEnd: SLOT + 10_000 }), VIEWER, END);
    expect(r).toEqual({ ok: true, downBytes: 10_000_000, upBytes: 0, clipped: true });
    const zero = l.submit(report('distribution', 5, 5, { periodStart: SLOT + 100, periodEnd: SLOT + 100 }), A, END);
    expect(zero).toEqual({ ok: true, downBytes: 0, upBytes: 0, clipped: true });
  });

  it('never credits more than the slot cap, even when both sides agree on more', () => {
    const l = ledger();
    put(l, report('viewer', SLOT_CAP), VIEWER);
    put(l, report('distribution', SLOT_CAP), A);
    put(l, report('distribution', SLOT_CAP), B);
    const u = closeSlot(l);
    expect(u.accepted.downBytes).toBe(SLOT_CAP);
  });

  it('accepts a one-sided figure only up to its share of the slot cap, as unconfirmed', () => {
    const l = ledger();
    put(l, report('viewer', 40_000_000, 1000), VIEWER);
    const u = closeSlot(l);
    expect(u.status).toBe('unconfirmed');
    expect(u.accepted).toEqual({ downBytes: SLOT_CAP / 4, upBytes: 1000 });
    expect(u.distribution).toEqual([]);
    const l2 = ledger();
    put(l2, report('distribution', 2_000_000), A);
    const u2 = closeSlot(l2);
    expect(u2.status).toBe('unconfirmed');
    expect(u2.viewer).toBeNull();
    expect(u2.accepted.downBytes).toBe(2_000_000);
  });

  it('never accepts more than either side claimed plus the tolerance, whatever the figures (property)', () => {
    fc.assert(
      fc.property(fc.nat(SLOT_CAP * 2), fc.nat(SLOT_CAP * 2), fc.nat(SLOT_CAP * 2), fc.nat(SLOT_CAP * 2), (vd, vu, nd, nu) => {
        const l = ledger();
        put(l, report('viewer', vd, vu), VIEWER);
        put(l, report('distribution', nd, nu), A);
        const u = closeSlot(l);
        const cv = { d: Math.min(vd, SLOT_CAP), u: Math.min(vu, SLOT_CAP) };
        const cn = { d: Math.min(nd, SLOT_CAP), u: Math.min(nu, SLOT_CAP) };
        for (const [acc, v, n] of [
          [u.accepted.downBytes, cv.d, cn.d],
          [u.accepted.upBytes, cv.u, cn.u],
        ] as const) {
          const lo = Math.min(v, n);
          expect(acc).toBeLessThanOrEqual(Math.max(v, n));
          expect(acc).toBeLessThanOrEqual(lo + Math.floor(lo / 10) + 1000);
          expect(acc).toBeGreaterThanOrEqual(lo);
        }
        expect(u.status === 'disputed').toBe(u.disputes.length > 0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('UsageLedger: refusals change nothing', () => {
  it('refuses a report outside its slot, from the future, too late, or of another role', () => {
    const l = ledger();
    expect(l.submit(report('viewer', 1, 0, { periodEnd: END + 1 }), VIEWER, END + 10)).toMatchObject({ ok: false, reason: 'bad-period' });
    expect(l.submit(report('viewer', 1), VIEWER, END - 61_000)).toMatchObject({ ok: false, reason: 'future' });
    expect(l.submit(report('viewer', 1), VIEWER, END + PERIOD)).toMatchObject({ ok: false, reason: 'late' });
    expect(l.submit(report('distribution', 1), VIEWER, END)).toMatchObject({ ok: false, reason: 'wrong-role' });
    expect(l.submit(report('viewer', 1), A, END)).toMatchObject({ ok: false, reason: 'wrong-role' });
    expect(l.size).toBe(0);
    expect(l.finalize(END + 10 * PERIOD)).toEqual([]);
  });

  it('is bounded: open slots and nodes per slot', () => {
    const l = ledger({ maxEntries: 1, maxReportersPerEntry: 1 });
    put(l, report('distribution', 1), A);
    expect(l.submit(report('distribution', 1), B, END)).toMatchObject({ ok: false, reason: 'full' });
    expect(l.submit(report('viewer', 1, 0, { sessionId: bytesOf(16, 0x52) }), VIEWER, END)).toMatchObject({ ok: false, reason: 'full' });
    put(l, report('viewer', 1), VIEWER); // the open slot still takes its viewer
    expect(l.size).toBe(1);
    expect(closeSlot(l).distribution).toHaveLength(1);
  });

  it('keeps a slot open until its grace has passed; peek shows the figures so far', () => {
    const l = ledger();
    put(l, report('viewer', 1_000_000), VIEWER);
    expect(l.finalize(END + PERIOD - 1)).toEqual([]);
    expect(l.peek(SESSION, SLOT + 5)!.status).toBe('unconfirmed');
    put(l, report('distribution', 1_000_000), A, END + PERIOD - 1);
    expect(l.peek(SESSION, SLOT)!.status).toBe('confirmed');
    expect(closeSlot(l).status).toBe('confirmed');
    expect(l.peek(SESSION, SLOT)).toBeUndefined();
  });

  it('checks its options and arguments', () => {
    expect(() => new UsageLedger({ periodMs: 999, maxRateBps: RATE })).toThrow(/periodMs/);
    expect(() => new UsageLedger({ periodMs: PERIOD, maxRateBps: 0 })).toThrow(/maxRateBps/);
    expect(() => ledger({ toleranceBp: 10_001 })).toThrow(/toleranceBp/);
    const l = ledger();
    expect(() => l.submit({ ...report('viewer', 1), sessionId: bytesOf(15, 0) }, VIEWER, END)).toThrow(/report\.sessionId/);
    expect(() => l.submit(report('viewer', -1), VIEWER, END)).toThrow(/report\.downBytes/);
    expect(() => l.submit(report('distribution', 1), { role: 'distribution', node: bytesOf(31, 0) }, END)).toThrow(/source\.node/);
    expect(() => l.submit(report('viewer', 1, 0, { periodEnd: SLOT - 1 }), VIEWER, END)).toThrow(RangeError);
  });
});
