import { beforeAll, describe, expect, it } from 'vitest';
import { TaskStore } from '../src/index.ts';
import { useTestPool } from '../src/testing.ts';

// One connection: the statements it prepared are the ones this file's submits ran.
const db = useTestPool({ max: 1 });
let store: TaskStore;

beforeAll(() => {
  store = new TaskStore(db.pool);
});

interface Row {
  id: string;
  owner: string;
  fair_rank: string | null;
  [column: string]: unknown;
}

async function rows(ids: string[]): Promise<Row[]> {
  const { rows } = await db.pool.query<Row>('select * from tasklane.tasks where id = any($1) order by array_position($1, id)', [ids]);
  return rows;
}

/** The columns a submit decides, apart from those that differ by task or by moment. */
function decided({ id: _id, idempotency_key: _key, request_hash: _hash, created_at: _c, updated_at: _u, run_at: _r, fair_rank: _f, input: _i, ...rest }: Row) {
  return rest;
}

async function prepared(): Promise<string[]> {
  const { rows } = await db.pool.query<{ statement: string }>('select statement from pg_prepared_statements');
  return rows.map((r) => r.statement);
}

describe('the statements of a bulk submit', () => {
  it('rank and store a plain batch as the general statement does, after the same owner’s tasks', async () => {
    const webhook = { url: 'https://hooks.example.com/t' };
    const plain = await store.submitMany(
      [
        { kind: 'render', input: { n: 1 } },
        { kind: 'render', input: { n: 2 }, metadata: { team: 'a' }, webhook, maxAttempts: 5 },
      ],
      { owner: 'acme' },
    );
    expect((await prepared()).some((text) => text.includes('with base as materialized'))).toBe(true);
    // Keys take the general statement.
    const general = await store.submitMany(
      [
        { kind: 'render', input: { n: 3 }, idempotencyKey: 'k-3' },
        { kind: 'render', input: { n: 4 }, metadata: { team: 'a' }, webhook, maxAttempts: 5, idempotencyKey: 'k-4' },
      ],
      { owner: 'acme' },
    );
    expect((await prepared()).some((text) => text.includes('on conflict'))).toBe(true);
    const after = await store.submitMany([{ kind: 'render', input: { n: 5 } }], { owner: 'acme' });
    const other = await store.submitMany([{ kind: 'render' }, { kind: 'render' }], { owner: 'globex' });

    const acme = await rows([...plain, ...general, ...after].map((r) => r.task.id));
    expect(acme.map((r) => Number(r.fair_rank))).toEqual([0, 1, 2, 3, 4]);
    expect(decided(acme[0]!)).toEqual(decided(acme[2]!));
    expect(decided(acme[1]!)).toEqual(decided(acme[3]!));
    expect(acme.map((r) => r['input'])).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }]);
    expect(acme[1]).toMatchObject({ metadata: { team: 'a' }, webhook, max_attempts: 5 });
    // Another owner's first tasks start at the head of the queue, beside acme's first.
    expect((await rows(other.map((r) => r.task.id))).map((r) => Number(r.fair_rank))).toEqual([0, 1]);
    // What submitMany answered is what the table holds.
    for (const { task } of [...plain, ...general, ...after]) expect(await store.get(task.id)).toEqual(task);
  });

  it('leaves tasks that are not due yet unranked, and ranks the due ones of a mixed batch per kind', async () => {
    const later = new Date(Date.now() + 3_600_000);
    const batch = await store.submitMany(
      [{ kind: 'mixa' }, { kind: 'mixb' }, { kind: 'mixa', runAt: later }, { kind: 'mixa' }, { kind: 'mixb', priority: 5 }],
      { owner: 'initech' },
    );
    const stored = await rows(batch.map((r) => r.task.id));
    expect(stored.map((r) => (r.fair_rank === null ? null : Number(r.fair_rank)))).toEqual([0, 0, null, 1, 0]);
  });
});
