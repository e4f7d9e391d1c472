/**
 * The messenger end to end in a real browser (DESIGN §5): Debian's Chromium, driven by
 * playwright-core, against two web hosts — two profiles, each with its own data folder and
 * backend — on a devnet of real node processes. The profiles onboard, add each other, accept
 * the introduction, chat both ways with delivery ticks and send a file; one turns on "also run
 * as relay node", and its node appears in the next signed list and carries circuits, then drops
 * out when turned off. A screenshot of every screen goes to test-output/screenshots/.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../node-core/io/devnet/devnet';
import { becomeContacts, browserOnDevnet, id, onboard, shot } from './helpers';

const layout: NodeSpec[] = [
  ...[1, 2, 3].map((i) => ({ nickname: `discovery${i}`, roles: ['discovery' as const], port: 0 })),
  ...[1, 2].map((i) => ({ nickname: `authority${i}`, roles: ['authority' as const], port: 0 })),
  ...[1, 2, 3, 4, 5].map((i) => ({ nickname: `onion${i}`, roles: ['onion' as const], port: 0 })),
];

const env = browserOnDevnet(layout, 'psp-e2e-');
const startHost = env.startHost;

describe('the messenger in a browser', () => {
  it('two profiles onboard, connect, chat with ticks, send a file, and one relays for the network', async () => {
    const [urlA, urlB] = await Promise.all([startHost('alice'), startHost('bob')]);
    const a = await env.newPage({ width: 1280, height: 800 });
    const b = await env.newPage({ width: 1280, height: 800 });
    const [aliceId, bobId] = await Promise.all([onboard(a, urlA, 'Alice', 'alice'), onboard(b, urlB, 'Bob', 'bob')]);
    expect(aliceId).toMatch(/\.account\./);

    // Alice adds Bob and writes; Bob gets a request, accepts it, and sees the message.
    await becomeContacts(a, b, bobId, 'Bob', 'Hello Bob, it is Alice', { a: 'alice-03-contacts', b: 'bob-03-request' });

    // Bob answers; Alice sees it, and Bob's message gets its ticks.
    await b.fill(id('composer-input'), 'Hi Alice! Bob here.');
    await b.click(id('composer-send'));
    await a.locator(`${id('message-text')}:has-text("Hi Alice! Bob here.")`).waitFor({ timeout: 60_000 });
    await b.locator(`${id('message')}[data-direction="out"][data-status="delivered"], ${id('message')}[data-direction="out"][data-status="read"]`).first().waitFor({ timeout: 60_000 });
    await shot(a, 'alice-04-chat');
    await shot(b, 'bob-04-chat');

    // A file from Alice to Bob.
    const file = join(env.root, 'notes.txt');
    writeFileSync(file, 'notes for Bob\n'.repeat(5000));
    await a.setInputFiles(id('composer-file'), file);
    await b.locator(id('file-download')).first().waitFor({ timeout: 90_000 });
    await shot(b, 'bob-05-file');

    // Search in history.
    await b.fill(id('search-input'), 'Alice');
    await b.locator(id('search-result')).first().waitFor({ timeout: 15_000 });
    await shot(b, 'bob-06-search');

    // Network status.
    await a.click(id('nav-network'));
    await a.locator(`${id('network-online')}[data-online="true"]`).waitFor({ timeout: 30_000 });
    await shot(a, 'alice-07-network');

    // Alice also runs a relay node: it is listed in the next signed list and carries circuits.
    await a.click(id('nav-relay'));
    await shot(a, 'alice-08-relay-off');
    await a.click(id('relay-toggle'));
    await a.locator(`${id('relay-running')}[data-running="true"]`).waitFor({ timeout: 60_000 });
    await a.locator(`${id('relay-listed')}[data-listed="true"]`).waitFor({ timeout: 90_000 });
    // Traffic through the network until some circuit passes through Alice's node.
    const deadline = Date.now() + 120_000;
    let circuits = 0;
    for (let i = 0; circuits === 0 && Date.now() < deadline; i++) {
      await b.fill(id('composer-input'), `keep the network busy ${i}`);
      await b.click(id('composer-send'));
      await new Promise((r) => setTimeout(r, 1500));
      circuits = Number(((await a.locator(id('relay-circuits-total')).textContent()) ?? '0').replace(/\D/g, '') || '0');
    }
    expect(circuits).toBeGreaterThan(0);
    await shot(a, 'alice-09-relay-on');
    await a.click(id('relay-toggle'));
    await a.locator(`${id('relay-listed')}[data-listed="false"]`).waitFor({ timeout: 120_000 });
    await shot(a, 'alice-10-relay-removed');

    await a.click(id('nav-settings'));
    await shot(a, 'alice-11-settings');
  });
});
