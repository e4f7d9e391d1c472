/**
 * node-core/directory: the pure parts of the PSP directory (seed 004 §2; PSP reference
 * discovery/ and application/discovery*; DESIGN.md §3 "Directory"): signed node descriptors,
 * discovery votes, the deterministic consensus computation, signed consensus documents and
 * their verification by clients, the discovery messages, the discovery node's voting state
 * machine, and the consensus cache every node keeps and serves.
 *
 * Parse, then verify: every signed or time-bound document is parsed into an Unverified type
 * (fields under `claimed`), and only a verify function produces the usable Verified type.
 * Time is passed in (ms since the Unix epoch); the CryptoSuite is passed in.
 *
 * Does not: open connections, run timers, cache documents on disk, or choose paths; a driver in
 * node-core/io wires these codecs and the state machine to the transport.
 */
export { DIRECTORY_ERROR_CODES, DirectoryError, isDirectoryError, type DirectoryErrorCode } from './errors';

export { MAX_ADDRESSES, addressProblem, formatIp, parseIpLiteral, type IpBytes, type NodeAddress } from './address';

export {
  DESCRIPTOR_FORMAT,
  MAX_DESCRIPTOR_BODY_LENGTH,
  MAX_SIGNED_DESCRIPTOR_LENGTH,
  NODE_ROLES,
  ROLE_BITS,
  encodeDescriptorBody,
  decodeDescriptorBody,
  signDescriptor,
  parseDescriptor,
  verifyDescriptor,
  checkDescriptorTimes,
  type DescriptorPolicy,
  type NodeDescriptor,
  type NodeRole,
  type UnverifiedDescriptor,
  type VerifiedDescriptor,
} from './descriptor';

export {
  VOTE_FORMAT,
  MAX_VOTE_DESCRIPTORS,
  MAX_SIGNED_VOTE_LENGTH,
  createVote,
  parseVote,
  verifyVote,
  newestPerIdentity,
  type CreateVoteInput,
  type DroppedDescriptor,
  type UnverifiedVote,
  type VerifiedVote,
  type VoteCheck,
  type VoteHeader,
} from './vote';

export {
  CONSENSUS_FORMAT,
  SIGNED_CONSENSUS_FORMAT,
  MAX_CONSENSUS_NODES,
  MAX_CONSENSUS_SIGNATURES,
  MAX_SIGNED_CONSENSUS_LENGTH,
  CONSENSUS_FLAGS,
  FLAG_BITS,
  consensusWindow,
  majorityOf,
  computeConsensus,
  encodeConsensusBody,
  decodeConsensusBody,
  signConsensus,
  verifyConsensusSignature,
  canonicalSignatures,
  encodeSignedConsensus,
  parseSignedConsensus,
  checkConsensusTrust,
  verifyConsensus,
  isConsensusFresh,
  type ConsensusBody,
  type ConsensusFlag,
  type ConsensusNode,
  type ConsensusParams,
  type ConsensusSignature,
  type ConsensusTrust,
  type IgnoredSignature,
  type UnverifiedConsensus,
  type VerifiedConsensus,
  type VerifyConsensusOptions,
} from './consensus';

export {
  DiscoveryMessageType,
  PUBLISH_STATUS_CODES,
  encodeDiscoveryMessage,
  decodeDiscoveryMessage,
  type ConsensusSignatureMessage,
  type DiscoveryMessage,
} from './messages';

export {
  DiscoveryVoting,
  type DiscoveryVotingConfig,
  type VotingAction,
  type VotingEvent,
  type VotingRejectCode,
} from './voting';

export { ConsensusCache, type ConsensusCacheConfig, type OfferResult } from './cache';

/** The signature contexts of this folder (each signature is over SHA-256(context ‖ body)). */
export { CONTEXT_CONSENSUS, CONTEXT_DESCRIPTOR, CONTEXT_VOTE } from './internal';
