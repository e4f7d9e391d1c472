/**
 * Stable `data-testid` values for the browser end-to-end tests. Every interactive element and every
 * key text in the UI carries one of these; components use the constants, never string literals.
 *
 * Elements that repeat carry extra attributes to tell them apart:
 * - contact-row: data-key (the contact's peer key), data-connected ("true" | "false")
 * - request-row: data-id (the request id)
 * - conversation-row: data-peer, data-unread (a number), data-active ("true" | "false")
 * - message: data-id, data-status (pending | sent | delivered | read | received | failed),
 *   data-direction (in | out), data-kind (text | file)
 * - search-result: data-peer, data-id
 * - file-progress / file-download: data-file-id
 * - network-presence-row: data-accepted ("true" | "false")
 * - error-banner: data-code (the backend's error code, or "client" for checks made in the UI)
 * - toast: data-kind (info | error)
 * - broadcast-live: data-live ("true" | "false")
 * - viewer-state: data-phase (idle | joining | watching | ended)
 * - viewer-canvas: data-frames-drawn (frames drawn so far), data-last-checksum (8 hex digits of a
 *   16×16 sample of the picture, renewed every few frames)
 * - public-stream-row: data-stream-id
 * - invite-card: data-direction (in | out)
 */
export const TESTIDS = {
  // ---- whole-app states -------------------------------------------------------------------------
  /** The page runs without `window.sirius`. */
  noBackend: 'no-backend',
  /** The first answer from the backend is still awaited, or it could not be reached. */
  startup: 'startup',
  startupRetry: 'startup-retry',
  /** Shown while the backend process is disconnected after it had answered once. */
  backendStatus: 'backend-status',
  /** The profile is offline; the text says why. */
  offlineBanner: 'offline-banner',
  /** The latest error in words for a person; one at a time. */
  errorBanner: 'error-banner',
  errorDismiss: 'error-dismiss',
  /** Short confirmations and new-message notes. */
  toast: 'toast',

  // ---- onboarding -------------------------------------------------------------------------------
  onboardingName: 'onboarding-name',
  /** The passphrase field, on the create form and on the unlock form. */
  onboardingPassphrase: 'onboarding-passphrase',
  onboardingPassphrase2: 'onboarding-passphrase2',
  onboardingStrength: 'onboarding-strength',
  /** A check made in the UI before anything is sent (names, passphrases that differ). */
  onboardingHint: 'onboarding-hint',
  onboardingCreate: 'onboarding-create',
  onboardingUnlock: 'onboarding-unlock',
  /** The going-online progress panel, and its current step's text. */
  onboardingProgress: 'onboarding-progress',
  onboardingStep: 'onboarding-step',
  /** Leaves the "share your identity" page for the messenger. */
  onboardingContinue: 'onboarding-continue',
  identityString: 'identity-string',
  identityCopy: 'identity-copy',
  identityQr: 'identity-qr',

  // ---- navigation -------------------------------------------------------------------------------
  navChat: 'nav-chat',
  navContacts: 'nav-contacts',
  navNetwork: 'nav-network',
  navRelay: 'nav-relay',
  navSettings: 'nav-settings',
  navBroadcast: 'nav-broadcast',
  navWatch: 'nav-watch',
  navUnread: 'nav-unread',
  navRequests: 'nav-requests',
  profileName: 'profile-name',

  // ---- contacts ---------------------------------------------------------------------------------
  contactAddIdentity: 'contact-add-identity',
  contactAddName: 'contact-add-name',
  contactAddSubmit: 'contact-add-submit',
  contactAddError: 'contact-add-error',
  contactRow: 'contact-row',
  contactName: 'contact-name',
  contactIdentity: 'contact-identity',
  contactMessage: 'contact-message',
  contactRename: 'contact-rename',
  contactRenameInput: 'contact-rename-input',
  contactRenameSave: 'contact-rename-save',
  contactRenameCancel: 'contact-rename-cancel',
  contactRemove: 'contact-remove',
  contactsEmpty: 'contacts-empty',
  requestRow: 'request-row',
  requestFrom: 'request-from',
  requestGreeting: 'request-greeting',
  requestAccept: 'request-accept',
  requestDeny: 'request-deny',
  confirmDialog: 'confirm-dialog',
  confirmOk: 'confirm-ok',
  confirmCancel: 'confirm-cancel',

  // ---- chat -------------------------------------------------------------------------------------
  conversationRow: 'conversation-row',
  conversationName: 'conversation-name',
  conversationLast: 'conversation-last',
  conversationUnread: 'conversation-unread',
  conversationsEmpty: 'conversations-empty',
  threadHeader: 'thread-header',
  threadEmpty: 'thread-empty',
  threadLoadOlder: 'thread-load-older',
  daySeparator: 'day-separator',
  message: 'message',
  messageText: 'message-text',
  messageStatus: 'message-status',
  messageRetry: 'message-retry',
  messageFileName: 'message-file-name',
  fileProgress: 'file-progress',
  fileDownload: 'file-download',
  fileFailed: 'file-failed',
  typingIndicator: 'typing-indicator',
  composerInput: 'composer-input',
  composerSend: 'composer-send',
  composerFile: 'composer-file',
  composerAttach: 'composer-attach',
  composerCount: 'composer-count',
  composerLimit: 'composer-limit',
  searchInput: 'search-input',
  searchClear: 'search-clear',
  searchResult: 'search-result',
  searchEmpty: 'search-empty',

  // ---- network ----------------------------------------------------------------------------------
  networkOnline: 'network-online',
  networkName: 'network-name',
  networkFile: 'network-file',
  networkListAge: 'network-list-age',
  networkNodes: 'network-nodes',
  networkCircuits: 'network-circuits',
  networkChannels: 'network-channels',
  networkPresenceRow: 'network-presence-row',
  networkGuardRow: 'network-guard-row',
  networkCertExpiry: 'network-cert-expiry',
  networkRefresh: 'network-refresh',

  // ---- relay ------------------------------------------------------------------------------------
  relayToggle: 'relay-toggle',
  relayBandwidth: 'relay-bandwidth',
  relayBandwidthSlider: 'relay-bandwidth-slider',
  relayBandwidthApply: 'relay-bandwidth-apply',
  relayRunning: 'relay-running',
  relayListed: 'relay-listed',
  relayCircuits: 'relay-circuits',
  relayCircuitsTotal: 'relay-circuits-total',
  relayBytesUp: 'relay-bytes-up',
  relayBytesDown: 'relay-bytes-down',
  relayUptime: 'relay-uptime',
  relayNickname: 'relay-nickname',
  relayAddress: 'relay-address',
  relayProblem: 'relay-problem',

  // ---- settings ---------------------------------------------------------------------------------
  settingsDisplayName: 'settings-display-name',
  settingsNetworkFile: 'settings-network-file',
  settingsAcceptStrangers: 'settings-accept-strangers',
  settingsReadReceipts: 'settings-read-receipts',
  settingsRelayBandwidth: 'settings-relay-bandwidth',
  settingsSave: 'settings-save',
  settingsSaved: 'settings-saved',
  settingsHint: 'settings-hint',
  settingsLock: 'settings-lock',
  appVersion: 'app-version',

  // ---- broadcast --------------------------------------------------------------------------------
  broadcastPreview: 'broadcast-preview',
  broadcastCameraOn: 'broadcast-camera-on',
  broadcastCameraProblem: 'broadcast-camera-problem',
  broadcastCamera: 'broadcast-camera',
  broadcastMicrophone: 'broadcast-microphone',
  broadcastBitrate: 'broadcast-bitrate',
  broadcastMaxViewers: 'broadcast-max-viewers',
  broadcastPublic: 'broadcast-public',
  broadcastTitle: 'broadcast-title',
  broadcastDescription: 'broadcast-description',
  broadcastStart: 'broadcast-start',
  broadcastStop: 'broadcast-stop',
  broadcastResume: 'broadcast-resume',
  broadcastLive: 'broadcast-live',
  broadcastViewers: 'broadcast-viewers',
  broadcastRate: 'broadcast-rate',
  broadcastNodes: 'broadcast-nodes',
  broadcastFramesSent: 'broadcast-frames-sent',
  broadcastSkipped: 'broadcast-skipped',
  broadcastCodec: 'broadcast-codec',
  broadcastEnded: 'broadcast-ended',
  broadcastShareContact: 'broadcast-share-contact',
  broadcastShare: 'broadcast-share',

  // ---- watch ------------------------------------------------------------------------------------
  viewerState: 'viewer-state',
  viewerInvite: 'viewer-invite',
  viewerJoin: 'viewer-join',
  viewerCanvas: 'viewer-canvas',
  viewerOverlay: 'viewer-overlay',
  viewerLatency: 'viewer-latency',
  viewerFps: 'viewer-fps',
  viewerBitrate: 'viewer-bitrate',
  viewerDropped: 'viewer-dropped',
  viewerSound: 'viewer-sound',
  viewerLeave: 'viewer-leave',
  viewerEnded: 'viewer-ended',
  viewerBack: 'viewer-back',
  publicStreamRow: 'public-stream-row',
  publicStreamWatch: 'public-stream-watch',
  publicStreamsRefresh: 'public-streams-refresh',
  publicStreamsEmpty: 'public-streams-empty',
  inviteCard: 'invite-card',
  inviteWatch: 'invite-watch',
} as const;

export type TestId = (typeof TESTIDS)[keyof typeof TESTIDS];
