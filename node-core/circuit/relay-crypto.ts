/**
 * Layered relay-cell encryption with a running digest per hop and direction (PSP reference
 * relay/relaycrypto.md; tor-spec §6.1 "Relay cells" and §5.2 key layout), with DESIGN.md §3's
 * choices instead of the reference's dated crypto:
 *   - key material from the ntor KDF: Df (32) | Db (32) | Kf (32) | Kb (32) = 128 bytes
 *     (the reference: 20-byte SHA-1 digest seeds and 16-byte AES-128 keys);
 *   - running digests are SHA-256 seeded with Df (forward) and Db (backward);
 *   - the stream cipher is AES-256-CTR with a zero IV, one continuous keystream per hop and
 *     direction for the life of the circuit.
 *
 * Origin of a cell (client forward, relay backward), relaycrypto.md "Routing from the origin":
 * clear recognized and digest, update the running digest with the whole 509-byte payload,
 * write its first 4 bytes into the digest field, then encrypt (the client once per hop, from
 * the target hop back to the first).
 * Recognition ("Recognizing the cell"): recognized == 0 and the digest field equals the first
 * 4 bytes of a *copy* of the running digest updated with the payload (digest field zeroed);
 * only on a match does the copy replace the running digest, so a false candidate leaves the
 * digest state untouched.
 *
 * Does not: parse relay cells (relay-cell.ts), decide what to do with an unrecognized cell at
 * the last hop (the driver destroys the circuit), or count cells for SENDME.
 */
import type { CryptoSuite, CtrStream, RunningHash } from '../crypto/api';
import { assertBytes, equalBytes } from '../util/bytes';
import { CircuitError } from './errors';
import { RELAY_DIGEST_LENGTH, RELAY_OFFSET, RELAY_PAYLOAD_LENGTH } from './relay-cell';

/** Df | Db | Kf | Kb, 32 bytes each. */
export const RELAY_KEY_MATERIAL_LENGTH = 128;
const PART = 32;
const ZERO_IV = new Uint8Array(16);

function checkPayload(payload: Uint8Array, name: string): void {
  assertBytes(payload, name, RELAY_PAYLOAD_LENGTH);
}

/** Zeroes recognized and digest, feeds the payload to `digest`, writes the digest field. Mutates `p`. */
function seal(digest: RunningHash, p: Uint8Array): void {
  p.fill(0, RELAY_OFFSET.recognized, RELAY_OFFSET.digest + RELAY_DIGEST_LENGTH);
  digest.update(p);
  p.set(digest.digest().subarray(0, RELAY_DIGEST_LENGTH), RELAY_OFFSET.digest);
}

/** The recognition test; returns the advanced digest on a match, null otherwise. */
function recognize(digest: RunningHash, p: Uint8Array): RunningHash | null {
  if (p[RELAY_OFFSET.recognized] !== 0 || p[RELAY_OFFSET.recognized + 1] !== 0) return null;
  const received = p.slice(RELAY_OFFSET.digest, RELAY_OFFSET.digest + RELAY_DIGEST_LENGTH);
  const cleared = p.slice();
  cleared.fill(0, RELAY_OFFSET.digest, RELAY_OFFSET.digest + RELAY_DIGEST_LENGTH);
  const candidate = digest.clone();
  candidate.update(cleared);
  const expected = candidate.digest().subarray(0, RELAY_DIGEST_LENGTH);
  return equalBytes(expected, received) ? candidate : null;
}

/**
 * The symmetric state one hop shares with the client: a keystream and a running digest per
 * direction. Both ends of a hop hold an identical HopCrypto built from the same key material.
 * A building block for ClientCircuitCrypto and RelayHopCrypto; drivers use those.
 */
export class HopCrypto {
  private readonly forwardStream: CtrStream;
  private readonly backwardStream: CtrStream;
  private forwardDigest: RunningHash;
  private backwardDigest: RunningHash;

  /**
   * `keyMaterial` is the 128 bytes from the ntor KDF. It is read, not retained; the caller
   * should zero it afterwards.
   */
  constructor(suite: CryptoSuite, keyMaterial: Uint8Array) {
    if (typeof suite !== 'object' || suite === null) throw new TypeError('suite must be a CryptoSuite');
    assertBytes(keyMaterial, 'keyMaterial', RELAY_KEY_MATERIAL_LENGTH);
    const df = keyMaterial.slice(0, PART);
    const db = keyMaterial.slice(PART, 2 * PART);
    const kf = keyMaterial.slice(2 * PART, 3 * PART);
    const kb = keyMaterial.slice(3 * PART, 4 * PART);
    this.forwardDigest = suite.runningSha256(df);
    this.backwardDigest = suite.runningSha256(db);
    this.forwardStream = suite.aesCtr(kf, ZERO_IV);
    this.backwardStream = suite.aesCtr(kb, ZERO_IV);
    df.fill(0);
    db.fill(0);
    kf.fill(0);
    kb.fill(0);
  }

  /** Applies the next 509 bytes of the Kf keystream (encrypt at the client, decrypt at the hop). */
  cryptForward(payload: Uint8Array): Uint8Array {
    checkPayload(payload, 'payload');
    return this.forwardStream.update(payload);
  }

  /** Applies the next 509 bytes of the Kb keystream (encrypt at the hop, decrypt at the client). */
  cryptBackward(payload: Uint8Array): Uint8Array {
    checkPayload(payload, 'payload');
    return this.backwardStream.update(payload);
  }

  /** Returns a copy of `payload` with recognized = 0 and the forward digest set (client origin). */
  sealForward(payload: Uint8Array): Uint8Array {
    checkPayload(payload, 'payload');
    const p = payload.slice();
    seal(this.forwardDigest, p);
    return p;
  }

  /** Returns a copy of `payload` with recognized = 0 and the backward digest set (hop origin). */
  sealBackward(payload: Uint8Array): Uint8Array {
    checkPayload(payload, 'payload');
    const p = payload.slice();
    seal(this.backwardDigest, p);
    return p;
  }

  /** True if a decrypted forward payload is addressed to this hop; advances the digest only then. */
  recognizeForward(payload: Uint8Array): boolean {
    checkPayload(payload, 'payload');
    const next = recognize(this.forwardDigest, payload);
    if (next === null) return false;
    this.forwardDigest = next;
    return true;
  }

  /** True if a decrypted backward payload originated at this hop; advances the digest only then. */
  recognizeBackward(payload: Uint8Array): boolean {
    checkPayload(payload, 'payload');
    const next = recognize(this.backwardDigest, payload);
    if (next === null) return false;
    this.backwardDigest = next;
    return true;
  }
}

/**
 * The client's view of a circuit: one HopCrypto per hop, hop 0 being the first (entry) hop.
 * After an unrecognized backward cell the keystreams are out of step with the hops, so the
 * object refuses all further use ('circuit-failed'); the driver destroys the circuit.
 */
export class ClientCircuitCrypto {
  private readonly hops: HopCrypto[] = [];
  private failed = false;

  constructor(private readonly suite: CryptoSuite) {
    if (typeof suite !== 'object' || suite === null) throw new TypeError('suite must be a CryptoSuite');
  }

  get hopCount(): number {
    return this.hops.length;
  }

  /** Adds the next hop from its 128 bytes of ntor key material; returns its index. */
  addHop(keyMaterial: Uint8Array): number {
    this.assertUsable();
    this.hops.push(new HopCrypto(this.suite, keyMaterial));
    return this.hops.length - 1;
  }

  /**
   * Seals a plaintext relay payload for hop `hopIndex` (sets recognized = 0 and the digest from
   * that hop's forward digest) and encrypts it with the layers hopIndex..0 (relaycrypto.md
   * "For I=N...1: Encrypt with Kf"). Returns the bytes to send to hop 0.
   */
  encryptForward(payload: Uint8Array, hopIndex: number): Uint8Array {
    checkPayload(payload, 'payload');
    const target = this.hop(hopIndex);
    this.assertUsable();
    let p = target.sealForward(payload);
    for (let i = hopIndex; i >= 0; i--) p = this.hops[i]!.cryptForward(p);
    return p;
  }

  /**
   * Peels layers 0..N-1 off a backward payload until a hop recognizes it (relaycrypto.md
   * "Receiving the cell at origin"). Throws CircuitError('unrecognized-cell') when none does;
   * the circuit must then be torn down.
   */
  decryptBackward(payload: Uint8Array): { hopIndex: number; payload: Uint8Array } {
    checkPayload(payload, 'payload');
    if (this.hops.length === 0) throw new RangeError('decryptBackward: the circuit has no hops yet');
    this.assertUsable();
    let p = payload;
    for (let i = 0; i < this.hops.length; i++) {
      const hop = this.hops[i]!;
      p = hop.cryptBackward(p);
      if (hop.recognizeBackward(p)) return { hopIndex: i, payload: p };
    }
    this.failed = true;
    throw new CircuitError('unrecognized-cell', 'relay cell not recognized by any hop of the circuit');
  }

  private hop(index: number): HopCrypto {
    if (!Number.isInteger(index) || index < 0 || index >= this.hops.length) {
      throw new RangeError(`hopIndex must be an integer in 0..${this.hops.length - 1}, got ${index}`);
    }
    return this.hops[index]!;
  }

  private assertUsable(): void {
    if (this.failed) throw new CircuitError('circuit-failed', 'circuit crypto failed earlier; destroy the circuit');
  }
}

/** A relay's crypto for its hop of one circuit. */
export class RelayHopCrypto {
  private readonly hop: HopCrypto;

  constructor(suite: CryptoSuite, keyMaterial: Uint8Array) {
    this.hop = new HopCrypto(suite, keyMaterial);
  }

  /**
   * Removes this hop's layer from a forward payload (relaycrypto.md "Relaying the cell
   * forward"). `recognized: true` means the cell is for this hop (its digest is committed);
   * otherwise `payload` is what to pass to the next hop — or, at the last hop, a reason to
   * destroy the circuit.
   */
  decryptForward(payload: Uint8Array): { recognized: boolean; payload: Uint8Array } {
    const p = this.hop.cryptForward(payload);
    return { recognized: this.hop.recognizeForward(p), payload: p };
  }

  /**
   * Adds this hop's layer to a backward payload (relaycrypto.md "Relaying the cell backward").
   * With `originate` the payload is a plaintext relay cell from this hop: recognized and the
   * digest are set first. Without it the payload is a cell relayed from further along.
   */
  encryptBackward(payload: Uint8Array, originate: boolean): Uint8Array {
    checkPayload(payload, 'payload');
    if (typeof originate !== 'boolean') throw new TypeError('originate must be a boolean');
    const p = originate ? this.hop.sealBackward(payload) : payload;
    return this.hop.cryptBackward(p);
  }
}
