/**
 * `sirius oracle subscribe | unsubscribe | subscriptions` (node-core/io/cli/oracle.ts), run in
 * this process through commander against a data folder: what the operator writes is what the
 * oracle's registry holds; bad arguments are refused and change nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base58 } from '@scure/base';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { oracleCommand, parseIdentityArgument } from '../../node-core/io/cli/oracle';
import { ORACLE_DATABASE_FILE, SqliteSubscriptionRegistry } from '../../node-core/io/storage/subscription-registry';
import { equalBytes } from '../../node-core/util/bytes';
import { ALICE, BOB, T0, identityOf } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'oracle-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 24 * 60 * 60 * 1000;

/** Runs `sirius oracle …args`; returns the JSON lines printed, or throws commander's or the command's error. */
async function run(...args: string[]): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const program = new Command().name('sirius').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  const oracle = oracleCommand(program, { out: (l) => lines.push(l), now: () => T0 });
  for (const c of [oracle, ...oracle.commands]) c.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  await program.parseAsync(['node', 'sirius', 'oracle', ...args]);
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function stored() {
  const r = SqliteSubscriptionRegistry.open(join(dir, ORACLE_DATABASE_FILE));
  try {
    return await r.listSubscriptions();
  } finally {
    r.close();
  }
}

describe('sirius oracle', () => {
  it('subscribes by identity string or base58 key, replaces, lists and unsubscribes', async () => {
    const out = await run('subscribe', '--data', dir, '--identity', identityOf(ALICE), '--bitrate', '4000000', '--viewers', '50', '--public', '--days', '30');
    expect(out).toEqual([
      {
        event: 'created',
        identity: base58.encode(ALICE.publicKey),
        maxBitrate: 4_000_000,
        maxViewers: 50,
        publicAllowed: true,
        expiresAt: new Date(T0 + 30 * DAY).toISOString(),
        expired: false,
        updatedAt: new Date(T0).toISOString(),
      },
    ]);
    await run('subscribe', '--data', dir, '--identity', base58.encode(BOB.publicKey), '--bitrate', '1000', '--viewers', '1', '--days', '1');
    const again = await run('subscribe', '--data', dir, '-i', base58.encode(ALICE.publicKey), '--bitrate', '2000000', '--viewers', '5', '--days', '2');
    expect(again[0]).toMatchObject({ event: 'updated', publicAllowed: false, maxBitrate: 2_000_000 });
    const listed = await run('subscriptions', '--data', dir);
    expect(listed.map((l) => l['identity']).sort()).toEqual([base58.encode(ALICE.publicKey), base58.encode(BOB.publicKey)].sort());
    const rows = await stored();
    const alice = rows.find((r) => equalBytes(r.identity, ALICE.publicKey))!;
    expect(alice).toMatchObject({ maxBitrate: 2_000_000, maxViewers: 5, publicAllowed: false, expiresAt: T0 + 2 * DAY });
    expect(await run('unsubscribe', '--data', dir, '--identity', identityOf(BOB))).toEqual([{ event: 'removed', identity: base58.encode(BOB.publicKey) }]);
    expect(await run('unsubscribe', '--data', dir, '--identity', identityOf(BOB))).toEqual([{ event: 'not-found', identity: base58.encode(BOB.publicKey) }]);
    expect((await stored()).length).toBe(1);
  });

  it('refuses bad arguments and changes nothing', async () => {
    const before = await stored();
    const args = ['subscribe', '--data', dir, '--identity', identityOf(ALICE), '--bitrate', '5', '--viewers', '5', '--days', '5'];
    const withArg = (name: string, value: string) => args.map((a, i) => (args[i - 1] === name ? value : a));
    await expect(run(...withArg('--bitrate', '0'))).rejects.toThrow(/whole number/);
    await expect(run(...withArg('--viewers', '4294967296'))).rejects.toThrow(/whole number/);
    await expect(run(...withArg('--days', '1.5'))).rejects.toThrow(/whole number/);
    await expect(run(...withArg('--identity', 'sirius.chat.account.notbase58!'))).rejects.toThrow();
    await expect(run(...withArg('--identity', base58.encode(new Uint8Array(31).fill(7))))).rejects.toThrow(/32 bytes/);
    await expect(run(...withArg('--data', join(dir, 'missing')))).rejects.toThrow(/no data folder/);
    await expect(run('subscribe', '--data', dir, '--identity', identityOf(ALICE), '--bitrate', '5', '--viewers', '5')).rejects.toThrow(/--days/);
    expect(await stored()).toEqual(before);
  });

  it('parses identities strictly', () => {
    expect(equalBytes(parseIdentityArgument(identityOf(ALICE)), ALICE.publicKey)).toBe(true);
    expect(equalBytes(parseIdentityArgument(` ${base58.encode(ALICE.publicKey)} `), ALICE.publicKey)).toBe(true);
    expect(() => parseIdentityArgument('1' + base58.encode(ALICE.publicKey))).toThrow(); // not canonical, or not 32 bytes
    expect(() => parseIdentityArgument(base58.encode(new Uint8Array(32)))).toThrow(/point/); // the all-zero key is of small order
  });
});
