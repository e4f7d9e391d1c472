/**
 * nodeSuite imports keys as JWK and falls back to PKCS#8 DER. These tests force the fallback
 * paths with a wrapped node:crypto and check the results are still the published vectors.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import ed25519Vectors from '../vectors/rfc8032/ed25519.json';
import x25519Vectors from '../vectors/rfc7748/x25519.json';
import { hex, toHex } from './suites';

const mode = vi.hoisted(() => ({ value: 'normal' as 'normal' | 'no-jwk' | 'placeholder-public', derImports: 0 }));

vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  const jwkPrivate = new WeakMap<object, string>();
  const createPrivateKey: typeof real.createPrivateKey = (input) => {
    const isJwk = typeof input === 'object' && input !== null && 'format' in input && input.format === 'jwk';
    if (isJwk && mode.value === 'no-jwk') throw new Error('JWK import disabled for this test');
    if (!isJwk) mode.derImports++;
    const key = real.createPrivateKey(input);
    if (isJwk) jwkPrivate.set(key, (input as { key: { x: string } }).key.x);
    return key;
  };
  const createPublicKey: typeof real.createPublicKey = (input) => {
    const isJwk = typeof input === 'object' && input !== null && 'format' in input && input.format === 'jwk';
    if (isJwk && mode.value === 'no-jwk') throw new Error('JWK import disabled for this test');
    // Simulates a Node that takes the public half of a JWK private key from its `x` member.
    if (mode.value === 'placeholder-public' && input instanceof real.KeyObject && jwkPrivate.has(input)) {
      const crv = input.asymmetricKeyType === 'ed25519' ? 'Ed25519' : 'X25519';
      return real.createPublicKey({ key: { kty: 'OKP', crv, x: jwkPrivate.get(input)! }, format: 'jwk' });
    }
    return real.createPublicKey(input);
  };
  return { ...real, default: { ...real, createPrivateKey, createPublicKey }, createPrivateKey, createPublicKey };
});

const { nodeSuite } = await import('../../node-core/io/crypto-node');

beforeEach(() => {
  mode.value = 'normal';
  mode.derImports = 0;
});

describe.each(['no-jwk', 'placeholder-public'] as const)('nodeSuite with %s', (m) => {
  it('still produces the RFC 8032 §7.1 public keys and signatures, through PKCS#8', () => {
    mode.value = m;
    for (const c of ed25519Vectors.cases) {
      const sk = hex(c.secretKey);
      expect(toHex(nodeSuite.ed25519PublicKey(sk))).toBe(c.publicKey);
      expect(toHex(nodeSuite.ed25519Sign(hex(c.message), sk))).toBe(c.signature);
      expect(nodeSuite.ed25519Verify(hex(c.signature), hex(c.message), hex(c.publicKey))).toBe(true);
    }
    expect(mode.derImports).toBeGreaterThan(0);
  });

  it('still produces the RFC 7748 §6.1 keys and shared secret', () => {
    mode.value = m;
    const v = x25519Vectors.diffieHellman;
    expect(toHex(nodeSuite.x25519PublicKey(hex(v.alicePrivate)))).toBe(v.alicePublic);
    expect(toHex(nodeSuite.x25519(hex(v.alicePrivate), hex(v.bobPublic)))).toBe(v.shared);
  });
});

describe('nodeSuite normally', () => {
  it('imports keys as JWK without touching PKCS#8', () => {
    const c = ed25519Vectors.cases[0]!;
    expect(toHex(nodeSuite.ed25519Sign(hex(c.message), hex(c.secretKey)))).toBe(c.signature);
    expect(mode.derImports).toBe(0);
  });
});
