/**
 * The first contract (app/contract): the name lists and the schema registries agree, params and
 * results are parsed strictly, and the Result helpers build and recognise the one answer shape.
 */
import { describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  EVENT_NAMES,
  METHOD_NAMES,
  err,
  events,
  isEventName,
  isMethodName,
  isResult,
  methods,
  ok,
  parseEventPayload,
  parseParams,
  parseResult,
} from '../../app/contract';

describe('registries', () => {
  it('list exactly the names of the wire lists', () => {
    expect(Object.keys(methods).sort()).toEqual([...METHOD_NAMES].sort());
    expect(Object.keys(events).sort()).toEqual([...EVENT_NAMES].sort());
  });

  it('recognise only listed names, not inherited properties', () => {
    expect(isMethodName('app.version')).toBe(true);
    expect(isEventName('backend.status')).toBe(true);
    for (const name of ['toString', '__proto__', 'constructor', 'app.Version', '', 'x'.repeat(65), 1, null, undefined]) {
      expect(isMethodName(name)).toBe(false);
      expect(isEventName(name)).toBe(false);
    }
  });
});

describe('app.version', () => {
  it('takes an empty object and nothing else', () => {
    expect(parseParams('app.version', {})).toEqual({ ok: true, value: {} });
    for (const bad of [undefined, null, [], 'x', { a: 1 }]) {
      const result = parseParams('app.version', bad);
      expect(!result.ok && result.error.code, JSON.stringify(bad)).toBe(ERROR_CODES.invalidParams);
    }
  });

  it('returns a version string', () => {
    expect(parseResult('app.version', { version: '0.1.0-beta.2+build.5' })).toEqual({
      ok: true,
      value: { version: '0.1.0-beta.2+build.5' },
    });
    for (const bad of [{}, { version: '' }, { version: 'a b' }, { version: '1'.repeat(65) }, { version: '1', x: 1 }]) {
      expect(parseResult('app.version', bad).ok, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('events', () => {
  it('parse backend.status payloads strictly', () => {
    expect(parseEventPayload('backend.status', { connected: false })).toEqual({ ok: true, value: { connected: false } });
    expect(parseEventPayload('backend.status', { connected: 'no' }).ok).toBe(false);
    expect(parseEventPayload('nope' as 'backend.status', { connected: true }).ok).toBe(false);
  });
});

describe('Result helpers', () => {
  it('build both shapes', () => {
    expect(ok(5)).toEqual({ ok: true, value: 5 });
    expect(err('x.failed', 'it failed')).toEqual({ ok: false, error: { code: 'x.failed', message: 'it failed' } });
    expect(err('x', 'm'.repeat(2000)).error.message).toHaveLength(1000);
  });

  it('validate their arguments', () => {
    expect(() => err('', 'm')).toThrow(RangeError);
    expect(() => err('c'.repeat(65), 'm')).toThrow(RangeError);
    expect(() => err(1 as unknown as string, 'm')).toThrow(TypeError);
    expect(() => err('c', undefined as unknown as string)).toThrow(TypeError);
  });

  it('recognise Results and nothing else', () => {
    expect(isResult({ ok: true, value: undefined })).toBe(true);
    expect(isResult({ ok: false, error: { code: 'a', message: '' } })).toBe(true);
    for (const bad of [null, 1, {}, { ok: true }, { ok: 'true', value: 1 }, { ok: false }, { ok: false, error: { code: 1, message: '' } }]) {
      expect(isResult(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});
