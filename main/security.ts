/**
 * The security-relevant settings of the Electron main process, as pure functions and constants so
 * they can be tested without Electron: the window's webPreferences, the Content Security Policy,
 * the permission policy, the IPC sender check and the app:// URL → file mapping.
 *
 * The renderer is served from a custom privileged scheme (`app://sirius/`) instead of file://, so
 * it has a real origin that the CSP, the permission handlers and the IPC sender check can name, and
 * so it can never read arbitrary files.
 */
import { extname, isAbsolute, join, relative, sep } from 'node:path';
import type { WebPreferences } from 'electron';
import { CONTENT_SECURITY_POLICY, CONTENT_TYPES } from '../app/contract/page-policy';

/** The custom scheme the renderer is loaded from. */
export const APP_SCHEME = 'app';
/** The only host under that scheme. */
export const APP_HOST = 'sirius';
/** Origin of every page we load; IPC and permissions are granted to this origin only. */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** The renderer's entry page. */
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * Content Security Policy sent with every app:// response. No inline script, no eval, no remote
 * origins; the renderer reaches the backend only through the preload, never over the network.
 * `media-src` allows camera previews (mediastream:) and decoded video (blob:).
 */
export { CONTENT_SECURITY_POLICY };

/** Options for {@link windowWebPreferences}. */
export interface WindowPreferenceOptions {
  /** Whether DevTools may be opened (development builds only). Default false. */
  readonly devTools?: boolean;
}

/**
 * webPreferences for every BrowserWindow: sandboxed, context-isolated, no Node.js in any frame or
 * worker, web security on, no <webview>, and the given CommonJS preload.
 */
export function windowWebPreferences(preloadPath: string, options: WindowPreferenceOptions = {}): WebPreferences {
  if (typeof preloadPath !== 'string') throw new TypeError('preloadPath must be a string');
  if (!isAbsolute(preloadPath)) throw new RangeError('preloadPath must be an absolute path');
  // Sandboxed preloads are loaded as CommonJS scripts (Electron "ES Modules" guide: no ESM
  // preloads in sandboxed renderers).
  if (!preloadPath.endsWith('.cjs')) throw new RangeError('preloadPath must name a .cjs file');
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const devTools = options.devTools ?? false;
  if (typeof devTools !== 'boolean') throw new TypeError('options.devTools must be a boolean');
  return {
    preload: preloadPath,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    devTools,
  };
}

/**
 * Returns `scheme://host[:port]` of a URL or of an origin string, or null when it does not parse.
 * (WHATWG `URL.origin` is "null" for non-special schemes such as app:, so it is built by hand.)
 */
export function originOf(url: string): string | null {
  if (typeof url !== 'string') throw new TypeError('url must be a string');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.username !== '' || parsed.password !== '') return null;
  if (parsed.host === '') return null;
  return `${parsed.protocol}//${parsed.host}`;
}

/** True when `url` (a frame URL) belongs to our own origin, exactly. */
export function isTrustedSender(url: string): boolean {
  if (typeof url !== 'string') throw new TypeError('url must be a string');
  return originOf(url) === APP_ORIGIN;
}

/** What the permission policy depends on; the main process owns the live value. */
export interface PermissionState {
  /** True while the user is broadcasting (between broadcast start and stop). */
  readonly broadcastActive: boolean;
}

/** Media kinds a 'media' request may ask for; anything else (e.g. 'unknown') is refused. */
const ALLOWED_MEDIA_TYPES: ReadonlySet<string> = new Set(['audio', 'video']);

/**
 * The permission policy: everything is denied except 'media' (camera and microphone), and that only
 * for our own origin while a broadcast is active. `origin` may be an origin or a full URL.
 * `mediaTypes`, when the request names them, must all be 'audio' or 'video'.
 */
export function isAllowedPermission(
  permission: string,
  origin: string,
  state: PermissionState,
  mediaTypes?: readonly string[],
): boolean {
  if (typeof permission !== 'string') throw new TypeError('permission must be a string');
  if (typeof origin !== 'string') throw new TypeError('origin must be a string');
  if (typeof state !== 'object' || state === null || typeof state.broadcastActive !== 'boolean') {
    throw new TypeError('state must be { broadcastActive: boolean }');
  }
  if (mediaTypes !== undefined && !Array.isArray(mediaTypes)) throw new TypeError('mediaTypes must be an array');
  if (permission !== 'media') return false;
  if (!state.broadcastActive) return false;
  if (originOf(origin) !== APP_ORIGIN) return false;
  if (mediaTypes !== undefined && !mediaTypes.every((t) => ALLOWED_MEDIA_TYPES.has(t))) return false;
  return true;
}

/**
 * Maps an app:// request URL to a file under `root`, or null when the URL must be refused: another
 * scheme or host, a port or credentials, an encoded or literal `..`, a backslash, a NUL, a
 * malformed escape, or anything that would end outside `root`. `/` maps to `index.html`.
 */
export function resolveAppUrl(url: string, root: string): string | null {
  if (typeof url !== 'string') throw new TypeError('url must be a string');
  if (typeof root !== 'string') throw new TypeError('root must be a string');
  if (!isAbsolute(root)) throw new RangeError('root must be an absolute path');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return null;
  if (parsed.username !== '' || parsed.password !== '' || parsed.port !== '') return null;
  const segments: string[] = [];
  for (const raw of parsed.pathname.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment === '.' || segment === '..') return null;
    if (/[/\\\0:]/.test(segment)) return null;
    segments.push(segment);
  }
  if (segments.length === 0) segments.push('index.html');
  const file = join(root, ...segments);
  return isPathInside(root, file) ? file : null;
}

/** True when `file` lies strictly inside the folder `root` (both absolute, compared lexically). */
export function isPathInside(root: string, file: string): boolean {
  if (typeof root !== 'string' || !isAbsolute(root)) throw new TypeError('root must be an absolute path');
  if (typeof file !== 'string' || !isAbsolute(file)) throw new TypeError('file must be an absolute path');
  const rel = relative(root, file);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}


/** Content-Type for a served file, by extension; unknown extensions are opaque bytes. */
export function contentTypeFor(filePath: string): string {
  if (typeof filePath !== 'string') throw new TypeError('filePath must be a string');
  return CONTENT_TYPES[extname(filePath).toLowerCase()] ?? 'application/octet-stream';
}

/** Headers for every app:// response: type, CSP, no sniffing, no cross-origin use, no referrer. */
export function responseHeaders(filePath: string): Record<string, string> {
  return {
    'Content-Type': contentTypeFor(filePath),
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  };
}

/**
 * Whether the window's session may load `url` at all. Only our own scheme and in-page data:/blob:
 * URLs (plus DevTools' own scheme) are loaded; http(s), ws(s), file: and the rest are cancelled, so
 * a bug in the UI cannot reach the network or the disk.
 */
export function isAllowedRequestUrl(url: string): boolean {
  if (typeof url !== 'string') throw new TypeError('url must be a string');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  switch (parsed.protocol) {
    case `${APP_SCHEME}:`:
      return parsed.host === APP_HOST;
    case 'data:':
    case 'blob:':
    case 'devtools:':
      return true;
    default:
      return false;
  }
}
