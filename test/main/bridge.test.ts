/**
 * The preload's bridge (`window.sirius`), driven through a fake ipcRenderer: only contract method
 * names are sent, only on the invoke channel; answers that are not Results are replaced; events
 * reach exactly their subscribers until they unsubscribe.
 */
import { describe, expect, it, vi } from 'vitest';
import { ERROR_CODES, IPC_CHANNELS, type MethodName } from '../../app/contract';
import { createBridge, type BridgeTransport } from '../../main/bridge';

function fakeTransport(answer: (payload: unknown) => Promise<unknown> = async () => ({ ok: true, value: { version: '1.0.0' } })) {
  const listeners = new Map<string, (payload: unknown) => void>();
  const invoke = vi.fn((_channel: string, payload: unknown) => answer(payload));
  const transport: BridgeTransport = {
    invoke,
    on: (channel, listener) => {
      listeners.set(channel, listener);
    },
  };
  const emit = (payload: unknown): void => listeners.get(IPC_CHANNELS.event)?.(payload);
  return { transport, invoke, emit, listeners };
}

describe('bridge.invoke', () => {
  it('sends { method, params } on the invoke channel and returns the Result', async () => {
    const { transport, invoke } = fakeTransport();
    const bridge = createBridge(transport);
    await expect(bridge.invoke('app.version', {})).resolves.toEqual({ ok: true, value: { version: '1.0.0' } });
    expect(invoke).toHaveBeenCalledWith(IPC_CHANNELS.invoke, { method: 'app.version', params: {} });
  });

  it('refuses method names outside the contract without sending anything', async () => {
    const { transport, invoke } = fakeTransport();
    const bridge = createBridge(transport);
    for (const name of ['fs.readFile', '', 'APP.VERSION', 'app.version ', 'toString', '__proto__', 42, null]) {
      await expect(bridge.invoke(name as MethodName, {})).rejects.toThrow(TypeError);
    }
    expect(invoke).not.toHaveBeenCalled();
  });

  it('replaces an answer that is not a Result', async () => {
    for (const answer of [undefined, 'ok', { ok: true }, { ok: false, error: 'x' }, { ok: 1, value: 2 }]) {
      const bridge = createBridge(fakeTransport(async () => answer).transport);
      const result = await bridge.invoke('app.version', {});
      expect(!result.ok && result.error.code, JSON.stringify(answer)).toBe(ERROR_CODES.badResponse);
    }
  });

  it('turns a failed delivery into backend_unavailable', async () => {
    const bridge = createBridge(fakeTransport(() => Promise.reject(new Error('no handler'))).transport);
    const result = await bridge.invoke('app.version', {});
    expect(!result.ok && result.error.code).toBe(ERROR_CODES.backendUnavailable);
  });
});

describe('bridge.subscribe', () => {
  it('listens on the event channel only', () => {
    const { transport, listeners } = fakeTransport();
    createBridge(transport);
    expect([...listeners.keys()]).toEqual([IPC_CHANNELS.event]);
  });

  it('delivers payloads of the named event until unsubscribed', () => {
    const { transport, emit } = fakeTransport();
    const bridge = createBridge(transport);
    const seen: unknown[] = [];
    const unsubscribe = bridge.subscribe('backend.status', (payload) => seen.push(payload));
    emit({ event: 'backend.status', payload: { connected: true } });
    emit({ event: 'other.event', payload: { connected: true } });
    emit('junk');
    emit(null);
    unsubscribe();
    unsubscribe();
    emit({ event: 'backend.status', payload: { connected: false } });
    expect(seen).toEqual([{ connected: true }]);
  });

  it('keeps delivering to other subscribers when one throws', () => {
    const { transport, emit } = fakeTransport();
    const errors: unknown[] = [];
    const bridge = createBridge(transport, (error) => errors.push(error));
    const seen: unknown[] = [];
    bridge.subscribe('backend.status', () => {
      throw new Error('faulty subscriber');
    });
    bridge.subscribe('backend.status', (payload) => seen.push(payload));
    emit({ event: 'backend.status', payload: { connected: true } });
    expect(seen).toEqual([{ connected: true }]);
    expect(errors).toHaveLength(1);
  });

  it('refuses unknown events and non-function callbacks', () => {
    const bridge = createBridge(fakeTransport().transport);
    expect(() => bridge.subscribe('no.such.event' as 'backend.status', () => {})).toThrow(TypeError);
    expect(() => bridge.subscribe('backend.status', 'cb' as unknown as () => void)).toThrow(TypeError);
  });
});

describe('the bridge object', () => {
  it('exposes exactly invoke and subscribe, frozen', () => {
    const bridge = createBridge(fakeTransport().transport);
    expect(Object.keys(bridge).sort()).toEqual(['invoke', 'subscribe']);
    expect(Object.isFrozen(bridge)).toBe(true);
  });

  it('rejects a transport without invoke and on', () => {
    expect(() => createBridge({} as BridgeTransport)).toThrow(TypeError);
    expect(() => createBridge(null as unknown as BridgeTransport)).toThrow(TypeError);
  });
});
