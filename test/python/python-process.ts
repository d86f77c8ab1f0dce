import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';
export const PACKAGE_DIR = fileURLToPath(new URL('../../clients/python', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('./fixtures', import.meta.url));

/**
 * Fails the calling test file at once, with what to install, when the machine's Python cannot run
 * the package (it needs `requests`): a missing module would otherwise surface as a hang or an
 * unreadable traceback deep in a test.
 */
export function requirePython(): void {
  const check = spawnSync(PYTHON, ['-c', 'import sys, requests; assert sys.version_info >= (3, 9)'], { encoding: 'utf8' });
  if (check.error || check.status !== 0) {
    throw new Error(
      `${PYTHON} with the requests package is needed for the Python package's tests ` +
        `(Debian: apt-get install python3-requests; .ci/run installs it): ${check.error?.message ?? check.stderr.trim()}`,
    );
  }
}

/** A JSON line a fixture printed: `{"event": "...", ...}`. */
export type PyEvent = { event: string } & Record<string, any>;

/** A Python process running one of the fixtures, with the package on its path. */
export class PythonProcess {
  readonly child: ChildProcess;
  readonly events: PyEvent[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private out = '';
  private err = '';
  private readonly waiters = new Set<() => void>();

  constructor(script: string, env: Record<string, string>, args: string[] = []) {
    this.child = spawn(PYTHON, ['-u', `${FIXTURES}/${script}`, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PYTHONPATH: PACKAGE_DIR, PYTHONDONTWRITEBYTECODE: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.out += chunk.toString();
      partial += chunk.toString();
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        try {
          this.events.push(JSON.parse(line) as PyEvent);
        } catch {
          // Not one of the fixture's event lines; it stays in the output for failure messages.
        }
      }
      for (const wake of [...this.waiters]) wake();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.err += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => {
      for (const wake of [...this.waiters]) wake();
      resolve({ code, signal });
    }));
  }

  output(): string {
    return `--- stdout\n${this.out.slice(-4000)}\n--- stderr\n${this.err.slice(-4000)}`;
  }

  /**
   * Resolves with the first event (already printed or to come) that matches; fails if the process
   * exits first, or after `waitMs` with what the process printed, so that a stuck step names itself
   * instead of running into the test's timeout.
   */
  event(predicate: (event: PyEvent) => boolean, what = 'an event', waitMs = 45_000): Promise<PyEvent> {
    return new Promise((resolve, reject) => {
      const done = (error?: Error, found?: PyEvent) => {
        this.waiters.delete(check);
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(found!);
      };
      const check = () => {
        const found = this.events.find(predicate);
        if (found) done(undefined, found);
        else if (this.child.exitCode !== null || this.child.signalCode !== null) done(new Error(`python exited before ${what}\n${this.output()}`));
      };
      const timer = setTimeout(() => done(new Error(`no ${what} from python within ${waitMs / 1000} s\n${this.output()}`)), waitMs);
      this.waiters.add(check);
      check();
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<unknown> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** Runs a Python command to its end; its exit code and output. */
export function runPython(args: string[], env: Record<string, string>, cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PYTHONDONTWRITEBYTECODE: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Submits a task over REST as the seed's clients do; answers its id. */
export async function submitOverRest(origin: string, kind: string, input: unknown): Promise<string> {
  const response = await fetch(`${origin}/api/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind, input }) });
  return ((await response.json()) as { task_id: string }).task_id;
}
