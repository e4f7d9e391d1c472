/**
 * `sirius node --config <file>`: runs one node until SIGINT/SIGTERM. Prints a JSON log line
 * `{"msg":"node ready", ...info}` once it listens, which the devnet launcher waits for.
 */
import { nodeSuite } from '../crypto-node';
import { createLogger } from '../log';
import { loadNodeConfig } from './config';
import { PspNode } from './node';

export async function runNodeDaemon(configPath: string): Promise<void> {
  const config = loadNodeConfig(configPath);
  const log = createLogger({ name: config.nickname, level: config.logLevel });
  const node = await PspNode.create(config, nodeSuite, log);
  await node.start();
  // The ready line is part of the daemon's interface (the devnet waits for it), so it is
  // printed whatever the log level.
  process.stdout.write(JSON.stringify({ ...node.info, event: 'ready', msg: 'node ready' }) + '\n');
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'node stopping');
      node.stop().then(resolve, resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
