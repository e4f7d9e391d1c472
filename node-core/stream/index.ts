/**
 * node-core/stream: the pure protocol layer of live streams (seed 004 §8; DESIGN §3 "Live
 * streams"; PSP reference flows/fanout.md and flows/media.md):
 *   receipt.ts   oracle-signed stream-creation receipts, the landing node's one-time-spend
 *                ledger, and viewer identification IDs;
 *   puzzle.ts    the hashcash puzzle a viewer solves for an ID;
 *   messages.ts  the control, media and report messages between creator, landing node,
 *                distribution nodes, viewers and oracles;
 *   group.ts     frames cut into packets and joined again, group digests and the broadcaster's
 *                group signatures, and the viewer's verifier;
 *   fanout.ts    the relay's fan-out state machine and the landing node's distribution tree;
 *   invite.ts    the private invite sent inside a chat message, and the SFrame contexts made
 *                from its keys (node-core/media);
 *   media-frame.ts  the plaintext of one frame (track, timestamps, codec, data);
 *   public-streams.ts  a landing node's list of public streams, as its DHT record's value;
 *   credential.ts  the creator's proof of identity and subscription in a receipt request;
 *   usage.ts     the oracle's normalisation of viewers' and nodes' usage reports.
 *
 * No I/O, timers or randomness of its own: the CryptoSuite and the current time are passed in.
 */
export { STREAM_ERROR_CODES, StreamError, isStreamError, type StreamErrorCode } from './errors';
export { STREAM_ID_LENGTH } from './internal';

export {
  RECEIPT_FORMAT,
  VIEWER_ID_FORMAT,
  RECEIPT_ID_LENGTH,
  SESSION_ID_LENGTH,
  MIN_RECEIPT_LENGTH,
  MAX_RECEIPT_LENGTH,
  MIN_VIEWER_ID_LENGTH,
  MAX_VIEWER_ID_LENGTH,
  DEFAULT_RECEIPT_MAX_TTL_MS,
  DEFAULT_VIEWER_ID_MAX_TTL_MS,
  DEFAULT_ORACLE_MAX_CLOCK_SKEW_MS,
  DEFAULT_LEDGER_CAPACITY,
  issueReceipt,
  parseReceipt,
  verifyReceipt,
  receiptShortfall,
  ReceiptLedger,
  issueViewerId,
  parseViewerId,
  verifyViewerId,
  type ReceiptAllowance,
  type ReceiptContent,
  type ViewerIdContent,
  type UnverifiedReceipt,
  type UnverifiedViewerId,
  type VerifiedReceipt,
  type VerifiedViewerId,
  type OracleTrust,
  type IssueReceiptInput,
  type IssueViewerIdInput,
  type StreamRequestLimits,
  type LedgerOutcome,
  type ReceiptLedgerOptions,
} from './receipt';

export {
  PUZZLE_FORMAT,
  PUZZLE_CHALLENGE_LENGTH,
  PUZZLE_SECRET_LENGTH,
  PUZZLE_SALT_LENGTH,
  MAX_PUZZLE_DIFFICULTY,
  DEFAULT_PUZZLE_DIFFICULTY,
  DEFAULT_PUZZLE_TTL_MS,
  makePuzzleChallenge,
  parsePuzzleChallenge,
  solvePuzzle,
  checkPuzzleSolution,
  leadingZeroBits,
  type PuzzleChallenge,
  type MakeChallengeOptions,
  type SolveOptions,
  type CheckSolutionOptions,
} from './puzzle';

export {
  MAX_STREAM_MESSAGE_LENGTH,
  MAX_MEDIA_PAYLOAD,
  MAX_FRAME_PARTS,
  MAX_FRAME_LENGTH,
  MAX_OFFERED_NODES,
  MAX_CREDENTIAL_LENGTH,
  TITLE_FIELD,
  DESCRIPTION_FIELD,
  StreamMessageType,
  STREAM_MESSAGE_KINDS,
  REFUSE_REASONS,
  encodeStreamMessage,
  decodeStreamMessage,
  encodeMediaPacket,
  type RefuseReason,
  type StreamParameters,
  type DistributionOffer,
  type PublicMetadata,
  type MediaPacket,
  type GroupSignatureMessage,
  type StreamReport,
  type UsageReport,
  type UsageRole,
  type StreamMessage,
  type StreamMessageKind,
} from './messages';

export {
  FrameAssembler,
  GroupHasher,
  GroupVerifier,
  frameMetadata,
  packetizeFrame,
  signGroup,
  verifyGroupSignature,
  type StreamFrame,
  type GroupVerifierOptions,
  type GroupVerifierResult,
} from './group';

export {
  DEFAULT_FANOUT,
  FanoutRelay,
  FanoutTree,
  type FanoutAction,
  type FanoutOptions,
  type FanoutStats,
  type SubscriberId,
  type SubscriberMode,
  type SubscriberStats,
  type FanoutTreeOptions,
  type NodeId,
  type TreeAction,
  type TreeNodeInfo,
} from './fanout';

export {
  INVITE_FORMAT,
  STREAM_KEYS_LENGTH,
  MAX_INVITE_LENGTH,
  encodeInvite,
  decodeInvite,
  checkStreamKeys,
  streamSFrameContext,
  type StreamKeys,
  type StreamInvite,
} from './invite';

export {
  MEDIA_FRAME_VERSION,
  MAX_CODEC_LENGTH,
  MAX_DESCRIPTION_LENGTH,
  MAX_VIDEO_DIMENSION,
  encodeMediaFrame,
  decodeMediaFrame,
  type MediaTrack,
  type MediaFrame,
  type VideoFrameData,
  type AudioFrameData,
} from './media-frame';

export {
  PUBLIC_STREAMS_NAMESPACE,
  PUBLIC_STREAMS_FORMAT,
  PUBLIC_TITLE_FIELD,
  MAX_PUBLIC_STREAMS_PER_RECORD,
  publicStreamsKey,
  publicTitle,
  encodePublicStreams,
  decodePublicStreams,
  type PublicStreamEntry,
} from './public-streams';

export {
  CREDENTIAL_FORMAT,
  CONTEXT_CREDENTIAL,
  CREDENTIAL_NONCE_LENGTH,
  DEFAULT_CREDENTIAL_WINDOW_MS,
  MAX_CREDENTIAL_WINDOW_MS,
  MAX_CREDENTIAL_BYTES,
  createCredential,
  parseCredential,
  verifyCredential,
  CredentialReplayGuard,
  type CredentialInput,
  type CredentialContent,
  type UnverifiedCredential,
  type VerifiedCredential,
  type CredentialCheck,
  type CredentialReplayGuardOptions,
} from './credential';

export {
  MAX_USAGE_PERIOD_MS,
  MAX_USAGE_RATE_BPS,
  UsageLedger,
  type UsageLedgerOptions,
  type UsageSource,
  type UsageRefusal,
  type UsageSubmitResult,
  type UsageFigures,
  type NodeUsage,
  type UsageStatus,
  type UsageDispute,
  type NormalisedUsage,
} from './usage';
