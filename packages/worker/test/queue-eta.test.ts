import { expect, it } from 'vitest';
import { queuePlaces } from '@tasklane/db';
import { useTestEnv, waitFor } from './helpers.ts';

const env = useTestEnv();
const caps = { total: 10, perKind: { video: 2 } };
const RUN_MS = 800;

it('estimates the start of a queued task within a factor of 2 of the real wait on a steady load', async () => {
  await env.worker({
    caps,
    handlers: { video: () => new Promise((resolve) => setTimeout(() => resolve(null), RUN_MS)) },
  });
  // Recent run times of the kind: the ETA is unknown until some have completed.
  const warmUp = await env.store.submitMany(Array.from({ length: 4 }, () => ({ kind: 'video' })));
  await waitFor(async () => (await env.store.getMany(warmUp.map((r) => r.task.id))).every((t) => t.status === 'completed'), {
    what: 'the warm-up tasks to complete',
  });

  const queued = await env.store.submitMany(Array.from({ length: 12 }, (_, i) => ({ kind: 'video', input: { i } })));
  const last = queued[11]!.task;
  await waitFor(async () => (await env.store.get(queued[1]!.task.id))?.status !== 'pending', { what: 'the load to start' });
  const asked = Date.now();
  const place = (await queuePlaces(env.pool, [(await env.store.get(last.id))!], caps)).get(last.id);
  expect(place?.waitingFor).toBe('VIDEO_MAX_CONCURRENT');
  expect(place?.etaSeconds).not.toBeNull();
  const started = await waitFor(async () => (await env.store.get(last.id))?.startedAt, { what: 'the last task to start', timeoutMs: 60_000 });
  const realSeconds = (started.getTime() - asked) / 1000;
  const eta = place!.etaSeconds!;
  // Seconds are whole: allow the rounding on top of the factor.
  expect(eta).toBeGreaterThanOrEqual(Math.floor(realSeconds / 2));
  expect(eta).toBeLessThanOrEqual(Math.ceil(realSeconds * 2));
});
