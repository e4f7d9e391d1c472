/**
 * Where a user's data lives. One data root per user (Electron's `userData` folder, or the web
 * host's `--data`), holding one folder per profile and the embedded local network they share:
 *
 *   <root>/profiles/<name>/   one profile: identity.key, announce.key (sealed key files),
 *                             client.json, chat.sqlite and files/ (history and file bytes),
 *                             outgoing/ (files being copied into the store), settings.json,
 *                             profile.json, profile.lock, keychain.secret (Electron only),
 *                             relay/ (the relay node's own keys and data)
 *   <root>/network/           the embedded local network (see ./embedded-network)
 *
 * The main process uses the same layout to find a profile's keychain-sealed secret.
 */
import { isAbsolute, join } from 'node:path';

/** Profile names: 1-64 letters, digits, `_` or `-` (they become folder names). */
export const PROFILE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const DEFAULT_PROFILE = 'default';

export interface ProfilePaths {
  readonly root: string;
  readonly name: string;
  /** The profile's folder; also the ChatClient's data folder (key files, client.json). */
  readonly dir: string;
  readonly identityKey: string;
  readonly announceKey: string;
  readonly profileFile: string;
  readonly settingsFile: string;
  readonly readMarksFile: string;
  readonly chatDb: string;
  readonly filesDir: string;
  readonly outgoingDir: string;
  readonly lockFile: string;
  readonly keychainSecret: string;
  readonly relayDir: string;
}

function checkRoot(root: unknown): asserts root is string {
  if (typeof root !== 'string' || root.length === 0) throw new TypeError('root must be a non-empty string');
  if (!isAbsolute(root)) throw new RangeError('root must be an absolute path');
}

/** True when `name` may name a profile. */
export function isProfileName(name: unknown): name is string {
  return typeof name === 'string' && PROFILE_NAME_PATTERN.test(name);
}

export function profilePaths(root: string, name: string): ProfilePaths {
  checkRoot(root);
  if (typeof name !== 'string') throw new TypeError('name must be a string');
  if (!PROFILE_NAME_PATTERN.test(name)) throw new RangeError('name must be 1-64 letters, digits, _ or -');
  const dir = join(root, 'profiles', name);
  return {
    root,
    name,
    dir,
    identityKey: join(dir, 'identity.key'),
    announceKey: join(dir, 'announce.key'),
    profileFile: join(dir, 'profile.json'),
    settingsFile: join(dir, 'settings.json'),
    readMarksFile: join(dir, 'read-marks.json'),
    chatDb: join(dir, 'chat.sqlite'),
    filesDir: join(dir, 'files'),
    outgoingDir: join(dir, 'outgoing'),
    lockFile: join(dir, 'profile.lock'),
    keychainSecret: join(dir, 'keychain.secret'),
    relayDir: join(dir, 'relay'),
  };
}

/** The folder of the embedded local network shared by every profile under `root`. */
export function embeddedNetworkDir(root: string): string {
  checkRoot(root);
  return join(root, 'network');
}
