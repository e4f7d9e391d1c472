/**
 * `npm run web -- --port N --profile NAME [--data DIR] [--network FILE] [--open]`: the web host
 * on 127.0.0.1. `--network` stores the network file in the profile's settings (as settings.set
 * would); without it the profile keeps its setting (none: the embedded local network).
 * Hosts the app services for one profile and serves the built renderer (dist/renderer) to a
 * browser. Prints one JSON line when ready, `{"event":"web-ready","url":…}`; the URL carries the
 * access token and is printed nowhere else. Logs go to stderr. SIGINT/SIGTERM close the profile
 * (and the embedded network's lease and the relay node) before exiting.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { createLogger } from '../../node-core/io/log';
import { callMethod, createServices, isProfileName, passphraseProtector } from '../services';
import { startWebHost } from './server';

const here = fileURLToPath(new URL('.', import.meta.url));
const DEFAULT_RENDERER = resolve(here, '..', '..', 'dist', 'renderer');

/** Where Electron keeps `userData` for this app, so both share profiles. */
export function defaultDataRoot(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const name = 'Sirius Stream';
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), name);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', name);
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), name);
}

function portOption(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port is 0..65535 (0: any free port)');
  return n;
}

function profileOption(value: string): string {
  if (!isProfileName(value)) throw new InvalidArgumentError('1-64 letters, digits, _ or -');
  return value;
}

function openInBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  try {
    spawn(cmd, args as string[], { detached: true, stdio: 'ignore' }).on('error', () => undefined).unref();
  } catch {
    // no browser launcher: the printed URL is enough
  }
}

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('sirius-web')
    .description('serve the Sirius Stream app to a browser on 127.0.0.1')
    .option('-p, --port <port>', 'port on 127.0.0.1 (0: any free port)', portOption, 0)
    .option('--profile <name>', 'profile to host', profileOption, 'default')
    .option('--data <dir>', 'data folder (default: the desktop app’s)')
    .option('--network <file>', 'network file for this profile (stored in its settings)')
    .option('--renderer <dir>', 'built renderer folder', DEFAULT_RENDERER)
    .option('--open', 'open the address in the default browser', false)
    .parse(argv);
  const opts = program.opts<{ port: number; profile: string; data?: string; network?: string; renderer: string; open: boolean }>();
  const dataRoot = resolve(opts.data ?? defaultDataRoot());
  const rendererDir = resolve(opts.renderer);
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new Error(`no built renderer in ${rendererDir}: run "npm run build" first`);
  }
  const log = createLogger({ name: 'web', destination: 2, level: process.env.SIRIUS_LOG_LEVEL ?? 'warn' });
  const version = (await import('../../package.json', { with: { type: 'json' } })).default.version;
  const services = createServices({ dataRoot, profile: opts.profile, appVersion: version, keys: passphraseProtector(), log });
  if (opts.network !== undefined) {
    const set = await callMethod(services.handlers, 'settings.set', { networkFile: resolve(opts.network) });
    if (!set.ok) {
      await services.close();
      throw new Error(set.error.message);
    }
  }
  const host = await startWebHost({ services, rendererDir, port: opts.port, log });
  process.stdout.write(JSON.stringify({ event: 'web-ready', url: host.url }) + '\n');
  if (opts.open) openInBrowser(host.url);
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      void host
        .close()
        .then(() => services.close())
        .finally(done);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

main(process.argv).then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`sirius web: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
