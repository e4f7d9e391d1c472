/**
 * The stream fuzz targets keep their contract: seeds are accepted, runs are deterministic,
 * arbitrary bytes give accepted or rejected only, and a short seeded run of the shared fuzz driver
 * finds no crash and reaches both outcomes.
 */
import { describe, expect, it } from 'vitest';
import { fuzzTargetContract } from '../fuzz/target-contract';
import { streamFuzzTargets } from './fuzz-targets';

const names = Object.keys(streamFuzzTargets);

describe('stream fuzz targets', () => {
  it('cover every decoder and the relay, named as the registry asks', () => {
    expect(names.sort()).toEqual(['stream-fanout', 'stream-invite', 'stream-media-frame', 'stream-message', 'stream-public', 'stream-puzzle', 'stream-receipt', 'stream-viewer-id']);
    for (const n of names) expect(n).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  fuzzTargetContract(streamFuzzTargets, { seed: 8_008 });
});
