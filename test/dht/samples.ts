/**
 * Sample DHT messages and contacts shared by the codec tests, the property tests and the fuzz
 * targets. Test helper, not a test file.
 */
import { type Contact, type DhtMessage, MAX_CONTACTS_PER_ANSWER } from '../../node-core/dht';
import { fromHex } from '../../node-core/util/bytes';
import { ALICE, MALLORY, NODE } from './corpus';
import { puzzleKeyPair, signedRecord } from './helpers';

export function sampleContact(i: number, addresses?: Contact['addresses']): Contact {
  const k = puzzleKeyPair(`msg-contact-${i}`, 1);
  return { nodeId: k.nodeId, identityKey: k.publicKey, addresses: addresses ?? [{ host: `10.${i & 255}.0.1`, port: 7000 + i }] };
}

export const recA = signedRecord(ALICE, NODE);
export const recB = signedRecord(MALLORY, NODE);

export const sampleMessages: DhtMessage[] = [
  { type: 'ping', nonce: fromHex('0102030405060708'), sender: null },
  { type: 'ping', nonce: fromHex('0102030405060708'), sender: sampleContact(1, [{ host: '10.0.0.1', port: 1 }, { host: '2001:db8::1', port: 2 }]) },
  { type: 'pong', nonce: fromHex('a1a2a3a4a5a6a7a8') },
  { type: 'find-node', target: new Uint8Array(32).fill(9), sender: sampleContact(2) },
  { type: 'nodes', contacts: [] },
  { type: 'nodes', contacts: Array.from({ length: MAX_CONTACTS_PER_ANSWER }, (_, i) => sampleContact(i)) },
  { type: 'find-value', key: new Uint8Array(32).fill(3), sender: null },
  { type: 'value', records: [recA, recB], contacts: [sampleContact(3)] },
  { type: 'value', records: [], contacts: [] },
  { type: 'store', record: recA, sender: sampleContact(4) },
  { type: 'store-result', result: { ok: true, status: 'stored' } },
  { type: 'store-result', result: { ok: true, status: 'unchanged' } },
  { type: 'store-result', result: { ok: false, code: 'replayed', message: 'refused by the peer: replayed' } },
];

