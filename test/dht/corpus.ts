/**
 * The negative corpus of DHT records: one bad signed record per way a record can be wrong, each
 * with the DhtError code every check (verifyRecord, RecordStore.put, a lookup answer) must give.
 * Test helper, not a test file.
 *
 * Context: verified at NOW with policyFor([NODE.publicKey]); ALICE owns the good records.
 */
import type { DhtErrorCode } from '../../node-core/dht';
import { deriveRecordKey } from '../../node-core/dht';
import { concatBytes } from '../../node-core/util/bytes';
import { HOUR, type KeyPair, NOW, handCosign, keyPair, ownerRecord, policyFor, signedRecord, suite } from './helpers';

export const ALICE = keyPair('alice');
export const MALLORY = keyPair('mallory');
export const NODE = keyPair('dht-node');
export const STRANGER = keyPair('not-a-dht-node');
export const POLICY = policyFor([NODE.publicKey]);

export interface BadRecord {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly code: DhtErrorCode;
}

/** Signed records that parse but must fail verification. */
export function badRecords(): BadRecord[] {
  const good = ownerRecord(ALICE);
  const forgedOwner = good.slice();
  forgedOwner[forgedOwner.length - 64 - 1]! ^= 0x01; // last value byte, after the owner signed
  const wrongCosig = signedRecord(ALICE, NODE);
  const tail = wrongCosig.length - 64;
  const reSigned = handCosign(good, MALLORY); // a valid co-signature, by Mallory's key
  const badCosigBytes = concatBytes(wrongCosig.subarray(0, tail), reSigned.subarray(reSigned.length - 64));
  return [
    { name: 'forged (owner signature broken)', bytes: handCosign(forgedOwner, NODE), code: 'bad-owner-signature' },
    { name: 'signed by someone else than the owner', bytes: handCosign(ownerWithForeignSignature(ALICE, MALLORY), NODE), code: 'bad-owner-signature' },
    { name: 'expired', bytes: signedRecord(ALICE, NODE, { expiresAt: NOW - 1, storedAt: NOW - HOUR }), code: 'expired' },
    { name: 'expiring exactly now', bytes: signedRecord(ALICE, NODE, { expiresAt: NOW, storedAt: NOW - HOUR }), code: 'expired' },
    { name: 'stored after its expiry', bytes: signedRecord(ALICE, NODE, { expiresAt: NOW + 10, storedAt: NOW + 20 }), code: 'expired' },
    { name: 'TTL over the cap', bytes: signedRecord(ALICE, NODE, { expiresAt: NOW + 25 * HOUR }), code: 'ttl-too-long' },
    { name: 'stored in the future', bytes: signedRecord(ALICE, NODE, { storedAt: NOW + 10 * 60_000 }), code: 'not-yet-valid' },
    { name: 'oversize value (policy)', bytes: signedRecord(ALICE, NODE, { value: new Uint8Array(1025) }), code: 'oversize' },
    { name: 'co-signed by a stranger', bytes: signedRecord(ALICE, STRANGER), code: 'unknown-cosigner' },
    { name: 'wrongly co-signed', bytes: badCosigBytes, code: 'bad-cosignature' },
    {
      name: "squatting on Alice's presence key",
      bytes: signedRecord(MALLORY, NODE, { key: deriveRecordKey(suite, 'presence', ALICE.publicKey) }),
      code: 'wrong-key',
    },
    { name: 'key of an unknown namespace', bytes: signedRecord(ALICE, NODE, { namespace: 'unknown' }), code: 'wrong-key' },
  ];
}

/** Alice's record body signed with Mallory's key (a signature that cannot verify under Alice). */
function ownerWithForeignSignature(owner: KeyPair, signer: KeyPair): Uint8Array {
  const good = ownerRecord(owner);
  const body = good.subarray(0, good.length - 64);
  const sig = suite.ed25519Sign(suite.sha256(concatBytes(new TextEncoder().encode('PSP-DHT-RECORD-v1'), body)), signer.secretKey);
  return concatBytes(body, sig);
}

/** Byte strings that do not parse as signed records, with the parser's code. */
export function unparsableRecords(): BadRecord[] {
  const good = signedRecord(ALICE, NODE);
  const v2 = good.slice();
  v2[0] = 2;
  const hugeValue = good.slice();
  hugeValue[81] = 0x10; // value length 0x10xx > 4096
  return [
    { name: 'empty', bytes: new Uint8Array(0), code: 'malformed' },
    { name: 'cut short', bytes: good.subarray(0, good.length - 1), code: 'malformed' },
    { name: 'trailing byte', bytes: concatBytes(good, Uint8Array.of(0)), code: 'malformed' },
    { name: 'unknown format', bytes: v2, code: 'unsupported-version' },
    { name: 'value length over the codec limit', bytes: hugeValue, code: 'oversize' },
    { name: 'longer than any record', bytes: new Uint8Array(5000), code: 'oversize' },
  ];
}
