import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The monorepo root (bench/src/../..). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

type WorkerModule = typeof import('@tasklane/worker');

/** The worker runtime, or a reason it is not there yet. */
export async function loadWorkerRuntime(): Promise<WorkerModule | string> {
  try {
    const mod = (await import('@tasklane/worker')) as WorkerModule;
    if (typeof mod.createWorker !== 'function') return '@tasklane/worker has no createWorker yet';
    return mod;
  } catch (error) {
    return `@tasklane/worker not available: ${(error as Error).message.split('\n')[0]}`;
  }
}

/**
 * Resolves `@tasklane/*` imports to the packages' compiled `dist`, as the Docker image does. `pnpm
 * bench` builds them first and runs itself (so the in-process workers) and the API this way:
 * the figures are those of what ships. Under tsx, every closure our sources create also gets a
 * `__name` call that turns the function's properties into a dictionary (esbuild's keepNames),
 * which a deployment never pays.
 */
export const DIST_CONDITION = '--conditions=@tasklane/dist';

/** The API's compiled entry point (`pnpm bench` builds it). */
export const API_MAIN = path.join(REPO_ROOT, 'services', 'api', 'dist', 'main.js');

export function apiMainMissing(): string | undefined {
  return existsSync(API_MAIN) ? undefined : 'services/api/dist/main.js is not built: run `pnpm bench`, which builds it, or `pnpm turbo run build --filter=@tasklane/api...`';
}
