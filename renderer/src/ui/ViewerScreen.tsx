/**
 * Watch: join a live stream from an invite (pasted here, or the Watch button of an invite card in
 * a chat) or from the list of public streams, and play it: decoded video on a <canvas>, sound
 * through the speakers in step with it, and an overlay with latency, frame rate, bitrate and
 * dropped frames. Also the invite card a chat shows for a `sirius-stream:` message.
 */
import { useEffect, useRef, useState } from 'react';
import { useStore } from 'zustand';
import { formatCount } from '../lib/format';
import { formatBitrate } from '../lib/media/frames';
import { StreamPlayer, type PlayerStats } from '../lib/media/player';
import { TESTIDS } from '../testids';
import { Spinner } from './common';
import { useApp, useNow } from './context';
import { RefreshIcon } from './icons';
import './media.css';

export const WatchIcon = ({ size = 20 }: { readonly size?: number }) => (
  <svg className="icon" width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
    <rect x="2.5" y="4.5" width="19" height="13" rx="2.5" />
    <path d="m10 8.5 4.5 2.5-4.5 2.5Z" />
    <path d="M8 21h8" />
  </svg>
);

/** A chat message that is a stream invite: a card with a Watch button (for invites received). */
export function InviteCard({ text, direction }: { readonly text: string; readonly direction: 'in' | 'out' }) {
  const { viewer, ui } = useApp();
  const phase = useStore(viewer, (s) => s.phase);
  return (
    <div className="invite-card" data-testid={TESTIDS.inviteCard} data-direction={direction}>
      <span className="invite-card__icon" aria-hidden="true">
        <WatchIcon size={22} />
      </span>
      <span className="invite-card__body">
        <span className="invite-card__title">Live stream invite</span>
        <span className="invite-card__note">{direction === 'in' ? 'Encrypted end to end; only people with this invite can watch.' : 'You sent an invite to your live stream.'}</span>
      </span>
      {direction === 'in' && (
        <button
          type="button"
          className="button button--primary invite-card__watch"
          disabled={phase === 'joining'}
          data-testid={TESTIDS.inviteWatch}
          onClick={() => {
            ui.getState().navigate('watch');
            void viewer.getState().join(text);
          }}
        >
          Watch
        </button>
      )}
    </div>
  );
}

function Overlay({ player }: { readonly player: StreamPlayer | null }) {
  const { viewer } = useApp();
  const stats = useStore(viewer, (s) => s.stats);
  const phase = useStore(viewer, (s) => s.phase);
  useNow(500);
  const local: PlayerStats | null = player?.stats ?? null;
  const latency = local?.latencyMs ?? (stats !== null && stats.framesPlayed > 0 ? Math.round(stats.latencyMs) : null);
  const dropped = (stats?.framesDropped ?? 0) + (local?.framesDropped ?? 0);
  return (
    <div className="overlay" data-testid={TESTIDS.viewerOverlay}>
      {phase === 'joining' && (
        <span className="overlay__item">
          <Spinner label="Joining" /> Joining…
        </span>
      )}
      <span className="overlay__item" title="From capture at the broadcaster to this screen">
        Latency <b data-testid={TESTIDS.viewerLatency}>{latency === null ? '—' : `${formatCount(latency)} ms`}</b>
      </span>
      <span className="overlay__item">
        <b data-testid={TESTIDS.viewerFps}>{local === null ? '—' : local.fps.toFixed(local.fps < 10 ? 1 : 0)}</b> fps
      </span>
      <span className="overlay__item">
        <b data-testid={TESTIDS.viewerBitrate}>{formatBitrate(stats?.bitrateBps ?? 0)}</b>
      </span>
      <span className="overlay__item" title="Frames dropped: lost, late, failed checks, or skipped to the next keyframe">
        Dropped <b data-testid={TESTIDS.viewerDropped}>{formatCount(dropped)}</b>
      </span>
      {(stats?.badSignatures ?? 0) > 0 && <span className="overlay__item overlay__item--warn">{formatCount(stats!.badSignatures)} bad signatures</span>}
    </div>
  );
}

function Stage() {
  const { viewer } = useApp();
  const leaving = useStore(viewer, (s) => s.leaving);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [player, setPlayer] = useState<StreamPlayer | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useNow(1000);

  useEffect(() => {
    const el = canvas.current;
    if (el === null) return;
    if (!StreamPlayer.supported()) {
      setProblem('This browser cannot decode the video (it has no WebCodecs).');
      return;
    }
    let p: StreamPlayer;
    try {
      p = new StreamPlayer(el);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : 'The video cannot be shown here.');
      return;
    }
    const off = viewer.getState().setSink((frames) => p.push(frames));
    setPlayer(p);
    return () => {
      off();
      p.close();
      setPlayer(null);
    };
    // One player for the whole visit: frames may come before view.join's answer names the stream.
  }, [viewer]);

  const blocked = player?.stats.audio === 'blocked';
  return (
    <section className="stage-wrap">
      <div className="stage">
        <canvas ref={canvas} className="stage__canvas" width={1280} height={720} data-testid={TESTIDS.viewerCanvas} aria-label="Live video" />
        <Overlay player={player} />
        {player !== null && player.stats.framesDrawn === 0 && <div className="stage__wait">Waiting for the next keyframe…</div>}
      </div>
      {problem !== null && <p className="callout callout--warn">{problem}</p>}
      <div className="stage__actions">
        {blocked && (
          <button type="button" className="button button--secondary" data-testid={TESTIDS.viewerSound} onClick={() => void player?.resumeAudio()}>
            Turn sound on
          </button>
        )}
        <button type="button" className="button button--danger" disabled={leaving} data-testid={TESTIDS.viewerLeave} onClick={() => void viewer.getState().leave()}>
          {leaving ? 'Leaving…' : 'Leave'}
        </button>
      </div>
    </section>
  );
}

function JoinCard() {
  const { viewer } = useApp();
  const phase = useStore(viewer, (s) => s.phase);
  const [text, setText] = useState('');
  return (
    <section className="card">
      <h2 className="card__title">Join with an invite</h2>
      <p className="card__lead">Paste an invite you received (it starts with “sirius-stream:”), or press Watch on an invite in a chat.</p>
      <form
        className="join"
        onSubmit={(e) => {
          e.preventDefault();
          void viewer.getState().join(text).then((joined) => {
            if (joined) setText('');
          });
        }}
      >
        <input
          className="input input--mono"
          placeholder="sirius-stream:…"
          aria-label="Stream invite"
          value={text}
          maxLength={1024}
          data-testid={TESTIDS.viewerInvite}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" className="button button--primary" disabled={text.trim().length === 0 || phase === 'joining'} data-testid={TESTIDS.viewerJoin}>
          Watch
        </button>
      </form>
    </section>
  );
}

function PublicList() {
  const { viewer } = useApp();
  const list = useStore(viewer, (s) => s.publicStreams);
  const loading = useStore(viewer, (s) => s.publicLoading);
  const error = useStore(viewer, (s) => s.publicError);
  const phase = useStore(viewer, (s) => s.phase);
  useEffect(() => {
    void viewer.getState().loadPublic();
  }, [viewer]);
  return (
    <section className="card">
      <h2 className="card__title">
        Public streams
        <button type="button" className="icon-button" aria-label="Refresh" title="Refresh" disabled={loading} data-testid={TESTIDS.publicStreamsRefresh} onClick={() => void viewer.getState().loadPublic()}>
          <RefreshIcon size={16} />
        </button>
      </h2>
      {error !== null && <p className="callout callout--warn">{error}</p>}
      {loading && list.length === 0 ? (
        <Spinner label="Loading public streams" />
      ) : list.length === 0 ? (
        <p className="muted" data-testid={TESTIDS.publicStreamsEmpty}>
          No public streams right now.
        </p>
      ) : (
        <ul className="rows">
          {list.map((s) => (
            <li key={s.streamId} className="row" data-testid={TESTIDS.publicStreamRow} data-stream-id={s.streamId}>
              <span className="live-dot" aria-hidden="true" />
              <span className="row__body">
                <span className="row__title">{s.title || 'Untitled stream'}</span>
              </span>
              <span className="row__actions">
                <button type="button" className="button button--secondary" disabled={phase === 'joining'} data-testid={TESTIDS.publicStreamWatch} onClick={() => void viewer.getState().join(s.invite)}>
                  Watch
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function ViewerScreen() {
  const { viewer } = useApp();
  const phase = useStore(viewer, (s) => s.phase);
  const reason = useStore(viewer, (s) => s.endedReason);
  return (
    <div className="page page--wide">
      <header className="page__header">
        <h1 className="page__title">Watch</h1>
        <span className={`pill ${phase === 'watching' ? 'pill--live' : 'pill--off'}`} data-testid={TESTIDS.viewerState} data-phase={phase}>
          <span className="pill__dot" />
          {phase === 'watching' ? 'Watching' : phase === 'joining' ? 'Joining…' : phase === 'ended' ? 'Ended' : 'Not watching'}
        </span>
      </header>
      <div className="page__body">
        {phase === 'ended' && (
          <div className="callout callout--warn" data-testid={TESTIDS.viewerEnded}>
            <p>The stream ended. {reason}</p>
            <button type="button" className="button button--secondary" data-testid={TESTIDS.viewerBack} onClick={() => viewer.getState().dismissEnded()}>
              Back
            </button>
          </div>
        )}
        {phase === 'joining' || phase === 'watching' ? (
          <Stage />
        ) : (
          <>
            <JoinCard />
            <PublicList />
          </>
        )}
      </div>
    </div>
  );
}
