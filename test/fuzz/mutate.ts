/**
 * A format-blind byte mutator for the fuzz harness. Every choice comes from the given Prng, so a
 * run is reproducible from its seed. Each call applies 1, 2, 4 or 8 stacked mutations:
 * bit flips, bytes set to interesting values, 16- and 32-bit big-endian fields set or nudged
 * (length fields, ids), inserts, deletes, truncation, duplication, random overwrites, splices of
 * two inputs, and wholly random inputs.
 *
 * It works in place in a scratch buffer allocated once, so mutating costs no allocation (typed
 * array allocation would otherwise dominate a run of small inputs).
 */
import type { Prng } from './prng';

const INTERESTING_U8 = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
const INTERESTING_U16 = [
  0x0000, 0x0001, 0x007f, 0x0080, 0x00ff, 0x0100, 0x01fd, 0x01fe, 0x0200, 0x1fff, 0x2000, 0x2001, 0x7fff, 0x8000, 0xfffe,
  0xffff,
];
const INTERESTING_U32 = [0x00000000, 0x00000001, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff];

export class Mutator {
  readonly maxLength: number;
  readonly #rng: Prng;
  readonly #buf: Uint8Array;
  readonly #tmp: Uint8Array;
  #len = 0;

  constructor(rng: Prng, maxLength: number) {
    if (!Number.isInteger(maxLength) || maxLength < 16) throw new RangeError(`maxLength must be an integer >= 16, got ${maxLength}`);
    this.#rng = rng;
    this.maxLength = maxLength;
    this.#buf = new Uint8Array(maxLength);
    this.#tmp = new Uint8Array(maxLength);
  }

  /**
   * Returns a mutated copy of `input` as a view into the mutator's scratch buffer: valid until
   * the next call. `pool` supplies the other half of splices.
   */
  mutate(input: Uint8Array, pool: readonly Uint8Array[]): Uint8Array {
    this.#len = Math.min(input.length, this.maxLength);
    this.#buf.set(input.subarray(0, this.#len));
    const rounds = 1 << this.#rng.below(4);
    for (let i = 0; i < rounds; i++) this.#once(pool);
    return this.#buf.subarray(0, this.#len);
  }

  /** A position below `length` (> 0); half the time within the first 16 bytes, where headers live. */
  #position(length: number): number {
    const rng = this.#rng;
    return rng.u32() & 1 ? rng.below(Math.min(length, 16)) : rng.below(length);
  }

  /** A span length 1..max (max >= 1): mostly short, sometimes long. */
  #span(max: number): number {
    const rng = this.#rng;
    return rng.u32() & 3 ? rng.int(1, Math.min(max, 16)) : rng.int(1, max);
  }

  #randomFill(from: number, to: number): void {
    const buf = this.#buf;
    for (let i = from; i < to; i += 4) {
      let r = this.#rng.u32();
      for (let j = i; j < i + 4 && j < to; j++) {
        buf[j] = r & 0xff;
        r >>>= 8;
      }
    }
  }

  /** Opens a gap of up to `n` bytes at `at`; returns the gap's actual size. */
  #openGap(at: number, n: number): number {
    const room = Math.min(n, this.maxLength - this.#len);
    if (room <= 0) return 0;
    this.#buf.copyWithin(at + room, at, this.#len);
    this.#len += room;
    return room;
  }

  #once(pool: readonly Uint8Array[]): void {
    const rng = this.#rng;
    const buf = this.#buf;
    const len = this.#len;
    const op = rng.below(12);
    if (len === 0 && op < 9) {
      this.#len = rng.int(1, 32);
      this.#randomFill(0, this.#len);
      return;
    }
    switch (op) {
      case 0: {
        // Bit flips.
        const n = rng.int(1, 4);
        for (let i = 0; i < n; i++) {
          const p = this.#position(len);
          buf[p] = buf[p]! ^ (1 << rng.below(8));
        }
        return;
      }
      case 1:
        // A byte set to an interesting value.
        buf[this.#position(len)] = rng.pick(INTERESTING_U8);
        return;
      case 2: {
        // A 16-bit big-endian field set or nudged (length fields).
        if (len < 2) return;
        const p = this.#position(len - 1);
        const cur = (buf[p]! << 8) | buf[p + 1]!;
        const mode = rng.below(3);
        const v = mode === 0 ? rng.pick(INTERESTING_U16) : (cur + (mode === 1 ? 1 : -1) * rng.int(1, 16)) & 0xffff;
        buf[p] = v >>> 8;
        buf[p + 1] = v & 0xff;
        return;
      }
      case 3: {
        // A 32-bit big-endian field set to an interesting value (ids).
        if (len < 4) return;
        const p = this.#position(len - 3);
        const v = rng.pick(INTERESTING_U32);
        buf[p] = v >>> 24;
        buf[p + 1] = (v >>> 16) & 0xff;
        buf[p + 2] = (v >>> 8) & 0xff;
        buf[p + 3] = v & 0xff;
        return;
      }
      case 4: {
        // Insert random bytes, or a run of one interesting byte.
        const at = rng.below(len + 1);
        const n = this.#openGap(at, this.#span(64));
        if (rng.u32() & 1) this.#randomFill(at, at + n);
        else buf.fill(rng.pick(INTERESTING_U8), at, at + n);
        return;
      }
      case 5: {
        // Delete a range.
        const at = rng.below(len);
        const n = this.#span(len - at);
        buf.copyWithin(at, at + n, len);
        this.#len = len - n;
        return;
      }
      case 6:
        // Truncate.
        this.#len = rng.below(len);
        return;
      case 7: {
        // Duplicate the whole input after itself, or a range somewhere else.
        if (rng.u32() & 1) {
          const n = Math.min(len, this.maxLength - len);
          buf.copyWithin(len, 0, n);
          this.#len = len + n;
          return;
        }
        const from = rng.below(len);
        const n = this.#span(len - from);
        this.#tmp.set(buf.subarray(from, from + n));
        const at = rng.below(len + 1);
        const gap = this.#openGap(at, n);
        buf.set(this.#tmp.subarray(0, gap), at);
        return;
      }
      case 8: {
        // Overwrite a range with random bytes.
        const at = rng.below(len);
        this.#randomFill(at, at + this.#span(len - at));
        return;
      }
      case 9:
      case 10: {
        // Splice: a prefix of this input and a suffix of another (or the whole other appended).
        if (pool.length === 0) return;
        const other = rng.pick(pool);
        const cut = rng.below(len + 1);
        const from = rng.u32() & 1 ? 0 : rng.below(other.length + 1);
        const tail = other.subarray(from, from + (this.maxLength - cut));
        buf.set(tail, cut);
        this.#len = cut + tail.length;
        return;
      }
      default:
        // Entirely random bytes.
        this.#len = rng.below(rng.u32() & 1 ? 32 : Math.min(1024, this.maxLength));
        this.#randomFill(0, this.#len);
        return;
    }
  }
}
