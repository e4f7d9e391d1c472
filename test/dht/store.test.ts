/**
 * The record store: validation on put (the negative corpus, replays, conflicts), re-validation on
 * get, quotas, expiry wipes and the republish list.
 */
import { describe, expect, it } from 'vitest';
import { RecordStore, deriveRecordKey, parseRecord } from '../../node-core/dht';
import { toHex, utf8 } from '../../node-core/util/bytes';
import { ALICE, MALLORY, NODE, POLICY, badRecords, unparsableRecords } from './corpus';
import { HOUR, NOW, handCosign, keyPair, ownerRecord, policyFor, signedRecord, suite } from './helpers';

const NODE2 = keyPair('dht-node-2');
const aliceKey = deriveRecordKey(suite, 'test', ALICE.publicKey);

function store(over: Partial<ConstructorParameters<typeof RecordStore>[0]> = {}): RecordStore {
  return new RecordStore({ suite, policy: policyFor([NODE.publicKey, NODE2.publicKey]), ...over });
}

describe('put: validation', () => {
  for (const bad of [...badRecords(), ...unparsableRecords()]) {
    it(`${bad.name}: refused as ${bad.code}, nothing stored`, () => {
      const s = new RecordStore({ suite, policy: POLICY });
      const r = s.put(bad.bytes, NOW);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.code).toBe(bad.code);
      expect(s.size).toBe(0);
      expect(s.totalBytes).toBe(0);
    });
  }

  it('keeps the newest sequence per key and owner; a lower one is replayed, an equal one with other content a conflict', () => {
    const s = store();
    const v1 = signedRecord(ALICE, NODE, { sequence: 1n });
    const v2 = signedRecord(ALICE, NODE, { sequence: 2n, value: utf8('second') });
    expect(s.put(v1, NOW)).toEqual({ ok: true, status: 'stored' });
    expect(s.put(v2, NOW)).toEqual({ ok: true, status: 'stored' });
    expect(s.size).toBe(1);
    const replay = s.put(v1, NOW);
    expect(!replay.ok && replay.code).toBe('replayed');
    const conflict = s.put(signedRecord(ALICE, NODE, { sequence: 2n, value: utf8('other') }), NOW);
    expect(!conflict.ok && conflict.code).toBe('conflict');
    // The same version again, or co-signed by another node: unchanged, the first copy stays.
    expect(s.put(v2, NOW + 1)).toEqual({ ok: true, status: 'unchanged' });
    expect(s.put(signedRecord(ALICE, NODE2, { sequence: 2n, value: utf8('second') }), NOW + 1)).toEqual({ ok: true, status: 'unchanged' });
    const held = s.get(aliceKey, NOW);
    expect(held.length).toBe(1);
    expect(toHex(held[0]!.bytes)).toBe(toHex(v2));
  });

  it('a refused put changes nothing', () => {
    const s = store();
    const v2 = signedRecord(ALICE, NODE, { sequence: 2n });
    s.put(v2, NOW);
    const before = s.totalBytes;
    s.put(signedRecord(ALICE, NODE, { sequence: 1n }), NOW);
    s.put(badRecords()[0]!.bytes, NOW);
    expect(s.size).toBe(1);
    expect(s.totalBytes).toBe(before);
    expect(toHex(s.get(aliceKey, NOW)[0]!.bytes)).toBe(toHex(v2));
  });

  it('argument errors are TypeError/RangeError, not results', () => {
    const s = store();
    expect(() => s.put('x' as unknown as Uint8Array, NOW)).toThrow(TypeError);
    expect(() => s.put(new Uint8Array(0), -1)).toThrow(RangeError);
    expect(() => s.get(new Uint8Array(3), NOW)).toThrow(RangeError);
  });
});

describe('get: re-validation', () => {
  it('never returns an expired record, and forgets it', () => {
    const s = store();
    s.put(signedRecord(ALICE, NODE, { expiresAt: NOW + 1000 }), NOW);
    expect(s.get(aliceKey, NOW + 999).length).toBe(1);
    expect(s.get(aliceKey, NOW + 1000)).toEqual([]);
    expect(s.size).toBe(0);
  });

  it('drops a record whose co-signer is no longer a DHT node', () => {
    const nodes = new Set([toHex(NODE.publicKey)]);
    const s = new RecordStore({ suite, policy: { ...POLICY, isDhtNode: (k) => nodes.has(toHex(k)) } });
    expect(s.put(signedRecord(ALICE, NODE), NOW).ok).toBe(true);
    expect(s.get(aliceKey, NOW).length).toBe(1);
    nodes.clear();
    expect(s.get(aliceKey, NOW)).toEqual([]);
    expect(s.size).toBe(0);
  });

  it('returns records of several owners under one key newest first (a key rule may allow that)', () => {
    const shared = suite.sha256(utf8('shared key'));
    const s = store({ policy: { ...policyFor([NODE.publicKey]), keyRule: () => true } });
    s.put(signedRecord(ALICE, NODE, { key: shared, sequence: 1n }), NOW);
    s.put(signedRecord(MALLORY, NODE, { key: shared, sequence: 5n }), NOW);
    expect(s.get(shared, NOW).map((r) => r.sequence)).toEqual([5n, 1n]);
  });
});

describe('quotas', () => {
  it('limits records per owner', () => {
    const s = store({ maxRecordsPerOwner: 2, policy: { ...policyFor([NODE.publicKey]), keyRule: () => true } });
    const key = (i: number) => suite.sha256(Uint8Array.of(i));
    expect(s.put(signedRecord(ALICE, NODE, { key: key(1) }), NOW).ok).toBe(true);
    expect(s.put(signedRecord(ALICE, NODE, { key: key(2) }), NOW).ok).toBe(true);
    const third = s.put(signedRecord(ALICE, NODE, { key: key(3) }), NOW);
    expect(!third.ok && third.code).toBe('quota-exceeded');
    // A new version of a held record is not a new record; another owner has its own quota.
    expect(s.put(signedRecord(ALICE, NODE, { key: key(2), sequence: 2n }), NOW).ok).toBe(true);
    expect(s.put(signedRecord(MALLORY, NODE, { key: key(3) }), NOW).ok).toBe(true);
    expect(s.size).toBe(3);
  });

  it('limits total bytes, counting the growth of a replaced record', () => {
    const one = signedRecord(ALICE, NODE, { value: new Uint8Array(100) });
    const s = store({ maxTotalBytes: one.length + 50 });
    expect(s.put(one, NOW).ok).toBe(true);
    const bigger = s.put(signedRecord(ALICE, NODE, { sequence: 2n, value: new Uint8Array(200) }), NOW);
    expect(!bigger.ok && bigger.code).toBe('quota-exceeded');
    const other = s.put(signedRecord(MALLORY, NODE), NOW);
    expect(!other.ok && other.code).toBe('quota-exceeded');
    expect(s.put(signedRecord(ALICE, NODE, { sequence: 2n, value: new Uint8Array(140) }), NOW).ok).toBe(true);
    expect(s.totalBytes).toBe(one.length + 40);
  });
});

describe('expiry and republishing', () => {
  it('wipeExpired removes exactly the records expired at the given time', () => {
    const s = store({ policy: { ...policyFor([NODE.publicKey]), keyRule: () => true } });
    for (let i = 1; i <= 5; i++) s.put(signedRecord(ALICE, NODE, { key: suite.sha256(Uint8Array.of(i)), expiresAt: NOW + i * 1000 }), NOW);
    expect(s.wipeExpired(NOW + 2500)).toBe(2);
    expect(s.size).toBe(3);
    expect(s.wipeExpired(NOW + 2500)).toBe(0);
    expect(s.wipeExpired(NOW + 10_000)).toBe(3);
    expect(s.size).toBe(0);
    expect(s.totalBytes).toBe(0);
  });

  it('lists for republishing only records this node co-signed, once their interval has passed', () => {
    const s = store({ selfIdentity: NODE.publicKey, republishIntervalMs: 1000 });
    const mine = signedRecord(ALICE, NODE, { expiresAt: NOW + HOUR });
    const theirs = signedRecord(MALLORY, NODE2);
    s.put(mine, NOW);
    s.put(theirs, NOW);
    expect(s.dueForRepublish(NOW + 999)).toEqual([]);
    const due = s.dueForRepublish(NOW + 1000);
    expect(due.map((r) => toHex(r.bytes))).toEqual([toHex(mine)]);
    s.markRepublished(due[0]!, NOW + 1000);
    expect(s.dueForRepublish(NOW + 1999)).toEqual([]);
    expect(s.dueForRepublish(NOW + 2000).length).toBe(1);
    // An expired record is never due.
    expect(s.dueForRepublish(NOW + HOUR)).toEqual([]);
  });

  it('a record re-co-signed by another node is no longer ours to republish', () => {
    const s = store({ selfIdentity: NODE.publicKey, republishIntervalMs: 1000 });
    s.put(signedRecord(ALICE, NODE, { sequence: 1n }), NOW);
    s.put(handCosign(ownerRecord(ALICE, { sequence: 2n }), NODE2), NOW);
    expect(s.dueForRepublish(NOW + 5000)).toEqual([]);
    expect(parseRecord(s.all()[0]!.bytes).claimed.sequence).toBe(2n);
  });
});
