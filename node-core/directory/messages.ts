/**
 * The discovery protocol's messages, as the bytes a transport carries opaquely (PSP reference
 * application/discovery.md: Discovery Pull, Discovery Directory, Discovery Publish; the Raft
 * packets of discovery/discoveryraft.md are replaced by votes and detached signatures).
 *
 *   type u8 | content
 *   1 publish          node → discovery    u16 length | signed descriptor
 *   2 publish-result   discovery → node    status u8 (0 accepted, else a DirectoryErrorCode, table below)
 *   3 vote             discovery ↔ discovery  u32 length | signed vote
 *   4 signature        discovery ↔ discovery  network | period u64 | bodyDigest 32 | signer 32 | signature 64
 *   5 pull             anyone → any node   network (the reference's "psp-discovery-1.0" version string)
 *   6 consensus        answer to pull; also sent between discovery nodes   u32 length | signed consensus
 *   7 no-consensus     answer to pull when no valid consensus is held      (empty)
 *
 * A `signature` message carries one discovery node's signature over a consensus body named by
 * its SHA-256 digest (`bodyDigest`), so signatures can be exchanged without the body.
 *
 * decodeDiscoveryMessage checks the envelope only (the embedded documents stay bytes for their
 * own parsers). It throws DirectoryError('malformed') and nothing else for bad bytes.
 *
 * Does not: open connections, route, or retry.
 */
import { Writer, assertBytes } from '../util/bytes';
import { NETWORK_FIELD, checkAscii, checkInput, writeAscii, writeTime } from '../util/codec';
import { MAX_SIGNED_CONSENSUS_LENGTH } from './consensus';
import { MAX_SIGNED_DESCRIPTOR_LENGTH } from './descriptor';
import { DIRECTORY_ERROR_CODES, DirectoryError, type DirectoryErrorCode } from './errors';
import { expectEnd, readAscii, readTime, reader } from './internal';
import { MAX_SIGNED_VOTE_LENGTH } from './vote';

export const DiscoveryMessageType = Object.freeze({
  Publish: 1,
  PublishResult: 2,
  Vote: 3,
  Signature: 4,
  Pull: 5,
  Consensus: 6,
  NoConsensus: 7,
} as const);

/** Wire value of each publish-result status. Fixed: never renumber. */
export const PUBLISH_STATUS_CODES: Readonly<Record<'accepted' | DirectoryErrorCode, number>> = Object.freeze({
  accepted: 0,
  malformed: 1,
  'unsupported-version': 2,
  'not-canonical': 3,
  'bad-address': 4,
  'bad-signature': 5,
  'unknown-signer': 6,
  'too-few-signatures': 7,
  expired: 8,
  'not-yet-valid': 9,
  'lifetime-too-long': 10,
  'wrong-network': 11,
  'wrong-period': 12,
  duplicate: 13,
  'limit-exceeded': 14,
});
const STATUS_BY_CODE = new Map<number, 'accepted' | DirectoryErrorCode>(
  (['accepted', ...DIRECTORY_ERROR_CODES] as const).map((s) => [PUBLISH_STATUS_CODES[s], s]),
);

export interface ConsensusSignatureMessage {
  readonly network: string;
  readonly period: number;
  /** SHA-256 of the consensus body the signature is over. */
  readonly bodyDigest: Uint8Array;
  readonly signer: Uint8Array;
  readonly signature: Uint8Array;
}

export type DiscoveryMessage =
  | { readonly type: 'publish'; readonly descriptor: Uint8Array }
  | { readonly type: 'publish-result'; readonly status: 'accepted' | DirectoryErrorCode }
  | { readonly type: 'vote'; readonly vote: Uint8Array }
  | { readonly type: 'signature'; readonly signature: ConsensusSignatureMessage }
  | { readonly type: 'pull'; readonly network: string }
  | { readonly type: 'consensus'; readonly consensus: Uint8Array }
  | { readonly type: 'no-consensus' };

function checkLength(b: Uint8Array, max: number, name: string): void {
  if (b.length > max) throw new RangeError(`${name} is ${b.length} bytes, at most ${max}`);
}

export function encodeDiscoveryMessage(m: DiscoveryMessage): Uint8Array {
  if (typeof m !== 'object' || m === null) throw new TypeError('message must be an object');
  const w = new Writer();
  switch (m.type) {
    case 'publish':
      assertBytes(m.descriptor, 'message.descriptor');
      checkLength(m.descriptor, MAX_SIGNED_DESCRIPTOR_LENGTH, 'message.descriptor');
      return w.u8(DiscoveryMessageType.Publish).u16(m.descriptor.length).bytes(m.descriptor).finish();
    case 'publish-result': {
      const code = PUBLISH_STATUS_CODES[m.status];
      if (code === undefined) throw new RangeError(`message.status ${String(m.status)} is not a known status`);
      return w.u8(DiscoveryMessageType.PublishResult).u8(code).finish();
    }
    case 'vote':
      assertBytes(m.vote, 'message.vote');
      checkLength(m.vote, MAX_SIGNED_VOTE_LENGTH, 'message.vote');
      return w.u8(DiscoveryMessageType.Vote).u32(m.vote.length).bytes(m.vote).finish();
    case 'signature': {
      const s = m.signature;
      if (typeof s !== 'object' || s === null) throw new TypeError('message.signature must be an object');
      w.u8(DiscoveryMessageType.Signature);
      writeAscii(w, s.network, NETWORK_FIELD, 'message.signature.network');
      writeTime(w, s.period, 'message.signature.period');
      assertBytes(s.bodyDigest, 'message.signature.bodyDigest', 32);
      assertBytes(s.signer, 'message.signature.signer', 32);
      assertBytes(s.signature, 'message.signature.signature', 64);
      return w.bytes(s.bodyDigest).bytes(s.signer).bytes(s.signature).finish();
    }
    case 'pull':
      checkAscii(m.network, NETWORK_FIELD, 'message.network');
      w.u8(DiscoveryMessageType.Pull);
      writeAscii(w, m.network, NETWORK_FIELD);
      return w.finish();
    case 'consensus':
      assertBytes(m.consensus, 'message.consensus');
      checkLength(m.consensus, MAX_SIGNED_CONSENSUS_LENGTH, 'message.consensus');
      return w.u8(DiscoveryMessageType.Consensus).u32(m.consensus.length).bytes(m.consensus).finish();
    case 'no-consensus':
      return w.u8(DiscoveryMessageType.NoConsensus).finish();
    default:
      throw new RangeError(`message.type ${String((m as { type: unknown }).type)} is not a discovery message type`);
  }
}

export function decodeDiscoveryMessage(bytes: Uint8Array): DiscoveryMessage {
  checkInput(bytes, 'bytes');
  const what = 'discovery message';
  const r = reader(bytes, what);
  const type = r.u8('type');
  let m: DiscoveryMessage;
  switch (type) {
    case DiscoveryMessageType.Publish: {
      const len = r.u16('descriptor length');
      if (len > MAX_SIGNED_DESCRIPTOR_LENGTH) throw new DirectoryError('malformed', `${what}: descriptor of ${len} bytes is too long`);
      m = { type: 'publish', descriptor: r.bytes(len, 'descriptor').slice() };
      break;
    }
    case DiscoveryMessageType.PublishResult: {
      const code = r.u8('status');
      const status = STATUS_BY_CODE.get(code);
      if (status === undefined) throw new DirectoryError('malformed', `${what}: unknown publish status ${code}`);
      m = { type: 'publish-result', status };
      break;
    }
    case DiscoveryMessageType.Vote: {
      const len = r.u32('vote length');
      if (len > MAX_SIGNED_VOTE_LENGTH) throw new DirectoryError('malformed', `${what}: vote of ${len} bytes is too long`);
      m = { type: 'vote', vote: r.bytes(len, 'vote').slice() };
      break;
    }
    case DiscoveryMessageType.Signature: {
      const network = readAscii(r, NETWORK_FIELD, `${what} network`);
      const period = readTime(r, 'period');
      const bodyDigest = r.bytes(32, 'body digest').slice();
      const signer = r.bytes(32, 'signer').slice();
      const signature = r.bytes(64, 'signature').slice();
      m = { type: 'signature', signature: { network, period, bodyDigest, signer, signature } };
      break;
    }
    case DiscoveryMessageType.Pull:
      m = { type: 'pull', network: readAscii(r, NETWORK_FIELD, `${what} network`) };
      break;
    case DiscoveryMessageType.Consensus: {
      const len = r.u32('consensus length');
      if (len > MAX_SIGNED_CONSENSUS_LENGTH) throw new DirectoryError('malformed', `${what}: consensus of ${len} bytes is too long`);
      m = { type: 'consensus', consensus: r.bytes(len, 'consensus').slice() };
      break;
    }
    case DiscoveryMessageType.NoConsensus:
      m = { type: 'no-consensus' };
      break;
    default:
      throw new DirectoryError('malformed', `${what}: unknown type ${type}`);
  }
  expectEnd(r, what);
  return m;
}
