/**
 * Fuzz targets for the decoders and the fan-out relay of node-core/stream, for the shared runner
 * (register them in test/fuzz/targets.ts; see test/fuzz/target.ts for the contract). Not a test
 * file.
 *
 *   stream-message     decodeStreamMessage
 *   stream-receipt     parseReceipt, then (for one input in eight, chosen by the input's hash)
 *                      verifyReceipt at the fixture time with the fixture oracles
 *   stream-viewer-id   parseViewerId, then (one in eight) verifyViewerId
 *   stream-puzzle      the first 58 bytes as a challenge, the next 8 as a nonce:
 *                      checkPuzzleSolution with the fixture secret
 *   stream-invite      decodeInvite
 *   stream-media-frame decodeMediaFrame (the plaintext inside a stream's SFrame frames)
 *   stream-public      decodePublicStreams (a landing node's public-streams DHT value)
 *   stream-fanout      the input as a sequence of `length u16 | message` records pushed into a
 *                      FanoutRelay with three subscribers (one reading, one slow, one stuck) and
 *                      a late joiner; stops at the first StreamError
 *
 * StreamError means 'rejected' (for the verifiers it is expected and the input counts as
 * accepted). What a decoder accepts must re-encode to exactly its input; a verified document must
 * be re-issued bit for bit by its oracle (Ed25519 is deterministic); a solution the oracle accepts
 * must have the work; the relay must forward only bytes it was given, keep its bounds and its
 * counters consistent. A broken invariant, or any other exception, is a crash.
 */
import {
  FanoutRelay,
  StreamError,
  checkPuzzleSolution,
  decodeInvite,
  decodeStreamMessage,
  encodeInvite,
  encodeStreamMessage,
  issueReceipt,
  issueViewerId,
  leadingZeroBits,
  parsePuzzleChallenge,
  parseReceipt,
  parseViewerId,
  solvePuzzle,
  verifyReceipt,
  verifyViewerId,
  type FanoutAction,
} from '../../node-core/stream';
import { Writer, concatBytes, equalBytes, toHex } from '../../node-core/util/bytes';
import { decodeMediaFrame, encodeMediaFrame } from '../../node-core/stream/media-frame';
import { decodePublicStreams, encodePublicStreams } from '../../node-core/stream/public-streams';
import { hashBytes } from '../fuzz/prng';
import type { FuzzTarget } from '../fuzz/target';
import {
  KEYS,
  LANDING,
  NOW,
  ORACLE,
  ORACLE_2,
  PUZZLE_SECRET,
  STREAM_ID,
  TRUST,
  challenge,
  receipt,
  sampleMessages,
  suite,
  viewerId,
} from './helpers';

export type { FuzzTarget } from '../fuzz/target';

function invariant(ok: boolean, what: string): void {
  if (!ok) throw new Error(`invariant broken: ${what}`);
}

/** Runs `f`; StreamError means 'rejected'. */
function rejectOnStreamError(f: () => void): 'accepted' | 'rejected' {
  try {
    f();
  } catch (e) {
    if (e instanceof StreamError) return 'rejected';
    throw e;
  }
  return 'accepted';
}

/** Runs a verifier whose StreamError is an expected outcome. */
function tolerate(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof StreamError)) throw e;
  }
}

function secretOf(oracle: Uint8Array): Uint8Array | null {
  if (equalBytes(oracle, ORACLE.publicKey)) return ORACLE.secretKey;
  if (equalBytes(oracle, ORACLE_2.publicKey)) return ORACLE_2.secretKey;
  return null;
}

const message: FuzzTarget = {
  seeds: () => sampleMessages().map(encodeStreamMessage),
  run: (input) =>
    rejectOnStreamError(() => {
      const m = decodeStreamMessage(input);
      invariant(toHex(encodeStreamMessage(m)) === toHex(input), 'a decoded stream message re-encodes to its input');
    }),
};

const receiptTarget: FuzzTarget = {
  seeds: () => [receipt(), receipt({ network: 'n', allowed: { maxBitrate: 1, maxViewers: 1, publicAllowed: false } }, ORACLE_2)],
  run: (input) =>
    rejectOnStreamError(() => {
      const u = parseReceipt(input);
      invariant(toHex(u.bytes) === toHex(input), 'a parsed receipt keeps its bytes');
      if ((hashBytes(input) & 7) !== 0) return;
      tolerate(() => {
        const v = verifyReceipt(suite, u, NOW, TRUST);
        const secret = secretOf(v.oracle);
        invariant(secret !== null, 'a verified receipt comes from a configured oracle');
        const again = issueReceipt(suite, { network: v.network, issuedAt: v.issuedAt, expiresAt: v.expiresAt, allowed: v.allowed, receiptId: v.receiptId }, secret!);
        invariant(toHex(again) === toHex(input), 'a verified receipt is what its oracle issues for its fields');
      });
    }),
};

const viewerIdTarget: FuzzTarget = {
  seeds: () => [viewerId(), viewerId({ network: 'x', expiresAt: NOW + 1 }, ORACLE_2)],
  run: (input) =>
    rejectOnStreamError(() => {
      const u = parseViewerId(input);
      invariant(toHex(u.bytes) === toHex(input), 'a parsed viewer ID keeps its bytes');
      if ((hashBytes(input) & 7) !== 0) return;
      tolerate(() => {
        const v = verifyViewerId(suite, u, NOW, TRUST);
        const secret = secretOf(v.oracle);
        invariant(secret !== null, 'a verified viewer ID comes from a configured oracle');
        const again = issueViewerId(suite, { network: v.network, issuedAt: v.issuedAt, expiresAt: v.expiresAt, sessionId: v.sessionId }, secret!);
        invariant(toHex(again) === toHex(input), 'a verified viewer ID is what its oracle issues for its fields');
      });
    }),
};

const puzzle: FuzzTarget = {
  seeds: () => {
    const out: Uint8Array[] = [];
    for (const d of [1, 4, 8]) {
      const c = challenge(d);
      out.push(concatBytes(c, new Writer().u64(solvePuzzle(suite, c)!).finish()));
    }
    return out;
  },
  run: (input) =>
    rejectOnStreamError(() => {
      const c = input.subarray(0, 58);
      const rest = input.subarray(58);
      if (rest.length !== 8) {
        // Not a challenge and a nonce: the challenge alone must still parse strictly.
        parsePuzzleChallenge(input);
        return;
      }
      let nonce = 0n;
      for (const b of rest) nonce = (nonce << 8n) | BigInt(b);
      const checked = checkPuzzleSolution(suite, PUZZLE_SECRET, c, nonce, NOW);
      invariant(leadingZeroBits(suite.sha256(input)) >= checked.difficulty, 'an accepted solution has the work');
    }),
};

const invite: FuzzTarget = {
  seeds: () => [
    encodeInvite({ streamId: STREAM_ID, landing: LANDING, address: { host: '10.0.0.1', port: 7000 }, keys: KEYS }),
    encodeInvite({ streamId: STREAM_ID, landing: LANDING, address: { host: '2001:db8::9', port: 1 }, keys: { ...KEYS, suite: 1, epoch: 0xffffffff } }),
  ],
  run: (input) =>
    rejectOnStreamError(() => {
      const v = decodeInvite(input);
      invariant(toHex(encodeInvite(v)) === toHex(input), 'a decoded invite re-encodes to its input');
    }),
};

const mediaFrame: FuzzTarget = {
  seeds: () => [
    encodeMediaFrame({ track: 'video', keyframe: true, timestampUs: 1, capturedAtMs: NOW, codec: 'vp8', width: 640, height: 360, description: new Uint8Array(0), data: new Uint8Array([1, 2, 3]) }),
    encodeMediaFrame({ track: 'audio', keyframe: false, timestampUs: 20_000, capturedAtMs: NOW, codec: 'opus', sampleRate: 48_000, channels: 2, description: new Uint8Array([9]), data: new Uint8Array([4]) }),
  ],
  run: (input) =>
    rejectOnStreamError(() => {
      const f = decodeMediaFrame(input);
      invariant(toHex(encodeMediaFrame(f)) === toHex(input), 'a decoded media frame re-encodes to its input');
    }),
};

const publicStreams: FuzzTarget = {
  seeds: () => [encodePublicStreams([]), encodePublicStreams([{ streamId: STREAM_ID, keys: KEYS, title: 'A title' }])],
  run: (input) =>
    rejectOnStreamError(() => {
      const v = decodePublicStreams(input);
      invariant(toHex(encodePublicStreams(v)) === toHex(input), 'a decoded public-streams value re-encodes to its input');
    }),
};

function records(messages: Uint8Array[]): Uint8Array {
  const w = new Writer();
  for (const m of messages) w.u16(m.length).bytes(m);
  return w.finish();
}

function media(group: number, frame: number, part = 0, parts = 1, size = 60): Uint8Array {
  return encodeStreamMessage({
    type: 'media',
    streamId: STREAM_ID,
    groupSeq: group,
    frameSeq: frame,
    keyframe: frame === 0,
    part,
    parts,
    payload: new Uint8Array(size).fill(group + frame),
  });
}

function signature(group: number, through: number): Uint8Array {
  return encodeStreamMessage({ type: 'group-signature', streamId: STREAM_ID, groupSeq: group, throughFrame: through, signature: new Uint8Array(64) });
}

const fanout: FuzzTarget = {
  seeds: () => [
    records([media(0, 0), media(0, 1), signature(0, 1), media(0, 2, 0, 2), media(0, 2, 1, 2), media(1, 0), media(1, 3)]),
    records([media(3, 1), media(4, 0, 0, 3, 200), media(4, 0, 1, 3, 200), media(4, 0, 2, 3, 200), signature(4, 0), media(5, 0)]),
  ],
  run: (input) => {
    const relay = new FanoutRelay({ streamId: STREAM_ID, maxInFlightBytes: 300, congestionBytes: 600, maxQueueBytes: 4000, maxGroupCacheBytes: 2000, stallGroups: 2 });
    const pushed = new Set<string>();
    const subscribers = ['reader', 'slow', 'stuck'];
    let acks = 0;
    const apply = (actions: FanoutAction[]): void => {
      for (const a of actions) {
        if (a.type === 'close') {
          invariant(!relay.has(a.subscriber), 'a closed subscriber is removed');
          continue;
        }
        invariant(pushed.has(toHex(a.bytes)), 'the relay sends only bytes it was given');
        if (a.subscriber === 'reader' || (a.subscriber === 'slow' && acks++ % 3 === 0)) apply(relay.acknowledge(a.subscriber));
      }
    };
    for (const s of subscribers) apply(relay.addSubscriber(s));
    let pos = 0;
    let count = 0;
    while (pos < input.length) {
      if (input.length - pos < 2) return 'rejected';
      const len = (input[pos]! << 8) | input[pos + 1]!;
      if (input.length - pos - 2 < len) return 'rejected';
      const msg = input.subarray(pos + 2, pos + 2 + len);
      pos += 2 + len;
      const before = relay.stats();
      let actions: FanoutAction[];
      try {
        actions = relay.push(msg);
      } catch (e) {
        if (!(e instanceof StreamError)) throw e;
        invariant(JSON.stringify(relay.stats()) === JSON.stringify(before), 'a refused message changes nothing');
        return 'rejected';
      }
      pushed.add(toHex(msg));
      apply(actions);
      if (++count === 3 && !relay.has('late')) apply(relay.addSubscriber('late'));
      const st = relay.stats();
      invariant(st.framesIn >= before.framesIn && st.messagesIn >= before.messagesIn, 'input counters only grow');
      invariant(st.framesOut <= st.framesIn * 4, 'no frame goes out more often than there are subscribers');
      for (const s of [...subscribers, 'late']) {
        const ss = relay.subscriberStats(s);
        if (ss === undefined) continue;
        invariant(ss.queuedBytes >= 0 && ss.queuedBytes <= relay.maxQueueBytes, 'a queue stays within its bound');
        invariant(ss.inFlightMessages <= 1 || ss.inFlightBytes <= relay.maxInFlightBytes, 'the in-flight window holds');
        invariant(ss.framesOut <= st.framesIn, 'a subscriber gets no more frames than came in');
      }
    }
    return 'accepted';
  },
};

export const streamFuzzTargets: Record<string, FuzzTarget> = {
  'stream-message': message,
  'stream-receipt': receiptTarget,
  'stream-viewer-id': viewerIdTarget,
  'stream-puzzle': puzzle,
  'stream-invite': invite,
  'stream-media-frame': mediaFrame,
  'stream-public': publicStreams,
  'stream-fanout': fanout,
};
