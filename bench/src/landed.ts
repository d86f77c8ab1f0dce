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

export const API_MAIN = path.join(REPO_ROOT, 'services', 'api', 'src', 'main.ts');

export function apiMainMissing(): string | undefined {
  return existsSync(API_MAIN) ? undefined : 'services/api/src/main.ts not there yet';
}
