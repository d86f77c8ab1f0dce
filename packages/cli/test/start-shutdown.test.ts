import { describe, expect, it } from 'vitest';
import { launch, readTasks, signalGroup, until } from './launcher.ts';
import { startSetup, status, submit, withOutput } from './start-setup.ts';

describe('tasklane start, stopped with tasks running', () => {
  const setup = startSetup();

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'on %s to its process group with tasks running: the worker finishes or releases them, then the API stops, then Postgres',
    async (signal) => {
      const { env, base, dataDir, databaseUrl } = await setup({ SHUTDOWN_GRACE_SECONDS: '10' });
      const launched = launch(['start'], env);
      await withOutput([launched], async () => {
        await launched.printed('"msg":"tasklane started"');
        const long = [await submit(base, { duration_seconds: 600 }), await submit(base, { duration_seconds: 600 })];
        const short = await submit(base, { duration_seconds: 3 });
        await until('all three running', async () => ((await Promise.all([...long, short].map((id) => status(base, id)))).every((s) => s === 'processing') ? true : undefined));
        signalGroup(launched, signal);
        expect(await launched.exited).toBe(0);

        const rows = await readTasks([...long, short], databaseUrl, dataDir);
        expect(rows.filter((row) => row.status === 'processing')).toEqual([]);
        // The short one finished within the grace; the long ones went back without spending an attempt.
        expect(rows.find((row) => row.id === short)).toMatchObject({ status: 'completed' });
        expect(rows.filter((row) => long.includes(row.id))).toEqual(long.sort().map((id) => ({ id, status: 'pending', attempts: 0 })));

        const messages = launched.jsonLines().map((line) => `${String(line.service)}: ${String(line.msg)}`);
        const at = (message: string) => {
          const index = messages.indexOf(message);
          expect(index, `"${message}" in the log`).toBeGreaterThanOrEqual(0);
          return index;
        };
        expect(at('worker: worker stopped')).toBeLessThan(at('api: stopping api'));
        expect(at('api: stopping api')).toBeLessThan(at('launcher: stopped'));
      });
    },
    240_000,
  );

  it('on a second SIGTERM to the launcher alone, forces a fast stop, says so, and still releases the running tasks', async () => {
    // A grace far longer than the test: only the second signal can end it in time.
    const { env, base, dataDir, databaseUrl } = await setup({ SHUTDOWN_GRACE_SECONDS: '3600' });
    const launched = launch(['start'], env);
    await withOutput([launched], async () => {
      await launched.printed('"msg":"tasklane started"');
      const ids = [await submit(base, { duration_seconds: 600 }), await submit(base, { duration_seconds: 600 }), await submit(base, { duration_seconds: 600 })];
      await until('all three running', async () => ((await Promise.all(ids.map((id) => status(base, id)))).every((s) => s === 'processing') ? true : undefined));
      launched.child.kill('SIGTERM');
      await launched.printed('"msg":"worker stopping"');
      launched.child.kill('SIGTERM');
      await launched.printed('forcing a fast stop');
      expect(await launched.exited).toBe(0);
      const rows = await readTasks(ids, databaseUrl, dataDir);
      expect(rows).toEqual(ids.sort().map((id) => ({ id, status: 'pending', attempts: 0 })));
    });
  }, 240_000);
});
