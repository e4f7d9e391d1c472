/**
 * Payload codecs for circuit construction and teardown (PSP reference binary/create.md,
 * created.md, destroy.md; relay/extend.md, extended.md), as this implementation uses them.
 *
 * CREATE (cell payload):   HandshakeType u16 | HandshakeLen u16 | Handshake
 *   HandshakeType 2 = "ntor-v1 PSP": the ntor of ntor.ts with NTOR_PSP, Handshake = the
 *   96-byte onionskin ID(32, Ed25519 identity) | B(32) | X(32). Type 1 is the reference's
 *   "PSP 0.1" (SHA-256 of an RSA identity as ID); it is not supported and is rejected.
 * CREATED (cell payload):  HandshakeLen u16 | Handshake (= Y(32) | AUTH(32), 64 bytes)
 * EXTEND (relay data):     N u8 | N × (type u8 | len u8 | value) | CREATE payload
 *   Link specifier types (the reference's numbering; address entries carry a port, as Tor's do):
 *     0  IPv4     4-byte address | port u16   (len 6)
 *     1  IPv6    16-byte address | port u16   (len 18)
 *     2  Ed25519 identity key                 (len 32)
 *   The reference's type 3 (hostname) is not supported: a relay never resolves names for a
 *   client. An EXTEND must carry exactly one identity, at least one address, no type twice,
 *   and its identity must equal the ID inside the handshake.
 * EXTENDED (relay data):   same layout as CREATED.
 * DESTROY (cell payload):  Reason u8; TRUNCATED (relay data): Reason u8. Reason codes follow
 *   tor-spec §5.4 (values 0..11); the reference's own five-code table is not used.
 *
 * Cell-payload decoders (CREATE, CREATED, DESTROY) take the fixed cell's payload: bytes after
 * the content must be zero padding, and at most 509 bytes are accepted. Relay-data decoders
 * (EXTEND, EXTENDED, TRUNCATED) take exactly the relay cell's `data` and allow no extra bytes.
 * Encoders return the content without padding (the cell codec pads). Every decoder throws
 * CircuitError only (TypeError for a non-Uint8Array argument); every encoder validates its
 * input with the same rules and throws TypeError/RangeError.
 *
 * Does not: perform the handshake (ntor.ts), open connections, or choose DESTROY reasons.
 */
import { Reader, Writer, assertBytes, equalBytes } from '../util/bytes';
import { CircuitError, type CircuitErrorCode } from './errors';
import { NTOR_PSP, NTOR_REPLY_LENGTH, ntorOnionskinLength } from './ntor';
import { RELAY_PAYLOAD_LENGTH } from './relay-cell';

// ---------------------------------------------------------------------------------------------
// Shared helpers

function reader(bytes: Uint8Array, what: string): Reader {
  return new Reader(bytes, (field) => new CircuitError('truncated', `${what}: input ends inside ${field}`));
}

function checkInput(bytes: unknown, name: string): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
}

function checkCellPayload(bytes: Uint8Array, what: string): void {
  if (bytes.length > RELAY_PAYLOAD_LENGTH) {
    throw new CircuitError('bad-payload-length', `${what}: cell payload over ${RELAY_PAYLOAD_LENGTH} bytes (${bytes.length})`);
  }
}

function expectEnd(r: Reader, what: string): void {
  if (r.remaining !== 0) throw new CircuitError('trailing-bytes', `${what}: ${r.remaining} unexpected trailing bytes`);
}

function expectZeroPadding(r: Reader, what: string): void {
  const rest = r.rest();
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] !== 0) throw new CircuitError('nonzero-padding', `${what}: padding byte ${i} after the content is not zero`);
  }
}

// ---------------------------------------------------------------------------------------------
// CREATE

export const HandshakeType = Object.freeze({
  /** ntor with NTOR_PSP parameters; the handshake is the 96-byte onionskin ID | B | X. */
  NtorV1Psp: 2,
} as const);
export type HandshakeType = (typeof HandshakeType)[keyof typeof HandshakeType];

const HANDSHAKE_LENGTHS: ReadonlyMap<number, number> = new Map([[HandshakeType.NtorV1Psp, ntorOnionskinLength(NTOR_PSP)]]);

export interface CreatePayload {
  handshakeType: HandshakeType;
  /** The client's onionskin; its length is fixed by the handshake type (96 for NtorV1Psp). */
  handshake: Uint8Array;
}

function validateCreate(p: CreatePayload, name: string): void {
  if (typeof p !== 'object' || p === null) throw new TypeError(`${name} must be an object`);
  const expected = HANDSHAKE_LENGTHS.get(p.handshakeType);
  if (expected === undefined) throw new RangeError(`${name}.handshakeType is not supported: ${String(p.handshakeType)}`);
  assertBytes(p.handshake, `${name}.handshake`, expected);
}

function writeCreate(w: Writer, p: CreatePayload): void {
  w.u16(p.handshakeType).u16(p.handshake.length).bytes(p.handshake);
}

function readCreate(r: Reader, what: string): CreatePayload {
  const type = r.u16('HandshakeType');
  const expected = HANDSHAKE_LENGTHS.get(type);
  if (expected === undefined) throw new CircuitError('unknown-handshake-type', `${what}: unsupported handshake type ${type}`);
  const len = r.u16('HandshakeLen');
  if (len !== expected) {
    throw new CircuitError('bad-handshake-length', `${what}: handshake type ${type} needs ${expected} bytes, HandshakeLen is ${len}`);
  }
  return { handshakeType: type as HandshakeType, handshake: r.bytes(len, 'Handshake').slice() };
}

export function encodeCreate(payload: CreatePayload): Uint8Array {
  validateCreate(payload, 'payload');
  const w = new Writer();
  writeCreate(w, payload);
  return w.finish();
}

export function decodeCreate(bytes: Uint8Array): CreatePayload {
  checkInput(bytes, 'bytes');
  checkCellPayload(bytes, 'CREATE');
  const r = reader(bytes, 'CREATE');
  const p = readCreate(r, 'CREATE');
  expectZeroPadding(r, 'CREATE');
  return p;
}

// ---------------------------------------------------------------------------------------------
// CREATED / EXTENDED

export interface CreatedPayload {
  /** The server's reply Y | AUTH (64 bytes). */
  handshake: Uint8Array;
}

function validateCreated(p: CreatedPayload, name: string): void {
  if (typeof p !== 'object' || p === null) throw new TypeError(`${name} must be an object`);
  assertBytes(p.handshake, `${name}.handshake`, NTOR_REPLY_LENGTH);
}

function encodeCreatedLike(p: CreatedPayload): Uint8Array {
  validateCreated(p, 'payload');
  return new Writer().u16(p.handshake.length).bytes(p.handshake).finish();
}

function readCreated(r: Reader, what: string): CreatedPayload {
  const len = r.u16('HandshakeLen');
  if (len !== NTOR_REPLY_LENGTH) {
    throw new CircuitError('bad-handshake-length', `${what}: HandshakeLen must be ${NTOR_REPLY_LENGTH}, got ${len}`);
  }
  return { handshake: r.bytes(len, 'Handshake').slice() };
}

export function encodeCreated(payload: CreatedPayload): Uint8Array {
  return encodeCreatedLike(payload);
}

export function decodeCreated(bytes: Uint8Array): CreatedPayload {
  checkInput(bytes, 'bytes');
  checkCellPayload(bytes, 'CREATED');
  const r = reader(bytes, 'CREATED');
  const p = readCreated(r, 'CREATED');
  expectZeroPadding(r, 'CREATED');
  return p;
}

/** EXTENDED carries a CREATED payload (relay/extended.md). */
export function encodeExtended(payload: CreatedPayload): Uint8Array {
  return encodeCreatedLike(payload);
}

export function decodeExtended(bytes: Uint8Array): CreatedPayload {
  checkInput(bytes, 'bytes');
  const r = reader(bytes, 'EXTENDED');
  const p = readCreated(r, 'EXTENDED');
  expectEnd(r, 'EXTENDED');
  return p;
}

// ---------------------------------------------------------------------------------------------
// EXTEND

export const LinkSpecifierType = Object.freeze({ IPv4: 0, IPv6: 1, Ed25519: 2 } as const);

export type LinkSpecifier =
  | { type: 'ipv4'; address: Uint8Array; port: number }
  | { type: 'ipv6'; address: Uint8Array; port: number }
  | { type: 'ed25519'; identity: Uint8Array };

export interface ExtendPayload {
  linkSpecifiers: LinkSpecifier[];
  /** Passed unchanged as the payload of the CREATE cell the relay sends (relay/extend.md). */
  create: CreatePayload;
}

const SPEC_CODE = { ipv4: LinkSpecifierType.IPv4, ipv6: LinkSpecifierType.IPv6, ed25519: LinkSpecifierType.Ed25519 } as const;
const ADDR_LEN = { ipv4: 4, ipv6: 16 } as const;

/** The ID inside a CREATE handshake (NtorV1Psp: the first 32 bytes of the onionskin). */
function handshakeNodeId(create: CreatePayload): Uint8Array {
  return create.handshake.subarray(0, NTOR_PSP.idLength);
}

/**
 * The EXTEND rules that span specifiers. `fail` turns a violation into the right kind of
 * error: CircuitError when decoding, RangeError when encoding.
 */
function checkExtendRules(p: ExtendPayload, fail: (code: CircuitErrorCode, msg: string) => Error): void {
  const seen = new Set<string>();
  let identity: Uint8Array | undefined;
  let addresses = 0;
  for (const s of p.linkSpecifiers) {
    if (seen.has(s.type)) throw fail('duplicate-link-specifier', `EXTEND: link specifier ${s.type} appears twice`);
    seen.add(s.type);
    if (s.type === 'ed25519') identity = s.identity;
    else addresses++;
  }
  if (identity === undefined) throw fail('missing-identity', 'EXTEND: no Ed25519 identity link specifier');
  if (addresses === 0) throw fail('missing-address', 'EXTEND: no IPv4 or IPv6 link specifier');
  if (!equalBytes(identity, handshakeNodeId(p.create))) {
    throw fail('identity-mismatch', 'EXTEND: identity link specifier differs from the ID in the handshake');
  }
}

function validateExtend(p: ExtendPayload): void {
  if (typeof p !== 'object' || p === null) throw new TypeError('payload must be an object');
  if (!Array.isArray(p.linkSpecifiers)) throw new TypeError('payload.linkSpecifiers must be an array');
  if (p.linkSpecifiers.length > 255) throw new RangeError('payload.linkSpecifiers has more than 255 entries');
  p.linkSpecifiers.forEach((s, i) => {
    const name = `payload.linkSpecifiers[${i}]`;
    if (typeof s !== 'object' || s === null) throw new TypeError(`${name} must be an object`);
    if (s.type === 'ipv4' || s.type === 'ipv6') {
      assertBytes(s.address, `${name}.address`, ADDR_LEN[s.type]);
      if (!Number.isInteger(s.port) || s.port < 1 || s.port > 0xffff) {
        throw new RangeError(`${name}.port must be an integer in 1..65535, got ${s.port}`);
      }
    } else if (s.type === 'ed25519') {
      assertBytes(s.identity, `${name}.identity`, 32);
    } else {
      throw new RangeError(`${name}.type must be 'ipv4', 'ipv6' or 'ed25519'`);
    }
  });
  validateCreate(p.create, 'payload.create');
  checkExtendRules(p, (_code, msg) => new RangeError(msg));
}

export function encodeExtend(payload: ExtendPayload): Uint8Array {
  validateExtend(payload);
  const w = new Writer().u8(payload.linkSpecifiers.length);
  for (const s of payload.linkSpecifiers) {
    if (s.type === 'ed25519') {
      w.u8(SPEC_CODE.ed25519).u8(32).bytes(s.identity);
    } else {
      w.u8(SPEC_CODE[s.type]).u8(s.address.length + 2).bytes(s.address).u16(s.port);
    }
  }
  writeCreate(w, payload.create);
  return w.finish();
}

function readLinkSpecifier(r: Reader): LinkSpecifier {
  const type = r.u8('link specifier type');
  const len = r.u8('link specifier length');
  const value = r.bytes(len, 'link specifier value');
  switch (type) {
    case LinkSpecifierType.IPv4:
    case LinkSpecifierType.IPv6: {
      const kind = type === LinkSpecifierType.IPv4 ? 'ipv4' : 'ipv6';
      const addrLen = ADDR_LEN[kind];
      if (len !== addrLen + 2) {
        throw new CircuitError('bad-link-specifier', `EXTEND: ${kind} link specifier must be ${addrLen + 2} bytes, got ${len}`);
      }
      const port = (value[addrLen]! << 8) | value[addrLen + 1]!;
      if (port === 0) throw new CircuitError('bad-link-specifier', `EXTEND: ${kind} link specifier has port 0`);
      return { type: kind, address: value.slice(0, addrLen), port };
    }
    case LinkSpecifierType.Ed25519:
      if (len !== 32) throw new CircuitError('bad-link-specifier', `EXTEND: ed25519 link specifier must be 32 bytes, got ${len}`);
      return { type: 'ed25519', identity: value.slice() };
    default:
      throw new CircuitError('unknown-link-specifier', `EXTEND: unsupported link specifier type ${type}`);
  }
}

export function decodeExtend(bytes: Uint8Array): ExtendPayload {
  checkInput(bytes, 'bytes');
  const r = reader(bytes, 'EXTEND');
  const n = r.u8('link specifier count');
  const linkSpecifiers: LinkSpecifier[] = [];
  for (let i = 0; i < n; i++) linkSpecifiers.push(readLinkSpecifier(r));
  const create = readCreate(r, 'EXTEND');
  expectEnd(r, 'EXTEND');
  const p = { linkSpecifiers, create };
  checkExtendRules(p, (code, msg) => new CircuitError(code, msg));
  return p;
}

// ---------------------------------------------------------------------------------------------
// DESTROY / TRUNCATED

/** Why a circuit was closed (tor-spec §5.4 values). */
export const DestroyReason = Object.freeze({
  /** No reason given. */
  None: 0,
  /** A peer violated the protocol (bad handshake, unrecognized cell, malformed payload). */
  Protocol: 1,
  /** An internal error at the sender. */
  Internal: 2,
  /** The client asked for the circuit to close. */
  Requested: 3,
  /** The node is shutting down or not accepting circuits. */
  Hibernating: 4,
  /** Out of memory, sockets or circuit-creation budget (rate limits). */
  ResourceLimit: 5,
  /** Could not connect to the node an EXTEND named. */
  ConnectFailed: 6,
  /** The node an EXTEND reached did not prove the identity the EXTEND named. */
  WrongIdentity: 7,
  /** The link the circuit used closed. */
  ChannelClosed: 8,
  /** The circuit's purpose is complete. */
  Finished: 9,
  /** Building or using the circuit took too long. */
  Timeout: 10,
  /** The circuit was destroyed further along (propagation of a DESTROY). */
  Destroyed: 11,
} as const);
export type DestroyReason = (typeof DestroyReason)[keyof typeof DestroyReason];

const KNOWN_REASONS: ReadonlySet<number> = new Set(Object.values(DestroyReason));

export function isDestroyReason(value: unknown): value is DestroyReason {
  return typeof value === 'number' && KNOWN_REASONS.has(value);
}

function checkReason(reason: DestroyReason): void {
  if (!isDestroyReason(reason)) throw new RangeError(`reason is not a known DestroyReason: ${String(reason)}`);
}

function readReason(r: Reader, what: string): DestroyReason {
  const code = r.u8('Reason');
  if (!isDestroyReason(code)) throw new CircuitError('unknown-destroy-reason', `${what}: unknown reason code ${code}`);
  return code;
}

export function encodeDestroy(reason: DestroyReason): Uint8Array {
  checkReason(reason);
  return Uint8Array.of(reason);
}

/**
 * Decodes a DESTROY cell payload. A driver should tear the circuit down even when this throws;
 * the error only says the reason byte itself was unacceptable.
 */
export function decodeDestroy(bytes: Uint8Array): DestroyReason {
  checkInput(bytes, 'bytes');
  checkCellPayload(bytes, 'DESTROY');
  const r = reader(bytes, 'DESTROY');
  const reason = readReason(r, 'DESTROY');
  expectZeroPadding(r, 'DESTROY');
  return reason;
}

export function encodeTruncated(reason: DestroyReason): Uint8Array {
  checkReason(reason);
  return Uint8Array.of(reason);
}

export function decodeTruncated(bytes: Uint8Array): DestroyReason {
  checkInput(bytes, 'bytes');
  const r = reader(bytes, 'TRUNCATED');
  const reason = readReason(r, 'TRUNCATED');
  expectEnd(r, 'TRUNCATED');
  return reason;
}
