/**
 * node-core/media: end-to-end protection of live-stream media (DESIGN §3, "Live streams").
 * So far: SFrame (RFC 9605) and the derivation of per-epoch SFrame base keys from a stream key
 * (sframe.ts). Frame signatures, grouping and the fan-out payloads live elsewhere.
 *
 * Pure: no I/O, timers or randomness.
 */
export { SFRAME_ERROR_CODES, SFrameError, isSFrameError, type SFrameErrorCode } from './errors';
export {
  MAX_STREAM_EPOCH,
  MAX_STREAM_ID_BYTES,
  SFRAME_DEFAULT_REPLAY_WINDOW,
  SFRAME_MAX_HEADER_BYTES,
  SFRAME_MAX_REPLAY_WINDOW,
  SFRAME_MAX_VALUE,
  SFRAME_MIN_BASE_KEY_BYTES,
  SFRAME_SUITE,
  STREAM_BASE_KEY_BYTES,
  STREAM_KEY_BYTES,
  STREAM_SFRAME_LABEL,
  SFrameContext,
  decodeHeader,
  deriveKeySalt,
  deriveStreamBaseKey,
  encodeHeader,
  sframeAeadDecrypt,
  sframeAeadEncrypt,
  sframeNonce,
  sframeSuite,
  streamKeyId,
  type SFrameAddKeyOptions,
  type SFrameContextOptions,
  type SFrameDecrypted,
  type SFrameHeader,
  type SFrameKeySalt,
  type SFrameKeyUsage,
  type SFrameSuiteId,
  type SFrameSuiteName,
  type SFrameSuiteParams,
} from './sframe';
