/** Base64 (RFC 4648 §4, with padding) for files crossing the bridge, without Node's Buffer. */

const CHUNK = 0x8000;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

export function bytesToBase64(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += CHUNK) {
    parts.push(String.fromCharCode(...bytes.subarray(i, i + CHUNK)));
  }
  return btoa(parts.join(''));
}

export function base64ToBytes(text: string): Uint8Array<ArrayBuffer> {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  if (text.length % 4 !== 0 || !BASE64_RE.test(text)) throw new RangeError('text must be padded base64');
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
