/**
 * The creator's credential (node-core/stream/credential.ts): it round-trips, verifies only for
 * the oracle it names, within its window, with a certificate of this network co-signed by
 * enough authorities and a signature by the certificate's subject; decoders throw only
 * StreamError; the replay guard lets each credential through once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuthorityError } from '../../node-core/authority';
import {
  CONTEXT_CREDENTIAL,
  CredentialReplayGuard,
  DEFAULT_CREDENTIAL_WINDOW_MS,
  MAX_CREDENTIAL_BYTES,
  createCredential,
  parseCredential,
  verifyCredential,
  type CredentialCheck,
} from '../../node-core/stream/credential';
import { StreamError } from '../../node-core/stream/errors';
import { MAX_CREDENTIAL_LENGTH } from '../../node-core/stream/messages';
import { concatBytes, equalBytes, utf8 } from '../../node-core/util/bytes';
import {
  ALICE,
  AUTHORITIES,
  AUTHORITY_TRUST,
  BOB,
  MALLORY,
  MINUTE,
  NETWORK,
  ORACLE_1,
  ORACLE_2,
  REQUEST,
  T0,
  bytesOf,
  certificate,
  credential,
  expectStreamError,
  identityOf,
  keyPair,
  suite,
} from './helpers';

const CHECK: CredentialCheck = { network: NETWORK, oracle: ORACLE_1.publicKey, authority: AUTHORITY_TRUST };

function verify(bytes: Uint8Array, now = T0, check: CredentialCheck = CHECK) {
  return verifyCredential(suite, parseCredential(bytes), now, check);
}

/** Offset of the bitrate field: format, certLength, certificate, oracle. */
function bitrateOffset(bytes: Uint8Array): number {
  const certLength = (bytes[1]! << 8) | bytes[2]!;
  return 3 + certLength + 32;
}

describe('stream credential', () => {
  it('round-trips and verifies: the subject, identity and request come from the signed bytes', () => {
    const cert = certificate(ALICE);
    const nonce = bytesOf(16, 0x42);
    const bytes = createCredential(suite, { certificate: cert, oracle: ORACLE_1.publicKey, request: REQUEST, createdAt: T0, nonce }, ALICE.secretKey);
    expect(bytes.length).toBeLessThanOrEqual(MAX_CREDENTIAL_BYTES);
    expect(MAX_CREDENTIAL_BYTES).toBeLessThanOrEqual(MAX_CREDENTIAL_LENGTH);
    const parsed = parseCredential(bytes);
    expect(equalBytes(parsed.claimed.certificate.bytes, cert)).toBe(true);
    expect(parsed.claimed.request).toEqual(REQUEST);
    expect(parsed.claimed.createdAt).toBe(T0);
    const v = verify(bytes);
    expect(equalBytes(v.subject, ALICE.publicKey)).toBe(true);
    expect(v.identity).toBe(identityOf(ALICE));
    expect(v.network).toBe(NETWORK);
    expect(v.request).toEqual(REQUEST);
    expect(equalBytes(v.nonce, nonce)).toBe(true);
    expect(v.certificateExpiresAt).toBe(T0 - MINUTE + 60 * MINUTE);
    expect(equalBytes(v.bytes, bytes)).toBe(true);
  });

  it('is deterministic for the same input (Ed25519), and a public request sets the flag', () => {
    const cert = certificate(ALICE);
    const input = { certificate: cert, oracle: ORACLE_1.publicKey, request: { ...REQUEST, public: true }, createdAt: T0, nonce: bytesOf(16, 1) };
    const a = createCredential(suite, input, ALICE.secretKey);
    expect(equalBytes(a, createCredential(suite, input, ALICE.secretKey))).toBe(true);
    expect(verify(a).request.public).toBe(true);
  });

  it('is refused by another oracle', () => {
    expectStreamError(() => verify(credential(ALICE, ORACLE_1.publicKey), T0, { ...CHECK, oracle: ORACLE_2.publicKey }), 'unknown-oracle');
  });

  it('is accepted only within its window around the clock', () => {
    const c = credential(ALICE, ORACLE_1.publicKey, { createdAt: T0 });
    expect(verify(c, T0 + DEFAULT_CREDENTIAL_WINDOW_MS - 1).subject).toBeDefined();
    expectStreamError(() => verify(c, T0 + DEFAULT_CREDENTIAL_WINDOW_MS), 'expired');
    const ahead = credential(ALICE, ORACLE_1.publicKey, { createdAt: T0 + 2 * MINUTE });
    expectStreamError(() => verify(ahead, T0, { ...CHECK, windowMs: MINUTE }), 'not-yet-valid');
    expect(verify(ahead, T0, { ...CHECK, windowMs: 3 * MINUTE }).createdAt).toBe(T0 + 2 * MINUTE);
  });

  it('needs a certificate of this network, valid now, with the threshold of authority signatures', () => {
    const expired = certificate(ALICE, { requestedAt: T0 - 2 * 60 * MINUTE });
    const e1 = expectStreamError(() => verify(credential(ALICE, ORACLE_1.publicKey, { certificate: expired })), 'expired');
    expect(e1.cause).toBeInstanceOf(AuthorityError);
    const otherNet = certificate(ALICE, { network: 'othernet' });
    expectStreamError(() => verify(credential(ALICE, ORACLE_1.publicKey, { certificate: otherNet })), 'wrong-network');
    const future = certificate(ALICE, { requestedAt: T0 + 10 * MINUTE });
    expectStreamError(() => verify(credential(ALICE, ORACLE_1.publicKey, { certificate: future })), 'not-yet-valid');
    const oneSigner = certificate(ALICE, { signers: AUTHORITIES.slice(0, 1) });
    expectStreamError(() => verify(credential(ALICE, ORACLE_1.publicKey, { certificate: oneSigner })), 'bad-signature');
    const strangers = certificate(ALICE, { signers: [keyPair('fake-authority-1'), keyPair('fake-authority-2')] });
    expectStreamError(() => verify(credential(ALICE, ORACLE_1.publicKey, { certificate: strangers })), 'bad-signature');
    // The same credential with a one-authority threshold passes: the threshold is what failed.
    expect(verify(credential(ALICE, ORACLE_1.publicKey, { certificate: oneSigner }), T0, { ...CHECK, authority: { ...AUTHORITY_TRUST, threshold: 1 } }).identity).toBe(identityOf(ALICE));
  });

  it("refuses a signature by anyone but the certificate's subject, and any changed byte", () => {
    const good = credential(ALICE, ORACLE_1.publicKey);
    const signed = good.subarray(0, good.length - 64);
    const forged = concatBytes(signed, suite.ed25519Sign(suite.sha256(concatBytes(utf8(CONTEXT_CREDENTIAL), signed)), MALLORY.secretKey));
    expect(parseCredential(forged).claimed.request).toEqual(REQUEST); // well-formed
    expectStreamError(() => verify(forged), 'bad-signature');
    const raised = good.slice();
    raised[bitrateOffset(raised)] = 0x7f; // a far higher bitrate than signed
    expect(parseCredential(raised).claimed.request.bitrate).toBeGreaterThan(REQUEST.bitrate);
    expectStreamError(() => verify(raised), 'bad-signature');
    // Bob's certificate with Alice's signature: the subject is Bob, so Alice's signature fails.
    const bobCert = certificate(BOB);
    const mixed = createCredential(suite, { certificate: bobCert, oracle: ORACLE_1.publicKey, request: REQUEST, createdAt: T0 }, BOB.secretKey);
    const aliceSig = suite.ed25519Sign(suite.sha256(concatBytes(utf8(CONTEXT_CREDENTIAL), mixed.subarray(0, mixed.length - 64))), ALICE.secretKey);
    expectStreamError(() => verify(concatBytes(mixed.subarray(0, mixed.length - 64), aliceSig)), 'bad-signature');
  });

  it('refuses to make a credential with a key other than the subject, or with bad fields', () => {
    const cert = certificate(ALICE);
    const base = { certificate: cert, oracle: ORACLE_1.publicKey, request: REQUEST, createdAt: T0 };
    expect(() => createCredential(suite, base, MALLORY.secretKey)).toThrow(RangeError);
    expect(() => createCredential(suite, { ...base, certificate: bytesOf(40, 1) }, ALICE.secretKey)).toThrow(/input\.certificate/);
    expect(() => createCredential(suite, { ...base, oracle: bytesOf(31, 1) }, ALICE.secretKey)).toThrow(/input\.oracle/);
    expect(() => createCredential(suite, { ...base, request: { ...REQUEST, bitrate: 0 } }, ALICE.secretKey)).toThrow(/input\.request\.bitrate/);
    expect(() => createCredential(suite, { ...base, nonce: bytesOf(15, 1) }, ALICE.secretKey)).toThrow(/input\.nonce/);
    expect(() => createCredential(suite, { ...base, createdAt: -1 }, ALICE.secretKey)).toThrow(/input\.createdAt/);
    expect(() => createCredential(suite, base, 'key' as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('decoders refuse bad layouts with StreamError', () => {
    const good = credential(ALICE, ORACLE_1.publicKey);
    expectStreamError(() => parseCredential(good.subarray(0, good.length - 1)), 'malformed');
    expectStreamError(() => parseCredential(concatBytes(good, new Uint8Array(1))), 'malformed');
    const v2 = good.slice();
    v2[0] = 2;
    expectStreamError(() => parseCredential(v2), 'unsupported-version');
    const zeroBitrate = good.slice();
    zeroBitrate.fill(0, bitrateOffset(good), bitrateOffset(good) + 4);
    expectStreamError(() => parseCredential(zeroBitrate), 'malformed');
    const flags = good.slice();
    flags[bitrateOffset(good) + 8] = 0x02;
    expectStreamError(() => parseCredential(flags), 'malformed');
    const badCert = good.slice();
    badCert[3] = 9; // the certificate's own format byte
    const e = expectStreamError(() => parseCredential(badCert), 'malformed');
    expect(e.cause).toBeInstanceOf(AuthorityError);
    const noCert = Uint8Array.of(1, 0, 0);
    expectStreamError(() => parseCredential(noCert), 'malformed');
    expect(() => parseCredential('x' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => verifyCredential(suite, { bytes: 1 } as never, T0, CHECK)).toThrow(TypeError);
  });

  it('decoders throw nothing but StreamError on arbitrary and mutated bytes', () => {
    const good = credential(ALICE, ORACLE_1.publicKey);
    const onlyStreamErrors = (input: Uint8Array) => {
      try {
        verify(input);
      } catch (e) {
        if (!(e instanceof StreamError)) throw e;
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), onlyStreamErrors), { numRuns: 300 });
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const m = good.slice();
        m[at] = m[at]! ^ x;
        onlyStreamErrors(m);
        // No change to a signed byte, or to the signature, leaves a credential that verifies.
        let verified = false;
        try {
          verify(m);
          verified = true;
        } catch {
          // expected
        }
        expect(verified).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('CredentialReplayGuard', () => {
  it('lets a credential through once, until it could no longer verify', () => {
    const guard = new CredentialReplayGuard(suite);
    const c = verify(credential(ALICE, ORACLE_1.publicKey, { nonce: bytesOf(16, 7) }));
    expect(guard.spend(c, T0)).toBe('spent');
    expect(guard.spend(c, T0 + 1000)).toBe('already-spent');
    // Bob may happen to pick the same nonce: his credential is another one.
    const b = verify(credential(BOB, ORACLE_1.publicKey, { nonce: bytesOf(16, 7) }));
    expect(guard.spend(b, T0)).toBe('spent');
    expect(guard.spend(c, T0 + DEFAULT_CREDENTIAL_WINDOW_MS)).toBe('expired');
    expect(guard.prune(T0 + DEFAULT_CREDENTIAL_WINDOW_MS)).toBe(2);
    expect(guard.size).toBe(0);
  });

  it('refuses when full of live entries rather than forget one', () => {
    const guard = new CredentialReplayGuard(suite, { capacity: 1 });
    const a = verify(credential(ALICE, ORACLE_1.publicKey));
    const b = verify(credential(ALICE, ORACLE_1.publicKey));
    expect(guard.spend(a, T0)).toBe('spent');
    expect(guard.spend(b, T0)).toBe('full');
    expect(guard.spend(a, T0)).toBe('already-spent');
    expect(guard.spend(b, T0 + DEFAULT_CREDENTIAL_WINDOW_MS - 1)).toBe('full');
  });

  it('checks its arguments', () => {
    expect(() => new CredentialReplayGuard(suite, { windowMs: 0 })).toThrow(RangeError);
    const guard = new CredentialReplayGuard(suite);
    expect(() => guard.spend({} as never, T0)).toThrow(TypeError);
  });
});
