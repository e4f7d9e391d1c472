/**
 * Structured logs (pino, JSON lines) with a redacting wrapper for sensitive values.
 *
 * Addresses of peers, and anything that ties a circuit to a person, never reach a log as they
 * are: `redact()` replaces them with a short keyed hash that is stable within one process (so
 * lines about the same peer can be matched up) and meaningless outside it. Secrets (keys,
 * passphrases) must never be passed to a logger at all; pino's `redact` paths are a second net
 * for the field names that would carry them.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

const processKey = randomBytes(32);

/** A stable-per-process pseudonym for a sensitive value such as an IP address. */
export function redact(value: string): string {
  return 'r:' + createHmac('sha256', processKey).update(value).digest('hex').slice(0, 12);
}

export interface LogOptions {
  name: string;
  level?: string;
  /** Where lines go; defaults to stdout (fd 1). */
  destination?: NodeJS.WritableStream | number;
}

const SECRET_PATHS = ['secretKey', 'passphrase', 'password', 'seed', 'key', '*.secretKey', '*.passphrase', '*.seed'];

export function createLogger(opts: LogOptions): Logger {
  const level = opts.level ?? process.env.SIRIUS_LOG_LEVEL ?? 'info';
  const dest = opts.destination ?? 1;
  const stream = typeof dest === 'number' ? pino.destination({ fd: dest, sync: true }) : dest;
  return pino(
    {
      name: opts.name,
      level,
      base: { pid: process.pid },
      redact: { paths: SECRET_PATHS, censor: '[secret]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    stream,
  );
}

/** A logger that drops everything (library default when the caller gives none). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
