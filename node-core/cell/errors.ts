/**
 * The one error type the cell codec throws for bad cells.
 *
 * Codes (a closed set; each names one rule of binary/cell.md or of this codec):
 * - 'unknown-command'   the command byte is not in the command table (binary/cell.md "Commands").
 * - 'bad-circuit-id'    circuit id 0 on a circuit/stream cell, or a non-zero id on a link cell
 *                       (binary/cell.md "Circuit ID"; binary/padding.md).
 * - 'length-too-large'  a variable-length cell states a length above the receiver's limit.
 * - 'bad-padding'       encoding a PADDING cell whose payload is not all zeros (binary/padding.md).
 * - 'truncated'         the byte stream ended inside a cell (CellDecoder.end()).
 * - 'buffer-overflow'   a CellDecoder was given more bytes than it may hold, because its reader
 *                       stopped draining cells.
 *
 * Argument mistakes by the caller (wrong types, out-of-range numbers, payloads longer than a cell
 * can hold) are TypeError/RangeError, not CellError.
 */
export type CellErrorCode =
  | 'unknown-command'
  | 'bad-circuit-id'
  | 'length-too-large'
  | 'bad-padding'
  | 'truncated'
  | 'buffer-overflow';

export const CELL_ERROR_CODES: readonly CellErrorCode[] = Object.freeze([
  'unknown-command',
  'bad-circuit-id',
  'length-too-large',
  'bad-padding',
  'truncated',
  'buffer-overflow',
]);

export class CellError extends Error {
  override readonly name = 'CellError';
  constructor(
    readonly code: CellErrorCode,
    message: string,
  ) {
    super(message);
  }
}
