/** Checks of what a person types, with the reason in words; the backend checks again. */
import { identityString } from '../../../app/contract';

export const MAX_NAME = 128;

/** Why `text` is not an identity string someone could be added by, or null. */
export function identityProblem(text: string, own?: string): string | null {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  const value = text.trim();
  if (value.length === 0) return 'Paste the identity string of the person you want to add.';
  if (/\s/.test(value)) return 'An identity string has no spaces. Check that it was copied whole.';
  if (!value.includes('.account.')) return 'That is not an identity string. One looks like sirius.chat.account.5Hx…';
  if (!identityString.safeParse(value).success) {
    return 'That identity string is not complete or has a typing error. Copy it again from the other person.';
  }
  if (own !== undefined && value === own) return 'That is your own identity.';
  return null;
}

/** Why `name` is not a usable name (display name or contact name), or null. */
export function nameProblem(name: string): string | null {
  if (typeof name !== 'string') throw new TypeError('name must be a string');
  const value = name.trim();
  if (value.length === 0) return 'Enter a name.';
  if (value.length > MAX_NAME) return `Names can be at most ${MAX_NAME} characters.`;
  return null;
}
