import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPool, TaskStore, WorkerStore } from '@tasklane/db';
import { startServerProcess, type ServerProcess } from '../child-process.ts';
import { heapUsedAfterGcKb } from '../inspector-heap.ts';
import { ClientProcess } from '../fanout-client-process.ts';
import { API_MAIN, apiMainMissing } from '../landed.ts';
import { round, sleep, summarize } from '../stats.ts';
import { UNCAPPED } from '../tasklane-worker.ts';
import { ratio, SkipScenario, type Scenario } from '../types.ts';

const SUBSCRIPTION = 'subscription($id: ID!) { taskUpdated(id: $id) { id progress version updatedAt } }';
const FLOOR_MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fanout-floor-server.js');

/** CPU time (user + system) a process has used so far, in ms, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface RoundsOutcome {
  latencies: number[];
  /** What `cpu` counted from each write to the last receipt of its round, summed. */
  cpuMs: number;
  expected: number;
  missed: number;
  outOfOrder: number;
}

/** Writes `rounds` progress states with `write` and collects every subscriber's receipt of each. */
async function progressRounds(
  clients: ClientProcess[],
  rounds: number,
  subscribers: number,
  write: (progress: number) => Promise<void>,
  cpu: () => number = () => 0,
): Promise<RoundsOutcome> {
  const outcome: RoundsOutcome = { latencies: [], cpuMs: 0, expected: 0, missed: 0, outOfOrder: 0 };
  for (let r = 1; r <= rounds; r++) {
    const progress = r * 10;
    const cpuBefore = cpu();
    await write(progress);
    const collected = await Promise.all(clients.map((client) => client.ask({ type: 'collect', progress, timeoutMs: 20_000 }, 'collected')));
    for (const c of collected) {
      outcome.latencies.push(...c.latencies);
      outcome.missed += c.missing;
    }
    outcome.cpuMs += cpu() - cpuBefore;
    outcome.outOfOrder = collected.reduce((sum, c) => sum + c.outOfOrder, 0);
    outcome.expected += subscribers;
    await sleep(500);
  }
  return outcome;
}

/**
 * The same subscribers, rounds and measurement against `fanout-floor-server.js`: one `ws` server
 * sending the same messages with no database, GraphQL or feed behind it. What this machine's
 * kernel and `ws` cost for the sends alone, to read the API's p99 against.
 */
async function floorRounds(
  clients: ClientProcess[],
  ids: string[],
  per: number,
  subscribers: number,
  rounds: number,
): Promise<ReturnType<typeof summarize> & { count: number; cpuMsPerRound: number }> {
  const floor = await startServerProcess(FLOOR_MAIN, {}, '/health');
  try {
    const wsUrl = `ws://127.0.0.1:${floor.port}/graphql`;
    await Promise.all(
      clients.map((client, p) => {
        const mine: string[] = [];
        for (let i = p * per; i < Math.min(subscribers, (p + 1) * per); i++) mine.push(ids[i % ids.length]!);
        return client.ask({ type: 'open', url: wsUrl, query: SUBSCRIPTION, ids: mine }, 'opened');
      }),
    );
    await sleep(1000);
    const floorPid = floor.child.pid;
    const { latencies, cpuMs: floorCpu } = await progressRounds(
      clients,
      rounds,
      subscribers,
      async (progress) => {
        const res = await fetch(`${floor.baseUrl}/round?progress=${progress}`, { method: 'POST' });
        await res.text();
      },
      () => cpuMs(floorPid),
    );
    await Promise.all(clients.map((client) => client.ask({ type: 'close' }, 'closed')));
    return { ...summarize(latencies), count: latencies.length, cpuMsPerRound: floorCpu / rounds };
  } finally {
    await floor.stop();
  }
}

/**
 * graphql-ws subscribers (one socket each) spread over the tasks on one API process, while the
 * tasks' progress is written in rounds. The subscribers live in separate child processes
 * (`fanout-clients.ts`), so their work lands on neither the bench's nor the API's event loop.
 * Latency is from the row's `updated_at` (set in the writing transaction) to receipt in the
 * subscriber process, same machine clock; RSS is read from /proc for the API process.
 * `BENCH_FANOUT_CPU_PROF=<dir>` writes a CPU profile of the API process there.
 */
export const fanout: Scenario = async (ctx, result) => {
  const missing = apiMainMissing();
  if (missing) throw new SkipScenario(missing);
  const subscribers = Number(process.env.BENCH_FANOUT_SUBSCRIBERS) || (ctx.quick ? 500 : 10_000);
  const taskCount = ctx.quick ? 100 : 1000;
  const rounds = ctx.quick ? 2 : 5;
  const processes = Number(process.env.BENCH_FANOUT_CLIENT_PROCESSES) || Math.max(1, Math.min(2, os.availableParallelism() - 1));
  Object.assign(result.params, { subscribers, tasks: taskCount, progress_rounds: rounds, sockets: subscribers, subscriber_processes: processes });
  const url = await ctx.freshDatabase('fanout');
  const pool = createPool({ connectionString: url, max: 4, applicationName: 'tasklane-bench' });
  const store = new TaskStore(pool);
  const worker = new WorkerStore(pool, { workerId: 'bench-fanout', leaseSeconds: 600 });
  await store.submitMany(Array.from({ length: taskCount }, (_, i) => ({ kind: 'noop', input: { i } })));
  const held = await worker.claim(taskCount, ['noop'], UNCAPPED);
  const ids = held.map((t) => t.id);

  let api: ServerProcess | undefined;
  const clients: ClientProcess[] = [];
  try {
    const profDir = process.env.BENCH_FANOUT_CPU_PROF;
    const apiEnv: Record<string, string> = { DATABASE_URL: url, LOG_LEVEL: 'silent', AUTH: 'off' };
    api = await startServerProcess(API_MAIN, apiEnv, '/api/v1/openapi.json', [
      '--inspect=127.0.0.1:0',
      ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
    ]);
    const inspectorUrl = api.inspectorUrl();
    if (!inspectorUrl) throw new Error('the API process printed no inspector URL');
    const heapKb = () => heapUsedAfterGcKb(inspectorUrl);
    const wsUrl = `ws://127.0.0.1:${api.port}/graphql`;

    // Probe: does the API speak graphql-ws with taskUpdated yet?
    const probe = new ClientProcess();
    clients.push(probe);
    const probed = await probe.ask({ type: 'open', url: wsUrl, query: SUBSCRIPTION, ids: [ids[0]!] }, 'opened');
    await probe.ask({ type: 'close' }, 'closed');
    if (probed.initial !== 1) throw new SkipScenario('graphql-ws subscriptions not available: the probe subscription got no initial state');
    await sleep(500);
    // Heap first: its forced GC also settles RSS, so every RSS figure is read after a collection.
    const heapStart = await heapKb();
    const rssStart = api.rssKb();

    ctx.log(`fanout: opening ${subscribers} subscribers in ${processes} processes`);
    const per = Math.ceil(subscribers / processes);
    // The probe's process is the first subscriber process: one start-up less (it is slow under tsx).
    for (let p = 1; p < processes; p++) clients.push(new ClientProcess());
    const opened = await Promise.all(
      clients.map((client, p) => {
        const mine: string[] = [];
        for (let i = p * per; i < Math.min(subscribers, (p + 1) * per); i++) mine.push(ids[i % ids.length]!);
        return client.ask({ type: 'open', url: wsUrl, query: SUBSCRIPTION, ids: mine }, 'opened');
      }),
    );
    result.figures.subscribers_with_initial_state = opened.reduce((sum, o) => sum + o.initial, 0);
    const failedToOpen = opened.reduce((sum, o) => sum + o.failed, 0);
    if (failedToOpen > 0) result.notes.push(`${failedToOpen} subscriptions failed to open, e.g. ${opened.find((o) => o.firstFailure)?.firstFailure}`);
    await sleep(1000);
    const heapSubscribed = await heapKb();
    const rssSubscribed = api.rssKb();

    // Progress rounds: every task's progress written in one statement per round, as many workers
    // reporting at once would. CPU the API spent per round: unlike latency, barely moved by other
    // load on the machine.
    const apiPid = api.child.pid;
    const { latencies, expected, missed, outOfOrder, cpuMs: apiCpu } = await progressRounds(
      clients,
      rounds,
      subscribers,
      async (progress) => {
        await pool.query(
          `update tasklane.tasks set progress = $1, message = 'bench progress' where id = any($2::text[]) and status = 'processing'`,
          [progress, ids],
        );
      },
      () => cpuMs(apiPid),
    );
    const s = summarize(latencies);
    const rssAfterRounds = api.rssKb();

    ctx.log('fanout: unsubscribing');
    await Promise.all(clients.map((client) => client.ask({ type: 'close' }, 'closed')));
    await sleep(3000);
    const heapEnd = await heapKb();
    const rssEnd = api.rssKb();
    await api.stop();

    ctx.log(`fanout: the same ${subscribers} subscribers on a bare ws server (the floor)`);
    const floor = await floorRounds(clients, ids, per, subscribers, rounds);

    result.figures = {
      ...result.figures,
      deliveries: latencies.length,
      deliveries_expected: expected,
      deliveries_out_of_order: outOfOrder,
      commit_to_receipt_p50_ms: round(s.p50),
      commit_to_receipt_p99_ms: round(s.p99),
      commit_to_receipt_max_ms: round(s.max),
      api_cpu_ms_per_round: round(apiCpu / rounds),
      api_cpu_us_per_delivery: round((apiCpu * 1000) / Math.max(1, latencies.length)),
      api_rss_start_kb: rssStart,
      api_rss_subscribed_kb: rssSubscribed,
      api_rss_after_rounds_kb: rssAfterRounds,
      api_rss_after_unsubscribe_kb: rssEnd,
      rss_per_subscriber_kb: round((rssSubscribed - rssStart) / subscribers),
      api_heap_after_gc_start_kb: heapStart,
      api_heap_after_gc_subscribed_kb: heapSubscribed,
      api_heap_after_gc_after_unsubscribe_kb: heapEnd,
      heap_per_subscriber_kb: round((heapSubscribed - heapStart) / subscribers),
    };
    result.peers['bare ws server, no database or GraphQL (floor)'] = {
      p50_ms: round(floor.p50),
      p99_ms: round(floor.p99),
      deliveries: floor.count,
      cpu_ms_per_round: round(floor.cpuMsPerRound),
    };
    result.ratios.push(
      ratio('commit→receipt p99 ms', round(s.p99), '<=', 250),
      ratio('p99 vs the bare ws floor in the same run', round(s.p99 / floor.p99), '<=', 1.5),
      ratio('RSS per subscriber KB', result.figures.rss_per_subscriber_kb!, '<=', 30),
      // RSS rarely falls even when nothing leaks (the allocator keeps its pages): the heap after a
      // forced GC is what tells whether subscriptions are released.
      ratio('heap after GC once everyone left / before subscribing', round(heapEnd / heapStart), '<=', 1.1),
    );
    if (missed > 0) result.notes.push(`${missed} deliveries missing within 20 s per round`);
    result.notes.push(`subscribers run in ${processes} child process(es) on plain ws sockets, apart from the bench and the API`);
  } finally {
    await api?.stop();
    for (const client of clients) client.kill();
    await pool.end();
  }
};
