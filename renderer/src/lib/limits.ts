/**
 * Size limits the contract puts on what a person sends (app/contract: chat.send, chat.sendFile),
 * checked in the UI before anything is sent so the reason can be shown next to the composer.
 */

/** A text message is at most 64 KiB. Counted in UTF-8 bytes, which is never less than the UTF-16
 * length the contract's schema counts, so a message that passes here passes there. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** A file is at most 16 MiB (decoded). */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;
/** A file name is 1–255 characters. */
export const MAX_FILE_NAME = 255;
/** A search query is 1–256 characters. */
export const MAX_SEARCH_LENGTH = 256;

const encoder = new TextEncoder();

/** Length of `text` in UTF-8 bytes. */
export function utf8Length(text: string): number {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  // Counting without encoding keeps this cheap for every keystroke in a long draft.
  let bytes = 0;
  for (let i = 0; i < text.length; i += 1) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i += 1;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** The same count through TextEncoder (used by the tests to check {@link utf8Length}). */
export function utf8LengthByEncoding(text: string): number {
  return encoder.encode(text).length;
}

/** Why `text` cannot be sent as a message, or null when it can. */
export function messageTextProblem(text: string): string | null {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  if (text.trim().length === 0) return 'Write something first.';
  if (utf8Length(text) > MAX_MESSAGE_BYTES) return 'This message is longer than 64 KiB. Split it into several messages.';
  return null;
}

/** Why a file of `size` bytes named `name` cannot be sent, or null when it can. */
export function fileProblem(name: string, size: number): string | null {
  if (typeof name !== 'string') throw new TypeError('name must be a string');
  if (typeof size !== 'number' || !Number.isFinite(size) || size < 0) throw new RangeError('size must be a non-negative number');
  if (name.length === 0) return 'The file has no name.';
  if (name.length > MAX_FILE_NAME) return 'The file name is longer than 255 characters. Rename the file first.';
  if (size > MAX_FILE_BYTES) return 'Files can be at most 16 MiB.';
  return null;
}
