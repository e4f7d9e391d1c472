/**
 * node-core/cell: the PSP cell layer (binary/cell.md) — cell types, single-cell codec,
 * incremental stream decoder, circuit id allocation. Pure: no I/O.
 */
export {
  CellCommand,
  CELL_PAYLOAD_LEN,
  CELL_HEADER_LEN,
  FIXED_CELL_LEN,
  VAR_HEADER_LEN,
  MAX_VAR_PAYLOAD,
  MAX_CIRC_ID,
  ALL_CELL_COMMANDS,
  isKnownCommand,
  isVariableLength,
  requiresCircuitId,
  commandName,
} from './command';
export type { CellErrorCode } from './errors';
export { CellError, CELL_ERROR_CODES } from './errors';
export type { Cell, CellLimits, DecodedCell, NeedMore } from './codec';
export { DEFAULT_CELL_LIMITS, NEED_MORE, decodeCell, encodeCell, encodeCellInto, encodedCellLength } from './codec';
export { CellDecoder } from './decoder';
export type { RandomSource, CircIdAllocatorOptions } from './circid';
export { CircIdAllocator, circIdOwnedByInitiator } from './circid';
