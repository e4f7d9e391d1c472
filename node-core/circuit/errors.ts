/**
 * The one error type of node-core/circuit.
 *
 * Every decoder, handshake step and crypto check in this folder throws a CircuitError with a code
 * from the closed union below when the bytes it was given (from a peer) are unacceptable.
 * Programming errors (a parameter of the wrong type or a length the caller controls) throw
 * TypeError or RangeError instead, naming the parameter.
 *
 * What a driver should do with each code: every code means "this circuit (or this hop's
 * handshake) has failed"; the driver tears the circuit down with DESTROY, reason Protocol
 * (payloads.ts DestroyReason).
 */

export type CircuitErrorCode =
  // ntor handshake (ntor.ts)
  | 'bad-handshake-length' // onionskin or reply has the wrong length
  | 'wrong-node-id' // the onionskin names another node
  | 'unknown-onion-key' // the onionskin names an onion key this node does not hold (any more)
  | 'weak-key' // a peer key gives an all-zero X25519 shared secret (small-order point)
  | 'bad-auth' // the server's AUTH does not verify
  | 'handshake-used' // a one-shot client state was used a second time
  // relay crypto (relay-crypto.ts)
  | 'unrecognized-cell' // no hop recognized a backward cell (client side)
  | 'circuit-failed' // the crypto state already saw an unrecognized cell and is unusable
  // relay-cell codec (relay-cell.ts)
  | 'bad-payload-length' // a fixed payload that is not exactly the size it must be
  | 'bad-recognized' // decoding a relay payload whose `recognized` field is not zero
  | 'bad-data-length' // relay `length` field over 500
  | 'unknown-relay-command'
  | 'nonzero-padding' // bytes after the meaningful content are not all zero
  // payload codecs (payloads.ts)
  | 'truncated' // the input ends inside a field
  | 'trailing-bytes' // bytes left over where the layout is exact
  | 'unknown-handshake-type'
  | 'unknown-link-specifier'
  | 'bad-link-specifier' // a known specifier with a wrong length or an invalid value
  | 'duplicate-link-specifier'
  | 'missing-identity' // EXTEND without an Ed25519 identity specifier
  | 'missing-address' // EXTEND without an IPv4 or IPv6 specifier
  | 'identity-mismatch' // EXTEND identity specifier differs from the ID in the handshake
  | 'unknown-destroy-reason'
  // fragmentation (fragment.ts)
  | 'fragment-bad-header' // reserved flag bits set, or a first fragment too short for its header
  | 'fragment-no-start' // a continuation fragment with no message in progress
  | 'fragment-interleaved' // a new first fragment while a message is still in progress
  | 'fragment-too-large' // announced total length over the configured maximum
  | 'fragment-empty' // a fragment carrying no message bytes, or an announced length of zero
  | 'fragment-overflow' // more bytes than the first fragment announced
  | 'fragment-length-mismatch' // LAST flag and byte count disagree
  | 'protocol-violation'; // a well-formed cell that the circuit's state does not allow

export class CircuitError extends Error {
  override readonly name = 'CircuitError';
  constructor(
    readonly code: CircuitErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** True when `e` is a CircuitError (optionally with the given code). */
export function isCircuitError(e: unknown, code?: CircuitErrorCode): e is CircuitError {
  return e instanceof CircuitError && (code === undefined || e.code === code);
}
