/** Numbers, sizes, durations, times and days as a person reads them. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

function checkNumber(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`${name} must be a number`);
}

/** `1536` → "1.5 KiB"; one decimal below 10 units, none above. */
export function formatBytes(bytes: number): string {
  checkNumber(bytes, 'bytes');
  if (bytes < 0 || !Number.isFinite(bytes)) throw new RangeError('bytes must be a finite non-negative number');
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  const rounded = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
  // 1023.96 KiB rounds to 1024 KiB; say 1 MiB instead.
  if (rounded >= 1024 && unit < UNITS.length - 1) return `1 ${UNITS[unit + 1]}`;
  return `${rounded} ${UNITS[unit]}`;
}

/** `3_725_000` → "1 h 2 min"; two largest units, seconds only below an hour. */
export function formatDuration(ms: number): string {
  checkNumber(ms, 'ms');
  if (ms < 0 || !Number.isFinite(ms)) throw new RangeError('ms must be a finite non-negative number');
  const seconds = Math.floor(ms / 1000);
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const secs = seconds % 60;
  if (days > 0) return hours > 0 ? `${days} d ${hours} h` : `${days} d`;
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  if (minutes > 0) return secs > 0 ? `${minutes} min ${secs} s` : `${minutes} min`;
  return `${secs} s`;
}

/** "just now" below 5 s, otherwise "<duration> ago". */
export function formatAge(ms: number): string {
  checkNumber(ms, 'ms');
  if (ms < 5000) return 'just now';
  return `${formatDuration(ms)} ago`;
}

/** `1234567` → "1,234,567". */
export function formatCount(value: number): string {
  checkNumber(value, 'value');
  return value.toLocaleString('en');
}

/** Hours and minutes in the person's locale. */
export function formatTime(timestamp: number): string {
  checkNumber(timestamp, 'timestamp');
  return new Date(timestamp).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** Date and time in the person's locale. */
export function formatDateTime(timestamp: number): string {
  checkNumber(timestamp, 'timestamp');
  return new Date(timestamp).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** The local calendar day of `timestamp` as "YYYY-MM-DD". */
export function dayKey(timestamp: number): string {
  checkNumber(timestamp, 'timestamp');
  const d = new Date(timestamp);
  const month = String(d.getMonth() + 1).padStart(2, '0');
  const day = String(d.getDate()).padStart(2, '0');
  return `${d.getFullYear()}-${month}-${day}`;
}

function startOfDay(timestamp: number): number {
  const d = new Date(timestamp);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** "Today", "Yesterday", a weekday within the last week, else the date. */
export function dayLabel(timestamp: number, now: number): string {
  checkNumber(timestamp, 'timestamp');
  checkNumber(now, 'now');
  const today = startOfDay(now);
  const day = startOfDay(timestamp);
  // Days between, rounded so a daylight-saving shift does not make a day 23 or 25 hours.
  const days = Math.round((today - day) / 86_400_000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  const date = new Date(timestamp);
  if (days > 1 && days < 7) return date.toLocaleDateString(undefined, { weekday: 'long' });
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return date.toLocaleDateString(undefined, sameYear ? { weekday: 'long', month: 'long', day: 'numeric' } : { year: 'numeric', month: 'long', day: 'numeric' });
}

/** Short time for a conversation list: the time today, "Yesterday", a weekday, or a short date. */
export function formatListTime(timestamp: number, now: number): string {
  checkNumber(timestamp, 'timestamp');
  checkNumber(now, 'now');
  const days = Math.round((startOfDay(now) - startOfDay(timestamp)) / 86_400_000);
  if (days <= 0) return formatTime(timestamp);
  if (days === 1) return 'Yesterday';
  if (days < 7) return new Date(timestamp).toLocaleDateString(undefined, { weekday: 'short' });
  return new Date(timestamp).toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
}

export interface DayGroup<T> {
  readonly key: string;
  readonly label: string;
  readonly items: readonly T[];
}

/** Splits items (in time order) into runs of one local day each, for day separators. */
export function groupByDay<T>(items: readonly T[], timeOf: (item: T) => number, now: number): DayGroup<T>[] {
  if (!Array.isArray(items)) throw new TypeError('items must be an array');
  if (typeof timeOf !== 'function') throw new TypeError('timeOf must be a function');
  const groups: { key: string; label: string; items: T[] }[] = [];
  for (const item of items) {
    const time = timeOf(item);
    const key = dayKey(time);
    const last = groups[groups.length - 1];
    if (last !== undefined && last.key === key) last.items.push(item);
    else groups.push({ key, label: dayLabel(time, now), items: [item] });
  }
  return groups;
}

/** `sirius.chat.account.5HxAbc…` → "sirius.chat.account.5HxAbc…9kLm" for narrow places. */
export function shortIdentity(identity: string): string {
  if (typeof identity !== 'string') throw new TypeError('identity must be a string');
  const marker = '.account.';
  const at = identity.indexOf(marker);
  if (at < 0) return identity.length > 24 ? `${identity.slice(0, 12)}…${identity.slice(-6)}` : identity;
  const prefix = identity.slice(0, at + marker.length);
  const key = identity.slice(at + marker.length);
  return key.length > 14 ? `${prefix}${key.slice(0, 6)}…${key.slice(-4)}` : identity;
}

/** The first letter (or symbol) of a name, for avatars. */
export function initial(name: string): string {
  if (typeof name !== 'string') throw new TypeError('name must be a string');
  const first = [...name.trim()][0];
  return first === undefined ? '?' : first.toUpperCase();
}
