/**
 * Fuzz targets for the decoders of node-core/rendezvous that presence nodes and owners run on
 * bytes from others, for the shared runner (register them in test/fuzz/targets.ts; see
 * test/fuzz/target.ts for the contract). Not a test file.
 *
 *   presence-outcome          decodeIntroductionOutcome
 *   presence-control-request  decodeControlRequest (the node, from an owner)
 *   presence-control-response decodeControlResponse (the owner, from a node)
 *   presence-control-notice   decodeControlNotice (the owner, from a node)
 *   presence-mailbox-request  decodeMailboxRequest (the node, from a depositor)
 *   mailbox-item              openMailboxItem with the recipient's keys (the owner)
 *
 * PresenceMessageError (MailboxError for items) means 'rejected'. What a decoder accepts must
 * re-encode to exactly the input; an opened item must keep its limits and name the key it was
 * sealed to. A broken invariant, or any other exception, is a crash.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import {
  decodeControlNotice,
  decodeControlRequest,
  decodeControlResponse,
  decodeIntroductionOutcome,
  decodeMailboxRequest,
  encodeControlNotice,
  encodeControlRequest,
  encodeControlResponse,
  encodeIntroductionOutcome,
  encodeMailboxRequest,
  isMailboxError,
  isPresenceMessageError,
  MAX_MAILBOX_PAYLOAD,
  openMailboxItem,
} from '../../node-core/rendezvous';
import { toHex } from '../../node-core/util/bytes';
import type { FuzzTarget } from '../fuzz/target';
import { bob, bobRecipient, fixedIntroduction, fixedMailboxItem, NOW, seeded, suite } from './helpers';

export type { FuzzTarget } from '../fuzz/target';

function invariant(ok: boolean, what: string): void {
  if (!ok) throw new Error(`invariant broken: ${what}`);
}

/** Runs `parse`; the module's own error means 'rejected'. */
function rejectOn(isOwn: (e: unknown) => boolean, parse: () => void): 'accepted' | 'rejected' {
  try {
    parse();
  } catch (e) {
    if (isOwn(e)) return 'rejected';
    throw e;
  }
  return 'accepted';
}

/** A target for a decoder whose accepted inputs must re-encode to themselves. */
function roundTrip<T>(seeds: () => Uint8Array[], decode: (b: Uint8Array) => T, encode: (v: T) => Uint8Array, what: string): FuzzTarget {
  return {
    seeds,
    run: (input) =>
      rejectOn(isPresenceMessageError, () => {
        invariant(toHex(encode(decode(input))) === toHex(input), `a decoded ${what} re-encodes to its input`);
      }),
  };
}

// Fixed seeds (no randomness): the same driver seed must replay the same inputs.
function fixed(): { envelope: Uint8Array; item: Uint8Array } {
  return { envelope: fixedIntroduction(), item: fixedMailboxItem() };
}

const outcome = roundTrip(() => [Uint8Array.of(0), Uint8Array.of(8)], decodeIntroductionOutcome, encodeIntroductionOutcome, 'outcome');

const controlRequest = roundTrip(
  () => [
    encodeControlRequest({ type: 'settings', maxPending: 16, perMinute: 30 }),
    encodeControlRequest({ type: 'decision', handle: 7, accept: true }),
    encodeControlRequest({ type: 'mailbox-fetch', max: 32 }),
    encodeControlRequest({ type: 'mailbox-ack', ids: [seeded(1), seeded(2)] }),
  ],
  decodeControlRequest,
  encodeControlRequest,
  'control request',
);

const controlResponse = roundTrip(
  () => {
    const { item } = fixed();
    return [
      encodeControlResponse({ type: 'ok' }),
      encodeControlResponse({ type: 'mailbox-items', items: [] }),
      encodeControlResponse({ type: 'mailbox-items', items: [{ id: sha256(item), bytes: item }] }),
    ];
  },
  decodeControlResponse,
  encodeControlResponse,
  'control response',
);

const controlNotice = roundTrip(
  () => [
    encodeControlNotice({ type: 'introduction', handle: 1, envelope: fixed().envelope }),
    encodeControlNotice({ type: 'cancelled', handle: 1 }),
    encodeControlNotice({ type: 'cap-reached', pending: 16, cap: 16, refused: 3 }),
    encodeControlNotice({ type: 'mailbox-waiting', count: 2 }),
  ],
  decodeControlNotice,
  encodeControlNotice,
  'control notice',
);

const mailboxRequest = roundTrip(
  () => [encodeMailboxRequest({ type: 'deposit', recipient: bob.publicKey, item: fixed().item })],
  decodeMailboxRequest,
  encodeMailboxRequest,
  'mailbox request',
);

const item: FuzzTarget = {
  seeds: () => [fixed().item],
  run: (input) =>
    rejectOn(isMailboxError, () => {
      const opened = openMailboxItem(suite, input, bobRecipient, NOW);
      invariant(opened.payload.length <= MAX_MAILBOX_PAYLOAD, 'an opened payload is within the limit');
      invariant(toHex(opened.announcementKey) === toHex(input.subarray(33, 65)), 'an opened item names the key it was sealed to');
    }),
};

export const rendezvousFuzzTargets: Record<string, FuzzTarget> = {
  'presence-outcome': outcome,
  'presence-control-request': controlRequest,
  'presence-control-response': controlResponse,
  'presence-control-notice': controlNotice,
  'presence-mailbox-request': mailboxRequest,
  'mailbox-item': item,
};
