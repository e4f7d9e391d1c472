/** Search-result text: the part around the match, split into plain and highlighted pieces. */

export interface Segment {
  readonly text: string;
  readonly match: boolean;
}

/** Splits `text` at every case-insensitive occurrence of `query`. */
export function highlightSegments(text: string, query: string): Segment[] {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  if (typeof query !== 'string') throw new TypeError('query must be a string');
  const needle = query.trim().toLowerCase();
  if (needle.length === 0 || text.length === 0) return text.length === 0 ? [] : [{ text, match: false }];
  const haystack = text.toLowerCase();
  // Lower-casing can change the length of some characters (e.g. "İ"); then fall back to no marks
  // rather than marking the wrong characters.
  if (haystack.length !== text.length) return [{ text, match: false }];
  const segments: Segment[] = [];
  let from = 0;
  for (;;) {
    const at = haystack.indexOf(needle, from);
    if (at < 0) break;
    if (at > from) segments.push({ text: text.slice(from, at), match: false });
    segments.push({ text: text.slice(at, at + needle.length), match: true });
    from = at + needle.length;
  }
  if (from < text.length) segments.push({ text: text.slice(from), match: false });
  return segments;
}

/**
 * At most about `radius` characters either side of the first match, with "…" where text was cut,
 * so a long message shows the part that matched.
 */
export function snippet(text: string, query: string, radius = 60): string {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  if (typeof query !== 'string') throw new TypeError('query must be a string');
  if (!Number.isInteger(radius) || radius < 1) throw new RangeError('radius must be a positive integer');
  const flat = text.replace(/\s+/g, ' ');
  const at = flat.toLowerCase().indexOf(query.trim().toLowerCase());
  if (at < 0 || flat.length <= radius * 2) return flat.length <= radius * 2 ? flat : `${flat.slice(0, radius * 2)}…`;
  const start = Math.max(0, at - radius);
  const end = Math.min(flat.length, at + query.trim().length + radius);
  return `${start > 0 ? '…' : ''}${flat.slice(start, end)}${end < flat.length ? '…' : ''}`;
}
