/**
 * Fuzz targets for node-core/media, for the shared runner (register them in
 * test/fuzz/targets.ts; see test/fuzz/target.ts for the contract). Not a test file.
 *
 *   sframe-header    decodeHeader
 *   sframe-decrypt   SFrameContext.decrypt under each of the five cipher suites, with fixed
 *                    decryption keys for KIDs 0, 5 and 0x1234 and fixed metadata
 *   ivf              readIvf with a 64 KiB frame limit; what it accepts, written again with
 *                    writeIvf, must read back to the same header fields and frames
 *
 * SFrameError means 'rejected'. A decoded header must re-encode to exactly the bytes it was
 * read from. A ciphertext that decrypts must be exactly what a fresh encryption context with
 * the same key gives for the decrypted (KID, CTR, plaintext). The decryption contexts have no
 * replay window, so a run does not depend on the runs before it.
 */
import { SFRAME_SUITE, SFrameContext, SFrameError, decodeHeader, encodeHeader, type SFrameSuiteId } from '../../node-core/media';
import { toHex, utf8 } from '../../node-core/util/bytes';
import type { FuzzTarget } from '../fuzz/target';
import { isIvfError, readIvf, writeIvf } from '../../node-core/media/ivf';

export type { FuzzTarget } from '../fuzz/target';

function invariant(ok: boolean, what: string): void {
  if (!ok) throw new Error(`invariant broken: ${what}`);
}

function rejectOnSFrameError(f: () => void): 'accepted' | 'rejected' {
  try {
    f();
  } catch (e) {
    if (e instanceof SFrameError) return 'rejected';
    throw e;
  }
  return 'accepted';
}

const header: FuzzTarget = {
  seeds: () => [
    encodeHeader(0, 0),
    encodeHeader(7, 8),
    encodeHeader(0x1234, 0xff),
    encodeHeader(0xffffffffffffffffn, 0x0100000000000000n),
  ],
  run: (input) =>
    rejectOnSFrameError(() => {
      const h = decodeHeader(input);
      invariant(h.length >= 1 && h.length <= input.length, 'the header length lies within the input');
      invariant(toHex(encodeHeader(h.kid, h.ctr)) === toHex(input.subarray(0, h.length)), 'a decoded header re-encodes to its bytes');
    }),
};

const SUITES = Object.values(SFRAME_SUITE) as SFrameSuiteId[];
const KIDS = [0n, 5n, 0x1234n];
const BASE_KEY = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 ^ i);
const METADATA = utf8('fuzz metadata');

let receivers: SFrameContext[] | undefined;
function decryptors(): SFrameContext[] {
  receivers ??= SUITES.map((suite) => {
    const ctx = new SFrameContext({ suite, replayWindow: 0 });
    for (const kid of KIDS) ctx.addKey(kid, BASE_KEY, 'decrypt');
    return ctx;
  });
  return receivers;
}

function encryptOnce(suite: SFrameSuiteId, kid: bigint, ctr: bigint, plaintext: Uint8Array): Uint8Array {
  const ctx = new SFrameContext({ suite });
  ctx.addKey(kid, BASE_KEY, 'encrypt');
  return ctx.encrypt(kid, ctr, METADATA, plaintext);
}

const decrypt: FuzzTarget = {
  seeds: () => {
    const out: Uint8Array[] = [];
    SUITES.forEach((suite, i) => {
      out.push(encryptOnce(suite, KIDS[i % KIDS.length]!, BigInt(i * 100), utf8(`seed frame ${i}`)));
    });
    out.push(encryptOnce(4, 0x1234n, 0xffffffffffffffffn, new Uint8Array(0)));
    return out;
  },
  run: (input) => {
    let accepted = false;
    for (const ctx of decryptors()) {
      const outcome = rejectOnSFrameError(() => {
        const r = ctx.decrypt(input, METADATA);
        const again = encryptOnce(ctx.suite.id, r.kid, r.ctr, r.plaintext);
        invariant(toHex(again) === toHex(input), 'a decrypted frame re-encrypts to its input');
      });
      if (outcome === 'accepted') accepted = true;
    }
    return accepted ? 'accepted' : 'rejected';
  },
};

const ivf: FuzzTarget = {
  seeds: () => [
    writeIvf({ fourcc: 'VP80', width: 64, height: 48, timebaseNumerator: 1, timebaseDenominator: 30 }, [
      { data: Uint8Array.of(0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 64, 0, 48, 0), timestamp: 0 },
      { data: Uint8Array.of(0x31, 0x00, 0x00), timestamp: 1 },
    ]),
  ],
  run: (input) => {
    let file;
    try {
      file = readIvf(input, { maxFrameSize: 65_536 });
    } catch (e) {
      if (isIvfError(e)) return 'rejected';
      throw e;
    }
    const h = file.header;
    const again = readIvf(writeIvf(h, file.frames, { maxFrameSize: 65_536 }), { maxFrameSize: 65_536 });
    invariant(
      again.frames.length === file.frames.length && again.frames.every((f, i) => toHex(f.data) === toHex(file.frames[i]!.data) && f.timestamp === file.frames[i]!.timestamp),
      'frames read back the same',
    );
    invariant(again.header.fourcc === h.fourcc && again.header.width === h.width && again.header.height === h.height, 'header read back the same');
    return 'accepted';
  },
};

export const mediaFuzzTargets: Record<string, FuzzTarget> = {
  'sframe-header': header,
  'sframe-decrypt': decrypt,
  ivf,
};
