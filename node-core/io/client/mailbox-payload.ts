/**
 * What a sealed mailbox item carries for chat: chat frames that a peer has not acknowledged,
 * batched so that few items are needed, and split when one frame is larger than an item.
 *
 * Payload, big-endian:
 *   kind u8
 *   0 batch:    count u16 (1..1024) | { length u32 | frame }      — whole frames
 *   1 fragment: frame digest 16 (first bytes of SHA-256(frame)) | index u8 | count u8 (2..255) |
 *               bytes                                             — part of one frame
 * A receiver reassembles fragments with the same digest, and keeps the frame only if its
 * SHA-256 matches. The mailbox item itself is sealed and signed (node-core/rendezvous/mailbox.ts),
 * so this format only has to be strict, not secret.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, equalBytes, Reader, toHex, Writer } from '../../util/bytes';

export const MAILBOX_PAYLOAD_MAX = 56 * 1024;
const DIGEST = 16;
const MAX_BATCH = 1024;

export class MailboxPayloadError extends Error {
  override readonly name = 'MailboxPayloadError';
}

export type MailboxPayload =
  | { kind: 'batch'; frames: Uint8Array[] }
  | { kind: 'fragment'; digest: Uint8Array; index: number; count: number; bytes: Uint8Array };

/** Packs frames into as few payloads of at most `max` bytes as possible, in order. */
export function packFrames(frames: readonly Uint8Array[], max = MAILBOX_PAYLOAD_MAX): Uint8Array[] {
  const out: Uint8Array[] = [];
  let batch: Uint8Array[] = [];
  let size = 3;
  const flush = () => {
    if (!batch.length) return;
    const w = new Writer().u8(0).u16(batch.length);
    for (const f of batch) w.u32(f.length).bytes(f);
    out.push(w.finish());
    batch = [];
    size = 3;
  };
  for (const f of frames) {
    if (!(f instanceof Uint8Array) || f.length === 0) throw new TypeError('frames must be non-empty Uint8Arrays');
    if (3 + 4 + f.length > max) {
      flush();
      const part = max - (1 + DIGEST + 2);
      const count = Math.ceil(f.length / part);
      if (count > 255) throw new RangeError(`a frame of ${f.length} bytes needs more than 255 fragments`);
      const digest = sha256(f).subarray(0, DIGEST);
      for (let i = 0; i < count; i++) {
        out.push(new Writer().u8(1).bytes(digest).u8(i).u8(count).bytes(f.subarray(i * part, (i + 1) * part)).finish());
      }
      continue;
    }
    if (size + 4 + f.length > max || batch.length === MAX_BATCH) flush();
    batch.push(f);
    size += 4 + f.length;
  }
  flush();
  return out;
}

export function decodeMailboxPayload(bytes: Uint8Array): MailboxPayload {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  const r = new Reader(bytes, (what) => new MailboxPayloadError(`mailbox payload too short (${what})`));
  const kind = r.u8('kind');
  if (kind === 0) {
    const count = r.u16('count');
    if (count < 1 || count > MAX_BATCH) throw new MailboxPayloadError(`batch of ${count} frames`);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const len = r.u32('frame length');
      if (len < 1) throw new MailboxPayloadError('empty frame');
      frames.push(r.bytes(len, 'frame').slice());
    }
    if (r.remaining) throw new MailboxPayloadError(`${r.remaining} bytes after the last frame`);
    return { kind: 'batch', frames };
  }
  if (kind === 1) {
    const digest = r.bytes(DIGEST, 'digest').slice();
    const index = r.u8('index');
    const count = r.u8('count');
    if (count < 2 || index >= count) throw new MailboxPayloadError(`fragment ${index} of ${count}`);
    const rest = r.rest();
    if (!rest.length) throw new MailboxPayloadError('empty fragment');
    return { kind: 'fragment', digest, index, count, bytes: rest.slice() };
  }
  throw new MailboxPayloadError(`unknown payload kind ${kind}`);
}

/**
 * Collects fragments until frames are whole. `add` returns the frames a payload completes (for a
 * batch, its frames), and the keys of the items that made them (so they can be acknowledged).
 */
export class FragmentCollector {
  private readonly parts = new Map<string, { count: number; got: Map<number, Uint8Array>; items: Set<string> }>();

  constructor(private readonly maxPending = 64) {}

  add(itemKey: string, p: MailboxPayload): { frames: Uint8Array[]; items: string[] } {
    if (p.kind === 'batch') return { frames: p.frames, items: [itemKey] };
    const key = toHex(p.digest);
    let e = this.parts.get(key);
    if (!e) {
      if (this.parts.size >= this.maxPending) return { frames: [], items: [] };
      e = { count: p.count, got: new Map(), items: new Set() };
      this.parts.set(key, e);
    }
    if (e.count !== p.count) return { frames: [], items: [itemKey] };
    e.got.set(p.index, p.bytes);
    e.items.add(itemKey);
    if (e.got.size < e.count) return { frames: [], items: [] };
    this.parts.delete(key);
    const frame = concatBytes(...Array.from({ length: e.count }, (_, i) => e.got.get(i)!));
    const items = [...e.items];
    if (!equalBytes(sha256(frame).subarray(0, DIGEST), p.digest)) return { frames: [], items };
    return { frames: [frame], items };
  }
}
