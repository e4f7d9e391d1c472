/**
 * Certificate requests and co-signed access certificates: layouts, the deterministic body,
 * combining signatures, every verifyAccessCertificate code, and needsRenewal.
 */
import { describe, expect, it } from 'vitest';
import {
  type CertificateTrust,
  MAX_CERTIFICATE_LIFETIME_MS,
  certificateBodyForRequest,
  combineCertificateSignatures,
  decodeCertificateBody,
  encodeCertificateBody,
  issueCertificateSignature,
  needsRenewal,
  parseAccessCertificate,
  parseCertificateRequest,
  verifyAccessCertificate,
  verifyCertificateRequest,
  verifyCertificateSignature,
} from '../../node-core/authority';
import { Writer, concatBytes, toHex, utf8 } from '../../node-core/util/bytes';
import {
  NETWORK,
  T0,
  authorities,
  authorityKeys,
  expectAuthorityError,
  identityOf,
  keyPair,
  requestFields,
  signedRequest,
  suite,
} from './helpers';

const client = keyPair('cert-client');
const other = keyPair('cert-other');
const trust: CertificateTrust = { authorityKeys, threshold: 2 };
const body = certificateBodyForRequest(requestFields(client));
const sigs = authorities.map((a) => issueCertificateSignature(suite, body, a.secretKey));
const cert = (signatures = sigs.slice(0, 2), b = body) => combineCertificateSignatures(b, signatures);
const verify = (bytes: Uint8Array, now = T0 + 1000, opts = {}, t = trust) => verifyAccessCertificate(suite, parseAccessCertificate(bytes), t, now, opts);

describe('certificate requests', () => {
  const check = { network: NETWORK };
  it('verify inside the window; refuse other network, long lifetime, stale, future, forged', () => {
    const u = parseCertificateRequest(signedRequest(client));
    const v = verifyCertificateRequest(suite, u, T0 + 60_000, check);
    expect(v.identity).toBe(identityOf(client));
    expectAuthorityError(() => verifyCertificateRequest(suite, u, T0, { network: 'othernet' }), 'wrong-network');
    expectAuthorityError(() => verifyCertificateRequest(suite, u, T0, { ...check, maxLifetimeMs: 60_000 }), 'lifetime-too-long');
    expectAuthorityError(() => verifyCertificateRequest(suite, u, T0 + 5 * 60_000 + 1, check), 'stale');
    expectAuthorityError(() => verifyCertificateRequest(suite, u, T0 - 5 * 60_000 - 1, check), 'not-yet-valid');
    const forged = signedRequest(client).slice();
    forged[forged.length - 1]! ^= 1;
    expectAuthorityError(() => verifyCertificateRequest(suite, parseCertificateRequest(forged), T0, check), 'bad-signature');
  });

  it('refuses at parse: identity of another key, lifetime 0 or over 24 h, truncation', () => {
    const raw = (lifetime: number, identity = identityOf(client)): Uint8Array => {
      const id = utf8(identity);
      const b = new Writer().u8(1).bytes(client.publicKey).u8(id.length).bytes(id).u8(NETWORK.length).bytes(utf8(NETWORK)).u64(BigInt(T0)).u32(lifetime).bytes(new Uint8Array(16)).finish();
      const sig = suite.ed25519Sign(suite.sha256(concatBytes(utf8('PSP-CERT-REQUEST-v1'), b)), client.secretKey);
      return new Writer().u16(b.length).bytes(b).bytes(sig).finish();
    };
    expect(() => parseCertificateRequest(raw(1000))).not.toThrow();
    expectAuthorityError(() => parseCertificateRequest(raw(0)), 'malformed');
    expectAuthorityError(() => parseCertificateRequest(raw(MAX_CERTIFICATE_LIFETIME_MS + 1)), 'malformed');
    expectAuthorityError(() => parseCertificateRequest(raw(1000, identityOf(other))), 'bad-identity');
    const bytes = raw(1000);
    for (let n = 0; n < bytes.length; n += 3) expectAuthorityError(() => parseCertificateRequest(bytes.subarray(0, n)), 'malformed');
  });

  it('give one body per request: serial = nonce, issuedAt = requestedAt, expiresAt = + lifetime', () => {
    const req = requestFields(client);
    expect(toHex(body.serial)).toBe(toHex(req.nonce));
    expect(body.issuedAt).toBe(T0);
    expect(body.expiresAt).toBe(T0 + 3_600_000);
    expect(toHex(encodeCertificateBody(certificateBodyForRequest(req)))).toBe(toHex(encodeCertificateBody(body)));
  });
});

describe('access certificates', () => {
  it('round-trip: combine, parse, re-encode; signatures sorted by signer; duplicates dropped', () => {
    const bytes = cert([sigs[2]!, sigs[0]!, sigs[2]!]);
    const u = parseAccessCertificate(bytes);
    expect(u.signatures.map((s) => toHex(s.signer))).toEqual([sigs[0]!, sigs[2]!].map((s) => toHex(s.signer)).sort());
    expect(toHex(cert([sigs[0]!, sigs[2]!]))).toBe(toHex(bytes));
    expect(toHex(encodeCertificateBody(decodeCertificateBody(u.body)))).toBe(toHex(u.body));
    const v = verify(bytes);
    expect(v.signers).toHaveLength(2);
    expect(v.identity).toBe(identityOf(client));
    expect(verifyCertificateSignature(suite, u.body, sigs[1]!)).toBe(true);
  });

  it('refuses expired, not-yet-valid (skew optional), wrong network, wrong subject', () => {
    const bytes = cert();
    expectAuthorityError(() => verify(bytes, body.expiresAt), 'expired');
    expect(() => verify(bytes, body.expiresAt - 1)).not.toThrow();
    expectAuthorityError(() => verify(bytes, T0 - 1), 'not-yet-valid');
    expect(() => verify(bytes, T0 - 1, { maxClockSkewMs: 1 })).not.toThrow();
    expectAuthorityError(() => verify(bytes, T0, { network: 'othernet' }), 'wrong-network');
    expect(() => verify(bytes, T0, { network: NETWORK, subject: client.publicKey })).not.toThrow();
    expectAuthorityError(() => verify(bytes, T0, { subject: other.publicKey }), 'wrong-subject');
  });

  it('counts valid trusted signatures: too-few-signatures, unknown-signer, bad-signature', () => {
    expectAuthorityError(() => verify(cert(sigs.slice(0, 1))), 'too-few-signatures');
    const stranger = issueCertificateSignature(suite, body, keyPair('rogue-authority').secretKey);
    expectAuthorityError(() => verify(cert([sigs[0]!, stranger])), 'unknown-signer');
    const ok = verify(cert([sigs[0]!, sigs[1]!, stranger]));
    expect(ok.ignored.map((i) => i.reason)).toEqual(['unknown-signer']);
    const forged = { signer: sigs[1]!.signer, signature: sigs[0]!.signature };
    expectAuthorityError(() => verify(cert([sigs[0]!, forged])), 'bad-signature');
    expectAuthorityError(() => verify(cert([sigs[0]!, forged, stranger])), 'bad-signature');
    // A signature over another body does not count for this one.
    const otherBody = certificateBodyForRequest(requestFields(client, { lifetimeMs: 60_000 }));
    const wrongBody = issueCertificateSignature(suite, otherBody, authorities[1]!.secretKey);
    expectAuthorityError(() => verify(cert([sigs[0]!, wrongBody])), 'bad-signature');
    expect(() => verify(cert(sigs), T0, {}, { authorityKeys, threshold: 3 })).not.toThrow();
  });

  it('refuses unusable trust configurations', () => {
    expect(() => verify(cert(), T0, {}, { authorityKeys, threshold: 0 })).toThrow(RangeError);
    expect(() => verify(cert(), T0, {}, { authorityKeys, threshold: 4 })).toThrow(RangeError);
    expect(() => verify(cert(), T0, {}, { authorityKeys: [], threshold: 1 })).toThrow(RangeError);
  });

  it('refuses at parse: signatures out of order or repeated, lifetime over 24 h, truncation, version', () => {
    const bodyBytes = encodeCertificateBody(body);
    const ordered = [...sigs].sort((a, b) => (toHex(a.signer) < toHex(b.signer) ? -1 : 1));
    const raw = (list: typeof sigs, format = 1, b = bodyBytes) => {
      const w = new Writer().u8(format).u16(b.length).bytes(b).u8(list.length);
      for (const s of list) w.bytes(s.signer).bytes(s.signature);
      return w.finish();
    };
    expect(() => parseAccessCertificate(raw(ordered))).not.toThrow();
    expectAuthorityError(() => parseAccessCertificate(raw([ordered[1]!, ordered[0]!])), 'not-canonical');
    expectAuthorityError(() => parseAccessCertificate(raw([ordered[0]!, ordered[0]!])), 'not-canonical');
    expectAuthorityError(() => parseAccessCertificate(raw(ordered, 2)), 'unsupported-version');
    const long = bodyBytes.slice();
    new DataView(long.buffer).setBigUint64(long.length - 8, BigInt(T0 + MAX_CERTIFICATE_LIFETIME_MS + 1));
    expectAuthorityError(() => parseAccessCertificate(raw(ordered, 1, long)), 'malformed');
    const full = raw(ordered);
    for (let n = 0; n < full.length; n += 11) expectAuthorityError(() => parseAccessCertificate(full.subarray(0, n)), 'malformed');
    expectAuthorityError(() => parseAccessCertificate(Uint8Array.of(...full, 0)), 'malformed');
  });

  it('checks arguments when encoding and combining', () => {
    expect(() => encodeCertificateBody({ ...body, expiresAt: body.issuedAt })).toThrow(RangeError);
    expect(() => encodeCertificateBody({ ...body, identity: identityOf(other) })).toThrow(RangeError);
    expect(() => combineCertificateSignatures(body, [sigs[0]!, { ...sigs[0]!, signature: sigs[1]!.signature }])).toThrow(RangeError);
    expect(() => issueCertificateSignature(suite, body, new Uint8Array(3))).toThrow(RangeError);
  });
});

describe('needsRenewal', () => {
  it('is true once less than the margin is left', () => {
    const margin = 10 * 60_000;
    expect(needsRenewal(body, body.expiresAt - margin - 1, margin)).toBe(false);
    expect(needsRenewal(body, body.expiresAt - margin, margin)).toBe(true);
    expect(needsRenewal(body, body.expiresAt + 1, margin)).toBe(true);
    expect(() => needsRenewal(body, T0, -1)).toThrow(RangeError);
  });
});
