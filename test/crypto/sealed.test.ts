/**
 * Sealed secrets (node-core/crypto/sealed.ts): round trips, wrong passphrases, tampering, the
 * header bound as AAD, parameter limits, and agreement of the two scrypt implementations.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import scryptVectors from '../vectors/rfc7914/scrypt.json';
import {
  DEFAULT_SCRYPT_PARAMS,
  SealedError,
  inspectEnvelope,
  nobleScrypt,
  openSecret,
  sealSecret,
  type ScryptKdf,
} from '../../node-core/crypto/sealed';
import { nodeScrypt } from '../../node-core/io/crypto-node';
import { SUITES, toHex } from './suites';

const FAST = { logN: 4, r: 8, p: 1 } as const;
const utf8 = (s: string) => new TextEncoder().encode(s);

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject');
}

describe('scrypt implementations', () => {
  it.each(scryptVectors.cases)('RFC 7914 §12 $name, pure and node:crypto', async (c) => {
    for (const kdf of [nobleScrypt, nodeScrypt]) {
      const out = await kdf(utf8(c.passwordText), utf8(c.saltText), { logN: c.logN, r: c.r, p: c.p }, c.dkLen);
      expect(toHex(out)).toBe(c.derivedKey);
    }
  });

  it('agree on random passwords, salts and small parameters', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 80 }),
        async (pw, salt, logN, r, p, dkLen) => {
          const a = await nobleScrypt(pw, salt, { logN, r, p }, dkLen);
          const b = await nodeScrypt(pw, salt, { logN, r, p }, dkLen);
          expect(toHex(b)).toBe(toHex(a));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe.each(SUITES)('$name suite: sealSecret / openSecret', (suite) => {
  const secret = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);

  it('round-trips, with string and byte passphrases', async () => {
    const env = await sealSecret(secret, 'correct horse', suite, FAST);
    expect(await openSecret(env, 'correct horse', suite)).toEqual(secret);
    const env2 = await sealSecret(secret, utf8('bytes pass'), suite, { ...FAST, kdf: nodeScrypt });
    expect(await openSecret(env2, 'bytes pass', suite, { kdf: nodeScrypt })).toEqual(secret);
    expect(await openSecret(env2, 'bytes pass', suite)).toEqual(secret); // either KDF opens it
  });

  it('normalises string passphrases (NFC), so composed and decomposed forms both open', async () => {
    const env = await sealSecret(secret, 'caf\u00e9', suite, FAST);
    expect(await openSecret(env, 'cafe\u0301', suite)).toEqual(secret);
  });

  it('uses N = 2^15, r = 8, p = 1 by default, and the envelope says so', async () => {
    const env = await sealSecret(secret, 'pw', suite, { kdf: nodeScrypt });
    expect(inspectEnvelope(env)).toEqual({ ...DEFAULT_SCRYPT_PARAMS, secretLength: 32 });
    expect(await openSecret(env, 'pw', suite, { kdf: nodeScrypt })).toEqual(secret);
  });

  it('makes a different envelope every time (random salt and nonce)', async () => {
    const a = await sealSecret(secret, 'pw', suite, FAST);
    const b = await sealSecret(secret, 'pw', suite, FAST);
    expect(toHex(a)).not.toBe(toHex(b));
    expect(toHex(a.subarray(9, 25))).not.toBe(toHex(b.subarray(9, 25)));
  });

  it('does not contain the secret bytes, nor any 8-byte run of them', async () => {
    const env = await sealSecret(secret, 'pw', suite, FAST);
    const envHex = toHex(env);
    for (let i = 0; i + 8 <= secret.length; i++) expect(envHex).not.toContain(toHex(secret.subarray(i, i + 8)));
  });

  it('a wrong passphrase throws SealedError auth-failed', async () => {
    const env = await sealSecret(secret, 'right', suite, FAST);
    const e = await rejection(openSecret(env, 'wrong', suite));
    expect(e).toBeInstanceOf(SealedError);
    expect((e as SealedError).code).toBe('auth-failed');
    expect((e as Error).message).toMatch(/wrong passphrase/);
  });

  it('any flipped byte makes opening fail with a SealedError, never a wrong secret', async () => {
    const env = await sealSecret(secret, 'pw', suite, FAST);
    const codes = new Map<number, string>();
    for (let i = 0; i < env.length; i++) {
      const bad = env.slice();
      bad[i]! ^= 0x01;
      const e = await rejection(openSecret(bad, 'pw', suite));
      expect(e).toBeInstanceOf(SealedError);
      codes.set(i, (e as SealedError).code);
    }
    expect(codes.get(0)).toBe('bad-format'); // magic
    expect(codes.get(4)).toBe('unsupported'); // version
    expect(codes.get(5)).toBe('unsupported'); // KDF id
    expect(codes.get(20)).toBe('auth-failed'); // salt
    expect(codes.get(30)).toBe('auth-failed'); // nonce
    expect(codes.get(env.length - 1)).toBe('auth-failed'); // tag
  });

  it('every truncation fails with a SealedError', async () => {
    const env = await sealSecret(secret, 'pw', suite, FAST);
    for (let n = 0; n < env.length; n += 5) {
      const e = await rejection(openSecret(env.subarray(0, n), 'pw', suite));
      expect(e).toBeInstanceOf(SealedError);
    }
  });

  it('binds the header as AAD: changed parameters fail even when the KDF ignores them', async () => {
    // A KDF that ignores its parameters, so only the AAD can notice the change.
    const sameKey: ScryptKdf = async () => new Uint8Array(32).fill(0x42);
    const env = await sealSecret(secret, 'pw', suite, { ...FAST, kdf: sameKey });
    expect(await openSecret(env, 'pw', suite, { kdf: sameKey })).toEqual(secret);
    for (const [offset, value] of [
      [6, 5], // logN 4 -> 5
      [7, 4], // r 8 -> 4
      [8, 2], // p 1 -> 2
    ] as const) {
      const bad = env.slice();
      bad[offset] = value;
      const e = await rejection(openSecret(bad, 'pw', suite, { kdf: sameKey }));
      expect((e as SealedError).code).toBe('auth-failed');
    }
  });

  it('refuses envelopes whose scrypt parameters would cost too much, before running scrypt', async () => {
    const env = await sealSecret(secret, 'pw', suite, FAST);
    let kdfCalls = 0;
    const counting: ScryptKdf = async (...args) => {
      kdfCalls++;
      return nobleScrypt(...args);
    };
    for (const [offset, value] of [
      [6, 30], // logN 30
      [6, 0], // logN 0
      [7, 0], // r 0
      [7, 200], // r 200
      [8, 0], // p 0
      [8, 100], // p 100
    ] as const) {
      const bad = env.slice();
      bad[offset] = value;
      const e = await rejection(openSecret(bad, 'pw', suite, { kdf: counting }));
      expect((e as SealedError).code).toBe('bad-params');
    }
    // logN 20 with r = 32 is within each limit but needs 4 GiB.
    const big = env.slice();
    big[6] = 20;
    big[7] = 32;
    expect(((await rejection(openSecret(big, 'pw', suite, { kdf: counting }))) as SealedError).code).toBe('bad-params');
    expect(kdfCalls).toBe(0);
  });

  it('checks its arguments', async () => {
    await expect(sealSecret('x' as unknown as Uint8Array, 'pw', suite, FAST)).rejects.toThrow(TypeError);
    await expect(sealSecret(new Uint8Array(0), 'pw', suite, FAST)).rejects.toThrow(/secret/);
    await expect(sealSecret(new Uint8Array(5000), 'pw', suite, FAST)).rejects.toThrow(RangeError);
    await expect(sealSecret(secret, 5 as unknown as string, suite, FAST)).rejects.toThrow(/passphrase/);
    await expect(sealSecret(secret, 'pw', suite, { logN: 0 })).rejects.toThrow(/logN/);
    await expect(sealSecret(secret, 'pw', suite, { logN: 21 })).rejects.toThrow(RangeError);
    await expect(sealSecret(secret, 'pw', suite, { logN: 4, r: 1.5 })).rejects.toThrow(/r must/);
    await expect(sealSecret(secret, 'pw', suite, { logN: 4, p: 17 })).rejects.toThrow(/p must/);
    await expect(openSecret('x' as unknown as Uint8Array, 'pw', suite)).rejects.toThrow(/envelope/);
    await expect(openSecret(new Uint8Array(100), 'pw', suite)).rejects.toThrow(SealedError);
  });

  it('copies its inputs: wiping the caller arrays during sealing does not change the result', async () => {
    const mine = secret.slice();
    const pending = sealSecret(mine, 'pw', suite, FAST);
    mine.fill(0);
    expect(await openSecret(await pending, 'pw', suite)).toEqual(secret);
  });
});
