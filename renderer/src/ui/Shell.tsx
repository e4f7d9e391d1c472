/**
 * The messenger's frame: a navigation rail on the left (Ctrl/⌘ + 1…7 switch screens), the
 * connection and error banners, and the current screen.
 */
import { useEffect, type ReactNode } from 'react';
import { useStore } from 'zustand';
import { totalUnread } from '../state/chat';
import { SCREENS, type Screen } from '../state/ui';
import { TESTIDS } from '../testids';
import { BroadcastIcon, BroadcastScreen } from './BroadcastScreen';
import { ChatScreen } from './ChatScreen';
import { Avatar, ErrorBanner, Toasts } from './common';
import { ContactsScreen } from './ContactsScreen';
import { useApp } from './context';
import { ChatIcon, ContactsIcon, NetworkIcon, RelayIcon, SettingsIcon } from './icons';
import { NetworkScreen } from './NetworkScreen';
import { RelayScreen } from './RelayScreen';
import { SettingsScreen } from './SettingsScreen';
import { ViewerScreen, WatchIcon } from './ViewerScreen';

interface NavItem {
  readonly screen: Screen;
  readonly label: string;
  readonly icon: ReactNode;
  readonly testId: string;
}

const NAV: readonly NavItem[] = [
  { screen: 'chat', label: 'Chats', icon: <ChatIcon />, testId: TESTIDS.navChat },
  { screen: 'contacts', label: 'Contacts', icon: <ContactsIcon />, testId: TESTIDS.navContacts },
  { screen: 'network', label: 'Network', icon: <NetworkIcon />, testId: TESTIDS.navNetwork },
  { screen: 'relay', label: 'Relay', icon: <RelayIcon />, testId: TESTIDS.navRelay },
  { screen: 'settings', label: 'Settings', icon: <SettingsIcon />, testId: TESTIDS.navSettings },
  { screen: 'broadcast', label: 'Broadcast', icon: <BroadcastIcon />, testId: TESTIDS.navBroadcast },
  { screen: 'watch', label: 'Watch', icon: <WatchIcon />, testId: TESTIDS.navWatch },
];

function NavRail() {
  const { ui, chat, contacts, profile, relay, broadcast, viewer } = useApp();
  const screen = useStore(ui, (s) => s.screen);
  const unread = useStore(chat, totalUnread);
  const requests = useStore(contacts, (s) => s.requests.length);
  const relayRunning = useStore(relay, (s) => s.status?.running === true);
  const live = useStore(broadcast, (s) => s.status?.live === true);
  const watching = useStore(viewer, (s) => s.phase === 'watching');
  const name = useStore(profile, (s) => s.status?.displayName ?? '');
  const identity = useStore(profile, (s) => s.status?.identity ?? '');
  const state = useStore(profile, (s) => s.status?.state);

  return (
    <nav className="rail" aria-label="Main">
      <div className="rail__brand" aria-hidden="true">
        ✦
      </div>
      <ul className="rail__items">
        {NAV.map((item, index) => {
          const badge = item.screen === 'chat' ? unread : item.screen === 'contacts' ? requests : 0;
          return (
            <li key={item.screen}>
              <button
                type="button"
                className={`rail__item ${screen === item.screen ? 'rail__item--active' : ''}`}
                aria-current={screen === item.screen ? 'page' : undefined}
                aria-keyshortcuts={`Control+${index + 1}`}
                title={`${item.label} (Ctrl+${index + 1})`}
                data-testid={item.testId}
                onClick={() => ui.getState().navigate(item.screen)}
              >
                {item.icon}
                <span className="rail__label">{item.label}</span>
                {badge > 0 && (
                  <span
                    className="rail__badge"
                    data-testid={item.screen === 'chat' ? TESTIDS.navUnread : TESTIDS.navRequests}
                    aria-label={item.screen === 'chat' ? `${badge} unread` : `${badge} requests`}
                  >
                    {badge > 99 ? '99+' : badge}
                  </span>
                )}
                {item.screen === 'relay' && relayRunning && <span className="rail__live" aria-label="running" />}
                {item.screen === 'broadcast' && live && <span className="rail__live rail__live--on-air" aria-label="live" />}
                {item.screen === 'watch' && watching && <span className="rail__live" aria-label="watching" />}
              </button>
            </li>
          );
        })}
      </ul>
      <div className="rail__me" title={name} data-testid={TESTIDS.profileName}>
        <Avatar name={name} seed={identity} online={state === 'online'} />
      </div>
    </nav>
  );
}

function StatusBanners() {
  const { ui, profile } = useApp();
  const backend = useStore(ui, (s) => s.backendConnected);
  const state = useStore(profile, (s) => s.status?.state);
  const problem = useStore(profile, (s) => s.status?.problem);
  return (
    <>
      {backend === false && (
        <div className="banner banner--warn" role="status" data-testid={TESTIDS.backendStatus}>
          <p className="banner__text">The background service stopped. Reconnecting…</p>
        </div>
      )}
      {backend !== false && state === 'offline' && (
        <div className="banner banner--warn" role="status" data-testid={TESTIDS.offlineBanner}>
          <p className="banner__text">You are offline.{problem !== undefined ? ` ${problem}` : ''}</p>
        </div>
      )}
      {backend !== false && state === 'starting' && (
        <div className="banner banner--info" role="status" data-testid={TESTIDS.offlineBanner}>
          <p className="banner__text">Going online…</p>
        </div>
      )}
      <ErrorBanner />
    </>
  );
}

function CurrentScreen({ screen }: { readonly screen: Screen }) {
  switch (screen) {
    case 'chat':
      return <ChatScreen />;
    case 'contacts':
      return <ContactsScreen />;
    case 'network':
      return <NetworkScreen />;
    case 'relay':
      return <RelayScreen />;
    case 'settings':
      return <SettingsScreen />;
    case 'broadcast':
      return <BroadcastScreen />;
    case 'watch':
      return <ViewerScreen />;
  }
}

export function Shell() {
  const { ui } = useApp();
  const screen = useStore(ui, (s) => s.screen);

  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (!(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return;
      const index = Number(event.key) - 1;
      const target = SCREENS[index];
      if (target === undefined) return;
      event.preventDefault();
      ui.getState().navigate(target);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [ui]);

  return (
    <div className="shell">
      <NavRail />
      <main className="content">
        <StatusBanners />
        <div className="content__screen">
          <CurrentScreen screen={screen} />
        </div>
      </main>
      <Toasts />
    </div>
  );
}
