/**
 * Fuzz targets for the decoders of node-core/dht, for the shared runner (register them in
 * test/fuzz/targets.ts; see test/fuzz/target.ts for the contract). Not a test file.
 *
 *   dht-message    decodeDhtMessage
 *   dht-record     parseRecord, then (for one input in eight, chosen by the input's hash)
 *                  verifyRecord at the corpus time with the corpus policy
 *   dht-presence   decodePresenceValue
 *
 * DhtError from a parser means 'rejected'; from the verifier it is expected and ignored (the
 * input still parsed: 'accepted'). What a parser accepts must re-encode to exactly the input;
 * a broken invariant, or any other exception, is a crash. Verification is sampled because Ed25519
 * in the pure suite is slow next to parsing; the property tests cover it too.
 */
import {
  DhtError,
  decodeDhtMessage,
  decodePresenceValue,
  encodeDhtMessage,
  encodePresenceValue,
  parseOwnerRecord,
  parseRecord,
  verifyRecord,
} from '../../node-core/dht';
import { toHex } from '../../node-core/util/bytes';
import { hashBytes } from '../fuzz/prng';
import type { FuzzTarget } from '../fuzz/target';
import { ALICE, NODE, POLICY } from './corpus';
import { NOW, signedRecord, suite } from './helpers';
import { sampleMessages } from './samples';

export type { FuzzTarget } from '../fuzz/target';

function invariant(ok: boolean, what: string): void {
  if (!ok) throw new Error(`invariant broken: ${what}`);
}

/** Runs `parse`; DhtError means 'rejected'. */
function rejectOnDhtError(parse: () => void): 'accepted' | 'rejected' {
  try {
    parse();
  } catch (e) {
    if (e instanceof DhtError) return 'rejected';
    throw e;
  }
  return 'accepted';
}

const message: FuzzTarget = {
  seeds: () => sampleMessages.map(encodeDhtMessage),
  run: (input) =>
    rejectOnDhtError(() => {
      const m = decodeDhtMessage(input);
      invariant(toHex(encodeDhtMessage(m)) === toHex(input), 'a decoded DHT message re-encodes to its input');
    }),
};

const record: FuzzTarget = {
  seeds: () => [signedRecord(ALICE, NODE), signedRecord(ALICE, NODE, { value: new Uint8Array(0), sequence: 9n })],
  run: (input) => {
    const outcome = rejectOnDhtError(() => {
      const u = parseRecord(input);
      invariant(toHex(u.bytes) === toHex(input), 'a parsed record keeps its bytes');
      invariant(toHex(parseOwnerRecord(u.ownerSigned).bytes) === toHex(u.ownerSigned), 'the owner-signed part parses on its own');
      if ((hashBytes(input) & 7) === 0) {
        try {
          const v = verifyRecord(suite, u, NOW, POLICY);
          invariant(toHex(v.bytes) === toHex(input), 'a verified record keeps its bytes');
        } catch (e) {
          if (!(e instanceof DhtError)) throw e;
        }
      }
    });
    return outcome;
  },
};

const presence: FuzzTarget = {
  seeds: () => [
    encodePresenceValue({
      points: [
        { nodeIdentity: ALICE.publicKey, address: { host: '10.1.2.3', port: 4 } },
        { nodeIdentity: NODE.publicKey, address: { host: '2001:db8::7', port: 7000 } },
      ],
      announcementKey: new Uint8Array(32).fill(5),
      public: false,
      acceptsDirect: true,
      version: 1,
    }),
  ],
  run: (input) =>
    rejectOnDhtError(() => {
      const v = decodePresenceValue(input);
      invariant(toHex(encodePresenceValue(v)) === toHex(input), 'a decoded presence value re-encodes to its input');
    }),
};

export const dhtFuzzTargets: Record<string, FuzzTarget> = {
  'dht-message': message,
  'dht-record': record,
  'dht-presence': presence,
};
