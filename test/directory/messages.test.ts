/**
 * The discovery message envelope: round trips of every type and the refusals of its decoder.
 */
import { describe, expect, it } from 'vitest';
import {
  DIRECTORY_ERROR_CODES,
  type DiscoveryMessage,
  PUBLISH_STATUS_CODES,
  decodeDiscoveryMessage,
  encodeDiscoveryMessage,
} from '../../node-core/directory';
import { toHex } from '../../node-core/util/bytes';
import { NETWORK, PERIOD, discovery, expectDirectoryError, onion, signedDescriptor } from './helpers';

describe('discovery messages', () => {
  const messages: DiscoveryMessage[] = [
    { type: 'publish', descriptor: signedDescriptor(onion[0]!) },
    { type: 'publish-result', status: 'accepted' },
    ...DIRECTORY_ERROR_CODES.map((status) => ({ type: 'publish-result' as const, status })),
    { type: 'vote', vote: Uint8Array.of(1, 2, 3) },
    {
      type: 'signature',
      signature: { network: NETWORK, period: PERIOD, bodyDigest: new Uint8Array(32).fill(1), signer: discovery[0]!.publicKey, signature: new Uint8Array(64).fill(2) },
    },
    { type: 'pull', network: NETWORK },
    { type: 'consensus', consensus: Uint8Array.of(9, 9) },
    { type: 'no-consensus' },
  ];

  it('round-trip byte for byte', () => {
    for (const m of messages) {
      const bytes = encodeDiscoveryMessage(m);
      expect(toHex(encodeDiscoveryMessage(decodeDiscoveryMessage(bytes)))).toBe(toHex(bytes));
    }
    expect(toHex(encodeDiscoveryMessage({ type: 'no-consensus' }))).toBe('07');
    expect(toHex(encodeDiscoveryMessage({ type: 'pull', network: 'ab' }))).toBe('05026162');
  });

  it('give every publish status its own fixed number', () => {
    const values = Object.values(PUBLISH_STATUS_CODES);
    expect(new Set(values).size).toBe(values.length);
    expect(values.length).toBe(DIRECTORY_ERROR_CODES.length + 1);
    expect(PUBLISH_STATUS_CODES.accepted).toBe(0);
  });

  it('refuse unknown types and statuses, bad networks, truncation and trailing bytes', () => {
    expectDirectoryError(() => decodeDiscoveryMessage(new Uint8Array(0)), 'malformed');
    expectDirectoryError(() => decodeDiscoveryMessage(Uint8Array.of(0)), 'malformed');
    expectDirectoryError(() => decodeDiscoveryMessage(Uint8Array.of(8)), 'malformed');
    expectDirectoryError(() => decodeDiscoveryMessage(Uint8Array.of(2, 99)), 'malformed');
    expectDirectoryError(() => decodeDiscoveryMessage(Uint8Array.of(5, 2, 0x41, 0x42)), 'malformed');
    expectDirectoryError(() => decodeDiscoveryMessage(Uint8Array.of(7, 0)), 'malformed');
    expectDirectoryError(() => decodeDiscoveryMessage(Uint8Array.of(1, 0xff, 0xff)), 'malformed');
    for (const m of messages) {
      const bytes = encodeDiscoveryMessage(m);
      for (let n = 0; n < bytes.length; n++) expectDirectoryError(() => decodeDiscoveryMessage(bytes.subarray(0, n)), 'malformed');
      expectDirectoryError(() => decodeDiscoveryMessage(Uint8Array.of(...bytes, 0)), 'malformed');
    }
  });

  it('check arguments when encoding', () => {
    expect(() => encodeDiscoveryMessage({ type: 'publish', descriptor: new Uint8Array(5000) })).toThrow(RangeError);
    expect(() => encodeDiscoveryMessage({ type: 'pull', network: 'Bad' })).toThrow(RangeError);
    expect(() => encodeDiscoveryMessage({ type: 'publish-result', status: 'nope' as never })).toThrow(RangeError);
    expect(() => encodeDiscoveryMessage({ type: 'other' } as never)).toThrow(RangeError);
  });
});
