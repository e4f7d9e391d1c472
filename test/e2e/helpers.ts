/**
 * What the browser end-to-end tests share (DESIGN §5): Debian's Chromium with its fake camera and
 * microphone, web hosts (`npm run web`) started as processes for profiles on a devnet,
 * screenshots to test-output/screenshots/, and the steps every test begins with (onboarding,
 * becoming contacts). Test helper, not a test file.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { NodeSpec } from '../../node-core/io/devnet/devnet';
import { startTestNet, type TestNet } from '../support/devnet';

export const CHROMIUM = '/usr/bin/chromium';
const WEB = join(import.meta.dirname, '../../bin/web.js');
export const SHOTS = join(import.meta.dirname, '../../test-output/screenshots');

/** The flags of DESIGN §5: headless, no GPU, loopback only, fake camera and microphone. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`the browser test needs Chromium at ${CHROMIUM} (.ci/run installs it)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** Web host processes started by {@link startHost}; {@link stopHosts} ends them. */
export class Hosts {
  readonly #children: ChildProcessWithoutNullStreams[] = [];

  /** Starts `npm run web` for `profile` (data in `<root>/<profile>`) on `networkFile`; resolves its URL. */
  start(root: string, profile: string, networkFile: string): Promise<string> {
    const data = join(root, profile);
    const p = spawn(process.execPath, [WEB, '--port', '0', '--profile', profile, '--data', data, '--network', networkFile], {
      env: { ...process.env, SIRIUS_LOG_LEVEL: process.env.SIRIUS_LOG_LEVEL ?? 'warn' },
    });
    this.#children.push(p);
    let out = '';
    let err = '';
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (process.env.SIRIUS_E2E_HOST_LOGS) process.stderr.write(`[${profile}] ${d.toString()}`);
    });
    return new Promise<string>((resolve, reject) => {
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        for (const line of out.split('\n')) {
          if (!line.startsWith('{')) continue;
          const m = JSON.parse(line) as { event?: string; url?: string };
          if (m.event === 'web-ready' && m.url) resolve(m.url);
        }
      });
      p.on('exit', (code) => reject(new Error(`web host ${profile} exited (${code}): ${err.slice(-2000)}`)));
    });
  }

  stop(): void {
    for (const h of this.#children.splice(0)) h.kill('SIGTERM');
  }
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** A `data-testid` selector. */
export const id = (t: string): string => `[data-testid="${t}"]`;

/** Creates a profile through the onboarding pages; resolves the identity string it shows. */
export async function onboard(page: Page, url: string, name: string, who: string, screenshots = true): Promise<string> {
  await page.goto(url);
  await page.fill(id('onboarding-name'), name);
  await page.fill(id('onboarding-passphrase'), `correct horse ${name}`);
  await page.fill(id('onboarding-passphrase2'), `correct horse ${name}`);
  if (screenshots) await shot(page, `${who}-01-onboarding`);
  await page.click(id('onboarding-create'));
  const identity = page.locator(id('identity-string'));
  await identity.waitFor({ timeout: 90_000 });
  await page.locator(id('identity-qr')).waitFor();
  if (screenshots) await shot(page, `${who}-02-identity`);
  const text = (await identity.textContent())!.trim();
  const next = page.locator(id('onboarding-continue'));
  if (await next.isVisible()) await next.click();
  await page.locator(id('nav-chat')).waitFor();
  return text;
}

/**
 * `a` adds `b` as a contact (named `bName`) and writes `greeting`; `b` accepts the chat request
 * and sees the greeting; `a` sees it delivered. Both are then contacts with an open chat.
 */
export async function becomeContacts(a: Page, b: Page, bIdentity: string, bName: string, greeting: string, shots?: { a: string; b: string }): Promise<void> {
  await a.click(id('nav-contacts'));
  await a.fill(id('contact-add-identity'), bIdentity);
  await a.fill(id('contact-add-name'), bName);
  await a.click(id('contact-add-submit'));
  await a.locator(id('contact-row')).first().waitFor();
  if (shots) await shot(a, shots.a);
  await a.locator(id('contact-message')).first().click();
  await a.fill(id('composer-input'), greeting);
  await a.click(id('composer-send'));

  await b.click(id('nav-contacts'));
  const request = b.locator(id('request-row')).first();
  await request.waitFor({ timeout: 90_000 });
  if (shots) await shot(b, shots.b);
  await b.click(id('request-accept'));
  await b.click(id('nav-chat'));
  await b.locator(id('conversation-row')).first().click();
  await b.locator(`${id('message-text')}:has-text("${greeting}")`).waitFor({ timeout: 60_000 });
  await a.locator(`${id('message')}[data-direction="out"][data-status="delivered"], ${id('message')}[data-direction="out"][data-status="read"]`).first().waitFor({ timeout: 60_000 });
}

/**
 * What a browser test runs on, set up before its tests and torn down after: a devnet of node
 * processes with `layout`, a temporary folder, Chromium, and web hosts started on demand.
 */
export interface BrowserOnDevnet {
  /** The temporary folder (profiles' data, files to upload). */
  readonly root: string;
  /** Starts a web host for `profile` on the devnet; resolves with its URL. */
  startHost(profile: string): Promise<string>;
  /** A page in a fresh browser context (its own cookies and storage). */
  newPage(viewport: { width: number; height: number }): Promise<Page>;
}

export function browserOnDevnet(layout: NodeSpec[], prefix: string): BrowserOnDevnet {
  let net: TestNet | undefined;
  let root = '';
  let browser: Browser | undefined;
  const hosts = new Hosts();
  beforeAll(async () => {
    net = await startTestNet({ layout, periodMs: 3000, authorityThreshold: 2 });
    root = mkdtempSync(join(tmpdir(), prefix));
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    hosts.stop();
    await net?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });
  return {
    get root() {
      return root;
    },
    startHost: (profile) => hosts.start(root, profile, net!.devnet.networkFile),
    newPage: async (viewport) => (await browser!.newContext({ viewport })).newPage(),
  };
}
