import { afterAll, beforeAll, expect, it } from 'vitest';
import { queueMessage, ValidationError, type ConcurrencyCaps } from '@tasklane/core';
import { createPool, KindRegistry, queuePlaces, TaskStore, WorkerStore } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

let database: TestDatabase;
let pool: ReturnType<typeof createPool>;
let store: TaskStore;
const pools: ReturnType<typeof createPool>[] = [];
const caps: ConcurrencyCaps = { total: 1000, perKind: {} };

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool({ connectionString: database.url });
  store = new TaskStore(pool);
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await pool.end();
  await database.drop();
});

/** A pool of its own: what another API or worker process (or this one after a restart) has. */
function newPool(): ReturnType<typeof createPool> {
  const made = createPool({ connectionString: database.url });
  pools.push(made);
  return made;
}

/** A registry that knows `kinds` because a worker serving them registered them. */
async function registryServing(kinds: string[], registryPool = pool): Promise<KindRegistry> {
  await new WorkerStore(registryPool, { workerId: `registrar-${kinds.join('-')}`, leaseSeconds: 60, kinds }).heartbeat([]);
  return new KindRegistry(registryPool);
}

async function statuses(kind: string): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ status: string; n: number }>('select status, count(*)::int as n from tasklane.tasks where kind = $1 group by status', [kind]);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

it('keeps a paused kind pending while racing workers claim the other kinds, lets its running task finish, and resumes', async () => {
  const registry = await registryServing(['race_paused', 'race_open']);
  // One task of the kind runs before the pause: it must finish normally.
  const { task: running } = await store.submit({ kind: 'race_paused' });
  const early = new WorkerStore(pool, { workerId: 'w-early', leaseSeconds: 60 });
  const [claimedEarly] = await early.claim(1, ['race_paused'], caps);
  expect(claimedEarly!.id).toBe(running.id);

  const paused = await registry.pause('race_paused', 'ops');
  expect(paused).toMatchObject({ kind: 'race_paused', paused: true, registered: true });
  expect(paused.pausedAt).toBeInstanceOf(Date);

  await store.submitMany([...Array.from({ length: 20 }, () => ({ kind: 'race_paused' })), ...Array.from({ length: 20 }, () => ({ kind: 'race_open' }))]);
  // Eight workers, each on a pool of its own, claim both kinds at once until nothing is left.
  const workers = Array.from({ length: 8 }, (_, i) => new WorkerStore(newPool(), { workerId: `w-race-${i}`, leaseSeconds: 60 }));
  const claimed = (
    await Promise.all(
      workers.map(async (worker) => {
        const mine = [];
        for (;;) {
          const batch = await worker.claim(3, ['race_paused', 'race_open'], caps);
          if (batch.length === 0) return mine;
          mine.push(...batch);
        }
      }),
    )
  ).flat();
  expect(claimed.map((t) => t.kind).sort()).toEqual(Array.from({ length: 20 }, () => 'race_open'));
  expect(await statuses('race_paused')).toEqual({ pending: 20, processing: 1 });

  // The running task of the paused kind completes as any other.
  expect(await early.complete([{ id: running.id, attempt: claimedEarly!.attempts, result: { ok: true } }])).toEqual(new Set([running.id]));
  expect(await statuses('race_paused')).toEqual({ pending: 20, completed: 1 });

  // Pausing again changes nothing, the first pause's time included.
  expect((await registry.pause('race_paused', 'someone-else')).pausedAt).toEqual(paused.pausedAt);

  const resumed = await registry.resume('race_paused');
  expect(resumed).toMatchObject({ kind: 'race_paused', paused: false, pausedAt: null });
  expect(await registry.resume('race_paused')).toMatchObject({ paused: false });
  const after = await workers[0]!.claim(50, ['race_paused', 'race_open'], caps);
  expect(after.map((t) => t.kind)).toEqual(Array.from({ length: 20 }, () => 'race_paused'));
});

it('keeps the pause in the database: a new registry and new workers on new pools see it', async () => {
  await (await registryServing(['kept_paused'])).pause('kept_paused', 'ops');
  const { task } = await store.submit({ kind: 'kept_paused' });

  const restartedPool = newPool();
  const restarted = new KindRegistry(restartedPool);
  expect(await restarted.isPaused('kept_paused')).toBe(true);
  expect((await restarted.statuses()).find((k) => k.kind === 'kept_paused')).toMatchObject({ paused: true, registered: true });
  const worker = new WorkerStore(restartedPool, { workerId: 'w-restarted', leaseSeconds: 60 });
  expect(await worker.claim(5, ['kept_paused'], caps)).toEqual([]);

  await restarted.resume('kept_paused');
  expect((await worker.claim(5, ['kept_paused'], caps)).map((t) => t.id)).toEqual([task.id]);
});

it('says a pending task of a paused kind waits for the pause, in its queue place and its message', async () => {
  const registry = await registryServing(['place_paused']);
  const { task } = await store.submit({ kind: 'place_paused' });
  const { task: later } = await store.submit({ kind: 'place_paused', runAt: new Date(Date.now() + 120_000) });
  await registry.pause('place_paused', 'ops');

  const places = await queuePlaces(pool, [task, later], caps);
  const place = places.get(task.id)!;
  expect(place).toMatchObject({ waitingFor: 'paused', etaSeconds: null, cap: null, position: 1, ahead: 0 });
  expect(queueMessage(place, 'place_paused')).toBe('Waiting: kind place_paused is paused');
  // Paused first even before it is due: it will not start when it is.
  expect(places.get(later.id)).toMatchObject({ waitingFor: 'paused', position: null });

  await registry.resume('place_paused');
  expect((await queuePlaces(pool, [task], caps)).get(task.id)!.waitingFor).not.toBe('paused');
});

it('refuses to pause a kind nothing serves or declares, as a submission of it is refused', async () => {
  const registry = await registryServing(['known_kind']);
  const error = await registry.pause('unknwon_kind', 'ops').then(
    () => expect.fail('expected a ValidationError'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  expect(error).toMatchObject({ field: 'kind' });
  expect((error as ValidationError).message).toContain('no worker serves "unknwon_kind"');
  expect((await registry.statuses()).some((k) => k.kind === 'unknwon_kind')).toBe(false);
  // A declared kind no worker has registered yet can be paused before its workers start.
  expect(await new KindRegistry(pool, { declared: ['declared_kind'] }).pause('declared_kind', 'ops')).toMatchObject({ paused: true, declared: true, registered: false });
});

it('holds for the previous release\'s claim_batch too, which calls claim_fair', async () => {
  await (await registryServing(['batch_paused'])).pause('batch_paused', 'ops');
  await store.submit({ kind: 'batch_paused' });
  const { rows } = await pool.query('select * from tasklane.claim_batch($1, 5, $2::text[], 1000, $3::jsonb, 30, true)', ['w-old-release', ['batch_paused'], '{}']);
  expect(rows).toEqual([]);
  expect(await statuses('batch_paused')).toEqual({ pending: 1 });
});
