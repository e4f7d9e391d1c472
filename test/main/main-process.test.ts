/**
 * main/main.ts against a stand-in for the 'electron' module (no Electron binary can run here): the
 * order of the pre-ready calls, the window's settings, the app:// handler, the IPC sender check,
 * the permission and navigation handlers, and the bridge to a backend that runs the real dispatcher.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDispatcher } from '../../main/backend-dispatch';
import { APP_ENTRY_URL, CONTENT_SECURITY_POLICY } from '../../main/security';
import { handlersWith } from './handlers';

type Listener = (...args: unknown[]) => unknown;

const fake = vi.hoisted(() => {
  const calls: string[] = [];
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });
  const appListeners = new Map<string, Listener>();
  const ipcHandlers = new Map<string, Listener>();
  const protocolHandlers = new Map<string, (request: Request) => Promise<Response>>();
  const session = {
    permissionRequest: undefined as Listener | undefined,
    permissionCheck: undefined as Listener | undefined,
    devicePermission: undefined as Listener | undefined,
    beforeRequest: undefined as Listener | undefined,
  };

  class FakeChild {
    readonly listeners = new Map<string, Listener>();
    readonly posted: unknown[] = [];
    readonly modulePath: string;
    readonly args: string[];
    onPost: (message: unknown) => void = () => {};
    constructor(modulePath: string, args: string[]) {
      this.modulePath = modulePath;
      this.args = args;
    }
    on(event: string, listener: Listener): this {
      this.listeners.set(event, listener);
      return this;
    }
    postMessage(message: unknown): void {
      this.posted.push(message);
      this.onPost(message);
    }
    kill(): boolean {
      return true;
    }
    emit(event: string, ...args: unknown[]): void {
      this.listeners.get(event)?.(...args);
    }
  }
  const children: FakeChild[] = [];

  const mainFrame = { processId: 4, routingId: 1, url: 'app://sirius/index.html' };
  const sent: Array<[string, unknown]> = [];
  class FakeWindow {
    static instances: FakeWindow[] = [];
    readonly options: Record<string, unknown>;
    readonly loaded: string[] = [];
    readonly webContents = {
      id: 11,
      mainFrame,
      getURL: () => mainFrame.url,
      send: (channel: string, payload: unknown) => {
        sent.push([channel, payload]);
      },
    };
    constructor(options: Record<string, unknown>) {
      this.options = options;
      FakeWindow.instances.push(this);
      calls.push('new BrowserWindow');
    }
    once(): this {
      return this;
    }
    on(): this {
      return this;
    }
    isDestroyed(): boolean {
      return false;
    }
    show(): void {}
    loadURL(url: string): Promise<void> {
      this.loaded.push(url);
      return Promise.resolve();
    }
  }

  const paths = { userData: '' };
  const electron = {
    app: {
      getPath: (name: string) => {
        if (name !== 'userData') throw new Error(`unexpected getPath(${name})`);
        return paths.userData;
      },
      enableSandbox: () => calls.push('enableSandbox'),
      on: (event: string, listener: Listener) => {
        appListeners.set(event, listener);
      },
      whenReady: () => ready,
      isReady: () => true,
      getVersion: () => '0.1.0',
      isPackaged: true,
      quit: () => {},
      exit: (code: number) => calls.push(`exit ${code}`),
    },
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown) => calls.push(`registerSchemesAsPrivileged ${JSON.stringify(schemes)}`),
      handle: (scheme: string, handler: (request: Request) => Promise<Response>) => {
        protocolHandlers.set(scheme, handler);
      },
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (h: Listener) => {
          session.permissionRequest = h;
        },
        setPermissionCheckHandler: (h: Listener) => {
          session.permissionCheck = h;
        },
        setDevicePermissionHandler: (h: Listener) => {
          session.devicePermission = h;
        },
        webRequest: {
          onBeforeRequest: (h: Listener) => {
            session.beforeRequest = h;
          },
        },
      },
    },
    ipcMain: {
      handle: (channel: string, handler: Listener) => {
        ipcHandlers.set(channel, handler);
      },
    },
    utilityProcess: {
      fork: (modulePath: string, args: string[]) => {
        const child = new FakeChild(modulePath, args);
        children.push(child);
        return child;
      },
    },
    // A stand-in keychain: "sealing" prefixes a marker, so the file shows it went through here.
    safeStorage: {
      isEncryptionAvailable: () => true,
      getSelectedStorageBackend: () => 'gnome_libsecret',
      encryptString: (plain: string) => new TextEncoder().encode(`sealed:${plain}`),
      decryptString: (sealed: Uint8Array) => {
        const text = new TextDecoder().decode(sealed);
        if (!text.startsWith('sealed:')) throw new Error('not sealed by this keychain');
        return text.slice('sealed:'.length);
      },
    },
    BrowserWindow: FakeWindow,
  };
  return { electron, paths, calls, resolveReady: () => resolveReady(), appListeners, ipcHandlers, protocolHandlers, session, children, FakeWindow, mainFrame, sent };
});

vi.mock('electron', () => fake.electron);

const mainModule = await import('../../main/main');

/** Lets queued promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

function trustedEvent(overrides: { url?: string; routingId?: number; senderId?: number } = {}) {
  return {
    sender: { id: overrides.senderId ?? 11 },
    senderFrame: {
      processId: fake.mainFrame.processId,
      routingId: overrides.routingId ?? fake.mainFrame.routingId,
      url: overrides.url ?? fake.mainFrame.url,
    },
  };
}

beforeAll(async () => {
  fake.paths.userData = mkdtempSync(join(tmpdir(), 'psp-main-'));
  fake.resolveReady();
  await settle();
  // Stand the real dispatcher in for the backend process.
  const child = fake.children[0];
  if (child === undefined) throw new Error('no backend was forked');
  const dispatch = createDispatcher(handlersWith({ 'app.version': () => ({ version: '0.1.0' }) }));
  child.onPost = (message) => {
    void dispatch(structuredClone(message)).then((reply) => {
      if (reply !== null) child.emit('message', structuredClone(reply));
    });
  };
  child.emit('spawn');
  await settle();
});

afterAll(() => {
  rmSync(fake.paths.userData, { recursive: true, force: true });
});

describe('before the app is ready', () => {
  it('registers app:// as a standard secure scheme and enables the sandbox, before any window', () => {
    const register = fake.calls.findIndex((c) => c.startsWith('registerSchemesAsPrivileged'));
    const sandbox = fake.calls.indexOf('enableSandbox');
    const window = fake.calls.indexOf('new BrowserWindow');
    expect(register).toBeGreaterThanOrEqual(0);
    expect(sandbox).toBeGreaterThanOrEqual(0);
    expect(window).toBeGreaterThan(Math.max(register, sandbox));
    const registered = JSON.parse(fake.calls[register]!.slice('registerSchemesAsPrivileged '.length)) as Array<{
      scheme: string;
      privileges: Record<string, boolean>;
    }>;
    expect(registered).toHaveLength(1);
    expect(registered[0]?.scheme).toBe('app');
    expect(registered[0]?.privileges).toMatchObject({ standard: true, secure: true });
    expect(registered[0]?.privileges.bypassCSP).toBeUndefined();
    expect(registered[0]?.privileges.corsEnabled).toBeUndefined();
  });
});

describe('the window', () => {
  it('is sandboxed, uses the CommonJS preload and loads app://sirius/index.html', () => {
    expect(fake.FakeWindow.instances).toHaveLength(1);
    const win = fake.FakeWindow.instances[0]!;
    const prefs = win.options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, webSecurity: true, webviewTag: false, devTools: false });
    expect(String(prefs.preload)).toMatch(/[/\\]preload\.cjs$/);
    expect(win.loaded).toEqual([APP_ENTRY_URL]);
  });

  it('denies navigation, redirects, webviews and new windows for every web contents', () => {
    const created = fake.appListeners.get('web-contents-created');
    expect(created).toBeDefined();
    const handlers = new Map<string, Listener>();
    let openHandler: Listener | undefined;
    created!({}, {
      on: (event: string, listener: Listener) => handlers.set(event, listener),
      setWindowOpenHandler: (h: Listener) => {
        openHandler = h;
      },
    });
    for (const event of ['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview']) {
      const preventDefault = vi.fn();
      handlers.get(event)?.({ preventDefault }, 'https://example.org/');
      expect(preventDefault, event).toHaveBeenCalled();
    }
    expect(openHandler?.({ url: 'https://example.org/' })).toEqual({ action: 'deny' });
  });
});

describe('the app:// handler', () => {
  const rendererIndex = fileURLToPath(new URL('../../renderer/index.html', import.meta.url));

  it('serves files from the renderer folder with the CSP', async () => {
    const handler = fake.protocolHandlers.get('app')!;
    const response = await handler(new Request('app://sirius/index.html'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await response.text()).toBe(await readFile(rendererIndex, 'utf8'));
  });

  it('refuses paths outside it, missing files, other hosts and other methods', async () => {
    const handler = fake.protocolHandlers.get('app')!;
    for (const url of ['app://sirius/%2e%2e/package.json', 'app://sirius/..%2fpackage.json', 'app://sirius/nope.js', 'app://other/index.html', 'app://sirius/src']) {
      const response = await handler(new Request(url));
      expect(response.status, url).toBe(404);
      expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    }
    const post = await handler(new Request('app://sirius/index.html', { method: 'POST', body: 'x' }));
    expect(post.status).toBe(405);
  });
});

describe('IPC', () => {
  const invoke = (event: unknown, payload: unknown) => fake.ipcHandlers.get('sirius:invoke')!(event, payload) as Promise<unknown>;

  it('forwards a trusted request to the backend and returns its Result', async () => {
    await expect(invoke(trustedEvent(), { method: 'app.version', params: {} })).resolves.toEqual({
      ok: true,
      value: { version: '0.1.0' },
    });
  });

  it('refuses senders that are not our main frame with our origin', async () => {
    for (const event of [
      trustedEvent({ url: 'https://evil.example/' }),
      trustedEvent({ url: 'app://other/index.html' }),
      trustedEvent({ routingId: 2 }),
      trustedEvent({ senderId: 12 }),
      { sender: { id: 11 }, senderFrame: null },
    ]) {
      const result = (await invoke(event, { method: 'app.version', params: {} })) as { ok: boolean; error?: { code: string } };
      expect(result.ok).toBe(false);
      expect(result.error?.code).toBe('forbidden');
    }
  });

  it('refuses malformed envelopes and unknown methods', async () => {
    for (const payload of [null, 'app.version', { method: 'fs.readFile', params: {} }, { params: {} }]) {
      const result = (await invoke(trustedEvent(), payload)) as { ok: boolean; error?: { code: string } };
      expect(result.error?.code, JSON.stringify(payload)).toBe('bad_request');
    }
  });

  it('told the page the backend is connected once it answered the first ping', () => {
    expect(fake.sent).toContainEqual(['sirius:event', { event: 'backend.status', payload: { connected: true } }]);
  });

  it('passes the app version, the data folder, the profile and the keychain flag to the backend process', () => {
    expect(fake.children[0]?.args).toEqual(['--app-version=0.1.0', `--data-root=${fake.paths.userData}`, '--profile=default', '--keychain']);
    expect(fake.children[0]?.modulePath).toMatch(/[/\\]backend\.js$/);
  });

  it('sends the profile’s keychain secret once the backend runs, keeping it sealed on disk', () => {
    const sent = fake.children[0]!.posted.filter((m) => (m as { type?: string }).type === 'unlock-secret') as Array<{ secret: string }>;
    expect(sent).toHaveLength(1);
    expect(Object.keys(sent[0]!).sort()).toEqual(['secret', 'type']);
    expect(sent[0]!.secret).toMatch(/^[0-9a-f]{64}$/);
    const onDisk = readFileSync(join(fake.paths.userData, 'profiles', 'default', 'keychain.secret'), 'utf8');
    expect(onDisk).toBe(`sealed:${sent[0]!.secret}`);
  });
});

describe('permissions', () => {
  const request = (permission: string, requestingUrl: string, extra: Record<string, unknown> = {}) =>
    new Promise<boolean>((resolve) => {
      fake.session.permissionRequest!({}, permission, resolve, { requestingUrl, isMainFrame: true, ...extra });
    });
  const check = (permission: string, origin: string, extra: Record<string, unknown> = {}) =>
    fake.session.permissionCheck!({}, permission, origin, { isMainFrame: true, ...extra }) as boolean;

  it('denies camera and microphone until a broadcast starts, and again after it stops', async () => {
    expect(await request('media', APP_ENTRY_URL, { mediaTypes: ['video', 'audio'] })).toBe(false);
    expect(check('media', 'app://sirius', { mediaType: 'video' })).toBe(false);

    // The backend signals a broadcast start over its port.
    fake.children[0]!.emit('message', { type: 'media-access', active: true });
    expect(await request('media', APP_ENTRY_URL, { mediaTypes: ['video', 'audio'] })).toBe(true);
    expect(check('media', 'app://sirius', { mediaType: 'audio' })).toBe(true);
    expect(await request('media', 'https://evil.example/', { mediaTypes: ['video'] })).toBe(false);
    expect(await request('media', APP_ENTRY_URL, { mediaTypes: ['video'], isMainFrame: false })).toBe(false);
    expect(await request('notifications', APP_ENTRY_URL)).toBe(false);
    expect(await request('display-capture', APP_ENTRY_URL)).toBe(false);

    mainModule.setBroadcastActive(false);
    expect(await request('media', APP_ENTRY_URL, { mediaTypes: ['video'] })).toBe(false);
    expect(() => mainModule.setBroadcastActive('yes' as unknown as boolean)).toThrow(TypeError);
  });

  it('denies device access and cancels requests outside app://', () => {
    expect(fake.session.devicePermission!({})).toBe(false);
    const cancelled = (url: string) =>
      new Promise<boolean>((resolve) => {
        fake.session.beforeRequest!({ url }, (answer: { cancel: boolean }) => resolve(answer.cancel));
      });
    return Promise.all([
      expect(cancelled('https://example.org/')).resolves.toBe(true),
      expect(cancelled('file:///etc/passwd')).resolves.toBe(true),
      expect(cancelled('app://sirius/assets/x.js')).resolves.toBe(false),
    ]);
  });
});

describe('when the backend exits', () => {
  it('fails requests, revokes media access and tells the page', async () => {
    const child = fake.children[0]!;
    child.emit('message', { type: 'media-access', active: true });
    child.onPost = () => {};
    const pending = fake.ipcHandlers.get('sirius:invoke')!(trustedEvent(), { method: 'app.version', params: {} }) as Promise<{
      ok: boolean;
      error?: { code: string };
    }>;
    child.emit('exit', 1);
    expect((await pending).error?.code).toBe('backend_unavailable');
    const later = (await fake.ipcHandlers.get('sirius:invoke')!(trustedEvent(), { method: 'app.version', params: {} })) as {
      error?: { code: string };
    };
    expect(later.error?.code).toBe('backend_unavailable');
    expect(fake.sent.at(-1)).toEqual(['sirius:event', { event: 'backend.status', payload: { connected: false } }]);
    const granted = await new Promise<boolean>((resolve) => {
      fake.session.permissionRequest!({}, 'media', resolve, { requestingUrl: APP_ENTRY_URL, isMainFrame: true, mediaTypes: ['video'] });
    });
    expect(granted).toBe(false);
  });
});
