/**
 * node-core/circuit: the pure building blocks of onion circuits (DESIGN.md §3 "Cells and
 * circuits"): the ntor handshake, layered relay crypto with running digests, the relay-cell
 * codec, CREATE/CREATED/EXTEND/EXTENDED/DESTROY/TRUNCATED payload codecs, and fragmentation of
 * application messages over ESCAPE cells.
 *
 * No I/O, timers or randomness of its own: the CryptoSuite is passed in. A circuit driver
 * (elsewhere) owns links, circuit ids, RELAY_EARLY accounting, SENDME windows and timeouts.
 */
export { CircuitError, isCircuitError, type CircuitErrorCode } from './errors';

export {
  NTOR_TOR,
  NTOR_PSP,
  NTOR_DEFAULT_KEY_LENGTH,
  NTOR_REPLY_LENGTH,
  NtorClientState,
  ntorOnionskinLength,
  ntorExpand,
  ntorClientCreate,
  ntorClientComplete,
  ntorServerHandle,
  type NtorProtocol,
  type NtorServerTarget,
  type NtorOnionKeyPair,
  type NtorServerKeys,
} from './ntor';

export {
  RELAY_KEY_MATERIAL_LENGTH,
  HopCrypto,
  ClientCircuitCrypto,
  RelayHopCrypto,
} from './relay-crypto';

export {
  RELAY_PAYLOAD_LENGTH,
  RELAY_HEADER_LENGTH,
  RELAY_DATA_MAX,
  RELAY_OFFSET,
  RELAY_DIGEST_LENGTH,
  RelayCommand,
  isRelayCommand,
  encodeRelayCell,
  decodeRelayCell,
  type RelayCell,
} from './relay-cell';

export {
  HandshakeType,
  LinkSpecifierType,
  DestroyReason,
  isDestroyReason,
  encodeCreate,
  decodeCreate,
  encodeCreated,
  decodeCreated,
  encodeExtend,
  decodeExtend,
  encodeExtended,
  decodeExtended,
  encodeDestroy,
  decodeDestroy,
  encodeTruncated,
  decodeTruncated,
  type CreatePayload,
  type CreatedPayload,
  type ExtendPayload,
  type LinkSpecifier,
} from './payloads';

export {
  MAX_MESSAGE_LENGTH,
  FragmentFlag,
  fragmentMessage,
  Reassembler,
  type ReassemblerOptions,
} from './fragment';
