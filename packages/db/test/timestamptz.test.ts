import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useTestPool } from '../src/testing.ts';
import { parseTimestamptz, readIsoTimestamptz, TIMESTAMPTZ_OID } from '../src/timestamptz.ts';

const postgresDate = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (text: string) => Date | number | null;

/** A comparable form of what either parser returns. */
const value = (parsed: Date | number | null) => (parsed instanceof Date ? parsed.getTime() : parsed);

/** A deterministic stream of numbers in [0, 1). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Text in the shape Postgres writes with DateStyle ISO, built from its parts. */
function isoText(next: () => number): string {
  const year = 1000 + Math.floor(next() * 9000);
  const digits = Math.floor(next() * 7);
  const fraction = digits === 0 ? '' : '.' + pad(Math.floor(next() * 10 ** digits), digits);
  const offsets = ['+00', '-03:30', '+05:45', '+00:19:32', '-09:59:59', '+14', '-12', '+01', '-00:25:21'];
  const offset = offsets[Math.floor(next() * offsets.length)]!;
  const part = (max: number, width = 2) => pad(Math.floor(next() * max), width);
  return `${year}-${pad(1 + Math.floor(next() * 12), 2)}-${pad(1 + Math.floor(next() * 28), 2)} ${part(24)}:${part(60)}:${part(60)}${fraction}${offset}`;
}

describe('parseTimestamptz', () => {
  it('reads what postgres-date reads, to the millisecond, for every offset and fraction length', () => {
    const next = random(20_261_202);
    for (let i = 0; i < 20_000; i++) {
      const text = isoText(next);
      // Read by position, not handed to postgres-date.
      expect(readIsoTimestamptz(text), text).toBe(value(postgresDate(text)));
      expect(value(parseTimestamptz(text)), text).toBe(value(postgresDate(text)));
    }
  });

  it('cuts the fraction to whole milliseconds as postgres-date does', () => {
    for (let ms = 0; ms < 1000; ms++) {
      for (const tail of ['', '0', '999', '5', '000001']) {
        const text = `2026-12-02 03:04:05.${pad(ms, 3)}${tail}+00`;
        expect(readIsoTimestamptz(text), text).toBe(value(postgresDate(text)));
      }
    }
    expect(value(parseTimestamptz('2026-12-02 03:04:05.9+00'))).toBe(Date.UTC(2026, 11, 2, 3, 4, 5, 900));
    expect(value(parseTimestamptz('2026-12-02 03:04:05.123456-03:30'))).toBe(Date.UTC(2026, 11, 2, 6, 34, 5, 123));
  });

  it('leaves the shapes it does not read to postgres-date, with the same answer', () => {
    for (const text of [
      'infinity',
      '-infinity',
      '0044-03-15 12:00:00+00 BC',
      '0050-01-01 00:00:00+00',
      '0999-12-31 23:59:59.5+00',
      '12026-01-01 00:00:00+00',
      '2026-12-02 03:04:05Z',
      '2026-12-02T03:04:05+00',
      '2026-12-02 03:04:05',
      '2026-12-02 03:04:05+0530',
      '2026-12-02 03:04:05+05:30 extra',
      '2026-12-02',
      'Wed Dec 02 03:04:05 2026 UTC',
      '',
    ]) {
      expect(readIsoTimestamptz(text), text).toBeUndefined();
      expect(value(parseTimestamptz(text)), text).toEqual(value(postgresDate(text)));
    }
  });
});

describe('timestamptz read through createPool', () => {
  const db = useTestPool({ max: 1 });

  it('gives the instant Postgres holds in every session time zone, old offsets and BC included', async () => {
    const instants = [
      '2026-12-02 03:04:05.123456+00',
      '2026-03-29 01:30:00+00',
      '1900-01-01 00:00:00+00',
      '1970-01-01 00:00:00+00',
      '1000-06-15 12:00:00.5+00',
      '0044-03-15 12:00:00+00 BC',
      '0050-01-01 00:00:00+00',
      '9999-12-31 23:59:59.999999+00',
    ];
    for (const zone of ['UTC', 'America/St_Johns', 'Asia/Kathmandu', 'Europe/Amsterdam', 'Pacific/Kiritimati', 'America/Adak']) {
      await db.pool.query(`set timezone = '${zone}'`);
      const { rows } = await db.pool.query<{ at: Date; text: string; ms: string }>(
        `select t as at, t::text as text, floor(extract(epoch from t) * 1000)::text as ms
         from unnest($1::timestamptz[]) as t`,
        [instants],
      );
      for (const row of rows) expect(row.at.getTime(), `${row.text} in ${zone}`).toBe(Number(row.ms));
    }
  });

  it('keeps infinity as postgres-date gives it', async () => {
    const { rows } = await db.pool.query<{ up: number; down: number }>(`select 'infinity'::timestamptz as up, '-infinity'::timestamptz as down`);
    expect(rows[0]).toEqual({ up: Infinity, down: -Infinity });
  });
});
