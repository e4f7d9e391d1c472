/**
 * Relay: "also run as relay node". A switch, the bandwidth cap (slider on a logarithmic scale and
 * an exact number), and live figures from `relay.changed`.
 */
import { useEffect, useState } from 'react';
import { useStore } from 'zustand';
import { formatBytes, formatCount, formatDuration } from '../lib/format';
import { SLIDER_STEPS, kbpsToSlider, sliderToKBps } from '../lib/bandwidth';
import { MAX_BANDWIDTH_KBPS, MIN_BANDWIDTH_KBPS, bandwidthProblem } from '../state/relay';
import { TESTIDS } from '../testids';
import { Spinner, Switch } from './common';
import { useApp } from './context';
import { Stat } from './NetworkScreen';

function BandwidthCard({ current, busy }: { readonly current: number; readonly busy: boolean }) {
  const { relay } = useApp();
  const [text, setText] = useState(String(current));
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => setText(String(current)), [current]);
  const value = Number(text);
  const changed = text.trim() !== '' && value !== current;

  function apply(): void {
    const issue = text.trim() === '' ? 'Enter a number of KB/s.' : bandwidthProblem(value);
    setProblem(issue);
    if (issue !== null || !changed) return;
    void relay.getState().setBandwidth(value);
  }

  return (
    <section className="card">
      <h2 className="card__title">Bandwidth cap</h2>
      <p className="card__lead">The most the relay may use in each direction. Your own chats are not limited by it.</p>
      <div className="bandwidth">
        <input
          type="range"
          className="bandwidth__slider"
          min={0}
          max={SLIDER_STEPS}
          value={kbpsToSlider(Number.isFinite(value) && value > 0 ? value : current)}
          aria-label="Bandwidth cap"
          aria-valuetext={`${text} KB/s`}
          data-testid={TESTIDS.relayBandwidthSlider}
          onChange={(e) => {
            setText(String(sliderToKBps(Number(e.target.value))));
            setProblem(null);
          }}
        />
        <label className="bandwidth__number">
          <input
            type="number"
            className="input"
            min={MIN_BANDWIDTH_KBPS}
            max={MAX_BANDWIDTH_KBPS}
            step={1}
            value={text}
            aria-label="Bandwidth cap in KB/s"
            data-testid={TESTIDS.relayBandwidth}
            onChange={(e) => {
              setText(e.target.value);
              setProblem(null);
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter') apply();
            }}
          />
          <span>KB/s</span>
        </label>
        <button type="button" className="button button--primary" disabled={busy || !changed} data-testid={TESTIDS.relayBandwidthApply} onClick={apply}>
          Apply
        </button>
      </div>
      {problem !== null && (
        <p className="form__hint" role="alert">
          {problem}
        </p>
      )}
    </section>
  );
}

export function RelayScreen() {
  const { relay } = useApp();
  const status = useStore(relay, (s) => s.status);
  const busy = useStore(relay, (s) => s.busy);
  const error = useStore(relay, (s) => s.error);

  if (status === null) {
    return (
      <div className="page">
        <header className="page__header">
          <h1 className="page__title">Relay node</h1>
        </header>
        <div className="page__body">
          {error !== null ? <p className="callout callout--warn">{error}</p> : <Spinner label="Loading relay status" />}
        </div>
      </div>
    );
  }

  const state = status.running ? 'Running' : !status.enabled ? 'Off' : status.problem !== undefined ? 'Not running' : 'Starting…';
  return (
    <div className="page">
      <header className="page__header">
        <h1 className="page__title">Relay node</h1>
      </header>
      <div className="page__body">
        <section className="card">
          <Switch
            checked={status.enabled}
            disabled={busy}
            onChange={(enabled) => void relay.getState().setEnabled(enabled)}
            label="Also run as relay node"
            description="Your computer forwards encrypted traffic for others. It cannot read it, and it makes the network stronger for everyone."
            testId={TESTIDS.relayToggle}
          />
          <div className="relay-state">
            <span
              className={`pill ${status.running ? 'pill--ok' : status.enabled && status.problem === undefined ? 'pill--wait' : 'pill--off'}`}
              data-testid={TESTIDS.relayRunning}
              data-running={status.running ? 'true' : 'false'}
            >
              <span className="pill__dot" />
              {state}
            </span>
            <span className={`pill ${status.listed ? 'pill--ok' : 'pill--off'}`} data-testid={TESTIDS.relayListed} data-listed={status.listed ? 'true' : 'false'}>
              <span className="pill__dot" />
              {status.listed ? 'Listed in the signed node list' : 'Not in the node list'}
            </span>
          </div>
          {status.problem !== undefined && (
            <p className="callout callout--warn" data-testid={TESTIDS.relayProblem}>
              {status.problem}
            </p>
          )}
        </section>
        <section className="stats">
          <Stat label="Circuits now" value={formatCount(status.circuits)} testId={TESTIDS.relayCircuits} />
          <Stat label="Circuits in total" value={formatCount(status.circuitsTotal)} testId={TESTIDS.relayCircuitsTotal} />
          <Stat label="Sent" value={formatBytes(status.bytesUp)} testId={TESTIDS.relayBytesUp} />
          <Stat label="Received" value={formatBytes(status.bytesDown)} testId={TESTIDS.relayBytesDown} />
          <Stat label="Uptime" value={status.running ? formatDuration(status.uptimeMs) : '—'} testId={TESTIDS.relayUptime} />
        </section>
        {(status.nickname !== null || status.address !== null || status.identity !== null) && (
          <section className="card">
            <h2 className="card__title">This node</h2>
            <dl className="facts">
              {status.nickname !== null && (
                <>
                  <dt>Nickname</dt>
                  <dd data-testid={TESTIDS.relayNickname}>{status.nickname}</dd>
                </>
              )}
              {status.address !== null && (
                <>
                  <dt>Address</dt>
                  <dd className="mono" data-testid={TESTIDS.relayAddress}>
                    {status.address}
                  </dd>
                </>
              )}
              {status.identity !== null && (
                <>
                  <dt>Node identity</dt>
                  <dd className="mono">{status.identity}</dd>
                </>
              )}
            </dl>
          </section>
        )}
        <BandwidthCard current={status.bandwidthKBps} busy={busy} />
      </div>
    </div>
  );
}
