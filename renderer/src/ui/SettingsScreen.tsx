/**
 * Settings: display name, network file, accepting strangers, read receipts, relay bandwidth; the
 * identity string to share; locking the profile; the app's version.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useStore } from 'zustand';
import { settingsChange, toDraft, type SettingsDraft } from '../lib/settings-form';
import type { Settings } from '../state/settings';
import { TESTIDS } from '../testids';
import { IdentityCard, Spinner, Switch } from './common';
import { useApp } from './context';
import { LockIcon } from './icons';

function SettingsForm({ settings }: { readonly settings: Settings }) {
  const { settings: store } = useApp();
  const saving = useStore(store, (s) => s.saving);
  const [draft, setDraft] = useState<SettingsDraft>(() => toDraft(settings));
  const [hint, setHint] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const shown = useRef(settings);
  // New settings from the backend replace the form's values unless the person is editing them.
  useEffect(() => {
    const before = toDraft(shown.current);
    shown.current = settings;
    setDraft((d) => (JSON.stringify(d) === JSON.stringify(before) ? toDraft(settings) : d));
  }, [settings]);

  const result = settingsChange(settings, draft);
  const dirty = 'problem' in result || Object.keys(result.change).length > 0;

  function edit(update: Partial<SettingsDraft>): void {
    setDraft((d) => ({ ...d, ...update }));
    setSaved(false);
    setHint(null);
  }

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    if ('problem' in result) {
      setHint(result.problem);
      return;
    }
    if (await store.getState().save(result.change)) setSaved(true);
  }

  return (
    <form className="card form" onSubmit={(e) => void submit(e)} noValidate>
      <h2 className="card__title">Preferences</h2>
      <label className="field">
        <span className="field__label">Display name</span>
        <input
          className="input"
          type="text"
          maxLength={128}
          value={draft.displayName}
          onChange={(e) => edit({ displayName: e.target.value })}
          data-testid={TESTIDS.settingsDisplayName}
        />
        <span className="field__help">What the people you chat with see.</span>
      </label>
      <Switch
        checked={draft.acceptStrangers}
        onChange={(acceptStrangers) => edit({ acceptStrangers })}
        label="Accept chats from people who are not contacts"
        description="When off, their first message waits as a request in Contacts."
        testId={TESTIDS.settingsAcceptStrangers}
      />
      <Switch
        checked={draft.readReceipts}
        onChange={(readReceipts) => edit({ readReceipts })}
        label="Send read receipts"
        description="Lets others see when you have read their messages."
        testId={TESTIDS.settingsReadReceipts}
      />
      <label className="field">
        <span className="field__label">Network file</span>
        <input
          className="input input--mono"
          type="text"
          spellCheck={false}
          placeholder="Empty: the embedded local network"
          value={draft.networkFile}
          onChange={(e) => edit({ networkFile: e.target.value })}
          data-testid={TESTIDS.settingsNetworkFile}
        />
        <span className="field__help">The path of a network file naming the discovery nodes and their keys. Leave empty for the local network built into the app.</span>
      </label>
      <label className="field">
        <span className="field__label">Relay bandwidth cap (KB/s)</span>
        <input
          className="input input--short"
          type="number"
          min={16}
          max={1_000_000}
          step={1}
          value={draft.relayBandwidthKBps}
          onChange={(e) => edit({ relayBandwidthKBps: e.target.value })}
          data-testid={TESTIDS.settingsRelayBandwidth}
        />
        <span className="field__help">Used when the app also runs as a relay node.</span>
      </label>
      {hint !== null && (
        <p className="form__hint" role="alert" data-testid={TESTIDS.settingsHint}>
          {hint}
        </p>
      )}
      <div className="form__actions">
        {saved && !dirty && (
          <span className="form__saved" data-testid={TESTIDS.settingsSaved} role="status">
            Saved
          </span>
        )}
        <button
          type="button"
          className="button button--ghost"
          disabled={!dirty || saving}
          onClick={() => {
            setDraft(toDraft(settings));
            setHint(null);
          }}
        >
          Undo changes
        </button>
        <button type="submit" className="button button--primary" disabled={!dirty || saving} data-testid={TESTIDS.settingsSave}>
          {saving ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}

export function SettingsScreen() {
  const { settings: store, profile } = useApp();
  const settings = useStore(store, (s) => s.settings);
  const error = useStore(store, (s) => s.error);
  const version = useStore(store, (s) => s.version);
  const identity = useStore(profile, (s) => s.status?.identity);
  const keyProtection = useStore(profile, (s) => s.status?.keyProtection);
  const locking = useStore(profile, (s) => s.busy === 'lock');

  // No event tells about settings changes, so fetch them whenever this screen opens.
  useEffect(() => {
    void store.getState().load();
  }, [store]);

  return (
    <div className="page">
      <header className="page__header">
        <h1 className="page__title">Settings</h1>
      </header>
      <div className="page__body">
        {identity !== undefined && (
          <section className="card">
            <h2 className="card__title">Your identity</h2>
            <IdentityCard identity={identity} compact />
          </section>
        )}
        {settings === null ? (
          error !== null ? (
            <p className="callout callout--warn">{error}</p>
          ) : (
            <div className="pane-note">
              <Spinner label="Loading settings" />
            </div>
          )
        ) : (
          <SettingsForm settings={settings} />
        )}
        <section className="card">
          <h2 className="card__title">Security</h2>
          <p className="card__lead">
            Locking takes you offline and forgets the unlocked keys until you unlock again
            {keyProtection === 'passphrase' ? ' with your passphrase' : ''}.
          </p>
          <button
            type="button"
            className="button button--secondary"
            disabled={locking}
            data-testid={TESTIDS.settingsLock}
            onClick={() => void profile.getState().lock()}
          >
            <LockIcon size={16} /> Lock profile
          </button>
        </section>
        {version !== null && (
          <p className="about">
            Sirius Stream <span data-testid={TESTIDS.appVersion}>{version}</span>
          </p>
        )}
      </div>
    </div>
  );
}
