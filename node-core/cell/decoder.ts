/**
 * Incremental cell decoder for a link's byte stream (binary/cell.md "Cell binary format").
 *
 * Bytes arrive in chunks split anywhere; `push` appends a chunk, `next` returns the next complete
 * cell or NEED_MORE. Decoding rules, and the errors, are those of `decodeCell` (codec.ts).
 *
 * Contract with the reader: after each `push`, call `next` until it returns NEED_MORE. The
 * decoder then never holds more than one incomplete cell plus one chunk. If the reader stops
 * draining, `push` refuses to buffer past one maximal cell of unread bytes and throws
 * CellError('buffer-overflow'). At end of stream, `end()` reports a cell cut short.
 *
 * Once a CellError has been thrown the decoder is poisoned: every later call throws the same
 * error, because the stream can no longer be framed and the link must be closed.
 *
 * Buffering: one growable array with read/write offsets; consumed bytes are dropped by moving
 * the read offset; when a chunk does not fit at the end, the unread tail is moved to the front if
 * tail and chunk fill at most half the array, otherwise a new array of twice that size is made. Each input byte is thus copied O(1)
 * times on average, whatever the chunking.
 */
import { assertBytes } from '../util/bytes';
import type { Cell, CellLimits, NeedMore } from './codec';
import { DEFAULT_CELL_LIMITS, NEED_MORE, checkLimits, decodeAt, maxCellLength } from './codec';
import { CellError } from './errors';

const MIN_CAPACITY = 64;
const EMPTY = new Uint8Array(0);

export class CellDecoder {
  #buf: Uint8Array = EMPTY;
  #start = 0;
  #end = 0;
  #maxVar: number;
  #maxCell: number;
  #error: CellError | undefined;

  constructor(limits: CellLimits = DEFAULT_CELL_LIMITS) {
    this.#maxVar = checkLimits(limits, 'limits');
    this.#maxCell = maxCellLength(this.#maxVar);
  }

  /** Changes the limits for cells not yet returned (e.g. raised once a link handshake is done). */
  setLimits(limits: CellLimits): void {
    const max = checkLimits(limits, 'limits');
    this.#maxVar = max;
    this.#maxCell = maxCellLength(max);
  }

  get limits(): CellLimits {
    return { maxVarPayload: this.#maxVar };
  }

  /** Bytes pushed but not yet returned as cells. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** The error that poisoned this decoder, if any. */
  get error(): CellError | undefined {
    return this.#error;
  }

  #fail(err: CellError): never {
    this.#error = err;
    throw err;
  }

  /** Appends a chunk of the stream. The chunk is copied; the caller may reuse it afterwards. */
  push(chunk: Uint8Array): void {
    assertBytes(chunk, 'chunk');
    if (this.#error) throw this.#error;
    const unread = this.#end - this.#start;
    if (unread > this.#maxCell) {
      this.#fail(
        new CellError(
          'buffer-overflow',
          `cell decoder holds ${unread} unread bytes, more than one cell of at most ${this.#maxCell}; cells are not being drained`,
        ),
      );
    }
    const n = chunk.length;
    if (n === 0) return;
    if (this.#end + n > this.#buf.length) {
      const need = unread + n;
      if (need <= this.#buf.length >>> 1) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        const next = new Uint8Array(Math.max(need * 2, MIN_CAPACITY));
        next.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = next;
      }
      this.#start = 0;
      this.#end = unread;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += n;
  }

  /** The next complete cell, or NEED_MORE. Throws CellError for a bad cell (and stays failed). */
  next(): Cell | NeedMore {
    if (this.#error) throw this.#error;
    if (this.#start === this.#end) return NEED_MORE;
    let r;
    try {
      r = decodeAt(this.#buf, this.#start, this.#end, this.#maxVar);
    } catch (err) {
      if (err instanceof CellError) this.#fail(err);
      throw err;
    }
    if (r === NEED_MORE) return NEED_MORE;
    this.#start += r.length;
    if (this.#start === this.#end) {
      this.#start = 0;
      this.#end = 0;
      // A burst (one very large chunk) may have grown the array; give the memory back.
      if (this.#buf.length > 4 * this.#maxCell) this.#buf = EMPTY;
    }
    return r.cell;
  }

  /**
   * Declares the end of the stream. Throws CellError('truncated') if bytes of an incomplete cell
   * remain (and poisons the decoder); call it after draining with `next`.
   */
  end(): void {
    if (this.#error) throw this.#error;
    const unread = this.#end - this.#start;
    if (unread === 0) return;
    let r;
    try {
      r = decodeAt(this.#buf, this.#start, this.#end, this.#maxVar);
    } catch (err) {
      if (err instanceof CellError) this.#fail(err);
      throw err;
    }
    if (r !== NEED_MORE) {
      throw new Error('CellDecoder.end: complete cells are still buffered; call next() until NEED_MORE first');
    }
    this.#fail(new CellError('truncated', `stream ended inside a cell (${unread} bytes left over)`));
  }
}
