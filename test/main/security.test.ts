import { join, resolve, sep } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  APP_ENTRY_URL,
  APP_ORIGIN,
  CONTENT_SECURITY_POLICY,
  contentTypeFor,
  isAllowedPermission,
  isAllowedRequestUrl,
  isPathInside,
  isTrustedSender,
  originOf,
  resolveAppUrl,
  responseHeaders,
  windowWebPreferences,
} from '../../main/security';

const ROOT = resolve(sep, 'srv', 'app', 'dist', 'renderer');
const PRELOAD = resolve(sep, 'srv', 'app', 'dist', 'main', 'preload.cjs');

describe('windowWebPreferences', () => {
  it('sandboxes the window, isolates the context and keeps Node.js out of every frame', () => {
    expect(windowWebPreferences(PRELOAD)).toEqual({
      preload: PRELOAD,
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
      devTools: false,
    });
  });

  it('enables DevTools only when asked', () => {
    expect(windowWebPreferences(PRELOAD, { devTools: true }).devTools).toBe(true);
    expect(windowWebPreferences(PRELOAD, {}).devTools).toBe(false);
  });

  it('refuses a relative, non-CommonJS or non-string preload path', () => {
    expect(() => windowWebPreferences('dist/main/preload.cjs')).toThrow(RangeError);
    expect(() => windowWebPreferences(PRELOAD.replace(/\.cjs$/, '.js'))).toThrow(/preloadPath/);
    expect(() => windowWebPreferences(42 as unknown as string)).toThrow(TypeError);
    expect(() => windowWebPreferences(PRELOAD, { devTools: 'yes' as unknown as boolean })).toThrow(TypeError);
  });
});

describe('CONTENT_SECURITY_POLICY', () => {
  const directives = new Map(
    CONTENT_SECURITY_POLICY.split(';').map((part) => {
      const [name, ...values] = part.trim().split(/\s+/);
      return [name ?? '', values.join(' ')] as const;
    }),
  );

  it('has the expected directives, exactly', () => {
    expect(Object.fromEntries(directives)).toEqual({
      'default-src': "'self'",
      'script-src': "'self'",
      'style-src': "'self'",
      'img-src': "'self' data: blob:",
      'media-src': "'self' blob: mediastream:",
      'connect-src': "'self'",
      'font-src': "'self'",
      'object-src': "'none'",
      'base-uri': "'none'",
      'frame-ancestors': "'none'",
      'form-action': "'none'",
    });
  });

  it('allows no inline code, no eval and no wildcard source', () => {
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|wasm-unsafe-eval|\*/);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/https?:|wss?:/);
  });
});

describe('originOf and isTrustedSender', () => {
  it('accepts only our own origin', () => {
    for (const url of [APP_ENTRY_URL, `${APP_ORIGIN}/`, `${APP_ORIGIN}/assets/index.js?x=1#top`, APP_ORIGIN]) {
      expect(isTrustedSender(url), url).toBe(true);
    }
  });

  it('refuses other hosts, schemes, ports, credentials and junk', () => {
    for (const url of [
      'app://evil/index.html',
      'app://sirius.evil/index.html',
      'app://evil.sirius/index.html',
      'app://sirius:8080/index.html',
      'app://user:pass@sirius/index.html',
      'app://user@sirius/index.html',
      'https://sirius/index.html',
      'http://localhost/',
      'file:///index.html',
      'about:blank',
      'devtools://devtools/bundled/inspector.html',
      'data:text/html,hi',
      '',
      'sirius',
      'app:sirius/index.html',
    ]) {
      expect(isTrustedSender(url), url).toBe(false);
    }
  });

  it('builds origins by hand for non-special schemes', () => {
    expect(originOf('app://sirius/a/b?c')).toBe('app://sirius');
    expect(originOf('https://example.org:8443/x')).toBe('https://example.org:8443');
    expect(originOf('not a url')).toBeNull();
    expect(originOf('app://u@sirius/')).toBeNull();
  });

  it('rejects non-string input with a TypeError', () => {
    expect(() => isTrustedSender(undefined as unknown as string)).toThrow(TypeError);
    expect(() => originOf(null as unknown as string)).toThrow(TypeError);
  });
});

describe('isAllowedPermission', () => {
  const live = { broadcastActive: true };
  const idle = { broadcastActive: false };

  it('grants camera and microphone to our origin while a broadcast is active', () => {
    expect(isAllowedPermission('media', APP_ORIGIN, live)).toBe(true);
    expect(isAllowedPermission('media', APP_ENTRY_URL, live)).toBe(true);
    expect(isAllowedPermission('media', `${APP_ORIGIN}/`, live, ['video', 'audio'])).toBe(true);
    expect(isAllowedPermission('media', APP_ORIGIN, live, ['audio'])).toBe(true);
  });

  it('denies media when no broadcast is active', () => {
    expect(isAllowedPermission('media', APP_ORIGIN, idle)).toBe(false);
    expect(isAllowedPermission('media', APP_ENTRY_URL, idle, ['video'])).toBe(false);
  });

  it('denies media to any other origin, even during a broadcast', () => {
    for (const origin of ['app://evil', 'https://sirius', 'file:///', 'null', '', 'app://sirius:1']) {
      expect(isAllowedPermission('media', origin, live), origin).toBe(false);
    }
  });

  it('denies media kinds other than audio and video', () => {
    expect(isAllowedPermission('media', APP_ORIGIN, live, ['unknown'])).toBe(false);
    expect(isAllowedPermission('media', APP_ORIGIN, live, ['video', 'screen'])).toBe(false);
  });

  it('denies every other permission, always', () => {
    for (const permission of [
      'display-capture',
      'notifications',
      'geolocation',
      'clipboard-read',
      'clipboard-sanitized-write',
      'fullscreen',
      'openExternal',
      'hid',
      'serial',
      'usb',
      'midi',
      'midiSysex',
      'pointerLock',
      'fileSystem',
      'unknown',
      'MEDIA',
    ]) {
      expect(isAllowedPermission(permission, APP_ORIGIN, live), permission).toBe(false);
      expect(isAllowedPermission(permission, APP_ORIGIN, idle), permission).toBe(false);
    }
  });

  it('rejects malformed arguments with a TypeError', () => {
    expect(() => isAllowedPermission(1 as unknown as string, APP_ORIGIN, live)).toThrow(TypeError);
    expect(() => isAllowedPermission('media', APP_ORIGIN, {} as never)).toThrow(TypeError);
    expect(() => isAllowedPermission('media', APP_ORIGIN, live, 'video' as unknown as string[])).toThrow(TypeError);
  });
});

describe('resolveAppUrl', () => {
  it('maps app://sirius paths into the renderer folder', () => {
    expect(resolveAppUrl('app://sirius/', ROOT)).toBe(join(ROOT, 'index.html'));
    expect(resolveAppUrl('app://sirius', ROOT)).toBe(join(ROOT, 'index.html'));
    expect(resolveAppUrl(APP_ENTRY_URL, ROOT)).toBe(join(ROOT, 'index.html'));
    expect(resolveAppUrl('app://sirius/assets/index-abc.js?v=1#x', ROOT)).toBe(join(ROOT, 'assets', 'index-abc.js'));
    expect(resolveAppUrl('app://sirius/assets/my%20file.css', ROOT)).toBe(join(ROOT, 'assets', 'my file.css'));
  });

  it('never leaves the renderer folder', () => {
    for (const url of [
      'app://sirius/../../etc/passwd',
      'app://sirius/%2e%2e/%2e%2e/etc/passwd',
      'app://sirius/assets/%2E%2E/%2E%2E/secret',
      'app://sirius/a%2f..%2f..%2fsecret',
      'app://sirius/a%5c..%5c..%5csecret',
      'app://sirius/..%5csecret',
      'app://sirius/%2e%2e%2fsecret',
      'app://sirius/C:%5cWindows%5cwin.ini',
    ]) {
      const file = resolveAppUrl(url, ROOT);
      if (file !== null) expect(isPathInside(ROOT, file), `${url} → ${file}`).toBe(true);
    }
    expect(resolveAppUrl('app://sirius/a%2f..%2f..%2fsecret', ROOT)).toBeNull();
    expect(resolveAppUrl('app://sirius/a%5c..%5c..%5csecret', ROOT)).toBeNull();
  });

  it('refuses other schemes, hosts, ports, credentials, NULs and bad escapes', () => {
    for (const url of [
      'file:///etc/passwd',
      'https://sirius/index.html',
      'app://evil/index.html',
      'app://sirius:80/index.html',
      'app://u:p@sirius/index.html',
      'app://sirius/index.html%00.png',
      'app://sirius/%E0%A4%A',
      'app://sirius/%',
      'not a url',
    ]) {
      expect(resolveAppUrl(url, ROOT), url).toBeNull();
    }
  });

  it('keeps every answer inside the root for arbitrary paths', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom('..', '.', '%2e%2e', '%2f', '%5c', '%00')), { maxLength: 6 }), (parts) => {
        const file = resolveAppUrl(`app://sirius/${parts.join('/')}`, ROOT);
        return file === null || isPathInside(ROOT, file);
      }),
    );
  });

  it('rejects a relative root and non-string input', () => {
    expect(() => resolveAppUrl(APP_ENTRY_URL, 'dist/renderer')).toThrow(RangeError);
    expect(() => resolveAppUrl(5 as unknown as string, ROOT)).toThrow(TypeError);
  });
});

describe('isPathInside', () => {
  it('is true only strictly below the root', () => {
    expect(isPathInside(ROOT, join(ROOT, 'a', 'b.js'))).toBe(true);
    expect(isPathInside(ROOT, ROOT)).toBe(false);
    expect(isPathInside(ROOT, join(ROOT, '..'))).toBe(false);
    expect(isPathInside(ROOT, `${ROOT}-evil${sep}x.js`)).toBe(false);
    expect(isPathInside(ROOT, join(ROOT, '..', 'renderer2', 'x.js'))).toBe(false);
  });

  it('requires absolute paths', () => {
    expect(() => isPathInside('dist', join(ROOT, 'x'))).toThrow(TypeError);
    expect(() => isPathInside(ROOT, 'x')).toThrow(TypeError);
  });
});

describe('responses', () => {
  it('types files by extension and treats unknown ones as opaque bytes', () => {
    expect(contentTypeFor('/x/index.html')).toBe('text/html; charset=utf-8');
    expect(contentTypeFor('/x/a.JS')).toBe('text/javascript; charset=utf-8');
    expect(contentTypeFor('/x/a.css')).toBe('text/css; charset=utf-8');
    expect(contentTypeFor('/x/a.svg')).toBe('image/svg+xml');
    expect(contentTypeFor('/x/a.exe')).toBe('application/octet-stream');
    expect(contentTypeFor('/x/noext')).toBe('application/octet-stream');
  });

  it('sends the CSP and no-sniff with every file', () => {
    const headers = responseHeaders('/x/index.html');
    expect(headers['Content-Security-Policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(headers['X-Content-Type-Options']).toBe('nosniff');
    expect(headers['Content-Type']).toBe('text/html; charset=utf-8');
    expect(headers['Cross-Origin-Opener-Policy']).toBe('same-origin');
  });
});

describe('isAllowedRequestUrl', () => {
  it('lets the page load only from our scheme and in-page data', () => {
    expect(isAllowedRequestUrl(APP_ENTRY_URL)).toBe(true);
    expect(isAllowedRequestUrl('data:image/png;base64,AAAA')).toBe(true);
    expect(isAllowedRequestUrl('blob:app://sirius/8c6f0d0e-1b1a-4c43-9d2e-000000000000')).toBe(true);
  });

  it('cancels the network, the disk and other app hosts', () => {
    for (const url of [
      'https://example.org/',
      'http://127.0.0.1:8080/',
      'ws://127.0.0.1:9000/',
      'wss://example.org/',
      'file:///etc/passwd',
      'ftp://example.org/',
      'app://evil/index.html',
      'chrome://settings',
      'garbage',
    ]) {
      expect(isAllowedRequestUrl(url), url).toBe(false);
    }
  });
});
