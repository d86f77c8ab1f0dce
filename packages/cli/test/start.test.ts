import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { freePort } from '@tasklane/db';
import { launch, processGroup, processGroupOf, signalGroup, until } from './launcher.ts';
import { startSetup, status, submit, withOutput } from './start-setup.ts';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Whether the postgres OS user can traverse every folder down to `dir`. */
function canEnter(dir: string): boolean {
  return spawnSync('su', ['-s', '/bin/sh', 'postgres', '-c', `test -x "${dir}"`]).status === 0;
}

describe('tasklane start', () => {
  const setup = startSetup();

  it('says "started" only once the API answers, logs one JSON format from every process, and finds its tasks after a restart', async () => {
    // In the project, as `.tasklane` is: in CI's clone inside a 0700 folder, as root, the postgres
    // OS user cannot enter it, and the launcher must keep the cluster elsewhere and say where.
    const { env, base, dataDir } = await setup({}, REPO_ROOT);
    const first = launch(['start'], env);
    onTestFinished(async () => {
      const started = first.jsonLines().find((line) => line.msg === 'embedded postgres started');
      const cluster = typeof started?.dataDir === 'string' ? started.dataDir : undefined;
      if (cluster && !cluster.startsWith(dataDir)) await rm(path.dirname(cluster), { recursive: true, force: true });
      await rm(dataDir, { recursive: true, force: true });
    });
    await withOutput([first], async () => {
      await first.printed('"msg":"tasklane started"');
      const started = first.jsonLines().find((line) => line.msg === 'embedded postgres started');
      if (started && process.getuid?.() === 0 && !canEnter(REPO_ROOT)) expect(started.why).toMatch(/^the postgres OS user cannot enter .+, so its cluster is kept in .+$/);
      // No retry: the line promises that the API is listening now.
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const id = await submit(base, { prompt: 'a cat', duration_seconds: 0.5 }, 'video');
      await until('completion', async () => ((await status(base, id)) === 'completed' ? true : undefined));
      for (let i = 0; i < 5; i++) await fetch(`${base}/api/v1/tasks/${id}`);

      signalGroup(first, 'SIGINT');
      expect(await first.exited).toBe(0);
      const lines = first.jsonLines();
      expect(new Set(lines.map((line) => line.service))).toEqual(new Set(['launcher', 'api', 'worker']));
      for (const line of lines) {
        expect(LEVELS).toContain(line.level);
        expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(typeof line.pid).toBe('number');
        expect(typeof line.msg).toBe('string');
      }
      // Every stdout line is one of those: nothing in another format, no request lines at info.
      expect(first.output().split('\n').filter((line) => line.startsWith('{')).length).toBe(lines.length);
      expect(lines.filter((line) => line.service === 'api' && line.level === 'info' && /request/.test(String(line.msg)))).toEqual([]);

      const second = launch(['start'], env);
      await withOutput([second], async () => {
        await second.printed('"msg":"tasklane started"');
        expect(await status(base, id)).toBe('completed');
        signalGroup(second, 'SIGINT');
        expect(await second.exited).toBe(0);
      });
    });
  }, 240_000);

  it.skipIf(process.env.DATABASE_URL !== undefined)('refuses a second Tasklane on the same data folder, naming the running one', async () => {
    const { env, port } = await setup();
    const first = launch(['start'], env);
    await withOutput([first], async () => {
      await first.printed('"msg":"tasklane started"');
      const second = launch(['start'], { ...env, PORT: String(await freePort()) });
      await withOutput([second], async () => {
        expect(await second.exited).toBe(1);
        expect(second.output().trim()).toBe(
          `tasklane: Tasklane is already running on data folder ${env.TASKLANE_DATA_DIR} (pid ${first.child.pid}, port ${port}); stop it first, or set TASKLANE_DATA_DIR to another folder`,
        );
      });
      signalGroup(first, 'SIGINT');
      expect(await first.exited).toBe(0);
    });
  }, 240_000);

  it.skipIf(process.env.DATABASE_URL !== undefined)(
    'starts right after a kill -9 of everything, waiting for the left-over Postgres with a line saying why',
    async () => {
      const { env, base, dataDir } = await setup();
      const first = launch(['start'], env);
      await withOutput([first], async () => {
        await first.printed('"msg":"tasklane started"');
        const id = await submit(base, { duration_seconds: 0.1 });
        await until('completion', async () => ((await status(base, id)) === 'completed' ? true : undefined));
        const postmaster = Number(readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
        // Everything: the launcher's group, and the watchdog that would stop the server later.
        const serverGroup = processGroupOf(postmaster);
        signalGroup(first, 'SIGKILL');
        for (const proc of processGroup(serverGroup)) if (proc.comm === 'sh' || proc.comm === 'sleep') process.kill(proc.pid, 'SIGKILL');
        await first.exited;
        expect(processGroup(serverGroup).map((proc) => proc.pid)).toContain(postmaster);

        const second = launch(['start'], env);
        await withOutput([second], async () => {
          await second.printed('"msg":"tasklane started"');
          expect(second.output()).toContain(`waiting for the embedded Postgres of a previous run (pid ${postmaster}) to stop`);
          expect(await status(base, id)).toBe('completed');
          signalGroup(second, 'SIGINT');
          expect(await second.exited).toBe(0);
        });
      });
    },
    240_000,
  );

  it('with its port taken: one line naming the port and the fix, a non-zero exit, nothing left running', async () => {
    const { env, port, dataDir } = await setup();
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      const run = launch(['start'], env);
      expect(await run.exited).toBe(1);
      const lines = run.output().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({
        level: 'error',
        service: 'launcher',
        msg: `port ${port} is already in use on 127.0.0.1; stop the program holding it, or set PORT to another port (PORT=${port + 1})`,
      });
      expect(processGroup(run.child.pid!)).toEqual([]);
      expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
    } finally {
      holder.close();
    }
  });

  it('refuses a bad setting with one clear line and exit code 2', async () => {
    const { env } = await setup();
    const run = launch(['start'], { ...env, VIDEO_MAX_CONCURRENT: 'lots' });
    expect(await run.exited).toBe(2);
    expect(run.output().trim()).toBe('tasklane: Invalid VIDEO_MAX_CONCURRENT="lots": expected a whole number from 1 to 1000000');
  });

  it('refuses an unknown command with usage and exit code 4', async () => {
    const { env } = await setup();
    const run = launch(['frobnicate'], env);
    expect(await run.exited).toBe(4);
    expect(run.output()).toContain('unknown command "frobnicate"');
  });
});
