/**
 * The shared multi-signature counting (node-core/util/signed.ts), on its own: each trusted key
 * counts once, untrusted and failing entries are ignored, and a shortfall names its cause in a
 * fixed order of precedence.
 */
import { describe, expect, it } from 'vitest';
import { nobleSuite as suite } from '../../node-core/crypto/noble';
import { CodedError, isCodedError } from '../../node-core/util/coded-error';
import { countSignatures, signEntry, verifyEntry, type SignatureEntry } from '../../node-core/util/signed';
import { utf8 } from '../../node-core/util/bytes';

class TestError extends CodedError<'bad-signature' | 'unknown-signer' | 'too-few-signatures'> {
  override readonly name = 'TestError';
}
const fail = (code: 'bad-signature' | 'unknown-signer' | 'too-few-signatures', message: string) => new TestError(code, message);

const keys = Array.from({ length: 5 }, () => suite.randomBytes(32));
const pubs = keys.map((k) => suite.ed25519PublicKey(k));
const body = utf8('a body');
const CONTEXT = 'TEST-CONTEXT-v1';
const sign = (i: number, b = body): SignatureEntry => signEntry(suite, CONTEXT, b, keys[i]!);

function count(signatures: SignatureEntry[], trusted = pubs.slice(0, 3), threshold = 2) {
  return countSignatures(suite, { context: CONTEXT, body, signatures, name: 'signatures', trusted, threshold, what: 'test' }, fail);
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'accepted';
  } catch (e) {
    if (isCodedError(TestError, e)) return e.code;
    throw e;
  }
}

describe('countSignatures', () => {
  it('accepts the threshold of valid trusted signatures and lists what it ignored', () => {
    const r = count([sign(0), sign(1), sign(3)]);
    expect(r.signers).toEqual([pubs[0], pubs[1]]);
    expect(r.ignored).toEqual([{ signer: pubs[3], reason: 'unknown-signer' }]);
    expect(verifyEntry(suite, CONTEXT, body, sign(0))).toBe(true);
    expect(verifyEntry(suite, 'OTHER-CONTEXT', body, sign(0))).toBe(false);
  });

  it('counts a repeated key once', () => {
    expect(codeOf(() => count([sign(0), sign(0)]))).toBe('bad-signature');
  });

  it('names the cause of a shortfall: failed signature first, then unknown signers, then too few', () => {
    expect(codeOf(() => count([sign(0), sign(1, utf8('another body'))]))).toBe('bad-signature');
    expect(codeOf(() => count([sign(0), sign(4)]))).toBe('unknown-signer');
    expect(codeOf(() => count([sign(0)]))).toBe('too-few-signatures');
  });

  it('refuses a malformed entry before checking any signature', () => {
    expect(() => count([{ signer: new Uint8Array(31), signature: new Uint8Array(64) }])).toThrow(RangeError);
  });
});
