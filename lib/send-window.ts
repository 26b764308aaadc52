/**
 * Send windows (issue 33): the hours of a shopper's own day in which they may
 * be told, and when a closed window next opens. Pure over plain data: the
 * clock, an IANA time zone and a window. Shared by lib/config (which parses
 * RESTOCK_SEND_WINDOW), the subscriptions API (which validates `timeZone`) and
 * delivery (which holds back a recipient outside their window), so all three
 * read one rule.
 *
 * Local times come from `Intl.DateTimeFormat`, which carries the IANA
 * database of the Node build: daylight-saving changes follow it, and a zone it
 * does not know is refused where it is given.
 */

/** Minutes in a day. */
const DAY_MINUTES = 1440;
const MINUTE_MS = 60_000;

/**
 * A daily window of local wall-clock time: from `startMinute` (inclusive) to
 * `endMinute` (exclusive), in minutes after local midnight. `endMinute` below
 * `startMinute` crosses midnight (`21:00-08:00`).
 */
export interface SendWindow {
  startMinute: number;
  endMinute: number;
}

/** A window given as text that is not `HH:MM-HH:MM`, or that is empty. */
export class InvalidSendWindowError extends Error {
  override readonly name = 'InvalidSendWindowError';
  constructor(
    readonly input: string,
    problem: string,
  ) {
    super(`${JSON.stringify(input)} ${problem}`);
  }
}

const WINDOW = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$/;

/**
 * Parses `HH:MM-HH:MM` (24-hour, local time; `24:00` as an end means
 * midnight). The end may be before the start: the window then crosses
 * midnight.
 * @throws InvalidSendWindowError when the text is not that shape, names a time that does not exist, or the window is empty (start equal to end).
 */
export function parseSendWindow(text: string): SendWindow {
  const m = WINDOW.exec(text.trim());
  if (!m) throw new InvalidSendWindowError(text, 'is not a window: expected HH:MM-HH:MM in 24-hour local time, e.g. 08:00-21:00 (may cross midnight: 21:00-08:00)');
  const startMinute = Number(m[1]) * 60 + Number(m[2]);
  const end = Number(m[3]) * 60 + Number(m[4]);
  if (end > DAY_MINUTES) throw new InvalidSendWindowError(text, 'ends after 24:00');
  const endMinute = end % DAY_MINUTES;
  if (startMinute === endMinute) throw new InvalidSendWindowError(text, 'starts where it ends: an empty window would hold every notification forever; unset the setting to send at any hour');
  return { startMinute, endMinute };
}

/** `HH:MM-HH:MM` of a window, as {@link parseSendWindow} reads it. */
export function formatSendWindow(w: SendWindow): string {
  const hm = (minute: number) => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
  return `${hm(w.startMinute)}-${w.endMinute === 0 ? '24:00' : hm(w.endMinute)}`;
}

/** Whether local minute-of-day `minute` is inside `w`. */
export function isInWindow(w: SendWindow, minute: number): boolean {
  return w.startMinute < w.endMinute ? minute >= w.startMinute && minute < w.endMinute : minute >= w.startMinute || minute < w.endMinute;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * The runtime's own name for IANA zone `timeZone`, which Intl matches without
 * regard to case (`europe/berlin` is `Europe/Berlin`, `utc` is `UTC`), or
 * undefined when it is no zone this runtime knows. Aliases Intl accepts
 * (`Asia/Calcutta`) count. Nothing is remembered for a name asked here: the
 * case variants of the zones are countless, and what a request names must not
 * grow the process's memory; only the names {@link windowStanding} is given
 * (canonical ones, as the API stores them) are.
 */
export function canonicalTimeZone(timeZone: string): string | undefined {
  if (typeof timeZone !== 'string' || timeZone.length === 0 || timeZone.length > 64) return undefined;
  // Node 24's Intl takes UTC offsets as zones (`+02:00`, ECMA-402's offset time zones), Node 20's does not. An
  // offset is no IANA zone and follows no daylight-saving rule, so it is refused on every runtime alike.
  if (/^[+\-\u2212]/.test(timeZone)) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/**
 * Whether `timeZone` is an IANA zone this runtime knows (`Europe/Berlin`,
 * `Etc/GMT+12`, `UTC`), in any case; see {@link canonicalTimeZone}.
 */
export function isValidTimeZone(timeZone: string): boolean {
  return canonicalTimeZone(timeZone) !== undefined;
}

/** Local wall-clock time at minute-aligned instant `ms`: minute of the day, and the zone's offset from UTC in minutes. */
function localAt(ms: number, timeZone: string): { minute: number; offsetMinutes: number } {
  const parts: Record<string, number> = {};
  for (const p of formatterOf(timeZone).formatToParts(ms)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const localMs = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!);
  return { minute: parts.hour! * 60 + parts.minute!, offsetMinutes: Math.round((localMs - ms) / MINUTE_MS) };
}

/** Whether a shopper's window is open at an instant, or when it next opens. */
export type WindowStanding = { open: true } | { open: false; opensAtMs: number };

/**
 * Whether `window` is open at `nowMs` in `timeZone`, else the first instant
 * (a whole minute) at which it opens. A window that starts in an hour a
 * daylight-saving change skips (02:30 on a spring-forward night) opens when
 * the clocks jump into it; one whose start occurs twice (fall back) opens at
 * the first. Windows follow the zone's offset as it is at each instant.
 * @throws RangeError when `timeZone` is not a zone this runtime knows (validate with {@link isValidTimeZone} first).
 */
export function windowStanding(nowMs: number, timeZone: string, window: SendWindow): WindowStanding {
  // A chunk asks for hundreds of shoppers in a handful of zones within one minute: the answer depends only on
  // (minute, zone, window), and each costs a few Intl formats, so it is remembered (bounded; results never go stale).
  const minute = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
  const key = `${minute}|${timeZone}|${window.startMinute}-${window.endMinute}`;
  const known = standings.get(key);
  if (known) return known;
  const standing = computeStanding(minute, timeZone, window);
  if (standings.size >= MAX_REMEMBERED) standings.clear();
  standings.set(key, standing);
  return standing;
}

const standings = new Map<string, WindowStanding>();
const MAX_REMEMBERED = 4096;

function computeStanding(minute: number, timeZone: string, window: SendWindow): WindowStanding {
  let t = minute;
  let here = localAt(t, timeZone);
  if (isInWindow(window, here.minute)) return { open: true };
  // Skip ahead over local minutes that are closed. With the offset unchanged that lands on the start; a change in
  // between (a daylight-saving night) shifts the landing, so the search resumes from the change itself.
  for (let guard = 0; guard < 16; guard++) {
    const closedMinutes = (window.startMinute - here.minute + DAY_MINUTES) % DAY_MINUTES;
    const next = t + closedMinutes * MINUTE_MS;
    const there = localAt(next, timeZone);
    if (there.offsetMinutes === here.offsetMinutes) return { open: false, opensAtMs: next };
    // The first minute in (t, next] on the new offset: the clocks changed there.
    let lo = t;
    let hi = next;
    while (hi - lo > MINUTE_MS) {
      const mid = lo + Math.floor((hi - lo) / 2 / MINUTE_MS) * MINUTE_MS;
      if (localAt(mid, timeZone).offsetMinutes === here.offsetMinutes) lo = mid;
      else hi = mid;
    }
    t = hi;
    here = localAt(t, timeZone);
    if (isInWindow(window, here.minute)) return { open: false, opensAtMs: t };
  }
  throw new Error(`no opening of ${formatSendWindow(window)} found in ${timeZone}`);
}
