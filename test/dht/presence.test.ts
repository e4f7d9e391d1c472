/**
 * Presence records: the value codec, the presence key rule (no squatting), the path from a user's
 * owner-signed record through a presence node's co-signature to a verified record, and
 * pickPresence's choice among several copies and versions.
 */
import { describe, expect, it } from 'vitest';
import {
  type PresenceValue,
  type VerifiedRecord,
  buildPresenceRecord,
  cosignRecord,
  decodePresenceValue,
  encodePresenceValue,
  parseOwnerRecord,
  parseRecord,
  pickPresence,
  presenceKey,
  presenceKeyRule,
  verifyOwnerRecord,
  verifyRecord,
} from '../../node-core/dht';
import { concatBytes, toHex } from '../../node-core/util/bytes';
import { HOUR, NOW, expectDhtError, handCosign, keyPair, signedRecord, suite } from './helpers';

const BOB = keyPair('bob');
const EVE = keyPair('eve');
const P1 = keyPair('presence-node-1');
const P2 = keyPair('presence-node-2');
const P3 = keyPair('presence-node-3');
const nodes = new Set([P1, P2, P3].map((k) => toHex(k.publicKey)));
const policy = { maxTtlMs: HOUR, maxValueBytes: 1024, keyRule: presenceKeyRule(suite), isDhtNode: (k: Uint8Array) => nodes.has(toHex(k)) };

const value = (over: Partial<PresenceValue> = {}): PresenceValue => ({
  points: [
    { nodeIdentity: P1.publicKey, address: { host: '10.0.0.1', port: 7001 } },
    { nodeIdentity: P2.publicKey, address: { host: '2001:db8::2', port: 7002 } },
  ],
  announcementKey: suite.x25519PublicKey(suite.sha256(new TextEncoder().encode('bob announcement'))),
  public: false,
  acceptsDirect: true,
  version: 3,
  ...over,
});

/** Bob's owner-signed presence, verified and co-signed by `node` at `storedAt`, then verified. */
function announce(node: typeof P1, spec: { sequence?: bigint; value?: PresenceValue; storedAt?: number } = {}): VerifiedRecord {
  const ownerSigned = buildPresenceRecord(suite, { ownerSecretKey: BOB.secretKey, value: spec.value ?? value(), sequence: spec.sequence ?? 1n, expiresAt: NOW + HOUR });
  const storedAt = spec.storedAt ?? NOW;
  const vo = verifyOwnerRecord(suite, parseOwnerRecord(ownerSigned), storedAt, policy);
  return verifyRecord(suite, parseRecord(cosignRecord(suite, vo, storedAt, node.secretKey)), NOW, policy);
}

describe('presence value codec', () => {
  it('round trips, with the documented layout', () => {
    const v = value();
    const bytes = encodePresenceValue(v);
    expect(bytes[0]).toBe(1);
    expect(bytes[1]).toBe(0b10); // private, accepts direct
    expect(toHex(bytes.subarray(2, 4))).toBe('0003');
    expect(toHex(bytes.subarray(4, 36))).toBe(toHex(v.announcementKey));
    expect(bytes[36]).toBe(2);
    expect(toHex(bytes.subarray(37, 69))).toBe(toHex(P1.publicKey));
    expect(toHex(bytes.subarray(69, 76))).toBe('040a0000011b59');
    const back = decodePresenceValue(bytes);
    expect(back).toEqual(v);
    expect(toHex(encodePresenceValue(back))).toBe(toHex(bytes));
    expect(decodePresenceValue(encodePresenceValue(value({ public: true, acceptsDirect: false }))).public).toBe(true);
  });

  it('refuses 0 or 5 points, a repeated node, unknown flags, an all-zero key, trailing bytes', () => {
    const pts = (n: number) => Array.from({ length: n }, (_, i) => ({ nodeIdentity: keyPair(`p${i}`).publicKey, address: { host: `10.0.0.${i + 1}`, port: 1 } }));
    expect(() => encodePresenceValue(value({ points: [] }))).toThrow(RangeError);
    expect(() => encodePresenceValue(value({ points: pts(5) }))).toThrow(RangeError);
    expect(() => encodePresenceValue(value({ points: [pts(1)[0]!, pts(1)[0]!] }))).toThrow(/repeats/);
    expect(() => encodePresenceValue(value({ announcementKey: new Uint8Array(32) }))).toThrow(/all zero/);
    const good = encodePresenceValue(value({ points: pts(4) }));
    const five = good.slice();
    five[36] = 5;
    expectDhtError(() => decodePresenceValue(five), 'malformed');
    const zero = good.slice();
    zero[36] = 0;
    expectDhtError(() => decodePresenceValue(zero.subarray(0, 37)), 'malformed');
    const flags = good.slice();
    flags[1] = 4;
    expectDhtError(() => decodePresenceValue(flags), 'malformed');
    const zeroKey = good.slice();
    zeroKey.fill(0, 4, 36);
    expectDhtError(() => decodePresenceValue(zeroKey), 'malformed');
    const dup = encodePresenceValue(value()).slice();
    dup.set(dup.subarray(37, 69), 37 + 32 + 7); // second point's node := first point's node
    expectDhtError(() => decodePresenceValue(dup), 'malformed');
    expectDhtError(() => decodePresenceValue(concatBytes(good, Uint8Array.of(0))), 'malformed');
    expectDhtError(() => decodePresenceValue(Uint8Array.of(2)), 'unsupported-version');
  });
});

describe('presence records', () => {
  it('a presence key is SHA-256("presence" ‖ owner); the owner-signed record carries it', () => {
    const ownerSigned = buildPresenceRecord(suite, { ownerSecretKey: BOB.secretKey, value: value(), sequence: 1n, expiresAt: NOW + HOUR });
    const u = parseOwnerRecord(ownerSigned);
    expect(toHex(u.claimed.key)).toBe(toHex(suite.sha256(concatBytes(new TextEncoder().encode('presence'), BOB.publicKey))));
    expect(toHex(presenceKey(suite, BOB.publicKey))).toBe(toHex(u.claimed.key));
    const r = announce(P1);
    expect(decodePresenceValue(r.value)).toEqual(value());
  });

  it("nobody can place a record under Bob's presence key", () => {
    const squat = signedRecord(EVE, P1, { key: presenceKey(suite, BOB.publicKey), value: encodePresenceValue(value()) });
    expectDhtError(() => verifyRecord(suite, parseRecord(squat), NOW, policy), 'wrong-key');
  });
});

describe('pickPresence', () => {
  it('picks the newest version and marks the points that co-signed a copy of it', () => {
    const old = announce(P1, { sequence: 1n, value: value({ points: [{ nodeIdentity: P3.publicKey, address: { host: '10.9.9.9', port: 1 } }] }) });
    const oldFixed = announce(P3, { sequence: 1n, value: value({ points: [{ nodeIdentity: P3.publicKey, address: { host: '10.9.9.9', port: 1 } }] }) });
    const newByP2 = announce(P2, { sequence: 2n });
    const view = pickPresence(suite, [old, oldFixed, newByP2], NOW);
    expect(view).not.toBeNull();
    expect(view!.sequence).toBe(2n);
    // P2 co-signed version 2, P1 did not: P2 comes first although Bob listed P1 first.
    expect(view!.points.map((p) => [toHex(p.nodeIdentity), p.confirmed])).toEqual([
      [toHex(P2.publicKey), true],
      [toHex(P1.publicKey), false],
    ]);
    // With P1's copy of version 2 too, both are confirmed and Bob's order holds.
    const both = pickPresence(suite, [newByP2, announce(P1, { sequence: 2n })], NOW)!;
    expect(both.points.map((p) => p.confirmed)).toEqual([true, true]);
    expect(toHex(both.points[0]!.nodeIdentity)).toBe(toHex(P1.publicKey));
  });

  it('ignores copies co-signed by a node that is not one of their presence points', () => {
    const byP3 = announce(P3, { sequence: 5n }); // lists P1 and P2 only
    const byP1 = announce(P1, { sequence: 1n });
    expect(pickPresence(suite, [byP3, byP1], NOW)!.sequence).toBe(1n);
    expect(pickPresence(suite, [byP3], NOW)).toBeNull();
  });

  it('ignores expired records, records of other owners or keys, and undecodable values', () => {
    const r = announce(P1);
    expect(pickPresence(suite, [r], NOW + HOUR)).toBeNull();
    expect(pickPresence(suite, [r], NOW, EVE.publicKey)).toBeNull();
    expect(pickPresence(suite, [r], NOW, BOB.publicKey)!.sequence).toBe(1n);
    const other = verifyRecord(
      suite,
      parseRecord(handCosign(buildOther(), P1)),
      NOW,
      { ...policy, keyRule: () => true },
    );
    expect(pickPresence(suite, [other], NOW)).toBeNull();
    expect(pickPresence(suite, [], NOW)).toBeNull();
  });
});

/** Bob's record under the presence key whose value is not a presence value. */
function buildOther(): Uint8Array {
  return buildRaw(presenceKey(suite, BOB.publicKey), Uint8Array.of(9, 9, 9));
}

function buildRaw(key: Uint8Array, v: Uint8Array): Uint8Array {
  const body = concatBytes(
    Uint8Array.of(1),
    key,
    BOB.publicKey,
    new Uint8Array(7),
    Uint8Array.of(1),
    bigEndian(NOW + HOUR),
    Uint8Array.of(0, v.length),
    v,
  );
  const sig = suite.ed25519Sign(suite.sha256(concatBytes(new TextEncoder().encode('PSP-DHT-RECORD-v1'), body)), BOB.secretKey);
  return concatBytes(body, sig);
}

function bigEndian(n: number): Uint8Array {
  const out = new Uint8Array(8);
  let v = BigInt(n);
  for (let i = 7; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
