import pg from 'pg';

export const TIMESTAMPTZ_OID = 1184;

/** pg's own parser (postgres-date), for every shape the fast path does not take. */
const fallback = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (text: string) => Date | number | null;

const ZERO = 48;

/** The value of the two digits at `at`, or NaN unless both are digits. */
function two(text: string, at: number): number {
  const a = text.charCodeAt(at) - ZERO;
  const b = text.charCodeAt(at + 1) - ZERO;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

/**
 * A `timestamptz` as Postgres writes it with `DateStyle` ISO (the default, and what pg expects):
 * `2026-12-02 03:04:05.123456+00`, the fraction up to six digits and absent when zero, the
 * offset `+HH`, `+HH:MM` or `+HH:MM:SS` in the session's `TimeZone`.
 *
 * Every task row carries four or five of these, and pg parses each with postgres-date, whose
 * regular expressions and match arrays were the largest part of reading rows: a feed reading the
 * 1,000 rows of a fan-out round spent more time on their dates than on the rest of the rows.
 * This reads the common shape by position; anything else (a year outside 1000–9999, BC,
 * infinity, another `DateStyle`, an offset of another form) goes to postgres-date, so the two
 * always agree. Like it, the fraction is cut to whole milliseconds.
 */
export function parseTimestamptz(text: string): Date | number | null {
  const ms = readIsoTimestamptz(text);
  return ms === undefined ? fallback(text) : new Date(ms);
}

/** The instant of an ISO `timestamptz` in the common shape (see above) in ms, else undefined. */
export function readIsoTimestamptz(text: string): number | undefined {
  const length = text.length;
  if (length < 22 || text.charCodeAt(4) !== 45 /* - */ || text.charCodeAt(10) !== 32 /* space */) return undefined;
  const year = two(text, 0) * 100 + two(text, 2);
  const month = two(text, 5);
  const day = two(text, 8);
  const hour = two(text, 11);
  const minute = two(text, 14);
  const second = two(text, 17);
  if (
    !(year >= 1000) ||
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(13) !== 58 /* : */ ||
    text.charCodeAt(16) !== 58 ||
    Number.isNaN(month + day + hour + minute + second)
  ) {
    return undefined;
  }
  let at = 19;
  let ms = 0;
  if (text.charCodeAt(at) === 46 /* . */) {
    at++;
    let scale = 100;
    for (let digit = text.charCodeAt(at) - ZERO; digit >= 0 && digit <= 9; digit = text.charCodeAt(++at) - ZERO) {
      ms += digit * scale;
      scale /= 10;
    }
    ms = Math.floor(ms);
  }
  const sign = text.charCodeAt(at);
  if (sign !== 43 /* + */ && sign !== 45 /* - */) return undefined;
  // The offset: HH, then :MM and :SS when not zero, and nothing after it.
  let offset = two(text, at + 1) * 3600;
  at += 3;
  if (at < length && text.charCodeAt(at) === 58) {
    offset += two(text, at + 1) * 60;
    at += 3;
    if (at < length && text.charCodeAt(at) === 58) {
      offset += two(text, at + 1);
      at += 3;
    }
  }
  if (at !== length || Number.isNaN(offset)) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - (sign === 45 ? -offset : offset) * 1000;
}
