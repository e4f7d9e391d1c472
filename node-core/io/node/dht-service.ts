/**
 * A node's part in the DHT and in presence (seed 004 §3, §6.2–6.3; DESIGN §3):
 * - it runs a DhtNode (node-core/dht) whose requests to other nodes travel as application
 *   messages (event 3000) over one-hop circuits on authenticated links, so the answering node
 *   knows which node asked;
 * - it bootstraps its routing table from the verified node list and keeps it fresh, republishes
 *   and wipes records on a timer;
 * - as a presence node it accepts presence announcements from clients at the end of their
 *   circuits (event 1: the owner-signed record, which it co-signs and publishes to the k closest
 *   nodes) and answers presence lookups (event 3: the newest valid records for an owner);
 *   the circuit an announcement succeeded on is handed to the presence service
 *   (presence-service.ts), which forwards introductions and mailbox notices over it.
 */
import { base58 } from '@scure/base';
import type { CryptoSuite } from '../../crypto/api';
import {
  DhtNode,
  decodeDhtMessage,
  encodeDhtMessage,
  PRESENCE_NAMESPACE,
  deriveRecordKey,
  namespaceKeyRule,
  presenceKey,
  satisfiesPuzzle,
  signRecord,
  nodeIdOf,
  type Contact,
  type DhtRpc,
  type RecordPolicy,
} from '../../dht';
import type { VerifiedConsensus } from '../../directory';
import { PUBLIC_STREAMS_NAMESPACE, publicStreamsKey } from '../../stream/public-streams';
import type { IdentityKeys } from '../../link/handshake';
import { AppEvent, ErrorCode } from '../../message/envelope';
import { HandlerError, type MessageRouter } from '../../message/router';
import type { NodeTarget } from '../../onion/channel';
import type { CircuitClient } from '../../onion/client';
import type { CircuitEndpoint } from '../../onion/relay';
import { equalBytes, toHex } from '../../util/bytes';
import type { Logger } from '../log';
import { realScheduler } from '../onion/runtime';
import { DirectCircuits } from './directory-service';

export interface DhtServiceOptions {
  suite: CryptoSuite;
  identity: IdentityKeys;
  puzzleBits: number;
  /** Longest a record may live (presence records are renewed by keep-alives well within it). */
  maxTtlMs: number;
  address: () => { host: string; port: number };
  consensus: () => VerifiedConsensus | undefined;
  client: CircuitClient;
  router: MessageRouter;
  log: Logger;
  /** Relaxed subnet limits for devnets, where every node shares one address. */
  sameSubnetNetwork?: boolean;
  /** Takes owners' announcing circuits for introductions and mailboxes (presence-service.ts). */
  presence?: PresenceOwnerBinder;
}

/** What the DHT service tells the presence service (presence-service.ts `PresenceService`). */
export interface PresenceOwnerBinder {
  /** An announcement on `endpoint` succeeded; `record` is the co-signed record published. */
  ownerAnnounced(endpoint: CircuitEndpoint, record: Uint8Array): void;
  stop(): void;
}

export class DhtService {
  readonly dht: DhtNode;
  private readonly direct: DirectCircuits;
  private readonly self: Contact;
  private timer: { cancel(): void } | null = null;
  private stopped = false;
  private known = new Set<string>();
  private presence: PresenceOwnerBinder | null;

  constructor(private readonly o: DhtServiceOptions) {
    this.direct = new DirectCircuits(o.client);
    this.presence = o.presence ?? null;
    const policy: RecordPolicy = {
      maxTtlMs: o.maxTtlMs,
      maxValueBytes: 1024,
      // Users' presence records, and the public-streams records of landing nodes.
      keyRule: namespaceKeyRule(o.suite, [PRESENCE_NAMESPACE, PUBLIC_STREAMS_NAMESPACE]),
      // This node may co-sign before the list it holds names it (a list made before its first
      // descriptor arrived); every other co-signer must be listed.
      isDhtNode: (k) => equalBytes(k, o.identity.publicKey) || this.listed(k) !== undefined,
      maxClockSkewMs: 60_000,
    };
    const a = o.address();
    this.dht = new DhtNode({
      suite: o.suite,
      scheduler: realScheduler,
      identitySecretKey: o.identity.secretKey,
      addresses: [a],
      puzzleBits: o.puzzleBits,
      policy,
      rpc: this.rpc(),
      ...(o.sameSubnetNetwork ? { table: { maxPerSubnet: 20, maxPerSubnetTotal: 100_000 } } : {}),
    });
    this.self = this.dht.contact;

    o.router.handle(AppEvent.Dht, (body, { endpoint }) => {
      const m = decodeDhtMessage(body);
      if (m.type !== 'ping' && m.type !== 'find-node' && m.type !== 'find-value' && m.type !== 'store') {
        throw new HandlerError(ErrorCode.Malformed, `${m.type} is not a DHT request`);
      }
      return encodeDhtMessage(this.dht.handle(m, endpoint.prevIdentity));
    });
    o.router.handle(AppEvent.AnnouncePresence, async (body, { endpoint }) => {
      const outcome = await this.dht.publish(body);
      if (!outcome.ok) throw new HandlerError(ErrorCode.Refused, `${outcome.code}: ${outcome.message}`);
      // The circuit that announced is the owner's channel for introductions and his mailbox.
      this.presence?.ownerAnnounced(endpoint, outcome.record);
      return outcome.record;
    });
    o.router.handle(AppEvent.LookupPublicStreams, async (body) => {
      if (body.length !== 32) throw new HandlerError(ErrorCode.Malformed, 'a public-streams lookup names a 32-byte landing node key');
      const key = publicStreamsKey(o.suite, body);
      const result = await this.dht.lookupValue(key);
      const records = new Map<string, Uint8Array>();
      for (const r of [...this.dht.store.get(key, Date.now()), ...result.records]) records.set(toHex(r.bytes), r.bytes);
      return encodeDhtMessage({ type: 'value', records: [...records.values()].slice(0, 8), contacts: [] });
    });
    o.router.handle(AppEvent.LookupPresence, async (body) => {
      if (body.length !== 32) throw new HandlerError(ErrorCode.Malformed, 'a presence lookup names a 32-byte identity key');
      const key = presenceKey(o.suite, body);
      const result = await this.dht.lookupValue(key);
      // What this node holds itself counts too (it may be one of the k closest).
      const records = new Map<string, Uint8Array>();
      for (const r of [...this.dht.store.get(key, Date.now()), ...result.records]) records.set(toHex(r.bytes), r.bytes);
      return encodeDhtMessage({ type: 'value', records: [...records.values()].slice(0, 8), contacts: [] });
    });
  }

  /** The longest lifetime of a record in this network's DHT. */
  get maxTtlMs(): number {
    return this.o.maxTtlMs;
  }

  /**
   * Publishes a record this node owns (e.g. a landing node's public streams) under
   * SHA-256(namespace ‖ its identity key); a higher sequence replaces the previous one.
   */
  async publishOwn(namespace: string, value: Uint8Array, ttlMs: number): Promise<void> {
    const now = Date.now();
    const record = signRecord(
      this.o.suite,
      {
        key: deriveRecordKey(this.o.suite, namespace, this.o.identity.publicKey),
        owner: this.o.identity.publicKey,
        sequence: BigInt(now),
        expiresAt: now + Math.min(ttlMs, this.o.maxTtlMs),
        value,
      },
      this.o.identity.secretKey,
    );
    const outcome = await this.dht.publish(record);
    if (!outcome.ok) throw new Error(`${outcome.code}: ${outcome.message}`);
  }

  /** Attaches the presence service; it stops with this one. */
  attachPresence(presence: PresenceOwnerBinder): void {
    if (typeof presence !== 'object' || presence === null || typeof presence.ownerAnnounced !== 'function') {
      throw new TypeError('presence must be a PresenceOwnerBinder');
    }
    this.presence = presence;
  }

  static puzzleOk(suite: CryptoSuite, identity: Uint8Array, bits: number): boolean {
    return satisfiesPuzzle(suite, nodeIdOf(suite, identity), bits);
  }

  private listed(identity: Uint8Array): VerifiedConsensus['nodes'][number] | undefined {
    return this.o.consensus()?.nodes.find((n) => equalBytes(n.identity, identity));
  }

  private target(peer: Contact): NodeTarget {
    const n = this.listed(peer.identityKey);
    if (!n) throw new Error(`node ${base58.encode(peer.identityKey)} is not in the node list`);
    return { identity: n.identity, onionKey: n.onionKey, addresses: n.addresses.map((x) => ({ host: x.host, port: x.port })) };
  }

  private async ask(peer: Contact, message: Parameters<typeof encodeDhtMessage>[0]) {
    const answer = await this.direct.request(this.target(peer), AppEvent.Dht, encodeDhtMessage(message), 5000);
    return decodeDhtMessage(answer);
  }

  private rpc(): DhtRpc {
    return {
      findNode: async (peer, target) => {
        const m = await this.ask(peer, { type: 'find-node', target, sender: this.self });
        if (m.type !== 'nodes') throw new Error(`expected nodes, got ${m.type}`);
        return m.contacts;
      },
      findValue: async (peer, key) => {
        const m = await this.ask(peer, { type: 'find-value', key, sender: this.self });
        if (m.type !== 'value') throw new Error(`expected value, got ${m.type}`);
        return { records: m.records, contacts: m.contacts };
      },
      store: async (peer, record) => {
        const m = await this.ask(peer, { type: 'store', record, sender: this.self });
        if (m.type !== 'store-result') throw new Error(`expected store-result, got ${m.type}`);
        return m.result;
      },
      ping: async (peer) => {
        try {
          const m = await this.ask(peer, { type: 'ping', nonce: this.o.suite.randomBytes(8), sender: this.self });
          return m.type === 'pong';
        } catch {
          return false;
        }
      },
    };
  }

  start(): void {
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.presence?.stop();
    this.direct.closeAll();
  }

  /** Learns nodes from the verified list (seed 004 §3), then does the table's and store's upkeep. */
  private tick(): void {
    if (this.stopped) return;
    const c = this.o.consensus();
    if (c) {
      for (const n of c.nodes) {
        const k = toHex(n.identity);
        if (this.known.has(k) || equalBytes(n.identity, this.o.identity.publicKey) || !n.roles.includes('onion')) continue;
        if (!satisfiesPuzzle(this.o.suite, nodeIdOf(this.o.suite, n.identity), this.o.puzzleBits)) continue;
        this.known.add(k);
        const contact: Contact = { nodeId: nodeIdOf(this.o.suite, n.identity), identityKey: n.identity, addresses: n.addresses.slice(0, 4) };
        this.dht.learn(contact).catch((err: Error) => this.o.log.debug({ err: err.message }, 'DHT contact not added'));
      }
    }
    const m = this.dht.maintain(Date.now());
    if (m.bucketsDue.length) this.dht.refresh(m.bucketsDue).catch(() => undefined);
    if (m.republishDue.length) this.dht.republish(m.republishDue).catch(() => undefined);
    this.timer = realScheduler.setTimeout(() => this.tick(), 2000);
  }
}
