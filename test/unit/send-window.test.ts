/**
 * Send windows (issue 33): a shopper's window is open or tells when it next
 * opens, in their own zone, across midnight, daylight-saving changes and the
 * zones at +14 and -12.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { canonicalTimeZone, formatSendWindow, isInWindow, isValidTimeZone, parseSendWindow, windowStanding, type SendWindow } from '../../lib/send-window.ts';

const MINUTE = 60_000;
const ZONES = ['Europe/Berlin', 'America/New_York', 'Pacific/Kiritimati', 'Etc/GMT+12', 'Asia/Tokyo', 'UTC', 'Australia/Lord_Howe', 'Asia/Kolkata'];

/** Local minute of the day at `ms` in `zone`, read independently of the code under test (toLocaleTimeString). */
function localMinute(ms: number, zone: string): number {
  const [h, m] = new Date(ms).toLocaleTimeString('en-GB', { timeZone: zone, hour12: false, hour: '2-digit', minute: '2-digit' }).split(':').map(Number);
  return (h! % 24) * 60 + m!;
}

const w = (text: string) => parseSendWindow(text);

describe('parsing RESTOCK_SEND_WINDOW', () => {
  test.each([
    ['08:00-21:00', { startMinute: 480, endMinute: 1260 }],
    ['21:00-08:00', { startMinute: 1260, endMinute: 480 }],
    ['22:30-24:00', { startMinute: 1350, endMinute: 0 }],
  ] as const)('%s', (text, expected) => {
    expect(parseSendWindow(text)).toEqual(expected);
    expect(formatSendWindow(expected)).toBe(text);
  });

  test.each([
    ['8-21', /expected HH:MM-HH:MM/],
    ['08:00-25:00', /expected HH:MM-HH:MM/],
    ['08:60-21:00', /expected HH:MM-HH:MM/],
    ['24:00-08:00', /expected HH:MM-HH:MM/],
    ['24:30', /expected HH:MM-HH:MM/],
    ['09:00-09:00', /starts where it ends/],
    ['00:00-24:00', /starts where it ends/],
  ])('%s is refused with the reason', (text, reason) => {
    expect(() => parseSendWindow(text)).toThrow(reason);
  });
});

describe('time zones', () => {
  test.each(['Europe/Berlin', 'America/New_York', 'Pacific/Kiritimati', 'Etc/GMT+12', 'UTC'])('%s is known', (zone) => expect(isValidTimeZone(zone)).toBe(true));
  test.each(['Mars/Olympus', '', 'Europe/Berlin ', '+02:00'])('%j is not', (zone) => expect(isValidTimeZone(zone)).toBe(false));
  test('every zone the runtime lists is accepted, and is its own canonical name', () => {
    for (const zone of Intl.supportedValuesOf('timeZone')) expect(canonicalTimeZone(zone), zone).toBe(zone);
  });
  test.each([
    ['europe/berlin', 'Europe/Berlin'],
    ['AMERICA/NEW_YORK', 'America/New_York'],
    ['utc', 'UTC'],
  ])('%j is spelled %j', (zone, canonical) => expect(canonicalTimeZone(zone)).toBe(canonical));
});

describe('is the window open, or when does it open?', () => {
  test.each([
    // +14: 23:00 local on 1 June; opens at 08:00 local on 2 June = 18:00Z on 1 June.
    ['Pacific/Kiritimati at 23:00', '2026-06-01T09:00:00Z', 'Pacific/Kiritimati', '08:00-21:00', '2026-06-01T18:00:00Z'],
    // -12: 21:00 local on 31 May; opens at 08:00 local on 1 June = 20:00Z.
    ['Etc/GMT+12 at 21:00', '2026-06-01T09:00:00Z', 'Etc/GMT+12', '08:00-21:00', '2026-06-01T20:00:00Z'],
    // Berlin springs forward at 02:00 → 03:00 on 29 March 2026: a window from 02:30 opens when the clocks jump, 03:00 CEST = 01:00Z.
    ['Berlin, a start the spring-forward night skips', '2026-03-28T23:00:00Z', 'Europe/Berlin', '02:30-04:00', '2026-03-29T01:00:00Z'],
    // Berlin falls back at 03:00 → 02:00 on 25 October 2026: 02:30 happens twice, the first (CEST, 00:30Z) opens it.
    ['Berlin, a start the fall-back night repeats', '2026-10-24T22:00:00Z', 'Europe/Berlin', '02:30-02:45', '2026-10-25T00:30:00Z'],
    // New York springs forward on 8 March 2026: 08:00 EDT is 12:00Z, not 13:00Z as the evening before's offset would say.
    ['New York, the morning after spring forward', '2026-03-08T02:00:00Z', 'America/New_York', '08:00-21:00', '2026-03-08T12:00:00Z'],
    ['New York, the morning after fall back', '2026-11-01T03:00:00Z', 'America/New_York', '08:00-21:00', '2026-11-01T13:00:00Z'],
    ['across midnight, in the morning gap', '2026-06-01T09:00:00Z', 'UTC', '21:00-08:00', '2026-06-01T21:00:00Z'],
    ['a second before the start', '2026-06-01T07:59:59Z', 'UTC', '08:00-21:00', '2026-06-01T08:00:00Z'],
  ])('%s', (_what, now, zone, window, opensAt) => {
    expect(windowStanding(Date.parse(now), zone, w(window))).toEqual({ open: false, opensAtMs: Date.parse(opensAt) });
  });

  test.each([
    ['across midnight, after midnight', '2026-06-01T03:00:00Z', 'UTC', '21:00-08:00'],
    ['at the start minute', '2026-06-01T08:00:00Z', 'UTC', '08:00-21:00'],
    ['Kiritimati at 10:00 local', '2026-06-01T20:00:00Z', 'Pacific/Kiritimati', '08:00-21:00'],
  ])('open: %s', (_what, now, zone, window) => {
    expect(windowStanding(Date.parse(now), zone, w(window))).toEqual({ open: true });
  });

  test('the end minute is closed', () => {
    expect(windowStanding(Date.parse('2026-06-01T21:00:00Z'), 'UTC', w('08:00-21:00'))).toMatchObject({ open: false });
  });

  // 2026, around the changes of Europe and North America, and anywhere in the year.
  const instants = fc.oneof(
    fc.integer({ min: Date.parse('2026-03-06T00:00:00Z'), max: Date.parse('2026-03-31T00:00:00Z') }),
    fc.integer({ min: Date.parse('2026-10-23T00:00:00Z'), max: Date.parse('2026-11-03T00:00:00Z') }),
    fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-01-01T00:00:00Z') }),
  );
  const windows = fc
    .tuple(fc.integer({ min: 0, max: 1439 }), fc.integer({ min: 1, max: 1439 }))
    .map(([start, length]): SendWindow => ({ startMinute: start, endMinute: (start + length) % 1440 }));

  test('property: open means the local clock is inside the window; closed means it opens within a day, at an open minute, with every minute before it closed', () => {
    fc.assert(
      fc.property(instants, fc.constantFrom(...ZONES), windows, (nowMs, zone, window) => {
        const standing = windowStanding(nowMs, zone, window);
        const from = Math.floor(nowMs / MINUTE) * MINUTE;
        if (standing.open) {
          expect(isInWindow(window, localMinute(nowMs, zone))).toBe(true);
          return;
        }
        expect(standing.opensAtMs).toBeGreaterThan(nowMs);
        expect(standing.opensAtMs % MINUTE).toBe(0);
        expect(standing.opensAtMs - from).toBeLessThanOrEqual(25 * 60 * MINUTE);
        expect(isInWindow(window, localMinute(standing.opensAtMs, zone))).toBe(true);
        expect(windowStanding(standing.opensAtMs, zone, window)).toEqual({ open: true });
        for (let t = from; t < standing.opensAtMs; t += MINUTE) expect(isInWindow(window, localMinute(t, zone)), new Date(t).toISOString()).toBe(false);
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
