/**
 * The web host: the renderer over HTTP on 127.0.0.1 with the app's CSP, and the contract over a
 * WebSocket that only a client with the launch token and the host's own Origin may use — a
 * foreign Origin, a missing or wrong token, or a first message that is not the token's is
 * refused before any method runs. In Chromium, the served bridge script installs window.sirius,
 * hides the token from the address bar, delivers events, and reconnects after the host restarts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { injectBridge, resolveStaticPath, startWebHost, WEB_CONTENT_SECURITY_POLICY, type WebHost } from '../../app/web/server';
import { BRIDGE_SCRIPT_PATH } from '../../app/web/bridge-client';
import { CONTENT_SECURITY_POLICY } from '../../main/security';
import { openAppUser, removeTempRoots, type AppUser } from './helpers';

const TOKEN = 'test-token-0123456789abcdefghijklmnop';
let user: AppUser;
let host: WebHost;
let renderer: string;

beforeAll(async () => {
  renderer = mkdtempSync(join(tmpdir(), 'psp-renderer-'));
  writeFileSync(
    join(renderer, 'index.html'),
    '<!doctype html><html><head><meta charset="utf-8"><title>t</title></head><body><pre id="out"></pre><pre id="events"></pre><pre id="status"></pre><script type="module" src="./app.js"></script></body></html>',
  );
  writeFileSync(
    join(renderer, 'app.js'),
    [
      "const events = [];",
      "window.sirius.subscribe('profile.changed', (p) => { events.push(p); document.getElementById('events').textContent = JSON.stringify(events); });",
      "window.sirius.subscribe('backend.status', (p) => { document.getElementById('status').textContent = String(p.connected); });",
      "window.sirius.invoke('app.version', {}).then((r) => { document.getElementById('out').textContent = JSON.stringify(r); });",
    ].join('\n'),
  );
  user = openAppUser('web');
  host = await startWebHost({ services: user.services, rendererDir: renderer, token: TOKEN, authTimeoutMs: 500 });
});

afterAll(async () => {
  await host?.close();
  await user?.services.close();
  removeTempRoots();
});

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: host.port, path, method, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Opened {
  ws: WebSocket;
  messages: unknown[];
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a WebSocket and resolves once it is open, or with the HTTP status that refused it. */
function connect(opts: { origin?: string; protocols?: string[] } = {}): Promise<Opened | { refused: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ws`, opts.protocols ?? [], opts.origin === undefined ? {} : { origin: opts.origin });
    const messages: unknown[] = [];
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
    ws.on('unexpected-response', (_req, res) => resolve({ refused: res.statusCode ?? 0 }));
    ws.on('error', () => undefined);
    ws.on('open', () => resolve({ ws, messages, closed }));
  });
}

const OWN = () => host.origin;

async function until<T>(fn: () => T | undefined | false, what: string): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - start > 20_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function request(o: Opened, id: number, method: string, params: unknown): Promise<{ ok: boolean; value?: unknown; error?: { code: string } }> {
  o.ws.send(JSON.stringify({ type: 'request', id, method, params }));
  const reply = await until(() => o.messages.find((m) => (m as { type: string; id: number }).type === 'response' && (m as { id: number }).id === id), `response ${id}`);
  return (reply as { result: { ok: boolean; value?: unknown; error?: { code: string } } }).result;
}

describe('pages', () => {
  it('are served with the desktop app’s CSP, and the entry page loads the bridge first', async () => {
    expect(WEB_CONTENT_SECURITY_POLICY).toBe(CONTENT_SECURITY_POLICY);
    const page = await get('/', { host: `127.0.0.1:${host.port}` });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body.indexOf(`<script src="${BRIDGE_SCRIPT_PATH}"></script>`)).toBeGreaterThan(0);
    expect(page.body.indexOf(BRIDGE_SCRIPT_PATH)).toBeLessThan(page.body.indexOf('app.js'));
    const script = await get(BRIDGE_SCRIPT_PATH, { host: `127.0.0.1:${host.port}` });
    expect(script.headers['content-type']).toMatch(/javascript/);
    expect(script.body).toContain("'chat.sendFile'".slice(1, -1));
    expect(script.body).not.toContain(TOKEN);
  });

  it('are refused for another Host (DNS rebinding), outside the renderer folder, and for other methods', async () => {
    expect((await get('/', { host: `evil.example:${host.port}` })).status).toBe(421);
    expect((await get('/', { host: `localhost:${host.port}` })).status).toBe(421);
    for (const path of ['/%2e%2e/package.json', '/..%2f..%2fetc%2fpasswd', '/nope.js', '/a%00b']) {
      expect((await get(path, { host: `127.0.0.1:${host.port}` })).status, path).toBe(404);
    }
    expect((await get('/', { host: `127.0.0.1:${host.port}` }, 'POST')).status).toBe(405);
    expect(resolveStaticPath('/../x', renderer)).toBeNull();
    expect(resolveStaticPath('/', renderer)).toBe(join(renderer, 'index.html'));
    expect(injectBridge('<html><head lang="x"><title>')).toBe(`<html><head lang="x"><script src="${BRIDGE_SCRIPT_PATH}"></script><title>`);
  });
});

describe('the WebSocket', () => {
  const settingsFile = () => join(user.root, 'profiles', 'default', 'settings.json');
  const displayName = () => {
    try {
      return (JSON.parse(readFileSync(settingsFile(), 'utf8')) as { displayName: string }).displayName;
    } catch {
      return null;
    }
  };

  it('refuses a foreign or missing Origin, and a wrong token, before any upgrade', async () => {
    expect(await connect({ origin: 'http://evil.example', protocols: ['sirius', `sirius-token.${TOKEN}`] })).toEqual({ refused: 403 });
    expect(await connect({ origin: `http://localhost:${host.port}`, protocols: ['sirius', `sirius-token.${TOKEN}`] })).toEqual({ refused: 403 });
    expect(await connect({ protocols: ['sirius', `sirius-token.${TOKEN}`] })).toEqual({ refused: 403 });
    expect(await connect({ origin: OWN(), protocols: ['sirius', 'sirius-token.wrong-token-0123456789'] })).toEqual({ refused: 401 });
    expect(host.connections).toBe(0);
  });

  it('closes a connection whose first message is not the token, without running it', async () => {
    const before = displayName();
    const o = (await connect({ origin: OWN() })) as Opened;
    o.ws.send(JSON.stringify({ type: 'request', id: 1, method: 'settings.set', params: { displayName: 'Mallory' } }));
    expect((await o.closed).code).toBe(4401);
    expect(o.messages).toEqual([]);
    expect(displayName()).toBe(before);

    const wrong = (await connect({ origin: OWN() })) as Opened;
    wrong.ws.send(JSON.stringify({ type: 'auth', token: 'not-the-token-0123456789' }));
    expect((await wrong.closed).code).toBe(4401);

    const silent = (await connect({ origin: OWN() })) as Opened;
    expect((await silent.closed).code).toBe(4401);
    expect(silent.messages).toEqual([]);
  });

  it('serves the contract to a client with the token (subprotocol or first message), with events', async () => {
    const o = (await connect({ origin: OWN(), protocols: ['sirius', `sirius-token.${TOKEN}`] })) as Opened;
    expect(o.ws.protocol).toBe('sirius');
    await until(() => o.messages.some((m) => (m as { type: string }).type === 'ready'), 'ready');
    expect(await request(o, 1, 'app.version', {})).toEqual({ ok: true, value: { version: '1.0.0-test' } });
    expect((await request(o, 2, 'app.version', { x: 1 })).error?.code).toBe('invalid_params');
    expect((await request(o, 3, 'no.such.method', {})).error?.code).toBe('unknown_method');
    expect((await request(o, 4, 'contacts.list', {})).error?.code).toBe('profile.none');
    await request(o, 5, 'settings.set', { displayName: 'Webby' });
    expect(displayName()).toBe('Webby');
    o.ws.close();

    const viaMessage = (await connect({ origin: OWN() })) as Opened;
    viaMessage.ws.send(JSON.stringify({ type: 'auth', token: TOKEN }));
    await until(() => viaMessage.messages.some((m) => (m as { type: string }).type === 'ready'), 'ready');
    await request(viaMessage, 1, 'settings.set', { acceptStrangers: true });
    expect((await request(viaMessage, 2, 'settings.get', {})).value).toMatchObject({ acceptStrangers: true });
    // Junk after authentication is ignored; the connection stays.
    viaMessage.ws.send('not json');
    viaMessage.ws.send(JSON.stringify({ type: 'request', id: -1, method: 'app.version', params: {} }));
    expect((await request(viaMessage, 3, 'app.version', {})).ok).toBe(true);
    viaMessage.ws.close();
  });
});

describe('in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('installs window.sirius, hides the token, delivers events and reconnects after a restart', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(host.url);
    await page.locator('#out').filter({ hasText: 'version' }).waitFor();
    expect(JSON.parse((await page.locator('#out').textContent())!)).toEqual({ ok: true, value: { version: '1.0.0-test' } });
    expect(page.url()).toBe(`${host.origin}/`);
    expect(await page.evaluate(() => Object.isFrozen((window as unknown as { sirius: object }).sirius))).toBe(true);
    await expect(page.evaluate(() => (window as unknown as { sirius: { invoke(m: string, p: unknown): Promise<unknown> } }).sirius.invoke('fs.readFile', {}))).rejects.toThrow(/method name/);

    // Events reach the page's subscribers.
    await user.ok('settings.set', { displayName: 'Seen in the page' });
    await page.locator('#events').filter({ hasText: 'Seen in the page' }).waitFor();

    // The host restarts (same port and token): the page reconnects by itself.
    const { port } = host;
    await host.close();
    await page.locator('#status').filter({ hasText: 'false' }).waitFor();
    host = await startWebHost({ services: user.services, rendererDir: renderer, token: TOKEN, port, authTimeoutMs: 500 });
    await page.locator('#status').filter({ hasText: 'true' }).waitFor({ timeout: 20_000 });
    const again = await page.evaluate(() => (window as unknown as { sirius: { invoke(m: string, p: unknown): Promise<unknown> } }).sirius.invoke('app.version', {}));
    expect(again).toEqual({ ok: true, value: { version: '1.0.0-test' } });

    // A reload keeps working: the token is kept for the tab, not in the address.
    await page.reload();
    await page.locator('#out').filter({ hasText: 'version' }).waitFor();
    expect(problems.filter((p) => /Content Security Policy|Refused/.test(p))).toEqual([]);
    await page.close();
  });
});
