import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '@tasklane/db';

// Tests talk to a real API process, as users do; the package never imports from services/*.
const API_MAIN = fileURLToPath(new URL('../../../../services/api/src/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

export interface ApiProcess {
  port: number;
  /** http://127.0.0.1:<port> */
  origin: string;
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  /** ws://127.0.0.1:<port>/graphql */
  wsUrl: string;
  /** Everything the process printed, for failure messages. */
  output(): string;
  /** Kills the process at once (no graceful shutdown: sockets just drop) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts the process again on the same port and waits until it is ready. */
  restart(): Promise<void>;
  /** Stops it with SIGTERM and waits. */
  stop(): Promise<void>;
}

export interface ApiProcessOptions {
  databaseUrl: string;
  port?: number;
  env?: Record<string, string>;
}

/** Starts `services/api/src/main.ts` as a child process and resolves once /readyz answers. */
export async function startApiProcess({ databaseUrl, port: wanted, env = {} }: ApiProcessOptions): Promise<ApiProcess> {
  const port = wanted ?? (await freePort());
  const origin = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';

  const launch = async () => {
    const proc = spawn(process.execPath, ['--import', TSX, API_MAIN], {
      // Tests make up kinds and drive their tasks by hand, with no worker to register them.
      env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', TASK_KINDS: '*', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    await waitUntilReady(origin, proc, () => output);
  };

  const signal = async (name: NodeJS.Signals) => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill(name);
    await exited;
    child = undefined;
  };

  await launch();
  return {
    port,
    origin,
    url: `${origin}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    output: () => output,
    kill: () => signal('SIGKILL'),
    restart: launch,
    stop: () => signal('SIGTERM'),
  };
}

async function waitUntilReady(origin: string, proc: ChildProcess, output: () => string): Promise<void> {
  // Generous: on a busy 2-core machine, several test files start their API processes at once.
  const deadline = Date.now() + 150_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the API exited with ${proc.exitCode} before it was ready:\n${output().slice(-3000)}`);
    const ready = await fetch(`${origin}/readyz`).then((r) => r.ok, () => false);
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`the API on ${origin} was not ready within 150 s:\n${output().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
