/**
 * Shared helpers for the circuit tests. Test helper, not a test file.
 */
import { expect } from 'vitest';
import { CircuitError, type CircuitErrorCode } from '../../node-core/circuit/errors';
import { fromHex, toHex } from '../../node-core/util/bytes';

export const hex = (s: string): Uint8Array => fromHex(s);
export { toHex };

/** Runs `fn` and asserts it throws a CircuitError with `code`. */
export function expectCircuitError(fn: () => unknown, code: CircuitErrorCode): CircuitError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected CircuitError(${code})`).toBeInstanceOf(CircuitError);
  expect((thrown as CircuitError).code).toBe(code);
  return thrown as CircuitError;
}

/** Deterministic bytes for fixtures: byte i = (seed + i * 37) mod 256. */
export function patternBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed + i * 37) & 0xff;
  return out;
}
