/**
 * The app services (DESIGN §2, "app/services"): what the UI asks for, built on node-core's
 * messenger client, for one *profile* (one data folder, see ./paths). `createServices` returns a
 * handler for every contract method and a source of every contract event the backend pushes; the
 * Electron backend process (main/backend.ts) and the web host (app/web) serve them.
 *
 * Profile life cycle (profile.status):
 *   none      no identity in the folder yet; profile.create makes one
 *   locked    keys sealed at rest; profile.unlock opens them
 *   starting  keys open, going online: the network (the embedded one when no network file is
 *             set), the signed node list, registration, an access certificate, presence
 *   online    announced on presence nodes; chats connect
 *   offline   keys open but going online failed; `problem` says why in plain words, and it is
 *             tried again in the background (unlock also retries at once)
 * While unlocked the process holds the profile's owner file (./process-lock), so a second
 * process cannot open the same profile; a holder that died is replaced, and the SQLite lock it
 * left is removed.
 *
 * Chat history is in the profile's SQLite store, so messages written while offline are kept and
 * sent once a channel opens. Read receipts follow settings.readReceipts: with them off, reading
 * a conversation only moves a local mark (read-marks.json) and the peer is told nothing.
 *
 * Nothing here trusts its caller beyond the contract's schemas (already applied by the
 * dispatcher); every failure a user can cause is a ServiceError with a message for the user.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { base58 } from '@scure/base';
import {
  parseEventPayload,
  type EventName,
  type EventPayload,
  type MethodParams,
  type MethodResult,
} from '../contract';
import { Conversation, type ChatMessage as StoreMessage, type ChatStore, type FileTransfer } from '../../node-core/chat';
import { fileNameProblem } from '../../node-core/chat/frames';
import type { CryptoSuite } from '../../node-core/crypto/api';
import { formatIdentity, parseIdentity } from '../../node-core/crypto/identity';
import type { ScryptParams } from '../../node-core/crypto/sealed';
import { ChatClient, type ChatClientOptions, type IncomingRequest } from '../../node-core/io/client/chat-client';
import { parseNetworkFile } from '../../node-core/io/client/network';
import type { NodeConfig } from '../../node-core/io/node/config';
import { CLIENT_APP, CLIENT_NAMESPACE, ClientSession, clientIdentity } from '../../node-core/io/client/session';
import { nodeSuite } from '../../node-core/io/crypto-node';
import { KeystoreError, readKeyFile, writeKeyFile } from '../../node-core/io/keystore';
import { silentLogger, type Logger } from '../../node-core/io/log';
import { realScheduler } from '../../node-core/io/onion/runtime';
import { SqliteChatStore, StorageError } from '../../node-core/io/storage';
import { fromHex, toHex } from '../../node-core/util/bytes';
import { ServiceError, type ServiceHandlers } from './dispatch';
import { acquireEmbeddedNetwork, type KeeperLauncher, type NetworkLease } from './embedded-network';
import { readJsonFile, writeFileAtomic } from './files';
import { passphraseProtector, type KeyProtection, type KeyProtector } from './keys';
import { embeddedNetworkDir, profilePaths, type ProfilePaths } from './paths';
import { OwnedElsewhereError, acquireOwnerFile, removeStaleSqliteLocks, type OwnerFile } from './process-lock';
import { readProfileFile, writeProfileFile } from './profile-file';
import { RelayRunner } from './relay';
import { DEFAULT_SETTINGS, loadSettings, saveSettings, type Settings } from './settings';
import { StreamService, type StreamNetwork } from './stream';
import { joinStream, listPublicStreams, startBroadcast } from '../../node-core/io/client/stream-client';

/** Events the services push (backend.status is the main process's own). */
export type ServiceEventName = Exclude<EventName, 'backend.status'>;
export type ServiceEventListener = (event: ServiceEventName, payload: unknown) => void;

type ContractMessage = MethodResult<'chat.send'>;
type ProfileStatus = MethodResult<'profile.status'>;
type NetworkStatus = MethodResult<'network.status'>;
type RelayStatus = MethodResult<'relay.status'>;

export interface ServiceTiming {
  /** network.changed while unlocked (default 5 s). */
  readonly networkEventMs: number;
  /** relay.changed while the relay runs (default 1 s). */
  readonly relayEventMs: number;
  /** First wait before trying to go online again (default 2 s, doubling). */
  readonly retryFirstMs: number;
  /** Longest wait between attempts (default 30 s). */
  readonly retryMaxMs: number;
  /** How long failed attempts keep the state 'starting' before it turns 'offline' (default 90 s). */
  readonly startingForMs: number;
  /** How long a chat request waits for an answer (the presence node's own timeout, 120 s). */
  readonly requestTtlMs: number;
}

export const DEFAULT_TIMING: Readonly<ServiceTiming> = Object.freeze({
  networkEventMs: 5000,
  relayEventMs: 1000,
  retryFirstMs: 2000,
  retryMaxMs: 30_000,
  startingForMs: 90_000,
  requestTtlMs: 120_000,
});

export interface ServicesOptions {
  /** The user's data root (absolute); the profile lives in `<root>/profiles/<profile>`. */
  readonly dataRoot: string;
  /** Profile name (default 'default'). */
  readonly profile?: string;
  /** Reported by app.version. */
  readonly appVersion: string;
  /** Where key-file secrets come from (default: passphrases). */
  readonly keys?: KeyProtector;
  readonly suite?: CryptoSuite;
  readonly log?: Logger;
  /** scrypt cost of new key files (tests use a low one; default the keystore's). */
  readonly scrypt?: Partial<ScryptParams>;
  /** The embedded network's keeper launcher and start timeout. */
  readonly embeddedNetwork?: { readonly launch?: KeeperLauncher; readonly timeoutMs?: number };
  /** Where the relay node listens (default 127.0.0.1, a free port). */
  readonly relay?: { readonly host?: string; readonly port?: number };
  readonly timing?: Partial<ServiceTiming>;
  /** Passed to the messenger client. */
  readonly chat?: Pick<ChatClientOptions, 'redialMs' | 'presencePoints' | 'maxChannels' | 'introductionCaps'>;
  /**
   * Unlock at once a profile sealed by the OS keychain, as soon as its secret arrives (the
   * desktop app: the user types nothing). Default false.
   */
  readonly autoUnlock?: boolean;
  /** Live streams (./stream). */
  readonly stream?: {
    /** The network side (default: none, so the stream methods answer 'stream.unavailable'). */
    readonly network?: StreamNetwork;
    /**
     * Camera and microphone on while a broadcast runs; the Electron backend forwards it to the
     * main process as a 'media-access' message (main/security.ts isAllowedPermission).
     */
    readonly onMediaAccess?: (active: boolean) => void;
    /** broadcast.stats / view.stats period (default 1000 ms). */
    readonly statsMs?: number;
    /** How long received frames wait to be batched into one view.frames event (default 10 ms). */
    readonly frameBatchMs?: number;
  };
}

export interface Services {
  readonly handlers: ServiceHandlers;
  readonly paths: ProfilePaths;
  /** Receives every event; returns the function that ends the subscription. */
  subscribe(listener: ServiceEventListener): () => void;
  /** Typed subscription to one event. */
  on<E extends ServiceEventName>(event: E, callback: (payload: EventPayload<E>) => void): () => void;
  /** The running relay node's configuration (its listen address and limits), for diagnostics. */
  relayConfig(): NodeConfig | null;
  /** Goes offline, stops the relay and the timers, and releases the profile. */
  close(): Promise<void>;
}

interface PendingRequest {
  readonly id: string;
  readonly request: IncomingRequest;
  readonly receivedAt: number;
  readonly timer: ReturnType<typeof setTimeout>;
}

interface Unlocked {
  readonly secret: string;
  readonly publicKey: Uint8Array;
  readonly identityText: string;
  readonly store: SqliteChatStore;
  readonly owner: OwnerFile;
  client: ChatClient | null;
  lease: NetworkLease | null;
  networkFile: string | null;
  phase: 'starting' | 'online' | 'offline';
  problem?: string;
  progress?: string;
  gen: number;
  retryTimer: ReturnType<typeof setTimeout> | null;
  /** Serializes conversation work done without a client, and the client's arrival. */
  gate: Promise<unknown>;
}

/** Reasons a transfer ended without the file, in words. */
const FILE_FAILURES: Readonly<Record<string, string>> = {
  cancelled: 'cancelled',
  refused: 'refused by the other side',
  'hash-mismatch': 'the file arrived damaged (its checksum did not match)',
  unavailable: 'the sender no longer has the file',
};

/** Largest file chat.sendFile takes (the contract's 16 MiB). */
export const MAX_SEND_FILE_BYTES = 16 * 1024 * 1024;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function messageOfError(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return (m.split('\n')[0] ?? '').slice(0, 300);
}

/** Why going online failed, in words a person understands, from the step that failed. */
export function describeOnlineProblem(step: string, e: unknown): string {
  const detail = messageOfError(e);
  switch (step) {
    case 'local-network':
      return `The local network could not be started: ${detail.replace(/^the local network /i, '')}.`;
    case 'network':
      return `The network file could not be used: ${detail}.`;
    case 'list':
      return 'Could not reach the network: no node answered with a valid node list.';
    case 'register':
      return 'The network’s authorities did not accept the registration of your identity.';
    case 'certificate':
      return 'The network’s authorities did not issue an access certificate.';
    case 'presence':
      return /names no onion node/.test(detail)
        ? 'The network has no relay nodes to announce your presence on yet.'
        : 'No presence node accepted your announcement, so others cannot reach you yet.';
    default:
      return `Could not go online: ${detail}.`;
  }
}

/**
 * Presence points per user for a network with `onionNodes` usable onion nodes. A rendezvous
 * point must be none of the dialer's presence points and entry guards (2) and none of the peer's
 * presence points (node-core/io/client/channel.ts), so 2 × points + 2 nodes are ruled out and at
 * least one must remain: two points (fault tolerance) from 7 nodes on, one below — a small local
 * network of 5 onion nodes then still always has a rendezvous point.
 */
export function presencePointsFor(onionNodes: number): number {
  if (!Number.isSafeInteger(onionNodes) || onionNodes < 0) throw new RangeError('onionNodes must be a non-negative integer');
  return onionNodes >= 7 ? 2 : 1;
}

export function createServices(options: ServicesOptions): Services {
  return new AppServices(options).api();
}

class AppServices {
  private readonly paths: ProfilePaths;
  private readonly suite: CryptoSuite;
  private readonly log: Logger;
  private readonly keys: KeyProtector;
  private readonly timing: ServiceTiming;
  private readonly listeners = new Set<ServiceEventListener>();
  private readonly requests = new Map<string, PendingRequest>();
  /** Bytes the peer pulled of our outgoing files (the store records only completion). */
  private readonly outProgress = new Map<string, number>();
  private readonly relay: RelayRunner;
  private readonly stream: StreamService;
  private relayEnabled = false;
  private relayProblem: string | undefined;
  private settings: Settings;
  private unlocked: Unlocked | null = null;
  private lifecycle: Promise<unknown> = Promise.resolve();
  private networkTimer: ReturnType<typeof setInterval> | null = null;
  private relayTimer: ReturnType<typeof setInterval> | null = null;
  private closed = false;

  constructor(private readonly opts: ServicesOptions) {
    if (typeof opts !== 'object' || opts === null) throw new TypeError('options must be an object');
    if (typeof opts.appVersion !== 'string') throw new TypeError('options.appVersion must be a string');
    this.paths = profilePaths(opts.dataRoot, opts.profile ?? 'default');
    this.suite = opts.suite ?? nodeSuite;
    this.log = opts.log ?? silentLogger();
    this.keys = opts.keys ?? passphraseProtector();
    this.timing = { ...DEFAULT_TIMING, ...opts.timing };
    const loaded = loadSettings(this.paths.settingsFile);
    if (loaded.movedAside) this.log.warn({ file: loaded.movedAside }, 'settings.json was not valid; kept aside, defaults in use');
    this.settings = loaded.settings;
    this.relay = new RelayRunner({ dir: this.paths.relayDir, suite: this.suite, log: this.log, ...opts.relay });
    this.relayEnabled = this.readRelayEnabled();
    this.stream = new StreamService({
      network: opts.stream?.network ?? { startBroadcast, joinStream, listPublicStreams },
      context: () => this.streamContext(),
      sendChat: (peer, text) => this.send({ peer, text }),
      emit: (event, payload) => this.emit(event, payload),
      log: this.log,
      ...(opts.stream?.onMediaAccess ? { onMediaAccess: opts.stream.onMediaAccess } : {}),
      ...(opts.stream?.statsMs !== undefined ? { statsMs: opts.stream.statsMs } : {}),
      ...(opts.stream?.frameBatchMs !== undefined ? { frameBatchMs: opts.stream.frameBatchMs } : {}),
    });
    if (opts.autoUnlock && this.keys.kind === 'os-keychain' && this.profileExists() && this.protection() === 'os-keychain') {
      void this.serial(() => this.unlock({})).then(
        () => this.emitProfile(),
        (e: unknown) => this.log.warn({ err: messageOfError(e) }, 'the profile could not be unlocked with the keychain'),
      );
    }
  }

  api(): Services {
    return {
      handlers: this.handlers(),
      paths: this.paths,
      subscribe: (listener) => {
        if (typeof listener !== 'function') throw new TypeError('listener must be a function');
        this.listeners.add(listener);
        return () => {
          this.listeners.delete(listener);
        };
      },
      on: (event, callback) => {
        if (typeof callback !== 'function') throw new TypeError('callback must be a function');
        const listener: ServiceEventListener = (e, payload) => {
          if (e === event) (callback as (p: unknown) => void)(payload);
        };
        this.listeners.add(listener);
        return () => {
          this.listeners.delete(listener);
        };
      },
      relayConfig: () => this.relay.config,
      close: () => this.close(),
    };
  }

  // ---- events ------------------------------------------------------------------------------

  private emit<E extends ServiceEventName>(event: E, payload: EventPayload<E>): void {
    const checked = parseEventPayload(event, payload);
    if (!checked.ok) {
      this.log.error({ event, problem: checked.error.message }, 'event payload does not match the contract; not sent');
      return;
    }
    for (const l of [...this.listeners]) {
      try {
        l(event, checked.value);
      } catch (e) {
        this.log.warn({ event, err: messageOfError(e) }, 'event listener failed');
      }
    }
  }

  private emitProfile(): void {
    this.emit('profile.changed', this.profileStatus());
  }

  // ---- serialization -----------------------------------------------------------------------

  /** Runs life-cycle changes (create, unlock, lock, network change, relay) one at a time. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lifecycle.then(fn, fn);
    this.lifecycle = run.catch(() => undefined);
    return run;
  }

  private requireUnlocked(): Unlocked {
    const u = this.unlocked;
    if (u === null) {
      throw this.profileExists()
        ? new ServiceError('profile.locked', 'Your profile is locked. Unlock it first.')
        : new ServiceError('profile.none', 'There is no profile yet. Create one first.');
    }
    return u;
  }

  // ---- profile -----------------------------------------------------------------------------

  private profileExists(): boolean {
    return existsSync(this.paths.identityKey);
  }

  private protection(): KeyProtection {
    const file = readProfileFile(this.paths.profileFile);
    if (file) return file.keyProtection;
    // Keys made by another tool (the terminal client) are sealed with a passphrase.
    return this.profileExists() ? 'passphrase' : this.keys.kind;
  }

  private profileStatus(): ProfileStatus {
    const keyProtection = this.protection();
    if (!this.profileExists()) return { state: 'none', keyProtection, ...(this.settings.displayName ? { displayName: this.settings.displayName } : {}) };
    const file = readProfileFile(this.paths.profileFile);
    const base = {
      keyProtection,
      ...(file ? { identity: file.identity } : {}),
      ...(this.settings.displayName ? { displayName: this.settings.displayName } : {}),
    };
    const u = this.unlocked;
    if (u === null) return { state: 'locked', ...base };
    return {
      state: u.phase,
      ...base,
      identity: u.identityText,
      ...(u.phase === 'offline' && u.problem ? { problem: u.problem } : {}),
      ...(u.phase === 'starting' && u.progress ? { progress: u.progress } : {}),
    };
  }

  /** The secret sealing the key files: the passphrase, or the keychain's per-profile secret. */
  private async secretFor(protection: KeyProtection, passphrase: string | undefined): Promise<string> {
    if (protection === 'passphrase') {
      if (passphrase === undefined) throw new ServiceError('profile.passphrase_required', 'Enter your passphrase.');
      return passphrase;
    }
    if (this.keys.kind !== 'os-keychain') {
      throw new ServiceError('profile.keychain_unavailable', 'This profile’s keys are sealed by the system keychain of the desktop app; open it there.');
    }
    try {
      return await this.keys.keychainSecret();
    } catch {
      throw new ServiceError('profile.keychain_unavailable', 'The system keychain did not provide this profile’s key.');
    }
  }

  private async create(params: MethodParams<'profile.create'>): Promise<ProfileStatus> {
    if (this.profileExists()) throw new ServiceError('profile.exists', 'A profile already exists here. Unlock it instead.');
    const protection = this.keys.kind;
    const secret = await this.secretFor(protection, params.passphrase);
    mkdirSync(this.paths.dir, { recursive: true, mode: 0o700 });
    const owner = this.takeOwnership();
    let identity: { publicKey: Uint8Array; text: string };
    try {
      const keyOpts = { suite: this.suite, ...(this.opts.scrypt ? { scrypt: this.opts.scrypt } : {}) };
      // The announcement key first: the identity key's file is what marks a profile as made.
      const announce = this.suite.randomBytes(32);
      await writeKeyFile(this.paths.announceKey, announce, secret, { ...keyOpts, overwrite: true });
      announce.fill(0);
      const seed = this.suite.randomBytes(32);
      const made = clientIdentity(this.suite, seed);
      identity = { publicKey: made.publicKey, text: made.text };
      writeProfileFile(this.paths.profileFile, { version: 1, identity: identity.text, keyProtection: protection, createdAt: Date.now() });
      await writeKeyFile(this.paths.identityKey, seed, secret, { ...keyOpts, overwrite: false });
      seed.fill(0);
    } catch (e) {
      owner.release();
      throw e;
    }
    this.settings = { ...this.settings, displayName: params.displayName };
    this.saveSettings();
    this.open(owner, secret, identity.publicKey, identity.text);
    return this.profileStatus();
  }

  private async unlock(params: MethodParams<'profile.unlock'>): Promise<ProfileStatus> {
    if (!this.profileExists()) throw new ServiceError('profile.none', 'There is no profile yet. Create one first.');
    const u = this.unlocked;
    if (u !== null) {
      // Already unlocked: an offline profile tries to go online again now.
      if (u.phase === 'offline') this.goOnline(u);
      return this.profileStatus();
    }
    const secret = await this.secretFor(this.protection(), params.passphrase);
    let seed: Uint8Array;
    try {
      seed = await readKeyFile(this.paths.identityKey, secret, { suite: this.suite });
    } catch (e) {
      if (e instanceof KeystoreError && e.code === 'auth-failed') {
        throw this.protection() === 'passphrase'
          ? new ServiceError('profile.wrong_passphrase', 'That passphrase is not right.')
          : new ServiceError('profile.keychain_unavailable', 'The system keychain’s key does not open this profile.');
      }
      if (e instanceof KeystoreError) throw new ServiceError('profile.keys_unusable', `The profile’s key file cannot be used: ${e.message}`);
      throw e;
    }
    if (seed.length !== 32) throw new ServiceError('profile.keys_unusable', 'The profile’s identity key file does not hold a 32-byte key.');
    const identity = clientIdentity(this.suite, seed);
    seed.fill(0);
    const owner = this.takeOwnership();
    this.open(owner, secret, identity.publicKey, identity.text);
    return this.profileStatus();
  }

  /** Takes the profile's owner file, clearing the SQLite lock a dead previous holder left. */
  private takeOwnership(): OwnerFile {
    mkdirSync(this.paths.dir, { recursive: true, mode: 0o700 });
    let owner: OwnerFile;
    try {
      owner = acquireOwnerFile(this.paths.lockFile);
    } catch (e) {
      if (e instanceof OwnedElsewhereError) {
        throw new ServiceError('profile.busy', `This profile is open in another window or process (process ${e.holder.pid}). Close it there first.`);
      }
      throw e;
    }
    if (owner.tookOverStale) {
      const removed = removeStaleSqliteLocks([this.paths.chatDb]);
      if (removed.length) this.log.warn({ pid: owner.previous?.pid }, 'removed the database lock a stopped process left behind');
    }
    return owner;
  }

  /** Opens the store and starts going online (in the background). */
  private open(owner: OwnerFile, secret: string, publicKey: Uint8Array, identityText: string): void {
    let store: SqliteChatStore;
    try {
      store = SqliteChatStore.open(this.paths.chatDb, { filesDir: this.paths.filesDir });
    } catch (e) {
      owner.release();
      if (e instanceof StorageError) {
        throw new ServiceError(
          'profile.storage',
          e.code === 'locked'
            ? 'The chat history is locked by another program. Close it and try again.'
            : `The chat history cannot be opened: ${e.message}`,
        );
      }
      throw e;
    }
    const u: Unlocked = { secret, publicKey, identityText, store, owner, client: null, lease: null, networkFile: null, phase: 'starting', gen: 0, retryTimer: null, gate: Promise.resolve() };
    this.unlocked = u;
    this.startNetworkTimer();
    this.goOnline(u);
  }

  private async lock(): Promise<ProfileStatus> {
    const u = this.unlocked;
    if (u === null) return this.profileStatus();
    await this.stream.stopAll('The profile was locked.');
    this.unlocked = null;
    u.gen++;
    if (u.retryTimer) clearTimeout(u.retryTimer);
    this.stopNetworkTimer();
    await this.stopRelayNode();
    for (const r of this.requests.values()) clearTimeout(r.timer);
    this.requests.clear();
    await u.gate.catch(() => undefined);
    await this.closeClient(u);
    this.releaseLease(u);
    u.store.close();
    u.owner.release();
    this.emitProfile();
    this.emit('requests.changed', { pending: 0 });
    return this.profileStatus();
  }

  private async closeClient(u: Unlocked): Promise<void> {
    const client = u.client;
    u.client = null;
    if (client) await client.close().catch((e: unknown) => this.log.warn({ err: messageOfError(e) }, 'closing the chat client failed'));
  }

  private releaseLease(u: Unlocked): void {
    u.lease?.release();
    u.lease = null;
    u.networkFile = null;
  }

  // ---- going online ------------------------------------------------------------------------

  private setPhase(u: Unlocked, phase: Unlocked['phase'], extra: { problem?: string; progress?: string } = {}): void {
    u.phase = phase;
    delete u.problem;
    delete u.progress;
    if (extra.problem !== undefined) u.problem = extra.problem;
    if (extra.progress !== undefined) u.progress = extra.progress;
    if (this.unlocked === u) this.emitProfile();
  }

  /** Tries to go online until it works; 'starting' for a while, then 'offline' with the problem, retrying. */
  private goOnline(u: Unlocked): void {
    const gen = ++u.gen;
    if (u.retryTimer) clearTimeout(u.retryTimer);
    u.retryTimer = null;
    const began = Date.now();
    const live = () => this.unlocked === u && u.gen === gen && !this.closed;
    const attempt = async (wait: number): Promise<void> => {
      if (!live()) return;
      this.setPhase(u, 'starting', { progress: 'Connecting…' });
      const outcome = await this.attemptOnline(u, live);
      if (!live()) return;
      if (outcome === null) {
        this.setPhase(u, 'online');
        this.emitNetwork();
        if (this.relayEnabled) void this.serial(() => this.startRelayNode()).catch(() => undefined);
        return;
      }
      this.log.warn({ problem: outcome }, 'going online failed');
      const next = Math.min(this.timing.retryMaxMs, wait * 2);
      if (Date.now() - began < this.timing.startingForMs) {
        this.setPhase(u, 'starting', { progress: `Retrying: ${outcome}` });
        u.retryTimer = setTimeout(() => void attempt(next), wait);
      } else {
        this.setPhase(u, 'offline', { problem: outcome });
        u.retryTimer = setTimeout(() => void attempt(next), this.timing.retryMaxMs);
      }
      u.retryTimer.unref?.();
    };
    void attempt(this.timing.retryFirstMs).catch((e: unknown) => this.log.error({ err: messageOfError(e) }, 'going online failed unexpectedly'));
  }

  /** One attempt; resolves null when online, else the problem in words (the client is closed then). */
  private async attemptOnline(u: Unlocked, live: () => boolean): Promise<string | null> {
    let step = 'network';
    let mine: ChatClient | null = null;
    const progress = (text: string) => {
      if (live()) this.setPhase(u, 'starting', { progress: text });
    };
    try {
      await this.withGate(u, () => this.closeClient(u));
      let networkFile = this.settings.networkFile;
      if (networkFile === null) {
        step = 'local-network';
        // A fresh lease each attempt (the keeper may have gone); the old one is let go only
        // after, so the network is not stopped in between for want of a user.
        progress('Starting the local network…');
        const lease = await acquireEmbeddedNetwork({
          dir: embeddedNetworkDir(this.paths.root),
          ...(this.opts.embeddedNetwork?.launch ? { launch: this.opts.embeddedNetwork.launch } : {}),
          ...(this.opts.embeddedNetwork?.timeoutMs ? { timeoutMs: this.opts.embeddedNetwork.timeoutMs } : {}),
          onProgress: progress,
        });
        if (!live()) {
          lease.release();
          return 'stopped';
        }
        this.releaseLease(u);
        u.lease = lease;
        networkFile = lease.networkFile;
        step = 'network';
      } else {
        this.releaseLease(u);
      }
      u.networkFile = networkFile;
      // How many presence points the network can carry (see presencePointsFor): from the list.
      step = 'list';
      progress('Fetching the node list…');
      const onionNodes = await this.countOnionNodes(networkFile);
      step = 'network';
      const client = await ChatClient.open({
        suite: this.suite,
        network: networkFile,
        dataDir: this.paths.dir,
        passphrase: u.secret,
        store: u.store,
        log: this.log,
        ...(this.opts.scrypt ? { scrypt: this.opts.scrypt } : {}),
        presencePoints: presencePointsFor(onionNodes),
        ...this.opts.chat,
        onRequest: (r) => this.onRequest(r),
      });
      mine = client;
      // The client takes over conversations only between conversation jobs (see withGate),
      // and only while this attempt is still the current one.
      await this.withGate(u, async () => {
        if (live()) u.client = client;
      });
      if (u.client !== client) {
        await client.close();
        return 'stopped';
      }
      this.wireClient(client);
      step = 'list';
      progress('Fetching the node list…');
      await client.session.start();
      step = 'register';
      progress('Registering your identity…');
      await client.session.register(client.identity);
      step = 'certificate';
      progress('Getting an access certificate…');
      await client.session.obtainCertificate(client.identity);
      step = 'presence';
      progress('Announcing your presence…');
      await client.start();
      return null;
    } catch (e) {
      this.log.info({ step, err: messageOfError(e) }, 'attempt to go online failed');
      // Close this attempt's client only: a newer attempt may have put its own in place.
      if (mine !== null) {
        const client = mine;
        await this.withGate(u, async () => {
          if (u.client === client) await this.closeClient(u);
          else await client.close().catch(() => undefined);
        });
      }
      return describeOnlineProblem(step, e);
    }
  }

  /** The onion nodes a verified node list of `networkFile` names (fetched over a throwaway session). */
  private async countOnionNodes(networkFile: string): Promise<number> {
    const probe = new ClientSession({ suite: this.suite, network: networkFile, log: this.log });
    try {
      await probe.refreshDirectory();
      return probe.relayNodes().length;
    } finally {
      probe.close();
    }
  }

  /** Forwards the messenger client's events as contract events. */
  private wireClient(client: ChatClient): void {
    const u = this.unlocked;
    if (u === null) return;
    const mine = () => this.unlocked === u && u.client === client;
    client.on('message', (peer, m) => {
      if (!mine()) return;
      this.toContract(u.store, m).then(
        (msg) => this.emit('chat.message', msg),
        (e: unknown) => this.log.warn({ err: messageOfError(e) }, 'message event not sent'),
      );
    });
    client.on('status', (peer, id, status) => {
      if (mine()) this.emit('chat.status', { peer, id, status });
    });
    client.on('typing', (peer, active) => {
      if (mine()) this.emit('chat.typing', { peer, active });
    });
    client.on('file-progress', (peer, fileId, bytes, total, direction) => {
      if (!mine()) return;
      if (direction === 'out') this.outProgress.set(`${peer}/${fileId}`, bytes);
      this.emit('chat.file', { peer, fileId, bytes, total, direction, complete: false });
    });
    client.on('file-complete', (peer, fileId) => {
      if (!mine()) return;
      void this.fileEvent(u.store, peer, fileId);
    });
    client.on('file-failed', (peer, fileId) => {
      if (!mine()) return;
      void this.fileEvent(u.store, peer, fileId);
    });
    client.on('channel', () => {
      if (mine()) this.emit('contacts.changed', {});
    });
    client.on('error', (e) => this.log.warn({ err: e.message }, 'chat client error'));
    // Diagnostics: peers appear as a short prefix of their key only.
    client.on('channel', (peer, state, detail) => this.log.info({ peer: peer.slice(0, 8), state, ...detail }, 'chat channel'));
    client.on('dial-failed', (peer, reason) => this.log.info({ peer: peer.slice(0, 8), reason }, 'chat dial failed'));
    client.on('mailbox-deposited', (peer, items, nodes) => this.log.info({ peer: peer.slice(0, 8), items, nodes }, 'left mail for an offline peer'));
    client.on('mailbox-received', (peer, frames) => this.log.info({ peer: peer.slice(0, 8), frames }, 'mail received'));
    client.on('presence-cap', (info) => this.log.warn(info, 'presence nodes refused introductions: cap reached'));
  }

  /** A chat.file event for a transfer that ended, from the store's record of it. */
  private async fileEvent(store: ChatStore, peer: string, fileId: string): Promise<void> {
    try {
      const t = (await store.transfer(peer, fileId, 'in')) ?? (await store.transfer(peer, fileId, 'out'));
      if (t === undefined) return;
      const failed = t.state === 'failed' || t.state === 'cancelled' ? (FILE_FAILURES[t.reason ?? 'cancelled'] ?? t.reason ?? 'failed') : undefined;
      const complete = t.state === 'complete';
      this.emit('chat.file', {
        peer,
        fileId,
        bytes: complete ? t.size : t.direction === 'in' ? t.bytes : (this.outProgress.get(`${peer}/${fileId}`) ?? 0),
        total: t.size,
        direction: t.direction,
        complete,
        ...(failed !== undefined ? { failed } : {}),
      });
      if (complete || failed !== undefined) this.outProgress.delete(`${peer}/${fileId}`);
    } catch (e) {
      this.log.warn({ err: messageOfError(e) }, 'file event not sent');
    }
  }

  // ---- chat requests -----------------------------------------------------------------------

  private onRequest(r: IncomingRequest): void {
    if (this.settings.acceptStrangers) {
      r.accept().then(
        () => this.emit('contacts.changed', {}),
        (e: unknown) => this.log.info({ err: messageOfError(e) }, 'accepting a chat request failed'),
      );
      return;
    }
    const id = randomBytes(12).toString('hex');
    const timer = setTimeout(() => {
      if (this.requests.delete(id)) this.emit('requests.changed', { pending: this.requests.size });
    }, this.timing.requestTtlMs);
    timer.unref?.();
    this.requests.set(id, { id, request: r, receivedAt: Date.now(), timer });
    this.emit('requests.changed', { pending: this.requests.size });
  }

  private async answerRequest(params: MethodParams<'requests.answer'>): Promise<Record<string, never>> {
    this.requireUnlocked();
    const pending = this.requests.get(params.id);
    if (pending === undefined) {
      throw new ServiceError('requests.not_found', 'That request is no longer waiting (it was answered or it expired).');
    }
    this.requests.delete(params.id);
    clearTimeout(pending.timer);
    this.emit('requests.changed', { pending: this.requests.size });
    try {
      if (params.accept) await pending.request.accept();
      else await pending.request.deny();
    } catch (e) {
      this.log.info({ err: messageOfError(e) }, 'answering a chat request failed');
      throw new ServiceError('requests.failed', params.accept ? 'The chat could not be opened: the other side is no longer reachable.' : 'The answer could not be delivered.');
    }
    if (params.accept) this.emit('contacts.changed', {});
    return {};
  }

  // ---- conversations -----------------------------------------------------------------------

  /** Runs `fn` after every conversation job before it (and after the client's arrival). */
  private withGate<T>(u: Unlocked, fn: () => Promise<T>): Promise<T> {
    const run = u.gate.then(fn, fn);
    u.gate = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs `fn` on the peer's conversation: the client's when there is a client; otherwise one
   * opened on the store for this job only (what it stores is sent when the client comes).
   */
  private withConversation<T>(u: Unlocked, peer: Uint8Array, fn: (c: Conversation, client: ChatClient | null) => Promise<T>): Promise<T> {
    return this.withGate(u, async () => {
      const client = u.client;
      if (client) return fn(await client.conversation(peer), client);
      const conv = await Conversation.open({
        self: u.publicKey,
        peer,
        store: u.store,
        scheduler: realScheduler,
        random: (n) => this.suite.randomBytes(n),
      });
      try {
        return await fn(conv, null);
      } finally {
        await conv.whenIdle().catch(() => undefined);
        conv.close();
      }
    });
  }

  private readMarks(): Record<string, number> {
    try {
      const raw = readJsonFile(this.paths.readMarksFile);
      if (typeof raw !== 'object' || raw === null) return {};
      return Object.fromEntries(
        Object.entries(raw as Record<string, unknown>).filter(([k, v]) => /^[0-9a-f]{64}$/.test(k) && typeof v === 'number' && Number.isSafeInteger(v) && v >= 0),
      ) as Record<string, number>;
    } catch {
      return {};
    }
  }

  private async toContract(store: ChatStore, m: StoreMessage, marks = this.readMarks()): Promise<ContractMessage> {
    const mark = marks[m.peer] ?? 0;
    const status = m.direction === 'in' && m.status === 'received' && m.seq <= mark ? 'read' : m.status;
    const out: ContractMessage = {
      id: m.id,
      peer: m.peer,
      direction: m.direction,
      kind: m.kind,
      sentAt: m.sentAt,
      status,
      ...(m.text !== undefined ? { text: m.text } : {}),
      ...(m.receivedAt !== undefined ? { receivedAt: m.receivedAt } : {}),
    };
    if (m.kind === 'file' && m.file) {
      const t = await store.transfer(m.peer, m.file.fileId, m.direction);
      out.file = this.fileInfo(m.file, t);
    }
    return out;
  }

  private fileInfo(file: NonNullable<StoreMessage['file']>, t: FileTransfer | undefined): NonNullable<ContractMessage['file']> {
    const complete = t?.state === 'complete';
    const failed = t && (t.state === 'failed' || t.state === 'cancelled') ? (FILE_FAILURES[t.reason ?? 'cancelled'] ?? t.reason ?? 'failed') : undefined;
    const transferred = complete ? file.size : t === undefined ? 0 : t.direction === 'in' ? t.bytes : (this.outProgress.get(`${t.peer}/${t.fileId}`) ?? 0);
    return { fileId: file.fileId, name: file.name, size: file.size, transferred, complete, ...(failed !== undefined ? { failed } : {}) };
  }

  /** Incoming messages not yet read, counting the local read mark. */
  private async unread(store: ChatStore, peer: string, storeUnread: number, mark: number): Promise<number> {
    if (storeUnread === 0 || mark === 0) return storeUnread;
    let count = 0;
    let before: string | undefined;
    for (;;) {
      const page = await store.listMessages(peer, { limit: 200, ...(before ? { before } : {}) });
      for (let i = page.length - 1; i >= 0; i--) {
        const m = page[i]!;
        if (m.direction !== 'in') continue;
        if (m.seq <= mark) return count;
        if (m.status === 'received') count++;
      }
      if (page.length < 200) return count;
      before = page[0]!.id;
    }
  }

  private displayNameOf(contactName: string | undefined, peer: string): string {
    if (contactName) return contactName;
    return formatIdentity({ namespace: CLIENT_NAMESPACE, app: CLIENT_APP, publicKey: fromHex(peer) });
  }

  private async conversations(): Promise<MethodResult<'chat.conversations'>> {
    const u = this.requireUnlocked();
    const marks = this.readMarks();
    const list = await u.store.listConversations();
    const active = await Promise.all(
      list.map(async (c) => ({
        peer: c.peer,
        name: this.displayNameOf(c.name, c.peer),
        unread: await this.unread(u.store, c.peer, c.unread, marks[c.peer] ?? 0),
        ...(c.last ? { last: await this.toContract(u.store, c.last, marks) } : {}),
      })),
    );
    // Contacts not written with yet follow, by name, so a chat can start from the list.
    const seen = new Set(active.map((c) => c.peer));
    const quiet = (await u.store.contacts()).filter((c) => !seen.has(c.key)).map((c) => ({ peer: c.key, name: c.name, unread: 0 }));
    return [...active, ...quiet];
  }

  private async messages(params: MethodParams<'chat.messages'>): Promise<ContractMessage[]> {
    const u = this.requireUnlocked();
    let list: StoreMessage[];
    try {
      list = await u.store.listMessages(params.peer, { limit: params.limit ?? 100, ...(params.before ? { before: params.before } : {}) });
    } catch (e) {
      if (e instanceof RangeError) throw new ServiceError('chat.not_found', 'There is no such message in this conversation.');
      throw e;
    }
    const marks = this.readMarks();
    return Promise.all(list.map((m) => this.toContract(u.store, m, marks)));
  }

  private peerKey(peer: string): Uint8Array {
    const key = fromHex(peer);
    if (toHex(key) === toHex(this.requireUnlocked().publicKey)) throw new ServiceError('chat.self', 'You cannot chat with yourself.');
    return key;
  }

  private async send(params: MethodParams<'chat.send'>): Promise<ContractMessage> {
    const u = this.requireUnlocked();
    const peer = this.peerKey(params.peer);
    let m: StoreMessage;
    try {
      m = await this.withConversation(u, peer, (c, client) => (client ? client.sendText(peer, params.text) : c.sendText(params.text)));
    } catch (e) {
      if (e instanceof RangeError) throw new ServiceError('chat.invalid_text', `The message cannot be sent: ${messageOfError(e)}.`);
      throw e;
    }
    return this.toContract(u.store, m);
  }

  private async sendFile(params: MethodParams<'chat.sendFile'>): Promise<ContractMessage> {
    const u = this.requireUnlocked();
    const peer = this.peerKey(params.peer);
    const problem = fileNameProblem(params.name);
    if (problem !== null) throw new ServiceError('chat.invalid_file', `The file name ${problem}.`);
    const bytes = Buffer.from(params.data, 'base64');
    if (bytes.toString('base64') !== params.data) throw new ServiceError('chat.invalid_file', 'The file data is not valid base64.');
    if (bytes.length > MAX_SEND_FILE_BYTES) throw new ServiceError('chat.file_too_large', 'The file is larger than 16 MiB.');
    // The bytes go to a file in the profile first and are read back from it, as from any file
    // the user picks; the store copies them and the temporary file is removed.
    mkdirSync(this.paths.outgoingDir, { recursive: true, mode: 0o700 });
    const tmp = join(this.paths.outgoingDir, `${randomBytes(12).toString('hex')}.part`);
    const wfd = openSync(tmp, 'wx', 0o600);
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(wfd, bytes, off, bytes.length - off);
    } finally {
      closeSync(wfd);
    }
    try {
      const rfd = openSync(tmp, 'r');
      try {
        const file = {
          name: params.name,
          size: bytes.length,
          sha256: sha256(bytes),
          read: async (offset: number, length: number): Promise<Uint8Array> => {
            const out = new Uint8Array(length);
            let got = 0;
            while (got < length) {
              const n = readSync(rfd, out, got, length - got, offset + got);
              if (n === 0) break;
              got += n;
            }
            return got === length ? out : out.subarray(0, got);
          },
        };
        const m = await this.withConversation(u, peer, (c, client) => (client ? client.sendFile(peer, file) : c.sendFile(file)));
        return await this.toContract(u.store, m);
      } finally {
        closeSync(rfd);
      }
    } catch (e) {
      if (e instanceof RangeError) throw new ServiceError('chat.invalid_file', `The file cannot be sent: ${messageOfError(e)}.`);
      throw e;
    } finally {
      try {
        unlinkSync(tmp);
      } catch {
        // gone already
      }
    }
  }

  private async fileData(params: MethodParams<'chat.fileData'>): Promise<MethodResult<'chat.fileData'>> {
    const u = this.requireUnlocked();
    const t = (await u.store.transfer(params.peer, params.fileId, 'in')) ?? (await u.store.transfer(params.peer, params.fileId, 'out'));
    if (t === undefined) throw new ServiceError('chat.not_found', 'There is no such file in this conversation.');
    const whole = t.direction === 'in' ? t.state === 'complete' : t.state !== 'preparing' && t.bytes === t.size;
    if (!whole) throw new ServiceError('chat.file_incomplete', t.direction === 'in' ? 'The file has not fully arrived yet.' : 'The file is still being prepared.');
    const parts: Uint8Array[] = [];
    for (let off = 0; off < t.size; off += 1 << 20) {
      parts.push(await u.store.readFileBytes(params.peer, params.fileId, t.direction, off, Math.min(1 << 20, t.size - off)));
    }
    return { name: t.name, data: Buffer.concat(parts).toString('base64') };
  }

  private async markRead(params: MethodParams<'chat.markRead'>): Promise<Record<string, never>> {
    const u = this.requireUnlocked();
    const peer = this.peerKey(params.peer);
    if (this.settings.readReceipts) {
      await this.withConversation(u, peer, async (c, client) => {
        if (client) await client.markRead(peer);
        else await c.markRead();
      });
    } else {
      const state = await u.store.conversationState(params.peer);
      const marks = this.readMarks();
      if ((marks[params.peer] ?? 0) < state.lastInMessageSeq) {
        marks[params.peer] = state.lastInMessageSeq;
        writeFileAtomic(this.paths.readMarksFile, JSON.stringify(marks) + '\n');
      }
    }
    return {};
  }

  private async typing(params: MethodParams<'chat.typing'>): Promise<Record<string, never>> {
    const u = this.requireUnlocked();
    const peer = this.peerKey(params.peer);
    // Typing is unreliable by design: without a client there is nobody to tell.
    const client = u.client;
    if (client) await client.setTyping(peer, params.active);
    return {};
  }

  private async search(params: MethodParams<'chat.search'>): Promise<ContractMessage[]> {
    const u = this.requireUnlocked();
    const found = await u.store.searchMessages(params.query, { limit: params.limit ?? 50, ...(params.peer ? { peer: params.peer } : {}) });
    const marks = this.readMarks();
    return Promise.all(found.map((m) => this.toContract(u.store, m, marks)));
  }

  // ---- contacts ----------------------------------------------------------------------------

  private async contactList(): Promise<MethodResult<'contacts.list'>> {
    const u = this.requireUnlocked();
    const list = await u.store.contacts();
    return list.map((c) => ({
      key: c.key,
      identity: c.identity ?? formatIdentity({ namespace: CLIENT_NAMESPACE, app: CLIENT_APP, publicKey: fromHex(c.key) }),
      name: c.name,
      addedAt: c.addedAt,
      connected: u.client?.isConnected(fromHex(c.key)) ?? false,
    }));
  }

  private async contactOf(u: Unlocked, key: string): Promise<MethodResult<'contacts.add'>> {
    const c = (await u.store.contacts()).find((x) => x.key === key);
    if (c === undefined) throw new ServiceError('contacts.not_found', 'That person is not in your contacts.');
    return {
      key: c.key,
      identity: c.identity ?? formatIdentity({ namespace: CLIENT_NAMESPACE, app: CLIENT_APP, publicKey: fromHex(c.key) }),
      name: c.name,
      addedAt: c.addedAt,
      connected: u.client?.isConnected(fromHex(c.key)) ?? false,
    };
  }

  private async addContact(params: MethodParams<'contacts.add'>): Promise<MethodResult<'contacts.add'>> {
    const u = this.requireUnlocked();
    let id;
    try {
      id = parseIdentity(params.identity);
    } catch (e) {
      throw new ServiceError('contacts.invalid_identity', `That is not a valid identity: ${messageOfError(e)}.`);
    }
    if (toHex(id.publicKey) === toHex(u.publicKey)) throw new ServiceError('contacts.self', 'That is your own identity.');
    try {
      await u.store.addContact(id.publicKey, params.name, id.text);
    } catch (e) {
      if (e instanceof RangeError || e instanceof TypeError) throw new ServiceError('contacts.invalid_name', `That name cannot be used: ${messageOfError(e)}.`);
      throw e;
    }
    this.emit('contacts.changed', {});
    return this.contactOf(u, toHex(id.publicKey));
  }

  private async renameContact(params: MethodParams<'contacts.rename'>): Promise<MethodResult<'contacts.rename'>> {
    const u = this.requireUnlocked();
    const existing = (await u.store.contacts()).find((x) => x.key === params.key);
    if (existing === undefined) throw new ServiceError('contacts.not_found', 'That person is not in your contacts.');
    try {
      await u.store.addContact(params.key, params.name);
    } catch (e) {
      if (e instanceof RangeError || e instanceof TypeError) throw new ServiceError('contacts.invalid_name', `That name cannot be used: ${messageOfError(e)}.`);
      throw e;
    }
    this.emit('contacts.changed', {});
    return this.contactOf(u, params.key);
  }

  private async removeContact(params: MethodParams<'contacts.remove'>): Promise<MethodResult<'contacts.remove'>> {
    const u = this.requireUnlocked();
    const removed = await u.store.removeContact(params.key);
    if (removed) this.emit('contacts.changed', {});
    return { removed };
  }

  // ---- network -----------------------------------------------------------------------------

  private networkStatus(): NetworkStatus {
    const u = this.unlocked;
    const client = u?.client ?? null;
    const session = client?.session;
    const consensus = session?.consensus;
    const nickname = (key: Uint8Array): string => consensus?.nodes.find((n) => toHex(n.identity) === toHex(key))?.nickname ?? '';
    const now = Date.now();
    const certificate = session?.certificate?.verified;
    return {
      network: session?.network.network ?? '',
      networkFile: this.settings.networkFile,
      online: u?.phase === 'online' && consensus !== undefined && certificate !== undefined && certificate.expiresAt > now,
      listAgeMs: consensus ? Math.max(0, now - consensus.validAfter) : null,
      listedNodes: consensus?.nodes.length ?? 0,
      openCircuits: session?.onion.circuits.openCircuits.length ?? 0,
      openChannels: client?.openChannels ?? 0,
      presencePoints: (client?.presencePoints ?? []).map((p) => ({ identity: base58.encode(p.identity), nickname: nickname(p.identity), accepted: p.accepted })),
      guards: (session?.onion.manager.guards ?? []).map((g) => ({ identity: base58.encode(g), nickname: nickname(g) })),
      certificateExpiresAt: certificate?.expiresAt ?? null,
    };
  }

  private emitNetwork(): void {
    this.emit('network.changed', this.networkStatus());
  }

  private startNetworkTimer(): void {
    this.stopNetworkTimer();
    this.networkTimer = setInterval(() => {
      if (this.unlocked !== null) this.emitNetwork();
    }, this.timing.networkEventMs);
    this.networkTimer.unref?.();
  }

  private stopNetworkTimer(): void {
    if (this.networkTimer) clearInterval(this.networkTimer);
    this.networkTimer = null;
  }

  // ---- relay -------------------------------------------------------------------------------

  private relayStateFile(): string {
    return join(this.paths.dir, 'relay.json');
  }

  private readRelayEnabled(): boolean {
    try {
      const raw = readJsonFile(this.relayStateFile()) as { enabled?: unknown } | undefined;
      return raw?.enabled === true;
    } catch {
      return false;
    }
  }

  private relayStatus(): RelayStatus {
    const f = this.relay.figures();
    return {
      enabled: this.relayEnabled,
      running: f.running,
      listed: f.listed,
      nickname: f.nickname,
      identity: f.identity,
      address: f.address,
      bandwidthKBps: this.settings.relayBandwidthKBps,
      circuits: f.circuits,
      circuitsTotal: f.circuitsTotal,
      bytesUp: f.bytesUp,
      bytesDown: f.bytesDown,
      uptimeMs: f.uptimeMs,
      ...(this.relayProblem ? { problem: this.relayProblem } : {}),
    };
  }

  private async startRelayNode(): Promise<void> {
    const u = this.unlocked;
    if (!this.relayEnabled || u === null || u.networkFile === null) return;
    try {
      await this.relay.start(u.networkFile, this.settings.relayBandwidthKBps);
      this.relayProblem = undefined;
    } catch (e) {
      this.log.warn({ err: messageOfError(e) }, 'relay node did not start');
      this.relayProblem = `The relay node could not start: ${messageOfError(e)}.`;
    }
    if (this.relay.running && this.relayTimer === null) {
      this.relayTimer = setInterval(() => this.emit('relay.changed', this.relayStatus()), this.timing.relayEventMs);
      this.relayTimer.unref?.();
    }
    this.emit('relay.changed', this.relayStatus());
  }

  private async stopRelayNode(): Promise<void> {
    if (this.relayTimer) clearInterval(this.relayTimer);
    this.relayTimer = null;
    await this.relay.stop().catch((e: unknown) => this.log.warn({ err: messageOfError(e) }, 'relay node did not stop cleanly'));
    this.emit('relay.changed', this.relayStatus());
  }

  private async setRelay(params: MethodParams<'relay.set'>): Promise<RelayStatus> {
    const u = this.requireUnlocked();
    if (params.bandwidthKBps !== undefined && params.bandwidthKBps !== this.settings.relayBandwidthKBps) {
      this.settings = { ...this.settings, relayBandwidthKBps: params.bandwidthKBps };
      this.saveSettings();
    }
    this.relayEnabled = params.enabled;
    writeFileAtomic(this.relayStateFile(), JSON.stringify({ enabled: params.enabled }) + '\n');
    if (!params.enabled) {
      this.relayProblem = undefined;
      await this.stopRelayNode();
      return this.relayStatus();
    }
    if (u.phase !== 'online' || u.networkFile === null) {
      this.relayProblem = 'The relay node starts once you are online.';
      this.emit('relay.changed', this.relayStatus());
      return this.relayStatus();
    }
    await this.startRelayNode();
    if (this.relayProblem !== undefined && !this.relay.running) throw new ServiceError('relay.failed', this.relayProblem);
    return this.relayStatus();
  }

  // ---- live streams ------------------------------------------------------------------------

  /** The online profile's session and identity, for ./stream. */
  private streamContext(): { session: ClientSession; identity: ChatClient['identity'] } {
    const u = this.requireUnlocked();
    const client = u.client;
    if (client === null || u.phase !== 'online') {
      throw new ServiceError('stream.offline', 'You are offline. Live streams work once you are online.');
    }
    return { session: client.session, identity: client.identity };
  }

  // ---- settings ----------------------------------------------------------------------------

  private async setSettings(params: MethodParams<'settings.set'>): Promise<Settings> {
    const next: Settings = { ...this.settings };
    for (const [k, v] of Object.entries(params)) if (v !== undefined) (next as Record<string, unknown>)[k] = v;
    if (params.displayName !== undefined && params.displayName.trim().length === 0) {
      throw new ServiceError('settings.invalid_display_name', 'The display name must not be empty.');
    }
    if (params.displayName !== undefined) next.displayName = params.displayName.trim().slice(0, 128);
    if (typeof params.networkFile === 'string') {
      try {
        const net = parseNetworkFile(readFileSync(params.networkFile, 'utf8'), params.networkFile);
        if (!net.directory || !net.authority) throw new Error('it names no discovery or no authority nodes');
      } catch (e) {
        throw new ServiceError('settings.invalid_network_file', `That network file cannot be used: ${messageOfError(e)}.`);
      }
    }
    const networkChanged = next.networkFile !== this.settings.networkFile;
    const bandwidthChanged = next.relayBandwidthKBps !== this.settings.relayBandwidthKBps;
    this.settings = next;
    this.saveSettings();
    const u = this.unlocked;
    if (networkChanged && u !== null) {
      // Another network: the relay and the client move to it; streams on the old one end.
      await this.stream.stopAll('The network changed.');
      await this.stopRelayNode();
      this.goOnline(u);
    } else if (bandwidthChanged && this.relay.running) {
      await this.startRelayNode();
    }
    if (params.displayName !== undefined) this.emitProfile();
    return { ...this.settings };
  }

  private saveSettings(): void {
    mkdirSync(this.paths.dir, { recursive: true, mode: 0o700 });
    saveSettings(this.paths.settingsFile, this.settings);
  }

  // ---- the table ---------------------------------------------------------------------------

  private handlers(): ServiceHandlers {
    return {
      'app.version': () => ({ version: this.opts.appVersion }),
      'profile.status': () => this.profileStatus(),
      'profile.create': (p) => this.serial(() => this.create(p)),
      'profile.unlock': (p) => this.serial(() => this.unlock(p)),
      'profile.lock': () => this.serial(() => this.lock()),
      'contacts.list': () => this.contactList(),
      'contacts.add': (p) => this.addContact(p),
      'contacts.rename': (p) => this.renameContact(p),
      'contacts.remove': (p) => this.removeContact(p),
      'requests.list': () => {
        this.requireUnlocked();
        return [...this.requests.values()].map((r) => ({ id: r.id, from: r.request.from.text, greeting: r.request.greeting, receivedAt: r.receivedAt }));
      },
      'requests.answer': (p) => this.answerRequest(p),
      'chat.conversations': () => this.conversations(),
      'chat.messages': (p) => this.messages(p),
      'chat.send': (p) => this.send(p),
      'chat.sendFile': (p) => this.sendFile(p),
      'chat.fileData': (p) => this.fileData(p),
      'chat.markRead': (p) => this.markRead(p),
      'chat.typing': (p) => this.typing(p),
      'chat.search': (p) => this.search(p),
      'network.status': () => this.networkStatus(),
      'relay.status': () => this.relayStatus(),
      'relay.set': (p) => this.serial(() => this.setRelay(p)),
      'settings.get': () => ({ ...this.settings }),
      'settings.set': (p) => this.serial(() => this.setSettings(p)),
      ...this.stream.handlers(),
    };
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    await this.serial(async () => {
      await this.lock();
      await this.stopRelayNode();
      this.closed = true;
      this.listeners.clear();
      // A folder left by an interrupted sendFile holds only copies; clear it.
      rmSync(this.paths.outgoingDir, { recursive: true, force: true });
    });
  }
}

export { DEFAULT_SETTINGS };
