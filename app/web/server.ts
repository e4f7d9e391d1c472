/**
 * The web host (DESIGN §2): serves the built renderer over HTTP on a loopback address and the
 * contract over a WebSocket on the same port at /ws, so the very renderer of the desktop app runs
 * in a plain browser.
 *
 * Who may call methods: a per-launch random token, printed only in the URL the host prints
 * (`http://127.0.0.1:N/#token=…`), must be presented — as the WebSocket subprotocol
 * `sirius-token.<token>` next to `sirius`, or as the first message `{type:'auth', token}` within
 * a few seconds — and the Origin header must be exactly the host's own origin. Anything else is
 * refused before any method runs: a wrong Origin, Host or token in the upgrade is answered with
 * an HTTP error and no WebSocket; a connection that does not authenticate first is closed (4401).
 * Requests for pages must name the host's own Host too, which defeats DNS rebinding.
 *
 * WebSocket messages (JSON text):
 *   client → host  {type:'auth', token} | {type:'request', id, method, params}
 *   host → client  {type:'ready'} | {type:'response', id, result} | {type:'event', event, payload}
 * Requests run through callMethod (app/services/dispatch): params and results are checked against
 * the contract, and failures come back as `{ ok: false, error }`.
 *
 * Pages are served with the desktop app's Content Security Policy (main/security.ts) as a
 * header; the entry page gets one added script tag for the bridge (./bridge-client).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { extname, isAbsolute, join, relative, sep } from 'node:path';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Logger } from '../../node-core/io/log';
import { silentLogger } from '../../node-core/io/log';
import { CONTENT_SECURITY_POLICY, CONTENT_TYPES } from '../contract/page-policy';
import { callMethod, type ServiceHandlers } from '../services/dispatch';
import type { ServiceEventListener } from '../services/services';
import { BRIDGE_SCRIPT_PATH, WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX, bridgeClientScript } from './bridge-client';

/** The desktop app's Content Security Policy (app/contract/page-policy.ts), sent with every response. */
export const WEB_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY;


/** What the host needs of the services: the handlers and every event. */
export interface WebHostServices {
  readonly handlers: ServiceHandlers;
  subscribe(listener: ServiceEventListener): () => void;
}

export interface WebHostOptions {
  readonly services: WebHostServices;
  /** The built renderer (dist/renderer), absolute. */
  readonly rendererDir: string;
  /** Port on 127.0.0.1 (default 0: a free one). */
  readonly port?: number;
  /** Loopback address to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** The access token (default: 32 random bytes, base64url); 16-128 characters of [A-Za-z0-9_-]. */
  readonly token?: string;
  readonly log?: Logger;
  /** How long a connection may take to authenticate with a first message (default 5 s). */
  readonly authTimeoutMs?: number;
}

export interface WebHost {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** The address to open: the origin with the token in the fragment. */
  readonly url: string;
  readonly port: number;
  /** Open WebSocket connections (authenticated or not). */
  readonly connections: number;
  close(): Promise<void>;
}

const LOOPBACK_HOST = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;
/** A 16 MiB file as base64 in a request, with room for the envelope. */
const MAX_MESSAGE_BYTES = 24 * 1024 * 1024;
/** A client that reads nothing while this much waits for it is dropped. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Maps a request path to a file inside `root`, or null when it must be refused. */
export function resolveStaticPath(pathname: string, root: string): string | null {
  if (typeof pathname !== 'string' || typeof root !== 'string' || !isAbsolute(root)) throw new TypeError('pathname must be a string and root an absolute path');
  const segments: string[] = [];
  for (const raw of pathname.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment === '.' || segment === '..' || /[/\\\0:]/.test(segment)) return null;
    segments.push(segment);
  }
  if (segments.length === 0) segments.push('index.html');
  const file = join(root, ...segments);
  return isInside(root, file) ? file : null;
}

function isInside(root: string, file: string): boolean {
  const rel = relative(root, file);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** Adds the bridge script to the entry page, before any other script runs. */
export function injectBridge(html: string): string {
  const tag = `<script src="${BRIDGE_SCRIPT_PATH}"></script>`;
  const head = /<head(\s[^>]*)?>/i.exec(html);
  if (head) return html.slice(0, head.index + head[0].length) + tag + html.slice(head.index + head[0].length);
  return tag + html;
}

export async function startWebHost(opts: WebHostOptions): Promise<WebHost> {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('opts must be an object');
  if (typeof opts.services !== 'object' || opts.services === null || typeof opts.services.subscribe !== 'function') {
    throw new TypeError('opts.services must have handlers and subscribe');
  }
  if (typeof opts.rendererDir !== 'string' || !isAbsolute(opts.rendererDir)) throw new TypeError('opts.rendererDir must be an absolute path');
  const host = opts.host ?? '127.0.0.1';
  if (!LOOPBACK_HOST.test(host)) throw new RangeError('opts.host must be a 127.x.x.x address: the web host serves this machine only');
  const port = opts.port ?? 0;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) throw new RangeError('opts.port must be 0..65535');
  const token = opts.token ?? randomBytes(32).toString('base64url');
  if (!TOKEN_PATTERN.test(token)) throw new RangeError('opts.token must be 16-128 characters of [A-Za-z0-9_-]');
  const log = opts.log ?? silentLogger();
  const authTimeoutMs = opts.authTimeoutMs ?? 5000;
  const tokenDigest = digest(token);
  const tokenMatches = (candidate: unknown): boolean => typeof candidate === 'string' && timingSafeEqual(digest(candidate), tokenDigest);
  const rendererRoot = await realpath(opts.rendererDir).catch(() => {
    throw new Error(`the renderer folder ${opts.rendererDir} does not exist: build it first (npm run build)`);
  });
  const script = bridgeClientScript();

  let ownHost = '';
  let origin = '';

  const headers = (type: string): Record<string, string> => ({
    'Content-Type': type,
    'Content-Security-Policy': WEB_CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refuse = (status: number): void => {
      res.writeHead(status, headers('text/plain; charset=utf-8'));
      res.end();
    };
    if (req.headers.host !== ownHost) return refuse(421);
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(405);
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', origin).pathname;
    } catch {
      return refuse(400);
    }
    let body: Buffer;
    let type: string;
    if (pathname === BRIDGE_SCRIPT_PATH) {
      body = Buffer.from(script, 'utf8');
      type = CONTENT_TYPES['.js']!;
    } else {
      const file = resolveStaticPath(pathname, rendererRoot);
      if (file === null) return refuse(404);
      try {
        const real = await realpath(file);
        if (!isInside(rendererRoot, real)) return refuse(404);
        body = await readFile(real);
        type = CONTENT_TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream';
        if (real === join(rendererRoot, 'index.html')) body = Buffer.from(injectBridge(body.toString('utf8')), 'utf8');
      } catch {
        return refuse(404);
      }
    }
    res.writeHead(200, { ...headers(type), 'Content-Length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  const sockets = new Set<WebSocket>();

  function refuseUpgrade(socket: Duplex, status: number, text: string): void {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', origin).pathname;
    } catch {
      return refuseUpgrade(socket, 400, 'Bad Request');
    }
    if (pathname !== '/ws') return refuseUpgrade(socket, 404, 'Not Found');
    if (req.headers.host !== ownHost || req.headers.origin !== origin) {
      log.warn('web host: WebSocket refused: foreign origin or host');
      return refuseUpgrade(socket, 403, 'Forbidden');
    }
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p.length > 0);
    const tokenProtocol = offered.find((p) => p.startsWith(WS_TOKEN_PROTOCOL_PREFIX));
    if (tokenProtocol !== undefined && !tokenMatches(tokenProtocol.slice(WS_TOKEN_PROTOCOL_PREFIX.length))) {
      log.warn('web host: WebSocket refused: wrong token');
      return refuseUpgrade(socket, 401, 'Unauthorized');
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws, tokenProtocol !== undefined));
  }

  function attach(ws: WebSocket, authenticated: boolean): void {
    sockets.add(ws);
    let unsubscribe: (() => void) | null = null;
    let authTimer: ReturnType<typeof setTimeout> | null = null;
    const send = (message: unknown): void => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        ws.terminate();
        return;
      }
      ws.send(JSON.stringify(message));
    };
    const begin = (): void => {
      authenticated = true;
      if (authTimer) clearTimeout(authTimer);
      authTimer = null;
      unsubscribe = opts.services.subscribe((event, payload) => send({ type: 'event', event, payload }));
      send({ type: 'ready' });
    };
    if (authenticated) begin();
    else {
      authTimer = setTimeout(() => ws.close(4401, 'authentication required'), authTimeoutMs);
    }
    ws.on('message', (data: RawData, isBinary: boolean) => {
      let message: unknown;
      try {
        if (isBinary) throw new Error('binary');
        message = JSON.parse(data.toString());
      } catch {
        if (!authenticated) ws.close(4401, 'authentication required');
        return;
      }
      const record = typeof message === 'object' && message !== null ? (message as Record<string, unknown>) : {};
      if (!authenticated) {
        if (record.type === 'auth' && tokenMatches(record.token)) begin();
        else {
          log.warn('web host: WebSocket closed: it did not authenticate');
          ws.close(4401, 'authentication required');
        }
        return;
      }
      if (record.type !== 'request') return;
      const id = record.id;
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) return;
      void callMethod(opts.services.handlers, record.method, record.params, (method, error) => {
        log.error({ method, err: error instanceof Error ? (error.stack ?? error.message) : String(error) }, 'method failed');
      }).then((result) => send({ type: 'response', id, result }));
    });
    ws.on('close', () => {
      sockets.delete(ws);
      if (authTimer) clearTimeout(authTimer);
      unsubscribe?.();
    });
    ws.on('error', () => ws.terminate());
  }

  const server: Server = createServer((req, res) => {
    serve(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, headers('text/plain; charset=utf-8'));
      res.end();
    });
  });
  server.on('upgrade', onUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  ownHost = `${host}:${boundPort}`;
  origin = `http://${ownHost}`;

  return {
    origin,
    url: `${origin}/#token=${token}`,
    port: boundPort,
    get connections() {
      return sockets.size;
    },
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
