/**
 * Vite configuration for the renderer (React): renderer/index.html → dist/renderer/.
 * Used by bin/build.js and usable directly (`npx vite build -c vite.renderer.config.ts`).
 * Asset URLs are relative (`base: './'`) so the same build is served from app://sirius/ in
 * Electron and from the web host's root in a browser.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type InlineConfig } from 'vite';
import { quietThirdPartyAnnotations } from './vite.main.config';

/** The renderer's Vite configuration, rooted at the repository folder `root`. */
export function rendererConfig(root: string): InlineConfig {
  return {
    configFile: false,
    root: join(root, 'renderer'),
    base: './',
    logLevel: 'warn',
    clearScreen: false,
    publicDir: false,
    mode: 'production',
    plugins: [react()],
    build: {
      outDir: join(root, 'dist', 'renderer'),
      emptyOutDir: true,
      target: 'chrome140',
      sourcemap: false,
      reportCompressedSize: false,
      // No inline <script>/data: modules: the CSP allows scripts from 'self' only.
      assetsInlineLimit: 0,
      modulePreload: { polyfill: false },
      rollupOptions: { onwarn: quietThirdPartyAnnotations },
    },
  };
}

export default defineConfig(rendererConfig(fileURLToPath(new URL('.', import.meta.url))));
