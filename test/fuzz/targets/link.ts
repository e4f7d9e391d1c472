/**
 * Fuzz target 'link-handshake': the payload codecs of the link handshake cells
 * (node-core/link/messages.ts: VERSIONS, CERTS, AUTH_CHALLENGE, AUTHENTICATE). Each input goes
 * to every decoder; a LinkError means 'rejected'; an accepted payload must re-encode to the
 * same bytes (the codecs are strict, so there is exactly one encoding).
 */
import { LinkError } from '../../../node-core/link/errors';
import {
  decodeAuthChallenge,
  decodeAuthenticate,
  decodeCerts,
  decodeVersions,
  encodeAuthChallenge,
  encodeAuthenticate,
  encodeCerts,
  encodeVersions,
} from '../../../node-core/link/messages';
import { equalBytes } from '../../../node-core/util/bytes';
import type { FuzzTarget } from '../target';

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

function roundTrip<T>(input: Uint8Array, decode: (b: Uint8Array) => T, encode: (v: T) => Uint8Array, what: string): boolean {
  let value: T;
  try {
    value = decode(input);
  } catch (err) {
    if (err instanceof LinkError) return false;
    throw err;
  }
  if (!equalBytes(encode(value), input)) throw new Error(`${what}: accepted payload does not re-encode to the same bytes`);
  return true;
}

export const linkHandshakeTarget: FuzzTarget = {
  seeds: () => [
    encodeVersions([2]),
    encodeVersions([1, 2, 3]),
    encodeCerts({ identity: bytes(32, 1) }),
    encodeCerts({ identity: bytes(32, 1), binding: { identityKey: bytes(32, 1), tlsCertHash: bytes(32, 2), exporter: bytes(32, 3), signature: bytes(64, 4) } }),
    encodeAuthChallenge({ challenge: bytes(32, 5), methods: [3, 2] }),
    encodeAuthenticate({
      initiatorIdentity: bytes(32, 1),
      responderIdentity: bytes(32, 2),
      responderLog: bytes(32, 3),
      initiatorLog: bytes(32, 4),
      responderCertHash: bytes(32, 5),
      exporter: bytes(32, 6),
      rand: bytes(24, 7),
      signature: bytes(64, 8),
    }),
  ],
  run(input) {
    const results = [
      roundTrip(input, decodeVersions, encodeVersions, 'VERSIONS'),
      roundTrip(input, decodeCerts, encodeCerts, 'CERTS'),
      roundTrip(input, decodeAuthChallenge, encodeAuthChallenge, 'AUTH_CHALLENGE'),
      roundTrip(input, decodeAuthenticate, encodeAuthenticate, 'AUTHENTICATE'),
    ];
    return results.some(Boolean) ? 'accepted' : 'rejected';
  },
};
