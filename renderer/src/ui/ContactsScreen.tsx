/**
 * Contacts: add someone by identity string, pending chat requests (accept / deny), and the contact
 * list with connection dots, rename, remove (after a confirmation) and "message".
 */
import { useState, type FormEvent } from 'react';
import { useStore } from 'zustand';
import { formatDateTime, shortIdentity } from '../lib/format';
import { identityProblem, nameProblem } from '../lib/validate';
import type { ChatRequest, Contact } from '../state/contacts';
import { TESTIDS } from '../testids';
import { Avatar, ConfirmDialog, Spinner } from './common';
import { useApp, useCopy } from './context';
import { ChatIcon, CopyIcon, PlusIcon } from './icons';

function AddContact() {
  const { contacts, profile, ui } = useApp();
  const own = useStore(profile, (s) => s.status?.identity);
  const [identity, setIdentity] = useState('');
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    const issue = identityProblem(identity, own) ?? (nameProblem(name) === null ? null : 'Give the contact a name (up to 128 characters).');
    setProblem(issue);
    if (issue !== null) return;
    setBusy(true);
    const added = await contacts.getState().add(identity, name);
    setBusy(false);
    if (added !== null) {
      setIdentity('');
      setName('');
      ui.getState().toast(`${added.name} was added to your contacts`);
    }
  }

  return (
    <section className="card">
      <h2 className="card__title">Add a contact</h2>
      <p className="card__lead">Ask the other person for their identity string (Settings → Your identity) and paste it here.</p>
      <form className="add-contact" onSubmit={(e) => void submit(e)} noValidate>
        <label className="field add-contact__identity">
          <span className="field__label">Identity string</span>
          <input
            className={`input input--mono ${problem !== null && identityProblem(identity, own) !== null ? 'input--invalid' : ''}`}
            type="text"
            spellCheck={false}
            autoComplete="off"
            placeholder="sirius.chat.account.…"
            value={identity}
            onChange={(e) => {
              setIdentity(e.target.value);
              if (problem !== null) setProblem(null);
            }}
            aria-invalid={problem !== null && identityProblem(identity, own) !== null}
            data-testid={TESTIDS.contactAddIdentity}
          />
        </label>
        <label className="field add-contact__name">
          <span className="field__label">Name</span>
          <input
            className="input"
            type="text"
            maxLength={128}
            placeholder="How you call them"
            value={name}
            onChange={(e) => {
              setName(e.target.value);
              if (problem !== null) setProblem(null);
            }}
            data-testid={TESTIDS.contactAddName}
          />
        </label>
        <button type="submit" className="button button--primary add-contact__submit" disabled={busy} data-testid={TESTIDS.contactAddSubmit}>
          <PlusIcon size={16} /> Add
        </button>
      </form>
      {problem !== null && (
        <p className="form__hint" role="alert" data-testid={TESTIDS.contactAddError}>
          {problem}
        </p>
      )}
    </section>
  );
}

function RequestRow({ request }: { readonly request: ChatRequest }) {
  const { contacts } = useApp();
  const pending = useStore(contacts, (s) => s.pending[request.id] === true);
  return (
    <li className="row" data-testid={TESTIDS.requestRow} data-id={request.id}>
      <Avatar name={request.from.split('.account.')[1] ?? request.from} seed={request.from} />
      <div className="row__body">
        <p className="row__title" title={request.from} data-testid={TESTIDS.requestFrom}>
          {shortIdentity(request.from)}
        </p>
        {request.greeting.length > 0 && (
          <p className="row__quote" data-testid={TESTIDS.requestGreeting}>
            “{request.greeting}”
          </p>
        )}
        <p className="row__meta">{formatDateTime(request.receivedAt)}</p>
      </div>
      <div className="row__actions">
        <button
          type="button"
          className="button button--secondary"
          disabled={pending}
          data-testid={TESTIDS.requestDeny}
          onClick={() => void contacts.getState().answer(request.id, false)}
        >
          Deny
        </button>
        <button
          type="button"
          className="button button--primary"
          disabled={pending}
          data-testid={TESTIDS.requestAccept}
          onClick={() => void contacts.getState().answer(request.id, true)}
        >
          Accept
        </button>
      </div>
    </li>
  );
}

function ContactRow({ contact, onRemove }: { readonly contact: Contact; readonly onRemove: (contact: Contact) => void }) {
  const { contacts, chat, ui } = useApp();
  const pending = useStore(contacts, (s) => s.pending[contact.key] === true);
  const copy = useCopy();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(contact.name);
  const [problem, setProblem] = useState<string | null>(null);

  async function save(event: FormEvent): Promise<void> {
    event.preventDefault();
    const issue = nameProblem(name);
    setProblem(issue);
    if (issue !== null) return;
    if (name.trim() === contact.name) {
      setEditing(false);
      return;
    }
    if (await contacts.getState().rename(contact.key, name)) setEditing(false);
  }

  return (
    <li className="row" data-testid={TESTIDS.contactRow} data-key={contact.key} data-connected={contact.connected ? 'true' : 'false'}>
      <Avatar name={contact.name} seed={contact.key} online={contact.connected} />
      <div className="row__body">
        {editing ? (
          <form className="rename" onSubmit={(e) => void save(e)}>
            <input
              className="input"
              value={name}
              maxLength={128}
              aria-label={`New name for ${contact.name}`}
              onChange={(e) => setName(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Escape') {
                  setEditing(false);
                  setName(contact.name);
                  setProblem(null);
                }
              }}
              autoFocus
              data-testid={TESTIDS.contactRenameInput}
            />
            <button type="submit" className="button button--primary" disabled={pending} data-testid={TESTIDS.contactRenameSave}>
              Save
            </button>
            <button
              type="button"
              className="button button--ghost"
              data-testid={TESTIDS.contactRenameCancel}
              onClick={() => {
                setEditing(false);
                setName(contact.name);
                setProblem(null);
              }}
            >
              Cancel
            </button>
            {problem !== null && (
              <p className="form__hint" role="alert">
                {problem}
              </p>
            )}
          </form>
        ) : (
          <>
            <p className="row__title" data-testid={TESTIDS.contactName}>
              {contact.name}
              <span className={`presence ${contact.connected ? 'presence--on' : ''}`}>{contact.connected ? 'Connected' : 'Not connected'}</span>
            </p>
            <p className="row__meta row__meta--mono">
              <span title={contact.identity} data-testid={TESTIDS.contactIdentity}>
                {shortIdentity(contact.identity)}
              </span>
              <button type="button" className="icon-button icon-button--small" aria-label={`Copy ${contact.name}'s identity string`} onClick={() => copy(contact.identity, 'Identity string')}>
                <CopyIcon size={14} />
              </button>
            </p>
          </>
        )}
      </div>
      {!editing && (
        <div className="row__actions">
          <button
            type="button"
            className="button button--secondary"
            data-testid={TESTIDS.contactMessage}
            onClick={() => {
              chat.getState().openConversation(contact.key);
              ui.getState().navigate('chat');
            }}
          >
            <ChatIcon size={16} /> Message
          </button>
          <button type="button" className="button button--ghost" disabled={pending} data-testid={TESTIDS.contactRename} onClick={() => setEditing(true)}>
            Rename
          </button>
          <button type="button" className="button button--ghost button--danger-text" disabled={pending} data-testid={TESTIDS.contactRemove} onClick={() => onRemove(contact)}>
            Remove
          </button>
        </div>
      )}
    </li>
  );
}

export function ContactsScreen() {
  const { contacts } = useApp();
  const list = useStore(contacts, (s) => s.contacts);
  const requests = useStore(contacts, (s) => s.requests);
  const loaded = useStore(contacts, (s) => s.loaded);
  const [removing, setRemoving] = useState<Contact | null>(null);

  return (
    <div className="page">
      <header className="page__header">
        <h1 className="page__title">Contacts</h1>
      </header>
      <div className="page__body">
        <AddContact />
        {requests.length > 0 && (
          <section className="card">
            <h2 className="card__title">
              Chat requests <span className="badge">{requests.length}</span>
            </h2>
            <p className="card__lead">These people are not in your contacts and want to chat.</p>
            <ul className="rows">
              {requests.map((request) => (
                <RequestRow key={request.id} request={request} />
              ))}
            </ul>
          </section>
        )}
        <section className="card">
          <h2 className="card__title">Your contacts</h2>
          {!loaded && list.length === 0 ? (
            <div className="pane-note">
              <Spinner label="Loading contacts" />
            </div>
          ) : list.length === 0 ? (
            <p className="card__lead" data-testid={TESTIDS.contactsEmpty}>
              No contacts yet. Add someone with their identity string above.
            </p>
          ) : (
            <ul className="rows">
              {list.map((contact) => (
                <ContactRow key={contact.key} contact={contact} onRemove={setRemoving} />
              ))}
            </ul>
          )}
        </section>
      </div>
      <ConfirmDialog
        open={removing !== null}
        title={`Remove ${removing?.name ?? 'contact'}?`}
        confirmLabel="Remove"
        danger
        onCancel={() => setRemoving(null)}
        onConfirm={() => {
          const target = removing;
          setRemoving(null);
          if (target !== null) void contacts.getState().remove(target.key);
        }}
      >
        <p>They will no longer be in your contact list.</p>
      </ConfirmDialog>
    </div>
  );
}
