/**
 * A profile's settings (settings.json), checked against the contract's `settings` schema.
 *
 * Reading never fails: a missing file gives the defaults; a file that is not valid JSON or does
 * not match the schema is kept aside as `settings.json.bad-<time>` (what the user wrote is never
 * lost) and the defaults are used; unknown fields are dropped and missing ones filled in.
 * Writing replaces the file atomically.
 */
import { renameSync } from 'node:fs';
import type { z } from 'zod';
import { settings as settingsSchema } from '../contract';
import { readJsonFile, writeFileAtomic } from './files';

export type Settings = z.output<typeof settingsSchema>;

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  displayName: '',
  networkFile: null,
  acceptStrangers: false,
  readReceipts: true,
  relayBandwidthKBps: 256,
});

export interface LoadedSettings {
  readonly settings: Settings;
  /** Set when the file was unusable and was moved aside to this path. */
  readonly movedAside?: string;
}

export function loadSettings(path: string, now: () => number = Date.now): LoadedSettings {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
  let raw: unknown;
  try {
    raw = readJsonFile(path);
  } catch {
    return { settings: { ...DEFAULT_SETTINGS }, movedAside: moveAside(path, now()) };
  }
  if (raw === undefined) return { settings: { ...DEFAULT_SETTINGS } };
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const known = Object.fromEntries(Object.entries(raw).filter(([k]) => k in DEFAULT_SETTINGS));
    const parsed = settingsSchema.safeParse({ ...DEFAULT_SETTINGS, ...known });
    if (parsed.success) return { settings: parsed.data };
  }
  return { settings: { ...DEFAULT_SETTINGS }, movedAside: moveAside(path, now()) };
}

function moveAside(path: string, at: number): string {
  const aside = `${path}.bad-${at}`;
  try {
    renameSync(path, aside);
  } catch {
    // It could not be moved; it stays where it was and is not overwritten until the user saves.
  }
  return aside;
}

export function saveSettings(path: string, value: Settings): void {
  const parsed = settingsSchema.parse(value);
  writeFileAtomic(path, JSON.stringify(parsed, null, 2) + '\n');
}
