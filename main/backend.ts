/**
 * Entry point of the backend utility process (Electron utilityProcess.fork). It owns everything
 * that parses untrusted data, so the main process never does: it hosts the app services
 * (app/services) for one profile, answers the contract's methods through the dispatcher, and
 * pushes the services' events to the main process as 'event' messages.
 *
 * Arguments from the main process:
 *   --app-version=<v>     reported by app.version
 *   --data-root=<path>    the user's data folder (Electron's userData), absolute
 *   --profile=<name>      the profile (or `--profile <name>`; default 'default')
 *   --keychain            the main process will send the profile's keychain secret
 *                         ('unlock-secret'), so keys are sealed by the OS keychain
 *
 * Messages arrive on `process.parentPort` (see ./backend-protocol for their shapes).
 */
/// <reference types="electron" />
import { isAbsolute } from 'node:path';
import { METHOD_NAMES, type MethodName } from '../app/contract/wire';
import {
  createServices,
  deferredKeychainProtector,
  isProfileName,
  passphraseProtector,
  type Services,
} from '../app/services';
import { createLogger } from '../node-core/io/log';
import { createDispatcher, HandlerError, type MethodHandlers } from './backend-dispatch';
import { parseUnlockSecretMessage } from './backend-protocol';

/** The value of `--name=<v>` or `--name <v>`, if present. */
function argValue(argv: readonly string[], name: string): string | undefined {
  const prefix = `--${name}=`;
  const inline = argv.find((a) => a.startsWith(prefix));
  if (inline !== undefined) return inline.slice(prefix.length);
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Reads `--app-version=<v>` from the arguments the main process forks us with. */
function appVersionFrom(argv: readonly string[]): string {
  const version = argValue(argv, 'app-version') ?? '';
  return /^[0-9A-Za-z.+-]{1,64}$/.test(version) ? version : '0.0.0';
}

/** Handlers for a backend that cannot host services (no usable data folder): versions only. */
function unavailable(version: string, why: string): MethodHandlers {
  const out: Record<string, () => unknown> = {};
  for (const method of METHOD_NAMES) {
    out[method] = method === 'app.version' ? () => ({ version }) : () => {
      throw new HandlerError('backend.unavailable', why);
    };
  }
  return out as unknown as MethodHandlers;
}

const argv = process.argv;
const version = appVersionFrom(argv);
const log = createLogger({ name: 'backend', destination: 2, level: process.env.SIRIUS_LOG_LEVEL ?? 'warn' });
const dataRoot = argValue(argv, 'data-root');
const profile = argValue(argv, 'profile') ?? 'default';
const keychain = argv.includes('--keychain') ? deferredKeychainProtector() : null;

const port = process.parentPort;
let services: Services | null = null;
let handlers: MethodHandlers;
if (dataRoot === undefined || !isAbsolute(dataRoot)) {
  handlers = unavailable(version, 'The backend was started without a data folder.');
} else if (!isProfileName(profile)) {
  handlers = unavailable(version, 'The profile name must be 1-64 letters, digits, _ or -.');
} else {
  services = createServices({
    dataRoot,
    profile,
    appVersion: version,
    keys: keychain?.protector ?? passphraseProtector(),
    // With the keychain the user types nothing: the profile opens when its secret arrives.
    autoUnlock: keychain !== null,
    log,
    // The main process grants the camera and microphone only while a broadcast is live.
    stream: { onMediaAccess: (active) => port.postMessage({ type: 'media-access', active }) },
  });
  handlers = services.handlers;
}

const dispatch = createDispatcher(handlers, (method: MethodName, error) => {
  log.error({ method, err: error instanceof Error ? (error.stack ?? error.message) : String(error) }, 'method failed');
});

services?.subscribe((event, payload) => port.postMessage({ type: 'event', event, payload }));
port.on('message', (event) => {
  const secret = parseUnlockSecretMessage(event.data);
  if (secret !== null) {
    keychain?.provide(secret.secret);
    return;
  }
  void dispatch(event.data).then((reply) => {
    if (reply !== null) port.postMessage(reply);
  });
});

let stopping = false;
function shutdown(): void {
  if (stopping) return;
  stopping = true;
  void (services?.close() ?? Promise.resolve()).finally(() => process.exit(0));
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
