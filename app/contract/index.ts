/**
 * The API between the UI and the backend (DESIGN §2, "app/contract"): a registry that maps every
 * method name to a runtime schema for its params and one for its result, and every event name to a
 * schema for its payload. The same registry is served over Electron IPC (through the preload) and
 * over the web host's WebSocket.
 *
 * Handlers parse `unknown` input with these schemas and answer with a Result; nothing here performs
 * I/O. The plain-data half (names, channels, Result helpers) lives in `./wire` and is re-exported.
 */
import { z } from 'zod';
import type { EventName, MethodName, Result } from './wire';
import { ERROR_CODES, err, isEventName, isMethodName, ok } from './wire';

export * from './wire';

/** One method: what the renderer sends and what it gets back inside `{ ok: true, value }`. */
export interface MethodSpec {
  readonly params: z.ZodType;
  readonly result: z.ZodType;
}

/** Version strings as reported by the app (semver with optional pre-release/build suffix). */
const versionString = z.string().min(1).max(64).regex(/^[0-9A-Za-z.+-]+$/);

// ---- shared shapes ------------------------------------------------------------------------------

/** An identity key as 64 lower-case hex characters (how the UI names a peer). */
export const peerKey = z.string().regex(/^[0-9a-f]{64}$/, 'a 64-character hex key');
/** An identity string, `<namespace>.<app>.account.<base58 key>` (checked fully by the backend). */
export const identityString = z.string().min(20).max(200).regex(/^[a-z0-9-]+\.[a-z0-9-]+\.account\.[1-9A-HJ-NP-Za-km-z]+$/, 'an identity string like sirius.chat.account.…');
const displayName = z.string().trim().min(1).max(128);
const passphrase = z.string().min(8, 'at least 8 characters').max(1024);
const messageId = z.string().regex(/^[0-9a-f]{32}$/);
const time = z.number().int().nonnegative();

export const profileState = z.enum(['none', 'locked', 'starting', 'online', 'offline']);
export const profileStatus = z.strictObject({
  state: profileState,
  /** The identity string, once an identity exists. */
  identity: z.string().optional(),
  displayName: z.string().optional(),
  /** Why the profile is offline, in words for the user. */
  problem: z.string().optional(),
  /** While 'starting': what is happening now, in words for the user ("Fetching the node list…"). */
  progress: z.string().optional(),
  /** Whether keys are sealed by the OS keychain (Electron safeStorage) or by the passphrase. */
  keyProtection: z.enum(['os-keychain', 'passphrase']),
});

export const contact = z.strictObject({
  key: peerKey,
  identity: z.string(),
  name: z.string(),
  addedAt: time,
  /** A channel to the contact is open right now. */
  connected: z.boolean(),
});

export const request = z.strictObject({
  id: z.string().min(1).max(64),
  from: z.string(),
  greeting: z.string(),
  receivedAt: time,
});

export const messageStatus = z.enum(['pending', 'sent', 'delivered', 'read', 'received', 'failed']);
export const chatMessage = z.strictObject({
  id: messageId,
  peer: peerKey,
  direction: z.enum(['in', 'out']),
  kind: z.enum(['text', 'file']),
  text: z.string().optional(),
  file: z
    .strictObject({
      fileId: z.string(),
      name: z.string(),
      size: z.number().int().nonnegative(),
      /** Bytes transferred so far, and whether the whole file arrived and matched. */
      transferred: z.number().int().nonnegative(),
      complete: z.boolean(),
      failed: z.string().optional(),
    })
    .optional(),
  sentAt: time,
  receivedAt: time.optional(),
  status: messageStatus,
});

export const conversationSummary = z.strictObject({
  peer: peerKey,
  name: z.string(),
  last: chatMessage.optional(),
  unread: z.number().int().nonnegative(),
});

export const networkStatus = z.strictObject({
  network: z.string(),
  /** The network file in use, or null for the embedded local network. */
  networkFile: z.string().nullable(),
  online: z.boolean(),
  /** Age of the signed node list, and how many nodes it names. */
  listAgeMs: z.number().nonnegative().nullable(),
  listedNodes: z.number().int().nonnegative(),
  openCircuits: z.number().int().nonnegative(),
  openChannels: z.number().int().nonnegative(),
  presencePoints: z.array(z.strictObject({ identity: z.string(), nickname: z.string(), accepted: z.boolean() })),
  guards: z.array(z.strictObject({ identity: z.string(), nickname: z.string() })),
  certificateExpiresAt: time.nullable(),
});

export const relayStatus = z.strictObject({
  enabled: z.boolean(),
  running: z.boolean(),
  /** Whether the node appears in the newest signed node list. */
  listed: z.boolean(),
  nickname: z.string().nullable(),
  identity: z.string().nullable(),
  address: z.string().nullable(),
  bandwidthKBps: z.number().int().positive(),
  circuits: z.number().int().nonnegative(),
  circuitsTotal: z.number().int().nonnegative(),
  bytesUp: z.number().nonnegative(),
  bytesDown: z.number().nonnegative(),
  uptimeMs: z.number().nonnegative(),
  problem: z.string().optional(),
});

export const settings = z.strictObject({
  displayName: z.string(),
  /** null: the embedded local network; otherwise the path of a network file. */
  networkFile: z.string().nullable(),
  /** Accept chat requests from people who are not contacts without asking. */
  acceptStrangers: z.boolean(),
  /** Send read receipts. */
  readReceipts: z.boolean(),
  relayBandwidthKBps: z.number().int().min(16).max(1_000_000),
});

const empty = z.strictObject({});

/**
 * Method registry. `satisfies` makes the compiler reject a method missing here or one that is not
 * in METHOD_NAMES.
 */
export const methods = {
  /** The application's version. */
  'app.version': {
    params: empty,
    result: z.strictObject({ version: versionString }),
  },
  /** Whether an identity exists, is unlocked and online. */
  'profile.status': { params: empty, result: profileStatus },
  /** Creates the identity (keys sealed at rest), registers it and goes online. */
  'profile.create': {
    params: z.strictObject({ displayName, passphrase: passphrase.optional() }),
    result: profileStatus,
  },
  /** Unlocks the identity (passphrase unless the OS keychain seals it) and goes online. */
  'profile.unlock': { params: z.strictObject({ passphrase: passphrase.optional() }), result: profileStatus },
  /** Goes offline and forgets the unlocked keys. */
  'profile.lock': { params: empty, result: profileStatus },

  'contacts.list': { params: empty, result: z.array(contact) },
  'contacts.add': { params: z.strictObject({ identity: identityString, name: displayName }), result: contact },
  'contacts.rename': { params: z.strictObject({ key: peerKey, name: displayName }), result: contact },
  'contacts.remove': { params: z.strictObject({ key: peerKey }), result: z.strictObject({ removed: z.boolean() }) },

  /** Chat requests from people who are not contacts, waiting for an answer. */
  'requests.list': { params: empty, result: z.array(request) },
  'requests.answer': { params: z.strictObject({ id: z.string().min(1).max(64), accept: z.boolean() }), result: empty },

  /** Conversations, the most recently active first, then contacts not written with yet (no `last`). */
  'chat.conversations': { params: empty, result: z.array(conversationSummary) },
  'chat.messages': {
    params: z.strictObject({ peer: peerKey, before: messageId.optional(), limit: z.number().int().min(1).max(500).default(100) }),
    result: z.array(chatMessage),
  },
  'chat.send': { params: z.strictObject({ peer: peerKey, text: z.string().min(1).max(65_536) }), result: chatMessage },
  /** Sends a file (base64, at most 16 MiB decoded). */
  'chat.sendFile': {
    params: z.strictObject({
      peer: peerKey,
      name: z.string().min(1).max(255),
      data: z.string().max(Math.ceil((16 * 1024 * 1024) / 3) * 4).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64'),
    }),
    result: chatMessage,
  },
  /** A received (or sent) file's bytes, base64, once complete. */
  'chat.fileData': {
    params: z.strictObject({ peer: peerKey, fileId: z.string().regex(/^[0-9a-f]{32}$/) }),
    result: z.strictObject({ name: z.string(), data: z.string() }),
  },
  'chat.markRead': { params: z.strictObject({ peer: peerKey }), result: empty },
  'chat.typing': { params: z.strictObject({ peer: peerKey, active: z.boolean() }), result: empty },
  /** Messages whose text contains `query` (case-insensitive), newest first. */
  'chat.search': {
    params: z.strictObject({ query: z.string().min(1).max(256), peer: peerKey.optional(), limit: z.number().int().min(1).max(200).default(50) }),
    result: z.array(chatMessage),
  },

  'network.status': { params: empty, result: networkStatus },
  'relay.status': { params: empty, result: relayStatus },
  /** Starts or stops the onion node inside the app ("also run as relay node"). */
  'relay.set': {
    params: z.strictObject({ enabled: z.boolean(), bandwidthKBps: z.number().int().min(16).max(1_000_000).optional() }),
    result: relayStatus,
  },
  'settings.get': { params: empty, result: settings },
  'settings.set': { params: settings.partial().strict(), result: settings },
} as const satisfies { readonly [M in MethodName]: MethodSpec };

/** Event registry, checked against EVENT_NAMES the same way. */
export const events = {
  /** Whether the backend process is running and answering. Sent by the main process. */
  'backend.status': z.strictObject({ connected: z.boolean() }),
  'profile.changed': profileStatus,
  /** The contact list changed (added, renamed, removed, connected or not): fetch it again. */
  'contacts.changed': empty,
  'requests.changed': z.strictObject({ pending: z.number().int().nonnegative() }),
  'chat.message': chatMessage,
  'chat.status': z.strictObject({ peer: peerKey, id: messageId, status: messageStatus }),
  'chat.typing': z.strictObject({ peer: peerKey, active: z.boolean() }),
  'chat.file': z.strictObject({
    peer: peerKey,
    fileId: z.string(),
    bytes: z.number().int().nonnegative(),
    total: z.number().int().nonnegative(),
    direction: z.enum(['in', 'out']),
    complete: z.boolean(),
    failed: z.string().optional(),
  }),
  'network.changed': networkStatus,
  'relay.changed': relayStatus,
} as const satisfies { readonly [E in EventName]: z.ZodType };

/** What a caller passes for `method`. */
export type MethodParams<M extends MethodName> = z.input<(typeof methods)[M]['params']>;
/** What a caller gets in `{ ok: true, value }` for `method`. */
export type MethodResult<M extends MethodName> = z.output<(typeof methods)[M]['result']>;
/** The payload delivered to subscribers of `event`. */
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;

/** Formats the first schema issue as `path: message` for an error Result. */
function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid value';
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
  return `${path}: ${issue.message}`;
}

/** Parses untrusted params for `method`; unknown methods and schema mismatches give an error Result. */
export function parseParams<M extends MethodName>(method: M, params: unknown): Result<MethodParams<M>> {
  if (!isMethodName(method)) return err(ERROR_CODES.unknownMethod, 'unknown method');
  const parsed = methods[method].params.safeParse(params);
  if (!parsed.success) return err(ERROR_CODES.invalidParams, describeIssue(parsed.error));
  return ok(parsed.data as MethodParams<M>);
}

/** Checks a handler's value against the method's result schema before it leaves the backend. */
export function parseResult<M extends MethodName>(method: M, value: unknown): Result<MethodResult<M>> {
  if (!isMethodName(method)) return err(ERROR_CODES.unknownMethod, 'unknown method');
  const parsed = methods[method].result.safeParse(value);
  if (!parsed.success) return err(ERROR_CODES.badResponse, describeIssue(parsed.error));
  return ok(parsed.data as MethodResult<M>);
}

/** Parses an event payload; gives an error Result for unknown events and mismatching payloads. */
export function parseEventPayload<E extends EventName>(event: E, payload: unknown): Result<EventPayload<E>> {
  if (!isEventName(event)) return err(ERROR_CODES.badRequest, 'unknown event');
  const parsed = events[event].safeParse(payload);
  if (!parsed.success) return err(ERROR_CODES.badResponse, describeIssue(parsed.error));
  return ok(parsed.data as EventPayload<E>);
}

/**
 * The one object the preload exposes as `window.sirius` (and the web host's client mirrors).
 * `invoke` resolves with a Result and rejects only for a method name that is not in the contract;
 * `subscribe` returns the function that ends the subscription.
 */
export interface SiriusBridge {
  invoke<M extends MethodName>(method: M, params: MethodParams<M>): Promise<Result<MethodResult<M>>>;
  subscribe<E extends EventName>(event: E, callback: (payload: EventPayload<E>) => void): () => void;
}
