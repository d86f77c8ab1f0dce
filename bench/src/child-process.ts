import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort } from '@tasklane/db';
import { DIST_CONDITION, REPO_ROOT } from './landed.ts';
import { sleep } from './stats.ts';

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  baseUrl: string;
  /** Resident set size of the process now, in KB (from /proc). */
  rssKb(): number;
  /** The inspector's WebSocket URL, when `nodeArgs` included `--inspect=127.0.0.1:0`. */
  inspectorUrl(): string | undefined;
  stop(): Promise<void>;
}

/**
 * Starts an entry point as a deployment would and waits for `readyPath`: compiled JavaScript (the
 * API's `dist`, the peers' plain servers) with plain `node` and the `@tasklane/dist` condition, as
 * the image runs it; a TypeScript one with `node --import tsx`. `nodeArgs` go before the entry
 * (e.g. `--cpu-prof`, which NODE_OPTIONS refuses).
 */
export async function startServerProcess(entry: string, env: Record<string, string>, readyPath: string, nodeArgs: readonly string[] = []): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, ...(entry.endsWith('.ts') ? ['--import', 'tsx'] : [DIST_CONDITION]), entry], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let inspector: string | undefined;
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
    inspector ??= /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1];
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(baseUrl + readyPath);
      if (res.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${entry} did not answer ${readyPath} within 60 s: ${stderr}`);
    }
    await sleep(100);
  }
  return {
    child,
    port,
    baseUrl,
    inspectorUrl: () => inspector,
    rssKb() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const match = /VmRSS:\s+(\d+)/.exec(status);
      return match ? Number(match[1]) : Number.NaN;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
