/**
 * The ntor handshake: Tor's published vectors with Tor's parameters, an independent computation
 * of the PSP parameters, and every failure a peer can cause.
 */
import { describe, expect, it } from 'vitest';
import { x25519 } from '@noble/curves/ed25519.js';
import { hmac } from '@noble/hashes/hmac.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import torVectors from '../vectors/ntor/tor-ntor-v1.json';
import kdfVectors from '../vectors/ntor/tor-ntor-kdf.json';
import type { CryptoSuite } from '../../node-core/crypto/api';
import { nobleSuite } from '../../node-core/crypto/noble';
import {
  NTOR_PSP,
  NTOR_TOR,
  ntorClientComplete,
  ntorClientCreate,
  ntorExpand,
  ntorOnionskinLength,
  ntorServerHandle,
} from '../../node-core/circuit/ntor';
import { concatBytes, utf8 } from '../../node-core/util/bytes';
import { expectCircuitError, hex, patternBytes, toHex } from './helpers';

const suite = nobleSuite;

function onionKeyPair(seed: number): { secret: Uint8Array; public: Uint8Array } {
  const secret = patternBytes(32, seed);
  return { secret, public: suite.x25519PublicKey(secret) };
}

describe('Tor vectors (NTOR_TOR)', () => {
  it('the vector files name their sources', () => {
    expect(torVectors.source).toMatch(/arti/);
    expect(kdfVectors.source).toMatch(/test_crypto\.c/);
    expect(torVectors.vectors.length).toBeGreaterThan(0);
  });

  it.each(torVectors.vectors)('$name: onionskin, reply and key material match exactly', (v) => {
    const keyLength = hex(v.keys).length;
    expect(toHex(suite.x25519PublicKey(hex(v.b)))).toBe(v.B);

    const { state, onionskin } = ntorClientCreate(
      suite,
      { nodeId: hex(v.id), nodeOnionKey: hex(v.B), protocol: NTOR_TOR },
      { x: hex(v.x) },
    );
    expect(toHex(onionskin)).toBe(v.clientHandshake);
    expect(toHex(onionskin.subarray(20 + 32))).toBe(v.X);

    const server = ntorServerHandle(
      suite,
      onionskin,
      { nodeId: hex(v.id), onionKeys: [{ secret: hex(v.b), public: hex(v.B) }], protocol: NTOR_TOR, keyLength },
      { y: hex(v.y) },
    );
    expect(toHex(server.reply)).toBe(v.serverHandshake);
    expect(toHex(server.reply.subarray(0, 32))).toBe(v.Y);
    expect(toHex(server.keyMaterial)).toBe(v.keys);

    expect(toHex(ntorClientComplete(suite, state, server.reply, keyLength))).toBe(v.keys);
  });

  it('the server answers the published onionskin with the published reply', () => {
    const v = torVectors.vectors[0]!;
    const server = ntorServerHandle(
      suite,
      hex(v.clientHandshake),
      { nodeId: hex(v.id), onionKeys: [{ secret: hex(v.b), public: hex(v.B) }], protocol: NTOR_TOR, keyLength: 72 },
      { y: hex(v.y) },
    );
    expect(toHex(server.reply)).toBe(v.serverHandshake);
  });

  it.each(kdfVectors.vectors)('KDF of "$inputAscii" matches', (v) => {
    expect(toHex(ntorExpand(suite, NTOR_TOR, utf8(v.inputAscii), v.length))).toBe(v.output);
  });
});

describe('PSP parameters (NTOR_PSP)', () => {
  it('client and server agree on 128 bytes of key material; onionskin is ID(32) | B | X', () => {
    const nodeId = patternBytes(32, 7);
    const key = onionKeyPair(9);
    const { state, onionskin } = ntorClientCreate(suite, { nodeId, nodeOnionKey: key.public });
    expect(onionskin.length).toBe(96);
    expect(ntorOnionskinLength()).toBe(96);
    expect(toHex(onionskin.subarray(0, 32))).toBe(toHex(nodeId));
    expect(toHex(onionskin.subarray(32, 64))).toBe(toHex(key.public));
    const server = ntorServerHandle(suite, onionskin, { nodeId, onionKeys: [key] });
    expect(server.reply.length).toBe(64);
    expect(server.keyMaterial.length).toBe(128);
    const client = ntorClientComplete(suite, state, server.reply);
    expect(toHex(client)).toBe(toHex(server.keyMaterial));
  });

  it('matches an independent computation from createhandshake.md (":server" suffix, psp PROTOID)', () => {
    // Written straight from the reference text with @noble primitives, not through ntor.ts.
    const b = patternBytes(32, 11);
    const x = patternBytes(32, 22);
    const y = patternBytes(32, 33);
    const id = patternBytes(32, 44);
    const B = x25519.getPublicKey(b);
    const X = x25519.getPublicKey(x);
    const Y = x25519.getPublicKey(y);
    const P = 'psp-curve25519-sha256-01';
    const secretInput = concatBytes(x25519.getSharedSecret(y, X), x25519.getSharedSecret(b, X), id, B, X, Y, utf8(P));
    const verify = hmac(sha256, utf8(`${P}:verify`), secretInput);
    const authInput = concatBytes(verify, id, B, Y, X, utf8(P), utf8(':server'));
    const auth = hmac(sha256, utf8(`${P}:mac`), authInput);
    const keys = hkdf(sha256, secretInput, utf8(`${P}:key_extract`), utf8(`${P}:key_expand`), 128);

    const { state, onionskin } = ntorClientCreate(suite, { nodeId: id, nodeOnionKey: B }, { x });
    expect(toHex(onionskin)).toBe(toHex(concatBytes(id, B, X)));
    const server = ntorServerHandle(suite, onionskin, { nodeId: id, onionKeys: [{ secret: b, public: B }] }, { y });
    expect(toHex(server.reply)).toBe(toHex(concatBytes(Y, auth)));
    expect(toHex(server.keyMaterial)).toBe(toHex(keys));
    expect(toHex(ntorClientComplete(suite, state, server.reply))).toBe(toHex(keys));
  });

  it('Tor and PSP parameters give different outputs for the same keys', () => {
    const b = patternBytes(32, 1);
    const B = suite.x25519PublicKey(b);
    const x = patternBytes(32, 2);
    const y = patternBytes(32, 3);
    const psp = ntorServerHandle(
      suite,
      ntorClientCreate(suite, { nodeId: patternBytes(32, 4), nodeOnionKey: B }, { x }).onionskin,
      { nodeId: patternBytes(32, 4), onionKeys: [{ secret: b, public: B }] },
      { y },
    );
    const tor = ntorServerHandle(
      suite,
      ntorClientCreate(suite, { nodeId: patternBytes(20, 4), nodeOnionKey: B, protocol: NTOR_TOR }, { x }).onionskin,
      { nodeId: patternBytes(20, 4), onionKeys: [{ secret: b, public: B }], protocol: NTOR_TOR },
      { y },
    );
    expect(toHex(psp.reply.subarray(0, 32))).toBe(toHex(tor.reply.subarray(0, 32))); // same Y
    expect(toHex(psp.reply.subarray(32))).not.toBe(toHex(tor.reply.subarray(32)));
  });
});

describe('onion key rotation', () => {
  it('a server holding current and previous keys answers onionskins for either', () => {
    const nodeId = patternBytes(32, 5);
    const current = onionKeyPair(50);
    const previous = onionKeyPair(60);
    for (const key of [current, previous]) {
      const { state, onionskin } = ntorClientCreate(suite, { nodeId, nodeOnionKey: key.public });
      const server = ntorServerHandle(suite, onionskin, { nodeId, onionKeys: [current, previous] });
      expect(toHex(ntorClientComplete(suite, state, server.reply))).toBe(toHex(server.keyMaterial));
    }
  });

  it('a retired key is refused with unknown-onion-key', () => {
    const nodeId = patternBytes(32, 5);
    const retired = onionKeyPair(70);
    const { onionskin } = ntorClientCreate(suite, { nodeId, nodeOnionKey: retired.public });
    expectCircuitError(
      () => ntorServerHandle(suite, onionskin, { nodeId, onionKeys: [onionKeyPair(50), onionKeyPair(60)] }),
      'unknown-onion-key',
    );
  });
});

describe('failures a peer can cause', () => {
  const nodeId = patternBytes(32, 8);
  const key = onionKeyPair(80);
  const serverKeys = { nodeId, onionKeys: [key] };

  it('wrong node id', () => {
    const { onionskin } = ntorClientCreate(suite, { nodeId: patternBytes(32, 9), nodeOnionKey: key.public });
    expectCircuitError(() => ntorServerHandle(suite, onionskin, serverKeys), 'wrong-node-id');
  });

  it.each([0, 95, 97, 84])('onionskin of %i bytes: bad-handshake-length', (len) => {
    expectCircuitError(() => ntorServerHandle(suite, new Uint8Array(len), serverKeys), 'bad-handshake-length');
  });

  it.each([
    ['zero', '0000000000000000000000000000000000000000000000000000000000000000'],
    ['order 8', 'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'],
    ['one', '0100000000000000000000000000000000000000000000000000000000000000'],
  ])('client key X of small order (%s): weak-key', (_name, point) => {
    const onionskin = concatBytes(nodeId, key.public, hex(point));
    expectCircuitError(() => ntorServerHandle(suite, onionskin, serverKeys), 'weak-key');
  });

  it('server key Y of small order: weak-key at the client', () => {
    const { state } = ntorClientCreate(suite, { nodeId, nodeOnionKey: key.public });
    expectCircuitError(() => ntorClientComplete(suite, state, new Uint8Array(64)), 'weak-key');
  });

  it.each([32, 40, 63, 0, 31])('a reply with byte %i flipped fails (bad-auth)', (pos) => {
    const { state, onionskin } = ntorClientCreate(suite, { nodeId, nodeOnionKey: key.public });
    const reply = ntorServerHandle(suite, onionskin, serverKeys).reply;
    reply[pos]! ^= 0x04;
    expectCircuitError(() => ntorClientComplete(suite, state, reply), 'bad-auth');
  });

  it('a reply from a server without the onion key fails (bad-auth)', () => {
    const { state, onionskin } = ntorClientCreate(suite, { nodeId, nodeOnionKey: key.public });
    // An impostor that knows the public key but not b: it answers with another secret.
    const impostor = ntorServerHandle(suite, onionskin, { nodeId, onionKeys: [{ secret: patternBytes(32, 99), public: key.public }] });
    expectCircuitError(() => ntorClientComplete(suite, state, impostor.reply), 'bad-auth');
  });

  it.each([0, 63, 65])('a reply of %i bytes: bad-handshake-length', (len) => {
    const { state } = ntorClientCreate(suite, { nodeId, nodeOnionKey: key.public });
    expectCircuitError(() => ntorClientComplete(suite, state, new Uint8Array(len)), 'bad-handshake-length');
  });
});

describe('client state is one-shot and zeroes its secret', () => {
  const nodeId = patternBytes(32, 12);
  const key = onionKeyPair(120);

  it('a second complete throws handshake-used, after success', () => {
    const { state, onionskin } = ntorClientCreate(suite, { nodeId, nodeOnionKey: key.public });
    const { reply } = ntorServerHandle(suite, onionskin, { nodeId, onionKeys: [key] });
    expect(state.used).toBe(false);
    ntorClientComplete(suite, state, reply);
    expect(state.used).toBe(true);
    expectCircuitError(() => ntorClientComplete(suite, state, reply), 'handshake-used');
  });

  it('a failed complete also consumes the state', () => {
    const { state, onionskin } = ntorClientCreate(suite, { nodeId, nodeOnionKey: key.public });
    const { reply } = ntorServerHandle(suite, onionskin, { nodeId, onionKeys: [key] });
    const bad = reply.slice();
    bad[50]! ^= 1;
    expectCircuitError(() => ntorClientComplete(suite, state, bad), 'bad-auth');
    expectCircuitError(() => ntorClientComplete(suite, state, reply), 'handshake-used');
  });

  it('the ephemeral secrets are zero after use; the onion key secret and the inputs are untouched', () => {
    const used: Uint8Array[] = [];
    const spy: CryptoSuite = {
      ...nobleSuite,
      x25519(secretKey, peer) {
        used.push(secretKey);
        return nobleSuite.x25519(secretKey, peer);
      },
    };
    const x = patternBytes(32, 13);
    const y = patternBytes(32, 14);
    const b = key.secret.slice();
    const { state, onionskin } = ntorClientCreate(spy, { nodeId, nodeOnionKey: key.public }, { x });
    const { reply } = ntorServerHandle(spy, onionskin, { nodeId, onionKeys: [{ secret: b, public: key.public }] }, { y });
    // Server side: [y, b]; y is the server's own copy and must be wiped, b belongs to the caller.
    expect(used).toHaveLength(2);
    expect(used[0]!.every((v) => v === 0)).toBe(true);
    expect(used[1]).toBe(b);
    expect(toHex(b)).toBe(toHex(key.secret));
    ntorClientComplete(spy, state, reply);
    expect(used).toHaveLength(4);
    expect(used[2]!.every((v) => v === 0)).toBe(true);
    expect(used[3]).toBe(used[2]); // the same internal copy of x, now zero
    // The injected values were copied, not wiped.
    expect(toHex(x)).toBe(toHex(patternBytes(32, 13)));
    expect(toHex(y)).toBe(toHex(patternBytes(32, 14)));
  });
});

describe('parameter checks', () => {
  const key = onionKeyPair(130);

  it('rejects wrong types and lengths with TypeError/RangeError naming the parameter', () => {
    expect(() => ntorClientCreate(suite, { nodeId: new Uint8Array(20), nodeOnionKey: key.public })).toThrow(/target\.nodeId/);
    expect(() => ntorClientCreate(suite, { nodeId: new Uint8Array(32), nodeOnionKey: new Uint8Array(31) })).toThrow(RangeError);
    expect(() => ntorClientCreate(suite, { nodeId: new Uint8Array(32), nodeOnionKey: key.public }, { x: new Uint8Array(16) })).toThrow(
      /inject\.x/,
    );
    expect(() => ntorServerHandle(suite, new Uint8Array(96), { nodeId: new Uint8Array(32), onionKeys: [] })).toThrow(/onionKeys/);
    expect(() =>
      ntorServerHandle(suite, new Uint8Array(96), { nodeId: new Uint8Array(32), onionKeys: [key], keyLength: 0 }),
    ).toThrow(/keyLength/);
    expect(() => ntorServerHandle(suite, 'x' as unknown as Uint8Array, { nodeId: new Uint8Array(32), onionKeys: [key] })).toThrow(
      TypeError,
    );
    const { state } = ntorClientCreate(suite, { nodeId: new Uint8Array(32), nodeOnionKey: key.public });
    expect(() => ntorClientComplete(suite, {} as never, new Uint8Array(64))).toThrow(TypeError);
    expect(() => ntorClientComplete(suite, state, new Uint8Array(64), 9000)).toThrow(/keyLength/);
    // A parameter error does not consume the state.
    expect(state.used).toBe(false);
  });
});
