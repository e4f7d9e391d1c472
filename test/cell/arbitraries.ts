/** fast-check arbitraries for cells, shared by the cell tests. */
import fc from 'fast-check';
import type { Cell } from '../../node-core/cell';
import {
  ALL_CELL_COMMANDS,
  CELL_PAYLOAD_LEN,
  CellCommand,
  MAX_CIRC_ID,
  MAX_VAR_PAYLOAD,
  encodeCell,
  requiresCircuitId,
} from '../../node-core/cell';

/** Non-zero circuit ids, with the edges (1, 2^31 - 1, 2^31, 2^32 - 1) likely. */
export const circIdArb = fc.oneof(
  fc.constantFrom(1, 0x7fffffff, 0x80000000, MAX_CIRC_ID),
  fc.integer({ min: 1, max: MAX_CIRC_ID }),
);

/**
 * Payload bytes that shrink cheaply: a length and a seed expanded by xorshift32. (Shrinking an
 * arbitrary byte array tries its elements one by one, which for payloads of many kilobytes takes
 * minutes; this shrinks in a few dozen steps.)
 */
export function seededBytesArb(maxLength: number): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.integer({ min: 0, max: maxLength }), fc.integer({ min: 1, max: 0xffffffff }))
    .map(([n, seed]) => {
      const out = new Uint8Array(n);
      let x = seed >>> 0;
      for (let i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        out[i] = x & 0xff;
      }
      return out;
    });
}

/**
 * Payloads up to `maxLength` bytes: fully arbitrary up to 600 bytes, and at any length either
 * pseudo-random (seededBytesArb) or uniform 0x00/0xff. Every arm shrinks quickly.
 */
export function payloadArb(maxLength: number): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: Math.min(maxLength, 600), size: 'max' }),
    seededBytesArb(maxLength),
    fc
      .tuple(fc.integer({ min: 0, max: maxLength }), fc.constantFrom(0x00, 0xff))
      .map(([n, b]) => new Uint8Array(n).fill(b)),
  );
}

/** Valid cells of any command; variable payloads up to `maxVarPayload` bytes. */
export function cellArb(maxVarPayload = MAX_VAR_PAYLOAD): fc.Arbitrary<Cell> {
  return fc.constantFrom(...ALL_CELL_COMMANDS).chain((command) => {
    const circId = requiresCircuitId(command) ? circIdArb : fc.constant(0);
    const payload =
      command === CellCommand.Padding
        ? fc.integer({ min: 0, max: CELL_PAYLOAD_LEN }).map((n) => new Uint8Array(n))
        : payloadArb(command < 128 ? CELL_PAYLOAD_LEN : maxVarPayload);
    return fc.record({ circId, command: fc.constant(command), payload });
  });
}

/** What a cell decodes back to: a fixed cell's payload zero-padded to 509 bytes. */
export function asDecoded(cell: Cell): Cell {
  if (cell.command >= 128) return cell;
  const payload = new Uint8Array(CELL_PAYLOAD_LEN);
  payload.set(cell.payload);
  return { circId: cell.circId, command: cell.command, payload };
}

/** The wire bytes of several cells in a row. */
export function encodeAll(cells: readonly Cell[]): Uint8Array {
  const parts = cells.map(encodeCell);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Splits `bytes` into chunks whose sizes cycle through `sizes` (each at least 1). */
export function chunk(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  let i = 0;
  while (off < bytes.length) {
    const size = Math.max(1, sizes[i++ % sizes.length]!);
    out.push(bytes.subarray(off, off + size));
    off += size;
  }
  return out;
}

/**
 * Index of the first cell where the two lists differ (circuit id, command or payload bytes),
 * or -1 when they are equal. Much faster than a deep equality on large payloads.
 */
export function firstDifference(a: readonly Cell[], b: readonly Cell[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.circId !== y.circId || x.command !== y.command || x.payload.length !== y.payload.length) return i;
    for (let j = 0; j < x.payload.length; j++) if (x.payload[j] !== y.payload[j]) return i;
  }
  return a.length === b.length ? -1 : n;
}
