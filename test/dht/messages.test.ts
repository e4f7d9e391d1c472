/**
 * DHT message codecs: the documented layout, round trips of every type, bounds and strictness.
 */
import { describe, expect, it } from 'vitest';
import { type DhtMessage, DHT_ERROR_CODES, MAX_RECORDS_PER_ANSWER, decodeDhtMessage, encodeDhtMessage } from '../../node-core/dht';
import { concatBytes, fromHex, toHex } from '../../node-core/util/bytes';
import { ALICE, NODE } from './corpus';
import { expectDhtError, signedRecord } from './helpers';
import { recA, sampleContact, sampleMessages } from './samples';

describe('DHT message layout', () => {
  it('PING is format | type 1 | nonce | sender flag', () => {
    expect(toHex(encodeDhtMessage({ type: 'ping', nonce: fromHex('0102030405060708'), sender: null }))).toBe('0101' + '0102030405060708' + '00');
  });

  it('a contact is nodeId | identityKey | count | family | address | port', () => {
    const c = sampleContact(5, [{ host: '10.5.0.1', port: 0x1234 }]);
    const bytes = encodeDhtMessage({ type: 'nodes', contacts: [c] });
    expect(toHex(bytes)).toBe('0104' + '01' + toHex(c.nodeId) + toHex(c.identityKey) + '01' + '04' + '0a050001' + '1234');
  });

  it('STORE_RESULT carries a refusal as the index of its code in DHT_ERROR_CODES', () => {
    const bytes = encodeDhtMessage({ type: 'store-result', result: { ok: false, code: 'conflict', message: 'x' } });
    expect(toHex(bytes)).toBe('0108' + '02' + DHT_ERROR_CODES.indexOf('conflict').toString(16).padStart(2, '0'));
  });
});

describe('DHT message round trips', () => {
  for (const m of sampleMessages) {
    it(`${m.type} decodes to the same value and re-encodes to the same bytes`, () => {
      const bytes = encodeDhtMessage(m);
      const back = decodeDhtMessage(bytes);
      expect(back).toEqual(m);
      expect(toHex(encodeDhtMessage(back))).toBe(toHex(bytes));
    });
  }

  it('IPv6 hosts come back in canonical form', () => {
    const m = decodeDhtMessage(encodeDhtMessage({ type: 'nodes', contacts: [sampleContact(1, [{ host: '2001:DB8:0:0:0:0:0:1', port: 5 }])] }));
    expect(m.type === 'nodes' && m.contacts[0]!.addresses[0]!.host).toBe('2001:db8::1');
  });
});

describe('DHT message strictness', () => {
  const nodes1 = encodeDhtMessage({ type: 'nodes', contacts: [sampleContact(1)] });

  it('refuses unknown formats, types, trailing bytes and truncation', () => {
    expectDhtError(() => decodeDhtMessage(Uint8Array.of(2, 1)), 'unsupported-version');
    expectDhtError(() => decodeDhtMessage(Uint8Array.of(1, 9)), 'malformed');
    expectDhtError(() => decodeDhtMessage(Uint8Array.of(1, 0)), 'malformed');
    expectDhtError(() => decodeDhtMessage(concatBytes(nodes1, Uint8Array.of(0))), 'malformed');
    expectDhtError(() => decodeDhtMessage(nodes1.subarray(0, nodes1.length - 1)), 'malformed');
    expectDhtError(() => decodeDhtMessage(new Uint8Array(0)), 'malformed');
  });

  it('refuses more than 20 contacts and more than 8 records', () => {
    const twenty = encodeDhtMessage({ type: 'nodes', contacts: Array.from({ length: 20 }, (_, i) => sampleContact(i)) });
    const extra = encodeDhtMessage({ type: 'nodes', contacts: [sampleContact(20)] }).subarray(3);
    const over = concatBytes(twenty.subarray(0, 2), Uint8Array.of(21), twenty.subarray(3), extra);
    expectDhtError(() => decodeDhtMessage(over), 'malformed');
    expect(() => encodeDhtMessage({ type: 'nodes', contacts: Array.from({ length: 21 }, (_, i) => sampleContact(i)) })).toThrow(RangeError);
    const nine = Array.from({ length: MAX_RECORDS_PER_ANSWER + 1 }, (_, i) => signedRecord(ALICE, NODE, { sequence: BigInt(i + 1) }));
    expect(() => encodeDhtMessage({ type: 'value', records: nine, contacts: [] })).toThrow(RangeError);
    const eight = encodeDhtMessage({ type: 'value', records: nine.slice(0, 8), contacts: [] });
    const ninth = nine[8]!;
    const lenPrefix = Uint8Array.of(ninth.length >> 8, ninth.length & 255);
    const forged = concatBytes(eight.subarray(0, 2), Uint8Array.of(9), eight.subarray(3, eight.length - 1), lenPrefix, ninth, Uint8Array.of(0));
    expectDhtError(() => decodeDhtMessage(forged), 'malformed');
  });

  it('refuses a node id twice in one answer, and a record twice', () => {
    const c = sampleContact(1);
    const one = encodeDhtMessage({ type: 'nodes', contacts: [c] });
    const twice = concatBytes(one.subarray(0, 2), Uint8Array.of(2), one.subarray(3), one.subarray(3));
    expectDhtError(() => decodeDhtMessage(twice), 'malformed');
    expect(() => encodeDhtMessage({ type: 'nodes', contacts: [c, c] })).toThrow(/repeats/);
    expect(() => encodeDhtMessage({ type: 'value', records: [recA, recA], contacts: [] })).toThrow(/repeats/);
  });

  it('refuses unusable addresses, bad address counts and a bad sender flag', () => {
    const c = sampleContact(1);
    const good = encodeDhtMessage({ type: 'nodes', contacts: [c] });
    const at = 3 + 64; // address count of the first contact
    const zeroCount = good.slice();
    zeroCount[at] = 0;
    expectDhtError(() => decodeDhtMessage(zeroCount.subarray(0, at + 1)), 'malformed');
    const multicast = good.slice();
    multicast.set([224, 0, 0, 1], at + 2);
    expectDhtError(() => decodeDhtMessage(multicast), 'bad-address');
    const port0 = good.slice();
    port0.set([0, 0], at + 6);
    expectDhtError(() => decodeDhtMessage(port0), 'bad-address');
    const family = good.slice();
    family[at + 1] = 5;
    expectDhtError(() => decodeDhtMessage(family), 'malformed');
    const ping = encodeDhtMessage({ type: 'ping', nonce: new Uint8Array(8), sender: null });
    const flag = ping.slice();
    flag[flag.length - 1] = 2;
    expectDhtError(() => decodeDhtMessage(flag), 'malformed');
  });

  it('refuses a record inside a message that does not parse as a signed record', () => {
    const m = encodeDhtMessage({ type: 'store', record: recA, sender: null });
    const bad = m.slice();
    bad[4] = 9; // the record's format byte (after format, type and the u16 length)
    expectDhtError(() => decodeDhtMessage(bad), 'unsupported-version');
    expect(() => encodeDhtMessage({ type: 'store', record: new Uint8Array(10), sender: null })).toThrow(RangeError);
  });

  it('refuses an unknown STORE_RESULT status or code', () => {
    expectDhtError(() => decodeDhtMessage(Uint8Array.of(1, 8, 3)), 'malformed');
    expectDhtError(() => decodeDhtMessage(Uint8Array.of(1, 8, 2, DHT_ERROR_CODES.length)), 'malformed');
    expect(() => encodeDhtMessage({ type: 'store-result', result: { ok: false, code: 'nope' as 'malformed', message: '' } })).toThrow(RangeError);
  });

  it('encoder errors name the field', () => {
    expect(() => encodeDhtMessage({ type: 'ping', nonce: new Uint8Array(7), sender: null })).toThrow(/message.nonce/);
    expect(() => encodeDhtMessage({ type: 'find-node', target: new Uint8Array(32), sender: { ...sampleContact(1), addresses: [] } })).toThrow(
      /message.sender.addresses/,
    );
    expect(() => encodeDhtMessage({ type: 'bogus' } as unknown as DhtMessage)).toThrow(RangeError);
  });
});
