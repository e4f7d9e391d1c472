/**
 * The ntor circuit handshake (tor-spec §5.1.4, "The ntor handshake"; PSP reference
 * binary/createhandshake.md), generalised over its protocol constants.
 *
 *   client:  x,X = KEYGEN();  onionskin = ID | B | X
 *   server:  y,Y = KEYGEN()
 *            secret_input = EXP(X,y) | EXP(X,b) | ID | B | X | Y | PROTOID
 *            verify       = H(secret_input, t_verify)
 *            auth_input   = verify | ID | B | Y | X | PROTOID | SERVER_SUFFIX
 *            reply        = Y | H(auth_input, t_mac)
 *   client:  recomputes secret_input from EXP(Y,x) | EXP(B,x), checks AUTH in constant time.
 *   both:    key material = HKDF-SHA256(IKM = secret_input, salt = t_key, info = m_expand)
 *            (RFC 5869; its extract step HMAC(t_key, secret_input) is Tor's KEY_SEED).
 *
 * H(x, t) is HMAC-SHA256 keyed with t. Two parameter sets are provided:
 *   NTOR_TOR  PROTOID "ntor-curve25519-sha256-1", suffix "Server", 20-byte ID (RSA fingerprint)
 *             — Tor's instantiation, used to check this code against Tor's published vectors.
 *   NTOR_PSP  PROTOID "psp-curve25519-sha256-01", suffix ":server" (as createhandshake.md
 *             writes it), 32-byte ID = the node's Ed25519 identity public key (DESIGN.md §3).
 *
 * Does not: pick onion keys, rotate them, or know about cells (see payloads.ts for the
 * CREATE/CREATED framing and relay-crypto.ts for how the key material is used).
 */
import type { CryptoSuite } from '../crypto/api';
import { CryptoError } from '../crypto/api';
import { assertBytes, concatBytes, equalBytes, utf8 } from '../util/bytes';
import { CircuitError } from './errors';

/** The constants that distinguish one instantiation of ntor from another. */
export interface NtorProtocol {
  /** PROTOID; t_mac, t_key, t_verify and m_expand are derived from it. */
  readonly protoId: string;
  /** The string appended to auth_input: "Server" in Tor, ":server" in PSP. */
  readonly serverSuffix: string;
  /** Length of the node ID in bytes. */
  readonly idLength: number;
}

/** Tor's ntor (tor-spec §5.1.4). */
export const NTOR_TOR: NtorProtocol = Object.freeze({
  protoId: 'ntor-curve25519-sha256-1',
  serverSuffix: 'Server',
  idLength: 20,
});

/** PSP's ntor (createhandshake.md), with the node's 32-byte Ed25519 identity key as ID. */
export const NTOR_PSP: NtorProtocol = Object.freeze({
  protoId: 'psp-curve25519-sha256-01',
  serverSuffix: ':server',
  idLength: 32,
});

/** Key material PSP circuits take from the handshake: Df | Db | Kf | Kb, 32 bytes each. */
export const NTOR_DEFAULT_KEY_LENGTH = 128;

const KEY_LEN = 32; // X25519 public and secret keys, HMAC-SHA256 output
/** Length of the server's reply: Y | AUTH. */
export const NTOR_REPLY_LENGTH = 2 * KEY_LEN;

/** Length of the client's onionskin for a protocol: ID | B | X. */
export function ntorOnionskinLength(protocol: NtorProtocol = NTOR_PSP): number {
  checkProtocol(protocol);
  return protocol.idLength + 2 * KEY_LEN;
}

interface Tweaks {
  protoId: Uint8Array;
  tMac: Uint8Array;
  tKey: Uint8Array;
  tVerify: Uint8Array;
  mExpand: Uint8Array;
  suffix: Uint8Array;
}

function checkProtocol(protocol: NtorProtocol): void {
  if (typeof protocol !== 'object' || protocol === null) throw new TypeError('protocol must be an NtorProtocol');
  if (typeof protocol.protoId !== 'string' || protocol.protoId.length === 0) {
    throw new TypeError('protocol.protoId must be a non-empty string');
  }
  if (typeof protocol.serverSuffix !== 'string') throw new TypeError('protocol.serverSuffix must be a string');
  if (!Number.isInteger(protocol.idLength) || protocol.idLength < 1 || protocol.idLength > 255) {
    throw new RangeError(`protocol.idLength must be an integer in 1..255, got ${protocol.idLength}`);
  }
}

function tweaks(protocol: NtorProtocol): Tweaks {
  const p = protocol.protoId;
  // tor-spec §5.1.4: t_mac = PROTOID | ":mac", t_key = PROTOID | ":key_extract",
  // t_verify = PROTOID | ":verify", m_expand = PROTOID | ":key_expand".
  return {
    protoId: utf8(p),
    tMac: utf8(`${p}:mac`),
    tKey: utf8(`${p}:key_extract`),
    tVerify: utf8(`${p}:verify`),
    mExpand: utf8(`${p}:key_expand`),
    suffix: utf8(protocol.serverSuffix),
  };
}

function checkKeyLength(keyLength: number, name: string): void {
  if (!Number.isInteger(keyLength) || keyLength < 1 || keyLength > 255 * 32) {
    throw new RangeError(`${name} must be an integer in 1..8160, got ${keyLength}`);
  }
}

/**
 * The ntor KDF: HKDF-SHA256 (RFC 5869 §2) with salt t_key and info m_expand over `secretInput`.
 * Exposed so the KDF alone can be checked against Tor's vectors.
 */
export function ntorExpand(
  suite: CryptoSuite,
  protocol: NtorProtocol,
  secretInput: Uint8Array,
  length: number,
): Uint8Array {
  checkProtocol(protocol);
  assertBytes(secretInput, 'secretInput');
  checkKeyLength(length, 'length');
  const t = tweaks(protocol);
  return suite.hkdfSha256(secretInput, t.tKey, t.mExpand, length);
}

function zero(...arrays: Uint8Array[]): void {
  for (const a of arrays) a.fill(0);
}

/** X25519 that reports an all-zero shared secret as CircuitError('weak-key'). */
function dh(suite: CryptoSuite, secret: Uint8Array, peer: Uint8Array, what: string): Uint8Array {
  try {
    return suite.x25519(secret, peer);
  } catch (e) {
    if (e instanceof CryptoError && e.code === 'weak-key') {
      throw new CircuitError('weak-key', `ntor: ${what} is a small-order point (all-zero shared secret)`);
    }
    throw e;
  }
}

/**
 * secret_input, and AUTH = H(auth_input, t_mac) (tor-spec §5.1.4). `exp1` is EXP(X,y) = EXP(Y,x),
 * `exp2` is EXP(X,b) = EXP(B,x). The caller zeroes the returned secretInput.
 */
function derive(
  suite: CryptoSuite,
  t: Tweaks,
  exp1: Uint8Array,
  exp2: Uint8Array,
  id: Uint8Array,
  B: Uint8Array,
  X: Uint8Array,
  Y: Uint8Array,
): { secretInput: Uint8Array; auth: Uint8Array } {
  // secret_input = EXP(X,y) | EXP(X,b) | ID | B | X | Y | PROTOID
  const secretInput = concatBytes(exp1, exp2, id, B, X, Y, t.protoId);
  // verify = H(secret_input, t_verify)
  const verify = suite.hmacSha256(t.tVerify, secretInput);
  // auth_input = verify | ID | B | Y | X | PROTOID | "Server"  (PSP: ":server")
  const authInput = concatBytes(verify, id, B, Y, X, t.protoId, t.suffix);
  const auth = suite.hmacSha256(t.tMac, authInput);
  zero(verify, authInput);
  return { secretInput, auth };
}

// ---------------------------------------------------------------------------------------------
// Client

interface ClientInternals {
  protocol: NtorProtocol;
  nodeId: Uint8Array;
  B: Uint8Array;
  x: Uint8Array;
  X: Uint8Array;
  used: boolean;
}

const clientInternals = new WeakMap<NtorClientState, ClientInternals>();
const CONSTRUCT = Symbol('NtorClientState');

/**
 * The client's half-finished handshake. Opaque (its secret lives outside the object, in a
 * module-private map); one-shot: `ntorClientComplete` consumes it, successful or not, zeroes
 * the ephemeral secret, and refuses a second use. Only `ntorClientCreate` makes one.
 */
export class NtorClientState {
  constructor(token: symbol) {
    if (token !== CONSTRUCT) throw new TypeError('NtorClientState is created by ntorClientCreate only');
  }
  /** True once `ntorClientComplete` has been called with this state. */
  get used(): boolean {
    return clientInternals.get(this)?.used ?? true;
  }
  /** The protocol this handshake was started with. */
  get protocol(): NtorProtocol {
    const i = clientInternals.get(this);
    if (i === undefined) throw new TypeError('state is not an NtorClientState');
    return i.protocol;
  }
}

export interface NtorServerTarget {
  /** The node's ID (NTOR_PSP: its 32-byte Ed25519 identity public key). */
  nodeId: Uint8Array;
  /** The node's X25519 onion key B, from its descriptor. */
  nodeOnionKey: Uint8Array;
  /** Defaults to NTOR_PSP. */
  protocol?: NtorProtocol;
}

/**
 * Starts a handshake with a node: generates x,X and returns the onionskin ID | B | X
 * (tor-spec §5.1.4, "NODEID | KEYID | CLIENT_PK"). `inject.x` replaces the random ephemeral
 * secret (tests, vector replay); it is copied, never retained.
 */
export function ntorClientCreate(
  suite: CryptoSuite,
  target: NtorServerTarget,
  inject?: { x?: Uint8Array },
): { state: NtorClientState; onionskin: Uint8Array } {
  if (typeof target !== 'object' || target === null) throw new TypeError('target must be an object');
  const protocol = target.protocol ?? NTOR_PSP;
  checkProtocol(protocol);
  assertBytes(target.nodeId, 'target.nodeId', protocol.idLength);
  assertBytes(target.nodeOnionKey, 'target.nodeOnionKey', KEY_LEN);
  if (inject?.x !== undefined) assertBytes(inject.x, 'inject.x', KEY_LEN);

  const x = inject?.x !== undefined ? inject.x.slice() : suite.randomBytes(KEY_LEN);
  const X = suite.x25519PublicKey(x);
  const nodeId = target.nodeId.slice();
  const B = target.nodeOnionKey.slice();
  const state = new NtorClientState(CONSTRUCT);
  clientInternals.set(state, { protocol, nodeId, B, x, X, used: false });
  return { state, onionskin: concatBytes(nodeId, B, X) };
}

/**
 * Finishes the client side: checks the reply Y | AUTH and returns `keyLength` bytes of key
 * material. Throws CircuitError 'bad-handshake-length', 'weak-key' or 'bad-auth' for a bad
 * reply, and 'handshake-used' when the state was already consumed. The state is consumed
 * and its secret zeroed whatever the outcome.
 */
export function ntorClientComplete(
  suite: CryptoSuite,
  state: NtorClientState,
  reply: Uint8Array,
  keyLength: number = NTOR_DEFAULT_KEY_LENGTH,
): Uint8Array {
  const s = state instanceof NtorClientState ? clientInternals.get(state) : undefined;
  if (s === undefined) throw new TypeError('state must be an NtorClientState from ntorClientCreate');
  assertBytes(reply, 'reply');
  checkKeyLength(keyLength, 'keyLength');
  if (s.used) throw new CircuitError('handshake-used', 'ntor: this client state was already used');
  s.used = true;

  let exp1: Uint8Array | undefined;
  let exp2: Uint8Array | undefined;
  let secretInput: Uint8Array | undefined;
  try {
    if (reply.length !== NTOR_REPLY_LENGTH) {
      throw new CircuitError('bad-handshake-length', `ntor: reply must be ${NTOR_REPLY_LENGTH} bytes, got ${reply.length}`);
    }
    const Y = reply.slice(0, KEY_LEN);
    const auth = reply.subarray(KEY_LEN, 2 * KEY_LEN);
    const t = tweaks(s.protocol);
    // Both exponentiations run before any check, so failure timing does not say which failed.
    exp1 = dh(suite, s.x, Y, 'server key Y'); // EXP(Y,x)
    exp2 = dh(suite, s.x, s.B, 'onion key B'); // EXP(B,x)
    const d = derive(suite, t, exp1, exp2, s.nodeId, s.B, s.X, Y);
    secretInput = d.secretInput;
    // "The client verifies that AUTH == H(auth_input, t_mac)" — constant-time comparison.
    if (!equalBytes(d.auth, auth)) throw new CircuitError('bad-auth', 'ntor: server AUTH does not verify');
    return suite.hkdfSha256(secretInput, t.tKey, t.mExpand, keyLength);
  } finally {
    zero(s.x);
    if (exp1) zero(exp1);
    if (exp2) zero(exp2);
    if (secretInput) zero(secretInput);
  }
}

// ---------------------------------------------------------------------------------------------
// Server

export interface NtorOnionKeyPair {
  /** X25519 secret b (32 bytes). */
  secret: Uint8Array;
  /** X25519 public B = X25519(b, 9) (32 bytes); not re-derived here. */
  public: Uint8Array;
}

export interface NtorServerKeys {
  /** This node's ID (NTOR_PSP: its Ed25519 identity public key). */
  nodeId: Uint8Array;
  /** The onion keys this node answers to: the current one and, during rotation, the previous. */
  onionKeys: readonly NtorOnionKeyPair[];
  /** Defaults to NTOR_PSP. */
  protocol?: NtorProtocol;
  /** Bytes of key material to derive; defaults to NTOR_DEFAULT_KEY_LENGTH (128). */
  keyLength?: number;
}

/**
 * The server side: reads the onionskin ID | B | X, answers with Y | AUTH and derives the key
 * material. Throws CircuitError 'bad-handshake-length', 'wrong-node-id', 'unknown-onion-key'
 * or 'weak-key' for an unacceptable onionskin. `inject.y` replaces the random ephemeral secret.
 */
export function ntorServerHandle(
  suite: CryptoSuite,
  onionskin: Uint8Array,
  keys: NtorServerKeys,
  inject?: { y?: Uint8Array },
): { reply: Uint8Array; keyMaterial: Uint8Array } {
  assertBytes(onionskin, 'onionskin');
  if (typeof keys !== 'object' || keys === null) throw new TypeError('keys must be an object');
  const protocol = keys.protocol ?? NTOR_PSP;
  checkProtocol(protocol);
  assertBytes(keys.nodeId, 'keys.nodeId', protocol.idLength);
  if (!Array.isArray(keys.onionKeys) || keys.onionKeys.length === 0) {
    throw new RangeError('keys.onionKeys must be a non-empty array');
  }
  keys.onionKeys.forEach((k, i) => {
    if (typeof k !== 'object' || k === null) throw new TypeError(`keys.onionKeys[${i}] must be an object`);
    assertBytes(k.secret, `keys.onionKeys[${i}].secret`, KEY_LEN);
    assertBytes(k.public, `keys.onionKeys[${i}].public`, KEY_LEN);
  });
  const keyLength = keys.keyLength ?? NTOR_DEFAULT_KEY_LENGTH;
  checkKeyLength(keyLength, 'keys.keyLength');
  if (inject?.y !== undefined) assertBytes(inject.y, 'inject.y', KEY_LEN);

  const idLen = protocol.idLength;
  if (onionskin.length !== idLen + 2 * KEY_LEN) {
    throw new CircuitError(
      'bad-handshake-length',
      `ntor: onionskin must be ${idLen + 2 * KEY_LEN} bytes, got ${onionskin.length}`,
    );
  }
  const id = onionskin.slice(0, idLen);
  const B = onionskin.slice(idLen, idLen + KEY_LEN);
  const X = onionskin.slice(idLen + KEY_LEN);

  if (!equalBytes(id, keys.nodeId)) throw new CircuitError('wrong-node-id', 'ntor: onionskin is for another node');
  // Look the onion key up without an early exit, so timing does not tell which key matched.
  let match = -1;
  keys.onionKeys.forEach((k, i) => {
    const eq = equalBytes(k.public, B);
    match = eq && match < 0 ? i : match;
  });
  const pair = keys.onionKeys[match];
  if (pair === undefined) throw new CircuitError('unknown-onion-key', 'ntor: onionskin names an unknown onion key');

  const y = inject?.y !== undefined ? inject.y.slice() : suite.randomBytes(KEY_LEN);
  let exp1: Uint8Array | undefined;
  let exp2: Uint8Array | undefined;
  let secretInput: Uint8Array | undefined;
  try {
    const Y = suite.x25519PublicKey(y);
    const t = tweaks(protocol);
    exp1 = dh(suite, y, X, 'client key X'); // EXP(X,y)
    exp2 = dh(suite, pair.secret, X, 'client key X'); // EXP(X,b)
    const d = derive(suite, t, exp1, exp2, id, B, X, Y);
    secretInput = d.secretInput;
    const keyMaterial = suite.hkdfSha256(secretInput, t.tKey, t.mExpand, keyLength);
    return { reply: concatBytes(Y, d.auth), keyMaterial };
  } finally {
    zero(y);
    if (exp1) zero(exp1);
    if (exp2) zero(exp2);
    if (secretInput) zero(secretInput);
  }
}
