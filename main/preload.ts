/**
 * Preload for the sandboxed renderer. Exposes one narrow object, `window.sirius`, through
 * contextBridge (see ./bridge): contract method calls and contract event subscriptions only. The
 * page never sees ipcRenderer, IPC event objects or channel names.
 *
 * Sandboxed preloads are CommonJS and may only require 'electron'; the build bundles this file
 * into dist/main/preload.cjs and checks that nothing else is required.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { BRIDGE_GLOBAL } from '../app/contract/wire';
import { createBridge } from './bridge';

const bridge = createBridge({
  invoke: (channel, payload) => ipcRenderer.invoke(channel, payload),
  on: (channel, listener) => {
    ipcRenderer.on(channel, (_event, payload: unknown) => listener(payload));
  },
});

contextBridge.exposeInMainWorld(BRIDGE_GLOBAL, bridge);
