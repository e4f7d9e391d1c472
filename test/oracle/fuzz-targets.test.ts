/**
 * The oracle fuzz targets keep their contract: seeds are accepted, runs are deterministic,
 * arbitrary bytes give accepted or rejected only, and a short seeded run of the shared fuzz driver
 * finds no crash and reaches both outcomes.
 */
import { describe, expect, it } from 'vitest';
import { fuzzTargetContract } from '../fuzz/target-contract';
import { oracleFuzzTargets } from './fuzz-targets';

const names = Object.keys(oracleFuzzTargets);

describe('oracle fuzz targets', () => {
  it('cover the credential, the peer record and the usage ledger, named as the registry asks', () => {
    expect(names.sort()).toEqual(['oracle-credential', 'oracle-peer-record', 'oracle-usage']);
    for (const n of names) expect(n).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  fuzzTargetContract(oracleFuzzTargets, { seed: 5_000 });
});
