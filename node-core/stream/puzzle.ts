/**
 * The puzzle a viewer solves before an oracle issues a viewer identification ID (seed 004 §8.3:
 * "builds an onion route towards any of oracle nodes and solves the puzzle to generate a random
 * session identifier not related to their identity"). Hashcash-style: find a nonce such that
 * SHA-256(challenge ‖ nonce) starts with `difficulty` zero bits, so each ID costs the viewer
 * about 2^difficulty hashes and the oracle one.
 *
 * Challenge (format 1, 58 bytes; integers big-endian):
 *   format      u8 = 1
 *   difficulty  u8   1..MAX_PUZZLE_DIFFICULTY leading zero bits required
 *   expiresAt   u64  ms since the Unix epoch; a solution must be checked before it
 *   salt        16   random; makes each challenge unique (spend it once: ReceiptLedger.spendId)
 *   tag         32   HMAC-SHA-256(oracle puzzle secret, "PSP-STREAM-PUZZLE-v1" ‖ the 26 bytes above)
 * Solution: nonce u64. Valid when SHA-256(the 58 challenge bytes ‖ nonce as 8 bytes big-endian)
 * has at least `difficulty` leading zero bits (most significant bit of the first byte first).
 *
 * The tag lets the oracle check, without keeping state, that it made the challenge (and chose
 * its difficulty and expiry); spending the salt in a ledger keeps one challenge from buying two
 * IDs. `checkPuzzleSolution` checks in this order: layout ('malformed', 'unsupported-version'),
 * tag ('bad-challenge'), expiry ('expired' when now ≥ expiresAt), difficulty at least the
 * caller's current minimum and the work itself ('insufficient-work').
 *
 * Does not: keep the ledger of spent salts (the oracle service holds a ReceiptLedger), or issue
 * the ID (receipt.ts issueViewerId).
 */
import type { CryptoSuite } from '../crypto/api';
import { Writer, assertBytes, concatBytes, equalBytes, utf8 } from '../util/bytes';
import { checkInput, checkTime } from '../util/codec';
import { LABEL_PUZZLE, checkInt, checkObject, dec, fail } from './internal';

export const PUZZLE_FORMAT = 1;
export const PUZZLE_CHALLENGE_LENGTH = 58;
export const PUZZLE_SECRET_LENGTH = 32;
export const PUZZLE_SALT_LENGTH = 16;
export const MAX_PUZZLE_DIFFICULTY = 40;
/** About 65,000 hashes per ID on average. */
export const DEFAULT_PUZZLE_DIFFICULTY = 16;
export const DEFAULT_PUZZLE_TTL_MS = 2 * 60 * 1000;
const MAX_NONCE = 0xffffffffffffffffn;
const TAGGED_LENGTH = 26;
const LABEL_BYTES = utf8(LABEL_PUZZLE);

export interface PuzzleChallenge {
  readonly difficulty: number;
  readonly expiresAt: number;
  readonly salt: Uint8Array;
  readonly tag: Uint8Array;
  /** The challenge exactly as received. */
  readonly bytes: Uint8Array;
}

export interface MakeChallengeOptions {
  /** Leading zero bits, 1..MAX_PUZZLE_DIFFICULTY (default DEFAULT_PUZZLE_DIFFICULTY). */
  readonly difficulty?: number;
  readonly now: number;
  /** How long the challenge may be answered (default 2 minutes). */
  readonly ttlMs?: number;
  /** 16 bytes; drawn from suite.randomBytes when absent. */
  readonly salt?: Uint8Array;
}

function tagOf(suite: CryptoSuite, secret: Uint8Array, tagged: Uint8Array): Uint8Array {
  return suite.hmacSha256(secret, concatBytes(LABEL_BYTES, tagged));
}

/** Makes a challenge as the oracle holding the 32-byte puzzle `secret`. */
export function makePuzzleChallenge(suite: CryptoSuite, secret: Uint8Array, options: MakeChallengeOptions): Uint8Array {
  assertBytes(secret, 'secret', PUZZLE_SECRET_LENGTH);
  checkObject(options, 'options');
  const difficulty = options.difficulty ?? DEFAULT_PUZZLE_DIFFICULTY;
  checkInt(difficulty, 'options.difficulty', 1, MAX_PUZZLE_DIFFICULTY);
  checkTime(options.now, 'options.now');
  const ttl = options.ttlMs ?? DEFAULT_PUZZLE_TTL_MS;
  checkInt(ttl, 'options.ttlMs', 1, Number.MAX_SAFE_INTEGER - options.now);
  const salt = options.salt ?? suite.randomBytes(PUZZLE_SALT_LENGTH);
  assertBytes(salt, 'options.salt', PUZZLE_SALT_LENGTH);
  const tagged = new Writer().u8(PUZZLE_FORMAT).u8(difficulty).u64(BigInt(options.now + ttl)).bytes(salt).finish();
  return concatBytes(tagged, tagOf(suite, secret, tagged));
}

/** Parses a challenge (layout only; anyone can, the tag is for its oracle). Throws StreamError. */
export function parsePuzzleChallenge(bytes: Uint8Array): PuzzleChallenge {
  checkInput(bytes, 'bytes');
  const what = 'puzzle challenge';
  const r = dec.openBody(bytes, 'bytes', { what, format: PUZZLE_FORMAT, maxLength: PUZZLE_CHALLENGE_LENGTH });
  const difficulty = r.u8('difficulty');
  if (difficulty < 1 || difficulty > MAX_PUZZLE_DIFFICULTY) {
    throw fail('malformed', `${what}: difficulty ${difficulty} outside 1..${MAX_PUZZLE_DIFFICULTY}`);
  }
  const expiresAt = dec.readTime(r, 'expiresAt');
  const salt = r.bytes(PUZZLE_SALT_LENGTH, 'salt').slice();
  const tag = r.bytes(32, 'tag').slice();
  dec.expectEnd(r, what);
  return { difficulty, expiresAt, salt, tag, bytes: bytes.slice() };
}

/** The number of leading zero bits of `hash` (most significant bit of byte 0 first). */
export function leadingZeroBits(hash: Uint8Array): number {
  assertBytes(hash, 'hash');
  let n = 0;
  for (const b of hash) {
    if (b === 0) {
      n += 8;
      continue;
    }
    return n + Math.clz32(b) - 24;
  }
  return n;
}

function nonceBytes(nonce: bigint): Uint8Array {
  return new Writer().u64(nonce).finish();
}

function checkNonce(nonce: unknown, name: string): asserts nonce is bigint {
  if (typeof nonce !== 'bigint') throw new TypeError(`${name} must be a bigint`);
  if (nonce < 0n || nonce > MAX_NONCE) throw new RangeError(`${name} must be in 0..2^64-1, got ${nonce}`);
}

export interface SolveOptions {
  /** Hashes tried at most before giving up (default 2^32). */
  readonly maxAttempts?: number;
  /** First nonce tried (default 0). */
  readonly startNonce?: bigint;
}

/**
 * Finds a nonce for `challenge` (a client's side; also for tests), trying nonces upward from
 * `startNonce`. Returns null when `maxAttempts` hashes found none. Throws StreamError for a
 * challenge that does not parse.
 */
export function solvePuzzle(suite: CryptoSuite, challenge: Uint8Array, options: SolveOptions = {}): bigint | null {
  const c = parsePuzzleChallenge(challenge);
  checkObject(options, 'options');
  const maxAttempts = options.maxAttempts ?? 2 ** 32;
  checkInt(maxAttempts, 'options.maxAttempts', 1, Number.MAX_SAFE_INTEGER);
  const start = options.startNonce ?? 0n;
  checkNonce(start, 'options.startNonce');
  const input = new Uint8Array(PUZZLE_CHALLENGE_LENGTH + 8);
  input.set(c.bytes, 0);
  input.set(nonceBytes(start), PUZZLE_CHALLENGE_LENGTH);
  let nonce = start;
  for (let i = 0; i < maxAttempts; i++) {
    if (leadingZeroBits(suite.sha256(input)) >= c.difficulty) return nonce;
    if (nonce === MAX_NONCE) return null;
    nonce++;
    // Increment the big-endian nonce in place.
    for (let j = input.length - 1; j >= PUZZLE_CHALLENGE_LENGTH; j--) {
      input[j] = (input[j]! + 1) & 0xff;
      if (input[j] !== 0) break;
    }
  }
  return null;
}

export interface CheckSolutionOptions {
  /** Refuse challenges made with a lower difficulty than this (default: any). */
  readonly minDifficulty?: number;
}

/**
 * Checks a solution as the oracle holding `secret` (order of checks in the header) and returns
 * the parsed challenge, whose salt the caller spends once. Throws StreamError.
 */
export function checkPuzzleSolution(
  suite: CryptoSuite,
  secret: Uint8Array,
  challenge: Uint8Array,
  nonce: bigint,
  now: number,
  options: CheckSolutionOptions = {},
): PuzzleChallenge {
  assertBytes(secret, 'secret', PUZZLE_SECRET_LENGTH);
  checkNonce(nonce, 'nonce');
  checkTime(now, 'now');
  checkObject(options, 'options');
  if (options.minDifficulty !== undefined) checkInt(options.minDifficulty, 'options.minDifficulty', 1, MAX_PUZZLE_DIFFICULTY);
  const c = parsePuzzleChallenge(challenge);
  if (!equalBytes(tagOf(suite, secret, c.bytes.subarray(0, TAGGED_LENGTH)), c.tag)) {
    throw fail('bad-challenge', 'puzzle challenge was not made with this secret');
  }
  if (now >= c.expiresAt) throw fail('expired', `puzzle challenge expired at ${c.expiresAt} (now ${now})`);
  if (options.minDifficulty !== undefined && c.difficulty < options.minDifficulty) {
    throw fail('insufficient-work', `puzzle challenge asks ${c.difficulty} bits, at least ${options.minDifficulty} required now`);
  }
  const bits = leadingZeroBits(suite.sha256(concatBytes(c.bytes, nonceBytes(nonce))));
  if (bits < c.difficulty) throw fail('insufficient-work', `solution hash has ${bits} leading zero bits, ${c.difficulty} required`);
  return c;
}
