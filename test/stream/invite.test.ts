/**
 * The private stream invite (node-core/stream/invite.ts): layout, round trips, every malformed
 * case, and SFrame contexts from its keys that let a viewer decrypt what the broadcaster
 * encrypted, and nobody without the stream key.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SFrameContext, SFrameError, deriveStreamBaseKey, streamKeyId } from '../../node-core/media';
import {
  MAX_INVITE_LENGTH,
  STREAM_KEYS_LENGTH,
  StreamError,
  decodeInvite,
  encodeInvite,
  streamSFrameContext,
  type StreamInvite,
} from '../../node-core/stream';
import { concatBytes, toHex, utf8 } from '../../node-core/util/bytes';
import { KEYS, LANDING, STREAM_ID, bytesOf, expectCode } from './helpers';

const META = new Uint8Array(0);
const INVITE: StreamInvite = { streamId: STREAM_ID, landing: LANDING, address: { host: '10.1.2.3', port: 7000 }, keys: KEYS };

describe('invite layout', () => {
  it('is format | streamId | landing | address | streamKey | signingKey | epoch | suite', () => {
    const b = encodeInvite(INVITE);
    expect(b.length).toBe(1 + 16 + 32 + 7 + STREAM_KEYS_LENGTH);
    expect(MAX_INVITE_LENGTH).toBe(138);
    expect(toHex(b)).toBe(
      '01' + toHex(STREAM_ID) + toHex(LANDING) + '04' + '0a010203' + '1b58' + toHex(KEYS.streamKey) + toHex(KEYS.signingKey) + '00000003' + '0004',
    );
    const v6 = encodeInvite({ ...INVITE, address: { host: '2001:db8::5', port: 443 } });
    expect(v6.length).toBe(MAX_INVITE_LENGTH);
  });

  it('round-trips, with the address in canonical form', () => {
    expect(decodeInvite(encodeInvite(INVITE))).toEqual(INVITE);
    const v6 = decodeInvite(encodeInvite({ ...INVITE, address: { host: '2001:DB8:0::5', port: 443 } }));
    expect(v6.address).toEqual({ host: '2001:db8::5', port: 443 });
  });
});

describe('invite decoding refuses', () => {
  const b = encodeInvite(INVITE);

  it('every truncation, trailing bytes, an unknown format', () => {
    for (let n = 0; n < b.length; n++) expectCode(() => decodeInvite(b.subarray(0, n)), 'malformed');
    expectCode(() => decodeInvite(concatBytes(b, Uint8Array.of(0))), 'malformed');
    const v2 = b.slice();
    v2[0] = 2;
    expectCode(() => decodeInvite(v2), 'unsupported-version');
  });

  it('an unknown cipher suite, address family, an unusable address', () => {
    for (const s of [0, 6, 0xffff]) {
      const x = b.slice();
      x[x.length - 2] = s >>> 8;
      x[x.length - 1] = s & 0xff;
      expectCode(() => decodeInvite(x), 'malformed');
    }
    const fam = b.slice();
    fam[49] = 5;
    expectCode(() => decodeInvite(fam), 'malformed');
    const zero = b.slice();
    zero[50] = 0; // 0.1.2.3: "this network"
    expectCode(() => decodeInvite(zero), 'malformed');
  });

  it('throws nothing but StreamError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 160 }), (x) => {
        try {
          const inv = decodeInvite(x);
          expect(toHex(encodeInvite(inv))).toBe(toHex(x));
        } catch (e) {
          expect(e).toBeInstanceOf(StreamError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('encoding checks every field', () => {
    expect(() => encodeInvite({ ...INVITE, streamId: bytesOf(32, 1) })).toThrow(/streamId/);
    expect(() => encodeInvite({ ...INVITE, landing: bytesOf(31, 1) })).toThrow(/landing/);
    expect(() => encodeInvite({ ...INVITE, address: { host: 'localhost', port: 1 } })).toThrow(/host/);
    expect(() => encodeInvite({ ...INVITE, keys: { ...KEYS, streamKey: bytesOf(16, 1) } })).toThrow(/streamKey/);
    expect(() => encodeInvite({ ...INVITE, keys: { ...KEYS, epoch: -1 } })).toThrow(/epoch/);
    expect(() => encodeInvite({ ...INVITE, keys: { ...KEYS, suite: 6 as never } })).toThrow(/suite/);
    expect(() => encodeInvite(null as never)).toThrow(TypeError);
  });
});

describe('SFrame contexts from the invite', () => {
  it('the viewer decrypts what the broadcaster encrypted; the key is the epoch key under KID = epoch', () => {
    const sender = streamSFrameContext(STREAM_ID, KEYS, 'encrypt');
    const receiver = streamSFrameContext(decodeInvite(encodeInvite(INVITE)).streamId, decodeInvite(encodeInvite(INVITE)).keys, 'decrypt');
    const frame = utf8('an encoded video frame');
    const ct = sender.encrypt(streamKeyId(KEYS.epoch), undefined, META, frame);
    const out = receiver.decrypt(ct, META);
    expect(toHex(out.plaintext)).toBe(toHex(frame));
    expect(out.kid).toBe(3n);
    // The same key as deriving it by hand with node-core/media.
    const manual = new SFrameContext({ suite: KEYS.suite });
    manual.addKey(3n, deriveStreamBaseKey(KEYS.streamKey, STREAM_ID, KEYS.epoch), 'decrypt');
    expect(toHex(manual.decrypt(ct, META).plaintext)).toBe(toHex(frame));
  });

  it('without the stream key, or for another stream or epoch, the bytes do not decrypt', () => {
    const ct = streamSFrameContext(STREAM_ID, KEYS, 'encrypt').encrypt(streamKeyId(KEYS.epoch), undefined, META, utf8('secret frame'));
    const wrongKey = streamSFrameContext(STREAM_ID, { ...KEYS, streamKey: bytesOf(32, 0x78) }, 'decrypt');
    expect(() => wrongKey.decrypt(ct, META)).toThrow(SFrameError);
    const otherStream = streamSFrameContext(bytesOf(16, 9), KEYS, 'decrypt');
    expect(() => otherStream.decrypt(ct, META)).toThrow(SFrameError);
    const otherEpoch = streamSFrameContext(STREAM_ID, { ...KEYS, epoch: 4 }, 'decrypt');
    expect(() => otherEpoch.decrypt(ct, META)).toThrow(SFrameError);
  });
});
