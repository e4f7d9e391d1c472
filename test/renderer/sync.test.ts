import { describe, expect, it } from 'vitest';
import { Freshness, createReloader } from '../../renderer/src/state/sync';
import { flush } from './fakes';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('Freshness', () => {
  it('marks an answer stale once something newer arrived', () => {
    const f = new Freshness();
    const first = f.begin();
    expect(f.isCurrent(first)).toBe(true);
    const second = f.begin();
    expect(f.isCurrent(first)).toBe(false);
    expect(f.isCurrent(second)).toBe(true);
    f.bump();
    expect(f.isCurrent(second)).toBe(false);
    expect(() => f.isCurrent(1.5)).toThrow(TypeError);
  });
});

describe('createReloader', () => {
  it('runs one fetch at a time and fetches again when triggered during a fetch', async () => {
    const answers = [deferred<string>(), deferred<string>()];
    let fetches = 0;
    const applied: string[] = [];
    const reloader = createReloader(
      () => {
        const answer = answers[fetches++];
        if (answer === undefined) throw new Error('too many fetches');
        return answer.promise;
      },
      (value) => applied.push(value),
    );
    const first = reloader.reload();
    const second = reloader.reload();
    expect(fetches).toBe(1);
    expect(reloader.running).toBe(true);
    answers[0]?.resolve('old');
    await flush();
    // The first answer was overtaken by the second trigger: not applied, fetched again.
    expect(applied).toEqual([]);
    expect(fetches).toBe(2);
    answers[1]?.resolve('new');
    await Promise.all([first, second]);
    expect(applied).toEqual(['new']);
    expect(reloader.running).toBe(false);
  });

  it('drops an answer that an invalidation overtook', async () => {
    const answers = [deferred<number>(), deferred<number>()];
    let fetches = 0;
    const applied: number[] = [];
    const reloader = createReloader(() => answers[fetches++]!.promise, (v) => applied.push(v));
    const done = reloader.reload();
    reloader.invalidate();
    answers[0]?.resolve(1);
    await flush();
    answers[1]?.resolve(2);
    await done;
    expect(applied).toEqual([2]);
    // Invalidating while idle starts nothing.
    reloader.invalidate();
    expect(fetches).toBe(2);
  });

  it('passes a failed fetch to its callers and recovers for the next reload', async () => {
    let fail = true;
    const applied: string[] = [];
    const reloader = createReloader(
      async () => {
        if (fail) throw new Error('down');
        return 'up';
      },
      (v) => applied.push(v),
    );
    await expect(reloader.reload()).rejects.toThrow('down');
    fail = false;
    await reloader.reload();
    expect(applied).toEqual(['up']);
  });

  it('checks its arguments', () => {
    expect(() => createReloader(null as never, () => {})).toThrow(TypeError);
    expect(() => createReloader(async () => 1, null as never)).toThrow(TypeError);
  });
});
