/**
 * The private invite to a live stream (seed 004 §8.2: "Clients who want to access the stream
 * should obtain both values from the client or group privately over the independent secure
 * channel"; DESIGN §3 "Live streams"). A broadcaster sends it inside an end-to-end chat message;
 * it never travels to a node, so no node learns the stream key.
 *
 * Stream keys (70 bytes), the key material of a stream's SFrame epoch:
 *   streamKey   32   the stream key (node-core/media deriveStreamBaseKey turns it into the epoch's
 *                    SFrame base key, used under KID = epoch)
 *   signingKey  32   the stream's Ed25519 group-signing public key: an ephemeral key made for this
 *                    stream, never the broadcaster's identity key (group.ts)
 *   epoch       u32  the key epoch
 *   suite       u16  SFrame cipher suite, 1..5 (RFC 9605 §8.1)
 *
 * Invite (format 1, 126 bytes with an IPv4 address, 138 with IPv6):
 *   format      u8 = 1
 *   streamId    16
 *   landing     32   Ed25519 identity key of the landing node
 *   address     family u8 (4|6) | 4 or 16 bytes | port u16   where the landing node listens
 *   keys        70   stream keys, as above
 *
 * `decodeInvite` throws only StreamError; the encoders throw TypeError/RangeError naming the
 * field. A public stream carries the same stream keys in its public metadata (messages.ts):
 * whoever may watch a public stream may read its key.
 *
 * Does not: send or store invites (the chat does), or verify group signatures (group.ts).
 */
import type { NodeAddress } from '../directory/address';
import {
  SFRAME_SUITE,
  SFrameContext,
  deriveStreamBaseKey,
  streamKeyId,
  type SFrameContextOptions,
  type SFrameKeyUsage,
  type SFrameSuiteId,
} from '../media';
import { Writer, assertBytes } from '../util/bytes';
import { checkInput } from '../util/codec';
import { STREAM_ID_LENGTH, checkAddress, checkInt, checkObject, dec, fail, readAddress, writeAddress } from './internal';
import type { Reader } from '../util/bytes';

export const INVITE_FORMAT = 1;
export const STREAM_KEYS_LENGTH = 70;
/** With an IPv6 address (family 1, address 16, port 2). */
export const MAX_INVITE_LENGTH = 1 + STREAM_ID_LENGTH + 32 + 19 + STREAM_KEYS_LENGTH;
const SUITES: readonly number[] = Object.values(SFRAME_SUITE);

export interface StreamKeys {
  /** 32 bytes: the secret from which every epoch's SFrame key is derived. */
  readonly streamKey: Uint8Array;
  /** 32 bytes: the stream's Ed25519 group-signing public key. */
  readonly signingKey: Uint8Array;
  /** 0..2^32-1. */
  readonly epoch: number;
  readonly suite: SFrameSuiteId;
}

export interface StreamInvite {
  readonly streamId: Uint8Array;
  /** Ed25519 identity key of the landing node. */
  readonly landing: Uint8Array;
  readonly address: NodeAddress;
  readonly keys: StreamKeys;
}

export function checkStreamKeys(k: unknown, name: string): asserts k is StreamKeys {
  checkObject(k, name);
  const x = k as StreamKeys;
  assertBytes(x.streamKey, `${name}.streamKey`, 32);
  assertBytes(x.signingKey, `${name}.signingKey`, 32);
  checkInt(x.epoch, `${name}.epoch`, 0, 0xffffffff);
  if (typeof x.suite !== 'number') throw new TypeError(`${name}.suite must be a number`);
  if (!SUITES.includes(x.suite)) throw new RangeError(`${name}.suite must be an SFrame cipher suite (1..5), got ${x.suite}`);
}

/** Writes stream keys (already checked by checkStreamKeys). Internal to node-core/stream. */
export function writeStreamKeys(w: Writer, k: StreamKeys): void {
  w.bytes(k.streamKey).bytes(k.signingKey).u32(k.epoch).u16(k.suite);
}

/** Reads stream keys. Internal to node-core/stream. */
export function readStreamKeys(r: Reader, what: string): StreamKeys {
  const streamKey = r.bytes(32, `${what} streamKey`).slice();
  const signingKey = r.bytes(32, `${what} signingKey`).slice();
  const epoch = r.u32(`${what} epoch`);
  const suite = r.u16(`${what} suite`);
  if (!SUITES.includes(suite)) throw fail('malformed', `${what}: SFrame cipher suite ${suite} is not one of 1..5`);
  return { streamKey, signingKey, epoch, suite: suite as SFrameSuiteId };
}

export function encodeInvite(invite: StreamInvite): Uint8Array {
  checkObject(invite, 'invite');
  assertBytes(invite.streamId, 'invite.streamId', STREAM_ID_LENGTH);
  assertBytes(invite.landing, 'invite.landing', 32);
  checkAddress(invite.address, 'invite.address');
  checkStreamKeys(invite.keys, 'invite.keys');
  const w = new Writer().u8(INVITE_FORMAT).bytes(invite.streamId).bytes(invite.landing);
  writeAddress(w, invite.address, 'invite.address');
  writeStreamKeys(w, invite.keys);
  return w.finish();
}

/** Decodes an invite received in a chat message. Throws StreamError. */
export function decodeInvite(bytes: Uint8Array): StreamInvite {
  checkInput(bytes, 'bytes');
  const what = 'stream invite';
  const r = dec.openBody(bytes, 'bytes', { what, format: INVITE_FORMAT, maxLength: MAX_INVITE_LENGTH });
  const streamId = r.bytes(STREAM_ID_LENGTH, 'streamId').slice();
  const landing = r.bytes(32, 'landing').slice();
  const address = readAddress(r, `${what} address`);
  const keys = readStreamKeys(r, `${what} keys`);
  dec.expectEnd(r, what);
  return { streamId, landing, address, keys };
}

/**
 * An SFrame context (RFC 9605) holding the key of `keys.epoch` of stream `streamId`, for the
 * broadcaster ('encrypt') or a viewer ('decrypt'): the base key from deriveStreamBaseKey under
 * KID streamKeyId(epoch), in the stream's cipher suite.
 */
export function streamSFrameContext(
  streamId: Uint8Array,
  keys: StreamKeys,
  usage: SFrameKeyUsage,
  options: Omit<SFrameContextOptions, 'suite'> = {},
): SFrameContext {
  assertBytes(streamId, 'streamId', STREAM_ID_LENGTH);
  checkStreamKeys(keys, 'keys');
  checkObject(options, 'options');
  const ctx = new SFrameContext({ ...options, suite: keys.suite });
  const baseKey = deriveStreamBaseKey(keys.streamKey, streamId, keys.epoch);
  ctx.addKey(streamKeyId(keys.epoch), baseKey, usage);
  baseKey.fill(0);
  return ctx;
}
