/**
 * Shared fixtures for the stream tests: keys from fixed seeds, oracle trust, builders for
 * receipts, viewer IDs, invites and sample messages of every kind, and the error assertion.
 * Test helper, not a test file.
 */
import { expect } from 'vitest';
import { nobleSuite } from '../../node-core/crypto/noble';
import {
  StreamError,
  issueReceipt,
  issueViewerId,
  makePuzzleChallenge,
  type OracleTrust,
  type StreamErrorCode,
  type StreamKeys,
  type StreamMessage,
} from '../../node-core/stream';
import { utf8 } from '../../node-core/util/bytes';

export const suite = nobleSuite;
export const NOW = 1_700_000_000_000;
export const MINUTE = 60_000;
export const NETWORK = 'devnet';

export interface KeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function keyPair(label: string): KeyPair {
  const secretKey = suite.sha256(utf8(`psp-stream-test-key:${label}`));
  return { secretKey, publicKey: suite.ed25519PublicKey(secretKey) };
}

export function bytesOf(length: number, fill: number): Uint8Array {
  return new Uint8Array(length).fill(fill);
}

export const ORACLE = keyPair('oracle-1');
export const ORACLE_2 = keyPair('oracle-2');
export const STRANGER = keyPair('not-an-oracle');
export const SIGNER = keyPair('stream-group-signing');
export const PUZZLE_SECRET = bytesOf(32, 0x5e);
export const STREAM_ID = Uint8Array.from({ length: 16 }, (_, i) => 0x40 + i);
export const LANDING = keyPair('landing').publicKey;
export const DIST = keyPair('distribution').publicKey;

export const TRUST: OracleTrust = { network: NETWORK, oracleKeys: [ORACLE_2.publicKey, ORACLE.publicKey] };

export const ALLOWED = { maxBitrate: 4_000_000, maxViewers: 500, publicAllowed: true } as const;

export function receipt(overrides: Partial<Parameters<typeof issueReceipt>[1]> = {}, key: KeyPair = ORACLE): Uint8Array {
  return issueReceipt(
    suite,
    { network: NETWORK, issuedAt: NOW, expiresAt: NOW + 10 * MINUTE, allowed: ALLOWED, receiptId: bytesOf(16, 0x11), ...overrides },
    key.secretKey,
  );
}

export function viewerId(overrides: Partial<Parameters<typeof issueViewerId>[1]> = {}, key: KeyPair = ORACLE): Uint8Array {
  return issueViewerId(
    suite,
    { network: NETWORK, issuedAt: NOW, expiresAt: NOW + 60 * MINUTE, sessionId: bytesOf(16, 0x22), ...overrides },
    key.secretKey,
  );
}

export function challenge(difficulty = 8): Uint8Array {
  return makePuzzleChallenge(suite, PUZZLE_SECRET, { difficulty, now: NOW, salt: bytesOf(16, 0x33) });
}

export const KEYS: StreamKeys = { streamKey: bytesOf(32, 0x77), signingKey: SIGNER.publicKey, epoch: 3, suite: 4 };

/** One sample of every message kind (several of some), for round trips and fuzz seeds. */
export function sampleMessages(): StreamMessage[] {
  const r = receipt();
  const id = viewerId();
  return [
    { type: 'create-stream', receipt: r, params: { bitrate: 2_200_000, maxViewers: 100 }, distribution: [], public: null },
    {
      type: 'create-stream',
      receipt: r,
      params: { bitrate: 1, maxViewers: 0xffffffff },
      distribution: [
        { identity: DIST, address: { host: '10.0.0.7', port: 7001 } },
        { identity: LANDING, address: { host: '2001:db8::1', port: 443 } },
      ],
      public: { title: 'Évening stream 🎥', description: 'line one\nline two', keys: KEYS },
    },
    { type: 'created', streamId: STREAM_ID },
    { type: 'end-stream', streamId: STREAM_ID },
    { type: 'join', streamId: STREAM_ID, viewerId: id },
    { type: 'joined', streamId: STREAM_ID },
    { type: 'refused', reason: 'full', streamId: STREAM_ID },
    { type: 'refused', reason: 'bad-receipt', streamId: null },
    { type: 'leave', streamId: STREAM_ID },
    { type: 'redirect', streamId: STREAM_ID, node: DIST, address: { host: '192.168.1.20', port: 9000 } },
    { type: 'viewer-change', streamId: STREAM_ID, sessionId: bytesOf(16, 0x5e), present: true },
    { type: 'media', streamId: STREAM_ID, groupSeq: 7, frameSeq: 0, keyframe: true, part: 0, parts: 2, payload: bytesOf(40, 0xaa) },
    { type: 'media', streamId: STREAM_ID, groupSeq: 7, frameSeq: 5, keyframe: false, part: 0, parts: 1, payload: bytesOf(1, 0xbb) },
    { type: 'group-signature', streamId: STREAM_ID, groupSeq: 7, throughFrame: 5, signature: bytesOf(64, 0xcc) },
    { type: 'stream-report', streamId: STREAM_ID, viewers: 42, nodes: 3, bytesIn: 1_000_000, bytesOut: 2 ** 40, framesDropped: 12 },
    {
      type: 'usage-report',
      sessionId: bytesOf(16, 0x22),
      role: 'viewer',
      periodStart: NOW,
      periodEnd: NOW + MINUTE,
      downBytes: 16_500_000,
      upBytes: 2_000,
    },
    { type: 'usage-report', sessionId: bytesOf(16, 0x23), role: 'distribution', periodStart: NOW, periodEnd: NOW, downBytes: 0, upBytes: 0 },
    {
      type: 'attach-distribution',
      streamId: STREAM_ID,
      node: DIST,
      parent: LANDING,
      parentAddress: { host: '10.0.0.1', port: 7000 },
      capacity: 50,
    },
    { type: 'detach-distribution', streamId: STREAM_ID, node: DIST },
    { type: 'relay-join', streamId: STREAM_ID },
    { type: 'challenge-request' },
    { type: 'challenge', challenge: challenge() },
    { type: 'solution', challenge: challenge(), nonce: 0xfedcba9876543210n },
    { type: 'viewer-id', viewerId: id },
    { type: 'receipt-request', params: { bitrate: 3_000_000, maxViewers: 10 }, public: true, credential: bytesOf(300, 0x44) },
    { type: 'receipt-request', params: { bitrate: 3_000_000, maxViewers: 10 }, public: false, credential: new Uint8Array(0) },
    { type: 'receipt', receipt: r },
  ];
}

/** Asserts that `f` throws a StreamError with `code`. */
export function expectCode(f: () => unknown, code: StreamErrorCode): void {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected StreamError ${code}`).toBeInstanceOf(StreamError);
  expect((thrown as StreamError).code).toBe(code);
}
