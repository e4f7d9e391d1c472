import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64 } from '../../renderer/src/lib/base64';
import { dayKey, dayLabel, formatAge, formatBytes, formatDuration, groupByDay, initial, shortIdentity } from '../../renderer/src/lib/format';
import { highlightSegments, snippet } from '../../renderer/src/lib/highlight';
import { MAX_MESSAGE_BYTES, fileProblem, messageTextProblem, utf8Length, utf8LengthByEncoding } from '../../renderer/src/lib/limits';
import { passphraseStrength } from '../../renderer/src/lib/passphrase';
import { onlineProgress } from '../../renderer/src/lib/progress';
import { settingsChange, toDraft } from '../../renderer/src/lib/settings-form';
import { identityProblem, nameProblem } from '../../renderer/src/lib/validate';
import { kbpsToSlider, sliderToKBps } from '../../renderer/src/lib/bandwidth';
import { ALICE_IDENTITY, BOB_IDENTITY, networkStatus, profileStatus } from './fakes';

describe('sizes and times', () => {
  it('formats bytes with binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(64 * 1024)).toBe('64 KiB');
    expect(formatBytes(1024 * 1024 - 1)).toBe('1 MiB');
    expect(formatBytes(16 * 1024 * 1024)).toBe('16 MiB');
    expect(() => formatBytes(-1)).toThrow(RangeError);
    expect(() => formatBytes('1' as never)).toThrow(TypeError);
  });

  it('formats durations and ages', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(61_000)).toBe('1 min 1 s');
    expect(formatDuration(3_600_000)).toBe('1 h');
    expect(formatDuration(3_725_000)).toBe('1 h 2 min');
    expect(formatDuration(2 * 86_400_000 + 4 * 3_600_000)).toBe('2 d 4 h');
    expect(formatAge(4999)).toBe('just now');
    expect(formatAge(12_000)).toBe('12 s ago');
    expect(() => formatDuration(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('labels days relative to now and groups messages by day', () => {
    const now = new Date(2025, 4, 14, 15, 0).getTime();
    expect(dayLabel(new Date(2025, 4, 14, 0, 5).getTime(), now)).toBe('Today');
    expect(dayLabel(new Date(2025, 4, 13, 23, 59).getTime(), now)).toBe('Yesterday');
    expect(dayLabel(new Date(2025, 4, 1).getTime(), now)).not.toMatch(/Today|Yesterday/);
    const items = [new Date(2025, 4, 13, 9).getTime(), new Date(2025, 4, 13, 22).getTime(), new Date(2025, 4, 14, 8).getTime()];
    const groups = groupByDay(items, (t) => t, now);
    expect(groups.map((g) => [g.label, g.items.length])).toEqual([
      ['Yesterday', 2],
      ['Today', 1],
    ]);
    expect(groups[0]?.key).toBe(dayKey(items[0] ?? 0));
    expect(() => groupByDay('x' as never, (t: number) => t, now)).toThrow(TypeError);
  });

  it('shortens identity strings and takes initials', () => {
    expect(shortIdentity(ALICE_IDENTITY)).toBe(`sirius.chat.account.7xQ2mB…${ALICE_IDENTITY.slice(-4)}`);
    expect(shortIdentity('sirius.chat.account.abc')).toBe('sirius.chat.account.abc');
    expect(initial('  émile')).toBe('É');
    expect(initial('')).toBe('?');
  });
});

describe('limits', () => {
  it('counts UTF-8 bytes like TextEncoder', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(utf8Length(text)).toBe(utf8LengthByEncoding(text));
      }),
    );
    expect(utf8Length('\ud83d')).toBe(3);
  });

  it('refuses empty messages and messages over 64 KiB', () => {
    expect(messageTextProblem('hi')).toBeNull();
    expect(messageTextProblem(' \n ')).toMatch(/Write something/);
    expect(messageTextProblem('a'.repeat(MAX_MESSAGE_BYTES))).toBeNull();
    expect(messageTextProblem('a'.repeat(MAX_MESSAGE_BYTES + 1))).toMatch(/64 KiB/);
    // 2-byte characters: half as many fit.
    expect(messageTextProblem('é'.repeat(MAX_MESSAGE_BYTES / 2 + 1))).toMatch(/64 KiB/);
  });

  it('refuses files over 16 MiB or with unusable names', () => {
    expect(fileProblem('a.txt', 16 * 1024 * 1024)).toBeNull();
    expect(fileProblem('a.txt', 16 * 1024 * 1024 + 1)).toMatch(/16 MiB/);
    expect(fileProblem('', 1)).toMatch(/no name/);
    expect(fileProblem('x'.repeat(256), 1)).toMatch(/255/);
    expect(() => fileProblem('a', -1)).toThrow(RangeError);
  });
});

describe('base64', () => {
  it('round-trips any bytes and matches the RFC 4648 examples', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70_000 }), (bytes) => {
        expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
      }),
      { numRuns: 30 },
    );
    // RFC 4648 §10 test vectors.
    const vectors: Array<[string, string]> = [
      ['', ''],
      ['f', 'Zg=='],
      ['fo', 'Zm8='],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg=='],
      ['fooba', 'Zm9vYmE='],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [plain, encoded] of vectors) {
      expect(bytesToBase64(new TextEncoder().encode(plain))).toBe(encoded);
    }
    expect(() => base64ToBytes('abc')).toThrow(RangeError);
    expect(() => base64ToBytes('ab!=')).toThrow(RangeError);
    expect(() => bytesToBase64([1, 2] as never)).toThrow(TypeError);
  });
});

describe('search highlighting', () => {
  it('marks every case-insensitive match and keeps all text', () => {
    const segments = highlightSegments('Hello hello HELLO world', 'hello');
    expect(segments.filter((s) => s.match).map((s) => s.text)).toEqual(['Hello', 'hello', 'HELLO']);
    expect(segments.map((s) => s.text).join('')).toBe('Hello hello HELLO world');
    expect(highlightSegments('abc', '  ')).toEqual([{ text: 'abc', match: false }]);
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1, maxLength: 3 }), (text, query) => {
        expect(highlightSegments(text, query).map((s) => s.text).join('')).toBe(text);
      }),
    );
  });

  it('cuts long texts around the first match', () => {
    const text = `${'a'.repeat(200)} needle ${'b'.repeat(200)}`;
    const cut = snippet(text, 'needle', 20);
    expect(cut.startsWith('…')).toBe(true);
    expect(cut.endsWith('…')).toBe(true);
    expect(cut).toContain('needle');
    expect(cut.length).toBeLessThan(60);
    expect(snippet('short text', 'text')).toBe('short text');
  });
});

describe('passphrase strength', () => {
  it('orders passphrases sensibly', () => {
    expect(passphraseStrength('short').score).toBe(0);
    expect(passphraseStrength('password1').score).toBe(1);
    expect(passphraseStrength('aaaaaaaaaaaaaaaa').score).toBe(1);
    expect(passphraseStrength('12345678').score).toBe(1);
    expect(passphraseStrength('correct horse battery staple').score).toBe(4);
    const mid = passphraseStrength('Tr0ub4dor&3').score;
    expect(mid).toBeGreaterThanOrEqual(2);
    expect(mid).toBeLessThan(4);
    expect(() => passphraseStrength(null as never)).toThrow(TypeError);
  });
});

describe('checks of what people type', () => {
  it('explains what is wrong with an identity string', () => {
    expect(identityProblem(BOB_IDENTITY)).toBeNull();
    expect(identityProblem(`  ${BOB_IDENTITY}  `)).toBeNull();
    expect(identityProblem('')).toMatch(/Paste/);
    expect(identityProblem('sirius.chat.account.abc def')).toMatch(/spaces/);
    expect(identityProblem('bob@example.org')).toMatch(/not an identity string/);
    expect(identityProblem('sirius.chat.account.0OIl0OIl0OIl0OIl')).toMatch(/typing error/);
    expect(identityProblem(ALICE_IDENTITY, ALICE_IDENTITY)).toMatch(/your own/);
  });

  it('checks names', () => {
    expect(nameProblem(' Bob ')).toBeNull();
    expect(nameProblem('   ')).toMatch(/Enter/);
    expect(nameProblem('x'.repeat(129))).toMatch(/128/);
  });
});

describe('going-online steps', () => {
  it('reads the step off the network status', () => {
    const first = 'Unlocking your keys';
    expect(onlineProgress(first, profileStatus({ state: 'locked' }), null).current).toBe('Unlocking your keys…');
    const starting = profileStatus({ state: 'starting' });
    expect(onlineProgress(first, starting, null).current).toBe('Fetching the node list…');
    expect(onlineProgress(first, starting, networkStatus({ listAgeMs: null })).current).toBe('Fetching the node list…');
    expect(onlineProgress(first, starting, networkStatus({ certificateExpiresAt: null })).current).toBe('Registering…');
    const announcing = onlineProgress(first, starting, networkStatus({ presencePoints: [{ identity: 'x', nickname: 'x', accepted: false }] }));
    expect(announcing.current).toBe('Announcing your presence…');
    expect(announcing.steps.map((s) => s.state)).toEqual(['done', 'done', 'done', 'active']);
    const online = onlineProgress(first, profileStatus({ state: 'online' }), null);
    expect(online.current).toBe('Online');
    expect(online.steps.every((s) => s.state === 'done')).toBe(true);
  });
});

describe('bandwidth slider', () => {
  it('maps positions to caps within the contract bounds, monotonically', () => {
    expect(sliderToKBps(0)).toBe(16);
    expect(sliderToKBps(1000)).toBe(1_000_000);
    let previous = 0;
    for (let p = 0; p <= 1000; p += 1) {
      const kbps = sliderToKBps(p);
      expect(kbps).toBeGreaterThanOrEqual(previous);
      previous = kbps;
    }
    expect(sliderToKBps(kbpsToSlider(512))).toBeGreaterThan(450);
    expect(sliderToKBps(kbpsToSlider(512))).toBeLessThan(560);
    expect(sliderToKBps(-5)).toBe(16);
    expect(() => kbpsToSlider(Number.NaN)).toThrow(TypeError);
  });
});

describe('settings form', () => {
  const stored = { displayName: 'Alice', networkFile: null, acceptStrangers: false, readReceipts: true, relayBandwidthKBps: 512 };

  it('sends only the fields that changed, with an empty network file as null', () => {
    expect(settingsChange(stored, toDraft(stored))).toEqual({ change: {} });
    expect(settingsChange(stored, { ...toDraft(stored), displayName: ' Alice B ', readReceipts: false })).toEqual({
      change: { displayName: 'Alice B', readReceipts: false },
    });
    expect(settingsChange({ ...stored, networkFile: '/etc/net.json' }, { ...toDraft(stored), networkFile: '   ' })).toEqual({ change: { networkFile: null } });
    expect(settingsChange(stored, { ...toDraft(stored), relayBandwidthKBps: '2048' })).toEqual({ change: { relayBandwidthKBps: 2048 } });
  });

  it('says what is wrong instead of sending bad values', () => {
    expect(settingsChange(stored, { ...toDraft(stored), displayName: '  ' })).toEqual({ problem: 'Display name: Enter a name.' });
    expect(settingsChange(stored, { ...toDraft(stored), relayBandwidthKBps: '' })).toEqual({ problem: 'Relay bandwidth: Enter a number of KB/s.' });
    expect(settingsChange(stored, { ...toDraft(stored), relayBandwidthKBps: '8' })).toMatchObject({ problem: expect.stringMatching(/at least 16/) });
  });
});
