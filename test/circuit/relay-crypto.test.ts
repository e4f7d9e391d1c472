/**
 * Layered relay crypto over an in-memory 3-hop circuit: forward cells reach the right hop and
 * only there read as plaintext, backward cells are attributed to the right hop, tampering is
 * caught, and both ends stay in step over long random sequences.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { nobleSuite } from '../../node-core/crypto/noble';
import {
  ClientCircuitCrypto,
  HopCrypto,
  RELAY_KEY_MATERIAL_LENGTH,
  RelayHopCrypto,
} from '../../node-core/circuit/relay-crypto';
import { RelayCommand, decodeRelayCell, encodeRelayCell, type RelayCell } from '../../node-core/circuit/relay-cell';
import { CircuitError } from '../../node-core/circuit/errors';
import { expectCircuitError, patternBytes, toHex } from './helpers';

const suite = nobleSuite;

interface Circuit {
  client: ClientCircuitCrypto;
  relays: RelayHopCrypto[];
}

function makeCircuit(hops: number, seed = 1): Circuit {
  const client = new ClientCircuitCrypto(suite);
  const relays: RelayHopCrypto[] = [];
  for (let i = 0; i < hops; i++) {
    const km = patternBytes(RELAY_KEY_MATERIAL_LENGTH, seed * 17 + i * 101);
    client.addHop(km);
    relays.push(new RelayHopCrypto(suite, km));
  }
  return { client, relays };
}

interface Delivery {
  hop: number | null;
  /** What each hop saw after removing its layer, in order. */
  seen: Uint8Array[];
  payload: Uint8Array | null;
}

/** Sends an encrypted forward payload hop by hop until one recognizes it. */
function deliverForward(relays: RelayHopCrypto[], wire: Uint8Array): Delivery {
  const seen: Uint8Array[] = [];
  let p = wire;
  for (let i = 0; i < relays.length; i++) {
    const r = relays[i]!.decryptForward(p);
    seen.push(r.payload);
    if (r.recognized) return { hop: i, seen, payload: r.payload };
    p = r.payload;
  }
  return { hop: null, seen, payload: null };
}

/** A cell originated at hop `from`, wrapped by every hop between it and the client. */
function sendBackward(relays: RelayHopCrypto[], from: number, plaintext: Uint8Array): Uint8Array {
  let p = relays[from]!.encryptBackward(plaintext, true);
  for (let j = from - 1; j >= 0; j--) p = relays[j]!.encryptBackward(p, false);
  return p;
}

const cell = (command: RelayCell['command'], data: Uint8Array): Uint8Array => encodeRelayCell({ command, data });

describe('forward direction', () => {
  it.each([0, 1, 2])('a cell for hop %i is recognized there and nowhere before it', (target) => {
    const { client, relays } = makeCircuit(3);
    const data = patternBytes(300, 5);
    const plain = cell(RelayCommand.Escape, data);
    const d = deliverForward(relays, client.encryptForward(plain, target));
    expect(d.hop).toBe(target);
    const got = decodeRelayCell(d.payload!);
    expect(got.command).toBe(RelayCommand.Escape);
    expect(toHex(got.data)).toBe(toHex(data));
    // Intermediate hops: not recognized, and what they see is not the plaintext.
    for (let i = 0; i < target; i++) {
      const mid = d.seen[i]!;
      expect(toHex(mid.subarray(9))).not.toBe(toHex(plain.subarray(9)));
      expect(toHex(mid.subarray(9, 9 + 300))).not.toBe(toHex(data));
    }
  });

  it('the recognized payload equals the plaintext except for the digest field', () => {
    const { client, relays } = makeCircuit(3);
    const plain = cell(RelayCommand.Extend, patternBytes(120, 9));
    const d = deliverForward(relays, client.encryptForward(plain, 2));
    const without = (p: Uint8Array): string => toHex(p.subarray(0, 3)) + toHex(p.subarray(7));
    expect(without(d.payload!)).toBe(without(plain));
    expect(toHex(d.payload!.subarray(3, 7))).not.toBe('00000000');
  });

  it('does not modify the caller\'s payload', () => {
    const { client } = makeCircuit(2);
    const plain = cell(RelayCommand.Drop, patternBytes(10, 1));
    const before = toHex(plain);
    client.encryptForward(plain, 1);
    expect(toHex(plain)).toBe(before);
  });

  it('a replayed cell is not recognized the second time', () => {
    const { client, relays } = makeCircuit(1);
    const wire = client.encryptForward(cell(RelayCommand.Escape, patternBytes(20, 2)), 0);
    expect(deliverForward(relays, wire).hop).toBe(0);
    expect(deliverForward(relays, wire).hop).toBe(null);
  });

  it.each([0, 2, 5, 8, 100, 508])('a flipped byte at offset %i makes the cell unrecognized everywhere', (pos) => {
    const { client, relays } = makeCircuit(3);
    const wire = client.encryptForward(cell(RelayCommand.Escape, patternBytes(200, 3)), 2);
    wire[pos]! ^= 0x20;
    expect(deliverForward(relays, wire).hop).toBe(null);
  });
});

describe('backward direction', () => {
  it.each([0, 1, 2])('a cell originated at hop %i is attributed to hop %i', (from) => {
    const { client, relays } = makeCircuit(3);
    const data = patternBytes(450, from + 40);
    const r = client.decryptBackward(sendBackward(relays, from, cell(RelayCommand.Escape, data)));
    expect(r.hopIndex).toBe(from);
    expect(toHex(decodeRelayCell(r.payload).data)).toBe(toHex(data));
  });

  it('a tampered backward cell is unrecognized, and the circuit refuses further use', () => {
    const { client, relays } = makeCircuit(3);
    const wire = sendBackward(relays, 2, cell(RelayCommand.Escape, patternBytes(64, 4)));
    wire[300]! ^= 1;
    expectCircuitError(() => client.decryptBackward(wire), 'unrecognized-cell');
    expectCircuitError(() => client.decryptBackward(wire), 'circuit-failed');
    expectCircuitError(() => client.encryptForward(cell(RelayCommand.Drop, new Uint8Array(0)), 0), 'circuit-failed');
  });

  it('random bytes are not recognized', () => {
    const { client } = makeCircuit(3);
    expectCircuitError(() => client.decryptBackward(patternBytes(509, 77)), 'unrecognized-cell');
  });
});

describe('recognition does not disturb the running digest on a false candidate', () => {
  it('a payload with recognized = 0 and a wrong digest leaves the hop able to recognize the next real cell', () => {
    const km = patternBytes(128, 3);
    const origin = new HopCrypto(suite, km);
    const hop = new HopCrypto(suite, km);
    const decoy = cell(RelayCommand.Escape, patternBytes(30, 1)); // recognized 0, digest 0: wrong
    expect(hop.recognizeForward(decoy)).toBe(false);
    const real = origin.sealForward(cell(RelayCommand.Escape, patternBytes(30, 2)));
    expect(hop.recognizeForward(real)).toBe(true);
    // And the digest moved on: the same sealed cell is not recognized twice.
    expect(hop.recognizeForward(real)).toBe(false);
  });

  it('a payload whose recognized field is non-zero is rejected before the digest', () => {
    const km = patternBytes(128, 4);
    const origin = new HopCrypto(suite, km);
    const hop = new HopCrypto(suite, km);
    const sealed = origin.sealBackward(cell(RelayCommand.Sendme, new Uint8Array(0)));
    const bumped = sealed.slice();
    bumped[2] = 1;
    expect(hop.recognizeBackward(bumped)).toBe(false);
    expect(hop.recognizeBackward(sealed)).toBe(true);
  });

  it('sealing clears a non-zero recognized field', () => {
    const origin = new HopCrypto(suite, patternBytes(128, 5));
    const p = cell(RelayCommand.Escape, patternBytes(3, 1));
    p[1] = 0xff;
    const sealed = origin.sealForward(p);
    expect(sealed[1]).toBe(0);
    expect(sealed[2]).toBe(0);
  });
});

describe('parameter checks', () => {
  it('throws RangeError for a bad key-material length, payload length or hop index', () => {
    expect(() => new HopCrypto(suite, new Uint8Array(127))).toThrow(/keyMaterial/);
    const { client, relays } = makeCircuit(2);
    expect(() => client.encryptForward(new Uint8Array(508), 0)).toThrow(RangeError);
    expect(() => client.encryptForward(new Uint8Array(509), 2)).toThrow(/hopIndex/);
    expect(() => client.encryptForward(new Uint8Array(509), -1)).toThrow(/hopIndex/);
    expect(() => relays[0]!.decryptForward(new Uint8Array(510))).toThrow(RangeError);
    expect(() => new ClientCircuitCrypto(suite).decryptBackward(new Uint8Array(509))).toThrow(RangeError);
  });

  it('a parameter error does not advance any keystream', () => {
    const { client, relays } = makeCircuit(2);
    expect(() => client.encryptForward(new Uint8Array(509), 5)).toThrow(RangeError);
    const d = deliverForward(relays, client.encryptForward(cell(RelayCommand.Escape, patternBytes(9, 9)), 1));
    expect(d.hop).toBe(1);
  });
});

describe('property: long random sequences keep both ends in step', () => {
  const op = fc.record({
    forward: fc.boolean(),
    hop: fc.integer({ min: 0, max: 2 }),
    command: fc.constantFrom(...Object.values(RelayCommand)),
    data: fc.uint8Array({ minLength: 0, maxLength: 500 }),
  });

  it('every cell arrives at (or from) the right hop with its content intact', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.array(op, { minLength: 1, maxLength: 40 }), (seed, ops) => {
        const { client, relays } = makeCircuit(3, seed);
        for (const o of ops) {
          const plain = encodeRelayCell({ command: o.command, data: o.data });
          if (o.forward) {
            const d = deliverForward(relays, client.encryptForward(plain, o.hop));
            if (d.hop !== o.hop) return false;
            const got = decodeRelayCell(d.payload!);
            if (got.command !== o.command || toHex(got.data) !== toHex(o.data)) return false;
          } else {
            const r = client.decryptBackward(sendBackward(relays, o.hop, plain));
            if (r.hopIndex !== o.hop) return false;
            const got = decodeRelayCell(r.payload);
            if (got.command !== o.command || toHex(got.data) !== toHex(o.data)) return false;
          }
        }
        return true;
      }),
      { numRuns: 60 },
    );
  });

  it('decryptBackward on arbitrary bytes only ever throws CircuitError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 509, maxLength: 509 }), (bytes) => {
        const { client } = makeCircuit(3);
        try {
          client.decryptBackward(bytes);
        } catch (e) {
          if (!(e instanceof CircuitError)) throw e;
        }
      }),
      { numRuns: 100 },
    );
  });
});
