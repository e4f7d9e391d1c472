/**
 * Fragmentation of application messages over ESCAPE relay cells (PSP reference relay/escape.md:
 * "If the event does not fit into the single relay cell it is being split through multiple
 * escape cells sent in order together"). The reference leaves the split format open; this is
 * the format this implementation uses. Each ESCAPE cell's data is one fragment:
 *
 *   flags        u8    bit 0 FIRST, bit 1 LAST, bits 2..7 reserved (must be zero)
 *   totalLength  u32   only when FIRST: the length of the whole message, 1..max
 *   bytes              at least one byte of the message
 *
 * A message that fits one cell is a single fragment with FIRST|LAST.
 *
 * Ordering rule: on one circuit, in one direction, between one pair of endpoints (the client
 * and one hop), a sender finishes a message before it starts the next. Relay cells on a circuit
 * arrive in order and are never lost, so no message id is needed; a FIRST while a message is
 * in progress is an error ('fragment-interleaved'), as is a continuation with no message in
 * progress ('fragment-no-start'). A receiver keeps one Reassembler per circuit and hop it
 * accepts messages from.
 *
 * Limits: messages are 1..65536 bytes by default (empty messages are not allowed: every
 * application message carries at least its event id). The Reassembler rejects an announced
 * length over its maximum before buffering anything, and keeps only the bytes actually
 * received, so its memory is bounded by the maximum.
 *
 * Does not: interpret the message (application/applicationmessage.md: event id | body), or
 * wrap fragments in relay cells (relay-cell.ts).
 */
import { assertBytes, concatBytes } from '../util/bytes';
import { CircuitError } from './errors';
import { RELAY_DATA_MAX } from './relay-cell';

/** The largest application message, by default (64 KiB). */
export const MAX_MESSAGE_LENGTH = 65536;

export const FragmentFlag = Object.freeze({ First: 0x01, Last: 0x02 } as const);
const RESERVED_FLAGS = 0xff & ~(FragmentFlag.First | FragmentFlag.Last);
/** flags u8 | totalLength u32. */
const FIRST_HEADER = 5;
/** flags u8. */
const NEXT_HEADER = 1;

/**
 * Splits `message` (1..`maxMessageLength` bytes, 65536 by default) into fragments, each at most
 * `maxData` bytes (the relay cell data limit, 500, by default), in sending order. Endpoints that
 * agree on a larger limit (the end-to-end hop of a rendezvous channel) pass it; the receiving
 * Reassembler must be given the same limit.
 */
export function fragmentMessage(message: Uint8Array, maxData: number = RELAY_DATA_MAX, maxMessageLength: number = MAX_MESSAGE_LENGTH): Uint8Array[] {
  assertBytes(message, 'message');
  if (!Number.isInteger(maxMessageLength) || maxMessageLength < 1 || maxMessageLength > 0xffffffff) {
    throw new RangeError(`maxMessageLength must be an integer in 1..2^32-1, got ${maxMessageLength}`);
  }
  if (message.length < 1 || message.length > maxMessageLength) {
    throw new RangeError(`message must be 1..${maxMessageLength} bytes, got ${message.length}`);
  }
  if (!Number.isInteger(maxData) || maxData < FIRST_HEADER + 1 || maxData > RELAY_DATA_MAX) {
    throw new RangeError(`maxData must be an integer in ${FIRST_HEADER + 1}..${RELAY_DATA_MAX}, got ${maxData}`);
  }
  const out: Uint8Array[] = [];
  const total = message.length;
  let off = 0;
  while (off < total) {
    const first = off === 0;
    const header = first ? FIRST_HEADER : NEXT_HEADER;
    const take = Math.min(maxData - header, total - off);
    const last = off + take === total;
    const frag = new Uint8Array(header + take);
    frag[0] = (first ? FragmentFlag.First : 0) | (last ? FragmentFlag.Last : 0);
    if (first) {
      frag[1] = total >>> 24;
      frag[2] = (total >>> 16) & 0xff;
      frag[3] = (total >>> 8) & 0xff;
      frag[4] = total & 0xff;
    }
    frag.set(message.subarray(off, off + take), header);
    out.push(frag);
    off += take;
  }
  return out;
}

export interface ReassemblerOptions {
  /** Largest message accepted; 1..2^32-1, default MAX_MESSAGE_LENGTH (65536). */
  maxMessageLength?: number;
}

/**
 * Rebuilds messages from fragments pushed in arrival order. A push that throws changes nothing:
 * the message in progress (if any) stays as it was. After an error the driver normally
 * destroys the circuit; `reset()` discards a partial message.
 */
export class Reassembler {
  readonly maxMessageLength: number;
  private total = 0;
  private received = 0;
  private chunks: Uint8Array[] = [];

  constructor(options: ReassemblerOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const max = options.maxMessageLength ?? MAX_MESSAGE_LENGTH;
    if (!Number.isInteger(max) || max < 1 || max > 0xffffffff) {
      throw new RangeError(`options.maxMessageLength must be an integer in 1..4294967295, got ${max}`);
    }
    this.maxMessageLength = max;
  }

  /** True while a message has started and not yet ended. */
  get inProgress(): boolean {
    return this.total > 0;
  }

  /** Bytes of the message in progress received so far. */
  get bufferedBytes(): number {
    return this.received;
  }

  /** Discards any partial message. */
  reset(): void {
    this.total = 0;
    this.received = 0;
    this.chunks = [];
  }

  /**
   * Takes one fragment (an ESCAPE cell's data). Returns the complete message when this was its
   * last fragment, otherwise null. Throws CircuitError for a malformed or out-of-order fragment.
   */
  push(fragment: Uint8Array): Uint8Array | null {
    if (!(fragment instanceof Uint8Array)) throw new TypeError('fragment must be a Uint8Array');
    if (fragment.length < 1) throw new CircuitError('fragment-bad-header', 'fragment has no flags byte');
    const flags = fragment[0]!;
    if ((flags & RESERVED_FLAGS) !== 0) {
      throw new CircuitError('fragment-bad-header', `fragment has reserved flag bits set (0x${flags.toString(16)})`);
    }
    const first = (flags & FragmentFlag.First) !== 0;
    const last = (flags & FragmentFlag.Last) !== 0;

    let total = this.total;
    let received = this.received;
    let bytes: Uint8Array;
    if (first) {
      if (this.inProgress) {
        throw new CircuitError('fragment-interleaved', 'a new message started before the previous one ended');
      }
      if (fragment.length < FIRST_HEADER) {
        throw new CircuitError('fragment-bad-header', `first fragment shorter than its ${FIRST_HEADER}-byte header`);
      }
      total = ((fragment[1]! << 24) >>> 0) + ((fragment[2]! << 16) | (fragment[3]! << 8) | fragment[4]!);
      if (total === 0) throw new CircuitError('fragment-empty', 'first fragment announces an empty message');
      if (total > this.maxMessageLength) {
        throw new CircuitError('fragment-too-large', `message of ${total} bytes exceeds the maximum ${this.maxMessageLength}`);
      }
      received = 0;
      bytes = fragment.subarray(FIRST_HEADER);
    } else {
      if (!this.inProgress) throw new CircuitError('fragment-no-start', 'continuation fragment without a first fragment');
      bytes = fragment.subarray(NEXT_HEADER);
    }
    if (bytes.length === 0) throw new CircuitError('fragment-empty', 'fragment carries no message bytes');
    const after = received + bytes.length;
    if (after > total) {
      throw new CircuitError('fragment-overflow', `fragments carry more than the announced ${total} bytes`);
    }
    if (last && after !== total) {
      throw new CircuitError('fragment-length-mismatch', `last fragment ends the message at ${after} of ${total} bytes`);
    }
    if (!last && after === total) {
      throw new CircuitError('fragment-length-mismatch', `message complete at ${total} bytes but the fragment is not marked last`);
    }

    // Valid: commit.
    if (last) {
      const message = first ? bytes.slice() : concatBytes(...this.chunks, bytes);
      this.reset();
      return message;
    }
    if (first) this.chunks = [];
    this.chunks.push(bytes.slice());
    this.total = total;
    this.received = after;
    return null;
  }
}
