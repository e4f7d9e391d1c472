/**
 * `nodeSuite`: the CryptoSuite on node:crypto (OpenSSL) for the hot primitives — hashes, HMAC,
 * HKDF, Ed25519, X25519, ChaCha20-Poly1305, AES-CTR and randomness. Every function keeps the
 * contract in node-core/crypto/api.ts and returns the same bytes as `nobleSuite`
 * (test/crypto/agreement.test.ts checks that).
 *
 * Keys reach OpenSSL as KeyObjects imported from raw bytes as JWK (RFC 8037 OKP keys), with
 * PKCS#8 (RFC 8410 §7) and SubjectPublicKeyInfo (RFC 8410 §4) DER as the fallback. Secret keys are
 * not cached; public Ed25519 KeyObjects are, in a small bounded map.
 *
 * Ed25519 verification applies the byte rules of node-core/crypto/ed25519-strict.ts first, so
 * OpenSSL's cofactorless check then accepts exactly what `nobleSuite` accepts.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  randomFillSync,
  scrypt,
  sign as nodeSign,
  verify as nodeVerify,
  type Cipher,
  type Hash,
  type KeyObject,
} from 'node:crypto';
import type { CryptoSuite, CtrStream, RunningHash } from '../crypto/api';
import { passesStrictPrechecks } from '../crypto/ed25519-strict';
import { checkAead, checkAesCtr, checkHkdf, checkRandomLength, checkX25519, tagMismatchError, weakKeyError } from '../crypto/checks';
import type { ScryptKdf } from '../crypto/sealed';
import { assertBytes, concatBytes, fromHex } from '../util/bytes';

const EMPTY = new Uint8Array(0);

type Curve = 'Ed25519' | 'X25519';

// RFC 8410 §7 (PKCS#8) and §4 (SubjectPublicKeyInfo) DER prefixes; the 32 raw key bytes follow.
const PKCS8_PREFIX: Record<Curve, Uint8Array> = {
  Ed25519: fromHex('302e020100300506032b657004220420'),
  X25519: fromHex('302e020100300506032b656e04220420'),
};
const SPKI_PREFIX: Record<Curve, Uint8Array> = {
  Ed25519: fromHex('302a300506032b6570032100'),
  X25519: fromHex('302a300506032b656e032100'),
};

/** A plain Uint8Array copy of a Buffer (never a view into Node's shared pool). */
function plain(buf: Uint8Array): Uint8Array {
  return new Uint8Array(buf);
}

function base64url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64url');
}

/** The raw 32 bytes of a public KeyObject (RFC 8037 §2: the JWK `x` member). */
function rawPublic(key: KeyObject): Uint8Array {
  const x = key.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new Error('public key export has no x member');
  return plain(Buffer.from(x, 'base64url'));
}

function pkcs8PrivateKey(curve: Curve, seed: Uint8Array): KeyObject {
  const der = concatBytes(PKCS8_PREFIX[curve], seed);
  try {
    return createPrivateKey({ key: Buffer.from(der.buffer, der.byteOffset, der.length), format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}

/**
 * A private KeyObject for a 32-byte seed or scalar. Keys are imported as JWK (RFC 8037), which
 * OpenSSL loads about ten times faster than PKCS#8 DER. Node insists on an `x` member but derives
 * the public key from `d` alone; we put `d` itself there as a placeholder. PKCS#8 is the fallback.
 */
function privateKeyObject(curve: Curve, seed: Uint8Array): KeyObject {
  const d = base64url(seed);
  try {
    return createPrivateKey({ key: { kty: 'OKP', crv: curve, d, x: d }, format: 'jwk' });
  } catch {
    return pkcs8PrivateKey(curve, seed);
  }
}

/**
 * A private KeyObject together with the public key OpenSSL derived for it. If the public half
 * ever came out equal to the JWK placeholder (a Node that trusted the supplied `x`), the key is
 * re-imported from PKCS#8, so a signature is never made under a public key that is not the
 * signer's own (RFC 8032 §5.1.6 hashes A into every signature).
 */
function checkedPrivateKey(curve: Curve, seed: Uint8Array): { key: KeyObject; publicKey: Uint8Array } {
  const key = privateKeyObject(curve, seed);
  const publicKey = rawPublic(createPublicKey(key));
  let placeholder = publicKey.length === seed.length;
  for (let i = 0; placeholder && i < seed.length; i++) placeholder = publicKey[i] === seed[i];
  if (!placeholder) return { key, publicKey };
  const der = pkcs8PrivateKey(curve, seed);
  return { key: der, publicKey: rawPublic(createPublicKey(der)) };
}

function publicKeyObject(curve: Curve, raw: Uint8Array): KeyObject {
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: curve, x: base64url(raw) }, format: 'jwk' });
  } catch {
    const der = concatBytes(SPKI_PREFIX[curve], raw);
    return createPublicKey({ key: Buffer.from(der.buffer, der.byteOffset, der.length), format: 'der', type: 'spki' });
  }
}

/**
 * Verifiers check many signatures from few keys (directory authorities, node identities), so
 * public KeyObjects are cached, bounded, oldest dropped first. Public keys only; never secrets.
 */
const PUBLIC_CACHE_LIMIT = 512;
const ed25519PublicCache = new Map<string, KeyObject>();

function ed25519PublicKeyObject(raw: Uint8Array): KeyObject {
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('latin1');
  const hit = ed25519PublicCache.get(id);
  if (hit) return hit;
  const key = publicKeyObject('Ed25519', raw);
  if (ed25519PublicCache.size >= PUBLIC_CACHE_LIMIT) {
    const oldest = ed25519PublicCache.keys().next().value;
    if (oldest !== undefined) ed25519PublicCache.delete(oldest);
  }
  ed25519PublicCache.set(id, key);
  return key;
}

function randomBytes(length: number): Uint8Array {
  checkRandomLength(length);
  const out = new Uint8Array(length);
  randomFillSync(out);
  return out;
}

/** A real OpenSSL CTR stream: the cipher context keeps the counter and the partial block. */
class NodeCtr implements CtrStream {
  constructor(private readonly cipher: Cipher) {}
  update(data: Uint8Array): Uint8Array {
    assertBytes(data, 'data');
    if (data.length === 0) return new Uint8Array(0);
    // CTR is a stream mode: OpenSSL returns exactly data.length bytes per update.
    return plain(this.cipher.update(data));
  }
}

/** Incremental SHA-256 on an OpenSSL hash context; `Hash.copy()` forks the state. */
class NodeRunningHash implements RunningHash {
  constructor(private readonly h: Hash) {}
  update(data: Uint8Array): void {
    assertBytes(data, 'data');
    this.h.update(data);
  }
  digest(): Uint8Array {
    return plain(this.h.copy().digest());
  }
  clone(): RunningHash {
    return new NodeRunningHash(this.h.copy());
  }
}

function isAllZero(b: Uint8Array): boolean {
  let acc = 0;
  for (const x of b) acc |= x;
  return acc === 0;
}

export const nodeSuite: CryptoSuite = {
  name: 'node',
  randomBytes,

  sha256(data) {
    assertBytes(data, 'data');
    return plain(createHash('sha256').update(data).digest());
  },
  sha3_256(data) {
    assertBytes(data, 'data');
    // FIPS 202 SHA3-256.
    return plain(createHash('sha3-256').update(data).digest());
  },
  runningSha256(seed) {
    const h = new NodeRunningHash(createHash('sha256'));
    if (seed !== undefined) h.update(seed);
    return h;
  },
  hmacSha256(key, data) {
    assertBytes(key, 'key');
    assertBytes(data, 'data');
    return plain(createHmac('sha256', key).update(data).digest());
  },
  hkdfSha256(ikm, salt, info, length) {
    checkHkdf(ikm, salt, info, length);
    // RFC 5869 §2.2–2.3 (OpenSSL treats an empty salt as HashLen zero bytes, as §2.2 requires).
    return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
  },

  ed25519PublicKey(secretKey) {
    assertBytes(secretKey, 'secretKey', 32);
    return checkedPrivateKey('Ed25519', secretKey).publicKey;
  },
  ed25519Sign(message, secretKey) {
    assertBytes(message, 'message');
    assertBytes(secretKey, 'secretKey', 32);
    // RFC 8032 §5.1.6 (pure Ed25519: no prehash, no context), deterministic.
    return plain(nodeSign(null, message, checkedPrivateKey('Ed25519', secretKey).key));
  },
  ed25519Verify(signature, message, publicKey) {
    if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
    if (!(message instanceof Uint8Array)) return false;
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return false;
    if (!passesStrictPrechecks(signature, publicKey)) return false;
    try {
      return nodeVerify(null, message, ed25519PublicKeyObject(publicKey), signature);
    } catch {
      return false;
    }
  },

  x25519PublicKey(secretKey) {
    assertBytes(secretKey, 'secretKey', 32);
    return checkedPrivateKey('X25519', secretKey).publicKey;
  },
  x25519(secretKey, peerPublicKey) {
    checkX25519(secretKey, peerPublicKey);
    let shared: Uint8Array;
    try {
      shared = plain(
        diffieHellman({
          // The shared secret depends only on our scalar and the peer's u (RFC 7748 §6.1).
          privateKey: privateKeyObject('X25519', secretKey),
          publicKey: publicKeyObject('X25519', peerPublicKey),
        }),
      );
    } catch {
      // OpenSSL refuses to return an all-zero X25519 output (RFC 7748 §6.1); with the lengths
      // checked above that is the only way this call fails.
      throw weakKeyError();
    }
    // RFC 7748 §6.1: the all-zero value must be rejected; checked here too, not left to OpenSSL.
    if (isAllZero(shared)) {
      throw weakKeyError();
    }
    return shared;
  },

  aeadSeal(key, nonce, plaintext, aad = EMPTY) {
    checkAead(key, nonce, plaintext, 'plaintext', aad);
    // RFC 8439 §2.8.
    const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    cipher.setAAD(aad, { plaintextLength: plaintext.length });
    const body = cipher.update(plaintext);
    const tail = cipher.final();
    return concatBytes(body, tail, cipher.getAuthTag());
  },
  aeadOpen(key, nonce, sealed, aad = EMPTY) {
    checkAead(key, nonce, sealed, 'sealed', aad);
    const ctLen = sealed.length - 16;
    try {
      const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
      // The tag is always exactly 16 bytes here: a shorter tag is never accepted.
      decipher.setAuthTag(sealed.subarray(ctLen));
      decipher.setAAD(aad, { plaintextLength: ctLen });
      const body = decipher.update(sealed.subarray(0, ctLen));
      const tail = decipher.final();
      return concatBytes(body, tail);
    } catch {
      throw tagMismatchError();
    }
  },

  aesCtr(key, iv) {
    checkAesCtr(key, iv);
    // NIST SP 800-38A §6.5 with the whole 128-bit block as a big-endian counter (OpenSSL's CTR).
    return new NodeCtr(createCipheriv(key.length === 16 ? 'aes-128-ctr' : 'aes-256-ctr', key, iv));
  },
};

/** The suite node-core's I/O part hands to the pure part by default: `nodeSuite`. */
export function defaultSuite(): CryptoSuite {
  return nodeSuite;
}

/**
 * scrypt (RFC 7914) on node:crypto, run on libuv's thread pool; the same output as
 * `nobleScrypt` in node-core/crypto/sealed.ts (test/crypto/sealed.test.ts checks that).
 */
export const nodeScrypt: ScryptKdf = (password, salt, params, dkLen) => {
  assertBytes(password, 'password');
  assertBytes(salt, 'salt');
  const { logN, r, p } = params;
  const N = 2 ** logN;
  // OpenSSL counts B (128·r·p) and V (128·r·(N + 2)) against maxmem; leave 1 MiB of slack.
  const maxmem = 128 * r * (N + p + 2) + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, dkLen, { N, r, p, maxmem }, (err, key) => {
      if (err) {
        reject(err);
        return;
      }
      const out = plain(key);
      key.fill(0);
      resolve(out);
    });
  });
};
