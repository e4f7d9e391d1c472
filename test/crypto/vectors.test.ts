/**
 * Published known-answer vectors (test/vectors/, provenance in its README) through both suites.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import ed25519Vectors from '../vectors/rfc8032/ed25519.json';
import x25519Vectors from '../vectors/rfc7748/x25519.json';
import aeadVectors from '../vectors/rfc8439/chacha20-poly1305.json';
import hkdfVectors from '../vectors/rfc5869/hkdf-sha256.json';
import hmacVectors from '../vectors/rfc4231/hmac-sha256.json';
import sha3Vectors from '../vectors/fips202/sha3-256.json';
import sha256Vectors from '../vectors/fips180/sha256.json';
import ctrVectors from '../vectors/sp800-38a/aes-ctr.json';
import { CryptoError } from '../../node-core/crypto/api';
import { SUITES, hex, toHex } from './suites';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('vector files', () => {
  it('every file names its source and holds cases', () => {
    for (const f of [ed25519Vectors, aeadVectors, hkdfVectors, hmacVectors, sha3Vectors, sha256Vectors, ctrVectors]) {
      expect(f.source).toMatch(/RFC|FIPS|NIST/);
      expect(f.cases.length).toBeGreaterThan(0);
    }
    expect(x25519Vectors.source).toMatch(/RFC 7748/);
    // RFC 8032 §7.1 TEST 1024 carries a 1023-byte message.
    expect(hex(ed25519Vectors.cases.find((c) => c.name === 'TEST 1024')!.message)).toHaveLength(1023);
  });

  it('every vector file has its provenance written down', () => {
    // Either the folder has its own README, or the top README names the file and the file
    // carries a `source` field.
    const dir = fileURLToPath(new URL('../vectors', import.meta.url));
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    let checked = 0;
    for (const sub of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      const names = readdirSync(join(dir, sub.name));
      if (names.includes('README.md')) {
        expect(readme).toContain(`\`${sub.name}/\``);
        continue;
      }
      for (const f of names) {
        expect(readme).toContain(`\`${sub.name}/${f}\``);
        const data = JSON.parse(readFileSync(join(dir, sub.name, f), 'utf8')) as { source?: unknown };
        expect(typeof data.source).toBe('string');
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(9);
  });
});

describe.each(SUITES)('$name suite: published vectors', (suite) => {
  describe('RFC 8032 §7.1 Ed25519', () => {
    it.each(ed25519Vectors.cases)('$name', (c) => {
      const sk = hex(c.secretKey);
      const pk = hex(c.publicKey);
      const msg = hex(c.message);
      const sig = hex(c.signature);
      expect(toHex(suite.ed25519PublicKey(sk))).toBe(c.publicKey);
      expect(toHex(suite.ed25519Sign(msg, sk))).toBe(c.signature);
      expect(suite.ed25519Verify(sig, msg, pk)).toBe(true);
      // The same signature over a different message, or with one bit flipped, must fail.
      const otherMsg = msg.length === 0 ? new Uint8Array([0]) : msg.map((b, i) => (i === 0 ? b ^ 1 : b));
      expect(suite.ed25519Verify(sig, otherMsg, pk)).toBe(false);
      const badSig = sig.slice();
      badSig[10]! ^= 0x40;
      expect(suite.ed25519Verify(badSig, msg, pk)).toBe(false);
    });
  });

  describe('RFC 7748 X25519', () => {
    it.each(x25519Vectors.scalarMult)('§5.2 $name', (c) => {
      expect(toHex(suite.x25519(hex(c.scalar), hex(c.u)))).toBe(c.output);
    });

    it.each(x25519Vectors.iterated.after.filter((a) => !('slow' in a && a.slow)))(
      '§5.2 iterated X25519 after $iterations iteration(s)',
      ({ iterations, k: expected }) => {
        // k = X25519(k, u); u = previous k; both start at 9 (RFC 7748 §5.2).
        let k: Uint8Array = hex(x25519Vectors.iterated.start);
        let u: Uint8Array = k.slice();
        for (let i = 0; i < iterations; i++) {
          const next = suite.x25519(k, u);
          u = k;
          k = next;
        }
        expect(toHex(k)).toBe(expected);
      },
    );

    it('§6.1 Diffie-Hellman', () => {
      const v = x25519Vectors.diffieHellman;
      expect(toHex(suite.x25519PublicKey(hex(v.alicePrivate)))).toBe(v.alicePublic);
      expect(toHex(suite.x25519PublicKey(hex(v.bobPrivate)))).toBe(v.bobPublic);
      expect(toHex(suite.x25519(hex(v.alicePrivate), hex(v.bobPublic)))).toBe(v.shared);
      expect(toHex(suite.x25519(hex(v.bobPrivate), hex(v.alicePublic)))).toBe(v.shared);
    });
  });

  describe('RFC 8439 ChaCha20-Poly1305', () => {
    it.each(aeadVectors.cases)('$name', (c) => {
      const key = hex(c.key);
      const nonce = hex(c.nonce);
      const aad = hex(c.aad);
      const pt = utf8(c.plaintextText);
      const sealed = suite.aeadSeal(key, nonce, pt, aad);
      expect(toHex(sealed)).toBe(c.ciphertext + c.tag);
      expect(suite.aeadOpen(key, nonce, hex(c.ciphertext + c.tag), aad)).toEqual(pt);
      // A flipped tag bit, a flipped ciphertext bit or different AAD must not open.
      const badTag = sealed.slice();
      badTag[badTag.length - 1]! ^= 1;
      expect(() => suite.aeadOpen(key, nonce, badTag, aad)).toThrow(CryptoError);
      const badCt = sealed.slice();
      badCt[0]! ^= 0x80;
      expect(() => suite.aeadOpen(key, nonce, badCt, aad)).toThrow(CryptoError);
      expect(() => suite.aeadOpen(key, nonce, sealed, aad.subarray(1))).toThrow(CryptoError);
    });
  });

  describe('RFC 5869 HKDF-SHA-256', () => {
    it.each(hkdfVectors.cases)('$name', (c) => {
      const okm = suite.hkdfSha256(hex(c.ikm), hex(c.salt), hex(c.info), c.length);
      expect(toHex(okm)).toBe(c.okm);
      // HKDF-Extract (RFC 5869 §2.2) is HMAC-Hash(salt, IKM); an empty salt acts as HashLen zeros.
      expect(toHex(suite.hmacSha256(hex(c.salt), hex(c.ikm)))).toBe(c.prk);
    });
  });

  describe('RFC 4231 HMAC-SHA-256', () => {
    it.each(hmacVectors.cases)('$name', (c) => {
      const mac = suite.hmacSha256(hex(c.key), hex(c.data));
      const n = 'truncateTo' in c && typeof c.truncateTo === 'number' ? c.truncateTo : 32;
      expect(mac).toHaveLength(32);
      expect(toHex(mac.subarray(0, n))).toBe(c.hmacSha256);
    });
  });

  describe('FIPS 202 SHA3-256', () => {
    it.each(sha3Vectors.cases)('$name', (c) => {
      expect(toHex(suite.sha3_256(hex(c.message)))).toBe(c.digest);
    });
  });

  describe('FIPS 180-4 SHA-256', () => {
    it.each(sha256Vectors.cases)('$name', (c) => {
      expect(toHex(suite.sha256(hex(c.message)))).toBe(c.digest);
    });
  });

  describe('NIST SP 800-38A AES-CTR', () => {
    it.each(ctrVectors.cases)('$name, in one call', (c) => {
      const stream = suite.aesCtr(hex(c.key), hex(c.initialCounter));
      expect(toHex(stream.update(hex(c.plaintext)))).toBe(c.ciphertext);
    });

    it.each(ctrVectors.cases)('$name, in uneven pieces (the stream keeps its place)', (c) => {
      const stream = suite.aesCtr(hex(c.key), hex(c.initialCounter));
      const pt = hex(c.plaintext);
      const cuts = [0, 1, 7, 16, 17, 33, 33, 50, 64];
      const parts: string[] = [];
      for (let i = 1; i < cuts.length; i++) parts.push(toHex(stream.update(pt.subarray(cuts[i - 1], cuts[i]))));
      expect(parts.join('')).toBe(c.ciphertext);
    });

    it.each(ctrVectors.cases)('$name, decryption is the same keystream', (c) => {
      const stream = suite.aesCtr(hex(c.key), hex(c.initialCounter));
      expect(toHex(stream.update(hex(c.ciphertext)))).toBe(c.plaintext);
    });
  });
});
