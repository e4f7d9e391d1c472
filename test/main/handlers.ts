/**
 * A full handler table for dispatcher tests: the given handlers, and for every other contract
 * method one that answers with a 'test.unused' error. Test helper, not a test file.
 */
import { METHOD_NAMES } from '../../app/contract';
import { HandlerError, type MethodHandlers } from '../../main/backend-dispatch';

export function handlersWith(given: Partial<Record<keyof MethodHandlers, (params: never) => unknown>>): MethodHandlers {
  const out: Record<string, unknown> = {};
  for (const method of METHOD_NAMES) {
    out[method] =
      given[method] ??
      (() => {
        throw new HandlerError('test.unused', `${method} is not used by this test`);
      });
  }
  return out as MethodHandlers;
}
