/**
 * Child process of crash.test.ts: opens a profile through the app services and sends a burst of
 * messages, printing `{"stored":"<id>"}` for each one the services reported as stored — then the
 * test kills it with SIGKILL at some point in the burst. Usage:
 *   node --import tsx crash-child.ts <data root> <peer key hex> <network file> <create|unlock|hold>
 * `hold` unlocks the profile and then only keeps it open. Not a test file.
 */
import { callMethod, createServices } from '../../app/services';

const [root, peer, networkFile, mode] = process.argv.slice(2);
if (!root || !peer || !networkFile || (mode !== 'create' && mode !== 'unlock' && mode !== 'hold')) {
  process.stderr.write('usage: crash-child <root> <peer> <network file> <create|unlock|hold>\n');
  process.exit(2);
}

const services = createServices({ dataRoot: root, profile: 'default', appVersion: '1.0.0-test', scrypt: { logN: 10 } });
const call = async (method: string, params: unknown): Promise<unknown> => {
  const r = await callMethod(services.handlers, method, params);
  if (!r.ok) throw new Error(`${method}: ${r.error.code}: ${r.error.message}`);
  return r.value;
};

await call('settings.set', { networkFile });
if (mode === 'create') await call('profile.create', { displayName: 'Crash', passphrase: 'crash passphrase' });
else await call('profile.unlock', { passphrase: 'crash passphrase' });
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
if (mode === 'hold') setInterval(() => undefined, 1 << 30);
else for (let i = 0; ; i++) {
  const m = (await call('chat.send', { peer, text: `${mode} burst message ${i}` })) as { id: string };
  process.stdout.write(JSON.stringify({ stored: m.id }) + '\n');
}
