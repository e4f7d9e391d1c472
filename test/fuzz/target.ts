/**
 * What a fuzz target is. Each target lives in its own file under test/fuzz/targets/ and is
 * registered in test/fuzz/targets.ts.
 */
export interface FuzzTarget {
  /** Valid (or nearly valid) inputs the mutator starts from. Called once per run; keep them small. */
  seeds(): Uint8Array[];
  /**
   * Parses `input`. Returns 'rejected' when the parser throws its own typed error, 'accepted'
   * when it succeeds. Anything else — another exception, or a broken invariant, which a target
   * reports by throwing a plain Error — propagates and counts as a crash. Must be deterministic:
   * the same input gives the same result, so a crash can be replayed from its hex.
   */
  run(input: Uint8Array): 'accepted' | 'rejected';
}
