import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

export interface CliRun {
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout contains `text`. */
  printed(text: string): Promise<void>;
}

/** Runs `tasklane <args>` as a user would, with pipes (not a terminal) for output. */
export function tasklane(args: string[], env: Record<string, string> = {}, stdin?: string): CliRun {
  const child = spawn(process.execPath, ['--import', TSX, BIN, ...args], {
    env: { ...process.env, TASKLANE_URL: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end(stdin ?? '');
  let stdout = '';
  let stderr = '';
  const watchers: { text: string; resolve: () => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const w of watchers.filter((w) => stdout.includes(w.text))) w.resolve();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    printed(text) {
      if (stdout.includes(text)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        watchers.push({ text, resolve });
        void exited.then(() => !stdout.includes(text) && reject(new Error(`exited without printing "${text}":\n${stdout}\n${stderr}`)));
      });
    },
  };
}

/** Runs to the end and returns code and output. */
export async function run(args: string[], env: Record<string, string> = {}, stdin?: string) {
  const cli = tasklane(args, env, stdin);
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}
