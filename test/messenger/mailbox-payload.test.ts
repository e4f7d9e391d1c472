/**
 * The chat payload of mailbox items: frames batched into few items, a frame larger than an item
 * split into fragments and put together again only when whole and matching its digest.
 */
import { describe, expect, it } from 'vitest';
import { decodeMailboxPayload, FragmentCollector, MailboxPayloadError, packFrames } from '../../node-core/io/client/mailbox-payload';

const frame = (n: number, fill: number) => new Uint8Array(n).fill(fill);

function unpack(payloads: Uint8Array[]): Uint8Array[] {
  const c = new FragmentCollector();
  const out: Uint8Array[] = [];
  payloads.forEach((p, i) => out.push(...c.add(`item${i}`, decodeMailboxPayload(p)).frames));
  return out;
}

describe('mailbox payload', () => {
  it('batches small frames and keeps their order', () => {
    const frames = Array.from({ length: 300 }, (_, i) => frame(100 + i, i & 0xff));
    const payloads = packFrames(frames, 8 * 1024);
    expect(payloads.length).toBeGreaterThan(1);
    for (const p of payloads) expect(p.length).toBeLessThanOrEqual(8 * 1024);
    expect(unpack(payloads)).toEqual(frames);
  });

  it('splits a frame larger than an item and reassembles it in any order', () => {
    const big = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) & 0xff);
    const payloads = packFrames([frame(10, 1), big, frame(10, 2)]);
    expect(payloads.length).toBe(4); // batch, two fragments, batch
    const c = new FragmentCollector();
    const got = [payloads[0]!, payloads[2]!, payloads[1]!, payloads[3]!].map((p, i) => c.add(`i${i}`, decodeMailboxPayload(p)));
    expect(got[1]!.frames).toEqual([]);
    expect(got[2]!.frames).toEqual([big]);
    expect(got[2]!.items.sort()).toEqual(['i1', 'i2']);
  });

  it('drops a reassembled frame whose digest does not match, but releases its items', () => {
    const big = frame(70_000, 9);
    const [a, b] = packFrames([big]) as [Uint8Array, Uint8Array];
    b[b.length - 1]! ^= 1;
    const c = new FragmentCollector();
    c.add('a', decodeMailboxPayload(a));
    const done = c.add('b', decodeMailboxPayload(b));
    expect(done.frames).toEqual([]);
    expect(done.items.sort()).toEqual(['a', 'b']);
  });

  it('rejects malformed payloads with its own error', () => {
    const bad = [
      new Uint8Array(0),
      Uint8Array.of(7),
      Uint8Array.of(0, 0, 0),
      Uint8Array.of(0, 0, 1, 0, 0, 0, 5, 1, 2),
      Uint8Array.of(0, 0, 1, 0, 0, 0, 1, 1, 9),
      Uint8Array.of(0, 0, 1, 0, 0, 0, 0),
      new Uint8Array([1, ...new Uint8Array(16), 2, 2, 1]),
      new Uint8Array([1, ...new Uint8Array(16), 0, 1, 1]),
      new Uint8Array([1, ...new Uint8Array(16), 0, 2]),
    ];
    for (const b of bad) expect(() => decodeMailboxPayload(b), `payload ${Array.from(b).join(',')}`).toThrow(MailboxPayloadError);
  });
});
