/**
 * main/backend.ts, the utility-process entry, with a stand-in for `process.parentPort`: it answers
 * pings and app.version (with the version the main process passed on its command line) and
 * ignores anything else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type MessageListener = (event: { data: unknown }) => void;

const posted: unknown[] = [];
let deliver: MessageListener = () => {};
const savedArgv = process.argv;
const processWithPort = process as unknown as { parentPort?: unknown };
const savedPort = processWithPort.parentPort;

async function send(data: unknown): Promise<unknown[]> {
  const before = posted.length;
  deliver({ data });
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  return posted.slice(before);
}

beforeAll(async () => {
  process.argv = [...savedArgv, '--app-version=2.5.0-rc.1'];
  processWithPort.parentPort = {
    on(event: string, listener: MessageListener) {
      if (event === 'message') deliver = listener;
      return this;
    },
    postMessage(message: unknown) {
      posted.push(message);
    },
  };
  await import('../../main/backend');
});

afterAll(() => {
  process.argv = savedArgv;
  processWithPort.parentPort = savedPort;
});

describe('backend entry', () => {
  it('answers a ping', async () => {
    expect(await send({ type: 'ping', id: 3 })).toEqual([{ type: 'pong', id: 3 }]);
  });

  it('answers app.version with the version from its command line', async () => {
    expect(await send({ type: 'request', id: 4, method: 'app.version', params: {} })).toEqual([
      { type: 'response', id: 4, result: { ok: true, value: { version: '2.5.0-rc.1' } } },
    ]);
  });

  it('answers invalid params with an error Result', async () => {
    const [reply] = (await send({ type: 'request', id: 5, method: 'app.version', params: [] })) as Array<{
      result: { ok: boolean; error?: { code: string } };
    }>;
    expect(reply?.result.error?.code).toBe('invalid_params');
  });

  it('stays silent on messages that are not requests', async () => {
    expect(await send({ type: 'request', id: 6, method: 'shell.exec', params: {} })).toEqual([]);
    expect(await send('ping')).toEqual([]);
  });
});
