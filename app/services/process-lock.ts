/**
 * Owner files: a file naming the process that owns something (a profile, the start of the
 * embedded network), created atomically so that exactly one live process holds it.
 *
 * The file holds `{ pid, host, startTicks }`. It is written complete under a temporary name and
 * hard-linked into place (link fails when the name exists), so a reader never sees a partial
 * file. A holder is *alive* when a process with that pid exists on this host and, where the OS
 * tells (Linux /proc), it started at the recorded time — so a reused pid is not taken for the
 * old holder. A file whose holder is not alive is *stale*: it is renamed away (only one process
 * wins that rename) and the taker links its own file in.
 *
 * Stale SQLite locks: node-sqlite3-wasm locks a database with a `<file>.lock` folder that a
 * killed process leaves behind, after which every open fails with 'locked'. A profile's
 * databases are used only by the process holding its owner file, so when that file was stale —
 * its holder died — the lock folders are the dead holder's and are removed
 * ({@link removeStaleSqliteLocks}). They are never touched while a live holder exists.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

export interface OwnerRecord {
  readonly pid: number;
  readonly host: string;
  /** The process's start time in clock ticks since boot (Linux), or null where unknown. */
  readonly startTicks: number | null;
}

/** A process's start time from /proc/<pid>/stat (field 22), or null where there is no /proc. */
export function processStartTicks(pid: number): number | null {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new RangeError('pid must be a positive integer');
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after its last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(rest[19]);
  return Number.isSafeInteger(ticks) ? ticks : null;
}

/** The record this process writes. */
export function ownRecord(): OwnerRecord {
  return { pid: process.pid, host: hostname(), startTicks: processStartTicks(process.pid) };
}

/** True when a process with this pid exists (signal 0 delivered, or refused for permissions). */
export function pidExists(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new RangeError('pid must be a positive integer');
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when the recorded holder still runs: same host, the pid exists, and (where known) it
 * started when recorded. A record from another host is taken as alive: it cannot be checked.
 */
export function isHolderAlive(record: OwnerRecord): boolean {
  if (record.host !== hostname()) return true;
  if (!pidExists(record.pid)) return false;
  if (record.startTicks === null) return true;
  const now = processStartTicks(record.pid);
  return now === null || now === record.startTicks;
}

/** Parses an owner file's text; null when it is not one. */
export function parseOwnerRecord(text: string): OwnerRecord | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  if (typeof r.pid !== 'number' || !Number.isSafeInteger(r.pid) || r.pid <= 0) return null;
  if (typeof r.host !== 'string') return null;
  const startTicks = r.startTicks === null ? null : typeof r.startTicks === 'number' && Number.isSafeInteger(r.startTicks) ? r.startTicks : undefined;
  if (startTicks === undefined) return null;
  return { pid: r.pid, host: r.host, startTicks };
}

/** Reads an owner file; undefined when it does not exist, null when it holds no valid record. */
export function readOwnerFile(path: string): OwnerRecord | null | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return parseOwnerRecord(text);
}

/** Thrown when a live process (or one on another host) holds the owner file. */
export class OwnedElsewhereError extends Error {
  override readonly name = 'OwnedElsewhereError';
  constructor(
    readonly path: string,
    readonly holder: OwnerRecord,
  ) {
    super(`${path} is held by process ${holder.pid} on ${holder.host}`);
  }
}

export interface OwnerFile {
  readonly path: string;
  /** True when the file this one replaced belonged to a process that had died. */
  readonly tookOverStale: boolean;
  /** The dead holder whose file was replaced, when there was one. */
  readonly previous: OwnerRecord | null;
  /** Removes the file if it is still ours. */
  release(): void;
}

/**
 * Creates the owner file at `path` for this process. Throws OwnedElsewhereError when a live
 * holder has it; replaces it when its holder is dead (or it holds no valid record, which no
 * process of ours writes: links put only complete files in place).
 */
export function acquireOwnerFile(path: string): OwnerFile {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
  const mine = ownRecord();
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  writeFileSync(tmp, JSON.stringify(mine) + '\n', { mode: 0o600, flag: 'wx' });
  let tookOverStale = false;
  let previous: OwnerRecord | null = null;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw e;
      }
      const holder = readOwnerFile(path);
      if (holder === undefined) continue; // released meanwhile: try again
      if (holder !== null && isHolderAlive(holder)) throw new OwnedElsewhereError(path, holder);
      // Stale: move it aside. Of several processes doing this at once, one rename succeeds;
      // the others find the name gone (ENOENT) and race for the link again.
      const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
      try {
        renameSync(path, aside);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      // Between reading and renaming, a live process may have replaced the stale file with its
      // own: then put it back and give up.
      const moved = readOwnerFile(aside);
      if (moved && isHolderAlive(moved) && !(moved.pid === mine.pid && moved.host === mine.host && moved.startTicks === mine.startTicks)) {
        try {
          linkSync(aside, path);
        } catch {
          // someone else holds the name now
        }
        unlinkQuietly(aside);
        throw new OwnedElsewhereError(path, moved);
      }
      unlinkQuietly(aside);
      tookOverStale = true;
      previous = holder;
    }
  } finally {
    unlinkQuietly(tmp);
  }
  let released = false;
  return {
    path,
    tookOverStale,
    previous,
    release() {
      if (released) return;
      released = true;
      const now = readOwnerFile(path);
      if (now && now.pid === mine.pid && now.host === mine.host && now.startTicks === mine.startTicks) unlinkQuietly(path);
    },
  };
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}

/**
 * Removes the `<db>.lock` folders node-sqlite3-wasm left for these databases. Call it only
 * while holding the owner file that guards them, after taking it over from a dead holder.
 * Returns the folders removed. A lock folder is an empty folder; one that is not empty is not
 * SQLite's and is left alone.
 */
export function removeStaleSqliteLocks(databases: readonly string[]): string[] {
  if (!Array.isArray(databases)) throw new TypeError('databases must be an array of paths');
  const removed: string[] = [];
  for (const db of databases) {
    if (typeof db !== 'string' || db.length === 0) throw new TypeError('databases must be an array of paths');
    const lock = `${db}.lock`;
    try {
      rmdirSync(lock);
      removed.push(lock);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'ENOTDIR' && code !== 'EEXIST') throw e;
    }
  }
  return removed;
}
