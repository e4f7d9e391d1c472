/**
 * A uniform shuffle (Fisher–Yates) driven by a cryptographic random source, for choosing nodes:
 * which guard, oracle or landing node a client uses must not be predictable.
 */
export interface RandomBytesSource {
  randomBytes(length: number): Uint8Array;
}

/** A shuffled copy of `items`. */
export function shuffled<T>(items: readonly T[], random: RandomBytesSource): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const r = random.randomBytes(4);
    // 32 random bits modulo (i + 1): the bias is at most (i + 1) / 2^32, negligible for node lists.
    const j = (((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
