/**
 * The decoder over a long stream in chunks of widely varying size, which exercises its buffer
 * compaction and growth paths (a link under bulk load delivers chunks from 1 byte to 64 KiB).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CellCommand, CellDecoder, encodeCell, NEED_MORE } from '../../node-core/cell';

function stream(count: number): Uint8Array {
  const parts = Array.from({ length: count }, (_, i) =>
    i % 7 === 3
      ? encodeCell({ circId: 0x80000001, command: CellCommand.StreamRelay, payload: new Uint8Array(1 + ((i * 131) % 3000)).fill(i & 255) })
      : encodeCell({ circId: 0x80000000 + (i % 1000) + 1, command: CellCommand.Relay, payload: new Uint8Array(509).fill(i & 255) }),
  );
  return Buffer.concat(parts);
}

describe('CellDecoder on a long stream', () => {
  const all = stream(6000);
  it('returns every cell intact for any chunking between 1 byte and 70 KB', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 64 }), (sizes) => {
        const d = new CellDecoder({ maxVarPayload: 65535 });
        let off = 0;
        let n = 0;
        let k = 0;
        while (off < all.length) {
          const len = Math.min(all.length - off, sizes[k++ % sizes.length]!);
          d.push(all.subarray(off, off + len));
          off += len;
          for (let c = d.next(); c !== NEED_MORE; c = d.next()) {
            expect(c.payload[0]).toBe(n & 255);
            expect(c.command).toBe(n % 7 === 3 ? CellCommand.StreamRelay : CellCommand.Relay);
            n++;
          }
        }
        expect(n).toBe(6000);
      }),
      { numRuns: 40 },
    );
  });
});
