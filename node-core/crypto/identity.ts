/**
 * Identity strings (PSP overview §4): `<namespace>.<app>.account.<base58 public key>`,
 * e.g. `peerstream.client.account.<base58>`, where the key is a participant's 32-byte Ed25519
 * identity key written in base58 with the Bitcoin alphabet.
 *
 * Our rules (stricter than the overview, which gives only an example):
 * - namespace and app: 1..32 characters of [a-z0-9-], not starting or ending with '-';
 * - the third segment is exactly `account`;
 * - the key is canonical base58 (re-encoding the decoded bytes gives the same text), decodes to
 *   exactly 32 bytes, and is a canonical encoding of an Ed25519 point that is not of small order
 *   (RFC 8032 §5.1.3; a small-order key could never produce a signature we accept);
 * - at most 128 characters in all, no whitespace.
 * The reference implementation appends a checksum to the key; this format does not.
 *
 * `parseIdentity` throws only `IdentityError` for a malformed string (TypeError for a non-string).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { base58 } from '@scure/base';
import { assertBytes } from '../util/bytes';
import { isSmallOrderEncoding } from './ed25519-strict';

export type IdentityErrorCode =
  | 'bad-format'
  | 'bad-namespace'
  | 'bad-app'
  | 'bad-kind'
  | 'bad-key-encoding'
  | 'bad-key-length'
  | 'bad-key-point'
  | 'too-long';

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
  constructor(
    readonly code: IdentityErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface Identity {
  readonly namespace: string;
  readonly app: string;
  /** The 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** The identity string itself. */
  readonly text: string;
}

export const IDENTITY_KIND = 'account';
export const MAX_IDENTITY_LENGTH = 128;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/** True when `label` is a valid namespace or app label. */
export function isValidIdentityLabel(label: string): boolean {
  return typeof label === 'string' && LABEL.test(label);
}

/** True when `key` is a canonical, decodable Ed25519 point encoding that is not of small order. */
function isUsableEd25519Key(key: Uint8Array): boolean {
  if (isSmallOrderEncoding(key)) return false;
  try {
    ed25519.Point.fromBytes(key, false); // strict: y < p, on the curve, no x = 0 with sign bit
    return true;
  } catch {
    return false;
  }
}

export function formatIdentity(parts: { namespace: string; app: string; publicKey: Uint8Array }): string {
  if (typeof parts !== 'object' || parts === null) throw new TypeError('formatIdentity: parts must be an object');
  const { namespace, app, publicKey } = parts;
  if (typeof namespace !== 'string') throw new TypeError('namespace must be a string');
  if (typeof app !== 'string') throw new TypeError('app must be a string');
  assertBytes(publicKey, 'publicKey', 32);
  if (!LABEL.test(namespace)) {
    throw new RangeError(`namespace must be 1..32 characters of [a-z0-9-], not starting or ending with '-'`);
  }
  if (!LABEL.test(app)) throw new RangeError(`app must be 1..32 characters of [a-z0-9-], not starting or ending with '-'`);
  if (!isUsableEd25519Key(publicKey)) throw new RangeError('publicKey is not a usable Ed25519 public key');
  // Longest possible result: 32 + 1 + 32 + 1 + 7 + 1 + 44 = 118 characters, within the limit.
  return `${namespace}.${app}.${IDENTITY_KIND}.${base58.encode(publicKey)}`;
}

export function parseIdentity(s: string): Identity {
  if (typeof s !== 'string') throw new TypeError('parseIdentity: s must be a string');
  if (s.length > MAX_IDENTITY_LENGTH) {
    throw new IdentityError('too-long', `identity is ${s.length} characters; at most ${MAX_IDENTITY_LENGTH} allowed`);
  }
  if (/\s/.test(s)) throw new IdentityError('bad-format', 'identity contains whitespace');
  const parts = s.split('.');
  if (parts.length !== 4) {
    throw new IdentityError('bad-format', `identity must have 4 dot-separated parts, has ${parts.length}`);
  }
  const [namespace, app, kind, keyText] = parts as [string, string, string, string];
  if (!LABEL.test(namespace)) {
    throw new IdentityError('bad-namespace', `namespace must be 1..32 characters of [a-z0-9-], not starting or ending with '-'`);
  }
  if (!LABEL.test(app)) {
    throw new IdentityError('bad-app', `app must be 1..32 characters of [a-z0-9-], not starting or ending with '-'`);
  }
  if (kind !== IDENTITY_KIND) throw new IdentityError('bad-kind', `third part must be '${IDENTITY_KIND}'`);
  if (keyText.length === 0) throw new IdentityError('bad-key-encoding', 'public key is empty');
  let key: Uint8Array;
  try {
    key = base58.decode(keyText);
  } catch {
    throw new IdentityError('bad-key-encoding', 'public key is not base58 (Bitcoin alphabet)');
  }
  if (base58.encode(key) !== keyText) {
    throw new IdentityError('bad-key-encoding', 'public key is not in canonical base58');
  }
  if (key.length !== 32) throw new IdentityError('bad-key-length', `public key must be 32 bytes, is ${key.length}`);
  if (!isUsableEd25519Key(key)) throw new IdentityError('bad-key-point', 'public key is not a usable Ed25519 point');
  return { namespace, app, publicKey: key, text: s };
}
