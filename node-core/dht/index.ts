/**
 * node-core/dht: the pure core of the PSP DHT and presence records (seed 004 §3, §6.2, §6.3;
 * seed 003; PSP reference dht/ and application/dht.md, announcepresence.md, lookupresult.md;
 * DESIGN.md §3 "DHT and presence"): S/Kademlia node ids bound to Ed25519 identity keys by the
 * static crypto puzzle, k-bucket routing tables with IP-diversity limits and ping-before-evict,
 * owner-signed and node-co-signed records with expiry, a record store with quotas, iterative
 * lookups over d disjoint paths, the DHT message codecs, presence records, and a transport-free
 * DHT node that ties them together.
 *
 * Parse, then verify: records are parsed into UnverifiedRecord and only verifyRecord gives a
 * VerifiedRecord. Time, randomness (through the CryptoSuite), timeouts (through the Scheduler) and
 * the network (through DhtRpc) are injected.
 *
 * Does not: open connections, run periodic timers, or persist records; a driver in node-core/io
 * wires DhtNode to links or circuits and calls its upkeep on a schedule.
 */
export { DHT_ERROR_CODES, DhtError, isDhtError, type DhtErrorCode } from './errors';

export {
  NODE_ID_LENGTH,
  ID_BITS,
  DEFAULT_PUZZLE_BITS,
  MAX_PUZZLE_BITS,
  checkPuzzleBits,
  leadingZeroBits,
  nodeIdOf,
  satisfiesPuzzle,
  checkNodeId,
  findPuzzleKey,
  xorDistance,
  compareDistance,
  commonPrefixLength,
  bucketIndex,
  randomIdInBucket,
  type PuzzleKey,
} from './id';

export {
  MAX_CONTACT_ADDRESSES,
  MAX_CONTACT_LENGTH,
  checkContactShape,
  isValidContact,
  subnetOf,
  subnetOfContact,
  type Contact,
  type NodeAddress,
} from './contact';

export {
  DEFAULT_K,
  DEFAULT_MAX_PER_SUBNET,
  DEFAULT_MAX_PER_SUBNET_TOTAL,
  DEFAULT_REFRESH_INTERVAL_MS,
  DEFAULT_MAX_FAILURES,
  DEFAULT_PING_TIMEOUT_MS,
  RoutingTable,
  type RoutingTableOptions,
  type OfferResult,
  type PingOutcome,
  type RefusalReason,
} from './routing';

export {
  RECORD_FORMAT,
  MAX_VALUE_LENGTH,
  DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_MAX_TTL_MS,
  DEFAULT_MAX_CLOCK_SKEW_MS,
  MAX_OWNER_RECORD_LENGTH,
  MAX_SIGNED_RECORD_LENGTH,
  deriveRecordKey,
  namespaceKeyRule,
  checkRecordPolicy,
  encodeRecordBody,
  signRecord,
  parseOwnerRecord,
  verifyOwnerRecord,
  cosignRecord,
  parseRecord,
  verifyRecord,
  compareNewest,
  type RecordContent,
  type SignedRecord,
  type CosignFields,
  type KeyRule,
  type OwnerRecordPolicy,
  type RecordPolicy,
  type UnverifiedOwnerRecord,
  type VerifiedOwnerRecord,
  type UnverifiedRecord,
  type VerifiedRecord,
} from './record';

export {
  DEFAULT_MAX_RECORDS_PER_OWNER,
  DEFAULT_MAX_TOTAL_BYTES,
  DEFAULT_REPUBLISH_INTERVAL_MS,
  RecordStore,
  type RecordStoreOptions,
  type StoreResult,
} from './store';

export {
  DEFAULT_ALPHA,
  DEFAULT_DISJOINT_PATHS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_MAX_REQUESTS,
  lookupNode,
  lookupValue,
  publishRecord,
  type DhtRpc,
  type LookupContext,
  type LookupParams,
  type NodeLookupResult,
  type ValueLookupResult,
  type PublishResult,
  type FailureReason,
  type MisbehaviourReason,
} from './lookup';

export {
  DHT_MESSAGE_FORMAT,
  MAX_CONTACTS_PER_ANSWER,
  MAX_RECORDS_PER_ANSWER,
  MAX_DHT_MESSAGE_LENGTH,
  PING_NONCE_LENGTH,
  DhtMessageType,
  encodeDhtMessage,
  decodeDhtMessage,
  type DhtMessage,
  type DhtRequest,
  type DhtResponse,
} from './messages';

export {
  PRESENCE_NAMESPACE,
  PRESENCE_FORMAT,
  MAX_PRESENCE_POINTS,
  MAX_PRESENCE_VALUE_LENGTH,
  PRESENCE_FLAG_PUBLIC,
  PRESENCE_FLAG_ACCEPTS_DIRECT,
  presenceKey,
  presenceKeyRule,
  encodePresenceValue,
  decodePresenceValue,
  buildPresenceRecord,
  pickPresence,
  type PresencePoint,
  type PresenceValue,
  type PresenceRecordInput,
  type PresencePointView,
  type PresenceView,
} from './presence';

export { DhtNode, type DhtNodeOptions, type PublishOutcome } from './node';

/** The signature contexts of this folder (each signature is over SHA-256(context ‖ signed bytes)). */
export { CONTEXT_RECORD, CONTEXT_COSIGN } from './internal';
