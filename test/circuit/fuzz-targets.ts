/**
 * Fuzz targets for node-core/circuit, for the shared runner (test/fuzz/targets.ts registers
 * them; see test/fuzz/target.ts for the contract). Not a test file.
 *
 *   circuit-relay-cell   decodeRelayCell on the input, zero-padded or cut to 509 bytes
 *   circuit-payloads     the first byte picks a payload decoder (CREATE, CREATED, EXTEND,
 *                        EXTENDED, DESTROY, TRUNCATED); the rest is its input
 *   circuit-reassembler  the input is a sequence of fragments, each framed as len u16 | bytes
 *                        (a length past the end takes what is left), pushed into one Reassembler
 *
 * A CircuitError means 'rejected'. What a decoder accepts must re-encode canonically, and the
 * Reassembler must keep its bounds; a broken invariant throws a plain Error (a crash).
 */
import { CircuitError } from '../../node-core/circuit/errors';
import { Reassembler, fragmentMessage } from '../../node-core/circuit/fragment';
import { RELAY_PAYLOAD_LENGTH, RelayCommand, decodeRelayCell, encodeRelayCell } from '../../node-core/circuit/relay-cell';
import {
  DestroyReason,
  HandshakeType,
  decodeCreate,
  decodeCreated,
  decodeDestroy,
  decodeExtend,
  decodeExtended,
  decodeTruncated,
  encodeCreate,
  encodeCreated,
  encodeDestroy,
  encodeExtend,
  encodeExtended,
  encodeTruncated,
} from '../../node-core/circuit/payloads';
import { concatBytes, toHex } from '../../node-core/util/bytes';
import type { FuzzTarget } from '../fuzz/target';

export type { FuzzTarget } from '../fuzz/target';

function guard(fn: () => void): 'accepted' | 'rejected' {
  try {
    fn();
    return 'accepted';
  } catch (e) {
    if (e instanceof CircuitError) return 'rejected';
    throw e;
  }
}

function invariant(ok: boolean, what: string): void {
  if (!ok) throw new Error(`invariant broken: ${what}`);
}

/** `again` must equal `input` up to zero padding after it. */
function checkCanonical(input: Uint8Array, again: Uint8Array, what: string): void {
  invariant(again.length <= input.length, `${what}: re-encoding longer than the input`);
  invariant(toHex(again) === toHex(input.subarray(0, again.length)), `${what}: re-encoding differs from the input`);
  invariant(
    input.subarray(again.length).every((b) => b === 0),
    `${what}: accepted non-zero bytes after the content`,
  );
}

const fill = (byte: number, n: number): Uint8Array => new Uint8Array(n).fill(byte);
const ID = fill(0x11, 32);
const CREATE = { handshakeType: HandshakeType.NtorV1Psp, handshake: concatBytes(ID, fill(0x22, 32), fill(0x33, 32)) };
const CREATED = { handshake: concatBytes(fill(0x55, 32), fill(0x66, 32)) };

// ---------------------------------------------------------------------------------------------

const relayCellTarget: FuzzTarget = {
  seeds() {
    return [
      encodeRelayCell({ command: RelayCommand.Escape, data: fill(0xa5, 100) }),
      encodeRelayCell({ command: RelayCommand.Extend, data: encodeExtend({ linkSpecifiers: [{ type: 'ed25519', identity: ID }, { type: 'ipv4', address: Uint8Array.of(127, 0, 0, 1), port: 9001 }], create: CREATE }) }),
      encodeRelayCell({ command: RelayCommand.Sendme, data: new Uint8Array(0) }),
      encodeRelayCell({ command: RelayCommand.Drop, data: fill(0xff, 500) }),
      encodeRelayCell({ command: RelayCommand.Truncated, data: encodeTruncated(DestroyReason.Destroyed) }),
    ];
  },
  run(input) {
    const payload = new Uint8Array(RELAY_PAYLOAD_LENGTH);
    payload.set(input.subarray(0, RELAY_PAYLOAD_LENGTH));
    return guard(() => {
      const cell = decodeRelayCell(payload);
      const again = encodeRelayCell(cell);
      const expected = payload.slice();
      expected.fill(0, 3, 7); // the digest field is the crypto layer's, not the codec's
      invariant(toHex(again) === toHex(expected), 'relay cell: re-encoding differs from the input');
    });
  },
};

// ---------------------------------------------------------------------------------------------

type Codec = (bytes: Uint8Array) => Uint8Array; // decode then re-encode

const PAYLOAD_CODECS: readonly [string, Codec][] = [
  ['CREATE', (b) => encodeCreate(decodeCreate(b))],
  ['CREATED', (b) => encodeCreated(decodeCreated(b))],
  ['EXTEND', (b) => encodeExtend(decodeExtend(b))],
  ['EXTENDED', (b) => encodeExtended(decodeExtended(b))],
  ['DESTROY', (b) => encodeDestroy(decodeDestroy(b))],
  ['TRUNCATED', (b) => encodeTruncated(decodeTruncated(b))],
];

const payloadsTarget: FuzzTarget = {
  seeds() {
    const extend = encodeExtend({
      linkSpecifiers: [
        { type: 'ipv4', address: Uint8Array.of(10, 1, 2, 3), port: 443 },
        { type: 'ipv6', address: fill(0x20, 16), port: 9001 },
        { type: 'ed25519', identity: ID },
      ],
      create: CREATE,
    });
    const padded = (b: Uint8Array): Uint8Array => concatBytes(b, new Uint8Array(RELAY_PAYLOAD_LENGTH - b.length));
    const sel = (i: number, b: Uint8Array): Uint8Array => concatBytes(Uint8Array.of(i), b);
    return [
      sel(0, encodeCreate(CREATE)),
      sel(0, padded(encodeCreate(CREATE))),
      sel(1, encodeCreated(CREATED)),
      sel(2, extend),
      sel(3, encodeExtended(CREATED)),
      sel(4, encodeDestroy(DestroyReason.Protocol)),
      sel(5, encodeTruncated(DestroyReason.ConnectFailed)),
    ];
  },
  run(input) {
    if (input.length === 0) return 'rejected';
    const [name, codec] = PAYLOAD_CODECS[input[0]! % PAYLOAD_CODECS.length]!;
    const bytes = input.subarray(1);
    return guard(() => checkCanonical(bytes, codec(bytes), name));
  },
};

// ---------------------------------------------------------------------------------------------

const REASSEMBLER_MAX = 4096;

function frame(fragments: readonly Uint8Array[]): Uint8Array {
  return concatBytes(...fragments.flatMap((f) => [Uint8Array.of(f.length >>> 8, f.length & 0xff), f]));
}

function unframe(input: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < input.length) {
    const len = i + 1 < input.length ? (input[i]! << 8) | input[i + 1]! : 0;
    const start = Math.min(i + 2, input.length);
    const end = Math.min(start + len, input.length);
    out.push(input.subarray(start, end));
    i = end;
  }
  return out;
}

const reassemblerTarget: FuzzTarget = {
  seeds() {
    const msg = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff);
    return [
      frame(fragmentMessage(msg(1))),
      frame(fragmentMessage(msg(600))),
      frame(fragmentMessage(msg(300), 40)),
      frame([...fragmentMessage(msg(20), 8), ...fragmentMessage(msg(3))]),
      frame(fragmentMessage(msg(REASSEMBLER_MAX), 500)),
    ];
  },
  run(input) {
    const r = new Reassembler({ maxMessageLength: REASSEMBLER_MAX });
    return guard(() => {
      for (const f of unframe(input)) {
        const out = r.push(f);
        if (out !== null) {
          invariant(out.length >= 1 && out.length <= REASSEMBLER_MAX, 'reassembler: message length out of bounds');
          invariant(!r.inProgress && r.bufferedBytes === 0, 'reassembler: state not reset after a message');
        }
        invariant(r.bufferedBytes <= REASSEMBLER_MAX, 'reassembler: buffered more than the maximum');
      }
    });
  },
};

export const circuitFuzzTargets: Record<string, FuzzTarget> = {
  'circuit-relay-cell': relayCellTarget,
  'circuit-payloads': payloadsTarget,
  'circuit-reassembler': reassemblerTarget,
};
