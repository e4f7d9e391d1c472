import { describe, expect, it } from 'vitest';
import type { Cell } from '../../node-core/cell';
import {
  ALL_CELL_COMMANDS,
  CellCommand,
  CellDecoder,
  CellError,
  NEED_MORE,
  encodeCell,
  requiresCircuitId,
} from '../../node-core/cell';
import { asDecoded, encodeAll, firstDifference } from './arbitraries';

function drain(dec: CellDecoder): Cell[] {
  const out: Cell[] = [];
  for (let c = dec.next(); c !== NEED_MORE; c = dec.next()) out.push(c);
  return out;
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** One cell of every command, with varied payload sizes, as a link might carry them. */
function mixedCells(): Cell[] {
  return ALL_CELL_COMMANDS.map((command, i) => ({
    circId: requiresCircuitId(command) ? 0x80000000 + i : 0,
    command,
    payload:
      command === CellCommand.Padding
        ? new Uint8Array(0)
        : Uint8Array.from({ length: command < 128 ? 509 - i : i * 37 }, (_, j) => (j + i) & 0xff),
  }));
}

describe('CellDecoder', () => {
  const cells = mixedCells();
  const stream = encodeAll(cells);
  const expected = cells.map(asDecoded);

  it('decodes many cells pushed in one chunk', () => {
    const dec = new CellDecoder();
    dec.push(stream);
    expect(drain(dec)).toEqual(expected);
    expect(dec.buffered).toBe(0);
    dec.end();
  });

  it('decodes the same cells when the stream is split at every possible byte boundary', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const dec = new CellDecoder();
      dec.push(stream.subarray(0, cut));
      const got = drain(dec);
      dec.push(stream.subarray(cut));
      got.push(...drain(dec));
      dec.end();
      expect({ cut, firstDifference: firstDifference(got, expected) }).toEqual({ cut, firstDifference: -1 });
    }
  });

  it('decodes the stream fed one byte at a time', () => {
    const dec = new CellDecoder();
    const got: Cell[] = [];
    for (let i = 0; i < stream.length; i++) {
      dec.push(stream.subarray(i, i + 1));
      got.push(...drain(dec));
    }
    expect(got).toEqual(expected);
    dec.end();
  });

  it('copies pushed chunks: reusing the caller buffer does not change cells', () => {
    const dec = new CellDecoder();
    const one = encodeCell({ circId: 0, command: CellCommand.Versions, payload: Uint8Array.of(0, 1) });
    const scratch = one.slice(0, 5);
    dec.push(scratch);
    scratch.fill(0xff);
    dec.push(one.subarray(5));
    const got = drain(dec);
    expect(got).toEqual([{ circId: 0, command: CellCommand.Versions, payload: Uint8Array.of(0, 1) }]);
  });

  it('handles a long stream of cells pushed in small chunks', () => {
    const many: Cell[] = [];
    for (let i = 0; i < 3000; i++) {
      many.push(
        i % 3 === 0
          ? { circId: i + 1, command: CellCommand.StreamRelay, payload: new Uint8Array(i % 700).fill(i & 0xff) }
          : { circId: i + 1, command: CellCommand.Relay, payload: new Uint8Array(509).fill(i & 0xff) },
      );
    }
    const bytes = encodeAll(many);
    const dec = new CellDecoder();
    const got: Cell[] = [];
    for (let off = 0, k = 0; off < bytes.length; k++) {
      const size = 1 + ((k * 7919) % 1500);
      dec.push(bytes.subarray(off, off + size));
      off += size;
      got.push(...drain(dec));
    }
    dec.end();
    expect(got.length).toBe(many.length);
    expect(firstDifference(got, many)).toBe(-1);
  });

  it('returns NEED_MORE when empty and accepts empty chunks', () => {
    const dec = new CellDecoder();
    expect(dec.next()).toBe(NEED_MORE);
    dec.push(new Uint8Array(0));
    expect(dec.next()).toBe(NEED_MORE);
    dec.end();
  });

  it('reports a cell cut short at the end of the stream, and poisons', () => {
    const dec = new CellDecoder();
    dec.push(stream.subarray(0, stream.length - 1));
    expect(drain(dec).length).toBe(expected.length - 1);
    expect(dec.buffered).toBeGreaterThan(0);
    const err = thrown(() => dec.end());
    expect(err).toBeInstanceOf(CellError);
    expect((err as CellError).code).toBe('truncated');
    expect(dec.error).toBe(err);
    expect(thrown(() => dec.next())).toBe(err);
  });

  it('end() with undrained complete cells is a usage error, not a truncation', () => {
    const dec = new CellDecoder();
    dec.push(stream);
    const err = thrown(() => dec.end());
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(CellError);
    expect(dec.error).toBeUndefined();
    expect(drain(dec)).toEqual(expected);
  });

  it('stays failed after an error: every call throws the same error', () => {
    const good = encodeCell({ circId: 0, command: CellCommand.Versions, payload: Uint8Array.of(0, 1) });
    const bad = encodeCell({ circId: 1, command: CellCommand.Relay, payload: new Uint8Array(0) });
    bad[0] = bad[1] = bad[2] = bad[3] = 0; // RELAY on circuit 0
    const dec = new CellDecoder();
    dec.push(new Uint8Array([...good, ...bad, ...good]));
    expect(dec.next()).toEqual({ circId: 0, command: CellCommand.Versions, payload: Uint8Array.of(0, 1) });
    const err = thrown(() => dec.next());
    expect(err).toBeInstanceOf(CellError);
    expect((err as CellError).code).toBe('bad-circuit-id');
    expect(thrown(() => dec.next())).toBe(err);
    expect(thrown(() => dec.push(good))).toBe(err);
    expect(thrown(() => dec.end())).toBe(err);
    expect(dec.error).toBe(err);
  });

  it('reports an error as soon as the header shows it', () => {
    const dec = new CellDecoder({ maxVarPayload: 8192 });
    dec.push(Uint8Array.of(0, 0, 0, 0, 130, 0x20)); // CERTS, length high byte only
    expect(dec.next()).toBe(NEED_MORE);
    dec.push(Uint8Array.of(0x01)); // length 8193
    expect((thrown(() => dec.next()) as CellError).code).toBe('length-too-large');
  });

  it('limits can be raised after the handshake', () => {
    const big = encodeCell({ circId: 0, command: CellCommand.Certs, payload: new Uint8Array(9000) });
    const strict = new CellDecoder({ maxVarPayload: 8192 });
    strict.push(big);
    expect((thrown(() => strict.next()) as CellError).code).toBe('length-too-large');

    const dec = new CellDecoder({ maxVarPayload: 8192 });
    expect(dec.limits).toEqual({ maxVarPayload: 8192 });
    dec.setLimits({ maxVarPayload: 65535 });
    dec.push(big);
    expect(drain(dec).length).toBe(1);
    expect(() => dec.setLimits({ maxVarPayload: 70000 })).toThrow(RangeError);
  });

  it('refuses to buffer more than one maximal cell of unread bytes', () => {
    const dec = new CellDecoder({ maxVarPayload: 8192 });
    const relay = encodeCell({ circId: 1, command: CellCommand.Relay, payload: new Uint8Array(0) });
    // A reader that never drains: after 16 RELAY cells (8224 bytes) more than one maximal cell
    // (7 + 8192 bytes) is unread, so the 17th push is refused.
    let err: unknown;
    let pushes = 0;
    for (; pushes < 100 && err === undefined; pushes++) err = thrown(() => dec.push(relay));
    expect(err).toBeInstanceOf(CellError);
    expect((err as CellError).code).toBe('buffer-overflow');
    expect(pushes).toBe(17);
    expect(dec.buffered).toBeLessThanOrEqual(7 + 8192 + relay.length);
    expect(thrown(() => dec.next())).toBe(err);
  });

  it('never overflows for a reader that drains, whatever the chunk size', () => {
    const dec = new CellDecoder({ maxVarPayload: 0 });
    const relay = encodeCell({ circId: 1, command: CellCommand.Relay, payload: new Uint8Array(0) });
    const chunk = encodeAll(Array.from({ length: 200 }, () => ({ circId: 1, command: CellCommand.Relay, payload: new Uint8Array(0) })));
    for (let i = 0; i < 20; i++) {
      dec.push(chunk);
      expect(drain(dec).length).toBe(200);
      dec.push(relay.subarray(0, 513));
      dec.push(relay.subarray(513));
      expect(drain(dec).length).toBe(1);
    }
    dec.end();
  });

  it('checks its arguments', () => {
    expect(() => new CellDecoder({ maxVarPayload: 1.5 })).toThrow(RangeError);
    expect(() => new CellDecoder('x' as unknown as { maxVarPayload: number })).toThrow(TypeError);
    const dec = new CellDecoder();
    expect(() => dec.push('abc' as unknown as Uint8Array)).toThrow(TypeError);
    // A bad argument does not poison the decoder.
    expect(dec.error).toBeUndefined();
    dec.push(encodeCell({ circId: 0, command: CellCommand.Padding, payload: new Uint8Array(0) }));
    expect(drain(dec).length).toBe(1);
  });
});
