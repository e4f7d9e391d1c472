/**
 * The relay-cell codec and the CREATE/CREATED/EXTEND/EXTENDED/DESTROY/TRUNCATED payload codecs:
 * known encodings decode to the expected values and re-encode to identical bytes; the bad
 * corpus fails with the expected error; arbitrary bytes only ever produce CircuitError.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import bad from './corpus/bad-payloads.json';
import good from './corpus/good-payloads.json';
import { CircuitError, type CircuitErrorCode } from '../../node-core/circuit/errors';
import {
  RELAY_DATA_MAX,
  RELAY_PAYLOAD_LENGTH,
  RelayCommand,
  decodeRelayCell,
  encodeRelayCell,
} from '../../node-core/circuit/relay-cell';
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
  type ExtendPayload,
} from '../../node-core/circuit/payloads';
import { nobleSuite } from '../../node-core/crypto/noble';
import { ntorClientCreate } from '../../node-core/circuit/ntor';
import { expectCircuitError, hex, patternBytes, toHex } from './helpers';

const fill = (byte: number, n = 32): Uint8Array => new Uint8Array(n).fill(byte);
const ID = fill(0x11);
const ONIONSKIN = new Uint8Array([...ID, ...fill(0x22), ...fill(0x33)]);
const REPLY = new Uint8Array([...fill(0x55), ...fill(0x66)]);
const padTo509 = (b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(509);
  out.set(b);
  return out;
};

/** Every decoder in this folder, by the name the corpus uses; each returns a re-encoding. */
const CODECS: Record<string, { decode: (b: Uint8Array) => unknown; reencode: (b: Uint8Array) => Uint8Array }> = {
  'relay-cell': { decode: decodeRelayCell, reencode: (b) => encodeRelayCell(decodeRelayCell(b)) },
  create: { decode: decodeCreate, reencode: (b) => encodeCreate(decodeCreate(b)) },
  created: { decode: decodeCreated, reencode: (b) => encodeCreated(decodeCreated(b)) },
  extended: { decode: decodeExtended, reencode: (b) => encodeExtended(decodeExtended(b)) },
  extend: { decode: decodeExtend, reencode: (b) => encodeExtend(decodeExtend(b)) },
  destroy: { decode: decodeDestroy, reencode: (b) => encodeDestroy(decodeDestroy(b)) },
  truncated: { decode: decodeTruncated, reencode: (b) => encodeTruncated(decodeTruncated(b)) },
};

describe('relay-cell codec', () => {
  it('lays out command | recognized | digest | length | data | zero padding', () => {
    const p = encodeRelayCell({ command: RelayCommand.Escape, data: Uint8Array.of(0xaa, 0xbb, 0xcc) });
    expect(p.length).toBe(RELAY_PAYLOAD_LENGTH);
    expect(toHex(p.subarray(0, 12))).toBe('03' + '0000' + '00000000' + '0003' + 'aabbcc');
    expect(p.subarray(12).every((b) => b === 0)).toBe(true);
  });

  it.each(Object.entries(RelayCommand))('%s (%i) round-trips with 0, 1 and 500 bytes of data', (_name, command) => {
    for (const len of [0, 1, RELAY_DATA_MAX]) {
      const data = patternBytes(len, command);
      const p = encodeRelayCell({ command, data });
      const c = decodeRelayCell(p);
      expect(c.command).toBe(command);
      expect(toHex(c.data)).toBe(toHex(data));
      expect(toHex(encodeRelayCell(c))).toBe(toHex(p));
    }
  });

  it('the command numbers are fixed: 1..8 from the reference, then Sendme 9, Drop 10, Truncated 11', () => {
    expect(RelayCommand).toEqual({
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
    });
  });

  it('decoding ignores the digest field (the crypto layer checked it)', () => {
    const p = encodeRelayCell({ command: RelayCommand.Drop, data: Uint8Array.of(1) });
    p.set([1, 2, 3, 4], 3);
    expect(decodeRelayCell(p).command).toBe(RelayCommand.Drop);
  });

  it('encode rejects an unknown command or more than 500 bytes with RangeError', () => {
    expect(() => encodeRelayCell({ command: 12 as never, data: new Uint8Array(0) })).toThrow(/cell\.command/);
    expect(() => encodeRelayCell({ command: RelayCommand.Escape, data: new Uint8Array(501) })).toThrow(/cell\.data/);
    expect(() => decodeRelayCell('nope' as never)).toThrow(TypeError);
  });
});

describe('payload codecs: known encodings', () => {
  it('CREATE: type 2, length 96, onionskin', () => {
    const p = decodeCreate(hex(good.cases.create));
    expect(p.handshakeType).toBe(HandshakeType.NtorV1Psp);
    expect(toHex(p.handshake)).toBe(toHex(ONIONSKIN));
    expect(toHex(encodeCreate(p))).toBe(good.cases.create);
    expect(good.cases.create.slice(0, 8)).toBe('00020060');
  });

  it('CREATE inside a zero-padded 509-byte cell payload decodes the same', () => {
    const p = decodeCreate(padTo509(hex(good.cases.create)));
    expect(toHex(encodeCreate(p))).toBe(good.cases.create);
  });

  it('CREATED and EXTENDED: length 64, Y | AUTH', () => {
    for (const [decode, encode] of [
      [decodeCreated, encodeCreated],
      [decodeExtended, encodeExtended],
    ] as const) {
      const p = decode(hex(good.cases.created));
      expect(toHex(p.handshake)).toBe(toHex(REPLY));
      expect(toHex(encode(p))).toBe(good.cases.created);
    }
    expect(toHex(decodeCreated(padTo509(hex(good.cases.created))).handshake)).toBe(toHex(REPLY));
  });

  it('EXTEND: IPv4, IPv6 and identity specifiers, then the CREATE payload', () => {
    const p = decodeExtend(hex(good.cases.extend));
    expect(p.linkSpecifiers).toEqual([
      { type: 'ipv4', address: Uint8Array.of(127, 0, 0, 1), port: 9001 },
      { type: 'ipv6', address: hex('20010db8000000000000000000000001'), port: 9001 },
      { type: 'ed25519', identity: ID },
    ]);
    expect(toHex(p.create.handshake)).toBe(toHex(ONIONSKIN));
    expect(toHex(encodeExtend(p))).toBe(good.cases.extend);
    const v6 = decodeExtend(hex(good.cases['extend-ipv6-only']));
    expect(v6.linkSpecifiers.map((s) => s.type)).toEqual(['ipv6', 'ed25519']);
    expect(toHex(encodeExtend(v6))).toBe(good.cases['extend-ipv6-only']);
  });

  it('DESTROY and TRUNCATED: one reason byte; every reason round-trips', () => {
    expect(decodeDestroy(hex(good.cases.destroy))).toBe(DestroyReason.Requested);
    expect(decodeTruncated(hex(good.cases.truncated))).toBe(DestroyReason.Destroyed);
    for (const reason of Object.values(DestroyReason)) {
      expect(decodeDestroy(encodeDestroy(reason))).toBe(reason);
      expect(decodeDestroy(padTo509(encodeDestroy(reason)))).toBe(reason);
      expect(decodeTruncated(encodeTruncated(reason))).toBe(reason);
    }
    expect(Object.values(DestroyReason)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('a real onionskin goes into CREATE and EXTEND and comes back unchanged', () => {
    const nodeId = nobleSuite.ed25519PublicKey(patternBytes(32, 3));
    const onionKey = nobleSuite.x25519PublicKey(patternBytes(32, 4));
    const { onionskin } = ntorClientCreate(nobleSuite, { nodeId, nodeOnionKey: onionKey });
    const create = { handshakeType: HandshakeType.NtorV1Psp, handshake: onionskin };
    const ext: ExtendPayload = {
      linkSpecifiers: [
        { type: 'ed25519', identity: nodeId },
        { type: 'ipv4', address: Uint8Array.of(10, 0, 0, 7), port: 443 },
      ],
      create,
    };
    const bytes = encodeExtend(ext);
    expect(bytes.length).toBeLessThanOrEqual(RELAY_DATA_MAX);
    const back = decodeExtend(bytes);
    expect(toHex(encodeCreate(back.create))).toBe(toHex(encodeCreate(create)));
    expect(back).toEqual(ext);
  });
});

describe('payload codecs: encoders validate like decoders', () => {
  const create = { handshakeType: HandshakeType.NtorV1Psp, handshake: ONIONSKIN };
  const v4 = { type: 'ipv4' as const, address: Uint8Array.of(1, 2, 3, 4), port: 80 };
  const ed = { type: 'ed25519' as const, identity: ID };

  it.each([
    ['duplicate', [v4, v4, ed], /twice/],
    ['no identity', [v4], /identity/],
    ['no address', [ed], /IPv4 or IPv6/],
    ['wrong identity', [v4, { type: 'ed25519', identity: fill(0x44) }], /differs/],
    ['port 0', [{ ...v4, port: 0 }, ed], /port/],
    ['short address', [{ ...v4, address: Uint8Array.of(1, 2, 3) }, ed], /address/],
    ['unknown type', [{ type: 'hostname' }, ed], /type/],
  ])('EXTEND %s: RangeError', (_name, linkSpecifiers, message) => {
    expect(() => encodeExtend({ linkSpecifiers, create } as ExtendPayload)).toThrow(message as RegExp);
  });

  it('CREATE, CREATED and reasons', () => {
    expect(() => encodeCreate({ handshakeType: 1 as never, handshake: ONIONSKIN })).toThrow(/handshakeType/);
    expect(() => encodeCreate({ handshakeType: 2, handshake: new Uint8Array(84) })).toThrow(/handshake/);
    expect(() => encodeCreated({ handshake: new Uint8Array(63) })).toThrow(/handshake/);
    expect(() => encodeDestroy(12 as never)).toThrow(RangeError);
    expect(() => encodeTruncated(-1 as never)).toThrow(RangeError);
  });
});

describe('bad corpus', () => {
  it('covers every codec', () => {
    const codecs = new Set(bad.cases.map((c) => c.codec));
    expect([...codecs].sort()).toEqual(Object.keys(CODECS).sort());
  });

  it.each(bad.cases)('$codec: $name → $code', (c) => {
    const codec = CODECS[c.codec];
    expect(codec, `unknown codec ${c.codec}`).toBeDefined();
    expectCircuitError(() => codec!.decode(hex(c.hex)), c.code as CircuitErrorCode);
  });
});

describe('property: arbitrary bytes', () => {
  it.each(Object.keys(CODECS))('%s decoder throws only CircuitError, and what it accepts re-encodes canonically', (name) => {
    const codec = CODECS[name]!;
    const goodHex = (good.cases as Record<string, string>)[name];
    // Mutations of a valid encoding reach deeper than uniform noise.
    const base = name === 'relay-cell' ? encodeRelayCell({ command: 3, data: patternBytes(40) }) : hex(goodHex ?? '');
    const mutated = fc
      .array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 })
      .map((edits) => {
        const b = base.slice();
        for (const e of edits) if (b.length > 0) b[e.at % b.length] = e.value;
        return b;
      });
    const input = fc.oneof(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ minLength: 509, maxLength: 509 }), mutated);
    fc.assert(
      fc.property(input, (bytes) => {
        let again: Uint8Array;
        try {
          again = codec.reencode(bytes);
        } catch (e) {
          if (e instanceof CircuitError) return;
          throw e;
        }
        // Canonical: the re-encoding is the input, up to zero padding (cell payloads) and the
        // digest field (relay cells).
        const expected = bytes.slice(0, again.length);
        if (name === 'relay-cell') expected.fill(0, 3, 7);
        expect(toHex(again)).toBe(toHex(expected));
        expect(bytes.subarray(again.length).every((b) => b === 0)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});
