/**
 * Raw writers for the directory layouts, written from the format descriptions in the module
 * headers and WITHOUT the encoders' validation, so tests can build bytes the encoders refuse to
 * produce (port 0, unknown role bits, …) and sign them. They also check the documented layouts
 * independently: a test asserts that these writers and the real encoders agree on valid input.
 * Test helper, not a test file.
 */
import { Writer, concatBytes, utf8 } from '../../node-core/util/bytes';
import { suite } from './helpers';

export interface RawAddress {
  family: number;
  bytes: Uint8Array;
  port: number;
}

export interface RawDescriptor {
  format: number;
  identity: Uint8Array;
  onionKey: Uint8Array;
  roles: number;
  bandwidth: number;
  publishedAt: bigint;
  validUntil: bigint;
  addresses: RawAddress[];
  version: string;
  nickname: string;
}

export const ip4 = (a: number, b: number, c: number, d: number, port = 9001): RawAddress => ({
  family: 4,
  bytes: Uint8Array.of(a, b, c, d),
  port,
});

export function rawDescriptorBody(d: RawDescriptor): Uint8Array {
  const w = new Writer().u8(d.format).bytes(d.identity).bytes(d.onionKey).u8(d.roles).u32(d.bandwidth).u64(d.publishedAt).u64(d.validUntil);
  w.u8(d.addresses.length);
  for (const a of d.addresses) w.u8(a.family).bytes(a.bytes).u16(a.port);
  const v = utf8(d.version);
  const n = utf8(d.nickname);
  return w.u8(v.length).bytes(v).u8(n.length).bytes(n).finish();
}

/** Ed25519 over SHA-256(context ‖ body), as the module headers document. */
export function rawSign(context: string, body: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return suite.ed25519Sign(suite.sha256(concatBytes(utf8(context), body)), secretKey);
}

export function rawSignedDescriptor(body: Uint8Array, signature: Uint8Array): Uint8Array {
  return new Writer().u16(body.length).bytes(body).bytes(signature).finish();
}

export function rawSignedVote(body: Uint8Array, signature: Uint8Array): Uint8Array {
  return new Writer().u32(body.length).bytes(body).bytes(signature).finish();
}

export function rawVoteBody(network: string, voter: Uint8Array, period: bigint, descriptors: readonly Uint8Array[], format = 1): Uint8Array {
  const w = new Writer().u8(format).u8(network.length).bytes(utf8(network)).bytes(voter).u64(period).u32(descriptors.length);
  for (const d of descriptors) w.u16(d.length).bytes(d);
  return w.finish();
}

export function rawSignedConsensus(body: Uint8Array, signatures: readonly { signer: Uint8Array; signature: Uint8Array }[], format = 1): Uint8Array {
  const w = new Writer().u8(format).u32(body.length).bytes(body).u8(signatures.length);
  for (const s of signatures) w.bytes(s.signer).bytes(s.signature);
  return w.finish();
}
