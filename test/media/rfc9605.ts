/**
 * Loads the RFC 9605 Appendix C test vectors (test/vectors/rfc9605/, provenance in its README).
 * Test helper, not a test file.
 *
 * The published JSON writes KID and CTR as JSON numbers up to 2^64 - 1, beyond what a JavaScript
 * number holds exactly, so the file is read as text and those two fields are turned into strings
 * before parsing, then into bigints. The file itself stays byte for byte as published.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SFrameSuiteId } from '../../node-core/media';
import { fromHex } from '../../node-core/util/bytes';

export const VECTOR_FILE = fileURLToPath(new URL('../vectors/rfc9605/test-vectors.json', import.meta.url));

export interface HeaderVector {
  kid: bigint;
  ctr: bigint;
  encoded: string;
}

export interface AeadVector {
  cipher_suite: SFrameSuiteId;
  key: string;
  enc_key: string;
  auth_key: string;
  nonce: string;
  aad: string;
  pt: string;
  ct: string;
}

export interface SFrameVector {
  cipher_suite: SFrameSuiteId;
  kid: bigint;
  ctr: bigint;
  base_key: string;
  sframe_key_label: string;
  sframe_salt_label: string;
  sframe_secret: string;
  sframe_key: string;
  sframe_salt: string;
  metadata: string;
  nonce: string;
  aad: string;
  pt: string;
  ct: string;
}

interface RawFile {
  header: { kid: string; ctr: string; encoded: string }[];
  aes_ctr_hmac: AeadVector[];
  sframe: (Omit<SFrameVector, 'kid' | 'ctr'> & { kid: string; ctr: string })[];
}

export function readVectorText(): string {
  return readFileSync(VECTOR_FILE, 'utf8');
}

function load(): { header: HeaderVector[]; aead: AeadVector[]; sframe: SFrameVector[] } {
  const text = readVectorText();
  const quoted = text.replace(/"(kid|ctr)":\s*(\d+)/g, '"$1": "$2"');
  const raw = JSON.parse(quoted) as RawFile;
  return {
    header: raw.header.map((h) => ({ kid: BigInt(h.kid), ctr: BigInt(h.ctr), encoded: h.encoded })),
    aead: raw.aes_ctr_hmac,
    sframe: raw.sframe.map((v) => ({ ...v, kid: BigInt(v.kid), ctr: BigInt(v.ctr) })),
  };
}

export const vectors = load();

/** Strict hex for vector fields (lowercase, even length). */
export const hex = (s: string): Uint8Array => {
  if (!/^([0-9a-f]{2})*$/.test(s)) throw new Error(`bad hex in vector: ${s.slice(0, 20)}`);
  return fromHex(s);
};
