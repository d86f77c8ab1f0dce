import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const API_MAIN = fileURLToPath(new URL('../../services/api/src/main.ts', import.meta.url));
export const WORKER_MAIN = fileURLToPath(new URL('../../services/worker/src/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** Settings the test must control; inherited values would change what the processes do. */
const CONTROLLED = /^(DATABASE_URL|PORT|HOST|LOG_LEVEL|EVENT_BUS|REDIS_URL|AUTH|WORKER_CONCURRENCY|LEASE_SECONDS|.*_MAX_CONCURRENT|MAX_CONCURRENT_TASKS|TASK_STORAGE_BACKEND|TASK_KINDS|.*DATABASE_URL)$/;

/** One real Tasklane process (`node --import tsx <main>`), with its output kept for the checks. */
export class Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private out = '';
  private err = '';
  exitCode: number | null | undefined;
  exitSignal: NodeJS.Signals | null | undefined;

  constructor(
    readonly name: string,
    main: string,
    env: Record<string, string>,
  ) {
    const base: Record<string, string | undefined> = { ...process.env };
    for (const key of Object.keys(base)) if (CONTROLLED.test(key)) delete base[key];
    this.child = spawn(process.execPath, ['--import', TSX, main], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.out += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.err += chunk.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        resolve({ code, signal });
      }),
    );
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  /** The JSON lines the process logged (workers log one object per line; pino does too). */
  jsonLines(): Record<string, unknown>[] {
    const lines: Record<string, unknown>[] = [];
    for (const line of this.out.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // A line cut by SIGKILL mid-write.
      }
    }
    return lines;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** The last lines of output, for a failure message. */
  tail(lines = 20): string {
    return `${this.name} stdout:\n${this.out.split('\n').slice(-lines).join('\n')}\n${this.name} stderr:\n${this.err.split('\n').slice(-lines).join('\n')}`;
  }
}

export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined;
    try {
      value = await probe();
    } catch {
      value = undefined;
    }
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `/readyz` answers 200. */
export async function waitReady(base: string, timeoutMs = 60_000): Promise<void> {
  await until(`${base}/readyz`, async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined), timeoutMs);
}

/** Stops every process still running: SIGTERM, then SIGKILL for any that does not exit. */
export async function stopAll(procs: Iterable<Proc>, graceMs = 15_000): Promise<void> {
  const list = [...procs].filter((p) => p.running);
  for (const p of list) p.kill('SIGTERM');
  await Promise.all(
    list.map(async (p) => {
      const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
      await p.exited;
      clearTimeout(timer);
    }),
  );
}

/** Writes every process's output to files, for reading after a failure; returns the folder. */
export function saveLogs(procs: Iterable<Proc>, label: string): string {
  const dir = path.join(tmpdir(), `tasklane-${label}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  let n = 0;
  for (const p of procs) {
    n++;
    writeFileSync(path.join(dir, `${n}-${p.name}.out.log`), p.stdout);
    writeFileSync(path.join(dir, `${n}-${p.name}.err.log`), p.stderr);
  }
  return dir;
}
