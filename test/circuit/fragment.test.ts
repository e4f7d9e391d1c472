/**
 * Fragmentation of application messages into ESCAPE cell data and their reassembly.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CircuitError } from '../../node-core/circuit/errors';
import { FragmentFlag, MAX_MESSAGE_LENGTH, Reassembler, fragmentMessage } from '../../node-core/circuit/fragment';
import { RELAY_DATA_MAX } from '../../node-core/circuit/relay-cell';
import { expectCircuitError, hex, patternBytes, toHex } from './helpers';

function reassemble(fragments: Uint8Array[], r = new Reassembler()): Uint8Array {
  let out: Uint8Array | null = null;
  fragments.forEach((f, i) => {
    const got = r.push(f);
    if (i < fragments.length - 1) expect(got).toBeNull();
    else out = got;
  });
  expect(out).not.toBeNull();
  return out!;
}

describe('round trips', () => {
  it.each([
    ['1 B', 1, 1],
    ['495 B (one full first fragment)', 495, 1],
    ['496 B', 496, 2],
    ['509 B', 509, 2],
    ['10 KiB', 10 * 1024, 21],
    ['64 KiB', 65536, 132],
  ])('%s in %i fragments', (_name, size, count) => {
    const msg = patternBytes(size, size);
    const frags = fragmentMessage(msg);
    expect(frags).toHaveLength(count);
    for (const f of frags) expect(f.length).toBeLessThanOrEqual(RELAY_DATA_MAX);
    expect(toHex(reassemble(frags))).toBe(toHex(msg));
  });

  it('lays out flags | total length on the first fragment, flags on the rest', () => {
    const frags = fragmentMessage(patternBytes(20, 1), 10);
    // 20 bytes at 10 per cell: 5 in the first (5-byte header), then 9, then 6.
    expect(frags.map((f) => f.length)).toEqual([10, 10, 7]);
    expect(toHex(frags[0]!.subarray(0, 5))).toBe('0100000014');
    expect(frags[1]![0]).toBe(0);
    expect(frags[2]![0]).toBe(FragmentFlag.Last);
    const single = fragmentMessage(Uint8Array.of(0xab));
    expect(toHex(single[0]!)).toBe('0300000001ab');
  });

  it('one reassembler takes several messages in a row', () => {
    const r = new Reassembler();
    for (const size of [3, 1200, 1, 499]) {
      const msg = patternBytes(size, size + 1);
      expect(toHex(reassemble(fragmentMessage(msg), r))).toBe(toHex(msg));
      expect(r.inProgress).toBe(false);
      expect(r.bufferedBytes).toBe(0);
    }
  });

  it('property: any message and fragment size round-trips', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 4096 }),
        fc.integer({ min: 6, max: RELAY_DATA_MAX }),
        (msg, maxData) => {
          const frags = fragmentMessage(msg, maxData);
          for (const f of frags) if (f.length > maxData) return false;
          const r = new Reassembler();
          const results = frags.map((f) => r.push(f));
          return results.slice(0, -1).every((x) => x === null) && toHex(results.at(-1)!) === toHex(msg);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('property: the largest messages round-trip', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_MESSAGE_LENGTH - 600, max: MAX_MESSAGE_LENGTH }), fc.integer({ min: 0, max: 255 }), (size, seed) => {
        const msg = patternBytes(size, seed);
        return toHex(reassemble(fragmentMessage(msg))) === toHex(msg);
      }),
      { numRuns: 10 },
    );
  });
});

describe('sender limits', () => {
  it('empty and over-64-KiB messages are refused with RangeError', () => {
    expect(() => fragmentMessage(new Uint8Array(0))).toThrow(/message/);
    expect(() => fragmentMessage(new Uint8Array(MAX_MESSAGE_LENGTH + 1))).toThrow(/message/);
  });

  it('maxData must leave room for the header and fit a relay cell', () => {
    expect(() => fragmentMessage(Uint8Array.of(1), 5)).toThrow(/maxData/);
    expect(() => fragmentMessage(Uint8Array.of(1), 501)).toThrow(/maxData/);
    expect(fragmentMessage(Uint8Array.of(1, 2), 6)).toHaveLength(2);
  });
});

describe('malformed sequences', () => {
  const first = (total: number, bytes: string, flags: number = FragmentFlag.First): Uint8Array =>
    hex(flags.toString(16).padStart(2, '0') + total.toString(16).padStart(8, '0') + bytes);
  const next = (bytes: string, last = false): Uint8Array => hex((last ? '02' : '00') + bytes);

  it('a continuation without a start', () => {
    expectCircuitError(() => new Reassembler().push(next('aabb')), 'fragment-no-start');
    expectCircuitError(() => new Reassembler().push(next('aabb', true)), 'fragment-no-start');
  });

  it('a new first fragment while a message is in progress', () => {
    const r = new Reassembler();
    expect(r.push(first(4, 'aabb'))).toBeNull();
    expectCircuitError(() => r.push(first(2, 'ccdd', FragmentFlag.First | FragmentFlag.Last)), 'fragment-interleaved');
  });

  it('an announced length over the maximum, before anything is buffered', () => {
    expectCircuitError(() => new Reassembler().push(first(MAX_MESSAGE_LENGTH + 1, 'aa')), 'fragment-too-large');
    expectCircuitError(() => new Reassembler().push(first(0xffffffff, 'aa')), 'fragment-too-large');
    const small = new Reassembler({ maxMessageLength: 100 });
    expectCircuitError(() => small.push(first(101, 'aa')), 'fragment-too-large');
    expect(small.push(first(100, 'aa'))).toBeNull();
  });

  it('more bytes than announced', () => {
    expectCircuitError(() => new Reassembler().push(first(1, 'aabb', 3)), 'fragment-overflow');
    const r = new Reassembler();
    r.push(first(3, 'aa'));
    expectCircuitError(() => r.push(next('bbccdd', true)), 'fragment-overflow');
  });

  it('LAST before the announced length, or the length reached without LAST', () => {
    expectCircuitError(() => new Reassembler().push(first(3, 'aa', 3)), 'fragment-length-mismatch');
    const r = new Reassembler();
    r.push(first(4, 'aa'));
    expectCircuitError(() => r.push(next('bb', true)), 'fragment-length-mismatch');
    expectCircuitError(() => r.push(next('bbccdd')), 'fragment-length-mismatch');
    expectCircuitError(() => new Reassembler().push(first(2, 'aabb')), 'fragment-length-mismatch');
  });

  it('empty fragments and empty messages', () => {
    expectCircuitError(() => new Reassembler().push(first(0, '', 3)), 'fragment-empty');
    expectCircuitError(() => new Reassembler().push(first(4, '')), 'fragment-empty');
    const r = new Reassembler();
    r.push(first(4, 'aa'));
    expectCircuitError(() => r.push(next('')), 'fragment-empty');
  });

  it('bad headers: no flags byte, reserved bits, a first fragment shorter than its header', () => {
    expectCircuitError(() => new Reassembler().push(new Uint8Array(0)), 'fragment-bad-header');
    expectCircuitError(() => new Reassembler().push(hex('0700000001aa')), 'fragment-bad-header');
    expectCircuitError(() => new Reassembler().push(hex('8300000001aa')), 'fragment-bad-header');
    expectCircuitError(() => new Reassembler().push(hex('01000000')), 'fragment-bad-header');
  });

  it('a rejected fragment changes nothing: the message in progress can still complete', () => {
    const msg = patternBytes(1500, 9);
    const frags = fragmentMessage(msg);
    const r = new Reassembler();
    r.push(frags[0]!);
    const before = r.bufferedBytes;
    expectCircuitError(() => r.push(frags[0]!), 'fragment-interleaved');
    expectCircuitError(() => r.push(hex('02' + 'ff'.repeat(2000))), 'fragment-overflow');
    expect(r.bufferedBytes).toBe(before);
    let out: Uint8Array | null = null;
    for (const f of frags.slice(1)) out = r.push(f);
    expect(toHex(out!)).toBe(toHex(msg));
  });

  it('reset discards a partial message', () => {
    const r = new Reassembler();
    r.push(fragmentMessage(patternBytes(1000))[0]!);
    expect(r.inProgress).toBe(true);
    r.reset();
    expect(r.inProgress).toBe(false);
    expect(r.bufferedBytes).toBe(0);
    expect(toHex(r.push(fragmentMessage(Uint8Array.of(5))[0]!)!)).toBe('05');
  });

  it('parameter checks', () => {
    expect(() => new Reassembler({ maxMessageLength: 0 })).toThrow(/maxMessageLength/);
    expect(() => new Reassembler().push('x' as never)).toThrow(TypeError);
  });
});

describe('property: arbitrary fragment streams', () => {
  it('throw only CircuitError, never buffer more than the maximum, and complete only announced lengths', () => {
    const max = 2000;
    const frag = fc.oneof(
      fc.uint8Array({ maxLength: 520 }),
      // Plausible fragments: valid flag values and small announced lengths.
      fc
        .record({ flags: fc.integer({ min: 0, max: 3 }), total: fc.integer({ min: 0, max: 2100 }), body: fc.uint8Array({ maxLength: 600 }) })
        .map(({ flags, total, body }) =>
          flags & 1 ? new Uint8Array([flags, 0, 0, total >> 8, total & 0xff, ...body]) : new Uint8Array([flags, ...body]),
        ),
    );
    fc.assert(
      fc.property(fc.array(frag, { maxLength: 30 }), (stream) => {
        const r = new Reassembler({ maxMessageLength: max });
        for (const f of stream) {
          try {
            const out = r.push(f);
            if (out !== null && (out.length < 1 || out.length > max)) return false;
          } catch (e) {
            if (!(e instanceof CircuitError)) throw e;
          }
          if (r.bufferedBytes > max) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });
});
