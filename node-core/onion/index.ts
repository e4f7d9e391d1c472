export * from './channel';
export { WINDOW_START, SENDME_INCREMENT, PackageWindow, DeliverWindow } from './flow';
export { OnionRelay, MAX_RELAY_EARLY, DEFAULT_RELAY_LIMITS, type RelayLimits, type CircuitEndpoint, type RelayApp, type OpenChannelRequest, type OnionRelayOptions } from './relay';
export { CircuitClient, ClientCircuit, CircuitClosedError, parseIPv4, parseIPv6, type CircuitClientOptions } from './client';
export { CircuitManager, NoPathError, netOf, type CircuitManagerOptions } from './manager';
