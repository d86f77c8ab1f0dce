import path from 'node:path';
import { openBenchDatabase } from './database.ts';
import { REPO_ROOT } from './landed.ts';
import { describeMachine, renderTable, writeResults } from './report.ts';
import { SkipScenario, type BenchContext, type Scenario, type ScenarioResult } from './types.ts';
import { throughput } from './scenarios/throughput.ts';
import { latency } from './scenarios/latency.ts';
import { reads } from './scenarios/reads.ts';
import { fanout } from './scenarios/fanout.ts';
import { history } from './scenarios/history.ts';
import { longRunning } from './scenarios/long-running.ts';
import { webhooks } from './scenarios/webhooks.ts';
import { httpWorkers } from './scenarios/http-workers.ts';
import { backlog } from './scenarios/backlog.ts';

const SCENARIOS: Record<string, Scenario> = {
  throughput,
  latency,
  reads,
  fanout,
  history,
  'long-running': longRunning,
  webhooks,
  'http-workers': httpWorkers,
  backlog,
};

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const unknown = args.filter((a) => !(a in SCENARIOS));
  if (unknown.length > 0) {
    console.error(`unknown scenario ${unknown.join(', ')}; choose from ${Object.keys(SCENARIOS).join(', ')}`);
    return 2;
  }
  const names = args.length > 0 ? args : Object.keys(SCENARIOS);
  const quick = process.env.BENCH_QUICK === '1' || process.env.BENCH_QUICK === 'true';
  const startedAt = new Date();
  const db = await openBenchDatabase(log);
  const ctx: BenchContext = { quick, adminUrl: db.adminUrl, freshDatabase: (label) => db.create(label), log };
  const results: ScenarioResult[] = [];
  let broken = false;
  try {
    for (const name of names) {
      const result: ScenarioResult = { name, status: 'ok', figures: {}, peers: {}, ratios: [], params: {}, notes: [], seconds: 0 };
      const t0 = performance.now();
      log(`${name}: start${quick ? ' (quick)' : ''}`);
      try {
        await SCENARIOS[name]!(ctx, result);
      } catch (error) {
        if (error instanceof SkipScenario) {
          result.status = 'skipped';
          result.reason = error.message;
        } else {
          broken = true;
          result.status = 'error';
          result.reason = (error as Error).stack ?? String(error);
          log(`${name}: ERROR ${result.reason}`);
        }
      }
      result.seconds = (performance.now() - t0) / 1000;
      log(`${name}: ${result.status} in ${result.seconds.toFixed(1)} s`);
      results.push(result);
    }
  } finally {
    const machine = describeMachine(db.serverVersion, db.embedded);
    await db.close();
    const file = writeResults(path.join(REPO_ROOT, 'bench', 'results'), {
      started_at: startedAt.toISOString(),
      finished_at: new Date().toISOString(),
      command: `${quick ? 'BENCH_QUICK=1 ' : ''}pnpm bench${args.length ? ` ${args.join(' ')}` : ''}`,
      quick,
      machine,
      scenarios: results,
    });
    console.log(renderTable(results));
    console.log(
      `machine: ${machine.cores} cores, ${machine.memory_gb} GB, ${machine.cpu}, Node ${machine.node}, Postgres ${machine.postgres} (${machine.postgres_source})`,
    );
    console.log(`results: ${path.relative(process.cwd(), file) || file}`);
  }
  return broken ? 1 : 0;
}

const code = await main();
// Peers' and pools' stray timers must not keep a finished run alive.
process.exit(code);
