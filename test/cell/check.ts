/**
 * The cell codec's stream oracle, shared by the property tests and the 'cells' fuzz target.
 *
 * `checkCellStream` decodes a byte string twice — with decodeCell in a loop, and with a
 * CellDecoder fed in the given chunk sizes — and checks the invariants every input must keep:
 * - only CellError escapes the codec (anything else propagates to the caller as a crash);
 * - every decoded cell re-encodes to exactly the bytes it was decoded from, except that a
 *   PADDING cell's payload comes back as zeros (see node-core/cell/codec.ts);
 * - both ways give the same cells and end with the same error code (an input that stops inside
 *   a cell counts as 'truncated');
 * - a failed decoder stays failed, throwing the same error again from next().
 * A broken invariant throws a plain Error whose message starts with "cell invariant".
 */
import type { Cell, CellErrorCode, CellLimits } from '../../node-core/cell';
import {
  CELL_PAYLOAD_LEN,
  CellCommand,
  CellDecoder,
  CellError,
  NEED_MORE,
  decodeCell,
  encodeCellInto,
} from '../../node-core/cell';

/** The codec under test; the default is node-core/cell. Tests of this oracle pass broken ones. */
export interface CellCodec {
  decodeCell: typeof decodeCell;
  encodeCellInto: typeof encodeCellInto;
  createDecoder(limits: CellLimits): Pick<CellDecoder, 'push' | 'next' | 'end'>;
}

export const realCodec: CellCodec = {
  decodeCell,
  encodeCellInto,
  createDecoder: (limits) => new CellDecoder(limits),
};

export interface StreamOutcome {
  cells: Cell[];
  /** Undefined when the whole input decoded into cells. */
  error: CellErrorCode | undefined;
}

const DECODE_ERRORS: ReadonlySet<CellErrorCode> = new Set(['unknown-command', 'bad-circuit-id', 'length-too-large', 'truncated']);

function thrownBy(call: () => unknown): unknown {
  try {
    call();
  } catch (err) {
    return err;
  }
  return undefined;
}

function violation(message: string): Error {
  return new Error(`cell invariant: ${message}`);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameCell(a: Cell, b: Cell): boolean {
  return a.circId === b.circId && a.command === b.command && sameBytes(a.payload, b.payload);
}

const scratch = new Uint8Array(7 + 0xffff);

/**
 * Whether `cell` re-encodes to `consumed`: the very bytes, except that a PADDING cell's payload
 * comes back as zeros. Uses a scratch buffer (encodeCellInto) to stay allocation-free.
 */
function reencodesTo(codec: CellCodec, cell: Cell, consumed: Uint8Array): boolean {
  let n: number;
  try {
    n = codec.encodeCellInto(cell, scratch, 0);
  } catch (err) {
    // A decoded cell that cannot be encoded is a decoder bug, not a rejected input.
    throw violation(`decoded cell does not re-encode: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (n !== consumed.length) return false;
  const padding = cell.command === CellCommand.Padding;
  for (let i = 0; i < n; i++) {
    const want = padding && i >= 5 ? 0 : consumed[i];
    if (scratch[i] !== want) return false;
  }
  return true;
}

/** Decodes `bytes` with decodeCell from offset 0 until it fails or runs out. */
export function decodeAllOneShot(bytes: Uint8Array, limits: CellLimits, codec: CellCodec = realCodec): StreamOutcome {
  const cells: Cell[] = [];
  let off = 0;
  for (;;) {
    let r;
    try {
      r = codec.decodeCell(bytes, off, limits);
    } catch (err) {
      if (err instanceof CellError) return { cells, error: err.code };
      throw err;
    }
    if (r === NEED_MORE) return { cells, error: off < bytes.length ? 'truncated' : undefined };
    if (!Number.isInteger(r.length) || r.length < 5 || off + r.length > bytes.length) {
      throw violation(`decodeCell reported length ${r.length} at offset ${off} of ${bytes.length}`);
    }
    if (!reencodesTo(codec, r.cell, bytes.subarray(off, off + r.length))) {
      throw violation(`cell at offset ${off} re-encodes to different bytes`);
    }
    if (r.cell.command < 128 && r.cell.payload.length !== CELL_PAYLOAD_LEN) {
      throw violation(`fixed cell at offset ${off} decoded with a ${r.cell.payload.length}-byte payload`);
    }
    if (r.cell.command >= 128 && r.cell.payload.length > limits.maxVarPayload) {
      throw violation(`variable cell at offset ${off} exceeds the limit ${limits.maxVarPayload}`);
    }
    cells.push(r.cell);
    off += r.length;
  }
}

/** Feeds `bytes` to a CellDecoder in chunks of the given sizes (cycled), draining after each push. */
export function decodeAllStreaming(
  bytes: Uint8Array,
  limits: CellLimits,
  chunkSizes: readonly number[],
  codec: CellCodec = realCodec,
): StreamOutcome {
  if (chunkSizes.length === 0) throw new RangeError('chunkSizes must not be empty');
  const dec = codec.createDecoder(limits);
  const cells: Cell[] = [];
  let failure: CellError | undefined;
  try {
    let off = 0;
    let i = 0;
    while (off < bytes.length) {
      const size = Math.max(1, chunkSizes[i++ % chunkSizes.length]!);
      dec.push(bytes.subarray(off, off + size));
      off += size;
      for (let c = dec.next(); c !== NEED_MORE; c = dec.next()) cells.push(c);
    }
    dec.end();
  } catch (err) {
    if (!(err instanceof CellError)) throw err;
    failure = err;
  }
  if (failure) {
    // Poisoned: every later call throws the very same error.
    // (push and end on a failed decoder are covered by test/cell/decoder.test.ts.)
    if (thrownBy(() => dec.next()) !== failure) throw violation('a failed CellDecoder did not rethrow its error');
  }
  return { cells, error: failure?.code };
}

/** Runs both decoders on `bytes`, checks every invariant, and returns the common outcome. */
export function checkCellStream(
  bytes: Uint8Array,
  limits: CellLimits,
  chunkSizes: readonly number[],
  codec: CellCodec = realCodec,
): StreamOutcome {
  const one = decodeAllOneShot(bytes, limits, codec);
  const streamed = decodeAllStreaming(bytes, limits, chunkSizes, codec);
  if (one.error !== undefined && !DECODE_ERRORS.has(one.error)) {
    throw violation(`decodeCell failed with unexpected code ${one.error}`);
  }
  if (one.error !== streamed.error) {
    throw violation(`decodeCell ended with ${one.error ?? 'success'}, CellDecoder with ${streamed.error ?? 'success'}`);
  }
  if (one.cells.length !== streamed.cells.length) {
    throw violation(`decodeCell gave ${one.cells.length} cells, CellDecoder ${streamed.cells.length}`);
  }
  for (let i = 0; i < one.cells.length; i++) {
    if (!sameCell(one.cells[i]!, streamed.cells[i]!)) throw violation(`cell ${i} differs between decoders`);
  }
  return one;
}
