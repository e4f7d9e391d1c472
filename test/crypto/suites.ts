/**
 * The crypto suites every test in this folder runs against. Test helper, not a test file.
 */
import type { CryptoSuite } from '../../node-core/crypto/api';
import { nobleSuite } from '../../node-core/crypto/noble';
import { nodeSuite } from '../../node-core/io/crypto-node';

export const SUITES: readonly CryptoSuite[] = [nobleSuite, nodeSuite];

export const hex = (s: string): Uint8Array => {
  if (s.length % 2 !== 0 || !/^[0-9a-f]*$/.test(s)) throw new Error(`bad hex in vector: ${s.slice(0, 20)}`);
  return Uint8Array.from(Buffer.from(s, 'hex'));
};
export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
