/**
 * Placeholder start page: shows the product name and the backend's version, or a note that no
 * backend is connected. The version answer is checked against the contract's result schema.
 */
import { useEffect, useState } from 'react';
import { methods } from '../../app/contract';
import { getBridge } from './bridge';

type BackendState =
  | { readonly kind: 'checking' }
  | { readonly kind: 'connected'; readonly version: string }
  | { readonly kind: 'disconnected'; readonly reason: string };

export function App() {
  const [state, setState] = useState<BackendState>({ kind: 'checking' });

  useEffect(() => {
    const bridge = getBridge();
    if (bridge === undefined) {
      setState({ kind: 'disconnected', reason: 'No backend bridge is installed in this page.' });
      return;
    }
    let active = true;
    const ask = (): void => {
      bridge
        .invoke('app.version', {})
        .then((result) => {
          if (!active) return;
          if (!result.ok) {
            setState({ kind: 'disconnected', reason: result.error.message });
            return;
          }
          const parsed = methods['app.version'].result.safeParse(result.value);
          setState(
            parsed.success
              ? { kind: 'connected', version: parsed.data.version }
              : { kind: 'disconnected', reason: 'The backend sent an unexpected answer.' },
          );
        })
        .catch((error: unknown) => {
          if (active) setState({ kind: 'disconnected', reason: error instanceof Error ? error.message : String(error) });
        });
    };
    ask();
    const unsubscribe = bridge.subscribe('backend.status', (status) => {
      if (!active) return;
      if (status.connected) ask();
      else setState({ kind: 'disconnected', reason: 'The backend stopped.' });
    });
    return () => {
      active = false;
      unsubscribe();
    };
  }, []);

  return (
    <main className="app">
      <header className="app__header">
        <h1 className="app__title">Sirius Stream</h1>
        <p className="app__tagline">Anonymous chat, live streams and a relay node of the PeerStream network.</p>
      </header>
      <section className="status" aria-live="polite">
        {state.kind === 'checking' && <p className="status__line">Connecting to the backend…</p>}
        {state.kind === 'connected' && (
          <p className="status__line status__line--ok">
            Backend connected, version <span className="status__version">{state.version}</span>
          </p>
        )}
        {state.kind === 'disconnected' && (
          <div className="status__note" role="note">
            <p className="status__line status__line--warn">Backend not connected.</p>
            <p className="status__detail">{state.reason}</p>
          </div>
        )}
      </section>
    </main>
  );
}
