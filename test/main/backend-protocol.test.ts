/**
 * The 'unlock-secret' message (main → backend) is accepted only in its exact shape: a plain
 * object with `type` and a 64-digit lower-case hex `secret`, nothing else.
 */
import { describe, expect, it } from 'vitest';
import { parseToBackendMessage, parseUnlockSecretMessage } from '../../main/backend-protocol';

const SECRET = '0123456789abcdef'.repeat(4);

describe('unlock-secret', () => {
  it('accepts exactly { type, secret } with a 64-digit hex secret', () => {
    expect(parseUnlockSecretMessage({ type: 'unlock-secret', secret: SECRET })).toEqual({ type: 'unlock-secret', secret: SECRET });
  });

  it('refuses every other shape', () => {
    const proto = Object.create({ inherited: true }) as Record<string, unknown>;
    proto.type = 'unlock-secret';
    proto.secret = SECRET;
    for (const bad of [
      null,
      undefined,
      SECRET,
      [SECRET],
      { type: 'unlock-secret' },
      { type: 'unlock-secret', secret: SECRET.toUpperCase() },
      { type: 'unlock-secret', secret: `${SECRET}0` },
      { type: 'unlock-secret', secret: SECRET.slice(1) },
      { type: 'unlock-secret', secret: 42 },
      { type: 'unlock-secret', secret: SECRET, id: 1 },
      { type: 'unlock-secrets', secret: SECRET },
      proto,
    ]) {
      expect(parseUnlockSecretMessage(bad), JSON.stringify(bad)).toBeNull();
    }
  });

  it('is not a request the dispatcher would run', () => {
    expect(parseToBackendMessage({ type: 'unlock-secret', secret: SECRET })).toBeNull();
  });
});
