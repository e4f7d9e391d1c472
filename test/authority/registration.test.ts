/**
 * Identity registrations: the signed layout, round trips, display-name rules, and
 * verifyRegistration's window and signature checks.
 */
import { describe, expect, it } from 'vitest';
import {
  CONTEXT_ACCESS_CERT,
  CONTEXT_CERT_REQUEST,
  CONTEXT_REGISTER,
  createRegistration,
  decodeRegistrationBody,
  displayNameProblem,
  encodeRegistrationBody,
  parseRegistration,
  verifyRegistration,
} from '../../node-core/authority';
import { CONTEXT_CONSENSUS, CONTEXT_DESCRIPTOR, CONTEXT_VOTE } from '../../node-core/directory';
import { Writer, concatBytes, toHex, utf8 } from '../../node-core/util/bytes';
import { T0, expectAuthorityError, identityOf, keyPair, nonceFor, registrationFields, signedRegistration, suite } from './helpers';

const alice = keyPair('reg-alice');
const bob = keyPair('reg-bob');

function rawBody(over: { format?: number; key?: Uint8Array; identity?: string; flag?: number; name?: Uint8Array; createdAt?: bigint } = {}): Uint8Array {
  const id = utf8(over.identity ?? identityOf(alice));
  const w = new Writer().u8(over.format ?? 1).bytes(over.key ?? alice.publicKey).u8(id.length).bytes(id);
  const flag = over.flag ?? (over.name ? 1 : 0);
  w.u8(flag);
  if (over.name) w.u8(over.name.length).bytes(over.name);
  return w.u64(over.createdAt ?? BigInt(T0)).bytes(nonceFor(alice.label)).finish();
}

function signRaw(body: Uint8Array, key = alice): Uint8Array {
  const sig = suite.ed25519Sign(suite.sha256(concatBytes(utf8('PSP-REGISTER-v1'), body)), key.secretKey);
  return new Writer().u16(body.length).bytes(body).bytes(sig).finish();
}

describe('registration codec', () => {
  it('round-trips and matches the documented layout', () => {
    const body = encodeRegistrationBody(registrationFields(alice, { displayName: 'Ålice 🚀' }));
    expect(toHex(body)).toBe(toHex(rawBody({ name: utf8('Ålice 🚀') })));
    expect(toHex(encodeRegistrationBody(decodeRegistrationBody(body)))).toBe(toHex(body));
    const none = encodeRegistrationBody(registrationFields(alice, { displayName: undefined }));
    expect(toHex(none)).toBe(toHex(rawBody()));
    expect(decodeRegistrationBody(none).displayName).toBeUndefined();
    expect(toHex(signedRegistration(alice, { displayName: undefined }))).toBe(toHex(signRaw(rawBody())));
  });

  it('verifies inside the window and gives digest = SHA-256(body)', () => {
    const bytes = signedRegistration(alice);
    const v = verifyRegistration(suite, parseRegistration(bytes), T0 + 5 * 60_000);
    expect(v.identity).toBe(identityOf(alice));
    expect(v.displayName).toBe('Alice');
    expect(toHex(v.digest)).toBe(toHex(suite.sha256(parseRegistration(bytes).body)));
    expect(toHex(v.bytes)).toBe(toHex(bytes));
  });

  it('refuses stale, future, forged and other-key registrations', () => {
    const u = parseRegistration(signedRegistration(alice));
    expectAuthorityError(() => verifyRegistration(suite, u, T0 + 10 * 60_000 + 1), 'stale');
    expectAuthorityError(() => verifyRegistration(suite, u, T0 - 10 * 60_000 - 1), 'not-yet-valid');
    expect(() => verifyRegistration(suite, u, T0 + 30_000, { windowMs: 60_000 })).not.toThrow();
    expectAuthorityError(() => verifyRegistration(suite, u, T0 + 61_000, { windowMs: 60_000 }), 'stale');
    const forged = signedRegistration(alice).slice();
    forged[forged.length - 3]! ^= 8;
    expectAuthorityError(() => verifyRegistration(suite, parseRegistration(forged), T0), 'bad-signature');
    expectAuthorityError(() => verifyRegistration(suite, parseRegistration(signRaw(rawBody(), bob)), T0), 'bad-signature');
  });

  it.each<[string, Parameters<typeof rawBody>[0], string]>([
    ['format 2', { format: 2 }, 'unsupported-version'],
    ['identity of another key', { identity: identityOf(bob) }, 'bad-identity'],
    ['identity not parseable', { identity: 'peerstream.client.wallet.abc' }, 'bad-identity'],
    ['identity with a control byte', { identity: 'a\u0001' }, 'bad-identity'],
    ['display flag 2', { flag: 2 }, 'malformed'],
    ['display name not UTF-8', { name: Uint8Array.of(0xc3, 0x28) }, 'malformed'],
    ['display name with a newline', { name: utf8('a\nb') }, 'malformed'],
    ['display name with a bidi override', { name: utf8('a\u202eb') }, 'malformed'],
    ['display name with a BOM first', { name: Uint8Array.of(0xef, 0xbb, 0xbf, 0x61) }, 'malformed'],
    ['empty display name', { flag: 1, name: new Uint8Array(0) }, 'malformed'],
    ['65-character display name', { name: utf8('x'.repeat(65)) }, 'malformed'],
    ['time past 2^53', { createdAt: 1n << 62n }, 'malformed'],
  ])('%s → %s', (_n, over, code) => {
    expectAuthorityError(() => parseRegistration(signRaw(rawBody(over))), code as never);
  });

  it('refuses truncation and trailing bytes', () => {
    const bytes = signedRegistration(alice);
    for (let n = 0; n < bytes.length; n++) expectAuthorityError(() => parseRegistration(bytes.subarray(0, n)), 'malformed');
    expectAuthorityError(() => parseRegistration(Uint8Array.of(...bytes, 0)), 'malformed');
  });

  it('checks arguments when creating', () => {
    expect(() => createRegistration(suite, registrationFields(alice), bob.secretKey)).toThrow(RangeError);
    expect(() => encodeRegistrationBody(registrationFields(alice, { identity: identityOf(bob) }))).toThrow(/another public key/);
    expect(() => encodeRegistrationBody(registrationFields(alice, { displayName: ' padded' }))).toThrow(RangeError);
    expect(() => encodeRegistrationBody(registrationFields(alice, { nonce: new Uint8Array(15) }))).toThrow(RangeError);
    expect(() => encodeRegistrationBody(registrationFields(alice, { createdAt: -1 }))).toThrow(RangeError);
  });
});

describe('displayNameProblem', () => {
  it('accepts ordinary names, emoji sequences and 64 characters', () => {
    for (const n of ['Alice', 'Zoë', '李小龍', '👩‍💻 dev', 'x'.repeat(64)]) expect(displayNameProblem(n)).toBeNull();
  });
  it('refuses empty, long, control, separators, non-NFC, padded and lone surrogates', () => {
    for (const n of ['', 'x'.repeat(65), 'a\tb', 'a\u2028b', 'e\u0301', ' a', 'a ', 'a\ud800b', 'a\u2066b']) {
      expect(displayNameProblem(n)).toEqual(expect.any(String));
    }
  });
});

describe('signature contexts', () => {
  it('are distinct and none is a prefix of another (directory and authority together)', () => {
    const all = [CONTEXT_DESCRIPTOR, CONTEXT_VOTE, CONTEXT_CONSENSUS, CONTEXT_REGISTER, CONTEXT_ACCESS_CERT, CONTEXT_CERT_REQUEST];
    expect(new Set(all).size).toBe(all.length);
    for (const a of all) for (const b of all) if (a !== b) expect(b.startsWith(a)).toBe(false);
  });
});
