/**
 * Fuzz targets for the chat frame decoders, for the shared runner (register them in
 * test/fuzz/targets.ts; see test/fuzz/target.ts for the contract). Not a test file.
 *
 *   chat-frame   decodeFrame
 *   chat-item    decodeItem (an item as stores keep it)
 *
 * ChatError means 'rejected'. What a decoder accepts must re-encode to exactly the input and
 * stay within the frame limit; a broken invariant, or any other exception, is a crash.
 */
import fc from 'fast-check';
import { ChatError, MAX_FRAME_BYTES, decodeFrame, decodeItem, encodeFrame, encodeItem } from '../../node-core/chat';
import { toHex } from '../../node-core/util/bytes';
import type { FuzzTarget } from '../fuzz/target';
import { frameArb, itemArb } from './arbitraries';

export type { FuzzTarget } from '../fuzz/target';

function invariant(ok: boolean, what: string): void {
  if (!ok) throw new Error(`invariant broken: ${what}`);
}

function rejectOnChatError(parse: () => void): 'accepted' | 'rejected' {
  try {
    parse();
  } catch (e) {
    if (e instanceof ChatError) return 'rejected';
    throw e;
  }
  return 'accepted';
}

/** A fixed sample of valid inputs (the same every run). */
function sample<T>(arb: fc.Arbitrary<T>, n: number, encode: (v: T) => Uint8Array): Uint8Array[] {
  return fc.sample(arb, { numRuns: n, seed: 20_240_601 }).map(encode);
}

const frame: FuzzTarget = {
  seeds: () => sample(frameArb, 24, encodeFrame),
  run: (input) =>
    rejectOnChatError(() => {
      const f = decodeFrame(input);
      const again = encodeFrame(f);
      invariant(again.length <= MAX_FRAME_BYTES, 'an accepted frame is within the frame limit');
      invariant(toHex(again) === toHex(input), 'a decoded chat frame re-encodes to its input');
    }),
};

const item: FuzzTarget = {
  seeds: () => sample(itemArb, 16, encodeItem),
  run: (input) =>
    rejectOnChatError(() => {
      const it = decodeItem(input);
      invariant(toHex(encodeItem(it)) === toHex(input), 'a decoded chat item re-encodes to its input');
    }),
};

export const chatFuzzTargets: Record<string, FuzzTarget> = {
  'chat-frame': frame,
  'chat-item': item,
};
