/**
 * Electron main process: one sandboxed window whose page is served from app://sirius/, a locked-down
 * session (CSP, no navigation, no new windows, permissions denied but for the camera and
 * microphone during a broadcast, no requests outside our scheme), and an IPC bridge that forwards
 * the renderer's contract requests to the backend utility process.
 *
 * The main process checks envelopes and senders only; the backend parses every payload
 * (DESIGN §2). The security-relevant values live in ./security so they can be tested on their own.
 *
 * The backend gets the data folder (userData) and the profile (`--profile <name>` on our own
 * command line, default 'default'). Where the OS keychain is usable (safeStorage, and on Linux a
 * real secret store rather than its 'basic_text' fallback), the profile's keys are sealed with a
 * random per-profile secret that only this process can unseal: it is kept in the profile's
 * keychain.secret sealed by safeStorage and sent to the backend ('unlock-secret') once it runs.
 */
import {
  BrowserWindow,
  app,
  ipcMain,
  protocol,
  safeStorage,
  session,
  utilityProcess,
  type IpcMainInvokeEvent,
  type UtilityProcess,
} from 'electron';
import { readFile as readFileCallback, realpath as realpathCallback } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ERROR_CODES, IPC_CHANNELS, err, type Result } from '../app/contract/wire';
import { loadOrCreateKeychainSecret } from '../app/services/keychain-file';
import { DEFAULT_PROFILE, isProfileName, profilePaths } from '../app/services/paths';
import { BackendClient } from './backend-client';
import { parseInvokeEnvelope, type EventEnvelope } from './backend-protocol';
import {
  APP_ENTRY_URL,
  APP_SCHEME,
  CONTENT_SECURITY_POLICY,
  isAllowedPermission,
  isAllowedRequestUrl,
  isPathInside,
  isTrustedSender,
  resolveAppUrl,
  responseHeaders,
  windowWebPreferences,
  type PermissionState,
} from './security';

const here = dirname(fileURLToPath(import.meta.url));
const PRELOAD_PATH = join(here, 'preload.cjs');
const BACKEND_PATH = join(here, 'backend.js');
const RENDERER_ROOT = join(here, '..', 'renderer');

// The callback forms of these fs functions are the ones Electron patches to read inside app.asar.
const readFile = promisify(readFileCallback);
const realpath = promisify(realpathCallback);

// Both calls must happen before the app is ready. `standard` + `secure` give app://sirius a real,
// secure origin (needed for getUserMedia and for origin checks); nothing else is privileged.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);
app.enableSandbox();

const permissionState: { broadcastActive: boolean } = { broadcastActive: false };

/**
 * Turns camera/microphone access for our page on (while a broadcast runs) or off. The backend
 * requests this with a 'media-access' message when a broadcast starts and stops; it is reset
 * whenever the backend exits.
 */
export function setBroadcastActive(active: boolean): void {
  if (typeof active !== 'boolean') throw new TypeError('active must be a boolean');
  permissionState.broadcastActive = active;
}

function currentPermissionState(): PermissionState {
  return { broadcastActive: permissionState.broadcastActive };
}

let mainWindow: BrowserWindow | null = null;
let backend: { readonly child: UtilityProcess; readonly client: BackendClient } | null = null;
let rendererRootReal: string | null = null;

/** Serves a file from the built renderer; anything outside it, or any other method, is refused. */
async function serveApp(request: Request): Promise<Response> {
  const refuse = (status: number): Response =>
    new Response(null, { status, headers: { 'Content-Security-Policy': CONTENT_SECURITY_POLICY } });
  if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405);
  const file = resolveAppUrl(request.url, RENDERER_ROOT);
  if (file === null) return refuse(404);
  try {
    // Follow symlinks before reading, so a link inside the renderer folder cannot point out of it.
    rendererRootReal ??= await realpath(RENDERER_ROOT);
    const real = await realpath(file);
    if (!isPathInside(rendererRootReal, real)) return refuse(404);
    const body = await readFile(real);
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
      status: 200,
      headers: responseHeaders(real),
    });
  } catch {
    return refuse(404);
  }
}

/** True when an IPC message comes from our window's main frame showing our own origin. */
function isTrustedEvent(event: IpcMainInvokeEvent): boolean {
  const win = mainWindow;
  const frame = event.senderFrame;
  if (win === null || win.isDestroyed() || frame === null) return false;
  const contents = win.webContents;
  if (event.sender.id !== contents.id) return false;
  const top = contents.mainFrame;
  if (frame.processId !== top.processId || frame.routingId !== top.routingId) return false;
  return isTrustedSender(frame.url);
}

/** Pushes an event to the window, if it still shows our own page. */
function sendToRenderer(envelope: EventEnvelope): void {
  const win = mainWindow;
  if (win === null || win.isDestroyed()) return;
  if (!isTrustedSender(win.webContents.getURL())) return;
  win.webContents.send(IPC_CHANNELS.event, envelope);
}

/** The profile named by `--profile <name>` or `--profile=<name>` on our command line. */
function profileFromArgs(argv: readonly string[]): string {
  const inline = argv.find((a) => a.startsWith('--profile='));
  const i = argv.indexOf('--profile');
  const name = inline !== undefined ? inline.slice('--profile='.length) : i >= 0 ? argv[i + 1] : undefined;
  if (name === undefined) return DEFAULT_PROFILE;
  if (!isProfileName(name)) {
    process.stderr.write('--profile must be 1-64 letters, digits, _ or -; using the default profile\n');
    return DEFAULT_PROFILE;
  }
  return name;
}

/** True when safeStorage seals with a real OS keychain (not Linux's hard-coded 'basic_text' key). */
function keychainUsable(): boolean {
  try {
    if (!safeStorage.isEncryptionAvailable()) return false;
    return process.platform !== 'linux' || safeStorage.getSelectedStorageBackend() !== 'basic_text';
  } catch {
    return false;
  }
}

function startBackend(): void {
  const dataRoot = app.getPath('userData');
  const profile = profileFromArgs(process.argv);
  const keychain = keychainUsable();
  const args = [`--app-version=${app.getVersion()}`, `--data-root=${dataRoot}`, `--profile=${profile}`, ...(keychain ? ['--keychain'] : [])];
  const child = utilityProcess.fork(BACKEND_PATH, args, {
    serviceName: 'Sirius Stream backend',
    stdio: 'inherit',
  });
  const client = new BackendClient(
    { postMessage: (message) => child.postMessage(message) },
    { onEvent: sendToRenderer, onMediaAccess: setBroadcastActive },
  );
  backend = { child, client };
  child.on('message', (message: unknown) => client.handleMessage(message));
  child.on('spawn', () => {
    if (keychain) {
      try {
        const secret = loadOrCreateKeychainSecret(profilePaths(dataRoot, profile).keychainSecret, safeStorage);
        child.postMessage({ type: 'unlock-secret', secret });
      } catch (error) {
        // The backend then reports that the keychain did not provide the key.
        process.stderr.write(`keychain secret unavailable: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
    void client.ping().then((connected) => {
      sendToRenderer({ event: 'backend.status', payload: { connected } });
    });
  });
  child.on('exit', (code) => {
    client.close();
    if (backend?.child === child) backend = null;
    setBroadcastActive(false);
    sendToRenderer({ event: 'backend.status', payload: { connected: false } });
    if (code !== 0) process.stderr.write(`backend exited with code ${code}\n`);
  });
}

async function handleInvoke(event: IpcMainInvokeEvent, raw: unknown): Promise<Result<unknown>> {
  if (!isTrustedEvent(event)) return err(ERROR_CODES.forbidden, 'untrusted sender');
  const envelope = parseInvokeEnvelope(raw);
  if (envelope === null) return err(ERROR_CODES.badRequest, 'malformed request');
  const current = backend;
  if (current === null) return err(ERROR_CODES.backendUnavailable, 'the backend is not running');
  return current.client.request(envelope.method, envelope.params);
}

function hardenSession(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_contents, permission, callback, details) => {
    const mediaTypes = 'mediaTypes' in details ? details.mediaTypes : undefined;
    callback(
      details.isMainFrame &&
        isAllowedPermission(permission, details.requestingUrl, currentPermissionState(), mediaTypes),
    );
  });
  ses.setPermissionCheckHandler((_contents, permission, requestingOrigin, details) => {
    const mediaTypes = details.mediaType === undefined ? undefined : [details.mediaType];
    return (
      details.isMainFrame && isAllowedPermission(permission, requestingOrigin, currentPermissionState(), mediaTypes)
    );
  });
  // HID, serial and USB device access: never.
  ses.setDevicePermissionHandler(() => false);
  // No request leaves our scheme: the page talks to the backend through the preload only.
  ses.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !isAllowedRequestUrl(details.url) });
  });
  protocol.handle(APP_SCHEME, serveApp);
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1200,
    height: 800,
    minWidth: 800,
    minHeight: 560,
    show: false,
    title: 'Sirius Stream',
    backgroundColor: '#0b1020',
    autoHideMenuBar: true,
    webPreferences: windowWebPreferences(PRELOAD_PATH, { devTools: !app.isPackaged }),
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  void win.loadURL(APP_ENTRY_URL);
  return win;
}

// Every web contents (including any a bug might create): no navigation, no redirects away, no
// <webview>, no new windows.
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-frame-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('activate', () => {
  if (mainWindow === null && app.isReady()) mainWindow = createWindow();
});

app.on('will-quit', () => {
  backend?.child.kill();
});

app
  .whenReady()
  .then(() => {
    hardenSession();
    ipcMain.handle(IPC_CHANNELS.invoke, handleInvoke);
    startBackend();
    mainWindow = createWindow();
  })
  .catch((error: unknown) => {
    process.stderr.write(`startup failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    app.exit(1);
  });
