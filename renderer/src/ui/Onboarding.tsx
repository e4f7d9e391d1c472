/**
 * First screens: create an identity (display name, passphrase twice, strength hint) or unlock the
 * existing one; the steps of going online; then the identity string and its QR code to share.
 */
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { useStore } from 'zustand';
import { onlineProgress } from '../lib/progress';
import { MAX_PASSPHRASE, MIN_PASSPHRASE, passphraseStrength } from '../lib/passphrase';
import { nameProblem } from '../lib/validate';
import { TESTIDS } from '../testids';
import { ErrorBanner, IdentityCard, Spinner } from './common';
import { useApp } from './context';
import { CheckIcon, LockIcon } from './icons';

function Brand() {
  return (
    <div className="brand">
      <span className="brand__mark" aria-hidden="true">
        ✦
      </span>
      <span className="brand__name">Sirius Stream</span>
    </div>
  );
}

/** The centred card every onboarding page sits in. */
export function OnboardingFrame({ children, wide = false }: { readonly children: ReactNode; readonly wide?: boolean }) {
  return (
    <main className="onboarding">
      <div className={`onboarding__card ${wide ? 'onboarding__card--wide' : ''}`}>
        <Brand />
        <ErrorBanner />
        {children}
      </div>
    </main>
  );
}

function StrengthMeter({ passphrase }: { readonly passphrase: string }) {
  if (passphrase.length === 0) return null;
  const strength = passphraseStrength(passphrase);
  return (
    <div className={`strength strength--${strength.score}`} data-testid={TESTIDS.onboardingStrength} data-score={strength.score}>
      <span className="strength__bars" aria-hidden="true">
        <span />
        <span />
        <span />
        <span />
      </span>
      <span className="strength__text">
        <strong>{strength.label}.</strong> {strength.hint}
      </span>
    </div>
  );
}

function CreateForm() {
  const { profile } = useApp();
  const keychain = useStore(profile, (s) => s.status?.keyProtection === 'os-keychain');
  const busy = useStore(profile, (s) => s.busy !== null);
  const [name, setName] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [again, setAgain] = useState('');
  const [hint, setHint] = useState<string | null>(null);

  function problem(): string | null {
    const nameIssue = nameProblem(name);
    if (nameIssue !== null) return nameIssue === 'Enter a name.' ? 'Enter the name people will see.' : nameIssue;
    if (keychain && passphrase.length === 0 && again.length === 0) return null;
    if (passphrase.length < MIN_PASSPHRASE) return `The passphrase needs at least ${MIN_PASSPHRASE} characters.`;
    if (passphrase.length > MAX_PASSPHRASE) return `The passphrase can be at most ${MAX_PASSPHRASE} characters.`;
    if (passphrase !== again) return 'The two passphrases are not the same.';
    return null;
  }

  function submit(event: FormEvent): void {
    event.preventDefault();
    const issue = problem();
    setHint(issue);
    if (issue !== null) return;
    void profile.getState().create(name.trim(), passphrase.length > 0 ? passphrase : undefined);
  }

  return (
    <form className="form" onSubmit={submit} noValidate>
      <h1 className="onboarding__title">Create your identity</h1>
      <p className="onboarding__lead">
        Your identity is a key made on this computer. Nobody registers your name, number or address; people reach you through
        the network without learning where you are.
      </p>
      <label className="field">
        <span className="field__label">Display name</span>
        <input
          className="input"
          type="text"
          autoComplete="nickname"
          maxLength={128}
          value={name}
          onChange={(e) => setName(e.target.value)}
          data-testid={TESTIDS.onboardingName}
          autoFocus
        />
        <span className="field__help">Shown to the people you chat with. You can change it later.</span>
      </label>
      <label className="field">
        <span className="field__label">Passphrase{keychain ? ' (optional)' : ''}</span>
        <input
          className="input"
          type="password"
          autoComplete="new-password"
          value={passphrase}
          onChange={(e) => setPassphrase(e.target.value)}
          data-testid={TESTIDS.onboardingPassphrase}
        />
        <span className="field__help">
          {keychain
            ? 'Your keys are sealed by the system keychain. A passphrase adds a second lock.'
            : 'Seals your keys on this computer. It cannot be recovered if you forget it.'}
        </span>
      </label>
      <StrengthMeter passphrase={passphrase} />
      <label className="field">
        <span className="field__label">Passphrase again</span>
        <input
          className="input"
          type="password"
          autoComplete="new-password"
          value={again}
          onChange={(e) => setAgain(e.target.value)}
          data-testid={TESTIDS.onboardingPassphrase2}
        />
      </label>
      {hint !== null && (
        <p className="form__hint" role="alert" data-testid={TESTIDS.onboardingHint}>
          {hint}
        </p>
      )}
      <button type="submit" className="button button--primary button--wide" disabled={busy} data-testid={TESTIDS.onboardingCreate}>
        Create identity
      </button>
    </form>
  );
}

function UnlockForm() {
  const { profile } = useApp();
  const status = useStore(profile, (s) => s.status);
  const busy = useStore(profile, (s) => s.busy !== null);
  const keychain = status?.keyProtection === 'os-keychain';
  const [passphrase, setPassphrase] = useState('');
  const [hint, setHint] = useState<string | null>(null);

  function submit(event: FormEvent): void {
    event.preventDefault();
    if (!keychain && passphrase.length < MIN_PASSPHRASE) {
      setHint(passphrase.length === 0 ? 'Enter your passphrase.' : `Passphrases have at least ${MIN_PASSPHRASE} characters.`);
      return;
    }
    setHint(null);
    void profile
      .getState()
      .unlock(passphrase.length > 0 ? passphrase : undefined)
      .then((ok) => {
        if (!ok) setPassphrase('');
      });
  }

  return (
    <form className="form" onSubmit={submit} noValidate>
      <div className="onboarding__lock" aria-hidden="true">
        <LockIcon size={28} />
      </div>
      <h1 className="onboarding__title">Welcome back{status?.displayName !== undefined ? `, ${status.displayName}` : ''}</h1>
      <p className="onboarding__lead">
        {keychain ? 'Your keys are sealed by the system keychain.' : 'Enter your passphrase to unlock your keys and go online.'}
      </p>
      {!keychain && (
        <label className="field">
          <span className="field__label">Passphrase</span>
          <input
            className="input"
            type="password"
            autoComplete="current-password"
            value={passphrase}
            onChange={(e) => setPassphrase(e.target.value)}
            data-testid={TESTIDS.onboardingPassphrase}
            autoFocus
          />
        </label>
      )}
      {hint !== null && (
        <p className="form__hint" role="alert" data-testid={TESTIDS.onboardingHint}>
          {hint}
        </p>
      )}
      <button type="submit" className="button button--primary button--wide" disabled={busy} data-testid={TESTIDS.onboardingUnlock}>
        Unlock
      </button>
    </form>
  );
}

/** How often the network status is fetched while going online. */
const PROGRESS_POLL_MS = 1000;

function ProgressPanel({ first }: { readonly first: string }) {
  const { profile, network } = useApp();
  const status = useStore(profile, (s) => s.status);
  const net = useStore(network, (s) => s.status);
  const progress = onlineProgress(first, status, net);
  // Steps are read off the network status; no event marks each step, so ask for it meanwhile.
  useEffect(() => {
    const id = window.setInterval(() => void network.getState().load(), PROGRESS_POLL_MS);
    return () => window.clearInterval(id);
  }, [network]);
  return (
    <section className="progress" data-testid={TESTIDS.onboardingProgress} aria-live="polite">
      <div className="progress__head">
        <Spinner label={progress.current} />
        <h1 className="onboarding__title" data-testid={TESTIDS.onboardingStep}>
          {progress.current}
        </h1>
      </div>
      <p className="onboarding__lead">Every request travels through several relays, so no single node learns who you are and where you are.</p>
      <ol className="steps">
        {progress.steps.map((step) => (
          <li key={step.label} className={`steps__item steps__item--${step.state}`}>
            <span className="steps__mark" aria-hidden="true">
              {step.state === 'done' ? <CheckIcon size={14} /> : null}
            </span>
            <span>{step.label}</span>
            <span className="sr-only">{step.state === 'done' ? ' (done)' : step.state === 'active' ? ' (in progress)' : ''}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** Shown once after the identity was made: the string and QR code to give to others. */
export function SharePage() {
  const { profile } = useApp();
  const status = useStore(profile, (s) => s.status);
  const identity = status?.identity;
  return (
    <OnboardingFrame wide>
      <h1 className="onboarding__title">You are ready{status?.displayName !== undefined ? `, ${status.displayName}` : ''}</h1>
      <p className="onboarding__lead">Share your identity string with the people you want to chat with, or let them scan the code.</p>
      {identity !== undefined ? <IdentityCard identity={identity} /> : <p className="muted">Your identity string is not available yet.</p>}
      <button
        type="button"
        className="button button--primary button--wide"
        data-testid={TESTIDS.onboardingContinue}
        onClick={() => profile.getState().finishOnboarding()}
      >
        Start chatting
      </button>
    </OnboardingFrame>
  );
}

/** Create, unlock or going-online, depending on the profile's state. */
export function Onboarding() {
  const { profile } = useApp();
  const state = useStore(profile, (s) => s.status?.state ?? 'none');
  const busy = useStore(profile, (s) => s.busy);
  const justCreated = useStore(profile, (s) => s.justCreated);
  const showProgress = busy === 'create' || busy === 'unlock' || state === 'starting';
  const first = busy === 'create' || justCreated ? 'Creating your keys' : 'Unlocking your keys';
  return (
    <OnboardingFrame>
      {showProgress ? <ProgressPanel first={first} /> : state === 'none' ? <CreateForm /> : <UnlockForm />}
    </OnboardingFrame>
  );
}
