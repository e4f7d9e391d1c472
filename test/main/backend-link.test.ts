/**
 * The main process's BackendClient wired to the backend's dispatcher through an in-memory port:
 * requests round-trip, envelopes are checked, failures become error Results, and nothing is left
 * pending when the backend goes away.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ERROR_CODES, type Result } from '../../app/contract';
import { BackendClient, type BackendPort } from '../../main/backend-client';
import { HandlerError, createDispatcher, type MethodHandlers } from '../../main/backend-dispatch';
import type { ToBackendMessage } from '../../main/backend-protocol';
import { handlersWith } from './handlers';

/** Connects a client to a dispatcher; messages are delivered asynchronously, like a real port. */
function link(handlers: MethodHandlers, options: { timeoutMs?: number } = {}) {
  const failures: unknown[] = [];
  const dispatch = createDispatcher(handlers, (_method, error) => failures.push(error));
  const sent: ToBackendMessage[] = [];
  let client: BackendClient | undefined;
  const port: BackendPort = {
    postMessage(message) {
      sent.push(message);
      void dispatch(structuredClone(message)).then((reply) => {
        if (reply !== null) client?.handleMessage(structuredClone(reply));
      });
    },
  };
  client = new BackendClient(port, options);
  return { client, sent, failures };
}

const versionHandlers: MethodHandlers = handlersWith({ 'app.version': () => ({ version: '1.2.3' }) });

afterEach(() => {
  vi.useRealTimers();
});

describe('backend link', () => {
  it('answers app.version through the contract', async () => {
    const { client, sent } = link(versionHandlers);
    await expect(client.request('app.version', {})).resolves.toEqual({ ok: true, value: { version: '1.2.3' } });
    expect(sent).toEqual([{ type: 'request', id: 1, method: 'app.version', params: {} }]);
    expect(client.pendingCount).toBe(0);
  });

  it('answers pings', async () => {
    const { client } = link(versionHandlers);
    await expect(client.ping()).resolves.toBe(true);
  });

  it('matches concurrent responses to their requests by id', async () => {
    let n = 0;
    const { client } = link(handlersWith({
      'app.version': async () => {
        const mine = ++n;
        await new Promise((r) => setTimeout(r, mine === 1 ? 5 : 0));
        return { version: `0.0.${mine}` };
      },
    }));
    const [a, b] = await Promise.all([client.request('app.version', {}), client.request('app.version', {})]);
    expect(a).toEqual({ ok: true, value: { version: '0.0.1' } });
    expect(b).toEqual({ ok: true, value: { version: '0.0.2' } });
  });

  it('rejects params that do not match the schema, without calling the handler', async () => {
    const handler = vi.fn(() => ({ version: '1.0.0' }));
    const { client } = link(handlersWith({ 'app.version': handler }));
    const result = await client.request('app.version', { extra: true });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.code).toBe(ERROR_CODES.invalidParams);
    const missing = await client.request('app.version', undefined);
    expect(!missing.ok && missing.error.code).toBe(ERROR_CODES.invalidParams);
    expect(handler).not.toHaveBeenCalled();
  });

  it('turns a HandlerError into its code and message', async () => {
    const { client, failures } = link(handlersWith({
      'app.version': () => {
        throw new HandlerError('app.busy', 'try again later');
      },
    }));
    await expect(client.request('app.version', {})).resolves.toEqual({
      ok: false,
      error: { code: 'app.busy', message: 'try again later' },
    });
    expect(failures).toEqual([]);
  });

  it('hides unexpected handler errors behind "internal" and reports them to the sink', async () => {
    const { client, failures } = link(handlersWith({
      'app.version': () => {
        throw new Error('secret detail /home/user/key');
      },
    }));
    const result = await client.request('app.version', {});
    expect(result).toEqual({ ok: false, error: { code: ERROR_CODES.internal, message: 'internal error' } });
    expect(JSON.stringify(result)).not.toContain('secret');
    expect(failures).toHaveLength(1);
  });

  it('refuses a handler value that breaks the result schema', async () => {
    const { client, failures } = link(handlersWith({ 'app.version': () => ({ version: 7 }) as unknown as { version: string } }));
    const result = await client.request('app.version', {});
    expect(!result.ok && result.error.code).toBe(ERROR_CODES.internal);
    expect(failures).toHaveLength(1);
  });

  it('fails pending requests when the backend stops, and every later one at once', async () => {
    const port = { postMessage: vi.fn() };
    const client = new BackendClient(port);
    const pending = client.request('app.version', {});
    expect(client.pendingCount).toBe(1);
    client.close();
    await expect(pending).resolves.toEqual({
      ok: false,
      error: { code: ERROR_CODES.backendUnavailable, message: 'the backend stopped' },
    });
    const later = await client.request('app.version', {});
    expect(!later.ok && later.error.code).toBe(ERROR_CODES.backendUnavailable);
    await expect(client.ping()).resolves.toBe(false);
    expect(port.postMessage).toHaveBeenCalledTimes(1);
    expect(client.pendingCount).toBe(0);
  });

  it('fails a request whose message cannot be posted', async () => {
    const client = new BackendClient({
      postMessage() {
        throw new Error('process gone');
      },
    });
    const result = await client.request('app.version', {});
    expect(!result.ok && result.error.code).toBe(ERROR_CODES.backendUnavailable);
    expect(client.pendingCount).toBe(0);
  });

  it('times out a request the backend never answers', async () => {
    vi.useFakeTimers();
    const client = new BackendClient({ postMessage() {} }, { timeoutMs: 1000 });
    const pending = client.request('app.version', {});
    vi.advanceTimersByTime(999);
    expect(client.pendingCount).toBe(1);
    vi.advanceTimersByTime(1);
    const result: Result<unknown> = await pending;
    expect(!result.ok && result.error.code).toBe(ERROR_CODES.timeout);
    expect(client.pendingCount).toBe(0);
  });

  it('drops malformed, unmatched and late responses', async () => {
    vi.useFakeTimers();
    const client = new BackendClient({ postMessage() {} }, { timeoutMs: 10 });
    const pending = client.request('app.version', {});
    for (const junk of [
      null,
      'response',
      { type: 'response', id: 99, result: { ok: true, value: 1 } },
      { type: 'response', id: 1, result: { ok: 'yes' } },
      { type: 'response', id: '1', result: { ok: true, value: 1 } },
      { type: 'response', id: 1, result: { ok: false, error: { code: '', message: 'x' } } },
      { type: 'pong', id: 1 },
      { type: 'bogus', id: 1 },
    ]) {
      client.handleMessage(junk);
    }
    expect(client.pendingCount).toBe(1);
    client.handleMessage({ type: 'response', id: 1, result: { ok: true, value: { version: '9.9.9' } } });
    await expect(pending).resolves.toEqual({ ok: true, value: { version: '9.9.9' } });
    client.handleMessage({ type: 'response', id: 1, result: { ok: true, value: { version: 'late' } } });
    expect(client.pendingCount).toBe(0);
  });

  it('hands backend events and media-access requests on, checking their names and types', () => {
    const events: unknown[] = [];
    const media: boolean[] = [];
    const client = new BackendClient(
      { postMessage() {} },
      { onEvent: (e) => events.push(e), onMediaAccess: (active) => media.push(active) },
    );
    client.handleMessage({ type: 'event', event: 'backend.status', payload: { connected: true } });
    client.handleMessage({ type: 'event', event: 'no.such.event', payload: {} });
    client.handleMessage({ type: 'media-access', active: true });
    client.handleMessage({ type: 'media-access', active: 'true' });
    client.handleMessage({ type: 'media-access', active: false });
    expect(events).toEqual([{ event: 'backend.status', payload: { connected: true } }]);
    expect(media).toEqual([true, false]);
  });

  it('rejects bad construction arguments', () => {
    expect(() => new BackendClient(null as unknown as BackendPort)).toThrow(TypeError);
    expect(() => new BackendClient({ postMessage() {} }, { timeoutMs: 0 })).toThrow(RangeError);
    expect(() => new BackendClient({ postMessage() {} }, { timeoutMs: 1.5 })).toThrow(RangeError);
  });
});

describe('backend dispatcher', () => {
  it('ignores anything that is not a valid message', async () => {
    const dispatch = createDispatcher(versionHandlers);
    for (const raw of [
      undefined,
      null,
      42,
      [],
      { type: 'ping' },
      { type: 'ping', id: 0 },
      { type: 'ping', id: -1 },
      { type: 'ping', id: 1.5 },
      { type: 'request', id: 1, method: 'fs.readFile', params: {} },
      { type: 'request', id: 1, method: 'constructor', params: {} },
      { type: 'request', id: 1, method: '__proto__', params: {} },
      { type: 'response', id: 1, result: { ok: true, value: 1 } },
    ]) {
      await expect(dispatch(raw), JSON.stringify(raw)).resolves.toBeNull();
    }
  });

  it('answers a ping with a pong carrying the same id', async () => {
    await expect(createDispatcher(versionHandlers)({ type: 'ping', id: 7 })).resolves.toEqual({ type: 'pong', id: 7 });
  });

  it('rejects bad construction arguments', () => {
    expect(() => createDispatcher(null as unknown as MethodHandlers)).toThrow(TypeError);
    expect(() => createDispatcher(versionHandlers, 'log' as never)).toThrow(TypeError);
  });
});
