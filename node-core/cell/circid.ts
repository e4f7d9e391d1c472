/**
 * Circuit id ownership and allocation on one link (binary/cell.md "Circuit ID").
 *
 * "Whichever party initiated the TLS connection sets its MSB to 1, and whichever party did not
 * initiate the connection sets its MSB to 0", so the two ends of a link never pick the same id.
 * Ids are chosen at random (not sequentially) so they reveal nothing about how many circuits a
 * link has carried. Id 0 is reserved for link cells and is never allocated.
 *
 * Randomness is injected (a CryptoSuite fits), keeping this module pure.
 */
import { MAX_CIRC_ID } from './command';

const MSB = 0x80000000;

function checkCircId(id: unknown, name: string): asserts id is number {
  if (typeof id !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isInteger(id) || id < 1 || id > MAX_CIRC_ID) {
    throw new RangeError(`${name} must be an integer 1..${MAX_CIRC_ID} (0 belongs to no circuit), got ${id}`);
  }
}

/** True when a circuit id has its MSB set, i.e. was chosen by the side that opened the TLS link. */
export function circIdOwnedByInitiator(id: number): boolean {
  checkCircId(id, 'id');
  return id >= MSB;
}

/** A source of secure random bytes; `CryptoSuite` satisfies it. */
export interface RandomSource {
  randomBytes(length: number): Uint8Array;
}

export interface CircIdAllocatorOptions {
  /** True on the side that initiated the TLS link (its ids have the MSB set). */
  initiator: boolean;
  random: RandomSource;
}

/** Tries before giving up; with ids drawn from 2^31 values this is reached only when nearly full. */
const MAX_ATTEMPTS = 256;

/** Allocates random, unused, non-zero circuit ids for one side of one link. */
export class CircIdAllocator {
  readonly initiator: boolean;
  readonly #random: RandomSource;
  readonly #inUse = new Set<number>();

  constructor(options: CircIdAllocatorOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (typeof options.initiator !== 'boolean') throw new TypeError('options.initiator must be a boolean');
    const random = options.random;
    if (typeof random !== 'object' || random === null || typeof random.randomBytes !== 'function') {
      throw new TypeError('options.random must have a randomBytes(length) function');
    }
    this.initiator = options.initiator;
    this.#random = random;
  }

  /** Number of ids currently allocated. */
  get size(): number {
    return this.#inUse.size;
  }

  /** Whether `id` is currently allocated by this allocator. */
  has(id: number): boolean {
    return this.#inUse.has(id);
  }

  /** Returns a fresh id: non-zero, not in use, MSB set iff this side initiated the link. */
  allocate(): number {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const r = this.#random.randomBytes(4);
      if (!(r instanceof Uint8Array) || r.length !== 4) {
        throw new TypeError('random.randomBytes(4) must return a 4-byte Uint8Array');
      }
      const low31 = ((r[0]! & 0x7f) << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!;
      const id = this.initiator ? MSB + low31 : low31;
      if (id === 0 || this.#inUse.has(id)) continue;
      this.#inUse.add(id);
      return id;
    }
    throw new RangeError(`no free circuit id found after ${MAX_ATTEMPTS} tries (${this.#inUse.size} in use)`);
  }

  /** Releases an id. Returns false if it was not allocated here. */
  free(id: number): boolean {
    checkCircId(id, 'id');
    return this.#inUse.delete(id);
  }
}
