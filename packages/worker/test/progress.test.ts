import { expect, it } from 'vitest';
import { deferred, useTestEnv, waitFor } from './helpers.ts';

const env = useTestEnv();

async function version(id: string): Promise<number> {
  return (await env.store.get(id))!.version;
}

it('turns a burst of 1,000 progress calls into a few writes, and the last value lands', async () => {
  const release = deferred();
  const claimedVersion = deferred<number>();
  await env.worker({
    handlers: {
      burst: async (task, ctx) => {
        claimedVersion.resolve(task.version);
        for (let i = 1; i < 1000; i++) ctx.progress(i / 20, i % 100 === 0 ? `step ${i}` : undefined);
        ctx.progress(77, 'burst done');
        await release.promise;
        return null;
      },
    },
  });
  const { task } = await env.store.submit({ kind: 'burst' });
  const start = await claimedVersion.promise;
  await waitFor(async () => {
    const t = await env.store.get(task.id);
    return t?.progress === 77 && t.message === 'burst done';
  }, { what: 'the last progress to land' });
  // Let any stray trailing write land before counting.
  await new Promise((resolve) => setTimeout(resolve, 600));
  const writes = (await version(task.id)) - start;
  expect(writes).toBeGreaterThanOrEqual(1);
  expect(writes).toBeLessThanOrEqual(3);
  release.resolve();
  await waitFor(async () => (await env.store.get(task.id))?.status === 'completed', { what: 'completion' });
  expect(await env.store.get(task.id)).toMatchObject({ progress: 100, message: 'Task completed successfully' });
});

it('writes a paced stream at most a few times per second', async () => {
  const claimedVersion = deferred<number>();
  let elapsedMs = 0;
  const finished = deferred();
  await env.worker({
    handlers: {
      paced: async (task, ctx) => {
        claimedVersion.resolve(task.version);
        const began = performance.now();
        for (let i = 1; i <= 40; i++) {
          ctx.progress(i * 2, `step ${i}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        elapsedMs = performance.now() - began;
        finished.resolve();
        await new Promise((resolve) => setTimeout(resolve, 600));
        return null;
      },
    },
  });
  const { task } = await env.store.submit({ kind: 'paced' });
  const start = await claimedVersion.promise;
  await finished.promise;
  await waitFor(async () => (await env.store.get(task.id))?.progress === 80, { what: 'the last value to land' });
  const writes = (await version(task.id)) - start;
  // One write per 250 ms window, plus the immediate first one and the trailing last one.
  expect(writes).toBeLessThanOrEqual(Math.ceil(elapsedMs / 250) + 2);
  expect(writes).toBeLessThan(40);
});
