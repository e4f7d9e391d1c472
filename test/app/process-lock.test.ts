/**
 * Owner files (app/services/process-lock.ts): one live holder at a time; a dead holder's file is
 * replaced (and only then may its SQLite lock folders go); a reused pid is not taken for the
 * old holder where the OS tells start times; records are parsed strictly.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  OwnedElsewhereError,
  acquireOwnerFile,
  isHolderAlive,
  ownRecord,
  parseOwnerRecord,
  pidExists,
  processStartTicks,
  removeStaleSqliteLocks,
} from '../../app/services/process-lock';

const dir = mkdtempSync(join(tmpdir(), 'psp-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '0']);
  const pid = c.pid!;
  await new Promise((r) => c.once('exit', r));
  return pid;
}

describe('owner files', () => {
  it('are held by one process at a time and released only by their holder', () => {
    const path = join(dir, 'one.lock');
    const held = acquireOwnerFile(path);
    expect(held.tookOverStale).toBe(false);
    expect(parseOwnerRecord(readFileSync(path, 'utf8'))).toEqual(ownRecord());
    // This process is alive: a second acquisition (even by itself) is refused.
    expect(() => acquireOwnerFile(path)).toThrow(OwnedElsewhereError);
    held.release();
    expect(existsSync(path)).toBe(false);
    const again = acquireOwnerFile(path);
    // A stale handle does not remove someone else's file.
    held.release();
    expect(existsSync(path)).toBe(true);
    again.release();
  });

  it('replace the file of a dead holder and say so', async () => {
    const path = join(dir, 'dead.lock');
    const pid = await deadPid();
    writeFileSync(path, JSON.stringify({ pid, host: hostname(), startTicks: null }));
    const held = acquireOwnerFile(path);
    expect(held.tookOverStale).toBe(true);
    expect(held.previous).toEqual({ pid, host: hostname(), startTicks: null });
    expect(parseOwnerRecord(readFileSync(path, 'utf8'))?.pid).toBe(process.pid);
    held.release();
  });

  it('treat a live pid with another start time as a different (dead) holder', () => {
    const mine = ownRecord();
    if (mine.startTicks === null) {
      // Without /proc there are no start times: a live pid always counts as the holder.
      expect(isHolderAlive({ ...mine, startTicks: 12345 })).toBe(true);
      return;
    }
    expect(isHolderAlive(mine)).toBe(true);
    expect(isHolderAlive({ ...mine, startTicks: mine.startTicks + 1 })).toBe(false);
    expect(processStartTicks(process.pid)).toBe(mine.startTicks);
  });

  it('count a holder on another host as alive (it cannot be checked)', () => {
    expect(isHolderAlive({ pid: 999_999, host: `${hostname()}-elsewhere`, startTicks: null })).toBe(true);
    const path = join(dir, 'remote.lock');
    writeFileSync(path, JSON.stringify({ pid: 1, host: `${hostname()}-elsewhere`, startTicks: null }));
    expect(() => acquireOwnerFile(path)).toThrow(/held by process 1/);
  });

  it('parse records strictly', () => {
    for (const bad of ['', 'null', '[]', '{"pid":0,"host":"h","startTicks":null}', '{"pid":1.5,"host":"h","startTicks":null}', '{"pid":1,"host":2,"startTicks":null}', '{"pid":1,"host":"h","startTicks":"x"}', '{"pid":1,"host":"h"}']) {
      expect(parseOwnerRecord(bad), bad).toBeNull();
    }
    expect(parseOwnerRecord('{"pid":7,"host":"h","startTicks":5}')).toEqual({ pid: 7, host: 'h', startTicks: 5 });
    expect(() => pidExists(0)).toThrow(RangeError);
    expect(() => acquireOwnerFile('')).toThrow(TypeError);
  });
});

describe('stale SQLite locks', () => {
  it('are removed when they are empty lock folders, and nothing else is touched', () => {
    const db = join(dir, 'chat.sqlite');
    mkdirSync(`${db}.lock`);
    const other = join(dir, 'other.sqlite');
    mkdirSync(`${other}.lock`);
    writeFileSync(join(`${other}.lock`, 'not-sqlite'), 'x');
    expect(removeStaleSqliteLocks([db, other, join(dir, 'none.sqlite')])).toEqual([`${db}.lock`]);
    expect(existsSync(`${db}.lock`)).toBe(false);
    expect(existsSync(`${other}.lock`)).toBe(true);
    expect(() => removeStaleSqliteLocks('x' as unknown as string[])).toThrow(TypeError);
  });
});
