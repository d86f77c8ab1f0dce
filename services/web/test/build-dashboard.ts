import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const WEB_DIR = fileURLToPath(new URL('..', import.meta.url));

/**
 * Builds the dashboard into `outDir` with this package's vite, in a child process so the build
 * does not share vitest's own vite instance. Tests build into a temporary folder and point the API
 * at it (TASKLANE_DASHBOARD_DIR), so they never race `pnpm start` over services/web/dist.
 */
export async function buildDashboard(outDir: string): Promise<void> {
  const manifest = createRequire(join(WEB_DIR, 'package.json')).resolve('vite/package.json');
  const bin = join(dirname(manifest), (JSON.parse(readFileSync(manifest, 'utf8')) as { bin: { vite: string } }).bin.vite);
  let output = '';
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: WEB_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`vite build exited with ${code}:\n${output}`);
}
