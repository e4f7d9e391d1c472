/**
 * A minimal self-signed X.509 v3 certificate for a TLS link key (Ed25519, RFC 8410).
 *
 * The TLS certificate carries no trust of its own: the peer trusts a link only after the node's
 * identity key has signed this certificate's hash together with the TLS exporter value (see
 * messages.ts, LinkBinding). So the certificate has just what TLS stacks require: version,
 * serial, algorithm, names, validity and the public key; no extensions.
 *
 * DER encoding follows X.690; structure follows RFC 5280 §4.1.
 */
import type { CryptoSuite } from '../crypto/api';
import { concatBytes, utf8 } from '../util/bytes';

const OID_ED25519 = Uint8Array.of(0x06, 0x03, 0x2b, 0x65, 0x70); // 1.3.101.112
const OID_COMMON_NAME = Uint8Array.of(0x06, 0x03, 0x55, 0x04, 0x03); // 2.5.4.3

function derLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  if (n < 0x100) return Uint8Array.of(0x81, n);
  if (n < 0x10000) return Uint8Array.of(0x82, n >> 8, n & 0xff);
  throw new RangeError('DER length too large for a link certificate');
}

function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concatBytes(...content);
  return concatBytes(Uint8Array.of(tag), derLength(body.length), body);
}

const seq = (...c: Uint8Array[]) => tlv(0x30, ...c);

function derTime(ms: number): Uint8Array {
  const d = new Date(ms);
  const pad = (v: number) => String(v).padStart(2, '0');
  const body = `${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  const year = d.getUTCFullYear();
  // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  if (year < 2050) return tlv(0x17, utf8(`${pad(year % 100)}${body}`));
  return tlv(0x18, utf8(`${year}${body}`));
}

export interface LinkCertificate {
  /** DER bytes of the certificate. */
  der: Uint8Array;
  /** PEM text of the certificate, for node:tls. */
  certPem: string;
  /** PEM text of the PKCS#8 private key (RFC 8410 §7), for node:tls. */
  keyPem: string;
  /** The link key's raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  notAfter: number;
}

function pem(label: string, der: Uint8Array): string {
  let bin = '';
  for (const b of der) bin += String.fromCharCode(b);
  const b64 = btoa(bin).replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

/**
 * Makes a fresh link key and its self-signed certificate, valid from an hour before `now`
 * (clock skew) for `lifetimeMs`.
 */
export function makeLinkCertificate(suite: CryptoSuite, now: number, lifetimeMs: number): LinkCertificate {
  if (!Number.isFinite(now) || now <= 0) throw new RangeError('now must be a positive time in ms');
  if (!Number.isFinite(lifetimeMs) || lifetimeMs <= 0) throw new RangeError('lifetimeMs must be positive');
  const seed = suite.randomBytes(32);
  const publicKey = suite.ed25519PublicKey(seed);
  const serial = suite.randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, no leading zero byte
  const algorithm = seq(OID_ED25519);
  const name = seq(tlv(0x31, seq(OID_COMMON_NAME, tlv(0x0c, utf8('psp-link')))));
  const notAfter = now + lifetimeMs;
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Uint8Array.of(2))), // [0] EXPLICIT version v3
    tlv(0x02, serial),
    algorithm,
    name,
    seq(derTime(now - 3_600_000), derTime(notAfter)),
    name,
    seq(algorithm, tlv(0x03, Uint8Array.of(0), publicKey)),
  );
  const signature = suite.ed25519Sign(tbs, seed);
  const der = seq(tbs, algorithm, tlv(0x03, Uint8Array.of(0), signature));
  // RFC 8410 §7: OneAsymmetricKey with the 32-byte seed wrapped in an OCTET STRING.
  const pkcs8 = seq(tlv(0x02, Uint8Array.of(0)), algorithm, tlv(0x04, tlv(0x04, seed)));
  seed.fill(0);
  return { der, certPem: pem('CERTIFICATE', der), keyPem: pem('PRIVATE KEY', pkcs8), publicKey, notAfter };
}
