/**
 * The presence-node wire formats (node-core/rendezvous/messages.ts): exact layouts, round trips,
 * every malformed case with its error code, encoders refusing what they cannot send, and
 * decoders that throw nothing but PresenceMessageError on arbitrary bytes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { MAX_MESSAGE_LENGTH } from '../../node-core/circuit/fragment';
import { ENVELOPE_HEADER } from '../../node-core/message/envelope';
import {
  decodeControlNotice,
  decodeControlRequest,
  decodeControlResponse,
  decodeIntroductionOutcome,
  decodeMailboxRequest,
  decodeMailboxResponse,
  encodeControlNotice,
  encodeControlRequest,
  encodeControlResponse,
  encodeIntroductionOutcome,
  encodeMailboxRequest,
  encodeOk,
  INTRODUCTION_OUTCOMES,
  isPresenceMessageError,
  MAX_INTRODUCTION_ENVELOPE_LENGTH,
  MAX_MAILBOX_ITEM_LENGTH,
  MAX_MAILBOX_PAYLOAD,
  MAX_PRESENCE_BODY_LENGTH,
  mailboxItemId,
  parseIntroductionEnvelope,
  parseMailboxItemEnvelope,
  PresenceMessageError,
  type ControlNotice,
  type ControlRequest,
  type PresenceMessageErrorCode,
} from '../../node-core/rendezvous';
import { concatBytes, fromHex, toHex } from '../../node-core/util/bytes';
import { bob, bobAnnounce, fakeEnvelope, introduction, mailboxItem, person, seeded } from './helpers';

function expectCode(f: () => unknown, code: PresenceMessageErrorCode): void {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected PresenceMessageError ${code}`).toBeInstanceOf(PresenceMessageError);
  expect((thrown as PresenceMessageError).code).toBe(code);
}

const ENVELOPE = introduction();
const ITEM = mailboxItem();

describe('limits', () => {
  it('every message fits one application message', () => {
    expect(MAX_PRESENCE_BODY_LENGTH).toBe(MAX_MESSAGE_LENGTH - ENVELOPE_HEADER);
    // The largest envelope still fits notice 0x81, and the largest item a fetch answer.
    const notice = encodeControlNotice({ type: 'introduction', handle: 1, envelope: fakeEnvelope(bobAnnounce.public, MAX_INTRODUCTION_ENVELOPE_LENGTH - 67) });
    expect(notice.length).toBe(MAX_PRESENCE_BODY_LENGTH);
    const big = fakeEnvelope(bobAnnounce.public, MAX_MAILBOX_ITEM_LENGTH - 67);
    const answer = encodeControlResponse({ type: 'mailbox-items', items: [{ id: sha256(big), bytes: big }] });
    expect(answer.length).toBe(MAX_PRESENCE_BODY_LENGTH);
  });

  it('a mailbox item with the largest payload and identity is within the item limit', () => {
    const longName = person(99);
    const item = mailboxItem({ from: longName, payload: new Uint8Array(MAX_MAILBOX_PAYLOAD) });
    // 128 bytes is the longest identity; this one is shorter, so add the difference.
    const worst = item.length + (128 - new TextEncoder().encode(longName.identityText).length);
    expect(worst).toBeLessThanOrEqual(MAX_MAILBOX_ITEM_LENGTH);
  });
});

describe('ForwardPresence outcome', () => {
  it('codes are the wire protocol', () => {
    expect(INTRODUCTION_OUTCOMES).toEqual(['accepted', 'denied', 'offline', 'busy', 'rate-limited', 'timeout', 'replayed', 'unknown-recipient', 'cancelled']);
    INTRODUCTION_OUTCOMES.forEach((o, i) => {
      expect([...encodeIntroductionOutcome(o)]).toEqual([i]);
      expect(decodeIntroductionOutcome(Uint8Array.of(i))).toBe(o);
    });
  });

  it('refuses other lengths and codes', () => {
    expectCode(() => decodeIntroductionOutcome(new Uint8Array(0)), 'malformed');
    expectCode(() => decodeIntroductionOutcome(Uint8Array.of(0, 0)), 'malformed');
    for (const c of [9, 10, 0x80, 0xff]) expectCode(() => decodeIntroductionOutcome(Uint8Array.of(c)), 'unknown-type');
    expect(() => encodeIntroductionOutcome('maybe' as never)).toThrow(RangeError);
  });
});

describe('PresenceControl requests', () => {
  const ids = [seeded(1), seeded(2), seeded(3)];
  const cases: [ControlRequest, string][] = [
    [{ type: 'settings', maxPending: 16, perMinute: 30 }, '010010001e'],
    [{ type: 'settings', maxPending: 1, perMinute: 1 }, '0100010001'],
    [{ type: 'settings', maxPending: 1024, perMinute: 6000 }, '0104001770'],
    [{ type: 'decision', handle: 0xdeadbeef, accept: true }, '02deadbeef01'],
    [{ type: 'decision', handle: 0, accept: false }, '020000000000'],
    [{ type: 'mailbox-fetch', max: 1 }, '030001'],
    [{ type: 'mailbox-fetch', max: 0xffff }, '03ffff'],
    [{ type: 'mailbox-ack', ids }, '040003' + ids.map(toHex).join('')],
  ];

  it.each(cases)('%o is encoded exactly and decodes back', (req, hex) => {
    const bytes = encodeControlRequest(req);
    expect(toHex(bytes)).toBe(hex);
    expect(decodeControlRequest(bytes)).toEqual(req);
  });

  it('refuses every malformed request', () => {
    const bad: [string, PresenceMessageErrorCode][] = [
      ['', 'malformed'],
      ['00', 'unknown-type'],
      ['05', 'unknown-type'],
      ['81', 'unknown-type'],
      ['0100', 'malformed'],
      ['010010001e00', 'malformed'],
      ['010000001e', 'malformed'], // maxPending 0
      ['010401001e', 'malformed'], // maxPending 1025
      ['0100100000', 'malformed'], // perMinute 0
      ['0100101771', 'malformed'], // perMinute 6001
      ['02deadbeef', 'malformed'],
      ['02deadbeef02', 'malformed'], // accept 2
      ['02deadbeef0100', 'malformed'],
      ['0300', 'malformed'],
      ['030000', 'malformed'], // fetch 0
      ['03000100', 'malformed'],
      ['040000', 'malformed'], // no ids
      ['040401' + toHex(seeded(1)).repeat(1025), 'malformed'], // 1025 ids
      ['040002' + toHex(seeded(1)), 'malformed'], // one id missing
      ['040002' + toHex(seeded(1)).repeat(2), 'malformed'], // the same id twice
      ['040001' + toHex(seeded(1)) + '00', 'malformed'],
      ['040001' + toHex(seeded(1)).slice(0, 62), 'malformed'],
    ];
    for (const [hex, code] of bad) expectCode(() => decodeControlRequest(fromHex(hex)), code);
  });

  it('encoders refuse values outside the wire ranges, naming them', () => {
    expect(() => encodeControlRequest({ type: 'settings', maxPending: 0, perMinute: 30 })).toThrow(/maxPending/);
    expect(() => encodeControlRequest({ type: 'settings', maxPending: 16, perMinute: 6001 })).toThrow(/perMinute/);
    expect(() => encodeControlRequest({ type: 'settings', maxPending: 1.5, perMinute: 30 })).toThrow(RangeError);
    expect(() => encodeControlRequest({ type: 'decision', handle: -1, accept: true })).toThrow(/handle/);
    expect(() => encodeControlRequest({ type: 'decision', handle: 2 ** 32, accept: true })).toThrow(/handle/);
    expect(() => encodeControlRequest({ type: 'decision', handle: 1, accept: 1 as unknown as boolean })).toThrow(TypeError);
    expect(() => encodeControlRequest({ type: 'mailbox-fetch', max: 0 })).toThrow(/max/);
    expect(() => encodeControlRequest({ type: 'mailbox-ack', ids: [] })).toThrow(/ids/);
    expect(() => encodeControlRequest({ type: 'mailbox-ack', ids: [seeded(1), seeded(1)] })).toThrow(/twice/);
    expect(() => encodeControlRequest({ type: 'mailbox-ack', ids: [new Uint8Array(31)] })).toThrow(/ids\[0\]/);
    expect(() => encodeControlRequest({ type: 'nothing' } as never)).toThrow(RangeError);
    expect(() => encodeControlRequest(null as never)).toThrow(TypeError);
  });
});

describe('PresenceControl responses', () => {
  const a = mailboxItem({ payload: Uint8Array.of(1) });
  const b = mailboxItem({ payload: Uint8Array.of(2) });

  it('ok is one zero byte; items carry id, length and bytes', () => {
    expect(toHex(encodeControlResponse({ type: 'ok' }))).toBe('00');
    expect(toHex(encodeOk())).toBe('00');
    expect(decodeControlResponse(Uint8Array.of(0))).toEqual({ type: 'ok' });
    expect(toHex(encodeControlResponse({ type: 'mailbox-items', items: [] }))).toBe('830000');
    const bytes = encodeControlResponse({ type: 'mailbox-items', items: [{ id: mailboxItemId(a), bytes: a }, { id: mailboxItemId(b), bytes: b }] });
    const len = (x: Uint8Array) => x.length.toString(16).padStart(8, '0');
    expect(toHex(bytes)).toBe('830002' + toHex(sha256(a)) + len(a) + toHex(a) + toHex(sha256(b)) + len(b) + toHex(b));
    const back = decodeControlResponse(bytes);
    expect(back.type).toBe('mailbox-items');
    if (back.type !== 'mailbox-items') return;
    expect(back.items.map((e) => toHex(e.bytes))).toEqual([toHex(a), toHex(b)]);
    expect(back.items.map((e) => toHex(e.id))).toEqual([toHex(sha256(a)), toHex(sha256(b))]);
  });

  it('refuses every malformed response', () => {
    const one = (id: Uint8Array, item: Uint8Array, lenOverride?: number) =>
      concatBytes(id, fromHex((lenOverride ?? item.length).toString(16).padStart(8, '0')), item);
    const bad: [Uint8Array, PresenceMessageErrorCode][] = [
      [new Uint8Array(0), 'malformed'],
      [Uint8Array.of(0, 0), 'malformed'],
      [Uint8Array.of(1), 'unknown-type'],
      [Uint8Array.of(0x81), 'unknown-type'],
      [Uint8Array.of(0x83), 'malformed'],
      [Uint8Array.of(0x83, 0), 'malformed'],
      [Uint8Array.of(0x83, 0, 1), 'malformed'],
      [concatBytes(Uint8Array.of(0x83, 0, 1), one(sha256(b), a)), 'malformed'], // id of another item
      [concatBytes(Uint8Array.of(0x83, 0, 1), one(sha256(a), a, a.length + 1)), 'malformed'], // cut short
      [concatBytes(Uint8Array.of(0x83, 0, 1), one(sha256(a), a), Uint8Array.of(9)), 'malformed'], // trailing
      [concatBytes(Uint8Array.of(0x83, 0, 2), one(sha256(a), a), one(sha256(a), a)), 'malformed'], // repeated
      [concatBytes(Uint8Array.of(0x83, 0, 1), sha256(a), fromHex('0000ffd3')), 'malformed'], // over the item limit
      [new Uint8Array(MAX_PRESENCE_BODY_LENGTH + 1).fill(0x83, 0, 1), 'malformed'],
    ];
    for (const [bytes, code] of bad) expectCode(() => decodeControlResponse(bytes), code);
  });

  it('the encoder refuses items it could not send', () => {
    expect(() => encodeControlResponse({ type: 'mailbox-items', items: [{ id: sha256(b), bytes: a }] })).toThrow(/SHA-256/);
    expect(() => encodeControlResponse({ type: 'mailbox-items', items: [{ id: sha256(a), bytes: a }, { id: sha256(a), bytes: a }] })).toThrow(/repeats/);
    const big = fakeEnvelope(bobAnnounce.public, 40_000);
    const big2 = fakeEnvelope(bobAnnounce.public, 40_000, 1, 9);
    expect(() =>
      encodeControlResponse({ type: 'mailbox-items', items: [{ id: sha256(big), bytes: big }, { id: sha256(big2), bytes: big2 }] }),
    ).toThrow(/one message/);
    const huge = new Uint8Array(MAX_MAILBOX_ITEM_LENGTH + 1);
    expect(() => encodeControlResponse({ type: 'mailbox-items', items: [{ id: sha256(huge), bytes: huge }] })).toThrow(/at most/);
  });
});

describe('PresenceControl notices', () => {
  const cases: [ControlNotice, string][] = [
    [{ type: 'introduction', handle: 7, envelope: ENVELOPE }, '8100000007' + toHex(ENVELOPE)],
    [{ type: 'cancelled', handle: 0xffffffff }, '82ffffffff'],
    [{ type: 'cap-reached', pending: 16, cap: 16, refused: 144 }, '84001000100000' + '0090'],
    [{ type: 'mailbox-waiting', count: 3 }, '850003'],
  ];

  it.each(cases)('%o is encoded exactly and decodes back', (notice, hex) => {
    const bytes = encodeControlNotice(notice);
    expect(toHex(bytes)).toBe(hex);
    const back = decodeControlNotice(bytes);
    if (back.type === 'introduction' && notice.type === 'introduction') {
      expect(back.handle).toBe(notice.handle);
      expect(toHex(back.envelope)).toBe(toHex(notice.envelope));
    } else {
      expect(back).toEqual(notice);
    }
  });

  it('refuses every malformed notice', () => {
    const env = toHex(ENVELOPE);
    const bad: [string, PresenceMessageErrorCode][] = [
      ['', 'malformed'],
      ['00', 'unknown-type'],
      ['01', 'unknown-type'],
      ['83', 'unknown-type'],
      ['86', 'unknown-type'],
      ['81000000', 'malformed'],
      ['8100000001', 'malformed'], // no envelope
      ['8100000001' + '02' + env.slice(2), 'unsupported-version'],
      ['8100000001' + env + '00', 'malformed'], // trailing after the envelope
      ['8100000001' + env.slice(0, -2), 'malformed'],
      ['82000000', 'malformed'],
      ['8200000001ff', 'malformed'],
      ['8400100010000000', 'malformed'],
      ['84001000100000009000', 'malformed'],
      ['8500', 'malformed'],
      ['85000300', 'malformed'],
    ];
    for (const [hex, code] of bad) expectCode(() => decodeControlNotice(fromHex(hex)), code);
  });

  it('the encoder refuses out-of-range fields and bad envelopes', () => {
    expect(() => encodeControlNotice({ type: 'introduction', handle: 1, envelope: ENVELOPE.subarray(1) })).toThrow(/notice\.envelope/);
    expect(() => encodeControlNotice({ type: 'cancelled', handle: -1 })).toThrow(/handle/);
    expect(() => encodeControlNotice({ type: 'cap-reached', pending: 70_000, cap: 1, refused: 0 })).toThrow(/pending/);
    expect(() => encodeControlNotice({ type: 'cap-reached', pending: 1, cap: 1, refused: 2 ** 32 })).toThrow(/refused/);
    expect(() => encodeControlNotice({ type: 'mailbox-waiting', count: 65_536 })).toThrow(/count/);
    expect(() => encodeControlNotice({ type: 'other' } as never)).toThrow(RangeError);
  });
});

describe('Mailbox requests and responses', () => {
  it('deposit is 01 | recipient | item and decodes back', () => {
    const bytes = encodeMailboxRequest({ type: 'deposit', recipient: bob.publicKey, item: ITEM });
    expect(toHex(bytes)).toBe('01' + toHex(bob.publicKey) + toHex(ITEM));
    const back = decodeMailboxRequest(bytes);
    expect(toHex(back.recipient)).toBe(toHex(bob.publicKey));
    expect(toHex(back.item)).toBe(toHex(ITEM));
  });

  it('refuses every malformed deposit', () => {
    const rec = toHex(bob.publicKey);
    const item = toHex(ITEM);
    const bad: [string, PresenceMessageErrorCode][] = [
      ['', 'malformed'],
      ['00', 'unknown-type'],
      ['02' + rec + item, 'unknown-type'],
      ['01' + rec.slice(0, 62), 'malformed'],
      ['01' + rec, 'malformed'], // no item
      ['01' + rec + item + '00', 'malformed'],
      ['01' + rec + item.slice(0, -2), 'malformed'],
      ['01' + rec + '05' + item.slice(2), 'unsupported-version'],
      ['01' + rec + toHex(fakeEnvelope(bobAnnounce.public, 15)), 'malformed'], // sealed part shorter than a tag
      ['01' + rec + toHex(fakeEnvelope(bobAnnounce.public, MAX_MAILBOX_ITEM_LENGTH - 66)), 'malformed'], // one byte too long
    ];
    for (const [hex, code] of bad) expectCode(() => decodeMailboxRequest(fromHex(hex)), code);
    expect(() => encodeMailboxRequest({ type: 'deposit', recipient: new Uint8Array(31), item: ITEM })).toThrow(/request\.recipient/);
    expect(() => encodeMailboxRequest({ type: 'deposit', recipient: bob.publicKey, item: ITEM.subarray(1) })).toThrow(/request\.item/);
  });

  it('the answer is one zero byte', () => {
    expect(decodeMailboxResponse(Uint8Array.of(0))).toEqual({ type: 'ok' });
    expectCode(() => decodeMailboxResponse(new Uint8Array(0)), 'malformed');
    expectCode(() => decodeMailboxResponse(Uint8Array.of(0, 0)), 'malformed');
    expectCode(() => decodeMailboxResponse(Uint8Array.of(1)), 'unknown-type');
  });
});

describe('sealed envelopes as the node sees them', () => {
  it('reads the outer fields of real introductions and items', () => {
    const e = parseIntroductionEnvelope(ENVELOPE);
    expect(toHex(e.announcementKey)).toBe(toHex(bobAnnounce.public));
    expect(e.version).toBe(1);
    expect(e.sealed.length).toBe(ENVELOPE.length - 67);
    expect(toHex(parseMailboxItemEnvelope(ITEM).announcementKey)).toBe(toHex(bobAnnounce.public));
    expect(toHex(mailboxItemId(ITEM))).toBe(toHex(sha256(ITEM)));
  });

  it('refuses envelopes a presence node must not pass on', () => {
    expectCode(() => parseIntroductionEnvelope(new Uint8Array(0)), 'malformed');
    expectCode(() => parseIntroductionEnvelope(ENVELOPE.subarray(0, 66)), 'malformed');
    expectCode(() => parseIntroductionEnvelope(concatBytes(ENVELOPE, Uint8Array.of(0))), 'malformed');
    expectCode(() => parseIntroductionEnvelope(fakeEnvelope(bobAnnounce.public, 15)), 'malformed');
    expectCode(() => parseIntroductionEnvelope(fakeEnvelope(bobAnnounce.public, 40, 2)), 'unsupported-version');
    expectCode(() => parseIntroductionEnvelope(fakeEnvelope(bobAnnounce.public, MAX_INTRODUCTION_ENVELOPE_LENGTH - 66)), 'malformed');
    expect(parseIntroductionEnvelope(fakeEnvelope(bobAnnounce.public, MAX_INTRODUCTION_ENVELOPE_LENGTH - 67)).sealed.length).toBe(
      MAX_INTRODUCTION_ENVELOPE_LENGTH - 67,
    );
    expect(() => parseIntroductionEnvelope('x' as never)).toThrow(TypeError);
  });
});

describe('decoders on arbitrary bytes', () => {
  const decoders: [string, (b: Uint8Array) => unknown][] = [
    ['outcome', decodeIntroductionOutcome],
    ['control request', decodeControlRequest],
    ['control response', decodeControlResponse],
    ['control notice', decodeControlNotice],
    ['mailbox request', decodeMailboxRequest],
    ['mailbox response', decodeMailboxResponse],
    ['introduction envelope', parseIntroductionEnvelope],
  ];

  it.each(decoders)('%s throws only PresenceMessageError', (_, decode) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          decode(bytes);
        } catch (e) {
          expect(isPresenceMessageError(e)).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('control requests round trip for any valid value', () => {
    const req = fc.oneof(
      fc.record({ type: fc.constant('settings' as const), maxPending: fc.integer({ min: 1, max: 1024 }), perMinute: fc.integer({ min: 1, max: 6000 }) }),
      fc.record({ type: fc.constant('decision' as const), handle: fc.integer({ min: 0, max: 0xffffffff }), accept: fc.boolean() }),
      fc.record({ type: fc.constant('mailbox-fetch' as const), max: fc.integer({ min: 1, max: 0xffff }) }),
      fc.record({
        type: fc.constant('mailbox-ack' as const),
        ids: fc.uniqueArray(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 8, selector: toHex }),
      }),
    );
    fc.assert(
      fc.property(req, (r) => {
        const bytes = encodeControlRequest(r);
        expect(toHex(encodeControlRequest(decodeControlRequest(bytes)))).toBe(toHex(bytes));
      }),
      { numRuns: 300 },
    );
  });
});
