/**
 * Time and timers as the stores see them: one injected object, so tests run on a fake clock and
 * nothing in the state layer reads the wall clock or schedules work by itself.
 */

/** An opaque handle returned by `setTimer`. */
export type TimerHandle = unknown;

export interface Runtime {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `callback` once after `ms` milliseconds. */
  setTimer(callback: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** The browser's clock and timers. */
export const browserRuntime: Runtime = {
  now: () => Date.now(),
  setTimer: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimer: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/** Checks that `runtime` has the three functions; throws a TypeError naming `name` otherwise. */
export function checkRuntime(runtime: unknown, name = 'runtime'): asserts runtime is Runtime {
  if (typeof runtime !== 'object' || runtime === null) throw new TypeError(`${name} must be an object`);
  const record = runtime as Record<string, unknown>;
  for (const key of ['now', 'setTimer', 'clearTimer']) {
    if (typeof record[key] !== 'function') throw new TypeError(`${name}.${key} must be a function`);
  }
}
