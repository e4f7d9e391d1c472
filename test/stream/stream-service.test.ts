/**
 * A landing node's stream service on a real TLS listener on loopback, driven by anonymous client
 * links: what it accepts, and how it refuses what a stranger sends — each refusal clear, and
 * nothing changed by it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CellCommand, type Cell } from '../../node-core/cell';
import { LinkListener, connectLink } from '../../node-core/io/link/transport';
import type { Link } from '../../node-core/io/link/link';
import { STREAM_COMMANDS, StreamClosedError, StreamMux } from '../../node-core/io/link/stream-mux';
import { StreamService } from '../../node-core/io/node/stream-service';
import { silentLogger } from '../../node-core/io/log';
import { decodeStreamMessage, encodeMediaPacket, encodeStreamMessage, type StreamMessage } from '../../node-core/stream';
import { toHex } from '../../node-core/util/bytes';
import { newIdentity, waitFor } from '../support/raw-link';
import { ALLOWED, NETWORK, NOW, ORACLE, STRANGER, bytesOf, receipt, suite, viewerId } from './helpers';

const landing = newIdentity(suite);
let listener: LinkListener;
let service: StreamService;
const clientLinks: Link[] = [];

beforeAll(async () => {
  service = new StreamService({
    suite,
    identity: landing,
    network: NETWORK,
    oracleKeys: [ORACLE.publicKey],
    landing: true,
    distribution: false,
    log: silentLogger(),
    address: () => ({ host: '127.0.0.1', port: listener.port }),
    listed: () => undefined,
    linkTo: () => Promise.reject(new Error('no node links here')),
    limits: { landingCapacity: 8, reportIntervalMs: 100 },
    now: () => NOW + 1000,
  });
  listener = await LinkListener.listen({ suite, identity: landing, host: '127.0.0.1', port: 0, allowBypass: true });
  listener.on('link', (link) => {
    const mux = service.attach(link);
    link.on('cell', (cell: Cell) => {
      if (STREAM_COMMANDS.has(cell.command)) mux.onCell(cell);
    });
  });
});

afterAll(async () => {
  for (const l of clientLinks) l.close();
  service?.stop();
  await listener?.close();
});

async function client(): Promise<{ link: Link; mux: StreamMux }> {
  const link = await connectLink({ suite, host: '127.0.0.1', port: listener.port, expectedPeer: landing.publicKey });
  clientLinks.push(link);
  return { link, mux: StreamMux.of(link, { route: true }) };
}

function create(r: Uint8Array, over: Partial<Extract<StreamMessage, { type: 'create-stream' }>> = {}): StreamMessage {
  return { type: 'create-stream', receipt: r, params: { bitrate: 1_000_000, maxViewers: 10 }, distribution: [], public: null, ...over };
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(StreamClosedError);
    const last = (e as StreamClosedError).last;
    return last?.type === 'refused' ? last.reason : `not refused: ${last?.type ?? 'none'}`;
  }
  throw new Error('accepted');
}

function media(streamId: Uint8Array, groupSeq: number, frameSeq: number, fill = 0xab): Uint8Array {
  return encodeMediaPacket({ streamId, groupSeq, frameSeq, keyframe: frameSeq === 0, part: 0, parts: 1, payload: bytesOf(100, fill) });
}

describe('a landing node’s stream service', () => {
  it('refuses receipts that do not verify, exceed their allowance, or were spent, and creates one stream per receipt', async () => {
    const { mux } = await client();
    expect(await refusal(mux.open(create(receipt({ network: 'othernet' }))))).toBe('bad-receipt');
    expect(await refusal(mux.open(create(receipt({}, STRANGER))))).toBe('bad-receipt');
    expect(await refusal(mux.open(create(receipt({ expiresAt: NOW + 500 }))))).toBe('bad-receipt');
    const r = receipt({ receiptId: bytesOf(16, 0x01) });
    expect(await refusal(mux.open(create(r, { params: { bitrate: ALLOWED.maxBitrate + 1, maxViewers: 1 } })))).toBe('receipt-limits');
    expect(await refusal(mux.open(create(r, { public: { title: 'T', description: '', keys: { streamKey: bytesOf(32, 1), signingKey: bytesOf(32, 2), epoch: 0, suite: 1 } } })))).toBe('full'); // no DHT to list it
    expect(service.stats().streams).toBe(0);
    const { answer, session } = await mux.open(create(r));
    expect(answer.type).toBe('created');
    expect(service.stats().streams).toBe(1);
    expect(await refusal(mux.open(create(r)))).toBe('receipt-spent');
    expect(service.stats().streams).toBe(1);
    session.close({ type: 'end-stream', streamId: (answer as { streamId: Uint8Array }).streamId });
    await waitFor(() => service.stats().streams === 0, 'the stream to end with its creator');
  });

  it('refuses joins with a bad viewer ID or for an unknown stream; forwards the creator’s bytes unchanged from the latest keyframe', async () => {
    const creator = await client();
    const { answer, session: up } = await creator.mux.open(create(receipt({ receiptId: bytesOf(16, 0x02) })));
    const streamId = (answer as { streamId: Uint8Array }).streamId;
    const viewer = await client();
    expect(await refusal(viewer.mux.open({ type: 'join', streamId, viewerId: viewerId({}, STRANGER) }))).toBe('bad-viewer-id');
    expect(await refusal(viewer.mux.open({ type: 'join', streamId: bytesOf(16, 9), viewerId: viewerId() }))).toBe('unknown-stream');
    // Frames before the viewer joins: group 0 (key + 2), then group 1's keyframe and one more.
    const sent = [media(streamId, 0, 0, 1), media(streamId, 0, 1, 2), media(streamId, 0, 2, 3), media(streamId, 1, 0, 4), media(streamId, 1, 1, 5)];
    for (const m of sent) up.send(m);
    await new Promise((r) => setTimeout(r, 100));
    const { session: down } = await viewer.mux.open({ type: 'join', streamId, viewerId: viewerId() });
    const got: string[] = [];
    down.on('message', (b) => got.push(toHex(b)));
    up.send(media(streamId, 1, 2, 6));
    await waitFor(() => got.length === 3, 'the late joiner to get group 1 and the next frame');
    expect(got).toEqual([sent[3]!, sent[4]!, media(streamId, 1, 2, 6)].map(toHex));
    // The same viewer ID twice is refused.
    const again = await client();
    expect(await refusal(again.mux.open({ type: 'join', streamId, viewerId: viewerId() }))).toBe('duplicate');
    // The creator hears of its viewer.
    const reports: StreamMessage[] = [];
    up.on('message', (b) => reports.push(decodeStreamMessage(b)));
    await waitFor(() => reports.some((m) => m.type === 'stream-report' && m.viewers === 1), 'a report of one viewer');
    down.close({ type: 'leave', streamId });
    await waitFor(() => reports.some((m) => m.type === 'stream-report' && m.viewers === 0), 'a report of no viewers');
    up.close({ type: 'end-stream', streamId });
  });

  it('holds the number of viewers the stream asked for', async () => {
    const creator = await client();
    const { answer, session: up } = await creator.mux.open(create(receipt({ receiptId: bytesOf(16, 0x05) }), { params: { bitrate: 1000, maxViewers: 1 } }));
    const streamId = (answer as { streamId: Uint8Array }).streamId;
    const a = await client();
    await a.mux.open({ type: 'join', streamId, viewerId: viewerId({ sessionId: bytesOf(16, 0x41) }) });
    const b = await client();
    expect(await refusal(b.mux.open({ type: 'join', streamId, viewerId: viewerId({ sessionId: bytesOf(16, 0x42) }) }))).toBe('full');
    up.close({ type: 'end-stream', streamId });
    await waitFor(() => service.stats().streams === 0, 'the stream to end');
  });

  it('ends a stream whose creator breaks the media order, and tells its viewers', async () => {
    const creator = await client();
    const { answer, session: up } = await creator.mux.open(create(receipt({ receiptId: bytesOf(16, 0x03) })));
    const streamId = (answer as { streamId: Uint8Array }).streamId;
    const viewer = await client();
    const { session: down } = await viewer.mux.open({ type: 'join', streamId, viewerId: viewerId({ sessionId: bytesOf(16, 0x31) }) });
    const closed = new Promise<StreamMessage | null>((r) => down.once('close', (last) => r(last)));
    up.send(media(streamId, 5, 0));
    up.send(media(streamId, 4, 0)); // a group that goes back
    expect((await closed)?.type).toBe('end-stream');
    await waitFor(() => service.stats().streams === 0, 'the stream to end');
  });

  it('refuses relay-join from an anonymous link, attach-distribution at a landing-only node, and malformed or misnumbered sessions — and keeps the link', async () => {
    const { link, mux } = await client();
    expect(await refusal(mux.open({ type: 'relay-join', streamId: bytesOf(16, 4) }))).toBe('not-attached');
    expect(
      await refusal(mux.open({ type: 'attach-distribution', streamId: bytesOf(16, 4), node: bytesOf(32, 1), parent: bytesOf(32, 2), parentAddress: { host: '10.0.0.1', port: 1 }, capacity: 1 })),
    ).toBe('protocol');
    const destroyed: Array<{ id: number; reason: string }> = [];
    link.on('cell', (c: Cell) => {
      if (c.command === CellCommand.StreamDestroy) {
        const m = decodeStreamMessage(c.payload);
        destroyed.push({ id: c.circId, reason: m.type === 'refused' ? m.reason : m.type });
      }
    });
    // Garbage as the first message, and an id from the wrong half of the space (MSB clear on a link we opened).
    link.send({ circId: 0x80000123, command: CellCommand.StreamCreate, payload: Uint8Array.of(0x01, 0xff) });
    link.send({ circId: 0x00000123, command: CellCommand.StreamCreate, payload: encodeStreamMessage({ type: 'relay-join', streamId: bytesOf(16, 4) }) });
    // Cells for sessions that do not exist are ignored.
    link.send({ circId: 0x80000777, command: CellCommand.StreamRelay, payload: Uint8Array.of(0x20) });
    await waitFor(() => destroyed.length === 2, 'two refusals');
    expect(destroyed).toEqual([
      { id: 0x80000123, reason: 'protocol' },
      { id: 0x00000123, reason: 'protocol' },
    ]);
    expect(link.isOpen).toBe(true);
    const { answer } = await mux.open(create(receipt({ receiptId: bytesOf(16, 0x04) })));
    expect(answer.type).toBe('created');
  });

  it('a link holds at most maxInboundSessions sessions of its peer; the next is refused and the link stays up', async () => {
    const other = await LinkListener.listen({ suite, identity: landing, host: '127.0.0.1', port: 0, allowBypass: true });
    try {
      other.on('link', (link) => {
        // Sessions are taken and never answered: they stay open.
        const mux = StreamMux.of(link, { onSession: () => undefined, maxInboundSessions: 4 });
        link.on('cell', (cell: Cell) => {
          if (STREAM_COMMANDS.has(cell.command)) mux.onCell(cell);
        });
      });
      const link = await connectLink({ suite, host: '127.0.0.1', port: other.port, expectedPeer: landing.publicKey });
      clientLinks.push(link);
      const mux = StreamMux.of(link, { route: true });
      const pending = Array.from({ length: 4 }, (_, i) => mux.open({ type: 'relay-join', streamId: bytesOf(16, i) }, 60_000).catch(() => undefined));
      expect(await refusal(mux.open({ type: 'relay-join', streamId: bytesOf(16, 9) }))).toBe('rate-limited');
      expect(link.isOpen).toBe(true);
      link.close();
      await Promise.all(pending);
    } finally {
      await other.close();
    }
  });
});
