/**
 * The authority service end to end, over its message bytes: registration, certificate issue by
 * three authorities, assembly and verification by the client, replays, and every refusal status.
 * Also the authority message codec.
 */
import { describe, expect, it } from 'vitest';
import {
  AUTHORITY_STATUSES,
  AuthorityService,
  type CertificateResult,
  type IdentityRegistry,
  MemoryIdentityRegistry,
  ReplayGuard,
  assembleAccessCertificate,
  certificateBodyForRequest,
  decodeAuthorityMessage,
  encodeAuthorityMessage,
  issueCertificateSignature,
  needsRenewal,
} from '../../node-core/authority';
import { toHex } from '../../node-core/util/bytes';
import {
  NETWORK,
  T0,
  authorities,
  authorityKeys,
  expectAuthorityError,
  keyPair,
  requestFields,
  signedRegistration,
  signedRequest,
  suite,
} from './helpers';

const client = keyPair('service-client');
const trust = { authorityKeys, threshold: 2 };

function service(i: number, registry: IdentityRegistry = new MemoryIdentityRegistry(), over = {}): AuthorityService {
  return new AuthorityService({ suite, network: NETWORK, secretKey: authorities[i]!.secretKey, registry, ...over });
}

async function ask(s: AuthorityService, m: Parameters<typeof encodeAuthorityMessage>[0], now = T0) {
  return decodeAuthorityMessage(await s.handleMessage(encodeAuthorityMessage(m), now));
}

async function certResult(s: AuthorityService, request: Uint8Array, now = T0): Promise<CertificateResult> {
  const m = await ask(s, { type: 'certificate-request', request }, now);
  expect(m.type).toBe('certificate-result');
  return (m as { result: CertificateResult }).result;
}

describe('AuthorityService', () => {
  it('registers, issues from three authorities, and the client assembles a 2-of-3 certificate', async () => {
    const services = [0, 1, 2].map((i) => service(i));
    for (const s of services) {
      const m = await ask(s, { type: 'register', registration: signedRegistration(client) });
      expect(m).toEqual({ type: 'register-result', result: { status: 'ok', outcome: 'created' } });
    }
    const again = await ask(services[0]!, { type: 'register', registration: signedRegistration(client) }, T0 + 1);
    expect(again).toEqual({ type: 'register-result', result: { status: 'ok', outcome: 'unchanged' } });

    const request = signedRequest(client);
    const results = await Promise.all(services.map((s) => certResult(s, request, T0 + 10)));
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
    const { bytes, certificate } = assembleAccessCertificate(suite, requestFields(client), results, trust, T0 + 20);
    expect(certificate.signers).toHaveLength(3);
    expect(toHex(certificate.subject)).toBe(toHex(client.publicKey));
    expect(certificate.expiresAt).toBe(T0 + 3_600_000);
    expect(bytes.length).toBeGreaterThan(0);
    expect(needsRenewal(certificate, T0 + 3_600_000 - 5 * 60_000, 5 * 60_000)).toBe(true);
    // Two of three answers are enough; one is not.
    expect(assembleAccessCertificate(suite, requestFields(client), results.slice(1), trust, T0 + 20).certificate.signers).toHaveLength(2);
    expectAuthorityError(() => assembleAccessCertificate(suite, requestFields(client), results.slice(2), trust, T0 + 20), 'too-few-signatures');
  });

  it('leaves out answers for another body when assembling', async () => {
    const s = [service(0), service(1)];
    for (const x of s) await x.register(signedRegistration(client), T0);
    const results = await Promise.all(s.map((x) => certResult(x, signedRequest(client))));
    const otherBody = certificateBodyForRequest(requestFields(client, { lifetimeMs: 1000 }));
    const rogue: CertificateResult = { status: 'ok', body: otherBody, signature: issueCertificateSignature(suite, otherBody, authorities[2]!.secretKey) };
    const { certificate } = assembleAccessCertificate(suite, requestFields(client), [results[0]!, rogue, { status: 'busy' }], { authorityKeys, threshold: 1 }, T0);
    expect(certificate.signers.map(toHex)).toEqual([toHex(authorities[0]!.publicKey)]);
  });

  it('refuses unregistered keys and keys registered under another identity string', async () => {
    const s = service(0);
    expect((await certResult(s, signedRequest(client))).status).toBe('not-registered');
    await s.register(signedRegistration(client), T0);
    const otherApp = signedRequest(client, { identity: `peerstream.chat.account.${requestFields(client).identity.split('.')[3]}` });
    expect((await certResult(s, otherApp)).status).toBe('not-registered');
  });

  it('answers a replayed request once, also when both copies arrive together', async () => {
    const s = service(0);
    await s.register(signedRegistration(client), T0);
    const request = signedRequest(client);
    const both = await Promise.all([certResult(s, request), certResult(s, request)]);
    expect(both.map((r) => r.status).sort()).toEqual(['ok', 'replay']);
    expect((await certResult(s, request, T0 + 60_000)).status).toBe('replay');
    expect((await certResult(s, request, T0 + 5 * 60_000 + 1)).status).toBe('stale');
    expect((await certResult(s, signedRequest(client, { nonce: new Uint8Array(16).fill(7) }))).status).toBe('ok');
  });

  it('answers every refusal with its status', async () => {
    const s = service(0, new MemoryIdentityRegistry(), { maxCertificateLifetimeMs: 60 * 60_000 });
    await s.register(signedRegistration(client), T0);
    expect((await certResult(s, signedRequest(client, { network: 'othernet' }))).status).toBe('wrong-network');
    expect((await certResult(s, signedRequest(client, { lifetimeMs: 2 * 3_600_000 }))).status).toBe('lifetime-too-long');
    expect((await certResult(s, signedRequest(client, { requestedAt: T0 + 10 * 60_000 }))).status).toBe('not-yet-valid');
    const forged = signedRequest(client).slice();
    forged[forged.length - 1]! ^= 1;
    expect((await certResult(s, forged)).status).toBe('signature-invalid');
    expect((await certResult(s, Uint8Array.of(1, 2, 3))).status).toBe('format-error');
    const reg = await ask(s, { type: 'register', registration: signedRegistration(client, { createdAt: T0 - 3_600_000 }) });
    expect(reg).toEqual({ type: 'register-result', result: { status: 'stale' } });
    expect(decodeAuthorityMessage(await s.handleMessage(Uint8Array.of(0, 9), T0))).toEqual({ type: 'certificate-result', result: { status: 'format-error' } });
    const notARequest = encodeAuthorityMessage({ type: 'register-result', result: { status: 'ok', outcome: 'created' } });
    expect(decodeAuthorityMessage(await s.handleMessage(notARequest, T0))).toEqual({ type: 'certificate-result', result: { status: 'format-error' } });
  });

  it('answers internal-error when the registry fails, and keeps serving', async () => {
    let fail = true;
    const inner = new MemoryIdentityRegistry();
    const flaky: IdentityRegistry = {
      register: (r, now) => (fail ? Promise.reject(new Error('disk full')) : inner.register(r, now)),
      get: (k) => (fail ? Promise.reject(new Error('disk full')) : inner.get(k)),
      isRegistered: (k) => inner.isRegistered(k),
    };
    const s = service(0, flaky);
    expect(await s.register(signedRegistration(client), T0)).toMatchObject({ status: 'internal-error' });
    expect(await s.requestCertificate(signedRequest(client), T0)).toMatchObject({ status: 'internal-error' });
    fail = false;
    expect(await s.register(signedRegistration(client), T0)).toEqual({ status: 'ok', outcome: 'created' });
    expect((await s.requestCertificate(signedRequest(client), T0)).status).toBe('ok');
  });

  it('checks its configuration', () => {
    expect(() => service(0, {} as never)).toThrow(TypeError);
    expect(() => service(0, new MemoryIdentityRegistry(), { maxCertificateLifetimeMs: 25 * 3_600_000 })).toThrow(RangeError);
    expect(() => service(0, new MemoryIdentityRegistry(), { network: 'Bad' })).toThrow(RangeError);
  });
});

describe('ReplayGuard', () => {
  const subject = new Uint8Array(32).fill(1);
  const nonce = (i: number) => new Uint8Array(16).fill(i);
  it('remembers within the window, forgets after, and reports full', () => {
    const g = new ReplayGuard({ windowMs: 1000, maxEntries: 2 });
    expect(g.checkAndRecord(subject, nonce(1), T0, T0)).toBe('fresh');
    expect(g.checkAndRecord(subject, nonce(1), T0, T0 + 1000)).toBe('replay');
    expect(g.checkAndRecord(subject, nonce(2), T0, T0)).toBe('fresh');
    expect(g.checkAndRecord(subject, nonce(3), T0, T0)).toBe('full');
    expect(g.checkAndRecord(subject, nonce(3), T0 + 1500, T0 + 1001)).toBe('fresh'); // the old ones expired
    expect(g.size).toBe(1);
    expect(g.checkAndRecord(new Uint8Array(32).fill(2), nonce(3), T0 + 1500, T0 + 1001)).toBe('fresh'); // per subject
  });
});

describe('authority messages', () => {
  const body = certificateBodyForRequest(requestFields(client));
  const sig = issueCertificateSignature(suite, body, authorities[0]!.secretKey);
  it('round-trip every type byte for byte', () => {
    const messages: Parameters<typeof encodeAuthorityMessage>[0][] = [
      { type: 'certificate-request', request: signedRequest(client) },
      { type: 'register', registration: signedRegistration(client) },
      { type: 'certificate-result', result: { status: 'ok', body, signature: sig } },
      { type: 'register-result', result: { status: 'ok', outcome: 'updated' } },
      ...AUTHORITY_STATUSES.filter((s) => s !== 'ok').map((status) => ({ type: 'certificate-result' as const, result: { status } })),
    ];
    for (const m of messages) {
      const bytes = encodeAuthorityMessage(m);
      expect(toHex(encodeAuthorityMessage(decodeAuthorityMessage(bytes)))).toBe(toHex(bytes));
    }
    expect(toHex(encodeAuthorityMessage({ type: 'register-result', result: { status: 'busy' } }))).toBe('00040c');
    expect(toHex(encodeAuthorityMessage({ type: 'certificate-result', result: { status: 'signature-invalid' } }))).toBe('000203');
  });

  it('refuse unknown ids and statuses, truncation and trailing bytes', () => {
    expectAuthorityError(() => decodeAuthorityMessage(Uint8Array.of(0, 5)), 'malformed');
    expectAuthorityError(() => decodeAuthorityMessage(Uint8Array.of(0, 2, 13)), 'malformed');
    expectAuthorityError(() => decodeAuthorityMessage(Uint8Array.of(0, 4, 0, 4)), 'malformed');
    expectAuthorityError(() => decodeAuthorityMessage(Uint8Array.of(0, 4, 0, 1, 0)), 'malformed');
    expectAuthorityError(() => decodeAuthorityMessage(Uint8Array.of(0, 4, 5, 0)), 'malformed');
    const ok = encodeAuthorityMessage({ type: 'certificate-result', result: { status: 'ok', body, signature: sig } });
    for (let n = 0; n < ok.length; n += 5) expect(() => decodeAuthorityMessage(ok.subarray(0, n))).toThrow();
    expectAuthorityError(() => decodeAuthorityMessage(ok.subarray(0, ok.length - 1)), 'malformed');
    expectAuthorityError(() => decodeAuthorityMessage(Uint8Array.of(...ok, 0)), 'malformed');
  });

  it('check arguments when encoding', () => {
    expect(() => encodeAuthorityMessage({ type: 'register-result', result: { status: 'nope' as never } })).toThrow(RangeError);
    expect(() => encodeAuthorityMessage({ type: 'register', registration: new Uint8Array(5000) })).toThrow(RangeError);
    expect(() => encodeAuthorityMessage({ type: 'other' } as never)).toThrow(RangeError);
  });
});
