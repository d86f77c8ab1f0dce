import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient, startEmbeddedPostgres } from '@tasklane/db';

const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

export interface Launched {
  child: ChildProcess;
  output: () => string;
  /** Resolves once the output contains `text`; rejects if the launcher exits first. */
  printed(text: string): Promise<void>;
  exited: Promise<number | null>;
  /** Every output line that is a JSON object. */
  jsonLines(): Record<string, unknown>[];
}

/**
 * `tasklane start` (or another command) as a user runs it, in a process group of its own as a
 * terminal would make it: a signal to `-pid` reaches the launcher and every service, like Ctrl-C.
 */
export function launch(args: string[], env: Record<string, string | undefined>): Launched {
  const cleanEnv: Record<string, string | undefined> = { ...process.env, LOG_FORMAT: undefined, ...env };
  for (const [key, value] of Object.entries(cleanEnv)) if (value === undefined) delete cleanEnv[key];
  const child = spawn(process.execPath, ['--import', TSX, BIN, ...args], { env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const watchers: { text: string; resolve: () => void }[] = [];
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const w of watchers.filter((w) => output.includes(w.text))) w.resolve();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    printed(text) {
      if (output.includes(text)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        watchers.push({ text, resolve });
        void exited.then(() => !output.includes(text) && reject(new Error(`exited without printing "${text}":\n${output.slice(-3000)}`)));
      });
    },
    jsonLines: () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** Signals the launcher's whole process group, as Ctrl-C in a terminal or systemd's stop does. */
export function signalGroup(launched: Launched, signal: NodeJS.Signals): void {
  process.kill(-launched.child.pid!, signal);
}

export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export interface TaskRow {
  id: string;
  status: string;
  attempts: number;
}

/**
 * The tasks' rows, read from the database the launcher used after it has exited: the given
 * DATABASE_URL, or the embedded cluster in `dataDir`, started again for the reading.
 */
export async function readTasks(ids: string[], databaseUrl: string | undefined, dataDir: string): Promise<TaskRow[]> {
  const embedded = databaseUrl ? undefined : await startEmbeddedPostgres({ dataDir });
  const client = createClient(databaseUrl ?? embedded!.url, 'tasklane-start-test');
  await client.connect();
  try {
    const { rows } = await client.query<TaskRow>('select id, status, attempts from tasklane.tasks where id = any($1) order by id', [ids]);
    return rows;
  } finally {
    await client.end();
    await embedded?.stop();
  }
}

/** Every process in a process group, as `ps` sees it. */
export function processGroup(pgid: number): { pid: number; comm: string }[] {
  const ps = spawnSync('ps', ['-o', 'pid=,comm=', '-g', String(pgid)], { encoding: 'utf8' });
  return (ps.stdout ?? '')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((parts) => parts.length === 2)
    .map(([pid, comm]) => ({ pid: Number(pid), comm: comm! }));
}

export function processGroupOf(pid: number): number {
  return Number(spawnSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim());
}
