/**
 * The oracle's usage normaliser (seed 004 §8.3: "the identification ID would be used by both the
 * distribution node and the client to report actual usage of the traffic towards the oracle
 * network … Calculated stream usage should be normalized to prevent clients from misreporting
 * the traffic volumes"; DESIGN §3 "Live streams").
 *
 * Input: usage reports (messages.ts 0x31) per viewer session (the sessionId of a viewer
 * identification ID) from the viewer itself (role viewer, anonymous) and from the distribution
 * nodes that served it (role distribution, named by their identity key). Both sides count the
 * same two figures: downBytes (node → viewer) and upBytes (viewer → node).
 *
 * The rule, per session and period (a slot of the fixed grid [k·periodMs, (k+1)·periodMs)):
 *  1. A report must lie inside one slot ('bad-period'), must not end in the future beyond the
 *     clock skew ('future'), and must arrive before the slot closes, periodMs + graceMs after its
 *     start ('late'). Its role must be the reporter's ('wrong-role').
 *  2. Each reporter (the viewer; each distribution node) may report a slot in pieces, but its
 *     pieces may not overlap: a piece must start at or after the end of its previous piece in the
 *     slot ('overlap'; this also refuses a replayed report).
 *  3. Rate cap: each figure of a piece is clipped to maxRateBps × (periodEnd − periodStart)
 *     (bits per second over the piece's own duration, in bytes), so no reporter can claim more
 *     than a stream at the network's maximum rate could carry.
 *  4. When the slot closes, the viewer's sum V and the sum D over the distribution nodes are
 *     compared, per figure. With both sides present, the accepted figure is
 *        min(max(V, D), min(V, D) + tolerance × min(V, D) + slackBytes)
 *     i.e. the larger claim counts as long as the other side confirms it within the tolerance;
 *     beyond it, the larger side is bounded by the smaller side's figure plus the tolerance, the
 *     slot is 'disputed', and the dispute names the side that claimed more. Neither side alone can
 *     inflate the figure; a side that hides traffic shows up as a dispute against every reporter
 *     of the slot (the registry keeps them per reporter).
 *  5. With one side only, its figure is accepted up to unconfirmedShare × the slot's rate cap and
 *     the slot is 'unconfirmed'.
 *  6. Every accepted figure is at most the slot's rate cap.
 * The ledger holds open slots only; `finalize(now)` hands out and forgets those that closed.
 *
 * Pure: time is passed in, memory is bounded (maxEntries slots, maxReportersPerEntry nodes each).
 * Programming errors throw TypeError/RangeError naming the parameter; a report that breaks the
 * rule is refused with a reason and changes nothing.
 *
 * Does not: check who a distribution node is (the oracle service names it from its circuit),
 * check that a session id was issued by an oracle, or store anything (the subscription registry).
 */
import { assertBytes, toHex } from '../util/bytes';
import { checkTime } from '../util/codec';
import { checkCounter, checkInt, checkObject } from './internal';
import type { UsageReport, UsageRole } from './messages';
import { SESSION_ID_LENGTH } from './receipt';

/** Basis points: 10,000 = 100 %. */
const BP = 10_000;
export const MAX_USAGE_PERIOD_MS = 60 * 60 * 1000;
/** 1 Tbit/s: keeps every sum and product below 2^53. */
export const MAX_USAGE_RATE_BPS = 1_000_000_000_000;

export interface UsageLedgerOptions {
  /** Length of a slot of the period grid, 1,000..3,600,000 ms. Reporters' periods must divide it. */
  readonly periodMs: number;
  /** Highest rate a stream may carry, in bits per second (1..MAX_USAGE_RATE_BPS). */
  readonly maxRateBps: number;
  /** How far the two sides may differ and still confirm the larger claim, in basis points (default 1,000 = 10 %). */
  readonly toleranceBp?: number;
  /** Absolute slack added to the tolerance, in bytes (default 65,536: framing and timing at period edges). */
  readonly slackBytes?: number;
  /** A one-sided figure is accepted up to this share of the slot's rate cap, in basis points (default 2,500). */
  readonly unconfirmedBp?: number;
  /** How long after a slot ends reports for it are still taken (default periodMs). */
  readonly graceMs?: number;
  /** How far a report's end may lie ahead of the clock (default 60,000 ms). */
  readonly maxClockSkewMs?: number;
  /** Most open slots (session × period) at once (default 100,000). */
  readonly maxEntries?: number;
  /** Most distribution nodes reporting one slot (default 8). */
  readonly maxReportersPerEntry?: number;
}

/** Who sent a report: the anonymous viewer, or a distribution node named by its identity key. */
export type UsageSource = { readonly role: 'viewer' } | { readonly role: 'distribution'; readonly node: Uint8Array };

export type UsageRefusal = 'wrong-role' | 'bad-period' | 'future' | 'late' | 'overlap' | 'full';

export type UsageSubmitResult =
  | { readonly ok: true; readonly downBytes: number; readonly upBytes: number; readonly clipped: boolean }
  | { readonly ok: false; readonly reason: UsageRefusal; readonly message: string };

export interface UsageFigures {
  readonly downBytes: number;
  readonly upBytes: number;
}

export interface NodeUsage extends UsageFigures {
  readonly node: Uint8Array;
}

export type UsageStatus = 'confirmed' | 'disputed' | 'unconfirmed';

export interface UsageDispute {
  readonly direction: 'down' | 'up';
  /** The side whose figure exceeded what the other side's allows. */
  readonly higher: UsageRole;
  readonly viewerBytes: number;
  readonly distributionBytes: number;
}

/** The normalised usage of one session in one slot. */
export interface NormalisedUsage {
  readonly sessionId: Uint8Array;
  /** The slot: [periodStart, periodEnd). */
  readonly periodStart: number;
  readonly periodEnd: number;
  readonly status: UsageStatus;
  /** The viewer's figures after the rate cap, or null when it did not report. */
  readonly viewer: UsageFigures | null;
  /** Each distribution node's figures after the rate cap (ascending by key; empty when none reported). */
  readonly distribution: readonly NodeUsage[];
  readonly accepted: UsageFigures;
  readonly disputes: readonly UsageDispute[];
}

interface Side {
  down: number;
  up: number;
  /** End of the latest piece. */
  lastEnd: number;
}

interface Entry {
  readonly sessionId: Uint8Array;
  readonly slotStart: number;
  viewer: Side | null;
  readonly nodes: Map<string, { node: Uint8Array; side: Side }>;
}

/** floor(x × bp / 10,000) without leaving the safe integers for x ≤ 2^53. */
function share(x: number, bp: number): number {
  return Math.floor(x / BP) * bp + Math.floor(((x % BP) * bp) / BP);
}

/** Bytes a stream at `rateBps` carries in `ms` (floor). */
function bytesAt(rateBps: number, ms: number): number {
  // rate ≤ 1e12 and ms ≤ 3.6e6: split to keep the product exact.
  return Math.floor(rateBps / 8000) * ms + Math.floor(((rateBps % 8000) * ms) / 8000);
}

export class UsageLedger {
  readonly periodMs: number;
  readonly maxRateBps: number;
  readonly toleranceBp: number;
  readonly slackBytes: number;
  readonly unconfirmedBp: number;
  readonly graceMs: number;
  readonly maxClockSkewMs: number;
  readonly maxEntries: number;
  readonly maxReportersPerEntry: number;
  private readonly entries = new Map<string, Entry>();

  constructor(options: UsageLedgerOptions) {
    checkObject(options, 'options');
    checkInt(options.periodMs, 'options.periodMs', 1000, MAX_USAGE_PERIOD_MS);
    checkInt(options.maxRateBps, 'options.maxRateBps', 1, MAX_USAGE_RATE_BPS);
    this.periodMs = options.periodMs;
    this.maxRateBps = options.maxRateBps;
    this.toleranceBp = options.toleranceBp ?? 1000;
    checkInt(this.toleranceBp, 'options.toleranceBp', 0, BP);
    this.slackBytes = options.slackBytes ?? 65_536;
    checkInt(this.slackBytes, 'options.slackBytes', 0, 2 ** 40);
    this.unconfirmedBp = options.unconfirmedBp ?? 2500;
    checkInt(this.unconfirmedBp, 'options.unconfirmedBp', 0, BP);
    this.graceMs = options.graceMs ?? options.periodMs;
    checkInt(this.graceMs, 'options.graceMs', 0, 24 * MAX_USAGE_PERIOD_MS);
    this.maxClockSkewMs = options.maxClockSkewMs ?? 60_000;
    checkInt(this.maxClockSkewMs, 'options.maxClockSkewMs', 0, MAX_USAGE_PERIOD_MS);
    this.maxEntries = options.maxEntries ?? 100_000;
    checkInt(this.maxEntries, 'options.maxEntries', 1, 1 << 24);
    this.maxReportersPerEntry = options.maxReportersPerEntry ?? 8;
    checkInt(this.maxReportersPerEntry, 'options.maxReportersPerEntry', 1, 64);
  }

  /** Open slots. */
  get size(): number {
    return this.entries.size;
  }

  /** The bytes a stream at the maximum rate carries in one slot. */
  get slotCapBytes(): number {
    return bytesAt(this.maxRateBps, this.periodMs);
  }

  /** The slot a time falls in: its start. */
  slotOf(t: number): number {
    checkTime(t, 't');
    return t - (t % this.periodMs);
  }

  /** Takes one report from `source` at `now` (the rule in the header). */
  submit(report: UsageReport, source: UsageSource, now: number): UsageSubmitResult {
    checkObject(report, 'report');
    assertBytes(report.sessionId, 'report.sessionId', SESSION_ID_LENGTH);
    if (report.role !== 'viewer' && report.role !== 'distribution') throw new RangeError("report.role must be 'viewer' or 'distribution'");
    checkCounter(report.periodStart, 'report.periodStart');
    checkCounter(report.periodEnd, 'report.periodEnd');
    if (report.periodEnd < report.periodStart) throw new RangeError('report.periodEnd must not be before report.periodStart');
    checkCounter(report.downBytes, 'report.downBytes');
    checkCounter(report.upBytes, 'report.upBytes');
    checkObject(source, 'source');
    if (source.role === 'distribution') assertBytes(source.node, 'source.node', 32);
    else if (source.role !== 'viewer') throw new RangeError("source.role must be 'viewer' or 'distribution'");
    checkTime(now, 'now');

    if (report.role !== source.role) return refuse('wrong-role', `a ${source.role} sent a ${report.role} report`);
    const slotStart = this.slotOf(report.periodStart);
    const slotEnd = slotStart + this.periodMs;
    if (report.periodEnd > slotEnd) {
      return refuse('bad-period', `period ${report.periodStart}..${report.periodEnd} crosses the slot boundary ${slotEnd} (slots of ${this.periodMs} ms)`);
    }
    if (report.periodEnd > now + this.maxClockSkewMs) return refuse('future', `period ends at ${report.periodEnd}, after ${now} (+${this.maxClockSkewMs} ms skew)`);
    if (now >= slotEnd + this.graceMs) return refuse('late', `the slot ${slotStart}..${slotEnd} closed at ${slotEnd + this.graceMs}`);

    const key = `${toHex(report.sessionId)}:${slotStart}`;
    let entry = this.entries.get(key);
    const nodeKey = source.role === 'distribution' ? toHex(source.node) : '';
    const existing = entry === undefined ? null : source.role === 'viewer' ? entry.viewer : (entry.nodes.get(nodeKey)?.side ?? null);
    if (existing !== null && report.periodStart < existing.lastEnd) {
      return refuse('overlap', `this reporter already reported the session up to ${existing.lastEnd}`);
    }
    if (entry === undefined && this.entries.size >= this.maxEntries) return refuse('full', `${this.maxEntries} slots are open`);
    if (source.role === 'distribution' && existing === null && entry !== undefined && entry.nodes.size >= this.maxReportersPerEntry) {
      return refuse('full', `${this.maxReportersPerEntry} nodes already reported this session and slot`);
    }

    const cap = bytesAt(this.maxRateBps, report.periodEnd - report.periodStart);
    const downBytes = Math.min(report.downBytes, cap);
    const upBytes = Math.min(report.upBytes, cap);
    if (entry === undefined) {
      entry = { sessionId: report.sessionId.slice(), slotStart, viewer: null, nodes: new Map() };
      this.entries.set(key, entry);
    }
    const side = existing ?? { down: 0, up: 0, lastEnd: 0 };
    side.down += downBytes;
    side.up += upBytes;
    side.lastEnd = report.periodEnd;
    if (existing === null) {
      if (source.role === 'viewer') entry.viewer = side;
      else entry.nodes.set(nodeKey, { node: source.node.slice(), side });
    }
    return { ok: true, downBytes, upBytes, clipped: downBytes !== report.downBytes || upBytes !== report.upBytes };
  }

  /** The figures a slot would close with now, or undefined when nobody reported it. */
  peek(sessionId: Uint8Array, periodStart: number): NormalisedUsage | undefined {
    assertBytes(sessionId, 'sessionId', SESSION_ID_LENGTH);
    const entry = this.entries.get(`${toHex(sessionId)}:${this.slotOf(periodStart)}`);
    return entry === undefined ? undefined : this.normalise(entry);
  }

  /** Closes the slots whose grace has passed at `now`: returns their normalised usage and forgets them. */
  finalize(now: number): NormalisedUsage[] {
    checkTime(now, 'now');
    const out: NormalisedUsage[] = [];
    for (const [key, entry] of this.entries) {
      if (now < entry.slotStart + this.periodMs + this.graceMs) continue;
      out.push(this.normalise(entry));
      this.entries.delete(key);
    }
    return out.sort((a, b) => a.periodStart - b.periodStart || (toHex(a.sessionId) < toHex(b.sessionId) ? -1 : 1));
  }

  /** Closes every open slot at once, whatever the time (a stopping oracle). */
  finalizeAll(): NormalisedUsage[] {
    const out = [...this.entries.values()].map((e) => this.normalise(e));
    this.entries.clear();
    return out;
  }

  private normalise(entry: Entry): NormalisedUsage {
    const slotCap = this.slotCapBytes;
    const nodes = [...entry.nodes.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, v]) => v);
    const distribution: NodeUsage[] = nodes.map((n) => ({ node: n.node.slice(), downBytes: n.side.down, upBytes: n.side.up }));
    const viewer: UsageFigures | null = entry.viewer === null ? null : { downBytes: entry.viewer.down, upBytes: entry.viewer.up };
    const base = { sessionId: entry.sessionId.slice(), periodStart: entry.slotStart, periodEnd: entry.slotStart + this.periodMs, viewer, distribution };
    if (viewer === null || distribution.length === 0) {
      // Rule 5: one side only.
      const only = viewer ?? sum(distribution);
      const limit = Math.min(slotCap, share(slotCap, this.unconfirmedBp));
      const accepted = { downBytes: Math.min(only.downBytes, limit), upBytes: Math.min(only.upBytes, limit) };
      return { ...base, status: 'unconfirmed', accepted, disputes: [] };
    }
    // Rule 4: both sides.
    const d = sum(distribution);
    const disputes: UsageDispute[] = [];
    const pick = (direction: 'down' | 'up', v: number, n: number): number => {
      const lo = Math.min(v, n);
      const hi = Math.max(v, n);
      const bound = lo + share(lo, this.toleranceBp) + this.slackBytes;
      if (hi > bound) disputes.push({ direction, higher: v > n ? 'viewer' : 'distribution', viewerBytes: v, distributionBytes: n });
      return Math.min(hi, bound, slotCap);
    };
    const accepted = { downBytes: pick('down', viewer.downBytes, d.downBytes), upBytes: pick('up', viewer.upBytes, d.upBytes) };
    return { ...base, status: disputes.length > 0 ? 'disputed' : 'confirmed', accepted, disputes };
  }
}

function sum(list: readonly UsageFigures[]): UsageFigures {
  let downBytes = 0;
  let upBytes = 0;
  for (const x of list) {
    downBytes += x.downBytes;
    upBytes += x.upBytes;
  }
  return { downBytes, upBytes };
}

function refuse(reason: UsageRefusal, message: string): UsageSubmitResult {
  return { ok: false, reason, message };
}
