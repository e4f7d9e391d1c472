/**
 * Child process of embedded-network.test.ts: becomes a user of the embedded network under
 * `<dir>` and waits (the test kills it). Prints `{"networkFile": …}` once the network is ready.
 * Usage: node --import tsx network-user-child.ts <network dir>. Not a test file.
 */
import { acquireEmbeddedNetwork } from '../../app/services/embedded-network';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: network-user-child <network dir>\n');
  process.exit(2);
}
const lease = await acquireEmbeddedNetwork({ dir });
process.stdout.write(JSON.stringify({ networkFile: lease.networkFile, keeperPid: lease.keeperPid }) + '\n');
setInterval(() => undefined, 1 << 30);
