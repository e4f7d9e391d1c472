import { describe, expect, it } from 'vitest';
import type { CellErrorCode } from '../../node-core/cell';
import { CELL_ERROR_CODES, CellDecoder, CellError, DEFAULT_CELL_LIMITS, NEED_MORE, decodeCell } from '../../node-core/cell';
import { fromHex } from '../../node-core/util/bytes';
import corpus from './corpus/bad-cells.json';

interface BadCase {
  name: string;
  hex: string;
  error: CellErrorCode;
  maxVarPayload?: number;
}

const cases = corpus as BadCase[];

/** Decodes with decodeCell, cell after cell; the stream's final error code (or 'none'). */
function oneShotOutcome(bytes: Uint8Array, maxVarPayload: number): string {
  let off = 0;
  for (;;) {
    let r;
    try {
      r = decodeCell(bytes, off, { maxVarPayload });
    } catch (err) {
      return err instanceof CellError ? err.code : `non-CellError: ${String(err)}`;
    }
    if (r === NEED_MORE) return off < bytes.length ? 'truncated' : 'none';
    off += r.length;
  }
}

/** Feeds a CellDecoder in chunks of `size`, draining after each, then end(). */
function streamOutcome(bytes: Uint8Array, maxVarPayload: number, size: number): string {
  const dec = new CellDecoder({ maxVarPayload });
  try {
    for (let off = 0; off < bytes.length; off += size) {
      dec.push(bytes.subarray(off, off + size));
      while (dec.next() !== NEED_MORE);
    }
    dec.end();
  } catch (err) {
    return err instanceof CellError ? err.code : `non-CellError: ${String(err)}`;
  }
  return 'none';
}

describe('bad cell corpus (test/cell/corpus/bad-cells.json)', () => {
  it('has at least 15 cases with distinct names and known codes', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    for (const c of cases) expect(CELL_ERROR_CODES).toContain(c.error);
    for (const code of ['unknown-command', 'bad-circuit-id', 'length-too-large', 'truncated']) {
      expect(cases.some((c) => c.error === code)).toBe(true);
    }
  });

  for (const c of cases) {
    it(`${c.name} → ${c.error}`, () => {
      const bytes = fromHex(c.hex);
      const max = c.maxVarPayload ?? DEFAULT_CELL_LIMITS.maxVarPayload;
      expect(oneShotOutcome(bytes, max)).toBe(c.error);
      for (const size of [bytes.length || 1, 1, 2, 3, 5, 7, 64, 513]) {
        expect(streamOutcome(bytes, max, size)).toBe(c.error);
      }
    });
  }
});
