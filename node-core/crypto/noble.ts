/**
 * The pure CryptoSuite on @noble/*. Usable in any JavaScript runtime; node-core's pure part
 * uses it by default. See api.ts for the contract each function keeps.
 *
 * Ed25519 verification is our own strict, cofactorless check on noble's point arithmetic (rules in
 * ed25519-strict.ts), because it must accept exactly what OpenSSL accepts in `nodeSuite`; noble's
 * `ed25519.verify` uses the cofactored equation, which accepts more for mixed-order keys.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { sha3_256 } from '@noble/hashes/sha3.js';
import { hmac } from '@noble/hashes/hmac.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ctr } from '@noble/ciphers/aes.js';
import { assertBytes, concatBytes, equalBytes } from '../util/bytes';
import { checkAead, checkAesCtr, checkHkdf, checkRandomLength, checkX25519, tagMismatchError, weakKeyError } from './checks';
import type { CryptoSuite, CtrStream, RunningHash } from './api';
import { passesStrictPrechecks } from './ed25519-strict';

const EMPTY = new Uint8Array(0);

export { MAX_RANDOM_BYTES } from './checks';

function randomBytes(length: number): Uint8Array {
  checkRandomLength(length);
  const out = new Uint8Array(length);
  // getRandomValues fills at most 65536 bytes per call.
  for (let off = 0; off < length; off += 65536) {
    globalThis.crypto.getRandomValues(out.subarray(off, Math.min(length, off + 65536)));
  }
  return out;
}

const Point = ed25519.Point;
const L = Point.Fn.ORDER;

/**
 * Strict RFC 8032 §5.1.7 verification with the cofactorless equation, byte for byte the rule set
 * of ed25519-strict.ts (the same one OpenSSL applies once the prechecks have passed).
 */
function ed25519VerifyStrict(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (!passesStrictPrechecks(signature, publicKey)) return false;
  const rBytes = signature.subarray(0, 32);
  // §5.1.7 step 1: decode A (strict: y < p, and no x = 0 with the sign bit set).
  const A = Point.fromBytes(publicKey, false);
  const s = bytesToNumberLE(signature.subarray(32, 64));
  // §5.1.7 step 2: k = SHA-512(dom2(F, C) || R || A || PH(M)), dom2 empty for Ed25519.
  const k = bytesToNumberLE(sha512(concatBytes(rBytes, publicKey, message))) % L;
  // §5.1.7 step 3, cofactorless form: encode([S]B - [k]A') must equal the R bytes.
  const check = Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k));
  return equalBytes(check.toBytes(), rBytes);
}

/** Adds `blocks` to a 16-byte big-endian counter block, modulo 2^128. */
function addToCounter(iv: Uint8Array, blocks: number): Uint8Array {
  const out = iv.slice();
  let carry = blocks;
  for (let i = 15; i >= 0 && carry > 0; i--) {
    const sum = out[i]! + (carry % 256);
    out[i] = sum & 0xff;
    carry = Math.floor(carry / 256) + (sum >> 8);
  }
  return out;
}

class NobleCtr implements CtrStream {
  private offset = 0;
  constructor(
    private readonly key: Uint8Array,
    private readonly iv: Uint8Array,
  ) {}
  update(data: Uint8Array): Uint8Array {
    assertBytes(data, 'data');
    if (data.length === 0) return new Uint8Array(0);
    const block = Math.floor(this.offset / 16);
    const skip = this.offset % 16;
    const counter = addToCounter(this.iv, block);
    // Encrypt zero bytes to get the keystream from the block boundary, then XOR past `skip`.
    const stream = ctr(this.key, counter).encrypt(new Uint8Array(skip + data.length));
    const out = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ stream[skip + i]!;
    this.offset += data.length;
    return out;
  }
}

type NobleHash = ReturnType<typeof sha256.create>;

class NobleRunningHash implements RunningHash {
  constructor(private readonly h: NobleHash) {}
  update(data: Uint8Array): void {
    assertBytes(data, 'data');
    this.h.update(data);
  }
  digest(): Uint8Array {
    return this.h.clone().digest();
  }
  clone(): RunningHash {
    return new NobleRunningHash(this.h.clone());
  }
}

export const nobleSuite: CryptoSuite = {
  name: 'noble',
  randomBytes,

  sha256(data) {
    assertBytes(data, 'data');
    return sha256(data);
  },
  sha3_256(data) {
    assertBytes(data, 'data');
    return sha3_256(data);
  },
  runningSha256(seed) {
    const h = new NobleRunningHash(sha256.create());
    if (seed !== undefined) h.update(seed);
    return h;
  },
  hmacSha256(key, data) {
    assertBytes(key, 'key');
    assertBytes(data, 'data');
    return hmac(sha256, key, data);
  },
  hkdfSha256(ikm, salt, info, length) {
    checkHkdf(ikm, salt, info, length);
    return hkdf(sha256, ikm, salt, info, length);
  },

  ed25519PublicKey(secretKey) {
    assertBytes(secretKey, 'secretKey', 32);
    return ed25519.getPublicKey(secretKey);
  },
  ed25519Sign(message, secretKey) {
    assertBytes(message, 'message');
    assertBytes(secretKey, 'secretKey', 32);
    return ed25519.sign(message, secretKey);
  },
  ed25519Verify(signature, message, publicKey) {
    if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
    if (!(message instanceof Uint8Array)) return false;
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return false;
    try {
      return ed25519VerifyStrict(signature, message, publicKey);
    } catch {
      return false;
    }
  },

  x25519PublicKey(secretKey) {
    assertBytes(secretKey, 'secretKey', 32);
    return x25519.getPublicKey(secretKey);
  },
  x25519(secretKey, peerPublicKey) {
    checkX25519(secretKey, peerPublicKey);
    let shared: Uint8Array;
    try {
      shared = x25519.getSharedSecret(secretKey, peerPublicKey);
    } catch {
      throw weakKeyError();
    }
    let acc = 0;
    for (const b of shared) acc |= b;
    if (acc === 0) throw weakKeyError();
    return shared;
  },

  aeadSeal(key, nonce, plaintext, aad = EMPTY) {
    checkAead(key, nonce, plaintext, 'plaintext', aad);
    return chacha20poly1305(key, nonce, aad).encrypt(plaintext);
  },
  aeadOpen(key, nonce, sealed, aad = EMPTY) {
    checkAead(key, nonce, sealed, 'sealed', aad);
    try {
      return chacha20poly1305(key, nonce, aad).decrypt(sealed);
    } catch {
      throw tagMismatchError();
    }
  },

  aesCtr(key, iv) {
    checkAesCtr(key, iv);
    return new NobleCtr(key.slice(), iv.slice());
  },
};
