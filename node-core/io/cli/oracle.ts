/**
 * `sirius oracle`: the operator's side of an oracle node's subscription registry
 * (node-core/io/storage/subscription-registry.ts, in <data>/oracle.sqlite):
 *
 *   sirius oracle subscribe --data DIR --identity <identity string or base58 key> \
 *       --bitrate N --viewers N [--public] --days N        # creates or replaces a subscription
 *   sirius oracle unsubscribe --data DIR --identity <…>    # removes one
 *   sirius oracle subscriptions --data DIR                 # lists them, one JSON line each
 *
 * DIR is the oracle node's data folder; the node reads the registry on every receipt request,
 * so a change applies at once. Output is JSON lines on stdout; a bad argument is an error that
 * changes nothing.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { base58 } from '@scure/base';
import { Command, InvalidArgumentError } from 'commander';
import { IdentityError, parseIdentity } from '../../crypto/identity';
import { ORACLE_DATABASE_FILE, SqliteSubscriptionRegistry, type SubscriptionRecord } from '../storage/subscription-registry';

const MAX_U32 = 0xffffffff;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Where the commands write their lines (stdout unless a test gives another). */
export interface OracleCommandIo {
  readonly out: (line: string) => void;
  /** The clock (default Date.now). */
  readonly now?: () => number;
}

/** An identity string (`<namespace>.<app>.account.<base58 key>`) or a bare base58 key → the 32-byte key. */
export function parseIdentityArgument(value: string): Uint8Array {
  const text = value.trim();
  try {
    if (text.includes('.')) return parseIdentity(text).publicKey;
    // A bare key gets the checks of an identity string: canonical base58, 32 bytes, a usable point.
    return parseIdentity(`sirius.oracle.account.${text}`).publicKey;
  } catch (e) {
    if (e instanceof IdentityError) throw new InvalidArgumentError(e.message);
    throw e;
  }
}

function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`must be a whole number ${min}..${max}`);
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number ${min}..${max}`);
    return n;
  };
}

function openRegistry(dir: string): SqliteSubscriptionRegistry {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InvalidArgumentError(`no data folder at ${dir}`);
  return SqliteSubscriptionRegistry.open(join(dir, ORACLE_DATABASE_FILE));
}

function describe(s: SubscriptionRecord, now: number): Record<string, unknown> {
  return {
    identity: base58.encode(s.identity),
    maxBitrate: s.maxBitrate,
    maxViewers: s.maxViewers,
    publicAllowed: s.publicAllowed,
    expiresAt: new Date(s.expiresAt).toISOString(),
    expired: s.expiresAt <= now,
    updatedAt: new Date(s.updatedAt).toISOString(),
  };
}

/** Adds `oracle` and its subcommands to `program`; returns the `oracle` command. */
export function oracleCommand(program: Command, io: OracleCommandIo = { out: (line) => process.stdout.write(line + '\n') }): Command {
  if (!(program instanceof Command)) throw new TypeError('program must be a commander Command');
  if (typeof io !== 'object' || io === null || typeof io.out !== 'function') throw new TypeError('io.out must be a function');
  const now = io.now ?? (() => Date.now());
  const print = (line: Record<string, unknown>) => io.out(JSON.stringify(line));
  const oracle = program.command('oracle').description("an oracle node's subscription registry (which identities may create streams)");

  oracle
    .command('subscribe')
    .description('create or replace the subscription of an identity')
    .requiredOption('-d, --data <dir>', "the oracle node's data folder")
    .requiredOption('-i, --identity <identity>', 'identity string or base58 identity key', parseIdentityArgument)
    .requiredOption('--bitrate <bps>', 'highest stream bitrate, bits per second', integer(1, MAX_U32))
    .requiredOption('--viewers <n>', 'most viewers per stream', integer(1, MAX_U32))
    .option('--public', 'may create public streams (listed in the DHT)', false)
    .requiredOption('--days <n>', 'days from now until the subscription expires', integer(1, 36_500))
    .action(async (opts: { data: string; identity: Uint8Array; bitrate: number; viewers: number; public: boolean; days: number }) => {
      const registry = openRegistry(opts.data);
      try {
        const t = now();
        const outcome = await registry.putSubscription(
          { identity: opts.identity, maxBitrate: opts.bitrate, maxViewers: opts.viewers, publicAllowed: opts.public, expiresAt: t + opts.days * DAY_MS },
          t,
        );
        const saved = await registry.getSubscription(opts.identity);
        print({ event: outcome, ...describe(saved!, t) });
      } finally {
        registry.close();
      }
    });

  oracle
    .command('unsubscribe')
    .description('remove the subscription of an identity')
    .requiredOption('-d, --data <dir>', "the oracle node's data folder")
    .requiredOption('-i, --identity <identity>', 'identity string or base58 identity key', parseIdentityArgument)
    .action(async (opts: { data: string; identity: Uint8Array }) => {
      const registry = openRegistry(opts.data);
      try {
        const removed = await registry.removeSubscription(opts.identity);
        print({ event: removed ? 'removed' : 'not-found', identity: base58.encode(opts.identity) });
      } finally {
        registry.close();
      }
    });

  oracle
    .command('subscriptions')
    .description('list the subscriptions, one JSON line each')
    .requiredOption('-d, --data <dir>', "the oracle node's data folder")
    .action(async (opts: { data: string }) => {
      const registry = openRegistry(opts.data);
      try {
        const t = now();
        for (const s of await registry.listSubscriptions()) print(describe(s, t));
      } finally {
        registry.close();
      }
    });

  return oracle;
}
