/**
 * Fuzz targets for the oracle's decoders and its usage normaliser, for the shared runner
 * (register them in test/fuzz/targets.ts; see test/fuzz/target.ts for the contract). Not a test
 * file.
 *
 *   oracle-credential   parseCredential, then (for one input in eight, chosen by the input's
 *                       hash) verifyCredential at the fixture time for the fixture oracle
 *   oracle-peer-record  parseOraclePeerRecord, then (one in eight) verifyOraclePeerRecord
 *   oracle-usage        the input as 16-byte steps, each a usage report submitted to a
 *                       UsageLedger (layout below); stops at the first refusal ('rejected'),
 *                       then closes every slot
 *
 * StreamError (or a refused report) means 'rejected'. What a decoder accepts keeps its bytes; a
 * verified credential or record is what its signer makes for its fields (Ed25519 is
 * deterministic); the ledger never credits more than the caps and the rule allow, and a refused
 * report changes nothing. A broken invariant, or any other exception, is a crash.
 */
import { encodeOraclePeerRecord, parseOraclePeerRecord, verifyOraclePeerRecord } from '../../node-core/io/node/oracle-service';
import { createCredential, parseCredential, verifyCredential } from '../../node-core/stream/credential';
import { StreamError } from '../../node-core/stream/errors';
import type { UsageReport } from '../../node-core/stream/messages';
import { UsageLedger, type UsageSource } from '../../node-core/stream/usage';
import { equalBytes, toHex } from '../../node-core/util/bytes';
import { hashBytes } from '../fuzz/prng';
import type { FuzzTarget } from '../fuzz/target';
import { ALICE, AUTHORITY_TRUST, BOB, MINUTE, NETWORK, ORACLE_1, ORACLE_2, T0, bytesOf, certificate, keyPair, suite, type KeyPair } from './helpers';

export type { FuzzTarget } from '../fuzz/target';

function invariant(ok: boolean, what: string): void {
  if (!ok) throw new Error(`invariant broken: ${what}`);
}

function rejectOnStreamError(f: () => void): 'accepted' | 'rejected' {
  try {
    f();
  } catch (e) {
    if (e instanceof StreamError) return 'rejected';
    throw e;
  }
  return 'accepted';
}

function tolerate(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof StreamError)) throw e;
  }
}

const PEOPLE: readonly KeyPair[] = [ALICE, BOB];
const ORACLES: readonly KeyPair[] = [ORACLE_1, ORACLE_2];

function secretOf(list: readonly KeyPair[], key: Uint8Array): Uint8Array | null {
  return list.find((k) => equalBytes(k.publicKey, key))?.secretKey ?? null;
}

const CERTS = new Map<string, Uint8Array>();
/** One fixed certificate per person (fixed nonce), so seeds are the same every run. */
function certOf(k: KeyPair): Uint8Array {
  let c = CERTS.get(k.label);
  if (c === undefined) {
    c = certificate(k, { nonce: bytesOf(16, k.label.length) });
    CERTS.set(k.label, c);
  }
  return c;
}

const credentialTarget: FuzzTarget = {
  seeds: () => [
    createCredential(suite, { certificate: certOf(ALICE), oracle: ORACLE_1.publicKey, request: { bitrate: 1000, maxViewers: 2, public: false }, createdAt: T0, nonce: bytesOf(16, 1) }, ALICE.secretKey),
    createCredential(suite, { certificate: certOf(BOB), oracle: ORACLE_2.publicKey, request: { bitrate: 9, maxViewers: 9, public: true }, createdAt: T0 - MINUTE, nonce: bytesOf(16, 2) }, BOB.secretKey),
  ],
  run: (input) =>
    rejectOnStreamError(() => {
      const u = parseCredential(input);
      invariant(toHex(u.bytes) === toHex(input), 'a parsed credential keeps its bytes');
      if ((hashBytes(input) & 7) !== 0) return;
      tolerate(() => {
        const v = verifyCredential(suite, u, T0, { network: NETWORK, oracle: ORACLE_1.publicKey, authority: AUTHORITY_TRUST });
        const secret = secretOf(PEOPLE, v.subject);
        invariant(secret !== null, "a verified credential is signed by its certificate's subject");
        const again = createCredential(suite, { certificate: u.claimed.certificate.bytes, oracle: v.oracle, request: v.request, createdAt: v.createdAt, nonce: v.nonce }, secret!);
        invariant(toHex(again) === toHex(input), 'a verified credential is what its subject makes for its fields');
      });
    }),
};

const PEER_TRUST = { network: NETWORK, oracleKeys: ORACLES.map((o) => o.publicKey), self: keyPair('fuzz-self').publicKey };

const peerRecordTarget: FuzzTarget = {
  seeds: () => [
    encodeOraclePeerRecord(suite, { network: NETWORK, sentAt: T0, receipts: [{ receiptId: bytesOf(16, 1), identity: ALICE.publicKey, issuedAt: T0, expiresAt: T0 + MINUTE }] }, ORACLE_1.secretKey),
    encodeOraclePeerRecord(
      suite,
      {
        network: NETWORK,
        sentAt: T0 - MINUTE,
        receipts: [
          { receiptId: bytesOf(16, 2), identity: BOB.publicKey, issuedAt: T0, expiresAt: T0 + 1 },
          { receiptId: bytesOf(16, 3), identity: ALICE.publicKey, issuedAt: 0, expiresAt: T0 },
        ],
      },
      ORACLE_2.secretKey,
    ),
  ],
  run: (input) =>
    rejectOnStreamError(() => {
      const u = parseOraclePeerRecord(input);
      invariant(toHex(u.bytes) === toHex(input), 'a parsed peer record keeps its bytes');
      invariant(u.claimed.receipts.every((r) => r.expiresAt > r.issuedAt), 'every shared receipt expires after its issue');
      if ((hashBytes(input) & 7) !== 0) return;
      tolerate(() => {
        const v = verifyOraclePeerRecord(suite, u, T0, PEER_TRUST);
        const secret = secretOf(ORACLES, v.sender);
        invariant(secret !== null, 'a verified peer record comes from a configured oracle');
        const again = encodeOraclePeerRecord(suite, { network: v.network, sentAt: v.sentAt, receipts: v.receipts }, secret!);
        invariant(toHex(again) === toHex(input), 'a verified peer record is what its oracle signs for its fields');
      });
    }),
};

/*
 * oracle-usage step (16 bytes):
 *   0     flags: bit 0 role (0 viewer, 1 distribution), bits 1-2 node (of 3), bit 3 session (of 2)
 *   1     slot offset (0..3) of the report's period
 *   2-3   start within the slot, seconds (mod 60)
 *   4     duration, seconds
 *   5-8   downBytes (u32)
 *   9-11  upBytes (u24)
 *   12-13 clock advance, seconds, before the step
 *   14-15 unused
 */
const PERIOD = 60_000;
const RATE = 8_000_000;
const BASE = T0 - (T0 % PERIOD);
const NODES = [bytesOf(32, 0xa1), bytesOf(32, 0xb2), bytesOf(32, 0xc3)];
const SESSIONS = [bytesOf(16, 0x51), bytesOf(16, 0x52)];

function u(input: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + input[at + i]!;
  return v;
}

const usageTarget: FuzzTarget = {
  seeds: () => {
    const step = (flags: number, slot: number, start: number, dur: number, down: number, up: number, advance: number) =>
      Uint8Array.of(flags, slot, start >> 8, start & 0xff, dur, down >>> 24, (down >>> 16) & 0xff, (down >>> 8) & 0xff, down & 0xff, up >> 16, (up >> 8) & 0xff, up & 0xff, advance >> 8, advance & 0xff, 0, 0);
    const seq = (...steps: Uint8Array[]) => {
      const out = new Uint8Array(steps.length * 16);
      steps.forEach((s, i) => out.set(s, i * 16));
      return out;
    };
    return [
      seq(step(0, 0, 0, 60, 1_000_000, 100, 60), step(1, 0, 0, 60, 1_050_000, 100, 0)),
      seq(step(0, 1, 0, 30, 9_000_000, 0, 120), step(3, 1, 0, 60, 90_000_000, 5, 0), step(5, 1, 10, 20, 100, 0, 0), step(8, 1, 0, 60, 7, 7, 0)),
    ];
  },
  run: (input) => {
    const ledger = new UsageLedger({ periodMs: PERIOD, maxRateBps: RATE, slackBytes: 1000 });
    let now = BASE;
    let outcome: 'accepted' | 'rejected' = 'accepted';
    for (let at = 0; at + 16 <= input.length; at += 16) {
      now += u(input, at + 12, 2) * 1000;
      const flags = input[at]!;
      const role = (flags & 1) === 0 ? 'viewer' : 'distribution';
      const periodStart = BASE + (input[at + 1]! & 3) * PERIOD + (u(input, at + 2, 2) % 60) * 1000;
      const report: UsageReport = {
        type: 'usage-report',
        sessionId: SESSIONS[(flags >> 3) & 1]!,
        role,
        periodStart,
        periodEnd: periodStart + input[at + 4]! * 1000,
        downBytes: u(input, at + 5, 4),
        upBytes: u(input, at + 9, 3),
      };
      const source: UsageSource = role === 'viewer' ? { role } : { role, node: NODES[((flags >> 1) & 3) % 3]! };
      const before = ledger.size;
      const r = ledger.submit(report, source, now);
      if (!r.ok) {
        invariant(ledger.size === before, 'a refused report opens no slot');
        outcome = 'rejected';
        break;
      }
      const cap = Math.floor((RATE * (report.periodEnd - report.periodStart)) / 8000);
      invariant(r.downBytes <= Math.min(cap, report.downBytes) && r.upBytes <= Math.min(cap, report.upBytes), 'a piece is clipped to the rate cap');
    }
    for (const slot of ledger.finalizeAll()) {
      const viewer = slot.viewer;
      const nodes = slot.distribution.reduce((a, d) => ({ downBytes: a.downBytes + d.downBytes, upBytes: a.upBytes + d.upBytes }), { downBytes: 0, upBytes: 0 });
      for (const k of ['downBytes', 'upBytes'] as const) {
        invariant(slot.accepted[k] <= ledger.slotCapBytes, 'no slot is credited more than the slot cap');
        if (viewer !== null && slot.distribution.length > 0) {
          const lo = Math.min(viewer[k], nodes[k]);
          invariant(slot.accepted[k] <= lo + Math.floor(lo / 10) + 1000, 'both sides: at most the smaller claim plus the tolerance');
          invariant(slot.accepted[k] <= Math.max(viewer[k], nodes[k]), 'both sides: at most the larger claim');
        } else {
          invariant(slot.status === 'unconfirmed', 'one side only is unconfirmed');
          invariant(slot.accepted[k] <= Math.floor(ledger.slotCapBytes / 4), 'one side only: at most its share of the cap');
        }
      }
      invariant((slot.status === 'disputed') === slot.disputes.length > 0, 'disputed exactly when there is a dispute');
    }
    return outcome;
  },
};

export const oracleFuzzTargets: Record<string, FuzzTarget> = {
  'oracle-credential': credentialTarget,
  'oracle-peer-record': peerRecordTarget,
  'oracle-usage': usageTarget,
};
