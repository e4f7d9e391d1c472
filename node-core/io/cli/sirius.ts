/**
 * The `sirius` command line: `sirius node --config <file>` runs one node daemon;
 * `sirius devnet` starts a local network of node processes; `sirius chat` is the terminal messenger.
 */
import { Command, InvalidArgumentError } from 'commander';
import { smallLayout, startDevnet, testnetLayout } from '../devnet/devnet';
import { runNodeDaemon } from '../node/daemon';
import { base58 } from '@scure/base';
import { ClientSession } from '../client/session';
import { nodeSuite } from '../crypto-node';
import { chatCommand } from './chat';
import { streamCommand } from './stream';
import { oracleCommand } from './oracle';

const program = new Command();
program.name('sirius').description('Sirius Stream: PeerStream Protocol node, devnet and tools');

program
  .command('node')
  .description('run one node with the roles, address and identity of a config file')
  .requiredOption('-c, --config <file>', 'node config (JSON)')
  .action(async (opts: { config: string }) => {
    await runNodeDaemon(opts.config);
  });

function layoutOption(value: string): string {
  if (value !== 'testnet' && !/^small(:\d+)?$/.test(value)) {
    throw new InvalidArgumentError('use "testnet" or "small[:N]"');
  }
  return value;
}

program
  .command('devnet')
  .description('start a local network of separate node processes on 127.0.0.1')
  .option('-d, --dir <dir>', 'where node data and network.json go', '.devnet')
  .option('-l, --layout <layout>', 'testnet (5 discovery, 3 authority, 9 onion) or small[:N]', layoutOption, 'testnet')
  .option('--ports <mode>', '"fixed" (the layout\'s ports) or "auto" (free ports)', 'fixed')
  .action(async (opts: { dir: string; layout: string; ports: string }) => {
    if (opts.ports !== 'fixed' && opts.ports !== 'auto') throw new InvalidArgumentError('--ports must be fixed or auto');
    const layout = opts.layout === 'testnet' ? testnetLayout() : smallLayout(Number(opts.layout.split(':')[1] ?? 3));
    const devnet = await startDevnet({ dir: opts.dir, layout, ports: opts.ports });
    process.stdout.write(
      JSON.stringify({ event: 'ready', network: devnet.networkFile, nodes: devnet.nodes.length }) + '\n',
    );
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = () => {
        stopping = true;
        devnet.stop().then(resolve, resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      for (const n of devnet.nodes) {
        n.process.once('exit', (code, signal) => {
          if (!stopping) process.stderr.write(`node ${n.spec.nickname} exited unexpectedly (${code ?? signal})\n`);
        });
      }
    });
  });

program
  .command('directory')
  .description('fetch and verify the signed node list of a network; print it as JSON')
  .requiredOption('-n, --network <file>', 'network file')
  .action(async (opts: { network: string }) => {
    const session = new ClientSession({ suite: nodeSuite, network: opts.network });
    try {
      const c = await session.refreshDirectory();
      const out = {
        network: c.network,
        period: c.period,
        validAfter: new Date(c.validAfter).toISOString(),
        validUntil: new Date(c.validUntil).toISOString(),
        signers: c.signers.map((k) => base58.encode(k)),
        nodes: c.nodes.map((n) => ({
          nickname: n.nickname,
          identity: base58.encode(n.identity),
          roles: n.roles,
          flags: n.flags,
          addresses: n.addresses.map((a) => `${a.host}:${a.port}`),
          version: n.version,
        })),
      };
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    } finally {
      session.close();
    }
    process.exit(0);
  });

program.addCommand(chatCommand());
streamCommand(program);
oracleCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`sirius: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
