/**
 * The byte-level rules of strict Ed25519 verification that both suites apply before the group
 * equation, so that `nobleSuite` and `nodeSuite` accept exactly the same signatures.
 * Internal to node-core/crypto and node-core/io/crypto-node.ts.
 *
 * RFC 8032 §5.1.7 lets a verifier check either the cofactored equation [8][S]B = [8]R + [8][k]A'
 * or the cofactorless one [S]B = R + [k]A'. OpenSSL (behind node:crypto) checks the cofactorless
 * one by encoding [S]B - [k]A' and comparing it with the R bytes, and on its own it accepts
 * non-canonical and small-order public keys. Our rule set, kept by both suites:
 *   1. S is canonical: 0 <= S < L (RFC 8032 §5.1.7 step 1).
 *   2. A is a canonical encoding: its y coordinate is below p (RFC 8032 §5.1.3 step 1).
 *   3. A is not one of the eight points of small order, in any of its encodings (including the
 *      two with x = 0 and the sign bit set, which RFC 8032 §5.1.3 step 4 rejects).
 *   4. A decodes to a curve point and encode([S]B - [k]A') equals the R bytes exactly, with
 *      k = SHA-512(R || A || M) mod L (cofactorless; this also rejects any non-canonical R).
 * Rules 1–3 are checked here on bytes; rule 4 is each suite's job.
 */
import { ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { fromHex } from '../util/bytes';

/** L = 2^252 + 27742317777372353535851937790883648493 (RFC 8032 §5.1), little-endian. */
const L_LE = fromHex('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');

/** Every encoding of a point of order dividing 8 that rule 2 lets through. */
const SMALL_ORDER = (() => {
  const list = ED25519_TORSION_SUBGROUP.map((h) => fromHex(h));
  // x = 0 with the sign bit set: the identity (y = 1) and the point of order 2 (y = p - 1).
  const identityNeg = fromHex('0100000000000000000000000000000000000000000000000000000000000080');
  const order2Neg = fromHex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff');
  return [...list, identityNeg, order2Neg];
})();

/** True when the 32-byte little-endian scalar is below L. */
export function isCanonicalScalar(s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const a = s[i]!;
    const b = L_LE[i]!;
    if (a < b) return true;
    if (a > b) return false;
  }
  return false; // equal to L
}

/** True when the y coordinate of a 32-byte point encoding (sign bit ignored) is below p = 2^255 - 19. */
export function isCanonicalPointEncoding(p: Uint8Array): boolean {
  if ((p[31]! & 0x7f) !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (p[i] !== 0xff) return true;
  return p[0]! < 0xed;
}

/** True when the 32 bytes encode a point of small order (order 1, 2, 4 or 8). */
export function isSmallOrderEncoding(p: Uint8Array): boolean {
  outer: for (const q of SMALL_ORDER) {
    for (let i = 0; i < 32; i++) if (p[i] !== q[i]) continue outer;
    return true;
  }
  return false;
}

/**
 * Rules 1–3 above for a 64-byte signature and a 32-byte public key (lengths already checked).
 * A false result means the signature must be rejected; true means the equation decides.
 */
export function passesStrictPrechecks(signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (!isCanonicalScalar(signature.subarray(32, 64))) return false;
  if (!isCanonicalPointEncoding(publicKey)) return false;
  if (isSmallOrderEncoding(publicKey)) return false;
  return true;
}
