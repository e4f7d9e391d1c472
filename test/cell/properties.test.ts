import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Cell, CellLimits } from '../../node-core/cell';
import { CellCommand, CellDecoder, CellError, NEED_MORE, decodeCell, encodeCell } from '../../node-core/cell';
import { asDecoded, cellArb, chunk, encodeAll, firstDifference } from './arbitraries';
import type { CellCodec } from './check';
import { checkCellStream, realCodec } from './check';

const limitsArb: fc.Arbitrary<CellLimits> = fc.record({
  maxVarPayload: fc.oneof(fc.constantFrom(0, 509, 8192, 65535), fc.integer({ min: 0, max: 65535 })),
});

/** Chunk sizes: mostly small (down to single bytes), sometimes larger than a cell. */
const chunkSizesArb = fc.array(fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 2000 })), {
  minLength: 1,
  maxLength: 40,
  size: 'max',
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Bytes that look like cell streams: valid cells, cut and corrupted, or plain noise. */
const hostileBytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 3000, size: 'max' }),
  fc
    .tuple(
      fc.array(cellArb(1200), { maxLength: 6, size: 'max' }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6, size: 'max' }),
      fc.oneof(fc.constant(0), fc.nat()),
    )
    .map(([cells, edits, cut]) => {
      const bytes = encodeAll(cells);
      for (const [at, value] of edits) if (bytes.length > 0) bytes[at % bytes.length] = value;
      return bytes.subarray(0, bytes.length === 0 ? 0 : bytes.length - (cut % Math.min(bytes.length, 20)));
    }),
  // A header of chosen fields followed by noise: reaches every command and length.
  fc
    .tuple(fc.constantFrom(0, 1, 0x80000000, 0xffffffff), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 1200, size: 'max' }))
    .map(([circId, command, len, rest]) => {
      const out = new Uint8Array(7 + rest.length);
      new DataView(out.buffer).setUint32(0, circId);
      out[4] = command;
      out[5] = len >>> 8;
      out[6] = len & 0xff;
      out.set(rest, 7);
      return out;
    }),
);

describe('cell codec properties (fast-check)', () => {
  it('(a) random valid cells round-trip, and re-encoding the decoded cell gives the same bytes', () => {
    fc.assert(
      fc.property(cellArb(), (cell: Cell) => {
        const bytes = encodeCell(cell);
        const r = decodeCell(bytes);
        if (r === NEED_MORE) return false;
        return (
          r.length === bytes.length &&
          firstDifference([r.cell], [asDecoded(cell)]) === -1 &&
          sameBytes(encodeCell(r.cell), bytes)
        );
      }),
      { numRuns: 300 },
    );
  });

  it('(b) any concatenation of valid cells split into arbitrary chunks decodes to the same cells', () => {
    fc.assert(
      fc.property(fc.array(cellArb(3000), { maxLength: 25, size: 'max' }), chunkSizesArb, (cells, sizes) => {
        const dec = new CellDecoder();
        const got: Cell[] = [];
        for (const part of chunk(encodeAll(cells), sizes)) {
          dec.push(part);
          for (let c = dec.next(); c !== NEED_MORE; c = dec.next()) got.push(c);
        }
        dec.end();
        expect(firstDifference(got, cells.map(asDecoded))).toBe(-1);
      }),
      { numRuns: 200 },
    );
  });

  it('(c) on arbitrary bytes, decoders throw only CellError and every cell re-encodes to the bytes consumed', () => {
    fc.assert(
      fc.property(hostileBytesArb, limitsArb, chunkSizesArb, (bytes, limits, sizes) => {
        // checkCellStream throws a plain Error on any broken invariant, and lets any
        // non-CellError from the codec through; either fails the property.
        checkCellStream(bytes, limits, sizes);
      }),
      { numRuns: 1000 },
    );
  });

  it('(c) decodeCell at any offset of arbitrary bytes throws nothing but CellError', () => {
    fc.assert(
      fc.property(hostileBytesArb, fc.nat(), limitsArb, (bytes, at, limits) => {
        const offset = at % (bytes.length + 1);
        try {
          const r = decodeCell(bytes, offset, limits);
          if (r !== NEED_MORE) {
            const again = encodeCell(r.cell);
            if (r.cell.command !== 1) expect(sameBytes(again, bytes.subarray(offset, offset + r.length))).toBe(true);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(CellError);
        }
      }),
      { numRuns: 1000 },
    );
  });

});

describe('the stream oracle (test/cell/check.ts) can fail', () => {
  // Guards against vacuous properties: each broken codec below must be caught.
  const bytes = encodeAll([
    { circId: 0, command: CellCommand.Versions, payload: Uint8Array.of(0, 1) },
    { circId: 7, command: CellCommand.Relay, payload: Uint8Array.of(1, 2, 3) },
  ]);
  const limits = { maxVarPayload: 65535 };

  it('accepts the real codec', () => {
    expect(checkCellStream(bytes, limits, [1]).cells.length).toBe(2);
  });

  it('catches a decoder whose cells do not re-encode to the consumed bytes', () => {
    const broken: CellCodec = {
      ...realCodec,
      decodeCell: (b, o, l) => {
        const r = decodeCell(b, o, l);
        if (r === NEED_MORE) return r;
        const payload = r.cell.payload.slice();
        payload[0] = payload[0]! ^ 1;
        return { cell: { ...r.cell, payload }, length: r.length };
      },
    };
    expect(() => checkCellStream(bytes, limits, [5], broken)).toThrow(/cell invariant/);
  });

  it('catches a stream decoder that disagrees with decodeCell', () => {
    const broken: CellCodec = {
      ...realCodec,
      createDecoder: (l) => {
        const dec = new CellDecoder(l);
        let skipped = false;
        return {
          push: (c: Uint8Array) => dec.push(c),
          end: () => dec.end(),
          next: () => {
            const c = dec.next();
            if (c !== NEED_MORE && !skipped) {
              skipped = true;
              return dec.next();
            }
            return c;
          },
        };
      },
    };
    expect(() => checkCellStream(bytes, limits, [bytes.length], broken)).toThrow(/cell invariant/);
  });

  it('lets an error other than CellError through', () => {
    const broken: CellCodec = {
      ...realCodec,
      decodeCell: () => {
        throw new TypeError('boom');
      },
    };
    expect(() => checkCellStream(bytes, limits, [1], broken)).toThrow(TypeError);
  });
});
