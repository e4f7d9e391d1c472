/**
 * Process entry of the embedded network's keeper: `node --import tsx network-keeper-main.ts <dir>`
 * (started by ./embedded-network's defaultKeeperLauncher). Exits when the network stops.
 */
import { isAbsolute } from 'node:path';
import { runNetworkKeeper } from './network-keeper';

const dir = process.argv[2];
if (dir === undefined || !isAbsolute(dir)) {
  process.stderr.write('usage: network-keeper-main <absolute network folder>\n');
  process.exit(2);
}
runNetworkKeeper({ dir }).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`keeper failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
