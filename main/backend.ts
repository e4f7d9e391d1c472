/**
 * Entry point of the backend utility process (Electron utilityProcess.fork). It owns everything
 * that parses untrusted data, so the main process never does: today it answers pings and the
 * `app.version` method; the app services and the embedded node will be hosted here.
 *
 * Messages arrive on `process.parentPort` (see ./backend-protocol for their shapes).
 */
/// <reference types="electron" />
import { createDispatcher } from './backend-dispatch';

/** Reads `--app-version=<v>` from the arguments the main process forks us with. */
function appVersionFrom(argv: readonly string[]): string {
  const prefix = '--app-version=';
  const arg = argv.find((a) => a.startsWith(prefix));
  const version = arg?.slice(prefix.length) ?? '';
  return /^[0-9A-Za-z.+-]{1,64}$/.test(version) ? version : '0.0.0';
}

const version = appVersionFrom(process.argv);

const dispatch = createDispatcher(
  {
    'app.version': () => ({ version }),
  },
  (method, error) => {
    process.stderr.write(`backend: ${method} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  },
);

const port = process.parentPort;
port.on('message', (event) => {
  void dispatch(event.data).then((reply) => {
    if (reply !== null) port.postMessage(reply);
  });
});
