/**
 * The API between the UI and the backend (DESIGN §2, "app/contract"): a registry that maps every
 * method name to a runtime schema for its params and one for its result, and every event name to a
 * schema for its payload. The same registry is served over Electron IPC (through the preload) and
 * over the web host's WebSocket.
 *
 * Handlers parse `unknown` input with these schemas and answer with a Result; nothing here performs
 * I/O. The plain-data half (names, channels, Result helpers) lives in `./wire` and is re-exported.
 */
import { base58 } from '@scure/base';
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

// ---- live streams (DESIGN §3 "Live streams", "Media") -------------------------------------------
//
// The bounds below mirror node-core/stream/media-frame.ts (the frame layout the broadcaster
// encrypts); the contract cannot import node-core, and test/app/stream-service.test.ts checks that
// the two agree.

/** Largest encoded chunk a frame may carry (1 MiB). */
export const MAX_MEDIA_FRAME_BYTES = 1024 * 1024;
/** Largest decoder description (e.g. an avcC record), as in media-frame.ts. */
export const MAX_MEDIA_DESCRIPTION_BYTES = 2048;
/** Largest video width or height, as in media-frame.ts. */
export const MAX_MEDIA_DIMENSION = 8192;
/** Frames in one `broadcast.frames` call or one `view.frames` event. */
export const MAX_FRAMES_PER_BATCH = 64;
/**
 * Encoded bytes in one batch: base64 makes them 4/3 larger, and the web host takes WebSocket
 * messages of at most 24 MiB, so a batch stays well below that.
 */
export const MAX_BATCH_BYTES = 16 * 1024 * 1024;
/** Target bitrate bounds of `broadcast.start`, bits per second. */
export const MIN_BROADCAST_BITRATE = 100_000;
export const MAX_BROADCAST_BITRATE = 20_000_000;
export const MAX_BROADCAST_VIEWERS = 100_000;
export const MAX_STREAM_TITLE = 128;
export const MAX_STREAM_DESCRIPTION = 1024;

/** Padded base64 (RFC 4648 §4). */
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Bytes that padded base64 `text` decodes to (the text is assumed to match BASE64_RE). */
export function base64DecodedLength(text: string): number {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - padding;
}

/** Padded base64 of at most `maxBytes` decoded bytes. */
function base64Of(maxBytes: number) {
  return z
    .string()
    .max(Math.ceil(maxBytes / 3) * 4)
    .regex(BASE64_RE, 'padded base64')
    .refine((text) => base64DecodedLength(text) <= maxBytes, `at most ${maxBytes} bytes`);
}

/** A stream id: 16 bytes as 32 lower-case hex characters. */
export const streamId = z.string().regex(/^[0-9a-f]{32}$/, 'a 32-character hex stream id');

const mediaFrameCommon = {
  /** A video keyframe, or the audio frame that starts a group of an audio-only stream. */
  keyframe: z.boolean(),
  /** Presentation time, µs since the broadcast began. */
  timestampUs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** Wall-clock capture time, ms since the Unix epoch (for the latency figure). */
  capturedAtMs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** The WebCodecs codec string ("vp8", "avc1.42E01F", "opus"). */
  codec: z.string().regex(/^[\x21-\x7e]{1,64}$/, '1..64 printable ASCII characters'),
  /** The decoder description (avcC for H.264), base64; empty when the codec needs none. */
  description: base64Of(MAX_MEDIA_DESCRIPTION_BYTES),
  /** The encoded chunk, base64, 1 byte .. 1 MiB. */
  data: base64Of(MAX_MEDIA_FRAME_BYTES).refine((text) => text.length > 0, 'must not be empty'),
};

/** One encoded media frame crossing the bridge: a video or an audio chunk with what a decoder needs. */
export const mediaFrame = z.discriminatedUnion('track', [
  z.strictObject({
    track: z.literal('video'),
    ...mediaFrameCommon,
    width: z.number().int().min(1).max(MAX_MEDIA_DIMENSION),
    height: z.number().int().min(1).max(MAX_MEDIA_DIMENSION),
  }),
  z.strictObject({
    track: z.literal('audio'),
    ...mediaFrameCommon,
    sampleRate: z.number().int().min(8000).max(384_000),
    channels: z.number().int().min(1).max(8),
  }),
]);

/** 1..64 frames whose encoded chunks add up to at most MAX_BATCH_BYTES. */
export const mediaFrameBatch = z
  .array(mediaFrame)
  .min(1)
  .max(MAX_FRAMES_PER_BATCH)
  .refine((frames) => frames.reduce((sum, f) => sum + base64DecodedLength(f.data), 0) <= MAX_BATCH_BYTES, `at most ${MAX_BATCH_BYTES} bytes of frames in one batch`);

const count = z.number().int().nonnegative();
const rate = z.number().nonnegative().finite();

/** The broadcast as `broadcast.status` answers and `broadcast.stats` pushes it. */
export const broadcastStatus = z.strictObject({
  live: z.boolean(),
  streamId: streamId.optional(),
  isPublic: z.boolean().optional(),
  /** Viewers now, as the landing node last reported. */
  viewers: count,
  /** Distribution nodes serving the stream, the landing node included. */
  nodes: count,
  bitrateBps: rate,
  framesSent: count,
  /** Frames not sent because the way to the landing node was backed up. */
  framesSkipped: count,
  relayBytesOut: z.number().nonnegative(),
  relayFramesDropped: count,
  /** Why the last broadcast ended, when it ended other than by broadcast.stop. */
  endedReason: z.string().max(300).optional(),
});

/** The viewer's figures, as `view.stats` pushes them. */
export const viewerStats = z.strictObject({
  framesReceived: count,
  framesPlayed: count,
  framesDropped: count,
  badSignatures: count,
  bitrateBps: rate,
  fps: rate,
  /** Capture → hand-out time of the newest frame (the broadcaster's and the viewer's clocks). */
  latencyMs: z.number().finite(),
});

export const viewerStatus = z.strictObject({
  watching: z.boolean(),
  streamId: streamId.optional(),
  ...viewerStats.shape,
});

export const publicStream = z.strictObject({
  streamId,
  title: z.string().max(MAX_STREAM_TITLE),
  /** The `sirius-stream:` text to join it with (view.join). */
  invite: z.string(),
});

// ---- stream invites as chat text ----------------------------------------------------------------

/**
 * A stream invite travels inside a chat message as `sirius-stream:<base58 of the invite bytes>`
 * (node-core/stream/invite.ts has the bytes' layout; seed 004 §8.2: the stream id and key go to
 * viewers over the independent secure channel). A received message of exactly this form is
 * shown as an invite card.
 */
export const STREAM_INVITE_PREFIX = 'sirius-stream:';
/** Bytes of the longest invite (format 1 with an IPv6 address), as in invite.ts MAX_INVITE_LENGTH. */
export const MAX_STREAM_INVITE_BYTES = 138;
const STREAM_INVITE_RE = /^sirius-stream:([1-9A-HJ-NP-Za-km-z]{1,200})$/;

/** The chat text for invite bytes. */
export function formatStreamInvite(invite: Uint8Array): string {
  if (!(invite instanceof Uint8Array)) throw new TypeError('invite must be a Uint8Array');
  if (invite.length === 0 || invite.length > MAX_STREAM_INVITE_BYTES) throw new RangeError(`invite must be 1..${MAX_STREAM_INVITE_BYTES} bytes`);
  return STREAM_INVITE_PREFIX + base58.encode(invite);
}

/**
 * The invite bytes of a chat text of exactly the `sirius-stream:` form, or null for any other
 * text. Only the text form is checked here; the backend decodes the bytes (view.join).
 */
export function parseStreamInvite(text: string): Uint8Array | null {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  const match = STREAM_INVITE_RE.exec(text);
  if (match === null) return null;
  let bytes: Uint8Array;
  try {
    bytes = base58.decode(match[1] ?? '');
  } catch {
    return null;
  }
  return bytes.length > 0 && bytes.length <= MAX_STREAM_INVITE_BYTES ? bytes : null;
}

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

  /**
   * Starts a live stream (DESIGN §3 "Live streams"): anonymous creation through an oracle and a
   * landing node. Private unless `public` is given (then listed, and its key readable by anyone).
   * One broadcast at a time per profile.
   */
  'broadcast.start': {
    params: z.strictObject({
      bitrate: z.number().int().min(MIN_BROADCAST_BITRATE).max(MAX_BROADCAST_BITRATE),
      maxViewers: z.number().int().min(1).max(MAX_BROADCAST_VIEWERS),
      public: z
        .strictObject({
          title: z.string().trim().min(1).max(MAX_STREAM_TITLE),
          description: z.string().max(MAX_STREAM_DESCRIPTION),
        })
        .optional(),
    }),
    result: z.strictObject({ streamId, isPublic: z.boolean() }),
  },
  /**
   * Encoded frames from the renderer's encoders, sent in order. `skipped` frames were dropped
   * (backpressure, or waiting for a keyframe); `wantKeyframe` asks the encoder for one now.
   */
  'broadcast.frames': {
    params: z.strictObject({ frames: mediaFrameBatch }),
    result: z.strictObject({ accepted: count, skipped: count, wantKeyframe: z.boolean() }),
  },
  'broadcast.stop': { params: empty, result: broadcastStatus },
  'broadcast.status': { params: empty, result: broadcastStatus },
  /** Sends the running broadcast's invite to a contact as a chat message; answers that message. */
  'broadcast.shareInvite': { params: z.strictObject({ peer: peerKey }), result: chatMessage },
  /** Joins a stream from its `sirius-stream:` text. One stream at a time per profile. */
  'view.join': { params: z.strictObject({ invite: z.string().min(1).max(1024) }), result: z.strictObject({ streamId }) },
  'view.leave': { params: empty, result: viewerStatus },
  'view.status': { params: empty, result: viewerStatus },
  /** Public streams the network lists now. */
  'streams.public': { params: empty, result: z.array(publicStream).max(1000) },
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
  /** The running broadcast's figures, about every second, and once more when it ends (live: false). */
  'broadcast.stats': broadcastStatus,
  /** Decrypted, verified frames of the stream being watched, in order. */
  'view.frames': z.strictObject({ streamId, frames: z.array(mediaFrame).min(1).max(MAX_FRAMES_PER_BATCH) }),
  /** The viewer's figures, about every second while watching. */
  'view.stats': viewerStats,
  /** The stream being watched ended, or the viewer was cut off (not sent after view.leave). */
  'view.ended': z.strictObject({ streamId, reason: z.string().min(1).max(300) }),
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
