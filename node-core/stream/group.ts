/**
 * Frames and groups of a live stream, end to end between broadcaster and viewers (DESIGN §3
 * "Live streams": "a broadcaster signature per group of frames (every viewer holds the symmetric
 * key, so only a signature proves origin)"; frames grouped MoQ-style, a group per keyframe
 * interval, an object per frame).
 *
 * Packetising. A frame's SFrame ciphertext is cut into 1..MAX_FRAME_PARTS media packets of at
 * most MAX_MEDIA_PAYLOAD bytes (messages.ts), sent in order; `FrameAssembler` joins them again
 * and discards a frame whose pieces do not arrive complete and in order.
 *
 * Group digest. For group `groupSeq` of stream `streamId`, a running SHA-256 over
 *     "PSP-STREAM-GROUP-v1" ‖ streamId (16) ‖ groupSeq u32
 * followed, for each frame the broadcaster sends in the group, in order, by
 *     frameSeq u32 ‖ length u32 ‖ the frame's SFrame ciphertext
 * The digest "through frame f" is the hash of everything up to and including frame f.
 *
 * Group signature. The broadcaster signs prefixes of the group with the stream's ephemeral
 * Ed25519 group-signing key (announced in the invite, never the broadcaster's identity key):
 *     signature = Ed25519(SHA-256("PSP-STREAM-GROUP-SIG-v1" ‖ streamId ‖ groupSeq u32 ‖
 *                                 throughFrame u32 ‖ digest through throughFrame))
 * and sends it as a group-signature message right after frame `throughFrame` (after every frame
 * for the lowest latency, or every few frames and at the group's end). Signing the ciphertext
 * lets a viewer check origin before decrypting, and binds every frame to its position.
 *
 * Frame metadata. Each frame is SFrame-encrypted with metadata (RFC 9605 §4.4.3: authenticated,
 * not sent) streamId ‖ groupSeq u32 ‖ frameSeq u32 (`frameMetadata`), so a ciphertext opens only
 * at the place in the stream it was made for.
 *
 * `GroupVerifier` (a viewer's side) holds each group's frames until a signature covers them, then
 * releases them; frames a signature does not verify for are dropped, and so is the rest of that
 * group. Relays never see these keys and forward the signatures like media.
 *
 * Pure: the CryptoSuite is passed in; no I/O, timers or randomness.
 */
import type { CryptoSuite, RunningHash } from '../crypto/api';
import { Writer, assertBytes, concatBytes, equalBytes, utf8 } from '../util/bytes';
import { CONTEXT_GROUP_SIGNATURE, LABEL_GROUP_DIGEST, STREAM_ID_LENGTH, checkInt, checkObject, signingDigest } from './internal';
import { type GroupSignatureMessage, MAX_FRAME_LENGTH, MAX_FRAME_PARTS, MAX_MEDIA_PAYLOAD, type MediaPacket } from './messages';

const MAX_U32 = 0xffffffff;
const LABEL_BYTES = utf8(LABEL_GROUP_DIGEST);

/** One whole frame: its place in the stream and its SFrame ciphertext. */
export interface StreamFrame {
  readonly streamId: Uint8Array;
  readonly groupSeq: number;
  readonly frameSeq: number;
  /** The group's first frame (frameSeq 0). */
  readonly keyframe: boolean;
  readonly ciphertext: Uint8Array;
}

function u32(v: number): Uint8Array {
  return new Writer().u32(v).finish();
}

function checkFrameFields(f: unknown, name: string): asserts f is StreamFrame {
  checkObject(f, name);
  const x = f as StreamFrame;
  assertBytes(x.streamId, `${name}.streamId`, STREAM_ID_LENGTH);
  checkInt(x.groupSeq, `${name}.groupSeq`, 0, MAX_U32);
  checkInt(x.frameSeq, `${name}.frameSeq`, 0, MAX_U32);
  assertBytes(x.ciphertext, `${name}.ciphertext`);
  if (x.ciphertext.length < 1 || x.ciphertext.length > MAX_FRAME_LENGTH) {
    throw new RangeError(`${name}.ciphertext must be 1..${MAX_FRAME_LENGTH} bytes, got ${x.ciphertext.length}`);
  }
}

/** The SFrame metadata of a frame: streamId ‖ groupSeq u32 ‖ frameSeq u32. */
export function frameMetadata(streamId: Uint8Array, groupSeq: number, frameSeq: number): Uint8Array {
  assertBytes(streamId, 'streamId', STREAM_ID_LENGTH);
  checkInt(groupSeq, 'groupSeq', 0, MAX_U32);
  checkInt(frameSeq, 'frameSeq', 0, MAX_U32);
  return concatBytes(streamId, u32(groupSeq), u32(frameSeq));
}

// ---------------------------------------------------------------------------------------------
// Packets

/**
 * Cuts a frame into media packets of at most `maxPayload` bytes (default MAX_MEDIA_PAYLOAD);
 * `keyframe` is taken from frameSeq (0 begins a group). RangeError when it needs more than
 * MAX_FRAME_PARTS packets.
 */
export function packetizeFrame(frame: Omit<StreamFrame, 'keyframe'>, maxPayload: number = MAX_MEDIA_PAYLOAD): MediaPacket[] {
  checkFrameFields({ ...frame, keyframe: false }, 'frame');
  checkInt(maxPayload, 'maxPayload', 1, MAX_MEDIA_PAYLOAD);
  const parts = Math.ceil(frame.ciphertext.length / maxPayload);
  if (parts > MAX_FRAME_PARTS) throw new RangeError(`frame.ciphertext needs ${parts} packets of ${maxPayload} bytes, at most ${MAX_FRAME_PARTS}`);
  const out: MediaPacket[] = [];
  for (let part = 0; part < parts; part++) {
    out.push({
      type: 'media',
      streamId: frame.streamId.slice(),
      groupSeq: frame.groupSeq,
      frameSeq: frame.frameSeq,
      keyframe: frame.frameSeq === 0,
      part,
      parts,
      payload: frame.ciphertext.slice(part * maxPayload, (part + 1) * maxPayload),
    });
  }
  return out;
}

/**
 * Joins media packets back into frames. Pieces must come complete and in order (a relay never
 * reorders or splits a frame: fanout.ts); a piece that does not continue the frame in progress
 * discards that frame, and a piece other than the first starts nothing. Counts what it discards.
 */
export class FrameAssembler {
  private pending: { groupSeq: number; frameSeq: number; parts: number; pieces: Uint8Array[] } | null = null;
  private discardedFrames = 0;

  /** Frames given up because a piece was missing. */
  get discarded(): number {
    return this.discardedFrames;
  }

  /** Takes the next packet; returns the frame it completes, or null. */
  push(packet: MediaPacket): StreamFrame | null {
    checkObject(packet, 'packet');
    const p = packet;
    const pend = this.pending;
    if (pend !== null && (p.part === 0 || p.groupSeq !== pend.groupSeq || p.frameSeq !== pend.frameSeq || p.parts !== pend.parts || p.part !== pend.pieces.length)) {
      this.pending = null;
      this.discardedFrames++;
    }
    if (this.pending === null) {
      if (p.part !== 0) return null;
      this.pending = { groupSeq: p.groupSeq, frameSeq: p.frameSeq, parts: p.parts, pieces: [] };
    }
    const cur = this.pending;
    cur.pieces.push(p.payload);
    if (cur.pieces.length < cur.parts) return null;
    this.pending = null;
    return {
      streamId: p.streamId.slice(),
      groupSeq: p.groupSeq,
      frameSeq: p.frameSeq,
      keyframe: p.frameSeq === 0,
      ciphertext: concatBytes(...cur.pieces),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Digests and signatures

/** The running group digest of one group (formula in the module header). */
export class GroupHasher {
  readonly streamId: Uint8Array;
  readonly groupSeq: number;
  private readonly hash: RunningHash;
  private last: number | null = null;

  constructor(suite: CryptoSuite, streamId: Uint8Array, groupSeq: number) {
    assertBytes(streamId, 'streamId', STREAM_ID_LENGTH);
    checkInt(groupSeq, 'groupSeq', 0, MAX_U32);
    this.streamId = streamId.slice();
    this.groupSeq = groupSeq;
    this.hash = suite.runningSha256(concatBytes(LABEL_BYTES, this.streamId, u32(groupSeq)));
  }

  /** frameSeq of the last frame added, or null before the first. */
  get throughFrame(): number | null {
    return this.last;
  }

  /**
   * Adds the next frame of the group: the first must be frame 0 (the keyframe), then frameSeq
   * must increase (RangeError otherwise; nothing changes).
   */
  add(frameSeq: number, ciphertext: Uint8Array): void {
    checkInt(frameSeq, 'frameSeq', 0, MAX_U32);
    assertBytes(ciphertext, 'ciphertext');
    if (ciphertext.length > MAX_FRAME_LENGTH) throw new RangeError(`ciphertext must be at most ${MAX_FRAME_LENGTH} bytes`);
    if (this.last === null ? frameSeq !== 0 : frameSeq <= this.last) {
      throw new RangeError(`frameSeq ${frameSeq} does not follow ${this.last === null ? 'the start of the group (0)' : this.last}`);
    }
    this.hash.update(concatBytes(u32(frameSeq), u32(ciphertext.length), ciphertext));
    this.last = frameSeq;
  }

  /** The digest through the last frame added (the hash goes on). RangeError before the first frame. */
  digest(): Uint8Array {
    if (this.last === null) throw new RangeError('the group has no frame yet');
    return this.hash.digest();
  }
}

function signatureInput(suite: CryptoSuite, streamId: Uint8Array, groupSeq: number, throughFrame: number, digest: Uint8Array): Uint8Array {
  return signingDigest(suite, CONTEXT_GROUP_SIGNATURE, concatBytes(streamId, u32(groupSeq), u32(throughFrame), digest));
}

/**
 * Signs the group so far (through hasher.throughFrame) with the stream's group-signing key (a
 * 32-byte Ed25519 seed) and returns the group-signature message.
 */
export function signGroup(suite: CryptoSuite, hasher: GroupHasher, signingSecretKey: Uint8Array): GroupSignatureMessage {
  if (!(hasher instanceof GroupHasher)) throw new TypeError('hasher must be a GroupHasher');
  assertBytes(signingSecretKey, 'signingSecretKey', 32);
  const digest = hasher.digest();
  const throughFrame = hasher.throughFrame!;
  const signature = suite.ed25519Sign(signatureInput(suite, hasher.streamId, hasher.groupSeq, throughFrame, digest), signingSecretKey);
  return { type: 'group-signature', streamId: hasher.streamId.slice(), groupSeq: hasher.groupSeq, throughFrame, signature };
}

/**
 * True when `sig` is a valid signature by `signingKey` over `digest`, the group digest of
 * sig.streamId / sig.groupSeq through sig.throughFrame. Never throws for a bad signature.
 */
export function verifyGroupSignature(suite: CryptoSuite, sig: GroupSignatureMessage, digest: Uint8Array, signingKey: Uint8Array): boolean {
  checkObject(sig, 'sig');
  assertBytes(sig.streamId, 'sig.streamId', STREAM_ID_LENGTH);
  checkInt(sig.groupSeq, 'sig.groupSeq', 0, MAX_U32);
  checkInt(sig.throughFrame, 'sig.throughFrame', 0, MAX_U32);
  assertBytes(sig.signature, 'sig.signature', 64);
  assertBytes(digest, 'digest', 32);
  assertBytes(signingKey, 'signingKey', 32);
  return suite.ed25519Verify(sig.signature, signatureInput(suite, sig.streamId, sig.groupSeq, sig.throughFrame, digest), signingKey);
}

// ---------------------------------------------------------------------------------------------
// The viewer's side

export interface GroupVerifierOptions {
  /** Most frames held waiting for a signature; past it the group is dropped (default 600). */
  readonly maxHeldFrames?: number;
}

export interface GroupVerifierResult {
  /** Frames a valid signature now covers, in order: decrypt and play these. */
  readonly released: StreamFrame[];
  /** Frames dropped by this call: a bad signature, a frame that cannot be checked, an overflow. */
  readonly dropped: number;
  /** True when this call saw a signature that did not verify. */
  readonly badSignature: boolean;
}

/**
 * Holds a viewer's frames until the broadcaster's group signature covers them (see the module
 * header). A group can be checked only from its keyframe: frames of a group whose keyframe was
 * not seen are dropped. A bad signature drops the frames it claims to cover and the rest of the
 * group; a new group drops what the previous one left unsigned.
 */
export class GroupVerifier {
  private readonly suite: CryptoSuite;
  private readonly streamId: Uint8Array;
  private readonly signingKey: Uint8Array;
  private readonly maxHeld: number;
  private group: { hasher: GroupHasher; held: Array<{ frame: StreamFrame; digest: Uint8Array }>; bad: boolean } | null = null;
  private droppedTotal = 0;
  private releasedTotal = 0;

  constructor(suite: CryptoSuite, streamId: Uint8Array, signingKey: Uint8Array, options: GroupVerifierOptions = {}) {
    assertBytes(streamId, 'streamId', STREAM_ID_LENGTH);
    assertBytes(signingKey, 'signingKey', 32);
    checkObject(options, 'options');
    const maxHeld = options.maxHeldFrames ?? 600;
    checkInt(maxHeld, 'options.maxHeldFrames', 1, 1 << 20);
    this.suite = suite;
    this.streamId = streamId.slice();
    this.signingKey = signingKey.slice();
    this.maxHeld = maxHeld;
  }

  get stats(): { released: number; dropped: number; held: number } {
    return { released: this.releasedTotal, dropped: this.droppedTotal, held: this.group?.held.length ?? 0 };
  }

  private result(released: StreamFrame[], dropped: number, badSignature = false): GroupVerifierResult {
    this.releasedTotal += released.length;
    this.droppedTotal += dropped;
    return { released, dropped, badSignature };
  }

  /** Takes the next whole frame (FrameAssembler) of this stream. */
  frame(f: StreamFrame): GroupVerifierResult {
    checkFrameFields(f, 'frame');
    if (!equalBytes(f.streamId, this.streamId)) return this.result([], 1);
    let dropped = 0;
    if (f.frameSeq === 0) {
      dropped += this.group?.held.length ?? 0;
      this.group = { hasher: new GroupHasher(this.suite, this.streamId, f.groupSeq), held: [], bad: false };
    }
    const g = this.group;
    if (g === null || g.bad || f.groupSeq !== g.hasher.groupSeq || (g.hasher.throughFrame !== null && f.frameSeq <= g.hasher.throughFrame)) {
      return this.result([], dropped + 1);
    }
    if (g.held.length >= this.maxHeld) {
      g.bad = true;
      const n = g.held.length + 1;
      g.held = [];
      return this.result([], dropped + n);
    }
    g.hasher.add(f.frameSeq, f.ciphertext);
    g.held.push({ frame: f, digest: g.hasher.digest() });
    return this.result([], dropped);
  }

  /**
   * Takes a group signature. When it is for the current group and covers held frames, checks it:
   * valid, the frames through throughFrame are released; invalid, they are dropped with the rest
   * of the group. A signature for frames already released, or for another group, changes nothing.
   */
  signature(sig: GroupSignatureMessage): GroupVerifierResult {
    checkObject(sig, 'sig');
    const g = this.group;
    if (g === null || g.bad || !equalBytes(sig.streamId, this.streamId) || sig.groupSeq !== g.hasher.groupSeq) return this.result([], 0);
    const idx = g.held.findIndex((h) => h.frame.frameSeq === sig.throughFrame);
    if (idx < 0) return this.result([], 0);
    const entry = g.held[idx]!;
    if (!verifyGroupSignature(this.suite, sig, entry.digest, this.signingKey)) {
      const n = g.held.length;
      g.held = [];
      g.bad = true;
      return this.result([], n, true);
    }
    const released = g.held.splice(0, idx + 1).map((h) => h.frame);
    return this.result(released, 0);
  }
}
