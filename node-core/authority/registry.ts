/**
 * The authority's PKI registry behind an interface (seed 004 §1.1: authority nodes act "as a
 * bridge to the PKI store"; §4; DESIGN.md §3: "an embedded database behind an interface, so a
 * chain-backed registry can replace it"). `MemoryIdentityRegistry` is the in-memory
 * implementation; node-core/io/storage has the SQLite one. Both pass one compliance suite
 * (test/authority/registry-compliance.ts).
 *
 * Rules every implementation follows (`decideRegistration` is the one place they are written):
 *   - One record per public key.
 *   - A registration for an unknown key is stored: 'created'.
 *   - The same registration again (equal digest), or any registration that is not newer than
 *     the stored one, changes nothing: 'unchanged'. A replayed OLD registration can therefore
 *     never overwrite a newer one.
 *   - A newer registration of the same key replaces the stored one: 'updated'. Only the key's
 *     holder can sign one (verifyRegistration checked the signature by that very key), so this
 *     is how a participant changes its display name or identity string.
 *   - "Newer" orders by createdAt, then — for two different registrations made in the same
 *     millisecond — by the larger digest, so every replica keeps the same one whatever order
 *     they arrive in.
 *   - `register` is atomic: it either applies fully or, when it throws, changes nothing.
 *   - `now` is stored as registeredAt (on creation) and updatedAt (on creation and update).
 *
 * Does not: check signatures or freshness (registration.ts did, producing the
 * VerifiedRegistration this takes), or rate-limit registrations.
 */
import { assertBytes, equalBytes, toHex } from '../util/bytes';
import { checkTime, compareBytes } from '../util/codec';
import type { VerifiedRegistration } from './registration';

export type RegisterOutcome = 'created' | 'updated' | 'unchanged';

export interface RegistrationRecord {
  readonly publicKey: Uint8Array;
  readonly identity: string;
  readonly displayName?: string;
  readonly createdAt: number;
  readonly nonce: Uint8Array;
  /** SHA-256 of the registration body. */
  readonly digest: Uint8Array;
  /** The signed registration bytes, as received. */
  readonly registration: Uint8Array;
  /** When this key was first registered here (ms). */
  readonly registeredAt: number;
  /** When the stored registration was last replaced (ms). */
  readonly updatedAt: number;
}

export interface IdentityRegistry {
  /** Stores a verified registration following the rules in the header. */
  register(registration: VerifiedRegistration, now: number): Promise<RegisterOutcome>;
  /** The record for a 32-byte public key, or undefined. */
  get(publicKey: Uint8Array): Promise<RegistrationRecord | undefined>;
  isRegistered(publicKey: Uint8Array): Promise<boolean>;
}

/** What to do with `incoming` given the stored record for its key. */
export function decideRegistration(
  existing: Pick<RegistrationRecord, 'createdAt' | 'digest'> | undefined,
  incoming: Pick<VerifiedRegistration, 'createdAt' | 'digest'>,
): 'create' | 'replace' | 'keep' {
  if (existing === undefined) return 'create';
  if (equalBytes(existing.digest, incoming.digest)) return 'keep';
  if (incoming.createdAt > existing.createdAt) return 'replace';
  if (incoming.createdAt === existing.createdAt && compareBytes(incoming.digest, existing.digest) > 0) return 'replace';
  return 'keep';
}

/** Checks the arguments of `register`; shared by the implementations. */
export function checkRegisterArgs(registration: VerifiedRegistration, now: number): void {
  if (typeof registration !== 'object' || registration === null) throw new TypeError('registration must be a VerifiedRegistration');
  assertBytes(registration.publicKey, 'registration.publicKey', 32);
  assertBytes(registration.digest, 'registration.digest', 32);
  assertBytes(registration.nonce, 'registration.nonce', 16);
  assertBytes(registration.bytes, 'registration.bytes');
  if (typeof registration.identity !== 'string') throw new TypeError('registration.identity must be a string');
  checkTime(registration.createdAt, 'registration.createdAt');
  checkTime(now, 'now');
}

/** The record `register` stores for `registration`. Internal to MemoryIdentityRegistry. */
export function recordFor(registration: VerifiedRegistration, registeredAt: number, updatedAt: number): RegistrationRecord {
  const base = {
    publicKey: registration.publicKey.slice(),
    identity: registration.identity,
    createdAt: registration.createdAt,
    nonce: registration.nonce.slice(),
    digest: registration.digest.slice(),
    registration: registration.bytes.slice(),
    registeredAt,
    updatedAt,
  };
  return registration.displayName === undefined ? base : { ...base, displayName: registration.displayName };
}

function copyRecord(r: RegistrationRecord): RegistrationRecord {
  const base = {
    publicKey: r.publicKey.slice(),
    identity: r.identity,
    createdAt: r.createdAt,
    nonce: r.nonce.slice(),
    digest: r.digest.slice(),
    registration: r.registration.slice(),
    registeredAt: r.registeredAt,
    updatedAt: r.updatedAt,
  };
  return r.displayName === undefined ? base : { ...base, displayName: r.displayName };
}

/** An IdentityRegistry in memory, for tests and single-process networks. */
export class MemoryIdentityRegistry implements IdentityRegistry {
  private readonly records = new Map<string, RegistrationRecord>();

  async register(registration: VerifiedRegistration, now: number): Promise<RegisterOutcome> {
    checkRegisterArgs(registration, now);
    const k = toHex(registration.publicKey);
    const existing = this.records.get(k);
    switch (decideRegistration(existing, registration)) {
      case 'create':
        this.records.set(k, recordFor(registration, now, now));
        return 'created';
      case 'replace':
        this.records.set(k, recordFor(registration, existing!.registeredAt, now));
        return 'updated';
      case 'keep':
        return 'unchanged';
    }
  }

  async get(publicKey: Uint8Array): Promise<RegistrationRecord | undefined> {
    assertBytes(publicKey, 'publicKey', 32);
    const r = this.records.get(toHex(publicKey));
    return r === undefined ? undefined : copyRecord(r);
  }

  async isRegistered(publicKey: Uint8Array): Promise<boolean> {
    assertBytes(publicKey, 'publicKey', 32);
    return this.records.has(toHex(publicKey));
  }

  /** Number of registered keys. */
  get size(): number {
    return this.records.size;
  }
}
