/**
 * Broadcast: go live from the camera and microphone. A preview, the choice of devices (listed once
 * access was granted), the target bitrate and viewer count, "publish as a public stream" with a
 * title and description, start/stop, the live figures from `broadcast.stats` (viewers, nodes,
 * bitrate), and sending the invite to a contact through the chat.
 */
import { useEffect, useRef, useState } from 'react';
import { useStore } from 'zustand';
import { MAX_STREAM_DESCRIPTION, MAX_STREAM_TITLE } from '../../../app/contract';
import { formatCount } from '../lib/format';
import { formatBitrate } from '../lib/media/frames';
import { broadcastFormProblem } from '../state/broadcast';
import { TESTIDS } from '../testids';
import { Spinner, Switch } from './common';
import { useApp, useNow } from './context';
import { Stat } from './NetworkScreen';
import './media.css';

export const BroadcastIcon = ({ size = 20 }: { readonly size?: number }) => (
  <svg className="icon" width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
    <rect x="2.5" y="6" width="13" height="12" rx="2.5" />
    <path d="m15.5 10.5 6-3.5v10l-6-3.5" />
  </svg>
);

function Preview() {
  const { broadcast } = useApp();
  const stream = useStore(broadcast, (s) => s.stream);
  const capture = useStore(broadcast, (s) => s.capture);
  const problem = useStore(broadcast, (s) => s.captureProblem);
  const live = useStore(broadcast, (s) => s.status?.live === true);
  const video = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    const el = video.current;
    if (el === null) return;
    el.srcObject = stream;
    if (stream !== null) void el.play().catch(() => undefined);
  }, [stream]);

  const hasVideo = stream !== null && stream.getVideoTracks().length > 0;
  return (
    <div className="preview">
      <video ref={video} className={`preview__video ${hasVideo ? '' : 'preview__video--hidden'}`} muted playsInline autoPlay data-testid={TESTIDS.broadcastPreview} />
      {!hasVideo && (
        <div className="preview__empty">
          {capture === 'opening' ? (
            <Spinner label="Opening the camera" />
          ) : stream !== null ? (
            <p>Sound only: no camera.</p>
          ) : (
            <>
              <p>{live ? 'The camera is off.' : 'See yourself before going live.'}</p>
              <button type="button" className="button button--secondary" data-testid={TESTIDS.broadcastCameraOn} onClick={() => void broadcast.getState().preview()}>
                Turn camera on
              </button>
            </>
          )}
        </div>
      )}
      {problem !== null && (
        <p className="preview__problem" role="alert" data-testid={TESTIDS.broadcastCameraProblem}>
          {problem} {!live && 'In the desktop app the camera opens when the broadcast starts.'}
        </p>
      )}
    </div>
  );
}

function Devices() {
  const { broadcast } = useApp();
  const devices = useStore(broadcast, (s) => s.devices);
  const choice = useStore(broadcast, (s) => s.choice);
  const busy = useStore(broadcast, (s) => s.capture === 'opening');
  if (devices.cameras.length === 0 && devices.microphones.length === 0) {
    return <p className="field__help">The cameras and microphones are listed once the browser lets the app use them.</p>;
  }
  return (
    <div className="devices">
      <label className="field">
        <span className="field__label">Camera</span>
        <select
          className="input"
          value={choice.cameraId ?? 'none'}
          disabled={busy}
          data-testid={TESTIDS.broadcastCamera}
          onChange={(e) => void broadcast.getState().choose({ cameraId: e.target.value === 'none' ? null : e.target.value })}
        >
          <option value="">Default camera</option>
          {devices.cameras.map((d) => (
            <option key={d.deviceId} value={d.deviceId}>
              {d.label}
            </option>
          ))}
          <option value="none">No camera</option>
        </select>
      </label>
      <label className="field">
        <span className="field__label">Microphone</span>
        <select
          className="input"
          value={choice.microphoneId ?? 'none'}
          disabled={busy}
          data-testid={TESTIDS.broadcastMicrophone}
          onChange={(e) => void broadcast.getState().choose({ microphoneId: e.target.value === 'none' ? null : e.target.value })}
        >
          <option value="">Default microphone</option>
          {devices.microphones.map((d) => (
            <option key={d.deviceId} value={d.deviceId}>
              {d.label}
            </option>
          ))}
          <option value="none">No microphone</option>
        </select>
      </label>
    </div>
  );
}

function StreamForm({ live }: { readonly live: boolean }) {
  const { broadcast } = useApp();
  const form = useStore(broadcast, (s) => s.form);
  const busy = useStore(broadcast, (s) => s.busy);
  const [bitrate, setBitrate] = useState(String(form.bitrateKbps));
  const [viewers, setViewers] = useState(String(form.maxViewers));
  const [hint, setHint] = useState<string | null>(null);
  const locked = live || busy !== null;

  function start(): void {
    const problem = broadcastFormProblem(form);
    setHint(problem);
    if (problem === null) void broadcast.getState().start();
  }

  return (
    <section className="card">
      <h2 className="card__title">Stream</h2>
      <p className="card__lead">
        Video and sound are encrypted end to end; relay nodes pass them on without being able to read them. A private stream is seen only by
        those you send the invite to.
      </p>
      <div className="broadcast-form">
        <label className="field">
          <span className="field__label">Video bitrate (kbit/s)</span>
          <input
            type="number"
            className="input"
            min={100}
            max={20000}
            step={100}
            value={bitrate}
            disabled={locked}
            data-testid={TESTIDS.broadcastBitrate}
            onChange={(e) => {
              setBitrate(e.target.value);
              setHint(null);
              broadcast.getState().setForm({ bitrateKbps: e.target.value.trim() === '' ? Number.NaN : Number(e.target.value) });
            }}
          />
        </label>
        <label className="field">
          <span className="field__label">Viewers at most</span>
          <input
            type="number"
            className="input"
            min={1}
            max={100000}
            value={viewers}
            disabled={locked}
            data-testid={TESTIDS.broadcastMaxViewers}
            onChange={(e) => {
              setViewers(e.target.value);
              setHint(null);
              broadcast.getState().setForm({ maxViewers: e.target.value.trim() === '' ? Number.NaN : Number(e.target.value) });
            }}
          />
        </label>
      </div>
      <Switch
        checked={form.publish}
        disabled={locked}
        onChange={(publish) => broadcast.getState().setForm({ publish })}
        label="Publish as a public stream"
        description="Listed for everyone on the network, who can then watch it. Your identity is still not tied to the stream."
        testId={TESTIDS.broadcastPublic}
      />
      {form.publish && (
        <div className="broadcast-form broadcast-form--public">
          <label className="field">
            <span className="field__label">Title</span>
            <input
              className="input"
              maxLength={MAX_STREAM_TITLE}
              value={form.title}
              disabled={locked}
              data-testid={TESTIDS.broadcastTitle}
              onChange={(e) => broadcast.getState().setForm({ title: e.target.value })}
            />
          </label>
          <label className="field">
            <span className="field__label">Description</span>
            <textarea
              className="input"
              rows={2}
              maxLength={MAX_STREAM_DESCRIPTION}
              value={form.description}
              disabled={locked}
              data-testid={TESTIDS.broadcastDescription}
              onChange={(e) => broadcast.getState().setForm({ description: e.target.value })}
            />
          </label>
        </div>
      )}
      {hint !== null && (
        <p className="form__hint" role="alert">
          {hint}
        </p>
      )}
      <div className="form__actions">
        {live ? (
          <button type="button" className="button button--danger" disabled={busy !== null} data-testid={TESTIDS.broadcastStop} onClick={() => void broadcast.getState().stop()}>
            {busy === 'stop' ? 'Stopping…' : 'Stop broadcast'}
          </button>
        ) : (
          <button type="button" className="button button--primary" disabled={busy !== null} data-testid={TESTIDS.broadcastStart} onClick={start}>
            {busy === 'start' ? 'Going live…' : 'Go live'}
          </button>
        )}
      </div>
    </section>
  );
}

function ShareCard() {
  const { broadcast, contacts } = useApp();
  const list = useStore(contacts, (s) => s.contacts);
  const busy = useStore(broadcast, (s) => s.busy);
  const [peer, setPeer] = useState('');
  const chosen = list.find((c) => c.key === peer) ?? list[0];
  return (
    <section className="card">
      <h2 className="card__title">Invite viewers</h2>
      <p className="card__lead">The invite holds the stream’s key. It is sent only inside an end-to-end encrypted chat, so no node ever sees it.</p>
      {list.length === 0 ? (
        <p className="muted">Add a contact first to send them an invite.</p>
      ) : (
        <div className="share">
          <select className="input" aria-label="Contact" value={chosen?.key ?? ''} data-testid={TESTIDS.broadcastShareContact} onChange={(e) => setPeer(e.target.value)}>
            {list.map((c) => (
              <option key={c.key} value={c.key}>
                {c.name}
              </option>
            ))}
          </select>
          <button
            type="button"
            className="button button--primary"
            disabled={busy !== null || chosen === undefined}
            data-testid={TESTIDS.broadcastShare}
            onClick={() => {
              if (chosen !== undefined) void broadcast.getState().share(chosen.key, chosen.name);
            }}
          >
            {busy === 'share' ? 'Sending…' : 'Send invite'}
          </button>
        </div>
      )}
    </section>
  );
}

function Figures() {
  const { broadcast } = useApp();
  const status = useStore(broadcast, (s) => s.status);
  // The encoder's own figures are read once a second.
  useNow(1000);
  const local = broadcast.getState().pipelineStats();
  if (status === null || status.streamId === undefined) return null;
  return (
    <section className="stats">
      <Stat label="Viewers" value={formatCount(status.viewers)} testId={TESTIDS.broadcastViewers} />
      <Stat label="Bitrate" value={formatBitrate(status.bitrateBps)} testId={TESTIDS.broadcastRate} />
      <Stat label="Relay nodes" value={formatCount(status.nodes)} testId={TESTIDS.broadcastNodes} />
      <Stat label="Frames sent" value={formatCount(status.framesSent)} testId={TESTIDS.broadcastFramesSent} note={status.relayFramesDropped > 0 ? `${formatCount(status.relayFramesDropped)} dropped by relays for slow viewers` : undefined} />
      <Stat
        label="Frames skipped"
        value={formatCount(status.framesSkipped + (local?.framesSkipped ?? 0) + (local?.droppedLocal ?? 0))}
        testId={TESTIDS.broadcastSkipped}
        note="To keep up: the stream jumps to the next keyframe"
      />
      {local !== null && local.videoCodec !== null && (
        <Stat label="Video" value={local.videoCodec.startsWith('avc1') ? 'H.264' : local.videoCodec.toUpperCase()} testId={TESTIDS.broadcastCodec} note={`${local.width}×${local.height}${local.audio ? ' · Opus sound' : ''}`} />
      )}
    </section>
  );
}

export function BroadcastScreen() {
  const { broadcast } = useApp();
  const status = useStore(broadcast, (s) => s.status);
  const sending = useStore(broadcast, (s) => s.sending);
  const busy = useStore(broadcast, (s) => s.busy);
  const live = status?.live === true;

  useEffect(() => {
    void broadcast.getState().load();
  }, [broadcast]);

  return (
    <div className="page page--wide">
      <header className="page__header">
        <h1 className="page__title">Broadcast</h1>
        <span className={`pill ${live ? 'pill--live' : 'pill--off'}`} data-testid={TESTIDS.broadcastLive} data-live={live ? 'true' : 'false'}>
          <span className="pill__dot" />
          {live ? (status?.isPublic ? 'Live · public' : 'Live · private') : 'Not live'}
        </span>
      </header>
      <div className="page__body">
        {live && !sending && busy === null && (
          <div className="callout callout--warn">
            <p>The broadcast is running, but this window is not sending video to it.</p>
            <button type="button" className="button button--secondary" data-testid={TESTIDS.broadcastResume} onClick={() => void broadcast.getState().resume()}>
              Send from this camera
            </button>
          </div>
        )}
        {!live && status?.endedReason !== undefined && (
          <p className="callout callout--warn" data-testid={TESTIDS.broadcastEnded}>
            The last broadcast ended: {status.endedReason}
          </p>
        )}
        <div className="broadcast-grid">
          <div className="broadcast-grid__column">
            <section className="card">
              <h2 className="card__title">Camera and microphone</h2>
              <Preview />
              <Devices />
            </section>
            <Figures />
          </div>
          <div className="broadcast-grid__column">
            {live && <ShareCard />}
            <StreamForm live={live} />
          </div>
        </div>
      </div>
    </div>
  );
}
