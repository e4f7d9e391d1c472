/**
 * Links over real TLS sockets on loopback: authentication of both sides, anonymous clients,
 * refusal of a wrong identity, per-IP and per-link limits, malformed input, keep-alive and idle
 * close, and no TLS session resumption.
 */
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { CellCommand, encodeCell } from '../../node-core/cell';
import { nobleSuite } from '../../node-core/crypto/noble';
import { LinkError } from '../../node-core/link/errors';
import type { Link } from '../../node-core/io/link/link';
import type { LinkLimits, ListenerLimits } from '../../node-core/io/link/limits';
import { connectLink, LinkListener } from '../../node-core/io/link/transport';
import { captureLog, newIdentity, rawConnect, waitFor } from '../support/raw-link';

const suite = nobleSuite;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function listen(opts: { allowBypass?: boolean; link?: Partial<LinkLimits>; listener?: Partial<ListenerLimits> } = {}) {
  const identity = newIdentity();
  const cap = captureLog('server');
  const listener = await LinkListener.listen({
    suite,
    identity,
    host: '127.0.0.1',
    port: 0,
    allowBypass: opts.allowBypass ?? true,
    ...(opts.link ? { linkLimits: opts.link } : {}),
    ...(opts.listener ? { listenerLimits: opts.listener } : {}),
    log: cap.log,
  });
  const inbound: Link[] = [];
  listener.on('link', (l) => inbound.push(l));
  cleanups.push(() => listener.close());
  return { identity, listener, inbound, cap };
}

function relayCell(circId = 0x80000001, fill = 7) {
  return { circId, command: CellCommand.Relay, payload: new Uint8Array(509).fill(fill) };
}

async function connect(port: number, opts: Parameters<typeof connectLink>[0] extends infer O ? Partial<O> : never = {}) {
  const link = await connectLink({ suite, host: '127.0.0.1', port, ...opts });
  cleanups.push(() => link.close());
  return link;
}

describe('link authentication', () => {
  it('authenticates both identities on a node-to-node link and carries cells both ways', async () => {
    const srv = await listen();
    const client = newIdentity();
    const link = await connect(srv.listener.port, { expectedPeer: srv.identity.publicKey, identity: client });
    expect(link.peerIdentity).toEqual(srv.identity.publicKey);
    const inbound = await waitFor(() => srv.inbound[0], 'inbound link');
    expect(inbound.peerIdentity).toEqual(client.publicKey);
    expect(inbound.direction).toBe('inbound');

    const got: number[] = [];
    inbound.on('cell', (c) => {
      got.push(c.payload[0]!);
      inbound.send({ ...c, payload: c.payload.map((b) => b + 1) });
    });
    const echoes: number[] = [];
    link.on('cell', (c) => echoes.push(c.payload[0]!));
    link.send(relayCell(0x80000001, 1));
    link.send({ circId: 0x80000002, command: CellCommand.StreamRelay, payload: new Uint8Array(3000).fill(9) });
    await waitFor(() => echoes.length === 2, 'echoes');
    expect(got).toEqual([1, 9]);
    expect(echoes).toEqual([2, 10]);
  });

  it('lets an anonymous client connect; the node sees no identity', async () => {
    const srv = await listen();
    const link = await connect(srv.listener.port, { expectedPeer: srv.identity.publicKey });
    expect(link.peerIdentity).toEqual(srv.identity.publicKey);
    const inbound = await waitFor(() => srv.inbound[0], 'inbound link');
    expect(inbound.peerIdentity).toBeNull();
  });

  it('refuses a node that proves a different identity than expected, with a clear error', async () => {
    const srv = await listen();
    const other = newIdentity();
    const err = await connectLink({ suite, host: '127.0.0.1', port: srv.listener.port, expectedPeer: other.publicKey }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LinkError);
    expect((err as LinkError).code).toBe('wrong-identity');
    expect((err as LinkError).message).toMatch(/different identity/);
  });

  it('refuses anonymous clients when the node does not allow them', async () => {
    const srv = await listen({ allowBypass: false });
    const err = await connectLink({ suite, host: '127.0.0.1', port: srv.listener.port }).catch((e: unknown) => e);
    expect((err as LinkError).code).toBe('bypass-refused');
    // An authenticating node is still accepted.
    const link = await connect(srv.listener.port, { identity: newIdentity() });
    expect(link.isOpen).toBe(true);
  });

  it('does not resume TLS sessions', async () => {
    const srv = await listen();
    let saved: Buffer | undefined;
    const first = tls.connect({ host: '127.0.0.1', port: srv.listener.port, rejectUnauthorized: false, minVersion: 'TLSv1.3' });
    first.on('session', (s: Buffer) => (saved = s));
    await new Promise<void>((r) => first.once('secureConnect', () => r()));
    await new Promise((r) => setTimeout(r, 100));
    first.destroy();
    const second = tls.connect({
      host: '127.0.0.1',
      port: srv.listener.port,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
      ...(saved ? { session: saved } : {}),
    });
    const outcome = await new Promise<string>((r) => {
      second.once('secureConnect', () => r(second.isSessionReused() ? 'reused' : 'fresh'));
      second.once('error', () => r('refused'));
      second.once('close', () => r('refused'));
    });
    second.destroy();
    expect(outcome).not.toBe('reused');
  });
});

describe('link limits', () => {
  it('cuts off connections past the per-IP limit while another address is served', async () => {
    const srv = await listen({ listener: { maxConnectionsPerIp: 2 } });
    const a1 = await connect(srv.listener.port, { localAddress: '127.0.0.2' });
    const a2 = await connect(srv.listener.port, { localAddress: '127.0.0.2' });
    const third = await connectLink({ suite, host: '127.0.0.1', port: srv.listener.port, localAddress: '127.0.0.2' }).catch(
      (e: unknown) => e,
    );
    expect(third).toBeInstanceOf(LinkError);
    expect(srv.cap.find((l) => l.msg === 'connection refused' && l.reason === 'connections-per-ip')).toBeTruthy();
    const other = await connect(srv.listener.port, { localAddress: '127.0.0.3' });
    expect([a1.isOpen, a2.isOpen, other.isOpen]).toEqual([true, true, true]);
    // Closing one frees a slot for that address again.
    expect(srv.listener.connectionsFrom('127.0.0.2')).toBe(2);
    a1.close();
    await waitFor(() => srv.listener.connectionsFrom('127.0.0.2') === 1, 'slot freed');
    const again = await connect(srv.listener.port, { localAddress: '127.0.0.2' });
    expect(again.isOpen).toBe(true);
  });

  it('cuts off a link whose peer exceeds the cell rate while another link is served', async () => {
    const srv = await listen({ link: { cellsPerSecond: 50, cellBurst: 100 } });
    const flooder = await connect(srv.listener.port);
    const polite = await connect(srv.listener.port);
    const floodClosed = new Promise<LinkError>((r) => flooder.once('close', r));
    for (let i = 0; i < 400; i++) flooder.send(relayCell(0x80000001 + (i % 5)));
    await floodClosed;
    const serverSide = await waitFor(
      () => srv.cap.find((l) => l.code === 'limit' && String(l.msg).includes('cells/s')),
      'server log of the cut-off',
    );
    expect(serverSide.level).toBe(40); // warn
    expect(polite.isOpen).toBe(true);
    const inboundPolite = await waitFor(() => srv.inbound.find((l) => l.isOpen), 'polite inbound');
    const got = new Promise<number>((r) => inboundPolite.once('cell', (c) => r(c.payload[0]!)));
    polite.send(relayCell(0x80000001, 42));
    expect(await got).toBe(42);
  });

  it('cuts off a peer that stops reading once its queue passes the limit', async () => {
    const srv = await listen({ link: { maxQueuedBytes: 256 * 1024, queueHighWater: 64 * 1024 } });
    const slow = await rawConnect('127.0.0.1', srv.listener.port);
    slow.socket.pause();
    const inbound = await waitFor(() => srv.inbound[0], 'inbound link');
    const closed = new Promise<LinkError>((r) => inbound.once('close', r));
    let sawBackpressure = false;
    for (let i = 0; i < 20_000 && inbound.isOpen; i++) {
      if (!inbound.send(relayCell(0x00000001))) sawBackpressure = true;
      if (i % 100 === 0) await new Promise((r) => setImmediate(r));
    }
    const reason = await closed;
    expect(sawBackpressure).toBe(true);
    expect(reason.code).toBe('limit');
    expect(reason.message).toMatch(/not reading/);
    // The listener still serves others.
    const fresh = await connect(srv.listener.port);
    expect(fresh.isOpen).toBe(true);
    slow.socket.destroy();
  });
});

describe('bad input', () => {
  it('closes a link on a malformed cell, logs why, and keeps serving other links', async () => {
    const srv = await listen();
    const good = await connect(srv.listener.port);
    const bad = await rawConnect('127.0.0.1', srv.listener.port);
    // Command 77 is not in the cell table.
    const frame = new Uint8Array(514);
    frame.set([0, 0, 0, 1, 77]);
    bad.socket.write(frame);
    await bad.closed;
    const line = await waitFor(() => srv.cap.find((l) => String(l.msg).startsWith('link closed') && l.code === 'malformed'), 'log');
    expect(String(line.msg)).toMatch(/unknown-command/);
    const inboundGood = await waitFor(() => srv.inbound.find((l) => l.isOpen), 'good inbound');
    const got = new Promise<number>((r) => inboundGood.once('cell', (c) => r(c.payload[0]!)));
    good.send(relayCell(0x80000001, 5));
    expect(await got).toBe(5);
  });

  it('closes a link that sends a handshake cell after the handshake', async () => {
    const srv = await listen();
    const raw = await rawConnect('127.0.0.1', srv.listener.port);
    raw.socket.write(encodeCell({ circId: 0, command: CellCommand.Versions, payload: Uint8Array.of(0, 2) }));
    await raw.closed;
    expect(srv.cap.find((l) => l.code === 'protocol')).toBeTruthy();
  });

  it('closes a connection whose handshake is garbage or never finishes', async () => {
    const srv = await listen({ link: { handshakeTimeoutMs: 300 } });
    const garbage = tls.connect({ host: '127.0.0.1', port: srv.listener.port, rejectUnauthorized: false });
    await new Promise<void>((r) => garbage.once('secureConnect', () => r()));
    garbage.write(encodeCell({ circId: 0, command: CellCommand.Versions, payload: Uint8Array.of(0, 1, 0) }).subarray(0, 8));
    garbage.write(Uint8Array.of(0xff, 0xff, 0xff));
    const silent = tls.connect({ host: '127.0.0.1', port: srv.listener.port, rejectUnauthorized: false });
    await Promise.all([
      new Promise<void>((r) => garbage.once('close', () => r())),
      new Promise<void>((r) => silent.once('close', () => r())),
    ]);
    expect(srv.cap.find((l) => l.code === 'timeout')).toBeTruthy();
    expect(srv.listener.openLinks.size).toBe(0);
  });
});

describe('keep-alive and idle close', () => {
  it('sends padding on a quiet link and closes links idle for too long', async () => {
    const srv = await listen({ link: { keepaliveMs: 100, idleTimeoutMs: 100_000, deadPeerMs: 100_000 } });
    const link = await connect(srv.listener.port, { linkLimits: { keepaliveMs: 100_000, idleTimeoutMs: 600, deadPeerMs: 100_000 } });
    const before = link.stats.bytesIn;
    await waitFor(() => link.stats.bytesIn >= before + 514 * 2, 'padding from the node');
    expect(link.isOpen).toBe(true);
    const reason = await new Promise<LinkError>((r) => link.once('close', r));
    expect(reason.message).toMatch(/idle/);
  });

  it('keeps a link in use open past the idle timeout', async () => {
    const srv = await listen({ link: { keepaliveMs: 50 } });
    const link = await connect(srv.listener.port, { linkLimits: { idleTimeoutMs: 200, keepaliveMs: 50 } });
    link.inUse = 1;
    await new Promise((r) => setTimeout(r, 600));
    expect(link.isOpen).toBe(true);
  });
});
