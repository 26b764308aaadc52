import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { attribute, type RecordedClick, type SentNotification } from '../../../lib/conversions/index.ts';
import { creditedNotification } from '../../../lib/conversions/rules.ts';

const DAY = 86_400_000;
const WINDOW = 7 * DAY;
const T = 1_800_000_000_000;

describe('attribution', () => {
  test('the latest notification within the window takes the order: direct when its link was clicked before the order', () => {
    const sent: SentNotification[] = [
      { eventKey: 'old', channel: 'email', sentAtMs: T - 3 * DAY },
      { eventKey: 'new', channel: 'email', sentAtMs: T - DAY },
      { eventKey: 'new', channel: 'push', wave: 2, sentAtMs: T - DAY + 1000 },
    ];
    const clicks: RecordedClick[] = [{ eventKey: 'new', channel: 'email', clickedAtMs: T - DAY + 60_000 }];
    expect(attribute(T, sent, clicks, WINDOW)).toEqual({ attribution: 'direct', eventKey: 'new', channel: 'email', notifiedAtMs: T - DAY });
  });

  test('without a click of that restock, assisted by the latest notification (a click of an older restock does not count)', () => {
    const sent: SentNotification[] = [
      { eventKey: 'old', channel: 'email', sentAtMs: T - 3 * DAY },
      { eventKey: 'new', channel: 'push', wave: 2, sentAtMs: T - DAY },
    ];
    const clicks: RecordedClick[] = [{ eventKey: 'old', channel: 'email', clickedAtMs: T - 3 * DAY + 1 }];
    expect(attribute(T, sent, clicks, WINDOW)).toEqual({ attribution: 'assisted', eventKey: 'new', channel: 'push', wave: 2, notifiedAtMs: T - DAY });
  });

  test('a click after the order does not make it direct', () => {
    const sent: SentNotification[] = [{ eventKey: 'e', channel: 'email', sentAtMs: T - DAY }];
    expect(attribute(T, sent, [{ eventKey: 'e', channel: 'email', clickedAtMs: T + 1 }], WINDOW).attribution).toBe('assisted');
  });

  test('outside the window, after the order, or with no notification at all: unattributed', () => {
    expect(attribute(T, [{ eventKey: 'e', channel: 'email', sentAtMs: T - WINDOW - 1 }], [], WINDOW)).toEqual({ attribution: 'unattributed' });
    expect(attribute(T, [{ eventKey: 'e', channel: 'email', sentAtMs: T - WINDOW }], [], WINDOW).attribution).toBe('assisted');
    expect(attribute(T, [{ eventKey: 'e', channel: 'email', sentAtMs: T + 1 }], [], WINDOW)).toEqual({ attribution: 'unattributed' });
    expect(attribute(T, [], [], WINDOW)).toEqual({ attribution: 'unattributed' });
  });

  test('an order is credited to at most one notification, one that was sent within the window before it, and is direct only with a click of that restock', () => {
    const channel = fc.constantFrom('email' as const, 'push' as const);
    const event = fc.constantFrom('a', 'b', 'c');
    fc.assert(
      fc.property(
        fc.array(fc.record({ eventKey: event, channel, sentAtMs: fc.integer({ min: T - 20 * DAY, max: T + DAY }) })),
        fc.array(fc.record({ eventKey: event, channel, clickedAtMs: fc.integer({ min: T - 20 * DAY, max: T + DAY }) })),
        (sent, clicks) => {
          const r = attribute(T, sent, clicks, WINDOW);
          const candidates = sent.filter((n) => n.sentAtMs <= T && T - n.sentAtMs <= WINDOW);
          if (candidates.length === 0) {
            expect(r).toEqual({ attribution: 'unattributed' });
            return;
          }
          const latest = Math.max(...candidates.map((n) => n.sentAtMs));
          expect(candidates.some((n) => n.eventKey === r.eventKey && n.sentAtMs === latest)).toBe(true);
          expect(r.attribution === 'direct').toBe(clicks.some((c) => c.eventKey === r.eventKey && c.clickedAtMs <= T));
        },
      ),
    );
  });
  test("only the credited notification's restock's clicks decide: the store reads those alone and attributes the same", () => {
    const channel = fc.constantFrom('email' as const, 'push' as const, 'webpush' as const);
    const event = fc.constantFrom('a', 'b', 'c');
    fc.assert(
      fc.property(
        fc.array(fc.record({ eventKey: event, channel, sentAtMs: fc.integer({ min: T - 20 * DAY, max: T + DAY }) })),
        fc.array(fc.record({ eventKey: event, channel, clickedAtMs: fc.integer({ min: T - 20 * DAY, max: T + DAY }) })),
        (sent, clicks) => {
          const credited = creditedNotification(T, sent, WINDOW);
          const read = credited ? clicks.filter((c) => c.eventKey === credited.eventKey) : [];
          expect(attribute(T, sent, read, WINDOW)).toEqual(attribute(T, sent, clicks, WINDOW));
          expect(credited?.eventKey).toBe(attribute(T, sent, clicks, WINDOW).eventKey);
        },
      ),
    );
  });
});
