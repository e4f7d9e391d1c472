/**
 * The steps of the live-stream browser tests, on two pages whose profiles are contacts with an
 * open chat: A goes live from Chromium's fake camera and shares the invite into the chat; B
 * presses Watch on the invite card and the viewer canvas shows decoded frames that keep changing;
 * A sees one viewer; B leaves and A sees none. Test helper, not a test file.
 */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { id, shot } from './helpers';

export interface CanvasSample {
  readonly drawn: number;
  readonly checksum: string;
}

/** Frames drawn and the last pixel checksum of B's viewer canvas. */
export async function canvasSample(page: Page): Promise<CanvasSample> {
  const canvas = page.locator(id('viewer-canvas'));
  const [drawn, checksum] = await Promise.all([canvas.getAttribute('data-frames-drawn'), canvas.getAttribute('data-last-checksum')]);
  return { drawn: Number(drawn ?? '0'), checksum: checksum ?? '' };
}

async function viewersShown(page: Page): Promise<number> {
  return Number(((await page.locator(id('broadcast-viewers')).textContent()) ?? '').replace(/\D/g, '') || 'NaN');
}

/** Waits until A's broadcast screen shows `n` viewers. */
export async function waitForViewers(page: Page, n: number, timeoutMs: number): Promise<void> {
  await page.waitForFunction(
    ({ selector, n }) => {
      const text = document.querySelector(selector)?.textContent ?? '';
      return Number(text.replace(/\D/g, '') || 'NaN') === n;
    },
    { selector: id('broadcast-viewers'), n },
    { timeout: timeoutMs },
  );
  expect(await viewersShown(page)).toBe(n);
}

export interface StreamScenario {
  /** Prefix of the screenshot names. */
  readonly shots: string;
  /** How long to wait for the first decoded frame and for viewer counts (the network's pace). */
  readonly firstFrameMs: number;
  readonly viewerCountMs: number;
  /** The name A's chat knows B by (the share list shows it). */
  readonly bName: string;
}

/** A broadcasts, shares the invite with B, B watches for ≥ 10 s, then leaves. */
export async function broadcastAndWatch(a: Page, b: Page, s: StreamScenario): Promise<void> {
  // A goes live (the camera opens after broadcast.start: the desktop app allows it only then).
  await a.click(id('nav-broadcast'));
  await a.click(id('broadcast-start'));
  await a.locator(`${id('broadcast-live')}[data-live="true"]`).waitFor({ timeout: 120_000 });
  // The encoder runs: its codec is shown once it has produced frames.
  await a.locator(id('broadcast-codec')).waitFor({ timeout: 60_000 });
  await expect.poll(async () => Number(((await a.locator(id('broadcast-frames-sent')).textContent()) ?? '0').replace(/\D/g, '') || '0'), { timeout: 60_000 }).toBeGreaterThan(0);

  // A shares the invite with B through the chat.
  await a.locator(id('broadcast-share-contact')).selectOption({ label: s.bName });
  await a.click(id('broadcast-share'));
  await a.locator(`${id('toast')}:has-text("Invite sent")`).waitFor({ timeout: 60_000 });

  // B gets the invite card in the chat and presses Watch.
  await b.click(id('nav-chat'));
  await b.locator(id('conversation-row')).first().click();
  const card = b.locator(`${id('invite-card')}[data-direction="in"]`).last();
  await card.waitFor({ timeout: 90_000 });
  await shot(b, `${s.shots}-invite`);
  await card.locator(id('invite-watch')).click();
  await b.locator(`${id('viewer-state')}[data-phase="watching"]`).waitFor({ timeout: 120_000 });

  // Decoded frames reach B's canvas …
  await b.waitForFunction((selector) => Number(document.querySelector(selector)?.getAttribute('data-frames-drawn') ?? '0') > 0, id('viewer-canvas'), {
    timeout: s.firstFrameMs,
  });
  // … and keep coming, with a changing picture, for at least 10 s.
  const samples: CanvasSample[] = [await canvasSample(b)];
  const sent: string[] = [];
  for (let i = 0; i < 12; i++) {
    await b.waitForTimeout(1000);
    samples.push(await canvasSample(b));
    sent.push(((await a.locator(id('broadcast-frames-sent')).textContent().catch(() => '?')) ?? '?').replace(/\s+/g, ' '));
  }
  // A loaded machine may stall a second now and then (a decoder waiting for a keyframe): the
  // count must never go back, grow over the whole time, and grow in most of the seconds.
  const drawn = samples.map((x) => x.drawn);
  const overlay = ((await b.locator(id('viewer-overlay')).textContent().catch(() => '')) ?? '').replace(/\s+/g, ' ');
  const seen = `frames drawn, one sample a second: ${drawn.join(', ')}; A's frames sent: ${sent.join(', ')}; B's overlay: ${overlay}`;
  for (let i = 1; i < drawn.length; i++) expect(drawn[i], seen).toBeGreaterThanOrEqual(drawn[i - 1]!);
  const rising = drawn.filter((d, i) => i > 0 && d > drawn[i - 1]!).length;
  expect(rising, seen).toBeGreaterThanOrEqual(6);
  expect(drawn.at(-1)! - drawn[0]!, seen).toBeGreaterThanOrEqual(15);
  // The fake camera's picture moves (a clock and a turning pie): the sampled pixels change.
  const checksums = new Set(samples.map((x) => x.checksum).filter((c) => /^[0-9a-f]{8}$/.test(c)));
  expect(checksums.size, `checksums: ${[...checksums].join(', ')}`).toBeGreaterThanOrEqual(4);

  // A sees one viewer.
  await a.click(id('nav-broadcast'));
  await waitForViewers(a, 1, s.viewerCountMs);
  await a.locator('.page').evaluate((el) => el.scrollTo(0, 0));
  await shot(a, `${s.shots}-broadcast`);
  await shot(b, `${s.shots}-viewer`);

  // B leaves; A sees none.
  await b.click(id('viewer-leave'));
  await b.locator(`${id('viewer-state')}[data-phase="idle"]`).waitFor({ timeout: 30_000 });
  await waitForViewers(a, 0, s.viewerCountMs);

  // A stops.
  await a.click(id('broadcast-stop'));
  await a.locator(`${id('broadcast-live')}[data-live="false"]`).waitFor({ timeout: 60_000 });
}
