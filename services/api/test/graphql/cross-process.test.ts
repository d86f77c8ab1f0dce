import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FOLLOW, startTestServer, submit, until, type TestServer } from './test-server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const driver = fileURLToPath(new URL('./fixtures/drive-task.ts', import.meta.url));

describe('changes made elsewhere', () => {
  it('reach subscribers when another process changes the task', async () => {
    const task = await submit(server, { kind: 'xproc' });
    const iterator = server.ws().iterate({ query: FOLLOW, variables: { id: task['id'] } });
    const next = async () => (await iterator.next()).value?.data?.taskUpdated;
    expect(await next()).toMatchObject({ status: 'PENDING', version: 1 });

    const child = spawn(process.execPath, ['--import', 'tsx', driver, server.db.url, 'xproc'], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const said = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    try {
      expect((await said.next()).value).toBe('claimed');
      expect(await next()).toMatchObject({ status: 'PROCESSING', version: 2 });
      child.stdin.write('go\n');
      expect((await said.next()).value).toBe('progressed');
      expect(await next()).toMatchObject({ status: 'PROCESSING', progress: 55, message: 'Halfway, from another process', version: 3 });
      child.stdin.write('go\n');
      expect(await next()).toMatchObject({ status: 'COMPLETED', result: { from: 'child' }, version: 4 });
      expect((await iterator.next()).done).toBe(true);
      expect(await exited).toBe(0);
    } finally {
      child.kill();
    }
  });

  it('delivers every terminal state when the LISTEN connection is killed while tasks run', async () => {
    const { worker } = server;
    const client = server.ws();
    const followers = [];
    for (let i = 0; i < 6; i++) {
      const task = await submit(server, { kind: 'killed_listen', input: { i } });
      const iterator = client.iterate({ query: FOLLOW, variables: { id: task['id'] } });
      expect((await iterator.next()).value?.data?.taskUpdated).toMatchObject({ status: 'PENDING' });
      followers.push({ id: task['id'] as string, iterator });
    }
    const held = [];
    for (let i = 0; i < 6; i++) held.push(await worker.claim('killed_listen'));

    const killed = await server.ctx.pool.query(
      `select pg_terminate_backend(pid) as killed from pg_stat_activity
       where application_name = 'tasklane-listen' and datname = current_database()`,
    );
    expect(killed.rows).toEqual([{ killed: true }]);
    await until(() => !server.ctx.bus.connected, 'the API to notice the lost LISTEN connection');

    // Finish every task while nobody listens: their notifications are lost for good.
    await worker.complete(held[0]!, { n: 0 });
    await worker.complete(held[1]!, { n: 1 });
    await worker.fail(held[2]!, { type: 'VideoGenerationError', message: 'Content policy violation', retryable: false });
    await worker.fail(held[3]!, { type: 'VideoGenerationError', message: 'Content policy violation', retryable: false });
    await server.ctx.store.cancel(held[4]!.id);
    await server.ctx.store.cancel(held[5]!.id);
    const expected = ['COMPLETED', 'COMPLETED', 'FAILED', 'FAILED', 'CANCELLED', 'CANCELLED'];

    const finals = await Promise.all(
      followers.map(async ({ iterator }) => {
        let last: Record<string, any> | undefined;
        for await (const result of iterator) last = result.data?.taskUpdated as Record<string, any>;
        return last;
      }),
    );
    expect(finals.map((task) => task?.['status'])).toEqual(expected);
    expect(finals.map((task) => task?.['id'])).toEqual(followers.map((f) => f.id));
    expect(finals[2]?.['error']).toEqual({ type: 'VideoGenerationError', message: 'Content policy violation', retryable: false });
    expect(server.ctx.bus.connected).toBe(true);
  });
});
