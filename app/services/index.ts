/**
 * app/services: what the UI asks for, for one profile (see ./services), and the pieces the
 * backend process and the web host wire it with.
 */
export { createServices, describeOnlineProblem, presencePointsFor, DEFAULT_TIMING, MAX_SEND_FILE_BYTES, type ServiceEventListener, type ServiceEventName, type Services, type ServicesOptions, type ServiceTiming } from './services';
export { callMethod, ServiceError, type FailureSink, type ServiceHandlers } from './dispatch';
export { deferredKeychainProtector, passphraseProtector, KEYCHAIN_SECRET_PATTERN, type DeferredKeychain, type KeyProtection, type KeyProtector } from './keys';
export { loadOrCreateKeychainSecret, type SafeStorageLike } from './keychain-file';
export { DEFAULT_PROFILE, embeddedNetworkDir, isProfileName, PROFILE_NAME_PATTERN, profilePaths, type ProfilePaths } from './paths';
export { DEFAULT_SETTINGS, loadSettings, saveSettings, type Settings } from './settings';
export { acquireEmbeddedNetwork, defaultKeeperLauncher, embeddedLayout, type KeeperLauncher, type NetworkLease } from './embedded-network';
export { RelayRunner, relayLimitsFor, CELL_BYTES } from './relay';
export { StreamService, unavailableStreamNetwork, mediaFrameFromContract, mediaFrameToContract, STREAM_METHODS, type StreamNetwork, type StreamContext, type StreamServiceOptions } from './stream';
