/**
 * Properties (fast-check): every decoder of node-core/dht throws only DhtError on arbitrary bytes
 * and on mutations of valid encodings (and verifyRecord on whatever parses); random valid
 * messages and presence values round-trip byte for byte.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  type Contact,
  type DhtMessage,
  type PresenceValue,
  DhtError,
  decodeDhtMessage,
  decodePresenceValue,
  encodeDhtMessage,
  encodePresenceValue,
  parseOwnerRecord,
  parseRecord,
  verifyRecord,
} from '../../node-core/dht';
import { toHex } from '../../node-core/util/bytes';
import { ALICE, NODE, POLICY } from './corpus';
import { NOW, ownerRecord, signedRecord, suite } from './helpers';
import { sampleMessages } from './samples';

function throwsOnlyDhtError(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof DhtError)) throw e;
  }
}

/** A valid encoding with a few bytes changed, cut or extended. */
function mutated(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: -3, max: 3 }),
    )
    .map(([seed, edits, lengthChange]) => {
      let b = seed.slice();
      for (const [at, v] of edits) if (b.length > 0) b[at % b.length] = v;
      if (lengthChange < 0) b = b.subarray(0, Math.max(0, b.length + lengthChange));
      if (lengthChange > 0) {
        const ext = new Uint8Array(b.length + lengthChange);
        ext.set(b);
        b = ext;
      }
      return b;
    });
}

const messageSeeds = sampleMessages.map(encodeDhtMessage);
const recordSeeds = [signedRecord(ALICE, NODE), signedRecord(ALICE, NODE, { value: new Uint8Array(0) })];
const ownerSeeds = [ownerRecord(ALICE)];
const presenceSeed = encodePresenceValue({
  points: [{ nodeIdentity: ALICE.publicKey, address: { host: '10.1.2.3', port: 4 } }],
  announcementKey: new Uint8Array(32).fill(5),
  public: true,
  acceptsDirect: false,
  version: 1,
});

const decoders: [string, (b: Uint8Array) => unknown, Uint8Array[]][] = [
  ['decodeDhtMessage', decodeDhtMessage, messageSeeds],
  ['parseRecord', parseRecord, recordSeeds],
  ['parseOwnerRecord', parseOwnerRecord, ownerSeeds],
  ['decodePresenceValue', decodePresenceValue, [presenceSeed]],
];

describe('decoders throw only DhtError', () => {
  for (const [name, decode, seeds] of decoders) {
    it(`${name}: arbitrary bytes`, () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => throwsOnlyDhtError(() => decode(b))), { numRuns: 500 });
    });
    it(`${name}: mutations of valid encodings`, () => {
      fc.assert(fc.property(mutated(seeds), (b) => throwsOnlyDhtError(() => decode(b))), { numRuns: 500 });
    });
  }

  it('verifyRecord: whatever parses, verification throws only DhtError', () => {
    fc.assert(
      fc.property(mutated(recordSeeds), (b) =>
        throwsOnlyDhtError(() => {
          const u = parseRecord(b);
          verifyRecord(suite, u, NOW, POLICY);
        }),
      ),
      { numRuns: 150 },
    );
  });
});

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const ipv4 = fc
  .tuple(fc.integer({ min: 1, max: 223 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }))
  .map((o) => o.join('.'));
const ipv6 = fc
  .tuple(fc.integer({ min: 0x2000, max: 0x3fff }), fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 7, maxLength: 7 }))
  .map(([first, rest]) => [first, ...rest].map((g) => g.toString(16)).join(':'));
const address = fc.record({ host: fc.oneof(ipv4, ipv6), port: fc.integer({ min: 1, max: 65535 }) });
const contact: fc.Arbitrary<Contact> = fc.record({
  nodeId: bytes(32),
  identityKey: bytes(32),
  addresses: fc.uniqueArray(address, { minLength: 1, maxLength: 4, selector: (a) => a.host + '|' + a.port }),
});
const contacts = fc.uniqueArray(contact, { maxLength: 20, selector: (c) => toHex(c.nodeId) });
const sender = fc.option(contact, { nil: null });

const message: fc.Arbitrary<DhtMessage> = fc.oneof(
  fc.record({ type: fc.constant('ping' as const), nonce: bytes(8), sender }),
  fc.record({ type: fc.constant('pong' as const), nonce: bytes(8) }),
  fc.record({ type: fc.constant('find-node' as const), target: bytes(32), sender }),
  fc.record({ type: fc.constant('nodes' as const), contacts }),
  fc.record({ type: fc.constant('find-value' as const), key: bytes(32), sender }),
  fc.record({ type: fc.constant('value' as const), records: fc.subarray(recordSeeds), contacts }),
  fc.record({ type: fc.constant('store' as const), record: fc.constantFrom(...recordSeeds), sender }),
);

describe('round trips of random valid values', () => {
  it('DHT messages: encode → decode → encode gives the same bytes', () => {
    fc.assert(
      fc.property(message, (m) => {
        const b = encodeDhtMessage(m);
        const back = decodeDhtMessage(b);
        expect(toHex(encodeDhtMessage(back))).toBe(toHex(b));
        expect(back.type).toBe(m.type);
      }),
      { numRuns: 300 },
    );
  });

  it('presence values: encode → decode gives the same value', () => {
    const value: fc.Arbitrary<PresenceValue> = fc.record({
      points: fc.uniqueArray(fc.record({ nodeIdentity: bytes(32), address }), { minLength: 1, maxLength: 4, selector: (p) => toHex(p.nodeIdentity) }),
      announcementKey: bytes(32).filter((k) => k.some((x) => x !== 0)),
      public: fc.boolean(),
      acceptsDirect: fc.boolean(),
      version: fc.integer({ min: 0, max: 0xffff }),
    });
    fc.assert(
      fc.property(value, (v) => {
        const b = encodePresenceValue(v);
        const back = decodePresenceValue(b);
        expect(toHex(encodePresenceValue(back))).toBe(toHex(b));
        expect(back.points.length).toBe(v.points.length);
      }),
      { numRuns: 300 },
    );
  });
});
