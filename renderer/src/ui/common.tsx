/** Small pieces shared by the screens: avatars, banners, toasts, the identity card, dialogs. */
import { useEffect, useMemo, useRef, type ReactNode } from 'react';
import { renderSVG } from 'uqr';
import { useStore } from 'zustand';
import { initial } from '../lib/format';
import { TESTIDS } from '../testids';
import { useApp, useCopy } from './context';
import { AlertIcon, CloseIcon, CopyIcon } from './icons';

/** One of eight avatar colours, stable for a given seed. */
export function colourClass(seed: string): string {
  let hash = 0;
  for (let i = 0; i < seed.length; i += 1) hash = (hash * 31 + seed.charCodeAt(i)) >>> 0;
  return `avatar--c${hash % 8}`;
}

export function Avatar({
  name,
  seed,
  size = 'md',
  online,
}: {
  readonly name: string;
  readonly seed: string;
  readonly size?: 'sm' | 'md' | 'lg';
  readonly online?: boolean;
}) {
  return (
    <span className={`avatar avatar--${size} ${colourClass(seed)}`} aria-hidden="true">
      {initial(name)}
      {online !== undefined && <span className={`avatar__dot ${online ? 'avatar__dot--on' : ''}`} />}
    </span>
  );
}

/** The newest error, with a dismiss button. Shown in one place per layout. */
export function ErrorBanner() {
  const { ui } = useApp();
  const error = useStore(ui, (s) => s.error);
  if (error === null) return null;
  return (
    <div className="banner banner--error" role="alert" data-testid={TESTIDS.errorBanner} data-code={error.code}>
      <AlertIcon size={18} />
      <p className="banner__text">{error.text}</p>
      <button
        type="button"
        className="icon-button banner__close"
        aria-label="Dismiss"
        data-testid={TESTIDS.errorDismiss}
        onClick={() => ui.getState().dismissError()}
      >
        <CloseIcon size={16} />
      </button>
    </div>
  );
}

export function Toasts() {
  const { ui } = useApp();
  const toasts = useStore(ui, (s) => s.toasts);
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((toast) => (
        <div key={toast.id} className="toast" data-testid={TESTIDS.toast} data-kind={toast.kind}>
          <span>{toast.text}</span>
          <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => ui.getState().dismissToast(toast.id)}>
            <CloseIcon size={14} />
          </button>
        </div>
      ))}
    </div>
  );
}

/** The identity string with a copy button and a QR code of it. */
export function IdentityCard({ identity, compact = false }: { readonly identity: string; readonly compact?: boolean }) {
  const copy = useCopy();
  // The QR code is an SVG document shown as an image (img-src allows data: URLs); dark modules on
  // white so scanners read it in dark mode too.
  const qr = useMemo(() => `data:image/svg+xml;charset=utf-8,${encodeURIComponent(renderSVG(identity, { border: 2, ecc: 'M' }))}`, [identity]);
  return (
    <div className={`identity ${compact ? 'identity--compact' : ''}`}>
      <img className="identity__qr" src={qr} alt="QR code of your identity string" data-testid={TESTIDS.identityQr} />
      <div className="identity__body">
        <p className="identity__label">Your identity string</p>
        <p className="identity__string" data-testid={TESTIDS.identityString}>
          {identity}
        </p>
        <button type="button" className="button button--secondary" data-testid={TESTIDS.identityCopy} onClick={() => copy(identity, 'Identity string')}>
          <CopyIcon size={16} />
          Copy
        </button>
        <p className="identity__note">
          People add you with this string. It holds your public key only: no name, address or phone number.
        </p>
      </div>
    </div>
  );
}

/** A modal question with confirm and cancel; Escape cancels. */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  danger = false,
  onConfirm,
  onCancel,
}: {
  readonly open: boolean;
  readonly title: string;
  readonly children: ReactNode;
  readonly confirmLabel: string;
  readonly danger?: boolean;
  readonly onConfirm: () => void;
  readonly onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      className="dialog"
      data-testid={TESTIDS.confirmDialog}
      aria-labelledby="dialog-title"
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <h2 id="dialog-title" className="dialog__title">
        {title}
      </h2>
      <div className="dialog__body">{children}</div>
      <div className="dialog__actions">
        <button type="button" className="button button--secondary" data-testid={TESTIDS.confirmCancel} onClick={onCancel} autoFocus>
          Cancel
        </button>
        <button type="button" className={`button ${danger ? 'button--danger' : 'button--primary'}`} data-testid={TESTIDS.confirmOk} onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** A labelled on/off switch (a checkbox with role="switch"). */
export function Switch({
  checked,
  onChange,
  label,
  description,
  disabled = false,
  testId,
}: {
  readonly checked: boolean;
  readonly onChange: (checked: boolean) => void;
  readonly label: string;
  readonly description?: string;
  readonly disabled?: boolean;
  readonly testId: string;
}) {
  return (
    <label className={`switch ${disabled ? 'switch--disabled' : ''}`}>
      <span className="switch__text">
        <span className="switch__label">{label}</span>
        {description !== undefined && <span className="switch__description">{description}</span>}
      </span>
      <input
        type="checkbox"
        role="switch"
        className="switch__input"
        checked={checked}
        disabled={disabled}
        aria-checked={checked}
        data-testid={testId}
        onChange={(event) => onChange(event.target.checked)}
      />
      <span className="switch__track" aria-hidden="true">
        <span className="switch__thumb" />
      </span>
    </label>
  );
}

export function Spinner({ label }: { readonly label?: string }) {
  return (
    <span className="spinner" role="progressbar" aria-label={label ?? 'Working'}>
      <span className="spinner__ring" />
    </span>
  );
}
