/**
 * DHT records: the documented layout, round trips, owner-signed verification before co-signing,
 * co-signing, and the negative corpus (each bad record fails verifyRecord with its own code).
 * The same corpus runs against RecordStore.put (store.test.ts) and lookups (lookup.test.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  type RecordContent,
  DhtError,
  compareNewest,
  cosignRecord,
  deriveRecordKey,
  encodeRecordBody,
  namespaceKeyRule,
  parseOwnerRecord,
  parseRecord,
  signRecord,
  verifyOwnerRecord,
  verifyRecord,
} from '../../node-core/dht';
import { Writer, concatBytes, toHex, utf8 } from '../../node-core/util/bytes';
import { ALICE, MALLORY, NODE, POLICY, badRecords, unparsableRecords } from './corpus';
import { HOUR, NOW, expectDhtError, ownerRecord, signedRecord, suite } from './helpers';

const content = (over: Partial<RecordContent> = {}): RecordContent => ({
  key: deriveRecordKey(suite, 'test', ALICE.publicKey),
  owner: ALICE.publicKey,
  sequence: 7n,
  expiresAt: NOW + HOUR,
  value: utf8('hello'),
  ...over,
});

describe('record layout', () => {
  it('the body is format | key | owner | sequence | expiresAt | valueLen | value, big-endian', () => {
    const c = content({ sequence: 0x0102030405060708n, expiresAt: 0x0000_0a0b_0c0d_0e0f });
    const expected = concatBytes(
      Uint8Array.of(1),
      c.key,
      c.owner,
      Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
      Uint8Array.of(0, 0, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f),
      Uint8Array.of(0, 5),
      utf8('hello'),
    );
    expect(toHex(encodeRecordBody(c))).toBe(toHex(expected));
  });

  it('the owner signs SHA-256("PSP-DHT-RECORD-v1" ‖ body); the co-signer signs SHA-256("PSP-DHT-COSIGN-v1" ‖ owner-signed ‖ storedAt ‖ cosigner)', () => {
    const c = content();
    const body = encodeRecordBody(c);
    const ownerSigned = signRecord(suite, c, ALICE.secretKey);
    expect(toHex(ownerSigned.subarray(0, body.length))).toBe(toHex(body));
    const sig = ownerSigned.subarray(body.length);
    expect(suite.ed25519Verify(sig, suite.sha256(concatBytes(utf8('PSP-DHT-RECORD-v1'), body)), ALICE.publicKey)).toBe(true);

    const verified = verifyOwnerRecord(suite, parseOwnerRecord(ownerSigned), NOW, POLICY);
    const signed = cosignRecord(suite, verified, NOW + 5, NODE.secretKey);
    const input = new Writer().bytes(ownerSigned).u64(BigInt(NOW + 5)).bytes(NODE.publicKey).finish();
    expect(toHex(signed.subarray(0, input.length))).toBe(toHex(input));
    const cosig = signed.subarray(input.length);
    expect(cosig.length).toBe(64);
    expect(suite.ed25519Verify(cosig, suite.sha256(concatBytes(utf8('PSP-DHT-COSIGN-v1'), input)), NODE.publicKey)).toBe(true);
  });
});

describe('record round trips', () => {
  it('sign → parse → verify → co-sign → parse → verify keeps every field and the bytes', () => {
    const c = content({ value: new Uint8Array(1024).fill(7) });
    const ownerSigned = signRecord(suite, c, ALICE.secretKey);
    const u = parseOwnerRecord(ownerSigned);
    expect(u.claimed.sequence).toBe(7n);
    const vo = verifyOwnerRecord(suite, u, NOW, POLICY);
    expect(toHex(vo.bytes)).toBe(toHex(ownerSigned));
    const signed = cosignRecord(suite, vo, NOW, NODE.secretKey);
    const v = verifyRecord(suite, parseRecord(signed), NOW, POLICY);
    expect(toHex(v.key)).toBe(toHex(c.key));
    expect(toHex(v.owner)).toBe(toHex(c.owner));
    expect(v.sequence).toBe(c.sequence);
    expect(v.expiresAt).toBe(c.expiresAt);
    expect(toHex(v.value)).toBe(toHex(c.value));
    expect(v.storedAt).toBe(NOW);
    expect(toHex(v.cosigner)).toBe(toHex(NODE.publicKey));
    expect(toHex(v.ownerSigned)).toBe(toHex(ownerSigned));
    expect(toHex(v.bytes)).toBe(toHex(signed));
  });

  it('an empty value and the largest sequence are fine', () => {
    const signed = signedRecord(ALICE, NODE, { value: new Uint8Array(0), sequence: 0xffffffffffffffffn });
    expect(verifyRecord(suite, parseRecord(signed), NOW, POLICY).sequence).toBe(0xffffffffffffffffn);
  });

  it('verification works from the bytes, not from a tampered claimed field', () => {
    const u = parseRecord(signedRecord(ALICE, NODE));
    const tampered = { ...u, claimed: { ...u.claimed, sequence: 99n } };
    expect(verifyRecord(suite, tampered, NOW, POLICY).sequence).toBe(1n);
  });

  it('compareNewest: higher sequence first, then later storedAt, then byte order', () => {
    const v = (spec: { sequence?: bigint; storedAt?: number; value?: Uint8Array }) =>
      verifyRecord(suite, parseRecord(signedRecord(ALICE, NODE, spec)), NOW, POLICY);
    const a = v({ sequence: 2n });
    const b = v({ sequence: 1n, storedAt: NOW });
    const c = v({ sequence: 1n, storedAt: NOW - 1 });
    expect([c, a, b].sort(compareNewest).map((r) => [r.sequence, r.storedAt])).toEqual([
      [2n, NOW],
      [1n, NOW],
      [1n, NOW - 1],
    ]);
    const x = v({ value: utf8('x') });
    const y = v({ value: utf8('y') });
    expect(Math.sign(compareNewest(x, y))).toBe(-Math.sign(compareNewest(y, x)));
    expect(compareNewest(x, x)).toBe(0);
  });
});

describe('owner-signed verification before co-signing', () => {
  it('refuses what the co-signer must not sign, each with its code', () => {
    const parse = (b: Uint8Array) => parseOwnerRecord(b);
    expectDhtError(() => verifyOwnerRecord(suite, parse(ownerRecord(ALICE, { expiresAt: NOW })), NOW, POLICY), 'expired');
    expectDhtError(() => verifyOwnerRecord(suite, parse(ownerRecord(ALICE, { expiresAt: NOW + 25 * HOUR })), NOW, POLICY), 'ttl-too-long');
    expectDhtError(() => verifyOwnerRecord(suite, parse(ownerRecord(ALICE, { value: new Uint8Array(2000) })), NOW, POLICY), 'oversize');
    expectDhtError(
      () => verifyOwnerRecord(suite, parse(ownerRecord(MALLORY, { key: deriveRecordKey(suite, 'presence', ALICE.publicKey) })), NOW, POLICY),
      'wrong-key',
    );
    const forged = ownerRecord(ALICE);
    forged[70]! ^= 1; // inside the sequence
    expectDhtError(() => verifyOwnerRecord(suite, parse(forged), NOW, POLICY), 'bad-owner-signature');
    expectDhtError(() => parseOwnerRecord(signedRecord(ALICE, NODE)), 'malformed'); // co-signed form is longer
  });

  it('signRecord refuses a key that is not the owner’s, and bad content', () => {
    expect(() => signRecord(suite, content(), MALLORY.secretKey)).toThrow(/does not belong/);
    expect(() => signRecord(suite, content({ sequence: -1n }), ALICE.secretKey)).toThrow(RangeError);
    expect(() => signRecord(suite, content({ value: new Uint8Array(4097) }), ALICE.secretKey)).toThrow(/content.value/);
    expect(() => signRecord(suite, content({ key: new Uint8Array(31) }), ALICE.secretKey)).toThrow(/content.key/);
  });
});

describe('negative corpus', () => {
  for (const bad of badRecords()) {
    it(`${bad.name}: verifyRecord → ${bad.code}`, () => {
      const u = parseRecord(bad.bytes);
      expectDhtError(() => verifyRecord(suite, u, NOW, POLICY), bad.code);
    });
  }

  for (const bad of unparsableRecords()) {
    it(`${bad.name}: parseRecord → ${bad.code}`, () => {
      expectDhtError(() => parseRecord(bad.bytes), bad.code);
    });
  }

  it('the good record of the corpus context verifies (so each failure above is its own fault)', () => {
    expect(verifyRecord(suite, parseRecord(signedRecord(ALICE, NODE)), NOW, POLICY).sequence).toBe(1n);
  });
});

describe('key rules', () => {
  it('a record key is SHA-256(namespace ‖ owner) and the rule accepts only listed namespaces', () => {
    expect(toHex(deriveRecordKey(suite, 'presence', ALICE.publicKey))).toBe(toHex(suite.sha256(concatBytes(utf8('presence'), ALICE.publicKey))));
    const rule = namespaceKeyRule(suite, ['presence']);
    expect(rule(deriveRecordKey(suite, 'presence', ALICE.publicKey), ALICE.publicKey)).toBe(true);
    expect(rule(deriveRecordKey(suite, 'presence', ALICE.publicKey), MALLORY.publicKey)).toBe(false);
    expect(rule(deriveRecordKey(suite, 'stream', ALICE.publicKey), ALICE.publicKey)).toBe(false);
    expect(() => deriveRecordKey(suite, 'Bad NS', ALICE.publicKey)).toThrow(RangeError);
    expect(() => namespaceKeyRule(suite, [])).toThrow(TypeError);
  });

  it('verifyRecord throws a plain TypeError for a bad policy (a programming error, not a DhtError)', () => {
    const u = parseRecord(signedRecord(ALICE, NODE));
    const e = (() => {
      try {
        verifyRecord(suite, u, NOW, { ...POLICY, isDhtNode: undefined as unknown as () => boolean });
      } catch (x) {
        return x;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(TypeError);
    expect(e).not.toBeInstanceOf(DhtError);
  });
});
