/**
 * The node daemon's configuration file (JSON), validated with a schema: a bad file is refused
 * with a message naming the field, and nothing starts.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';

export const NODE_ROLES = ['onion', 'discovery', 'authority', 'oracle', 'landing', 'distribution'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

const positive = z.number().positive();
const positiveInt = z.number().int().positive();

const linkLimitsSchema = z
  .object({
    handshakeTimeoutMs: positive,
    handshakeMaxVarPayload: positiveInt,
    maxVarPayload: positiveInt.max(65535),
    cellsPerSecond: positive,
    cellBurst: positive,
    maxQueuedBytes: positiveInt,
    queueHighWater: positiveInt,
    keepaliveMs: positive,
    idleTimeoutMs: positive,
    deadPeerMs: positive,
  })
  .partial()
  .strict();

const listenerLimitsSchema = z
  .object({ maxConnectionsPerIp: positiveInt, maxPendingHandshakes: positiveInt, maxLinks: positiveInt })
  .partial()
  .strict();

const relayLimitsSchema = z
  .object({
    createsPerSecondPerIp: positive,
    createBurstPerIp: positive,
    maxPendingCreates: positiveInt,
    maxCircuitQueue: positiveInt,
    circuitCellsPerSecond: positive,
    circuitCellBurst: positive,
    nodeCellsPerSecond: positive,
    nodeCellBurst: positive,
    maxCircuits: positiveInt,
    extendTimeoutMs: positive,
  })
  .partial()
  .strict();

/** Live streams at a landing or distribution node (stream-service.ts StreamServiceLimits). */
const streamLimitsSchema = z
  .object({
    maxStreams: positiveInt,
    landingCapacity: positiveInt,
    distributionCapacity: positiveInt,
    reportIntervalMs: positiveInt,
    redirectGraceMs: positiveInt,
    maxPublicStreams: positiveInt,
    reofferMs: positiveInt,
  })
  .partial()
  .strict();

/** The oracle role (oracle-service.ts OracleOptions). */
const oracleSchema = z
  .object({
    /** The plan of a certified identity that has no subscription row; null: none (a public network). */
    defaultPlan: z
      .object({ maxBitrate: z.number().int().min(1).max(0xffffffff), maxViewers: z.number().int().min(1).max(0xffffffff), publicAllowed: z.boolean() })
      .strict()
      .nullable()
      .default(null),
    /** Clients refuse puzzles harder than 24 bits. */
    puzzleDifficulty: z.number().int().min(1).max(24).optional(),
    receiptTtlMs: z.number().int().min(1000).max(15 * 60_000).optional(),
    viewerIdTtlMs: z.number().int().min(1000).max(24 * 3600_000).optional(),
  })
  .strict();

const base58Key = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,50}$/, 'a base58 Ed25519 public key');

export const nodeConfigSchema = z
  .object({
    nickname: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, '1-32 letters, digits, _ or -'),
    roles: z.array(z.enum(NODE_ROLES)).min(1),
    listen: z.object({ host: z.string().min(1), port: z.number().int().min(0).max(65535) }).strict(),
    /** Address other hosts use to reach this node, when it differs from listen.host. */
    advertise: z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict().optional(),
    dataDir: z.string().min(1),
    /** File holding the passphrase that encrypts the identity key; else SIRIUS_NODE_PASSPHRASE. */
    passphraseFile: z.string().min(1).optional(),
    allowClients: z.boolean().default(true),
    limits: z
      .object({
        link: linkLimitsSchema.optional(),
        listener: listenerLimitsSchema.optional(),
        relay: relayLimitsSchema.optional(),
        stream: streamLimitsSchema.optional(),
      })
      .strict()
      .default({}),
    /** Onion keys are replaced this often; the previous key keeps working for one more period. */
    onionKeyRotationHours: z.number().positive().default(24 * 7),
    /**
     * Test networks only: append what this node sees (decrypted relay payloads, circuit
     * neighbours) as JSON lines to this file, so privacy tests can check what a node learned.
     */
    dangerouslyRecordObservations: z.string().min(1).optional(),
    /** The network file: discovery and authority nodes and the trust thresholds. */
    network: z.string().min(1).optional(),
    /** The oracle role's settings (nodes with the role "oracle"). */
    oracle: oracleSchema.optional(),
    /** Nodes to keep an authenticated link to. */
    peers: z
      .array(z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535), identity: base58Key }).strict())
      .default([]),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export type NodeConfig = z.infer<typeof nodeConfigSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads and validates a config file; relative paths in it are taken from the file's folder. */
export function loadNodeConfig(path: string): NodeConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read config ${path}: ${(err as Error).message}`);
  }
  const parsed = nodeConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid config ${path}: ${issues}`);
  }
  const base = dirname(resolve(path));
  const cfg = parsed.data;
  cfg.dataDir = resolve(base, cfg.dataDir);
  if (cfg.passphraseFile) cfg.passphraseFile = resolve(base, cfg.passphraseFile);
  if (cfg.network) cfg.network = resolve(base, cfg.network);
  if (cfg.dangerouslyRecordObservations) cfg.dangerouslyRecordObservations = resolve(base, cfg.dangerouslyRecordObservations);
  return cfg;
}
