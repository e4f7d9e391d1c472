/**
 * The renderer's broadcast and watch screens in Debian's Chromium (DESIGN §5), with the network
 * side of streams replaced: two profiles' services run in this process with one in-memory stream
 * network between them (test/app/stream-memnet.ts), each behind its own web host, on a devnet
 * for everything else (onboarding, contacts, the chat that carries the invite). So this checks
 * the UI's whole media path — getUserMedia, WebCodecs encoding, broadcast.frames, view.frames,
 * decoding and drawing — on its own. test/e2e/stream-app.test.ts runs the same steps over the
 * real stream network.
 * Screenshots: test-output/screenshots/stream-memory-broadcast.png and -viewer.png.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { callMethod, createServices, passphraseProtector, type Services } from '../../app/services';
import { startWebHost, type WebHost } from '../../app/web/server';
import { createLogger } from '../../node-core/io/log';
import { APP_LAYOUT } from '../app/helpers';
import { MemoryStreamNetwork } from '../app/stream-memnet';
import { startTestNet, type TestNet } from '../support/devnet';
import { becomeContacts, launchChromium, onboard } from './helpers';
import { broadcastAndWatch } from './stream-steps';

const RENDERER = join(import.meta.dirname, '../../dist/renderer');

let net: TestNet;
let root: string;
let browser: Browser;
const streams = new MemoryStreamNetwork();
const running: Array<{ services: Services; host: WebHost }> = [];

async function startHost(profile: string): Promise<string> {
  const log = createLogger({ name: profile, destination: 2, level: process.env.SIRIUS_LOG_LEVEL ?? 'warn' });
  const services = createServices({ dataRoot: join(root, profile), profile, appVersion: '0.0.0-test', keys: passphraseProtector(), log, scrypt: { logN: 10 }, stream: { network: streams } });
  const set = await callMethod(services.handlers, 'settings.set', { networkFile: net.devnet.networkFile });
  if (!set.ok) throw new Error(set.error.message);
  const host = await startWebHost({ services, rendererDir: RENDERER, port: 0, log });
  running.push({ services, host });
  return host.url;
}

beforeAll(async () => {
  if (!existsSync(join(RENDERER, 'index.html'))) throw new Error('no built renderer in dist/renderer: run "npm run build" first');
  net = await startTestNet({ layout: APP_LAYOUT, periodMs: 3000, authorityThreshold: 2 });
  root = mkdtempSync(join(tmpdir(), 'psp-e2e-stream-ui-'));
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const r of running.splice(0)) {
    await r.host.close();
    await r.services.close();
  }
  await net?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the broadcast and watch screens', () => {
  it('encode the fake camera, and decode and draw it for a viewer who came through the chat invite', async () => {
    const [urlA, urlB] = await Promise.all([startHost('mem-a'), startHost('mem-b')]);
    const a = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const b = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const [, bId] = await Promise.all([onboard(a, urlA, 'Amy', 'mem-a', false), onboard(b, urlB, 'Bo', 'mem-b', false)]);
    await becomeContacts(a, b, bId, 'Bo', 'Ready for the stream?');
    await broadcastAndWatch(a, b, { shots: 'stream-memory', bName: 'Bo', firstFrameMs: 60_000, viewerCountMs: 30_000 });
  });
});
