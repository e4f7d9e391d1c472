/**
 * Benchmarks print one JSON object per line on stdout:
 *   {"bench":"link","metric":"handshake_ms_p50","value":3.1,"unit":"ms", ...extra fields}
 * Anything else a benchmark wants to say goes to stderr.
 */
export interface BenchLine {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  [extra: string]: string | number | boolean;
}

export function emit(line: BenchLine): void {
  process.stdout.write(JSON.stringify(line) + '\n');
}

/** The q-quantile (0..1) of `values` by linear interpolation; NaN for an empty list. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
