/**
 * Keeping a store in step with the backend when answers and events race.
 *
 * Events and answers travel on different paths (an event may overtake the answer to a request sent
 * before it, or the other way round), so each store follows two rules:
 *
 * - Snapshots (profile, network, relay and settings status): an event carries the newest state.
 *   An answer is applied only if no event arrived, and no later request was started, while it was
 *   on its way ({@link Freshness}); otherwise the state the events built is kept.
 * - Lists fetched again on a "changed" event (contacts, requests, conversations): at most one fetch
 *   runs at a time; a trigger during a fetch makes that fetch's answer stale and runs one more fetch
 *   afterwards ({@link createReloader}).
 */

/** Tracks whether an answer is still the newest word on a piece of state. */
export class Freshness {
  #epoch = 0;

  /** Marks the start of a request; pass the token to {@link isCurrent} when its answer arrives. */
  begin(): number {
    this.#epoch += 1;
    return this.#epoch;
  }

  /** Records that newer state arrived (an event, or a later request's answer). */
  bump(): void {
    this.#epoch += 1;
  }

  /** True when nothing newer arrived since `token` was handed out. */
  isCurrent(token: number): boolean {
    if (!Number.isInteger(token)) throw new TypeError('token must be an integer');
    return token === this.#epoch;
  }
}

export interface Reloader {
  /**
   * Fetches and applies; resolves when the state is up to date with every trigger so far. Rejects
   * with the fetch's error (the state is then left as it was).
   */
  reload(): Promise<void>;
  /** Marks a running fetch as stale (newer state exists), so its answer is fetched again. */
  invalidate(): void;
  /** Whether a fetch is running. */
  readonly running: boolean;
}

/**
 * Serialises fetches of one list: `fetch` is never called twice at once, an answer that an
 * invalidation overtook is dropped and fetched again, and every caller of `reload` waits for the
 * same up-to-date answer.
 */
export function createReloader<T>(fetch: () => Promise<T>, apply: (value: T) => void): Reloader {
  if (typeof fetch !== 'function') throw new TypeError('fetch must be a function');
  if (typeof apply !== 'function') throw new TypeError('apply must be a function');
  let current: Promise<void> | null = null;
  let dirty = false;

  async function loop(): Promise<void> {
    try {
      do {
        dirty = false;
        const value = await fetch();
        if (!dirty) apply(value);
      } while (dirty);
    } finally {
      current = null;
    }
  }

  return {
    reload(): Promise<void> {
      if (current !== null) {
        dirty = true;
        return current;
      }
      current = loop();
      return current;
    },
    invalidate(): void {
      if (current !== null) dirty = true;
    },
    get running(): boolean {
      return current !== null;
    },
  };
}
