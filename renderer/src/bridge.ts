/**
 * Access to the backend bridge that the preload (Electron) or the web host's client script exposes
 * as `window.sirius`. The renderer talks to the backend through this object only.
 */
import type { SiriusBridge } from '../../app/contract';

declare global {
  interface Window {
    /** Present when a backend bridge is installed; absent in a plain browser page. */
    readonly sirius?: SiriusBridge;
  }
}

/** The installed bridge, or undefined when the page runs without one. */
export function getBridge(): SiriusBridge | undefined {
  return typeof window === 'undefined' ? undefined : window.sirius;
}
