/**
 * `sirius chat` — the terminal client — as a user runs it in two terminals on a devnet: each
 * creates an identity, registers it and adds the other as a contact; Bob listens; Alice sends
 * from the command line and Bob's terminal prints the message; Bob types a reply on stdin and
 * Alice's listening terminal prints it. The keys on disk are sealed (no secret in the clear),
 * a wrong passphrase is refused, and history survives the processes.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../node-core/io/devnet/devnet';
import { startTestNet, type TestNet } from '../support/devnet';
import { waitFor } from '../support/raw-link';

const layout: NodeSpec[] = [
  ...[1, 2, 3].map((i) => ({ nickname: `discovery${i}`, roles: ['discovery' as const], port: 0 })),
  ...[1, 2].map((i) => ({ nickname: `authority${i}`, roles: ['authority' as const], port: 0 })),
  ...[1, 2, 3, 4, 5].map((i) => ({ nickname: `onion${i}`, roles: ['onion' as const], port: 0 })),
];
const SIRIUS = join(import.meta.dirname, '../../bin/sirius.js');

let net: TestNet;
let root: string;
const running: ChildProcessWithoutNullStreams[] = [];

function sirius(args: string[], passphrase: string): Promise<{ code: number | null; lines: Record<string, unknown>[]; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [SIRIUS, ...args], { env: { ...process.env, SIRIUS_PASSPHRASE: passphrase } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => resolve({ code, lines: parseLines(out), stderr: err }));
  });
}

function parseLines(out: string): Record<string, unknown>[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function listen(dir: string, passphrase: string, to: string) {
  const p = spawn(process.execPath, [SIRIUS, 'chat', 'listen', '--data', dir, '--to', to], { env: { ...process.env, SIRIUS_PASSPHRASE: passphrase } });
  running.push(p);
  const state = { out: '', lines: () => parseLines(state.out), p };
  p.stdout.on('data', (d: Buffer) => (state.out += d.toString()));
  return state;
}

beforeAll(async () => {
  net = await startTestNet({ layout, periodMs: 3000, authorityThreshold: 2 });
  root = mkdtempSync(join(tmpdir(), 'psp-cli-chat-'));
}, 120_000);

afterAll(async () => {
  for (const p of running) p.kill('SIGTERM');
  await net?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('sirius chat', () => {
  it('two terminals chat over the devnet', async () => {
    const a = join(root, 'alice');
    const b = join(root, 'bob');
    const initA = await sirius(['chat', 'init', '--data', a, '--network', net.devnet.networkFile], 'alice pass');
    const initB = await sirius(['chat', 'init', '--data', b, '--network', net.devnet.networkFile], 'bob pass');
    expect(initA.code, initA.stderr).toBe(0);
    const aliceId = String(initA.lines[0]!.identity);
    const bobId = String(initB.lines[0]!.identity);
    expect(aliceId).toMatch(/^sirius\.chat\.account\.[1-9A-HJ-NP-Za-km-z]+$/);

    // Keys at rest are sealed: the identity key file does not hold the seed in the clear, and
    // the wrong passphrase is refused.
    expect(readdirSync(a).sort()).toEqual(expect.arrayContaining(['announce.key', 'identity.key']));
    const wrong = await sirius(['chat', 'whoami', '--data', a], 'not alice');
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/passphrase/);
    expect(readFileSync(join(a, 'identity.key')).length).toBeGreaterThan(32);

    // Registration retries while the young devnet's node list does not name enough nodes yet.
    for (const [dir, pass] of [
      [a, 'alice pass'],
      [b, 'bob pass'],
    ] as const) {
      let r = await sirius(['chat', 'register', '--data', dir], pass);
      for (let i = 0; r.code !== 0 && i < 10; i++) {
        await new Promise((res) => setTimeout(res, 2000));
        r = await sirius(['chat', 'register', '--data', dir], pass);
      }
      expect(r.code, r.stderr).toBe(0);
      expect(r.lines[0]!.event).toBe('registered');
    }
    expect((await sirius(['chat', 'add', bobId, '--name', 'bob', '--data', a], 'alice pass')).code).toBe(0);
    expect((await sirius(['chat', 'add', aliceId, '--name', 'alice', '--data', b], 'bob pass')).code).toBe(0);

    const bobTerm = listen(b, 'bob pass', 'alice');
    await waitFor(() => bobTerm.lines().some((l) => l.event === 'online'), 'Bob online', 60_000);
    const sent = await sirius(['chat', 'send', 'bob', 'hello', 'from', 'the', 'terminal', '--data', a], 'alice pass');
    expect(sent.code, sent.stderr).toBe(0);
    // Delivered over a channel, or — when the channel could not be set up in time — left in Bob's
    // mailbox at his presence nodes, from which his running client fetches it.
    expect(sent.lines.at(-1)).toMatchObject({ event: 'sent' });
    expect(['delivered', 'mailbox']).toContain(sent.lines.at(-1)!.outcome);
    await waitFor(() => bobTerm.lines().some((l) => l.event === 'message' && l.text === 'hello from the terminal'), 'Bob’s terminal to print it', 30_000);

    // Alice listens; Bob types a reply.
    const aliceTerm = listen(a, 'alice pass', 'bob');
    await waitFor(() => aliceTerm.lines().some((l) => l.event === 'online'), 'Alice online', 60_000);
    bobTerm.p.stdin.write('hi from the other terminal\n');
    await waitFor(() => aliceTerm.lines().some((l) => l.event === 'message' && l.text === 'hi from the other terminal'), 'Alice’s terminal to print the reply', 60_000);

    // History outlives the processes.
    aliceTerm.p.kill('SIGTERM');
    await new Promise((res) => aliceTerm.p.once('exit', res));
    const history = await sirius(['chat', 'history', 'bob', '--data', a], 'alice pass');
    expect(history.lines.map((l) => l.text)).toEqual(expect.arrayContaining(['hello from the terminal', 'hi from the other terminal']));
  });
});
