/**
 * Payload codecs of the link handshake cells: VERSIONS, CERTS, AUTH_CHALLENGE, AUTHENTICATE
 * (reference binary/versions.md, certs.md, authchallenge.md, authenticate.md, authbypass.md),
 * modernised per DESIGN §3: Ed25519 identities replace RSA X.509 identity certificates.
 *
 * Link protocol version 2 (the reference's version 1 is RSA-based and not spoken):
 * - CERTS carries typed certificates; this version defines
 *   type 4 Ed25519Identity (the raw 32-byte identity key) and
 *   type 5 LinkBinding (the identity key's signature over the TLS certificate hash and the
 *   connection's TLS exporter value; see `linkBindingMessage`).
 * - AUTH_CHALLENGE methods: 2 AllowBypass (anonymous initiators may send AUTH_BYPASS),
 *   3 Ed25519-SHA256-TLSExporter (the AUTHENTICATE body below).
 * Codecs are strict: a trailing byte, a repeated certificate type or a wrong length is an error,
 * so every accepted payload re-encodes to the same bytes.
 */
import { concatBytes, Reader, utf8, Writer } from '../util/bytes';
import { LinkError } from './errors';

export const LINK_PROTOCOL_VERSION = 2;
export const SUPPORTED_VERSIONS: readonly number[] = [LINK_PROTOCOL_VERSION];

export enum CertType {
  Ed25519Identity = 4,
  LinkBinding = 5,
}

export enum AuthMethod {
  AllowBypass = 2,
  Ed25519TlsExporter = 3,
}

/** RFC 5705/8446 §7.5 exporter label and context used for link binding. */
export const TLS_EXPORTER_LABEL = 'EXPORTER-PSP-link-v2';
export const TLS_EXPORTER_CONTEXT = utf8('PSP link handshake');
export const TLS_EXPORTER_LENGTH = 32;

const short = (what: string) => new LinkError('malformed', `truncated ${what}`);

function noTrailing(r: Reader, what: string): void {
  if (r.remaining !== 0) throw new LinkError('malformed', `${r.remaining} trailing bytes after ${what}`);
}

// ---- VERSIONS --------------------------------------------------------------------------------

export function encodeVersions(versions: readonly number[]): Uint8Array {
  if (versions.length === 0 || versions.length > 64) throw new RangeError('versions: 1..64 entries');
  const w = new Writer();
  for (const v of versions) w.u16(v);
  return w.finish();
}

export function decodeVersions(payload: Uint8Array): number[] {
  if (payload.length === 0 || payload.length % 2 !== 0 || payload.length > 128) {
    throw new LinkError('malformed', `VERSIONS payload of ${payload.length} bytes`);
  }
  const r = new Reader(payload, short);
  const out: number[] = [];
  while (r.remaining > 0) out.push(r.u16('version'));
  return out;
}

/** The highest version both sides list, or null. */
export function negotiateVersion(ours: readonly number[], theirs: readonly number[]): number | null {
  let best: number | null = null;
  for (const v of theirs) if (ours.includes(v) && (best === null || v > best)) best = v;
  return best;
}

// ---- CERTS -----------------------------------------------------------------------------------

export interface LinkBinding {
  identityKey: Uint8Array; // 32
  tlsCertHash: Uint8Array; // 32, SHA-256 of the responder's TLS certificate (DER)
  exporter: Uint8Array; // 32, TLS exporter value of this connection
  signature: Uint8Array; // 64
}

export interface Certs {
  identity?: Uint8Array;
  binding?: LinkBinding;
}

const BINDING_MAGIC = utf8('PSPLB002');
const BINDING_LEN = 8 + 32 + 32 + 32 + 64;

/** The bytes the identity key signs for a LinkBinding. */
export function linkBindingMessage(b: Omit<LinkBinding, 'signature'>): Uint8Array {
  return concatBytes(BINDING_MAGIC, b.identityKey, b.tlsCertHash, b.exporter);
}

export function encodeCerts(certs: Certs): Uint8Array {
  const items: [number, Uint8Array][] = [];
  if (certs.identity) {
    if (certs.identity.length !== 32) throw new RangeError('certs.identity must be 32 bytes');
    items.push([CertType.Ed25519Identity, certs.identity]);
  }
  if (certs.binding) {
    const b = certs.binding;
    if (b.identityKey.length !== 32 || b.tlsCertHash.length !== 32 || b.exporter.length !== 32 || b.signature.length !== 64) {
      throw new RangeError('certs.binding has a field of the wrong length');
    }
    items.push([CertType.LinkBinding, concatBytes(linkBindingMessage(b), b.signature)]);
  }
  const w = new Writer().u8(items.length);
  for (const [type, body] of items) w.u8(type).u16(body.length).bytes(body);
  return w.finish();
}

export function decodeCerts(payload: Uint8Array): Certs {
  const r = new Reader(payload, short);
  const n = r.u8('cert count');
  const out: Certs = {};
  for (let i = 0; i < n; i++) {
    const type = r.u8('cert type');
    const len = r.u16('cert length');
    const body = r.bytes(len, 'certificate');
    if (type === CertType.Ed25519Identity) {
      if (out.identity) throw new LinkError('bad-certs', 'CERTS repeats the Ed25519Identity certificate');
      if (len !== 32) throw new LinkError('malformed', `Ed25519Identity of ${len} bytes`);
      out.identity = body.slice();
    } else if (type === CertType.LinkBinding) {
      if (out.binding) throw new LinkError('bad-certs', 'CERTS repeats the LinkBinding certificate');
      if (len !== BINDING_LEN) throw new LinkError('malformed', `LinkBinding of ${len} bytes`);
      const br = new Reader(body, short);
      const magic = br.bytes(8);
      if (!magic.every((x, j) => x === BINDING_MAGIC[j])) throw new LinkError('malformed', 'LinkBinding magic');
      out.binding = {
        identityKey: br.bytes(32).slice(),
        tlsCertHash: br.bytes(32).slice(),
        exporter: br.bytes(32).slice(),
        signature: br.bytes(64).slice(),
      };
    } else {
      throw new LinkError('bad-certs', `unknown certificate type ${type}`);
    }
  }
  noTrailing(r, 'CERTS');
  return out;
}

// ---- AUTH_CHALLENGE --------------------------------------------------------------------------

export interface AuthChallenge {
  challenge: Uint8Array; // 32
  methods: number[];
}

export function encodeAuthChallenge(c: AuthChallenge): Uint8Array {
  if (c.challenge.length !== 32) throw new RangeError('challenge must be 32 bytes');
  if (c.methods.length > 16) throw new RangeError('at most 16 methods');
  const w = new Writer().bytes(c.challenge).u16(c.methods.length);
  for (const m of c.methods) w.u16(m);
  return w.finish();
}

export function decodeAuthChallenge(payload: Uint8Array): AuthChallenge {
  const r = new Reader(payload, short);
  const challenge = r.bytes(32, 'challenge').slice();
  const n = r.u16('method count');
  if (n > 16) throw new LinkError('malformed', `AUTH_CHALLENGE lists ${n} methods`);
  const methods: number[] = [];
  for (let i = 0; i < n; i++) methods.push(r.u16('method'));
  noTrailing(r, 'AUTH_CHALLENGE');
  return { challenge, methods };
}

// ---- AUTHENTICATE (method 3, Ed25519-SHA256-TLSExporter) ------------------------------------

export interface Authenticate {
  initiatorIdentity: Uint8Array; // CID, 32
  responderIdentity: Uint8Array; // SID, 32
  responderLog: Uint8Array; // SLOG: SHA-256 of every byte the responder sent through AUTH_CHALLENGE
  initiatorLog: Uint8Array; // CLOG: SHA-256 of every byte the initiator sent before AUTHENTICATE
  responderCertHash: Uint8Array; // SCERT: SHA-256 of the responder's TLS certificate
  exporter: Uint8Array; // TLSSECRETS: the connection's TLS exporter value
  rand: Uint8Array; // 24 random bytes
  signature: Uint8Array; // 64, by the initiator identity over all previous fields
}

const AUTH_MAGIC = utf8('AUTH0003');
const AUTH_BODY_LEN = 8 + 32 * 6 + 24 + 64;

/** The signed part of an AUTHENTICATE body (everything before the signature). */
export function authenticateSignedPart(a: Omit<Authenticate, 'signature'>): Uint8Array {
  const fields = [a.initiatorIdentity, a.responderIdentity, a.responderLog, a.initiatorLog, a.responderCertHash, a.exporter];
  for (const f of fields) if (f.length !== 32) throw new RangeError('AUTHENTICATE fields are 32 bytes');
  if (a.rand.length !== 24) throw new RangeError('AUTHENTICATE rand is 24 bytes');
  return concatBytes(AUTH_MAGIC, ...fields, a.rand);
}

export function encodeAuthenticate(a: Authenticate): Uint8Array {
  if (a.signature.length !== 64) throw new RangeError('signature must be 64 bytes');
  const body = concatBytes(authenticateSignedPart(a), a.signature);
  return new Writer().u16(AuthMethod.Ed25519TlsExporter).u16(body.length).bytes(body).finish();
}

export function decodeAuthenticate(payload: Uint8Array): Authenticate {
  const r = new Reader(payload, short);
  const type = r.u16('auth type');
  if (type !== AuthMethod.Ed25519TlsExporter) throw new LinkError('malformed', `unsupported AUTHENTICATE type ${type}`);
  const len = r.u16('auth length');
  if (len !== AUTH_BODY_LEN) throw new LinkError('malformed', `AUTHENTICATE body of ${len} bytes`);
  const b = new Reader(r.bytes(len, 'auth body'), short);
  noTrailing(r, 'AUTHENTICATE');
  const magic = b.bytes(8);
  if (!magic.every((x, j) => x === AUTH_MAGIC[j])) throw new LinkError('malformed', 'AUTHENTICATE magic');
  return {
    initiatorIdentity: b.bytes(32).slice(),
    responderIdentity: b.bytes(32).slice(),
    responderLog: b.bytes(32).slice(),
    initiatorLog: b.bytes(32).slice(),
    responderCertHash: b.bytes(32).slice(),
    exporter: b.bytes(32).slice(),
    rand: b.bytes(24).slice(),
    signature: b.bytes(64).slice(),
  };
}
