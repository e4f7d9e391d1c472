/**
 * profile.json: what a profile's folder says about itself before it is unlocked — its identity
 * string (public), which protection seals its keys, and when it was made. The secret keys live
 * in the sealed key files beside it.
 */
import { z } from 'zod';
import { readJsonFile, writeFileAtomic } from './files';

const profileFileSchema = z.strictObject({
  version: z.literal(1),
  identity: z.string().min(1).max(200),
  keyProtection: z.enum(['passphrase', 'os-keychain']),
  createdAt: z.number().int().nonnegative(),
});

export type ProfileFile = z.output<typeof profileFileSchema>;

/** The profile file; undefined when there is none, null when it exists but is not valid. */
export function readProfileFile(path: string): ProfileFile | null | undefined {
  let raw: unknown;
  try {
    raw = readJsonFile(path);
  } catch {
    return null;
  }
  if (raw === undefined) return undefined;
  const parsed = profileFileSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

export function writeProfileFile(path: string, value: ProfileFile): void {
  writeFileAtomic(path, JSON.stringify(profileFileSchema.parse(value), null, 2) + '\n');
}
