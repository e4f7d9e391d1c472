/**
 * What the terminal clients (`sirius chat`, `sirius stream`) share: the passphrase that seals a
 * user's keys, and the network file a user's data folder remembers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { InvalidArgumentError } from 'commander';

/** The passphrase: --passphrase-file, SIRIUS_PASSPHRASE, or the terminal (not echoed). */
export async function readPassphrase(o: { passphraseFile?: string }): Promise<string> {
  if (o.passphraseFile) return readFileSync(o.passphraseFile, 'utf8').replace(/\r?\n$/, '');
  const env = process.env.SIRIUS_PASSPHRASE;
  if (env) return env;
  if (!process.stdin.isTTY) throw new InvalidArgumentError('no passphrase: set SIRIUS_PASSPHRASE or use --passphrase-file');
  process.stderr.write('passphrase: ');
  const rl = createInterface({ input: process.stdin, terminal: true });
  // Do not echo what is typed.
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
  const answer = await new Promise<string>((res) => rl.question('', res));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

/** The network file: --network, else the one `sirius chat init --network` remembered in the data folder. */
export function networkFileOf(o: { data: string; network?: string }): string {
  if (o.network) {
    const f = resolve(o.network);
    if (!existsSync(f)) throw new InvalidArgumentError(`network file ${o.network} does not exist`);
    return f;
  }
  const remembered = join(o.data, 'network-path');
  if (existsSync(remembered)) return readFileSync(remembered, 'utf8').trim();
  throw new InvalidArgumentError('no network file: pass --network (sirius chat init --network remembers one)');
}
