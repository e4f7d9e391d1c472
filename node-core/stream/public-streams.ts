/**
 * Public streams in the DHT (seed 004 §8.2: "public streams are published in the DHT by the
 * landing node"; DESIGN §3 "Live streams"). Each landing node owns one record under
 * SHA-256("public-streams" ‖ its identity key) (node-core/dht/record.ts key rules), signed by it
 * and co-signed by the DHT node that stores it, listing the public streams it carries now. A
 * client finds public streams by looking up that key for each listed landing node; the node list
 * gives the address to join at.
 *
 * Value (format 1), at most DEFAULT_MAX_VALUE_BYTES (1,024):
 *   format   u8 = 1
 *   count    u8   0..MAX_PUBLIC_STREAMS_PER_RECORD
 *   count ×  streamId 16 | stream keys 70 (invite.ts: a public stream's keys are public) |
 *            titleLen u8 (1..64) | title UTF-8 (one line)
 * An empty list (count 0) replaces an earlier one when the last public stream ends.
 *
 * `decodePublicStreams` throws only StreamError.
 */
import type { CryptoSuite } from '../crypto/api';
import { Writer } from '../util/bytes';
import { checkInput } from '../util/codec';
import { deriveRecordKey } from '../dht/record';
import { STREAM_ID_LENGTH, checkObject, dec, fail, readText, writeText, type TextField } from './internal';
import { type StreamKeys, STREAM_KEYS_LENGTH, checkStreamKeys, readStreamKeys, writeStreamKeys } from './invite';

export const PUBLIC_STREAMS_NAMESPACE = 'public-streams';
export const PUBLIC_STREAMS_FORMAT = 1;
export const PUBLIC_TITLE_FIELD: TextField = { minBytes: 1, maxBytes: 64, lengthBits: 8, multiline: false };
const ENTRY_MAX = STREAM_ID_LENGTH + STREAM_KEYS_LENGTH + 1 + PUBLIC_TITLE_FIELD.maxBytes;
/** As many entries as fit the DHT's 1,024-byte value limit at their largest. */
export const MAX_PUBLIC_STREAMS_PER_RECORD = Math.floor((1024 - 2) / ENTRY_MAX);

export interface PublicStreamEntry {
  readonly streamId: Uint8Array;
  readonly keys: StreamKeys;
  /** 1..64 bytes of UTF-8, one line (a longer title is cut by `publicTitle`). */
  readonly title: string;
}

/** The DHT key of a landing node's public-streams record. */
export function publicStreamsKey(suite: CryptoSuite, landing: Uint8Array): Uint8Array {
  return deriveRecordKey(suite, PUBLIC_STREAMS_NAMESPACE, landing);
}

/** A title cut to PUBLIC_TITLE_FIELD's 64 bytes on a character boundary, line breaks made spaces. */
export function publicTitle(title: string): string {
  let t = title.replace(/[\r\n\t]+/g, ' ').trim() || 'Untitled';
  while (new TextEncoder().encode(t).length > PUBLIC_TITLE_FIELD.maxBytes) t = [...t].slice(0, -1).join('');
  return t;
}

export function encodePublicStreams(entries: readonly PublicStreamEntry[]): Uint8Array {
  if (!Array.isArray(entries)) throw new TypeError('entries must be an array');
  if (entries.length > MAX_PUBLIC_STREAMS_PER_RECORD) throw new RangeError(`at most ${MAX_PUBLIC_STREAMS_PER_RECORD} public streams fit one record`);
  const w = new Writer().u8(PUBLIC_STREAMS_FORMAT).u8(entries.length);
  entries.forEach((e, i) => {
    checkObject(e, `entries[${i}]`);
    if (!(e.streamId instanceof Uint8Array) || e.streamId.length !== STREAM_ID_LENGTH) throw new RangeError(`entries[${i}].streamId must be ${STREAM_ID_LENGTH} bytes`);
    checkStreamKeys(e.keys, `entries[${i}].keys`);
    w.bytes(e.streamId);
    writeStreamKeys(w, e.keys);
    writeText(w, e.title, PUBLIC_TITLE_FIELD, `entries[${i}].title`);
  });
  return w.finish();
}

export function decodePublicStreams(bytes: Uint8Array): PublicStreamEntry[] {
  checkInput(bytes, 'bytes');
  const what = 'public streams';
  const r = dec.reader(bytes, what);
  const format = r.u8('format');
  if (format !== PUBLIC_STREAMS_FORMAT) throw fail('malformed', `${what}: unknown format ${format}`);
  const count = r.u8('count');
  if (count > MAX_PUBLIC_STREAMS_PER_RECORD) throw fail('malformed', `${what}: ${count} entries is more than ${MAX_PUBLIC_STREAMS_PER_RECORD}`);
  const out: PublicStreamEntry[] = [];
  for (let i = 0; i < count; i++) {
    const streamId = r.bytes(STREAM_ID_LENGTH, 'streamId').slice();
    const keys = readStreamKeys(r, `${what} keys`);
    const title = readText(r, PUBLIC_TITLE_FIELD, `${what} title`);
    out.push({ streamId, keys, title });
  }
  dec.expectEnd(r, what);
  return out;
}
