/**
 * node-core/rendezvous: the pure parts of private channel setup (seed 004 §7.1; PSP reference
 * relay/rendezvous.md): the introduction Alice seals to Bob's announcement key and sends through
 * a circuit ending at one of his presence nodes (application/forwardpresence.md); what that node
 * does with it (messages.ts, forwarder.ts); and the sealed items Alice leaves there while Bob is
 * offline (mailbox.ts, mailbox-store.ts).
 *
 * No I/O or randomness of its own: the CryptoSuite and the current time (or a Scheduler) are
 * passed in. Circuits and sockets live in node-core/io (node/presence-service.ts,
 * client/presence-control.ts).
 */
export {
  INTRODUCTION_ERROR_CODES,
  IntroductionError,
  isIntroductionError,
  type IntroductionErrorCode,
} from './errors';

export {
  INTRODUCTION_VERSION,
  RENDEZVOUS_COOKIE_LENGTH,
  MAX_CERTIFICATE_LENGTH,
  MAX_LINK_SPECIFIERS,
  MAX_GREETING_BYTES,
  INTRODUCTION_ONIONSKIN_LENGTH,
  DEFAULT_INTRODUCTION_MAX_AGE_MS,
  DEFAULT_INTRODUCTION_MAX_CLOCK_SKEW_MS,
  sealIntroduction,
  openIntroduction,
  introductionId,
  type RendezvousPoint,
  type SealIntroductionInput,
  type AnnouncementKeyPair,
  type IntroductionRecipient,
  type IntroductionLimits,
  type OpenedIntroduction,
} from './introduction';

// Introductions and offline mailboxes at presence nodes (seed 004 §7.1): the wire formats,
// the forwarder a presence node runs, sealed mailbox items and the node's mailbox store.
export {
  PRESENCE_MESSAGE_ERROR_CODES,
  PresenceMessageError,
  isPresenceMessageError,
  type PresenceMessageErrorCode,
  MAX_PRESENCE_BODY_LENGTH,
  MAX_INTRODUCTION_ENVELOPE_LENGTH,
  MAX_MAILBOX_ITEM_LENGTH,
  MIN_MAX_PENDING,
  MAX_MAX_PENDING,
  MIN_PER_MINUTE,
  MAX_PER_MINUTE,
  MAX_ACK_IDS,
  MAILBOX_ITEM_ID_LENGTH,
  INTRODUCTION_OUTCOMES,
  type IntroductionOutcome,
  ControlType,
  MailboxType,
  parseIntroductionEnvelope,
  parseMailboxItemEnvelope,
  mailboxItemId,
  encodeIntroductionOutcome,
  decodeIntroductionOutcome,
  encodeControlRequest,
  decodeControlRequest,
  encodeControlResponse,
  decodeControlResponse,
  encodeControlNotice,
  decodeControlNotice,
  encodeMailboxRequest,
  decodeMailboxRequest,
  decodeMailboxResponse,
  encodeOk,
  type PresenceSettings,
  type ControlRequest,
  type ControlResponse,
  type ControlNotice,
  type CapReached,
  type MailboxEntry,
  type MailboxDeposit,
} from './messages';

export {
  IntroductionForwarder,
  DEFAULT_FORWARDER_LIMITS,
  type ForwarderLimits,
  type ForwarderOptions,
  type BindResult,
  type DecideResult,
} from './forwarder';

export {
  MAILBOX_ITEM_VERSION,
  MAX_MAILBOX_PAYLOAD,
  MAX_MAILBOX_TTL_MS,
  DEFAULT_MAILBOX_MAX_AGE_MS,
  DEFAULT_MAILBOX_MAX_CLOCK_SKEW_MS,
  MAILBOX_ERROR_CODES,
  MailboxError,
  isMailboxError,
  sealMailboxItem,
  openMailboxItem,
  type MailboxErrorCode,
  type SealMailboxItemInput,
  type MailboxLimits,
  type OpenedMailboxItem,
} from './mailbox';

export { MailboxStore, DEFAULT_MAILBOX_STORE_LIMITS, type MailboxStoreLimits, type DepositResult } from './mailbox-store';

export type { SealedEnvelope } from './sealing';
