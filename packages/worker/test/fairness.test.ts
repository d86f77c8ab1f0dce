import { expect, it } from 'vitest';
import { useTestEnv, waitFor } from './helpers.ts';

const env = useTestEnv();

it("starts owner B's one video task among the next two while owner A's 200 wait (VIDEO_MAX_CONCURRENT=2)", async () => {
  const started: { id: string; owner: string }[] = [];
  const releases: (() => void)[] = [];
  await env.worker({
    caps: { total: 10, perKind: { video: 2 } },
    handlers: {
      video: (task) =>
        new Promise((resolve) => {
          started.push({ id: task.id, owner: task.owner });
          releases.push(() => resolve(null));
        }),
    },
  });
  await env.store.submitMany(Array.from({ length: 200 }, (_, i) => ({ kind: 'video', input: { i } })), { owner: 'owner-a' });
  await waitFor(() => started.length === 2, { what: "two of owner A's tasks to start" });
  const { task: b } = await env.store.submit({ kind: 'video' }, { owner: 'owner-b' });
  releases.splice(0).forEach((release) => release());
  await waitFor(() => started.length === 4, { what: 'the next two tasks to start' });
  expect(started.slice(0, 2).map((s) => s.owner)).toEqual(['owner-a', 'owner-a']);
  expect(started.slice(2).map((s) => s.id)).toContain(b.id);
  releases.splice(0).forEach((release) => release());
});
