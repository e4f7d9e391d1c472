/**
 * RFC 9605 Appendix C known answers (test/vectors/rfc9605/): header encoding and decoding
 * (C.1), the AES-CTR + HMAC AEAD (C.2), and full SFrame encryption and decryption with every
 * intermediate value (C.3) for each of the five cipher suites.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  SFRAME_SUITE,
  SFrameContext,
  SFrameError,
  decodeHeader,
  deriveKeySalt,
  encodeHeader,
  sframeAeadDecrypt,
  sframeAeadEncrypt,
  sframeNonce,
  sframeSuite,
} from '../../node-core/media';
import { sframeLabels } from '../../node-core/media/sframe';
import { concatBytes, toHex } from '../../node-core/util/bytes';
import { hex, readVectorText, vectors } from './rfc9605';

const README = readFileSync(new URL('../vectors/rfc9605/README.md', import.meta.url), 'utf8');

describe('the vector file', () => {
  it('is the file RFC 9605 cites, byte for byte, as its README records', () => {
    const digest = createHash('sha256').update(readVectorText(), 'utf8').digest('hex');
    expect(README).toContain(digest);
    expect(README).toContain('025d568');
  });

  it('holds every section: 289 headers, the three AES-CTR suites, all five suites end to end', () => {
    expect(vectors.header).toHaveLength(289);
    expect(vectors.aead.map((v) => v.cipher_suite)).toEqual([1, 2, 3]);
    expect(vectors.sframe.map((v) => v.cipher_suite)).toEqual(Object.values(SFRAME_SUITE));
    // The large values survived parsing exactly (2^64 - 1 is not a safe JavaScript number).
    expect(vectors.header.some((h) => h.kid === 0xffffffffffffffffn && h.ctr === 0xffffffffffffffffn)).toBe(true);
  });
});

describe('RFC 9605 C.1: header encoding and decoding', () => {
  it.each(vectors.header.map((h) => [`kid=0x${h.kid.toString(16)} ctr=0x${h.ctr.toString(16)}`, h] as const))(
    '%s',
    (_name, h) => {
      expect(toHex(encodeHeader(h.kid, h.ctr))).toBe(h.encoded);
      const d = decodeHeader(hex(h.encoded));
      expect(d).toEqual({ kid: h.kid, ctr: h.ctr, length: h.encoded.length / 2 });
      // A header decodes the same at the start of a longer ciphertext.
      const longer = concatBytes(hex(h.encoded), Uint8Array.of(0xde, 0xad));
      expect(decodeHeader(longer)).toEqual(d);
    },
  );

  it('encodes from safe JavaScript numbers too', () => {
    for (const h of vectors.header.filter((v) => v.kid <= BigInt(Number.MAX_SAFE_INTEGER) && v.ctr <= BigInt(Number.MAX_SAFE_INTEGER))) {
      expect(toHex(encodeHeader(Number(h.kid), Number(h.ctr)))).toBe(h.encoded);
    }
  });
});

describe('RFC 9605 C.2: AES-CTR with truncated HMAC-SHA-256', () => {
  it.each(vectors.aead.map((v) => [sframeSuite(v.cipher_suite).name, v] as const))('%s', (_name, v) => {
    const p = sframeSuite(v.cipher_suite);
    // derive_subkeys(): the vector's intermediate values split the key as §4.5.1 says.
    expect(v.enc_key).toBe(v.key.slice(0, 2 * p.nka!));
    expect(v.auth_key).toBe(v.key.slice(2 * p.nka!));
    const ct = sframeAeadEncrypt(v.cipher_suite, hex(v.key), hex(v.nonce), hex(v.aad), hex(v.pt));
    expect(toHex(ct)).toBe(v.ct);
    expect(ct.length).toBe(v.pt.length / 2 + p.nt);
    expect(toHex(sframeAeadDecrypt(v.cipher_suite, hex(v.key), hex(v.nonce), hex(v.aad), hex(v.ct)))).toBe(v.pt);
  });

  it.each(vectors.aead.map((v) => [sframeSuite(v.cipher_suite).name, v] as const))(
    '%s: a changed byte anywhere, or another AAD or nonce, fails to authenticate',
    (_name, v) => {
      const ct = hex(v.ct);
      for (let i = 0; i < ct.length; i++) {
        const bad = ct.slice();
        bad[i]! ^= 0x01;
        expect(() => sframeAeadDecrypt(v.cipher_suite, hex(v.key), hex(v.nonce), hex(v.aad), bad)).toThrow(
          expect.objectContaining({ name: 'SFrameError', code: 'auth-failed' }),
        );
      }
      const aad = hex(v.aad);
      aad[0]! ^= 0x80;
      expect(() => sframeAeadDecrypt(v.cipher_suite, hex(v.key), hex(v.nonce), aad, ct)).toThrow(SFrameError);
      const nonce = hex(v.nonce);
      nonce[11]! ^= 0x01;
      expect(() => sframeAeadDecrypt(v.cipher_suite, hex(v.key), nonce, hex(v.aad), ct)).toThrow(SFrameError);
      // A wrong authentication subkey fails even though the encryption subkey is right.
      const key = hex(v.key);
      key[key.length - 1]! ^= 0x01;
      expect(() => sframeAeadDecrypt(v.cipher_suite, key, hex(v.nonce), hex(v.aad), ct)).toThrow(SFrameError);
    },
  );
});

describe('RFC 9605 C.3: SFrame encryption and decryption', () => {
  const cases = vectors.sframe.map((v) => [sframeSuite(v.cipher_suite).name, v] as const);

  it.each(cases)('%s: labels, sframe_key, sframe_salt (§4.4.2)', (_name, v) => {
    const { keyLabel, saltLabel } = sframeLabels(v.cipher_suite, v.kid);
    expect(toHex(keyLabel)).toBe(v.sframe_key_label);
    expect(toHex(saltLabel)).toBe(v.sframe_salt_label);
    const { key, salt } = deriveKeySalt(v.cipher_suite, v.kid, hex(v.base_key));
    expect(toHex(key)).toBe(v.sframe_key);
    expect(toHex(salt)).toBe(v.sframe_salt);
    // The suite's hash sets the size of sframe_secret: SHA-512 for suite 5, SHA-256 otherwise.
    expect(v.sframe_secret.length / 2).toBe(sframeSuite(v.cipher_suite).nh);
  });

  it.each(cases)('%s: nonce and AAD (§4.4.3)', (_name, v) => {
    expect(toHex(sframeNonce(hex(v.sframe_salt), v.ctr))).toBe(v.nonce);
    const header = encodeHeader(v.kid, v.ctr);
    expect(toHex(concatBytes(header, hex(v.metadata)))).toBe(v.aad);
    expect(v.ct.startsWith(toHex(header))).toBe(true);
  });

  it.each(cases)('%s: encrypt(ctr, kid, metadata, pt) == ct', (_name, v) => {
    const ctx = new SFrameContext({ suite: v.cipher_suite });
    ctx.addKey(v.kid, hex(v.base_key), 'encrypt');
    expect(toHex(ctx.encrypt(v.kid, v.ctr, hex(v.metadata), hex(v.pt)))).toBe(v.ct);
    expect(ctx.nextCounter(v.kid)).toBe(v.ctr + 1n);
  });

  it.each(cases)('%s: the AEAD alone gives the same ciphertext from sframe_key and the nonce', (_name, v) => {
    const header = encodeHeader(v.kid, v.ctr);
    const sealed = sframeAeadEncrypt(v.cipher_suite, hex(v.sframe_key), hex(v.nonce), hex(v.aad), hex(v.pt));
    expect(toHex(header) + toHex(sealed)).toBe(v.ct);
  });

  it.each(cases)('%s: decrypt(metadata, ct) == pt', (_name, v) => {
    const ctx = new SFrameContext({ suite: v.cipher_suite });
    ctx.addKey(v.kid, hex(v.base_key), 'decrypt');
    const out = ctx.decrypt(hex(v.ct), hex(v.metadata));
    expect(out.kid).toBe(v.kid);
    expect(out.ctr).toBe(v.ctr);
    expect(toHex(out.plaintext)).toBe(v.pt);
  });

  it.each(cases)('%s: the vector fails under another suite, key, KID or metadata', (_name, v) => {
    const other = v.cipher_suite === 4 ? 5 : 4;
    const wrongSuite = new SFrameContext({ suite: other });
    wrongSuite.addKey(v.kid, hex(v.base_key), 'decrypt');
    expect(() => wrongSuite.decrypt(hex(v.ct), hex(v.metadata))).toThrow(SFrameError);

    const wrongKey = new SFrameContext({ suite: v.cipher_suite });
    const key = hex(v.base_key);
    key[0]! ^= 1;
    wrongKey.addKey(v.kid, key, 'decrypt');
    expect(() => wrongKey.decrypt(hex(v.ct), hex(v.metadata))).toThrow(expect.objectContaining({ code: 'auth-failed' }));

    const noKey = new SFrameContext({ suite: v.cipher_suite });
    noKey.addKey(v.kid + 1n, hex(v.base_key), 'decrypt');
    expect(() => noKey.decrypt(hex(v.ct), hex(v.metadata))).toThrow(expect.objectContaining({ code: 'unknown-kid' }));

    const right = new SFrameContext({ suite: v.cipher_suite });
    right.addKey(v.kid, hex(v.base_key), 'decrypt');
    expect(() => right.decrypt(hex(v.ct), new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'auth-failed' }));
    // Nothing was recorded by the failure: the right metadata still decrypts.
    expect(toHex(right.decrypt(hex(v.ct), hex(v.metadata)).plaintext)).toBe(v.pt);
  });
});
