/**
 * Shared fixtures for the DHT tests: keys from fixed seeds, a record policy, builders for owner-
 * signed and co-signed records (including hand-assembled ones that skip the library's own checks,
 * for negative cases), and error assertions. Test helper, not a test file.
 */
import { expect } from 'vitest';
import { nobleSuite } from '../../node-core/crypto/noble';
import {
  CONTEXT_COSIGN,
  type DhtErrorCode,
  DhtError,
  type RecordPolicy,
  deriveRecordKey,
  findPuzzleKey,
  namespaceKeyRule,
  signRecord,
} from '../../node-core/dht';
import { Writer, concatBytes, toHex, utf8 } from '../../node-core/util/bytes';
import { Prng } from '../fuzz/prng';

export const suite = nobleSuite;
export const NOW = 1_700_000_000_000;
export const HOUR = 3_600_000;

/** A deterministic 32-byte seed: sha256("psp-dht-test-key:" + label). */
export function seedFor(label: string): Uint8Array {
  return suite.sha256(utf8(`psp-dht-test-key:${label}`));
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

/** A suite whose randomness is a seeded PRNG (for reproducible puzzle keys). */
export function seededSuite(seed: number): typeof suite {
  const prng = new Prng(seed);
  return { ...suite, randomBytes: (n: number) => prng.bytes(n) };
}

const puzzleKeys = new Map<string, KeyPair & { nodeId: Uint8Array }>();

/** A puzzle-valid node key for (label, c1), deterministic and cached. */
export function puzzleKeyPair(label: string, c1: number): KeyPair & { nodeId: Uint8Array } {
  const id = `${label}:${c1}`;
  let k = puzzleKeys.get(id);
  if (k === undefined) {
    const seed = new DataView(seedFor(label).buffer).getUint32(0);
    const p = findPuzzleKey(seededSuite(seed), c1);
    k = { label, secretKey: p.secretKey, publicKey: p.publicKey, nodeId: p.nodeId };
    puzzleKeys.set(id, k);
  }
  return k;
}

export const NAMESPACES = ['presence', 'test'] as const;

/** The test policy: 1 KiB values, 24 h TTL, the two namespaces, co-signers from `nodes`. */
export function policyFor(nodes: readonly Uint8Array[], overrides: Partial<RecordPolicy> = {}): RecordPolicy {
  const known = new Set(nodes.map(toHex));
  return {
    maxTtlMs: 24 * HOUR,
    maxValueBytes: 1024,
    keyRule: namespaceKeyRule(suite, [...NAMESPACES]),
    isDhtNode: (k) => known.has(toHex(k)),
    ...overrides,
  };
}

export interface RecordSpec {
  readonly namespace?: string;
  /** Overrides the derived key (for squatting tests). */
  readonly key?: Uint8Array;
  readonly sequence?: bigint;
  readonly expiresAt?: number;
  readonly value?: Uint8Array;
}

/** An owner-signed record through the library (signRecord). */
export function ownerRecord(owner: KeyPair, spec: RecordSpec = {}): Uint8Array {
  return signRecord(
    suite,
    {
      key: spec.key ?? deriveRecordKey(suite, spec.namespace ?? 'test', owner.publicKey),
      owner: owner.publicKey,
      sequence: spec.sequence ?? 1n,
      expiresAt: spec.expiresAt ?? NOW + HOUR,
      value: spec.value ?? utf8(`value of ${owner.label}`),
    },
    owner.secretKey,
  );
}

/**
 * Co-signs owner-signed bytes by hand, following the documented layout (owner-signed ‖ storedAt ‖
 * cosigner ‖ Ed25519 over SHA-256("PSP-DHT-COSIGN-v1" ‖ owner-signed ‖ storedAt ‖ cosigner)),
 * without verifying the owner part: for records the library would refuse to co-sign.
 */
export function handCosign(ownerSigned: Uint8Array, node: KeyPair, storedAt = NOW): Uint8Array {
  const input = new Writer().bytes(ownerSigned).u64(BigInt(storedAt)).bytes(node.publicKey).finish();
  const sig = suite.ed25519Sign(suite.sha256(concatBytes(utf8(CONTEXT_COSIGN), input)), node.secretKey);
  return concatBytes(input, sig);
}

/** A co-signed record: owner-signed by `owner`, co-signed by `node` at `storedAt`. */
export function signedRecord(owner: KeyPair, node: KeyPair, spec: RecordSpec & { storedAt?: number } = {}): Uint8Array {
  return handCosign(ownerRecord(owner, spec), node, spec.storedAt ?? NOW);
}

export function expectDhtError(fn: () => unknown, code: DhtErrorCode): DhtError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(DhtError);
  expect((caught as DhtError).code).toBe(code);
  return caught as DhtError;
}
