/** React access to the renderer's stores, and a few shared hooks. */
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import type { AppState } from '../state/app';

const AppContext = createContext<AppState | null>(null);

export function AppProvider({ app, children }: { readonly app: AppState; readonly children: ReactNode }) {
  return <AppContext.Provider value={app}>{children}</AppContext.Provider>;
}

/** The app's stores; only inside <AppProvider>. */
export function useApp(): AppState {
  const app = useContext(AppContext);
  if (app === null) throw new Error('useApp must be used inside <AppProvider>');
  return app;
}

/** The runtime clock, re-read every `intervalMs` (for ages and countdowns). */
export function useNow(intervalMs = 1000): number {
  const { runtime } = useApp();
  const [now, setNow] = useState(() => runtime.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(runtime.now()), intervalMs);
    return () => window.clearInterval(id);
  }, [runtime, intervalMs]);
  return now;
}

/** Copies `text` to the clipboard and says so in a toast. */
export function useCopy(): (text: string, what: string) => void {
  const { ui } = useApp();
  return (text, what) => {
    const done = (): void => ui.getState().toast(`${what} copied`);
    const fail = (): void => ui.getState().showError(`Could not copy the ${what.toLowerCase()}. Select it and copy it by hand.`);
    if (navigator.clipboard?.writeText === undefined) {
      fail();
      return;
    }
    navigator.clipboard.writeText(text).then(done, fail);
  };
}
