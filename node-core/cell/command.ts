/**
 * PSP cell commands and sizes.
 *
 * Implements the command table and the two cell layouts of the PSP reference,
 * binary/cell.md ("Cell binary format", "Commands"), plus RELAY_EARLY (9), a fixed-length
 * RELAY variant with which a circuit limits EXTENDs, as Tor does (tor-spec §5.6).
 * It does not interpret payloads: each command's body has its own codec.
 */

/** Cell command byte (binary/cell.md "Commands"). No other value is valid. */
export enum CellCommand {
  Padding = 1,
  Create = 2,
  Created = 3,
  Destroy = 4,
  Relay = 5,
  RelayEarly = 9,
  Versions = 128,
  AuthBypass = 129,
  Certs = 130,
  AuthChallenge = 131,
  Authenticate = 132,
  StreamCreate = 133,
  StreamRelay = 134,
  StreamDestroy = 135,
  StreamCreated = 136,
}

/** Payload bytes of a fixed-length cell (binary/cell.md: "Payload (padded with 0 bytes) [509 bytes]"). */
export const CELL_PAYLOAD_LEN = 509;
/** Circuit id (4) + command (1). */
export const CELL_HEADER_LEN = 5;
/** A whole fixed-length cell: 4 + 1 + 509. */
export const FIXED_CELL_LEN = CELL_HEADER_LEN + CELL_PAYLOAD_LEN;
/** Circuit id (4) + command (1) + length (2) of a variable-length cell. */
export const VAR_HEADER_LEN = 7;
/** The largest payload the 16-bit length field of a variable-length cell can state. */
export const MAX_VAR_PAYLOAD = 0xffff;
/** The largest circuit id (u32). */
export const MAX_CIRC_ID = 0xffffffff;

/** Every command value of the table, in ascending order. */
export const ALL_CELL_COMMANDS: readonly CellCommand[] = Object.freeze([
  CellCommand.Padding,
  CellCommand.Create,
  CellCommand.Created,
  CellCommand.Destroy,
  CellCommand.Relay,
  CellCommand.RelayEarly,
  CellCommand.Versions,
  CellCommand.AuthBypass,
  CellCommand.Certs,
  CellCommand.AuthChallenge,
  CellCommand.Authenticate,
  CellCommand.StreamCreate,
  CellCommand.StreamRelay,
  CellCommand.StreamDestroy,
  CellCommand.StreamCreated,
]);

// 0 = unknown, 1 = link cell (circuit id must be 0), 2 = circuit/stream cell (circuit id must not be 0).
// A lookup table keeps the decoder's hot path to one array read.
const KIND = new Uint8Array(256);
for (const c of [
  CellCommand.Padding,
  CellCommand.Versions,
  CellCommand.AuthBypass,
  CellCommand.Certs,
  CellCommand.AuthChallenge,
  CellCommand.Authenticate,
]) {
  KIND[c] = 1;
}
for (const c of [
  CellCommand.Create,
  CellCommand.Created,
  CellCommand.Destroy,
  CellCommand.Relay,
  CellCommand.RelayEarly,
  CellCommand.StreamCreate,
  CellCommand.StreamRelay,
  CellCommand.StreamDestroy,
  CellCommand.StreamCreated,
]) {
  KIND[c] = 2;
}

/** Internal to node-core/cell: 0 unknown, 1 link cell, 2 circuit cell. `value` must be 0..255. */
export function commandKind(value: number): number {
  return KIND[value]!;
}

/** True when `value` is one of the commands in the table. Never throws. */
export function isKnownCommand(value: unknown): value is CellCommand {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xff && KIND[value] !== 0;
}

function checkCommandByte(command: number, name: string): void {
  if (typeof command !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isInteger(command) || command < 0 || command > 0xff) {
    throw new RangeError(`${name} must be an integer 0..255, got ${command}`);
  }
}

/**
 * True for variable-length commands: binary/cell.md, "Cells that have command ID greater or equal
 * 128 are variable length". Takes any byte value (known or not).
 */
export function isVariableLength(command: number): boolean {
  checkCommandByte(command, 'command');
  return command >= 128;
}

/**
 * True for commands that belong to a circuit or stream and so need a non-zero circuit id;
 * false for link cells, which must carry circuit id 0 (binary/cell.md "Circuit ID").
 * Throws RangeError for a value that is not a known command.
 */
export function requiresCircuitId(command: number): boolean {
  checkCommandByte(command, 'command');
  const kind = KIND[command]!;
  if (kind === 0) throw new RangeError(`command ${command} is not a known cell command`);
  return kind === 2;
}

/** The command's name in the table, e.g. "Relay", or `undefined` for an unknown value. */
export function commandName(command: number): string | undefined {
  return isKnownCommand(command) ? CellCommand[command] : undefined;
}
