/**
 * Network: online state, the signed node list's age and size, circuits, channels, presence points,
 * entry guards and the access certificate's expiry. Live from `network.changed`.
 */
import type { ReactNode } from 'react';
import { useStore } from 'zustand';
import { formatAge, formatCount, formatDateTime, formatDuration } from '../lib/format';
import { listAgeNow } from '../state/network';
import { TESTIDS } from '../testids';
import { Spinner } from './common';
import { useApp, useNow } from './context';
import { RefreshIcon } from './icons';

export function Stat({ label, value, testId, note }: { readonly label: string; readonly value: ReactNode; readonly testId: string; readonly note?: ReactNode }) {
  return (
    <div className="stat">
      <span className="stat__label">{label}</span>
      <span className="stat__value" data-testid={testId}>
        {value}
      </span>
      {note !== undefined && <span className="stat__note">{note}</span>}
    </div>
  );
}

function certificateText(expiresAt: number | null, now: number): { value: string; note: string } {
  if (expiresAt === null) return { value: 'None yet', note: 'Issued by the authorities after registering' };
  if (expiresAt <= now) return { value: 'Expired', note: formatDateTime(expiresAt) };
  return { value: `in ${formatDuration(expiresAt - now)}`, note: formatDateTime(expiresAt) };
}

export function NetworkScreen() {
  const { network } = useApp();
  const status = useStore(network, (s) => s.status);
  const receivedAt = useStore(network, (s) => s.receivedAt);
  const loading = useStore(network, (s) => s.loading);
  const error = useStore(network, (s) => s.error);
  const now = useNow(1000);
  const age = listAgeNow({ status, receivedAt }, now);

  return (
    <div className="page">
      <header className="page__header">
        <h1 className="page__title">Network</h1>
        <button type="button" className="button button--ghost" disabled={loading} data-testid={TESTIDS.networkRefresh} onClick={() => void network.getState().load()}>
          <RefreshIcon size={16} /> Refresh
        </button>
      </header>
      <div className="page__body">
        {error !== null && <p className="callout callout--warn">{error}</p>}
        {status === null ? (
          <div className="pane-note">
            <Spinner label="Loading network status" />
          </div>
        ) : (
          <>
            <section className="card card--hero">
              <span className={`pill ${status.online ? 'pill--ok' : 'pill--off'}`} data-testid={TESTIDS.networkOnline} data-online={status.online ? 'true' : 'false'}>
                <span className="pill__dot" />
                {status.online ? 'Online' : 'Offline'}
              </span>
              <div>
                <p className="card__title" data-testid={TESTIDS.networkName}>
                  {status.network}
                </p>
                <p className="card__lead" data-testid={TESTIDS.networkFile}>
                  {status.networkFile === null ? 'Embedded local network' : status.networkFile}
                </p>
              </div>
            </section>
            <section className="stats">
              <Stat
                label="Node list"
                value={age === null ? 'Not fetched' : formatAge(age)}
                testId={TESTIDS.networkListAge}
                note="Signed by the discovery nodes"
              />
              <Stat label="Listed nodes" value={formatCount(status.listedNodes)} testId={TESTIDS.networkNodes} />
              <Stat label="Open circuits" value={formatCount(status.openCircuits)} testId={TESTIDS.networkCircuits} />
              <Stat label="Open channels" value={formatCount(status.openChannels)} testId={TESTIDS.networkChannels} note="Private chats in progress" />
              <Stat
                label="Access certificate"
                value={certificateText(status.certificateExpiresAt, now).value}
                testId={TESTIDS.networkCertExpiry}
                note={certificateText(status.certificateExpiresAt, now).note}
              />
            </section>
            <section className="card">
              <h2 className="card__title">Presence points</h2>
              <p className="card__lead">Nodes that announce you so others can reach you, without learning where you are.</p>
              {status.presencePoints.length === 0 ? (
                <p className="muted">None yet.</p>
              ) : (
                <ul className="rows rows--dense">
                  {status.presencePoints.map((point) => (
                    <li key={point.identity} className="row row--dense" data-testid={TESTIDS.networkPresenceRow} data-accepted={point.accepted ? 'true' : 'false'}>
                      <div className="row__body">
                        <p className="row__title">{point.nickname}</p>
                        <p className="row__meta row__meta--mono">{point.identity}</p>
                      </div>
                      <span className={`pill ${point.accepted ? 'pill--ok' : 'pill--wait'}`}>
                        <span className="pill__dot" />
                        {point.accepted ? 'Accepted' : 'Waiting'}
                      </span>
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <section className="card">
              <h2 className="card__title">Entry guards</h2>
              <p className="card__lead">The few nodes every circuit starts with, kept for a long time so fewer nodes ever see your address.</p>
              {status.guards.length === 0 ? (
                <p className="muted">None chosen yet.</p>
              ) : (
                <ul className="rows rows--dense">
                  {status.guards.map((guard) => (
                    <li key={guard.identity} className="row row--dense" data-testid={TESTIDS.networkGuardRow}>
                      <div className="row__body">
                        <p className="row__title">{guard.nickname}</p>
                        <p className="row__meta row__meta--mono">{guard.identity}</p>
                      </div>
                    </li>
                  ))}
                </ul>
              )}
            </section>
          </>
        )}
      </div>
    </div>
  );
}
