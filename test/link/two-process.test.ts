/**
 * Real node processes: node B's config names node A as a peer; both are separate `sirius node`
 * processes. B must authenticate A's identity and A must see B's identity; a node configured
 * with a wrong identity for its peer must refuse the link with a clear reason.
 */
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnNode, stopChild, writeNodeFiles } from '../../node-core/io/devnet/devnet';
import { waitFor } from '../support/raw-link';

const dir = mkdtempSync(join(tmpdir(), 'psp-two-process-'));
const children: import('node:child_process').ChildProcess[] = [];
afterAll(async () => {
  await Promise.all(children.map((c) => stopChild(c)));
  rmSync(dir, { recursive: true, force: true });
});

type Line = Record<string, unknown>;

describe('two node processes', () => {
  it('authenticate each other over a real TLS link, and refuse a wrong identity', async () => {
    const linesA: Line[] = [];
    const linesB: Line[] = [];
    const linesC: Line[] = [];
    const collect = (sink: Line[]) => (_n: string, line: string) => {
      try {
        sink.push(JSON.parse(line) as Line);
      } catch {
        /* not JSON */
      }
    };
    const a = await spawnNode(writeNodeFiles(dir, { nickname: 'a', roles: ['onion'], port: 0 }, '127.0.0.1', 0), 'a', collect(linesA));
    children.push(a.process);
    const b = await spawnNode(
      writeNodeFiles(dir, { nickname: 'b', roles: ['onion'], port: 0 }, '127.0.0.1', 0, {
        peers: [{ host: '127.0.0.1', port: a.info.port, identity: a.info.identity }],
      }),
      'b',
      collect(linesB),
    );
    children.push(b.process);

    const bSaw = await waitFor(() => linesB.find((l) => l.msg === 'peer link authenticated'), 'B authenticates A');
    expect(bSaw.peer).toBe(a.info.identity);
    const aSaw = await waitFor(() => linesA.find((l) => l.msg === 'link open' && l.direction === 'inbound'), 'A sees B');
    expect(aSaw.peer).toBe(b.info.identity);

    // C expects B's identity at A's address: it must refuse the link.
    const c = await spawnNode(
      writeNodeFiles(dir, { nickname: 'c', roles: ['onion'], port: 0 }, '127.0.0.1', 0, {
        peers: [{ host: '127.0.0.1', port: a.info.port, identity: b.info.identity }],
      }),
      'c',
      collect(linesC),
    );
    children.push(c.process);
    const refused = await waitFor(() => linesC.find((l) => l.msg === 'peer link failed'), 'C refuses A');
    expect(refused.code).toBe('wrong-identity');
    expect(String(refused.err)).toMatch(/different identity/);

    // Key files: mode 0600, encrypted (the public key's secret never appears), never logged.
    const keyFile = join(dir, 'a', 'identity.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const allLogs = JSON.stringify([...linesA, ...linesB, ...linesC]);
    expect(allLogs).not.toMatch(/secretKey|passphrase/i);
    const passphrase = readFileSync(join(dir, 'a', 'passphrase'), 'utf8').trim();
    expect(allLogs).not.toContain(passphrase);
  });
});
