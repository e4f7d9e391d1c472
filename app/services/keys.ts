/**
 * Keys at rest. A profile's secret keys (identity.key, announce.key) are key files sealed with a
 * secret (node-core/io/keystore.ts: scrypt + AEAD). Where that secret comes from is the
 * KeyProtector's business:
 *
 * - 'passphrase' (the web host, tests, and the desktop app where no OS keychain is usable): the
 *   passphrase the user types at create and unlock.
 * - 'os-keychain' (the desktop app): a random per-profile secret that the Electron MAIN process
 *   keeps sealed with `safeStorage` (the OS keychain) in the profile's `keychain.secret` and
 *   hands to the backend process over its parent port ('unlock-secret' message), so the user
 *   types no passphrase. The backend never sees the keychain itself.
 *
 * A profile records which protection sealed it (profile.json); unlocking uses that one.
 */
export type KeyProtection = 'passphrase' | 'os-keychain';

export interface KeyProtector {
  /** What a profile created now would be sealed with. */
  readonly kind: KeyProtection;
  /**
   * The per-profile keychain secret, as the string key files are sealed with. Rejects when it
   * does not come (no keychain, or the main process could not unseal it).
   */
  keychainSecret(): Promise<string>;
}

/** The web host's protector: passphrases only. */
export function passphraseProtector(): KeyProtector {
  return {
    kind: 'passphrase',
    keychainSecret: () => Promise.reject(new Error('no OS keychain in this process')),
  };
}

/** A secret the main process sends: 32 random bytes as 64 lower-case hex digits. */
export const KEYCHAIN_SECRET_PATTERN = /^[0-9a-f]{64}$/;

export interface DeferredKeychain {
  readonly protector: KeyProtector;
  /** Delivers the secret (the first valid one counts; later ones are ignored). Returns whether it was taken. */
  provide(secret: string): boolean;
}

/**
 * The desktop backend's protector: kind 'os-keychain'; `keychainSecret()` waits for the secret
 * the main process sends, at most `waitMs`.
 */
export function deferredKeychainProtector(waitMs = 15_000): DeferredKeychain {
  if (!Number.isSafeInteger(waitMs) || waitMs <= 0) throw new RangeError('waitMs must be a positive integer');
  let secret: string | null = null;
  const waiters: ((s: string) => void)[] = [];
  return {
    protector: {
      kind: 'os-keychain',
      keychainSecret() {
        if (secret !== null) return Promise.resolve(secret);
        return new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => {
            const i = waiters.indexOf(take);
            if (i >= 0) waiters.splice(i, 1);
            reject(new Error('the system keychain did not provide the profile’s key'));
          }, waitMs);
          timer.unref?.();
          const take = (s: string): void => {
            clearTimeout(timer);
            resolve(s);
          };
          waiters.push(take);
        });
      },
    },
    provide(value: string): boolean {
      if (secret !== null || typeof value !== 'string' || !KEYCHAIN_SECRET_PATTERN.test(value)) return false;
      secret = value;
      for (const w of waiters.splice(0)) w(value);
      return true;
    },
  };
}
