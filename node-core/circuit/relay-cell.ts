/**
 * The relay-cell payload codec (PSP reference binary/relay.md, relay/command.md).
 *
 *   offset 0  relay command  u8
 *          1  recognized     u16   zero in plaintext (relaycrypto.md "Recognizing the cell")
 *          3  digest         4 B   first 4 bytes of the running digest (set by relay-crypto.ts)
 *          7  length         u16   0..500
 *          9  data           `length` bytes, then zero padding to 509 bytes
 *
 * Relay commands: 1..8 as in relay/command.md. This implementation adds three commands in the
 * range the reference leaves unassigned, directly after its last one:
 *   9  SENDME     flow-control acknowledgement (DESIGN.md §3 "SENDME-style flow control")
 *   10 DROP       long-range padding; the endpoint that recognizes it discards it
 *   11 TRUNCATED  a hop reports that the circuit beyond it is gone; data = one DESTROY reason byte
 *
 * Decoding is strict: the payload must be exactly 509 bytes, `recognized` zero, `length` ≤ 500,
 * the command known, and every padding byte after the data zero. Zero padding is what
 * relay.md specifies; requiring it makes the encoding canonical (one byte string per value, so
 * decode → encode gives back the input apart from the digest field). The digest field is not
 * checked here: relay-crypto.ts verified it before this decoder sees the payload.
 *
 * Does not: encrypt, compute digests, or interpret `data` (payloads.ts and fragment.ts do).
 */
import { assertBytes } from '../util/bytes';
import { CircuitError } from './errors';

/** Size of a fixed cell's payload (binary/cell.md). */
export const RELAY_PAYLOAD_LENGTH = 509;
/** command u8 | recognized u16 | digest 4 | length u16. */
export const RELAY_HEADER_LENGTH = 9;
/** Largest `data` a relay cell carries. */
export const RELAY_DATA_MAX = RELAY_PAYLOAD_LENGTH - RELAY_HEADER_LENGTH; // 500

/** Byte offsets of the header fields, shared with relay-crypto.ts. */
export const RELAY_OFFSET = Object.freeze({ command: 0, recognized: 1, digest: 3, length: 7, data: 9 });
export const RELAY_DIGEST_LENGTH = 4;

export const RelayCommand = Object.freeze({
  Extend: 1,
  Extended: 2,
  Escape: 3,
  EstablishRendezvous: 4,
  RendezvousEstablished: 5,
  JoinRendezvous: 6,
  RendezvousJoined1: 7,
  RendezvousJoined2: 8,
  Sendme: 9,
  Drop: 10,
  Truncated: 11,
} as const);
export type RelayCommand = (typeof RelayCommand)[keyof typeof RelayCommand];

const KNOWN_COMMANDS: ReadonlySet<number> = new Set(Object.values(RelayCommand));

export function isRelayCommand(value: unknown): value is RelayCommand {
  return typeof value === 'number' && KNOWN_COMMANDS.has(value);
}

/** The meaningful content of a relay cell; recognized and digest belong to the crypto layer. */
export interface RelayCell {
  command: RelayCommand;
  data: Uint8Array;
}

/**
 * Encodes a 509-byte relay payload with recognized = 0 and digest = 0 (relay-crypto.ts fills
 * the digest when it encrypts) and zero padding.
 */
export function encodeRelayCell(cell: RelayCell): Uint8Array {
  if (typeof cell !== 'object' || cell === null) throw new TypeError('cell must be an object');
  if (!isRelayCommand(cell.command)) throw new RangeError(`cell.command is not a known relay command: ${String(cell.command)}`);
  assertBytes(cell.data, 'cell.data');
  if (cell.data.length > RELAY_DATA_MAX) {
    throw new RangeError(`cell.data must be at most ${RELAY_DATA_MAX} bytes, got ${cell.data.length}`);
  }
  const out = new Uint8Array(RELAY_PAYLOAD_LENGTH);
  out[RELAY_OFFSET.command] = cell.command;
  out[RELAY_OFFSET.length] = cell.data.length >>> 8;
  out[RELAY_OFFSET.length + 1] = cell.data.length & 0xff;
  out.set(cell.data, RELAY_OFFSET.data);
  return out;
}

/** Decodes a recognized (decrypted) 509-byte relay payload. Throws CircuitError only. */
export function decodeRelayCell(payload: Uint8Array): RelayCell {
  if (!(payload instanceof Uint8Array)) throw new TypeError('payload must be a Uint8Array');
  if (payload.length !== RELAY_PAYLOAD_LENGTH) {
    throw new CircuitError('bad-payload-length', `relay payload must be ${RELAY_PAYLOAD_LENGTH} bytes, got ${payload.length}`);
  }
  const command = payload[RELAY_OFFSET.command]!;
  const recognized = (payload[RELAY_OFFSET.recognized]! << 8) | payload[RELAY_OFFSET.recognized + 1]!;
  const length = (payload[RELAY_OFFSET.length]! << 8) | payload[RELAY_OFFSET.length + 1]!;
  if (recognized !== 0) throw new CircuitError('bad-recognized', `relay payload has recognized = ${recognized}, not 0`);
  if (length > RELAY_DATA_MAX) {
    throw new CircuitError('bad-data-length', `relay length ${length} exceeds ${RELAY_DATA_MAX}`);
  }
  if (!isRelayCommand(command)) throw new CircuitError('unknown-relay-command', `unknown relay command ${command}`);
  const end = RELAY_OFFSET.data + length;
  for (let i = end; i < RELAY_PAYLOAD_LENGTH; i++) {
    if (payload[i] !== 0) throw new CircuitError('nonzero-padding', `relay padding byte at offset ${i} is not zero`);
  }
  return { command, data: payload.slice(RELAY_OFFSET.data, end) };
}
