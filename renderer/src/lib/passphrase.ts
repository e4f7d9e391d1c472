/**
 * A rough passphrase strength estimate for the onboarding form: bits from length and the kinds of
 * characters used, less for repeats, runs ("1234", "abcd") and well-known choices. It is a hint for
 * people, not a security guarantee.
 */

export interface Strength {
  /** 0 too short, 1 weak, 2 fair, 3 good, 4 strong. */
  readonly score: 0 | 1 | 2 | 3 | 4;
  readonly label: string;
  readonly hint: string;
}

/** The contract's minimum passphrase length (`profile.create`). */
export const MIN_PASSPHRASE = 8;
export const MAX_PASSPHRASE = 1024;

const COMMON = ['password', 'passwort', 'qwerty', 'azerty', 'letmein', 'iloveyou', 'welcome', 'admin', 'sirius', 'monkey', 'dragon', '123456', '12345678', 'abc123'];

function poolSize(text: string): number {
  let pool = 0;
  if (/[a-z]/.test(text)) pool += 26;
  if (/[A-Z]/.test(text)) pool += 26;
  if (/[0-9]/.test(text)) pool += 10;
  if (/ /.test(text)) pool += 1;
  if (/[^a-zA-Z0-9 ]/.test(text)) pool += 33;
  // Letters outside ASCII widen the pool a lot; count them as a large alphabet.
  if (/[^\x00-\x7f]/.test(text)) pool += 100;
  return Math.max(pool, 1);
}

/** Characters that repeat the previous one or continue a run (a→b→c, 3→2→1). */
function predictableCount(chars: readonly string[]): number {
  let count = 0;
  for (let i = 1; i < chars.length; i += 1) {
    const a = chars[i - 1]?.codePointAt(0) ?? 0;
    const b = chars[i]?.codePointAt(0) ?? 0;
    if (a === b || Math.abs(a - b) === 1) count += 1;
  }
  return count;
}

export function passphraseStrength(passphrase: string): Strength {
  if (typeof passphrase !== 'string') throw new TypeError('passphrase must be a string');
  const chars = [...passphrase];
  if (chars.length < MIN_PASSPHRASE) {
    return { score: 0, label: 'Too short', hint: `Use at least ${MIN_PASSPHRASE} characters.` };
  }
  const lower = passphrase.toLowerCase();
  const perChar = Math.log2(poolSize(passphrase));
  // Predictable characters count for about one bit each.
  const predictable = predictableCount(chars);
  let bits = (chars.length - predictable) * perChar + predictable;
  if (COMMON.some((word) => lower.includes(word))) bits -= 20;
  if (new Set(chars).size <= 3) bits = Math.min(bits, 10);
  if (bits < 40) return { score: 1, label: 'Weak', hint: 'Easy to guess. Add more words or characters.' };
  if (bits < 60) return { score: 2, label: 'Fair', hint: 'Longer is better: a few unrelated words work well.' };
  if (bits < 80) return { score: 3, label: 'Good', hint: 'A good passphrase. Keep it somewhere safe.' };
  return { score: 4, label: 'Strong', hint: 'A strong passphrase. Keep it somewhere safe.' };
}
