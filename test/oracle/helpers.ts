/**
 * Shared fixtures for the oracle tests: keys from fixed seeds, authorities and access
 * certificates, credentials, a network configuration with oracles, a fake circuit endpoint that
 * drives a real MessageRouter, and StreamError assertions. Test helper, not a test file.
 */
import { expect } from 'vitest';
import { certificateBodyForRequest, combineCertificateSignatures, issueCertificateSignature, type CertificateRequest } from '../../node-core/authority';
import { formatIdentity } from '../../node-core/crypto/identity';
import { nobleSuite } from '../../node-core/crypto/noble';
import type { KnownNode, NetworkConfig } from '../../node-core/io/client/network';
import { AppEvent, decodeErrorBody, decodeMessage, encodeMessage, MessageKind, type AppMessage } from '../../node-core/message/envelope';
import type { MessageRouter } from '../../node-core/message/router';
import type { CircuitEndpoint } from '../../node-core/onion/relay';
import { createCredential, type CredentialInput } from '../../node-core/stream/credential';
import { StreamError, type StreamErrorCode } from '../../node-core/stream/errors';
import { decodeStreamMessage, type StreamMessage } from '../../node-core/stream/messages';
import { utf8 } from '../../node-core/util/bytes';

export const suite = nobleSuite;
export const T0 = 1_700_000_000_000;
export const MINUTE = 60_000;
export const NETWORK = 'devnet';

export interface KeyPair {
  readonly label: string;
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function keyPair(label: string): KeyPair {
  const secretKey = suite.sha256(utf8(`psp-oracle-test-key:${label}`));
  return { label, secretKey, publicKey: suite.ed25519PublicKey(secretKey) };
}

export function bytesOf(length: number, fill: number): Uint8Array {
  return new Uint8Array(length).fill(fill);
}

export const AUTHORITIES = [0, 1, 2].map((i) => keyPair(`authority-${i}`));
export const AUTHORITY_TRUST = { authorityKeys: AUTHORITIES.map((a) => a.publicKey), threshold: 2 };
export const ORACLE_1 = keyPair('oracle-1');
export const ORACLE_2 = keyPair('oracle-2');
export const ALICE = keyPair('alice');
export const BOB = keyPair('bob');
export const MALLORY = keyPair('mallory');

export function identityOf(k: KeyPair): string {
  return formatIdentity({ namespace: 'sirius', app: 'chat', publicKey: k.publicKey });
}

let nonceCounter = 0;
/** A fresh 16-byte nonce each call. */
export function freshNonce(): Uint8Array {
  const n = new Uint8Array(16);
  new DataView(n.buffer).setUint32(12, ++nonceCounter);
  n[0] = 0xa5;
  return n;
}

/**
 * An access certificate for `k`, signed by `signers` (default: the first two authorities),
 * valid from `issuedAt` for `lifetimeMs`.
 */
export function certificate(
  k: KeyPair,
  over: Partial<CertificateRequest> & { signers?: readonly KeyPair[] } = {},
): Uint8Array {
  const { signers, ...fields } = over;
  const req: CertificateRequest = {
    subject: k.publicKey,
    identity: identityOf(k),
    network: NETWORK,
    requestedAt: T0 - MINUTE,
    lifetimeMs: 60 * MINUTE,
    nonce: freshNonce(),
    ...fields,
  };
  const body = certificateBodyForRequest(req);
  return combineCertificateSignatures(
    body,
    (signers ?? AUTHORITIES.slice(0, 2)).map((a) => issueCertificateSignature(suite, body, a.secretKey)),
  );
}

export const REQUEST = { bitrate: 2_000_000, maxViewers: 50, public: false } as const;

/** A credential of `k` for `oracle` (defaults: a fresh certificate, REQUEST, made at T0). */
export function credential(k: KeyPair, oracle: Uint8Array, over: Partial<CredentialInput> = {}, signer: KeyPair = k): Uint8Array {
  return createCredential(suite, { certificate: certificate(k), oracle, request: REQUEST, createdAt: T0, nonce: freshNonce(), ...over }, signer.secretKey);
}

export function knownNode(k: KeyPair | { publicKey: Uint8Array }, nickname: string, roles: string[], host = '10.9.0.1'): KnownNode {
  return { nickname, roles, identity: k.publicKey, onionKey: suite.x25519PublicKey(suite.sha256(utf8(`onion:${nickname}`))), addresses: [{ host, port: 443 }] };
}

/** A network of two oracles and three authorities (threshold 2). */
export function networkWith(oracles: readonly KnownNode[]): NetworkConfig {
  const authorities = AUTHORITIES.map((a, i) => knownNode(a, `auth${i}`, ['authority']));
  return {
    network: NETWORK,
    nodes: [...authorities, ...oracles],
    authority: { threshold: 2, authorityKeys: AUTHORITY_TRUST.authorityKeys, authorities },
    oracle: { oracleKeys: oracles.map((o) => o.identity), oracles: [...oracles] },
  };
}

export const NETWORK_CONFIG = networkWith([knownNode(ORACLE_1, 'oracle1', ['oracle', 'onion']), knownNode(ORACLE_2, 'oracle2', ['oracle', 'onion'])]);

// ---- a fake circuit end ---------------------------------------------------------------------------

let endpointSeq = 0;

/** A circuit end at the oracle, as the relay would hand it to the router; replies are captured. */
export class FakeEndpoint implements CircuitEndpoint {
  readonly key = `fake-${++endpointSeq}`;
  readonly sent: AppMessage[] = [];
  isOpen = true;
  private waiters: ((m: AppMessage) => void)[] = [];

  constructor(readonly prevIdentity: Uint8Array | null) {}

  send(message: Uint8Array): void {
    const m = decodeMessage(message);
    this.sent.push(m);
    const w = this.waiters.shift();
    w?.(m);
  }

  destroy(): void {
    this.isOpen = false;
  }

  /** The next reply. */
  next(): Promise<AppMessage> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

let requestSeq = 0;

/** Sends one request on `endpoint` through `router` and waits for the router's answer. */
export async function ask(router: MessageRouter, endpoint: FakeEndpoint, body: Uint8Array, event: number = AppEvent.Oracle): Promise<AppMessage> {
  const requestId = ++requestSeq;
  const reply = endpoint.next();
  router.onMessage(endpoint, encodeMessage({ event, kind: MessageKind.Request, requestId, body }));
  const m = await reply;
  expect(m.requestId).toBe(requestId);
  expect(m.event).toBe(event);
  return m;
}

/** The stream message of a Response (fails on an error answer). */
export function streamAnswer(m: AppMessage): StreamMessage {
  if (m.kind !== MessageKind.Response) throw new Error(`expected a response, got an error answer: ${decodeErrorBody(m.body).message}`);
  return decodeStreamMessage(m.body);
}

/** The refusal reason of a `refused` answer. */
export function refusal(m: AppMessage): string {
  const s = streamAnswer(m);
  if (s.type !== 'refused') throw new Error(`expected refused, got ${s.type}`);
  return s.reason;
}

/** The code and message of an error answer. */
export function errorAnswer(m: AppMessage): { code: number; message: string } {
  expect(m.kind).toBe(MessageKind.Error);
  return decodeErrorBody(m.body);
}

export function expectStreamError(fn: () => unknown, code: StreamErrorCode): StreamError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected StreamError(${code})`).toBeInstanceOf(StreamError);
  expect((thrown as StreamError).code, (thrown as Error).message).toBe(code);
  return thrown as StreamError;
}
