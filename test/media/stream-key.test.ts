/**
 * deriveStreamBaseKey and streamKeyId: the per-epoch SFrame base keys of a PSP stream (formula
 * in the header of node-core/media/sframe.ts), and a broadcaster-to-viewer exchange with a key
 * rotation.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { nobleSuite } from '../../node-core/crypto/noble';
import {
  MAX_STREAM_EPOCH,
  SFrameContext,
  SFrameError,
  STREAM_SFRAME_LABEL,
  decodeHeader,
  deriveStreamBaseKey,
  streamKeyId,
} from '../../node-core/media';
import { concatBytes, fromHex, toHex, utf8 } from '../../node-core/util/bytes';

const STREAM_KEY = Uint8Array.from({ length: 32 }, (_, i) => i);

describe('deriveStreamBaseKey', () => {
  // Expected values computed outside this code base, with Python's hmac and hashlib following
  // RFC 5869 and the formula in the module header.
  it.each([
    ['stream-1', 0, '2210a57a55372b7798b2d945a55f03b1c22e6f5063da6cf2232cde07306f2e0f'],
    ['stream-1', 1, 'c2e54cc7bc4e33ce975ed5cc07f7bcb315ee5667a836e0455d145c64bdc6dbe7'],
  ])('known answer: stream id %j, epoch %i', (id, epoch, expected) => {
    expect(toHex(deriveStreamBaseKey(STREAM_KEY, utf8(id), epoch))).toBe(expected);
  });

  it('known answer: binary stream id, largest epoch', () => {
    expect(toHex(deriveStreamBaseKey(STREAM_KEY, fromHex('00ff'), MAX_STREAM_EPOCH))).toBe(
      'd544a55a77d356e3acd6d7da4fcc66fff114cceea5570d5c2660c14bf7946196',
    );
  });

  it('is HKDF-SHA256 with the documented info, as the project crypto suite computes it', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.nat({ max: MAX_STREAM_EPOCH }),
        (key, id, epoch) => {
          const info = concatBytes(
            utf8(STREAM_SFRAME_LABEL),
            Uint8Array.of(id.length >> 8, id.length & 0xff),
            id,
            Uint8Array.of(epoch >>> 24, (epoch >>> 16) & 0xff, (epoch >>> 8) & 0xff, epoch & 0xff),
          );
          expect(toHex(deriveStreamBaseKey(key, id, epoch))).toBe(toHex(nobleSuite.hkdfSha256(key, new Uint8Array(0), info, 32)));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('every (stream key, stream id, epoch) gives its own key', () => {
    const keys = new Set<string>();
    const otherKey = STREAM_KEY.map((b) => b ^ 1);
    for (const k of [STREAM_KEY, otherKey]) {
      for (const id of ['a', 'ab', 'b', 'stream-1']) {
        for (const e of [0, 1, 2, 256, MAX_STREAM_EPOCH]) keys.add(toHex(deriveStreamBaseKey(k, utf8(id), e)));
      }
    }
    expect(keys.size).toBe(2 * 4 * 5);
  });

  it('checks its parameters', () => {
    expect(() => deriveStreamBaseKey(STREAM_KEY.subarray(0, 31), utf8('s'), 0)).toThrow(RangeError);
    expect(() => deriveStreamBaseKey(STREAM_KEY.subarray(0, 31), utf8('s'), 0)).toThrow(/streamKey/);
    expect(() => deriveStreamBaseKey('k' as unknown as Uint8Array, utf8('s'), 0)).toThrow(TypeError);
    expect(() => deriveStreamBaseKey(STREAM_KEY, new Uint8Array(0), 0)).toThrow(/streamId/);
    expect(() => deriveStreamBaseKey(STREAM_KEY, new Uint8Array(0x10000), 0)).toThrow(/streamId/);
    expect(() => deriveStreamBaseKey(STREAM_KEY, utf8('s'), -1)).toThrow(/epoch/);
    expect(() => deriveStreamBaseKey(STREAM_KEY, utf8('s'), MAX_STREAM_EPOCH + 1)).toThrow(RangeError);
    expect(() => deriveStreamBaseKey(STREAM_KEY, utf8('s'), 0.5)).toThrow(RangeError);
    expect(() => deriveStreamBaseKey(STREAM_KEY, utf8('s'), 1n as unknown as number)).toThrow(TypeError);
    expect(deriveStreamBaseKey(STREAM_KEY, new Uint8Array(0xffff), 0)).toHaveLength(32);
  });
});

describe('streamKeyId', () => {
  it('is the epoch', () => {
    expect(streamKeyId(0)).toBe(0n);
    expect(streamKeyId(7)).toBe(7n);
    expect(streamKeyId(MAX_STREAM_EPOCH)).toBe(4294967295n);
    expect(() => streamKeyId(-1)).toThrow(/epoch/);
  });
});

describe('a stream with a key rotation', () => {
  it('the viewer decrypts both epochs; a viewer with another stream key decrypts neither', () => {
    const id = utf8('stream-42');
    const broadcaster = new SFrameContext({ suite: 4 });
    const viewer = new SFrameContext({ suite: 4 });
    const outsider = new SFrameContext({ suite: 4 });
    for (const epoch of [0, 1]) {
      broadcaster.addKey(streamKeyId(epoch), deriveStreamBaseKey(STREAM_KEY, id, epoch), 'encrypt');
      viewer.addKey(streamKeyId(epoch), deriveStreamBaseKey(STREAM_KEY, id, epoch), 'decrypt');
      outsider.addKey(streamKeyId(epoch), deriveStreamBaseKey(STREAM_KEY.map((b) => b ^ 0x55), id, epoch), 'decrypt');
    }
    const meta = Uint8Array.of(1); // e.g. the frame type, visible to relays and authenticated
    const frames = [
      broadcaster.encrypt(streamKeyId(0), undefined, meta, utf8('epoch 0, frame 0')),
      broadcaster.encrypt(streamKeyId(0), undefined, meta, utf8('epoch 0, frame 1')),
      broadcaster.encrypt(streamKeyId(1), undefined, meta, utf8('epoch 1, frame 0')),
    ];
    expect(frames.map((f) => decodeHeader(f).kid)).toEqual([0n, 0n, 1n]);
    expect(frames.map((f) => new TextDecoder().decode(viewer.decrypt(f, meta).plaintext))).toEqual([
      'epoch 0, frame 0',
      'epoch 0, frame 1',
      'epoch 1, frame 0',
    ]);
    for (const f of frames) expect(() => outsider.decrypt(f, meta)).toThrow(SFrameError);
    // The old epoch is retired: its frames no longer decrypt.
    viewer.removeKey(streamKeyId(0));
    const late = broadcaster.encrypt(streamKeyId(0), undefined, meta, utf8('straggler'));
    expect(() => viewer.decrypt(late, meta)).toThrow(expect.objectContaining({ code: 'unknown-kid' }));
  });
});
