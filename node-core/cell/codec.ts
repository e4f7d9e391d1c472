/**
 * Encoding and decoding of single PSP cells (binary/cell.md "Cell binary format").
 *
 *   fixed-length (command < 128):  circId u32 BE | command u8 | payload [509, zero-padded]
 *   variable-length (command >= 128): circId u32 BE | command u8 | length u16 BE | payload [length]
 *
 * Decisions the reference leaves open:
 * - A fixed cell always decodes with its full 509-byte payload: the cell layer cannot know how
 *   much of it a command's body uses, so nothing is trimmed and re-encoding gives the same bytes.
 * - PADDING (binary/padding.md, "payload of all zeros"): strict when sending, lenient when
 *   receiving. encodeCell refuses a non-zero PADDING payload ('bad-padding'); decodeCell accepts
 *   any PADDING payload, since receivers ignore padding, and returns it as 509 zero bytes, so the
 *   contents never reach a higher layer. This is the one case where re-encoding a decoded cell
 *   differs from the bytes received.
 * - Variable-length payloads may be 0..65535 bytes (the reference says 1..65535; an empty
 *   payload is left for each command's own codec to refuse).
 * - Unknown commands are refused rather than skipped: a peer speaking a command we do not know
 *   has not negotiated it, and the link must close.
 * - Errors are reported as soon as the bytes that show them are present (an unknown command
 *   after 5 bytes, a too-large length after 7), so a stream decoder gives the same error however
 *   its input was split. Checks run in byte order of what they need: command, circuit id, length.
 *
 * It does not interpret payloads, track circuits, or enforce which commands are allowed in which
 * link state: those belong to the link and circuit layers.
 */
import { assertBytes } from '../util/bytes';
import {
  CELL_HEADER_LEN,
  CELL_PAYLOAD_LEN,
  CellCommand,
  FIXED_CELL_LEN,
  MAX_CIRC_ID,
  MAX_VAR_PAYLOAD,
  VAR_HEADER_LEN,
  commandKind,
} from './command';
import { CellError } from './errors';

export interface Cell {
  /** 0 for link cells, non-zero for circuit and stream cells (binary/cell.md "Circuit ID"). */
  circId: number;
  command: CellCommand;
  /** Fixed cells: up to 509 bytes (decoded: exactly 509). Variable cells: 0..65535 bytes. */
  payload: Uint8Array;
}

/** Receiver limits. The link layer lowers `maxVarPayload` while a handshake is in progress. */
export interface CellLimits {
  /** Largest variable-length payload accepted, 0..65535. */
  maxVarPayload: number;
}

export const DEFAULT_CELL_LIMITS: Readonly<CellLimits> = Object.freeze({ maxVarPayload: MAX_VAR_PAYLOAD });

/** Returned by decoders when the bytes so far hold no complete cell. Compare with `===`. */
export const NEED_MORE: unique symbol = Symbol('psp.cell.need-more');
export type NeedMore = typeof NEED_MORE;

export interface DecodedCell {
  cell: Cell;
  /** Bytes consumed from the input: 514 for a fixed cell, 7 + length for a variable cell. */
  length: number;
}

/** Validates a limits argument and returns its maxVarPayload. Internal to node-core/cell. */
export function checkLimits(limits: unknown, name: string): number {
  if (typeof limits !== 'object' || limits === null) throw new TypeError(`${name} must be an object`);
  const max = (limits as { maxVarPayload?: unknown }).maxVarPayload;
  if (typeof max !== 'number') throw new TypeError(`${name}.maxVarPayload must be a number`);
  if (!Number.isInteger(max) || max < 0 || max > MAX_VAR_PAYLOAD) {
    throw new RangeError(`${name}.maxVarPayload must be an integer 0..${MAX_VAR_PAYLOAD}, got ${max}`);
  }
  return max;
}

/** The longest cell a receiver with this limit accepts. Internal to node-core/cell. */
export function maxCellLength(maxVarPayload: number): number {
  return Math.max(FIXED_CELL_LEN, VAR_HEADER_LEN + maxVarPayload);
}

/**
 * Decodes one cell from `bytes[offset..end)`. Internal to node-core/cell: arguments are trusted.
 * Returns the cell and its length, NEED_MORE, or throws CellError.
 */
export function decodeAt(bytes: Uint8Array, offset: number, end: number, maxVarPayload: number): DecodedCell | NeedMore {
  const avail = end - offset;
  if (avail < CELL_HEADER_LEN) return NEED_MORE;
  const command = bytes[offset + 4]!;
  const kind = commandKind(command);
  if (kind === 0) {
    throw new CellError('unknown-command', `unknown cell command ${command}`);
  }
  const circId =
    ((bytes[offset]! << 24) >>> 0) + ((bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!);
  // binary/cell.md "Circuit ID": 0 is reserved for cells of no circuit, and only for them.
  if (kind === 1 ? circId !== 0 : circId === 0) {
    throw new CellError(
      'bad-circuit-id',
      kind === 1
        ? `${CellCommand[command]} cell must have circuit id 0, got ${circId}`
        : `${CellCommand[command]} cell must not have circuit id 0`,
    );
  }
  if (command < 128) {
    if (avail < FIXED_CELL_LEN) return NEED_MORE;
    // binary/padding.md: receivers ignore padding; its contents are dropped here (see header).
    const payload =
      command === CellCommand.Padding
        ? new Uint8Array(CELL_PAYLOAD_LEN)
        : bytes.slice(offset + CELL_HEADER_LEN, offset + FIXED_CELL_LEN);
    return { cell: { circId, command, payload }, length: FIXED_CELL_LEN };
  }
  if (avail < VAR_HEADER_LEN) return NEED_MORE;
  const len = (bytes[offset + 5]! << 8) | bytes[offset + 6]!;
  if (len > maxVarPayload) {
    throw new CellError(
      'length-too-large',
      `${CellCommand[command]} cell length ${len} exceeds the limit of ${maxVarPayload}`,
    );
  }
  const total = VAR_HEADER_LEN + len;
  if (avail < total) return NEED_MORE;
  const payload = bytes.slice(offset + VAR_HEADER_LEN, offset + total);
  return { cell: { circId, command, payload }, length: total };
}

/**
 * Decodes the cell that starts at `bytes[offset]`.
 *
 * Returns `{ cell, length }`, or NEED_MORE when the bytes end before the cell does (and no error
 * is visible yet). Throws CellError for a bad cell; TypeError/RangeError for bad arguments.
 * The returned payload is a copy: later changes to `bytes` do not affect it.
 */
export function decodeCell(
  bytes: Uint8Array,
  offset = 0,
  limits: CellLimits = DEFAULT_CELL_LIMITS,
): DecodedCell | NeedMore {
  assertBytes(bytes, 'bytes');
  if (typeof offset !== 'number') throw new TypeError('offset must be a number');
  if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length) {
    throw new RangeError(`offset must be an integer 0..${bytes.length}, got ${offset}`);
  }
  const maxVar = checkLimits(limits, 'limits');
  return decodeAt(bytes, offset, bytes.length, maxVar);
}

/** Checks a cell for encoding and returns its encoded length. Internal to node-core/cell. */
function checkCellForEncoding(cell: Cell): number {
  if (typeof cell !== 'object' || cell === null) throw new TypeError('cell must be an object');
  const { circId, command, payload } = cell;
  if (typeof circId !== 'number') throw new TypeError('cell.circId must be a number');
  if (!Number.isInteger(circId) || circId < 0 || circId > MAX_CIRC_ID) {
    throw new RangeError(`cell.circId must be an integer 0..${MAX_CIRC_ID}, got ${circId}`);
  }
  if (typeof command !== 'number') throw new TypeError('cell.command must be a number');
  if (!Number.isInteger(command) || command < 0 || command > 0xff) {
    throw new RangeError(`cell.command must be an integer 0..255, got ${command}`);
  }
  assertBytes(payload, 'cell.payload');
  const kind = commandKind(command);
  if (kind === 0) throw new CellError('unknown-command', `unknown cell command ${command}`);
  // binary/cell.md "Circuit ID": 0 is reserved for cells of no circuit, and only for them.
  if (kind === 1 ? circId !== 0 : circId === 0) {
    throw new CellError(
      'bad-circuit-id',
      kind === 1
        ? `${CellCommand[command]} cell must have circuit id 0, got ${circId}`
        : `${CellCommand[command]} cell must not have circuit id 0`,
    );
  }
  if (command < 128) {
    if (payload.length > CELL_PAYLOAD_LEN) {
      throw new RangeError(`cell.payload of a fixed cell must be at most ${CELL_PAYLOAD_LEN} bytes, got ${payload.length}`);
    }
    if (command === CellCommand.Padding) {
      // binary/padding.md: "Padding cell is a fixed size cell with payload of all zeros."
      for (let i = 0; i < payload.length; i++) {
        if (payload[i] !== 0) throw new CellError('bad-padding', 'PADDING cell payload must be all zeros');
      }
    }
    return FIXED_CELL_LEN;
  }
  if (payload.length > MAX_VAR_PAYLOAD) {
    throw new RangeError(
      `cell.payload of a variable-length cell must be at most ${MAX_VAR_PAYLOAD} bytes, got ${payload.length}`,
    );
  }
  return VAR_HEADER_LEN + payload.length;
}

/** Writes a checked cell of `length` bytes at `out[offset]`. Internal to node-core/cell. */
function writeCell(cell: Cell, length: number, out: Uint8Array, offset: number): void {
  const { circId, command, payload } = cell;
  out[offset] = circId >>> 24;
  out[offset + 1] = (circId >>> 16) & 0xff;
  out[offset + 2] = (circId >>> 8) & 0xff;
  out[offset + 3] = circId & 0xff;
  out[offset + 4] = command;
  if (command < 128) {
    out.set(payload, offset + CELL_HEADER_LEN);
    // binary/cell.md: "Payload (padded with 0 bytes)".
    out.fill(0, offset + CELL_HEADER_LEN + payload.length, offset + length);
  } else {
    out[offset + 5] = payload.length >>> 8;
    out[offset + 6] = payload.length & 0xff;
    out.set(payload, offset + VAR_HEADER_LEN);
  }
}

/**
 * Encodes a cell to its wire bytes. A fixed cell's payload (at most 509 bytes) is zero-padded
 * to 509; a variable cell's payload (0..65535 bytes) is written with its length.
 *
 * Throws CellError('unknown-command') for a command not in the table, CellError('bad-circuit-id')
 * when the circuit id breaks the zero/non-zero rule, CellError('bad-padding') for a PADDING
 * cell with a non-zero payload; TypeError/RangeError for malformed arguments.
 */
export function encodeCell(cell: Cell): Uint8Array {
  const length = checkCellForEncoding(cell);
  const out = new Uint8Array(length);
  writeCell(cell, length, out, 0);
  return out;
}

/**
 * Encodes a cell into `out` at `offset` (e.g. to batch cells into one write) and returns the
 * number of bytes written. Same checks as `encodeCell`; RangeError if the cell does not fit.
 * Nothing is written when it throws.
 */
export function encodeCellInto(cell: Cell, out: Uint8Array, offset = 0): number {
  assertBytes(out, 'out');
  if (typeof offset !== 'number') throw new TypeError('offset must be a number');
  if (!Number.isInteger(offset) || offset < 0 || offset > out.length) {
    throw new RangeError(`offset must be an integer 0..${out.length}, got ${offset}`);
  }
  const length = checkCellForEncoding(cell);
  if (out.length - offset < length) {
    throw new RangeError(`out has ${out.length - offset} bytes from offset ${offset}, the cell needs ${length}`);
  }
  writeCell(cell, length, out, offset);
  return length;
}

/** The number of bytes `encodeCell` produces for a cell with this command and payload length. */
export function encodedCellLength(command: number, payloadLength: number): number {
  if (typeof command !== 'number' || typeof payloadLength !== 'number') {
    throw new TypeError('command and payloadLength must be numbers');
  }
  if (!Number.isInteger(command) || command < 0 || command > 0xff) {
    throw new RangeError(`command must be an integer 0..255, got ${command}`);
  }
  const max = command < 128 ? CELL_PAYLOAD_LEN : MAX_VAR_PAYLOAD;
  if (!Number.isInteger(payloadLength) || payloadLength < 0 || payloadLength > max) {
    throw new RangeError(`payloadLength must be an integer 0..${max}, got ${payloadLength}`);
  }
  return command < 128 ? FIXED_CELL_LEN : VAR_HEADER_LEN + payloadLength;
}
