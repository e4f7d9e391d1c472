/**
 * node-core/rendezvous: the pure parts of private channel setup (seed 004 §7.1; PSP reference
 * relay/rendezvous.md). For now: the introduction Alice seals to Bob's announcement key and sends
 * through a circuit ending at one of his presence nodes (application/forwardpresence.md).
 *
 * No I/O, timers or randomness of its own: the CryptoSuite and the current time are passed in.
 * Circuits, the presence node's forwarding and the replay cache live elsewhere.
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
