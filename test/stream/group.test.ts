/**
 * Frames, groups and group signatures (node-core/stream/group.ts): packetising and reassembly,
 * the group digest, signatures by the stream's ephemeral key, the viewer's verifier dropping
 * frames whose signature is bad; and, end to end through a relay, that no message to a node
 * carries the stream key and what relays forward does not decrypt without it.
 */
import { describe, expect, it } from 'vitest';
import { SFrameError, deriveStreamBaseKey, streamKeyId } from '../../node-core/media';
import {
  FanoutRelay,
  FrameAssembler,
  GroupHasher,
  GroupVerifier,
  MAX_FRAME_PARTS,
  decodeStreamMessage,
  encodeInvite,
  encodeStreamMessage,
  frameMetadata,
  packetizeFrame,
  signGroup,
  streamSFrameContext,
  verifyGroupSignature,
  type MediaPacket,
  type StreamFrame,
  type StreamMessage,
} from '../../node-core/stream';
import { Writer, concatBytes, toHex, utf8 } from '../../node-core/util/bytes';
import { KEYS, LANDING, SIGNER, STREAM_ID, bytesOf, keyPair, receipt, suite } from './helpers';

function frame(groupSeq: number, frameSeq: number, fill = frameSeq + 1, length = 50): StreamFrame {
  return { streamId: STREAM_ID, groupSeq, frameSeq, keyframe: frameSeq === 0, ciphertext: bytesOf(length, fill) };
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return toHex(haystack).includes(toHex(needle));
}

describe('packets', () => {
  it('a frame is cut into pieces of at most maxPayload bytes, in order, keyframe only at frame 0', () => {
    const ct = Uint8Array.from({ length: 250 }, (_, i) => i);
    const pkts = packetizeFrame({ streamId: STREAM_ID, groupSeq: 4, frameSeq: 0, ciphertext: ct }, 100);
    expect(pkts.map((p) => [p.part, p.parts, p.payload.length, p.keyframe])).toEqual([
      [0, 3, 100, true],
      [1, 3, 100, true],
      [2, 3, 50, true],
    ]);
    expect(toHex(concatBytes(...pkts.map((p) => p.payload)))).toBe(toHex(ct));
    expect(packetizeFrame({ streamId: STREAM_ID, groupSeq: 4, frameSeq: 2, ciphertext: ct })).toHaveLength(1);
    expect(packetizeFrame({ streamId: STREAM_ID, groupSeq: 4, frameSeq: 2, ciphertext: ct })[0]!.keyframe).toBe(false);
    // Every piece encodes.
    for (const p of pkts) expect(decodeStreamMessage(encodeStreamMessage(p))).toEqual(p);
  });

  it('refuses a frame that needs more than MAX_FRAME_PARTS pieces, and an empty one', () => {
    const ct = new Uint8Array(MAX_FRAME_PARTS * 10 + 1);
    expect(() => packetizeFrame({ streamId: STREAM_ID, groupSeq: 0, frameSeq: 0, ciphertext: ct }, 10)).toThrow(RangeError);
    expect(packetizeFrame({ streamId: STREAM_ID, groupSeq: 0, frameSeq: 0, ciphertext: ct.subarray(1) }, 10)).toHaveLength(MAX_FRAME_PARTS);
    expect(() => packetizeFrame({ streamId: STREAM_ID, groupSeq: 0, frameSeq: 0, ciphertext: new Uint8Array(0) })).toThrow(RangeError);
  });

  it('the assembler joins pieces and discards a frame missing a piece', () => {
    const a = new FrameAssembler();
    const f0 = packetizeFrame({ streamId: STREAM_ID, groupSeq: 1, frameSeq: 0, ciphertext: bytesOf(30, 1) }, 10);
    const f1 = packetizeFrame({ streamId: STREAM_ID, groupSeq: 1, frameSeq: 1, ciphertext: bytesOf(30, 2) }, 10);
    const f2 = packetizeFrame({ streamId: STREAM_ID, groupSeq: 1, frameSeq: 2, ciphertext: bytesOf(5, 3) }, 10);
    expect(a.push(f0[0]!)).toBeNull();
    expect(a.push(f0[1]!)).toBeNull();
    const whole = a.push(f0[2]!);
    expect(whole).toEqual({ streamId: STREAM_ID, groupSeq: 1, frameSeq: 0, keyframe: true, ciphertext: bytesOf(30, 1) });
    // Frame 1 loses its middle piece: it is discarded, and frame 2 still comes through.
    expect(a.push(f1[0]!)).toBeNull();
    expect(a.push(f1[2]!)).toBeNull();
    expect(a.discarded).toBe(1);
    expect(a.push(f2[0]!)?.ciphertext).toEqual(bytesOf(5, 3));
    // A piece other than the first starts nothing.
    expect(a.push(f1[1]!)).toBeNull();
    expect(a.push(f1[2]!)).toBeNull();
    // A new first piece while a frame is in progress discards the old one.
    expect(a.push(f1[0]!)).toBeNull();
    expect(a.push(f2[0]!)?.frameSeq).toBe(2);
    expect(a.discarded).toBe(2);
  });
});

describe('group digest and signature', () => {
  it('the digest is SHA-256 over label ‖ streamId ‖ groupSeq ‖ (frameSeq ‖ length ‖ ciphertext)…', () => {
    const h = new GroupHasher(suite, STREAM_ID, 9);
    h.add(0, bytesOf(3, 0xa));
    const d0 = h.digest();
    h.add(2, bytesOf(2, 0xb));
    const expected0 = suite.sha256(concatBytes(utf8('PSP-STREAM-GROUP-v1'), STREAM_ID, new Writer().u32(9).u32(0).u32(3).finish(), bytesOf(3, 0xa)));
    expect(toHex(d0)).toBe(toHex(expected0));
    const expected1 = suite.sha256(
      concatBytes(utf8('PSP-STREAM-GROUP-v1'), STREAM_ID, new Writer().u32(9).u32(0).u32(3).finish(), bytesOf(3, 0xa), new Writer().u32(2).u32(2).finish(), bytesOf(2, 0xb)),
    );
    expect(toHex(h.digest())).toBe(toHex(expected1));
    expect(h.throughFrame).toBe(2);
  });

  it('frames must start at the keyframe and increase', () => {
    const h = new GroupHasher(suite, STREAM_ID, 1);
    expect(() => h.digest()).toThrow(RangeError);
    expect(() => h.add(1, bytesOf(1, 1))).toThrow(RangeError);
    h.add(0, bytesOf(1, 1));
    expect(() => h.add(0, bytesOf(1, 1))).toThrow(RangeError);
    h.add(5, bytesOf(1, 1));
    expect(() => h.add(4, bytesOf(1, 1))).toThrow(RangeError);
  });

  it('a signature by the stream key verifies; another key, frame, group or stream does not', () => {
    const h = new GroupHasher(suite, STREAM_ID, 3);
    h.add(0, bytesOf(10, 1));
    h.add(1, bytesOf(10, 2));
    const sig = signGroup(suite, h, SIGNER.secretKey);
    expect(sig).toMatchObject({ type: 'group-signature', groupSeq: 3, throughFrame: 1 });
    expect(verifyGroupSignature(suite, sig, h.digest(), SIGNER.publicKey)).toBe(true);
    expect(verifyGroupSignature(suite, sig, h.digest(), keyPair('someone-else').publicKey)).toBe(false);
    const other = new GroupHasher(suite, STREAM_ID, 3);
    other.add(0, bytesOf(10, 1));
    other.add(1, bytesOf(10, 9));
    expect(verifyGroupSignature(suite, sig, other.digest(), SIGNER.publicKey)).toBe(false);
    expect(verifyGroupSignature(suite, { ...sig, groupSeq: 4 }, h.digest(), SIGNER.publicKey)).toBe(false);
    expect(verifyGroupSignature(suite, { ...sig, throughFrame: 2 }, h.digest(), SIGNER.publicKey)).toBe(false);
    expect(verifyGroupSignature(suite, { ...sig, streamId: bytesOf(16, 1) }, h.digest(), SIGNER.publicKey)).toBe(false);
    expect(() => verifyGroupSignature(suite, sig, bytesOf(31, 1), SIGNER.publicKey)).toThrow(RangeError);
  });
});

describe('GroupVerifier (the viewer)', () => {
  function signedGroup(groupSeq: number, frames: number, key = SIGNER.secretKey) {
    const h = new GroupHasher(suite, STREAM_ID, groupSeq);
    const out: Array<StreamFrame | ReturnType<typeof signGroup>> = [];
    for (let i = 0; i < frames; i++) {
      const f = frame(groupSeq, i);
      h.add(i, f.ciphertext);
      out.push(f, signGroup(suite, h, key));
    }
    return out;
  }

  function feed(v: GroupVerifier, items: Array<StreamFrame | ReturnType<typeof signGroup>>) {
    const released: StreamFrame[] = [];
    let dropped = 0;
    let bad = 0;
    for (const x of items) {
      const r = 'type' in x ? v.signature(x) : v.frame(x);
      released.push(...r.released);
      dropped += r.dropped;
      if (r.badSignature) bad++;
    }
    return { released, dropped, bad };
  }

  it('holds each frame until a signature covers it, then releases it', () => {
    const v = new GroupVerifier(suite, STREAM_ID, SIGNER.publicKey);
    expect(v.frame(frame(1, 0)).released).toEqual([]);
    expect(v.stats.held).toBe(1);
    const h = new GroupHasher(suite, STREAM_ID, 1);
    h.add(0, frame(1, 0).ciphertext);
    expect(v.signature(signGroup(suite, h, SIGNER.secretKey)).released.map((f) => f.frameSeq)).toEqual([0]);
    const r = feed(v, signedGroup(2, 5));
    expect(r.released.map((f) => [f.groupSeq, f.frameSeq])).toEqual([[2, 0], [2, 1], [2, 2], [2, 3], [2, 4]]);
    expect(r.dropped).toBe(0);
  });

  it('a signature may cover several frames at once', () => {
    const v = new GroupVerifier(suite, STREAM_ID, SIGNER.publicKey);
    const h = new GroupHasher(suite, STREAM_ID, 7);
    for (let i = 0; i < 4; i++) {
      v.frame(frame(7, i));
      h.add(i, frame(7, i).ciphertext);
    }
    expect(v.signature(signGroup(suite, h, SIGNER.secretKey)).released).toHaveLength(4);
  });

  it('drops frames whose signature is bad (a forger holding the stream key but not the signing key), and the rest of that group', () => {
    const v = new GroupVerifier(suite, STREAM_ID, SIGNER.publicKey);
    const forged = feed(v, signedGroup(1, 3, keyPair('forger').secretKey));
    expect(forged.released).toEqual([]);
    expect(forged.bad).toBe(1);
    expect(forged.dropped).toBe(3);
    // The next group, properly signed, plays again.
    const good = feed(v, signedGroup(2, 2));
    expect(good.released).toHaveLength(2);
    expect(v.stats).toEqual({ released: 2, dropped: 3, held: 0 });
  });

  it('drops a tampered frame even when its signature is genuine', () => {
    const v = new GroupVerifier(suite, STREAM_ID, SIGNER.publicKey);
    const items = signedGroup(1, 2);
    const tampered = { ...(items[2] as StreamFrame), ciphertext: bytesOf(50, 0xee) };
    const r = feed(v, [items[0]!, items[1]!, tampered, items[3]!]);
    expect(r.released.map((f) => f.frameSeq)).toEqual([0]);
    expect(r.bad).toBe(1);
    expect(r.dropped).toBe(1);
  });

  it('drops frames of a group whose keyframe it never saw, and unsigned frames when the next group begins', () => {
    const v = new GroupVerifier(suite, STREAM_ID, SIGNER.publicKey);
    expect(v.frame(frame(1, 3)).dropped).toBe(1);
    v.frame(frame(2, 0));
    v.frame(frame(2, 1));
    expect(v.frame(frame(3, 0)).dropped).toBe(2);
    expect(v.frame({ ...frame(3, 1), streamId: bytesOf(16, 0) }).dropped).toBe(1);
  });

  it('drops a group that holds too many unsigned frames', () => {
    const v = new GroupVerifier(suite, STREAM_ID, SIGNER.publicKey, { maxHeldFrames: 3 });
    for (let i = 0; i < 3; i++) expect(v.frame(frame(1, i)).dropped).toBe(0);
    expect(v.frame(frame(1, 3)).dropped).toBe(4);
    expect(v.frame(frame(1, 4)).dropped).toBe(1);
  });
});

describe('end to end through a relay', () => {
  it('the viewer plays what the broadcaster sent; no message to a node carries the stream key; relayed bytes do not open without it', () => {
    const streamKey = KEYS.streamKey;
    const baseKey = deriveStreamBaseKey(streamKey, STREAM_ID, KEYS.epoch);
    const toNodes: Uint8Array[] = [];
    // The creator's messages to the landing node (a private stream: no public metadata).
    toNodes.push(encodeStreamMessage({ type: 'create-stream', receipt: receipt(), params: { bitrate: 2_000_000, maxViewers: 10 }, distribution: [], public: null }));
    const broadcaster = streamSFrameContext(STREAM_ID, KEYS, 'encrypt');
    const relay = new FanoutRelay({ streamId: STREAM_ID });
    relay.addSubscriber('viewer');
    const forwarded: Uint8Array[] = [];
    const plain: string[] = [];
    for (let g = 0; g < 2; g++) {
      const h = new GroupHasher(suite, STREAM_ID, g);
      for (let f = 0; f < 4; f++) {
        const text = `frame ${g}.${f} ${'x'.repeat(f * 40)}`;
        plain.push(text);
        const ct = broadcaster.encrypt(streamKeyId(KEYS.epoch), undefined, frameMetadata(STREAM_ID, g, f), utf8(text));
        h.add(f, ct);
        const msgs: StreamMessage[] = [...packetizeFrame({ streamId: STREAM_ID, groupSeq: g, frameSeq: f, ciphertext: ct }, 32), signGroup(suite, h, SIGNER.secretKey)];
        for (const m of msgs) {
          const bytes = encodeStreamMessage(m);
          toNodes.push(bytes);
          for (const a of relay.push(bytes)) {
            if (a.type === 'send') {
              forwarded.push(a.bytes);
              relay.acknowledge('viewer');
            }
          }
        }
      }
    }
    // The viewer: decode, assemble, verify, decrypt.
    const viewer = streamSFrameContext(STREAM_ID, KEYS, 'decrypt');
    const assembler = new FrameAssembler();
    const verifier = new GroupVerifier(suite, STREAM_ID, SIGNER.publicKey);
    const got: string[] = [];
    for (const bytes of forwarded) {
      const m = decodeStreamMessage(bytes, ['media', 'group-signature']);
      const released =
        m.type === 'media' ? ((f) => (f === null ? [] : verifier.frame(f).released))(assembler.push(m as MediaPacket)) : verifier.signature(m as never).released;
      for (const f of released) got.push(new TextDecoder().decode(viewer.decrypt(f.ciphertext, frameMetadata(STREAM_ID, f.groupSeq, f.frameSeq)).plaintext));
    }
    expect(got).toEqual(plain);
    // No byte string sent to a node contains the stream key or the derived SFrame key...
    for (const b of toNodes) {
      expect(contains(b, streamKey)).toBe(false);
      expect(contains(b, baseKey)).toBe(false);
    }
    // ...while the invite, which goes only into a chat, does.
    expect(contains(encodeInvite({ streamId: STREAM_ID, landing: LANDING, address: { host: '10.0.0.1', port: 1 }, keys: KEYS }), streamKey)).toBe(true);
    // A relay (or anyone) without the stream key cannot open what it forwards.
    const outsider = streamSFrameContext(STREAM_ID, { ...KEYS, streamKey: bytesOf(32, 0x01) }, 'decrypt');
    const assembler2 = new FrameAssembler();
    let tried = 0;
    for (const bytes of forwarded) {
      const m = decodeStreamMessage(bytes);
      if (m.type !== 'media') continue;
      const f = assembler2.push(m);
      if (f === null) continue;
      tried++;
      expect(() => outsider.decrypt(f.ciphertext, frameMetadata(STREAM_ID, f.groupSeq, f.frameSeq))).toThrow(SFrameError);
    }
    expect(tried).toBe(8);
    // And a frame moved to another place in the stream does not open even with the key.
    const moved = new FrameAssembler();
    let whole: StreamFrame | null = null;
    for (const bytes of forwarded) {
      const m = decodeStreamMessage(bytes);
      if (m.type === 'media' && whole === null) whole = moved.push(m);
    }
    expect(whole?.frameSeq).toBe(0);
    const fresh = streamSFrameContext(STREAM_ID, KEYS, 'decrypt');
    expect(() => fresh.decrypt(whole!.ciphertext, frameMetadata(STREAM_ID, 0, 1))).toThrow(SFrameError);
    expect(new TextDecoder().decode(fresh.decrypt(whole!.ciphertext, frameMetadata(STREAM_ID, 0, 0)).plaintext)).toBe(plain[0]);
  });
});
