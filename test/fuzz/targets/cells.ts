/**
 * Fuzz target 'cells': the PSP cell codec and stream decoder (node-core/cell).
 *
 * Each input is decoded with decodeCell and with a CellDecoder fed in chunks, under receiver
 * limits and a chunking both derived from the input's hash (so a crash replays from its hex).
 * The invariants are those of test/cell/check.ts; a CellError from the codec means 'rejected'.
 */
import type { CellLimits } from '../../../node-core/cell';
import { CellCommand, MAX_VAR_PAYLOAD, encodeCell } from '../../../node-core/cell';
import { concatBytes } from '../../../node-core/util/bytes';
import { checkCellStream } from '../../cell/check';
import { Prng, hashBytes } from '../prng';
import type { FuzzTarget } from '../target';

/** Receiver limits tried: the default, the handshake limit, and two tight ones. */
const LIMITS: readonly CellLimits[] = [
  { maxVarPayload: MAX_VAR_PAYLOAD },
  { maxVarPayload: 8192 },
  { maxVarPayload: 509 },
  { maxVarPayload: 0 },
];

/**
 * Chunk sizes for the streaming decoder: the whole input at once, single bytes through the first
 * cell headers, or up to 8 cuts at random points. Few chunks per input keep the target fast;
 * splitting at every boundary is covered by the property tests in test/cell/.
 */
function chunkingFor(input: Uint8Array, h: number): number[] {
  const len = Math.max(1, input.length);
  const mode = (h >>> 2) & 3;
  if (mode === 0) return [len];
  if (mode === 1) {
    // Single bytes through the first cell's header (every header field boundary), then the rest.
    const sizes = new Array<number>(Math.min(len, 8)).fill(1);
    sizes.push(len);
    return sizes;
  }
  const rng = new Prng(h);
  const cuts: number[] = [];
  const n = rng.int(1, 8);
  for (let i = 0; i < n; i++) cuts.push(rng.int(1, len));
  cuts.sort((a, b) => a - b);
  const sizes: number[] = [];
  let prev = 0;
  for (const cut of cuts) {
    if (cut > prev) sizes.push(cut - prev);
    prev = cut;
  }
  sizes.push(len);
  return sizes;
}

function bytesOf(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

export const cellsTarget: FuzzTarget = {
  seeds(): Uint8Array[] {
    const c = (circId: number, command: CellCommand, payload: Uint8Array = new Uint8Array(0)): Uint8Array =>
      encodeCell({ circId, command, payload });
    const versions = c(0, CellCommand.Versions, bytesOf(0, 1, 0, 2));
    const padding = c(0, CellCommand.Padding);
    const create = c(0x80000001, CellCommand.Create, bytesOf(0, 2, 0, 84, ...new Uint8Array(84).fill(0x42)));
    const relay = c(0x80000001, CellCommand.Relay, new Uint8Array(509).fill(0xa5));
    return [
      versions,
      padding,
      create,
      relay,
      c(0x12345678, CellCommand.Created, bytesOf(0, 64)),
      c(7, CellCommand.Destroy, bytesOf(9)),
      c(0xffffffff, CellCommand.RelayEarly, bytesOf(1, 2, 3)),
      c(0, CellCommand.AuthBypass),
      c(0, CellCommand.Certs, new Uint8Array(100).fill(0x30)),
      c(0, CellCommand.AuthChallenge, new Uint8Array(36).fill(0x11)),
      c(0, CellCommand.Authenticate, new Uint8Array(64).fill(0x22)),
      c(0x80000002, CellCommand.StreamCreate, bytesOf(1)),
      c(0x00000003, CellCommand.StreamCreated, bytesOf(0)),
      c(0x80000002, CellCommand.StreamRelay, new Uint8Array(600).fill(0x5a)),
      c(0x80000002, CellCommand.StreamDestroy),
      // Streams of several cells, as a link would carry them.
      concatBytes(versions, c(0, CellCommand.Certs, new Uint8Array(40).fill(1)), c(0, CellCommand.AuthChallenge, new Uint8Array(36))),
      concatBytes(versions, padding, create, relay),
      concatBytes(
        c(5, CellCommand.StreamRelay, new Uint8Array(509).fill(3)), // exactly at the 509 limit below
        c(5, CellCommand.StreamRelay, new Uint8Array(0)),
        c(5, CellCommand.StreamDestroy, bytesOf(2)),
      ),
      new Uint8Array(0),
    ];
  },

  run(input: Uint8Array): 'accepted' | 'rejected' {
    const h = hashBytes(input);
    const limits = LIMITS[h & 3]!;
    const outcome = checkCellStream(input, limits, chunkingFor(input, h));
    return outcome.error === undefined ? 'accepted' : 'rejected';
  },
};
