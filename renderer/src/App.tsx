/**
 * The renderer's root: without a bridge (`window.sirius`) a "no backend" page; otherwise the
 * stores are created once and started, and the profile's state picks the page: start-up,
 * onboarding (create / unlock / going online), the identity to share, or the messenger.
 */
import { useEffect, useRef, useState } from 'react';
import { useStore } from 'zustand';
import { getBridge } from './bridge';
import { createClient } from './client';
import { createAppState, type AppState } from './state/app';
import { isUnlocked } from './state/profile';
import { TESTIDS } from './testids';
import { Spinner, Toasts } from './ui/common';
import { AppProvider, useApp } from './ui/context';
import { Onboarding, OnboardingFrame, SharePage } from './ui/Onboarding';
import { Shell } from './ui/Shell';

function NoBackend() {
  return (
    <main className="onboarding">
      <div className="onboarding__card" data-testid={TESTIDS.noBackend}>
        <div className="brand">
          <span className="brand__mark" aria-hidden="true">
            ✦
          </span>
          <span className="brand__name">Sirius Stream</span>
        </div>
        <h1 className="onboarding__title">No backend connected</h1>
        <p className="onboarding__lead">
          This page is the app's interface only. It needs the Sirius Stream desktop app, or the web host started with
          <code> npm run web</code>, to reach the network.
        </p>
      </div>
    </main>
  );
}

function Startup() {
  const app = useApp();
  const loadError = useStore(app.profile, (s) => s.loadError);
  const loading = useStore(app.profile, (s) => s.loading);
  return (
    <OnboardingFrame>
      <div className="startup" data-testid={TESTIDS.startup}>
        {loadError === null ? (
          <>
            <Spinner label="Starting" />
            <p className="onboarding__lead">Starting…</p>
          </>
        ) : (
          <>
            <h1 className="onboarding__title">The background service does not answer</h1>
            <p className="onboarding__lead">{loadError}</p>
            <button type="button" className="button button--primary" disabled={loading} data-testid={TESTIDS.startupRetry} onClick={() => void app.refresh()}>
              Try again
            </button>
          </>
        )}
      </div>
    </OnboardingFrame>
  );
}

function Root() {
  const { profile } = useApp();
  const status = useStore(profile, (s) => s.status);
  const busy = useStore(profile, (s) => s.busy);
  const justCreated = useStore(profile, (s) => s.justCreated);
  // Once the messenger was shown, a later "starting" (reconnecting) keeps it on screen with a
  // banner instead of going back to the onboarding steps.
  const entered = useRef(false);
  let page;
  if (status === null) page = <Startup />;
  else if (!isUnlocked(status) || busy === 'create' || busy === 'unlock') page = <Onboarding />;
  else if (status.state === 'starting' && !entered.current) page = <Onboarding />;
  else if (justCreated) page = <SharePage />;
  else page = <Shell />;
  useEffect(() => {
    if (page.type === Shell) entered.current = true;
    else if (status !== null && !isUnlocked(status)) entered.current = false;
  });
  return (
    <>
      {page}
      {page.type !== Shell && <Toasts />}
    </>
  );
}

export function App() {
  const [app] = useState<AppState | null>(() => {
    const bridge = getBridge();
    if (bridge === undefined) return null;
    const client = createClient(bridge, {
      onInvalidEvent: (event, reason) => console.warn(`Ignored a ${event} event that does not match the contract: ${reason}`),
    });
    return createAppState(client);
  });

  useEffect(() => (app === null ? undefined : app.start()), [app]);

  if (app === null) return <NoBackend />;
  return (
    <AppProvider app={app}>
      <Root />
    </AppProvider>
  );
}
