/**
 * Shared fixtures for the authority tests: identities from fixed seeds, registration and
 * certificate-request builders, error assertions. Test helper, not a test file.
 */
import { expect } from 'vitest';
import {
  AuthorityError,
  type AuthorityErrorCode,
  type CertificateRequest,
  type Registration,
  type VerifiedRegistration,
  createCertificateRequest,
  createRegistration,
  parseRegistration,
  verifyRegistration,
} from '../../node-core/authority';
import { formatIdentity } from '../../node-core/crypto/identity';
import { type KeyPair, keyPair, suite } from '../directory/helpers';

export { keyPair, suite, type KeyPair };

export const T0 = 1_700_000_000_000;
export const NETWORK = 'testnet';
export const authorities = [0, 1, 2].map((i) => keyPair(`authority-${i}`));
export const authorityKeys = authorities.map((a) => a.publicKey);

export function identityOf(k: KeyPair, app = 'client'): string {
  return formatIdentity({ namespace: 'peerstream', app, publicKey: k.publicKey });
}

/** 16 bytes derived from a label. */
export function nonceFor(label: string): Uint8Array {
  return suite.sha256(new TextEncoder().encode(`psp-test-nonce:${label}`)).slice(0, 16);
}

export function registrationFields(k: KeyPair, over: Partial<Registration> = {}): Registration {
  return { publicKey: k.publicKey, identity: identityOf(k), displayName: 'Alice', createdAt: T0, nonce: nonceFor(k.label), ...over };
}

export function signedRegistration(k: KeyPair, over: Partial<Registration> = {}): Uint8Array {
  return createRegistration(suite, registrationFields(k, over), k.secretKey);
}

export function verifiedRegistration(k: KeyPair, over: Partial<Registration> = {}, now = T0): VerifiedRegistration {
  return verifyRegistration(suite, parseRegistration(signedRegistration(k, over)), now);
}

export function requestFields(k: KeyPair, over: Partial<CertificateRequest> = {}): CertificateRequest {
  return {
    subject: k.publicKey,
    identity: identityOf(k),
    network: NETWORK,
    requestedAt: T0,
    lifetimeMs: 3_600_000,
    nonce: nonceFor(`request:${k.label}`),
    ...over,
  };
}

export function signedRequest(k: KeyPair, over: Partial<CertificateRequest> = {}): Uint8Array {
  return createCertificateRequest(suite, requestFields(k, over), k.secretKey);
}

export function expectAuthorityError(fn: () => unknown, code: AuthorityErrorCode): AuthorityError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected AuthorityError(${code})`).toBeInstanceOf(AuthorityError);
  expect((thrown as AuthorityError).code, (thrown as Error).message).toBe(code);
  return thrown as AuthorityError;
}
