import { describe, expect, it } from 'vitest';
import { jsonTextArray } from '../src/json-text-array.ts';
import { useTestPool } from '../src/testing.ts';

const db = useTestPool({ max: 1 });

/** What Postgres reads the literal as, element by element. */
async function parsed(literal: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ items: string[] }>('select $1::text[] as items', [literal]);
  return rows[0]!.items;
}

describe('jsonTextArray', () => {
  it('is read by Postgres as the JSON texts it was made of, whatever they hold', async () => {
    const values: unknown[] = [
      { quote: 'say "hi"', backslash: 'C:\\temp\\new', both: '\\"' },
      { newline: 'a\nb', tab: '\t', nul: 'x\u0001y', bell: '\u0007' },
      { pair: '😀', accents: 'héllo wörld', rtl: 'שלום', separators: '\u2028\u2029' },
      ['{', '}', ',', 'NULL', 'null', '', ' spaced '],
      'NULL',
      null,
      12.5,
      { nested: { deep: [[['"\\']]] } },
    ];
    const texts = values.map((value) => JSON.stringify(value));
    const read = await parsed(jsonTextArray(texts));
    expect(read).toEqual(texts);
    // And back to the values, as the submit statement's ::jsonb does.
    const { rows } = await db.pool.query<{ values: unknown[] }>('select array(select x::jsonb from unnest($1::text[]) x) as values', [jsonTextArray(texts)]);
    expect(rows[0]!.values).toEqual(values);
    // A lone surrogate, which JSON.stringify writes as an escape (jsonb refuses it; text keeps it).
    const lone = JSON.stringify({ lone: '\ud800' });
    expect(await parsed(jsonTextArray([lone]))).toEqual([lone]);
  });

  it('keeps task ids as they are, a thousand at once', async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `video_01kx${String(i).padStart(20, '0')}`);
    expect(await parsed(jsonTextArray(ids))).toEqual(ids);
  });
});
