/**
 * Private channels (seed 004 §7.1; PSP reference relay/rendezvous.md, establishrendezvous.md,
 * joinrendezvous.md, application/forwardpresence.md): how two users who know each other's
 * identity meet without any node learning both.
 *
 * Alice (`dialPeer`):
 *   1. looks Bob's presence up through a circuit (presence.ts), unless the caller has it;
 *   2. builds a circuit to a rendezvous point (a listed node that is none of Bob's presence
 *      nodes) and makes it wait there under a fresh random cookie;
 *   3. seals an introduction to Bob's announcement key — her identity, her access certificate,
 *      the rendezvous point and her half of an NTOR_RENDEZVOUS handshake — and sends it through a
 *      second circuit ending at one of Bob's presence nodes, which forwards it over Bob's
 *      announcing circuit and answers with Bob's decision;
 *   4. on "accepted", waits for Bob's circuit to join hers at the rendezvous point, completes the
 *      handshake with the reply he sent along, and adds the end-to-end layer.
 * Bob (`answerIntroduction`): opens and checks the introduction (signature, freshness, Alice's
 * access certificate against the network's authorities), asks the app whether to accept, then
 * builds his own circuit to the rendezvous point and joins with his half of the handshake.
 *
 * What each node learns: Bob's presence node sees an introduction sealed to Bob's announcement
 * key arriving over a circuit (not who sent it, nor from where); the rendezvous point sees two
 * circuits joined under a cookie and end-to-end ciphertext; the hops of each circuit see the
 * usual onion neighbours. The end-to-end keys come from an ntor handshake with an ephemeral key
 * on each side, so recording the traffic and later stealing Bob's announcement key does not
 * decrypt it (forward secrecy); Alice knows she reached Bob because only the holder of the
 * announcement key his signed presence names can complete the handshake, and Bob knows it is
 * Alice because her introduction, signature and certificate name her and the handshake's first
 * half.
 *
 * Direct mode (seed 004 §7.2): a peer whose presence says it accepts direct connections can be
 * met at its presence node itself over one-hop circuits — faster, but the presence node then
 * sees both clients' addresses. Only when the caller asks for it.
 */
import {
  parseAccessCertificate,
  verifyAccessCertificate,
  type VerifiedAccessCertificate,
} from '../../authority';
import { ntorClientComplete, ntorClientCreate, ntorServerHandle } from '../../circuit';
import type { Identity } from '../../crypto/identity';
import type { PresenceView } from '../../dht';
import { CircuitRpc } from '../../message/rpc';
import type { NodeTarget } from '../../onion/channel';
import { addressesOf, linkSpecifiersFor, MAX_END_TO_END_MESSAGE_LENGTH, NTOR_RENDEZVOUS, type ClientCircuit } from '../../onion/client';
import {
  introductionId,
  openIntroduction,
  sealIntroduction,
  type AnnouncementKeyPair,
  type OpenedIntroduction,
} from '../../rendezvous';
import { equalBytes, toHex } from '../../util/bytes';
import { realScheduler } from '../onion/runtime';
import { forwardIntroduction, ForwardOutcome, forwardOutcomeName } from './presence-control';
import { lookupPresence } from './presence';
import type { ClientIdentity, ClientSession } from './session';

/** Largest message either end sends over a channel (a chat frame with a 64 KiB text fits). */
export const CHANNEL_MAX_MESSAGE = 160 * 1024;
if (CHANNEL_MAX_MESSAGE > MAX_END_TO_END_MESSAGE_LENGTH) throw new Error('CHANNEL_MAX_MESSAGE too large');

/** Why a channel could not be set up. `outcome` is the presence node's answer when there was one. */
export class ChannelSetupError extends Error {
  override readonly name = 'ChannelSetupError';
  constructor(
    readonly reason: 'no-presence' | 'no-direct' | 'refused' | 'offline' | 'join-timeout' | 'network',
    message: string,
    readonly outcome?: ForwardOutcome,
  ) {
    super(message);
  }
}

/** An end-to-end channel over a rendezvous point. */
export class PrivateChannel {
  private closed = false;
  private readonly closeHandlers: ((reason: string) => void)[] = [];
  private frameHandler: ((frame: Uint8Array) => void) | null = null;
  private early: Uint8Array[] = [];

  constructor(
    /** The peer's identity key. */
    readonly peer: Uint8Array,
    readonly circuit: ClientCircuit,
    readonly hop: number,
    readonly role: 'dialer' | 'answerer',
    readonly direct: boolean,
  ) {
    const prev = circuit.events.onMessage;
    circuit.events.onMessage = (h, bytes) => {
      if (h !== hop) return prev?.(h, bytes);
      if (this.frameHandler) this.frameHandler(bytes);
      else if (this.early.length < 64) this.early.push(bytes);
    };
    const prevClose = circuit.events.onClose;
    circuit.events.onClose = (reason) => {
      prevClose?.(reason);
      this.markClosed(reason.message);
    };
  }

  get isOpen(): boolean {
    return !this.closed && this.circuit.isOpen;
  }

  /** Frames from the peer; frames that arrived before a handler was set are handed over first. */
  onFrame(handler: (frame: Uint8Array) => void): void {
    this.frameHandler = handler;
    const early = this.early;
    this.early = [];
    for (const f of early) handler(f);
  }

  onClose(handler: (reason: string) => void): void {
    if (this.closed) handler('closed');
    else this.closeHandlers.push(handler);
  }

  send(frame: Uint8Array): void {
    if (!this.isOpen) throw new Error('the channel is closed');
    this.circuit.send(frame, this.hop);
  }

  close(): void {
    if (this.closed) return;
    this.circuit.destroy();
    this.markClosed('closed here');
  }

  private markClosed(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.closeHandlers.splice(0)) h(reason);
  }
}

/** What dialing needs of a peer's presence: a looked-up PresenceView, or one remembered. */
export interface PeerPresence {
  readonly owner: Uint8Array;
  readonly value: Pick<PresenceView['value'], 'announcementKey' | 'acceptsDirect'>;
  readonly points: readonly { readonly nodeIdentity: Uint8Array; readonly confirmed: boolean }[];
}

export interface DialOptions {
  /** Bob's presence, if already looked up (or remembered); otherwise looked up now. */
  presence?: PeerPresence | null;
  /** Meet at Bob's presence node over one-hop circuits (only if his presence allows it). */
  direct?: boolean;
  /** Shown to Bob with the request (≤ 256 bytes of UTF-8). */
  greeting?: string;
  /** Nodes the rendezvous point must not be (besides Bob's presence nodes), e.g. our own. */
  avoid?: Uint8Array[];
  /** How long Bob has to decide once the request reached him (default 120 s). */
  decisionTimeoutMs?: number;
  /** How long to wait for Bob's circuit after he accepted (default 30 s). */
  joinTimeoutMs?: number;
  /** Progress, for the UI and for measurements. */
  onStage?: (stage: 'lookup' | 'rendezvous' | 'introduce' | 'join') => void;
}

function pick<T>(xs: readonly T[]): T | undefined {
  return xs[Math.floor(Math.random() * xs.length)];
}

/** Alice's side: sets a channel up to `peer` (an identity key), or throws ChannelSetupError. */
export async function dialPeer(session: ClientSession, me: ClientIdentity, peer: Uint8Array, opts: DialOptions = {}): Promise<PrivateChannel> {
  const certificate = session.certificate;
  if (!certificate) throw new Error('obtain an access certificate before dialing');
  opts.onStage?.('lookup');
  const presence: PeerPresence | null = opts.presence !== undefined ? opts.presence : await lookupPresence(session, peer);
  if (!presence) throw new ChannelSetupError('no-presence', 'the peer has no valid presence on the network');
  if (!equalBytes(presence.owner, peer)) throw new Error('the presence given is not the peer’s');
  const direct = opts.direct ?? false;
  if (direct && !presence.value.acceptsDirect) throw new ChannelSetupError('no-direct', 'the peer does not accept direct connections');
  const hops = direct ? 1 : 3;
  const points = [...presence.points].sort((a, b) => Number(b.confirmed) - Number(a.confirmed));
  const targets = points
    .map((p) => session.listedNode(p.nodeIdentity))
    .filter((t): t is NodeTarget => t !== undefined);
  if (!targets.length) throw new ChannelSetupError('no-presence', 'none of the peer’s presence nodes is in the node list');

  const errors: string[] = [];
  let lastOutcome: ForwardOutcome | undefined;
  for (const presenceNode of targets) {
    // The rendezvous point: in direct mode the presence node itself; otherwise a listed node
    // that is none of the peer's presence nodes and none the caller wants to avoid.
    const avoid = [...points.map((p) => p.nodeIdentity), ...(opts.avoid ?? [])];
    const rp = direct ? presenceNode : pick(session.relayNodes().filter((n) => !avoid.some((k) => equalBytes(k, n.identity))));
    if (!rp) throw new ChannelSetupError('network', 'no node can serve as rendezvous point');
    let rpCircuit: ClientCircuit | null = null;
    let introCircuit: ClientCircuit | null = null;
    try {
      opts.onStage?.('rendezvous');
      rpCircuit = await session.onion.manager.build({ last: rp, hops });
      const cookie = session.suite.randomBytes(32);
      await rpCircuit.establishRendezvous(cookie, 15_000);
      const joined = new Promise<Uint8Array>((resolve) => (rpCircuit!.events.onRendezvousJoined = resolve));
      const { state, onionskin } = ntorClientCreate(session.suite, { nodeId: peer, nodeOnionKey: presence.value.announcementKey, protocol: NTOR_RENDEZVOUS });
      const envelope = sealIntroduction(session.suite, {
        from: { secretKey: me.secretKey, identityText: me.text },
        certificate: certificate.bytes,
        to: { identityKey: peer, announcementKey: presence.value.announcementKey },
        rendezvous: { cookie, nodeIdentity: rp.identity, nodeOnionKey: rp.onionKey, linkSpecifiers: linkSpecifiersFor(rp) },
        onionskin,
        createdAt: Date.now(),
        ...(opts.greeting ? { greeting: opts.greeting } : {}),
      });

      opts.onStage?.('introduce');
      introCircuit = await session.onion.manager.build({ last: presenceNode, hops, ...(direct ? {} : { exclude: [rp.identity] }) });
      const outcome = await forwardIntroduction(new CircuitRpc(introCircuit, realScheduler), envelope, (opts.decisionTimeoutMs ?? 120_000) + 15_000);
      introCircuit.destroy();
      introCircuit = null;
      lastOutcome = outcome;
      if (outcome !== ForwardOutcome.Accepted) {
        errors.push(`${toHex(presenceNode.identity).slice(0, 8)}: ${forwardOutcomeName(outcome)}`);
        rpCircuit.destroy();
        // Bob said no, or is busy: asking his other presence nodes would ask him again.
        if (outcome === ForwardOutcome.Denied || outcome === ForwardOutcome.Busy || outcome === ForwardOutcome.RateLimited) {
          throw new ChannelSetupError('refused', `the peer's presence node answered ${forwardOutcomeName(outcome)}`, outcome);
        }
        continue;
      }

      opts.onStage?.('join');
      const handshake = await withTimeout(joined, opts.joinTimeoutMs ?? 30_000, 'the peer accepted but did not join the rendezvous point');
      const keys = ntorClientComplete(session.suite, state, handshake);
      const peerTarget: NodeTarget = { identity: peer, onionKey: presence.value.announcementKey, addresses: [] };
      const hop = rpCircuit.addEndToEndHop(keys, 'owner', peerTarget, { maxMessageLength: CHANNEL_MAX_MESSAGE });
      keys.fill(0);
      return new PrivateChannel(peer, rpCircuit, hop, 'dialer', direct);
    } catch (err) {
      introCircuit?.destroy();
      rpCircuit?.destroy();
      if (err instanceof ChannelSetupError) throw err;
      errors.push(`${toHex(presenceNode.identity).slice(0, 8)}: ${(err as Error).message}`);
    }
  }
  const offline = lastOutcome === ForwardOutcome.Offline || lastOutcome === ForwardOutcome.UnknownRecipient || lastOutcome === ForwardOutcome.Timeout;
  throw new ChannelSetupError(offline ? 'offline' : 'network', `no presence node of the peer connected us (${errors.join('; ')})`, lastOutcome);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = realScheduler.setTimeout(() => reject(new ChannelSetupError('join-timeout', what)), ms);
    p.then(
      (v) => {
        t.cancel();
        resolve(v);
      },
      (e: unknown) => {
        t.cancel();
        reject(e as Error);
      },
    );
  });
}

/** An introduction Bob received, opened and checked. */
export interface CheckedIntroduction {
  /** SHA-256 of the envelope: the replay key. */
  id: string;
  from: Identity;
  certificate: VerifiedAccessCertificate;
  introduction: OpenedIntroduction;
}

/**
 * Opens and checks an introduction: sealed to one of our announcement keys, signed by the
 * identity it names, fresh, and carrying a valid access certificate for that identity on this
 * network. Throws (IntroductionError or AuthorityError) otherwise.
 */
export function checkIntroduction(
  session: ClientSession,
  me: ClientIdentity,
  announcementKeys: readonly AnnouncementKeyPair[],
  envelope: Uint8Array,
): CheckedIntroduction {
  const now = Date.now();
  const introduction = openIntroduction(session.suite, envelope, { identityKey: me.publicKey, announcementKeys }, now);
  const auth = session.network.authority;
  if (!auth) throw new Error('the network file has no authority section: certificates cannot be checked');
  const certificate = verifyAccessCertificate(
    session.suite,
    parseAccessCertificate(introduction.certificate),
    { authorityKeys: auth.authorityKeys, threshold: auth.threshold },
    now,
    { subject: introduction.from.publicKey, network: session.network.network, maxClockSkewMs: 60_000 },
  );
  return { id: toHex(introductionId(envelope)), from: introduction.from, certificate, introduction };
}

/**
 * Bob's side after he accepted: joins Alice at her rendezvous point with his half of the
 * handshake. `direct` keeps the circuit to one hop (the rendezvous point is then his own
 * presence node, and he is a public entity).
 */
export async function joinIntroduction(
  session: ClientSession,
  me: ClientIdentity,
  announcementKeys: readonly AnnouncementKeyPair[],
  checked: CheckedIntroduction,
  opts: { direct?: boolean; timeoutMs?: number } = {},
): Promise<PrivateChannel> {
  const rv = checked.introduction.rendezvous;
  const { reply, keyMaterial } = ntorServerHandle(session.suite, checked.introduction.onionskin, {
    nodeId: me.publicKey,
    onionKeys: announcementKeys,
    protocol: NTOR_RENDEZVOUS,
  });
  const listed = session.listedNode(rv.nodeIdentity);
  const rp: NodeTarget = listed ?? { identity: rv.nodeIdentity, onionKey: rv.nodeOnionKey, addresses: addressesOf(rv.linkSpecifiers) };
  if (!listed) throw new ChannelSetupError('network', 'the rendezvous point is not in the node list');
  if (!equalBytes(listed.onionKey, rv.nodeOnionKey)) throw new ChannelSetupError('network', 'the rendezvous point’s onion key differs from the node list’s');
  const circuit = await session.onion.manager.build({ last: rp, hops: opts.direct ? 1 : 3 });
  try {
    await circuit.joinRendezvous(rv.cookie, reply, opts.timeoutMs ?? 15_000);
    const peerTarget: NodeTarget = { identity: checked.from.publicKey, onionKey: new Uint8Array(32), addresses: [] };
    const hop = circuit.addEndToEndHop(keyMaterial, 'joiner', peerTarget, { maxMessageLength: CHANNEL_MAX_MESSAGE });
    return new PrivateChannel(checked.from.publicKey, circuit, hop, 'answerer', opts.direct ?? false);
  } catch (err) {
    circuit.destroy();
    throw err;
  } finally {
    keyMaterial.fill(0);
  }
}
