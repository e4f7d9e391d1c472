/**
 * Shared fixtures for the directory and authority tests: keys from fixed seeds, descriptor and
 * vote builders, and error assertions. Test helper, not a test file.
 */
import { expect } from 'vitest';
import { nobleSuite } from '../../node-core/crypto/noble';
import {
  DirectoryError,
  type DirectoryErrorCode,
  type DescriptorPolicy,
  type NodeDescriptor,
  type VerifiedDescriptor,
  type VerifiedVote,
  createVote,
  encodeDescriptorBody,
  parseDescriptor,
  signDescriptor,
  verifyDescriptor,
} from '../../node-core/directory';

export const suite = nobleSuite;

/** A deterministic 32-byte seed: sha256("psp-test-key:" + label). */
export function seedFor(label: string): Uint8Array {
  return suite.sha256(new TextEncoder().encode(`psp-test-key:${label}`));
}

export interface KeyPair {
  readonly label: string;
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function keyPair(label: string): KeyPair {
  const secretKey = seedFor(label);
  return { label, secretKey, publicKey: suite.ed25519PublicKey(secretKey) };
}

/** A 32-byte X25519 public key for a label. */
export function onionKeyFor(label: string): Uint8Array {
  return suite.x25519PublicKey(suite.sha256(new TextEncoder().encode(`psp-test-onion:${label}`)));
}

export const T0 = 1_700_000_000_000;
export const HOUR = 3_600_000;
export const POLICY: DescriptorPolicy = { maxLifetimeMs: 24 * HOUR, maxClockSkewMs: 60_000 };

export function descriptorFields(node: KeyPair, over: Partial<NodeDescriptor> = {}): NodeDescriptor {
  return {
    identity: node.publicKey,
    onionKey: onionKeyFor(node.label),
    addresses: [{ host: '127.0.0.1', port: 9001 }],
    roles: ['onion'],
    bandwidth: 1024,
    version: 'sirius/0.1.0',
    nickname: node.label.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 32) || 'node',
    publishedAt: T0,
    validUntil: T0 + 3 * HOUR,
    ...over,
  };
}

/** Signed descriptor bytes for `node`. */
export function signedDescriptor(node: KeyPair, over: Partial<NodeDescriptor> = {}): Uint8Array {
  return signDescriptor(suite, encodeDescriptorBody(descriptorFields(node, over)), node.secretKey);
}

export function verifiedDescriptor(node: KeyPair, over: Partial<NodeDescriptor> = {}, now = T0): VerifiedDescriptor {
  return verifyDescriptor(suite, parseDescriptor(signedDescriptor(node, over)), now, POLICY);
}

/** Runs `fn` and asserts it throws a DirectoryError with `code`. */
export function expectDirectoryError(fn: () => unknown, code: DirectoryErrorCode): DirectoryError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected DirectoryError(${code})`).toBeInstanceOf(DirectoryError);
  expect((thrown as DirectoryError).code, (thrown as Error).message).toBe(code);
  return thrown as DirectoryError;
}

/** Fisher–Yates with a seeded generator (mulberry32), for order-independence tests. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Votes and consensus fixtures

export const NETWORK = 'testnet';
export const PERIOD_MS = 15 * 60_000;
/** A period whose vote reference time (start + VOTE_OFFSET) lies inside the descriptors' window. */
export const PERIOD = Math.floor((T0 + HOUR) / PERIOD_MS);
export const VOTE_OFFSET = 60_000;
export const DESCRIPTORS_AT = PERIOD * PERIOD_MS + VOTE_OFFSET;

export const discovery = [0, 1, 2, 3, 4].map((i) => keyPair(`discovery-${i}`));
export const discoveryKeys = discovery.map((k) => k.publicKey);
export const onion = [0, 1, 2, 3, 4, 5].map((i) => keyPair(`onion-${i}`));

export function voteOf(voter: KeyPair, descriptors: readonly VerifiedDescriptor[], period = PERIOD, network = NETWORK): VerifiedVote {
  return createVote(suite, { network, period, descriptors, descriptorsAt: DESCRIPTORS_AT, policy: POLICY }, voter.secretKey).vote;
}

export function signedVoteOf(voter: KeyPair, descriptors: readonly VerifiedDescriptor[], period = PERIOD, network = NETWORK): Uint8Array {
  return createVote(suite, { network, period, descriptors, descriptorsAt: DESCRIPTORS_AT, policy: POLICY }, voter.secretKey).bytes;
}
