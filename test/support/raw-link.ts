/**
 * Test helpers for links: identities, a log capture, and a "raw" client that runs the initiator
 * handshake by hand over a TLS socket and then hands over the socket, so a test can misbehave
 * on purpose (stop reading, send malformed or too many cells).
 */
import tls from 'node:tls';
import { Writable } from 'node:stream';
import { CellDecoder, NEED_MORE } from '../../node-core/cell';
import type { CryptoSuite } from '../../node-core/crypto/api';
import { nobleSuite } from '../../node-core/crypto/noble';
import { InitiatorHandshake, type IdentityKeys } from '../../node-core/link/handshake';
import { TLS_EXPORTER_CONTEXT, TLS_EXPORTER_LABEL, TLS_EXPORTER_LENGTH } from '../../node-core/link/messages';
import { createLogger, type Logger } from '../../node-core/io/log';

export function newIdentity(suite: CryptoSuite = nobleSuite): IdentityKeys {
  const secretKey = suite.randomBytes(32);
  return { secretKey, publicKey: suite.ed25519PublicKey(secretKey) };
}

export interface LogCapture {
  log: Logger;
  lines: Record<string, unknown>[];
  find(pred: (l: Record<string, unknown>) => boolean): Record<string, unknown> | undefined;
}

export function captureLog(name = 'test'): LogCapture {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: createLogger({ name, level: 'debug', destination: sink }), lines, find: (p) => lines.find(p) };
}

export async function waitFor<T>(fn: () => T | undefined | null | false, what: string, timeoutMs = 20_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface RawClient {
  socket: tls.TLSSocket;
  peerIdentity: Uint8Array;
  closed: Promise<void>;
}

/** Connects, completes the initiator handshake (anonymously or as `identity`), returns the socket. */
export async function rawConnect(
  host: string,
  port: number,
  opts: { identity?: IdentityKeys; localAddress?: string; suite?: CryptoSuite } = {},
): Promise<RawClient> {
  const suite = opts.suite ?? nobleSuite;
  const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const s = tls.connect({
      host,
      port,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  const hs = new InitiatorHandshake({
    suite,
    ...(opts.identity ? { identity: opts.identity } : {}),
    peerTlsCertHash: suite.sha256(new Uint8Array(socket.getPeerX509Certificate()!.raw)),
    exporter: new Uint8Array(socket.exportKeyingMaterial(TLS_EXPORTER_LENGTH, TLS_EXPORTER_LABEL, Buffer.from(TLS_EXPORTER_CONTEXT))),
  });
  const decoder = new CellDecoder({ maxVarPayload: 8192 });
  const peer = await new Promise<Uint8Array>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      try {
        decoder.push(chunk);
        for (;;) {
          const cell = decoder.next();
          if (cell === NEED_MORE) break;
          for (const a of hs.receive(cell)) {
            if (a.type === 'send') socket.write(a.bytes);
            else {
              socket.off('data', onData);
              resolve(a.peerIdentity!);
            }
          }
        }
      } catch (err) {
        reject(err as Error);
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error('closed during handshake')));
    for (const a of hs.start()) if (a.type === 'send') socket.write(a.bytes);
  });
  return { socket, peerIdentity: peer, closed };
}

/** Polls an async condition until it yields a value (bounded). */
export async function waitForAsync<T>(fn: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 20_000, everyMs = 250): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
