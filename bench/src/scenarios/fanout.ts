import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPool, TaskStore, WorkerStore } from '@tasklane/db';
import { startServerProcess, type ServerProcess } from '../child-process.ts';
import { heapUsedAfterGcKb } from '../inspector-heap.ts';
import { ClientProcess } from '../fanout-client-process.ts';
import { API_MAIN, apiMainMissing } from '../landed.ts';
import { median, round, sleep, summarize } from '../stats.ts';
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
  /** The API's only: each round's p99 from the row's `updatedAt`, which is the UPDATE's start. */
  roundP99sFromUpdateStart: number[];
  /** Each round's own p50 and p99: their medians are the figures, which no single slow round moves. */
  roundP50s: number[];
  /** Each round's first receipt: how long the server took before its first write. */
  roundFirsts: number[];
  roundP99s: number[];
  /** What `cpu` counted from each write to the last receipt of its round, summed. */
  cpuMs: number;
  expected: number;
  missed: number;
  outOfOrder: number;
}

/** One server of the comparison: its subscribers' processes, how a round is written, its CPU clock. */
interface Side {
  clients: ClientProcess[];
  /**
   * Writes one round; resolves with the time (`Date.now()`) its latency counts from, or with
   * undefined when that is the `updatedAt` the server stamped in the payload.
   */
  write: (progress: number) => Promise<number | undefined>;
  cpu: () => number;
  outcome: RoundsOutcome;
}

const emptyOutcome = (): RoundsOutcome => ({ latencies: [], roundP99sFromUpdateStart: [], roundP50s: [], roundFirsts: [], roundP99s: [], cpuMs: 0, expected: 0, missed: 0, outOfOrder: 0 });

/** Writes one progress state with the side's `write` and collects every subscriber's receipt of it. */
async function progressRound(side: Side, progress: number, subscribers: number): Promise<void> {
  const { clients, outcome } = side;
  const cpuBefore = side.cpu();
  const since = await side.write(progress);
  const collected = await Promise.all(clients.map((client) => client.ask({ type: 'collect', progress, timeoutMs: 20_000 }, 'collected')));
  const latencies = since === undefined ? collected.flatMap((c) => c.latencies) : collected.flatMap((c) => c.received.map((at) => at - since));
  if (since !== undefined) outcome.roundP99sFromUpdateStart.push(summarize(collected.flatMap((c) => c.latencies)).p99);
  const { p50, p99 } = summarize(latencies);
  outcome.roundP50s.push(p50);
  outcome.roundFirsts.push(Math.min(...latencies));
  outcome.roundP99s.push(p99);
  outcome.latencies.push(...latencies);
  for (const c of collected) outcome.missed += c.missing;
  outcome.cpuMs += side.cpu() - cpuBefore;
  outcome.outOfOrder = collected.reduce((sum, c) => sum + c.outOfOrder, 0);
  outcome.expected += subscribers;
  await sleep(500);
}

/** Opens `subscribers` subscriptions spread over `ids`, an equal share in each client process. */
async function openSubscribers(clients: ClientProcess[], url: string, ids: string[], subscribers: number) {
  const per = Math.ceil(subscribers / clients.length);
  return Promise.all(
    clients.map((client, p) => {
      const mine: string[] = [];
      for (let i = p * per; i < Math.min(subscribers, (p + 1) * per); i++) mine.push(ids[i % ids.length]!);
      return client.ask({ type: 'open', url, query: SUBSCRIPTION, ids: mine }, 'opened');
    }),
  );
}

/**
 * graphql-ws subscribers (one socket each) spread over the tasks on one API process, while the
 * tasks' progress is written in rounds. The subscribers live in separate child processes
 * (`fanout-clients.ts`), so their work lands on neither the bench's nor the API's event loop.
 * Latency is from the moment the bench sends the round's COMMIT (for the floor: from its own
 * stamp when the round's request arrives) to receipt in the subscriber process, same machine
 * clock; from the row's `updated_at` (the UPDATE's start) it is kept for the record. RSS is read
 * from /proc for the API process.
 * `BENCH_FANOUT_CPU_PROF=<dir>` writes a CPU profile of the API process there;
 * `BENCH_FANOUT_NODE_FLAGS` adds Node flags to the API process (space-separated).
 */
export const fanout: Scenario = async (ctx, result) => {
  const missing = apiMainMissing();
  if (missing) throw new SkipScenario(missing);
  const subscribers = Number(process.env.BENCH_FANOUT_SUBSCRIBERS) || (ctx.quick ? 500 : 10_000);
  const taskCount = ctx.quick ? 100 : 1000;
  // Eleven: within one run a side's round p99 ranged over 2.5 × (118–293 ms for the floor), and
  // the ratio of the medians of seven moved between 1.12 and 1.53 from run to run.
  const rounds = ctx.quick ? 2 : 11;
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
  let floor: ServerProcess | undefined;
  const clients: ClientProcess[] = [];
  const floorClients: ClientProcess[] = [];
  try {
    const profDir = process.env.BENCH_FANOUT_CPU_PROF;
    const apiEnv: Record<string, string> = { DATABASE_URL: url, LOG_LEVEL: 'silent', AUTH: 'off' };
    api = await startServerProcess(API_MAIN, apiEnv, '/api/v1/openapi.json', [
      '--inspect=127.0.0.1:0',
      ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
      ...(process.env.BENCH_FANOUT_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
    ]);
    const inspectorUrl = api.inspectorUrl();
    if (!inspectorUrl) throw new Error('the API process printed no inspector URL');
    const heapKb = () => heapUsedAfterGcKb(inspectorUrl);
    const wsUrl = `ws://127.0.0.1:${api.port}/graphql`;

    // How long each round's UPDATE took (for the record: latency counts from its COMMIT).
    const writeMs: number[] = [];
    const apiPid = api.child.pid;
    const apiSide: Side = {
      clients,
      write: async (progress) => {
        const client = await pool.connect();
        try {
          await client.query('begin');
          const started = performance.now();
          await client.query(
            `update tasklane.tasks set progress = $1, message = 'bench progress' where id = any($2::text[]) and status = 'processing'`,
            [progress, ids],
          );
          writeMs.push(performance.now() - started);
          // Taken before the COMMIT is sent: no subscriber can hear of the change earlier, so the
          // API's latency includes the commit and its trip, and never less than its own work.
          const committing = Date.now();
          await client.query('commit');
          return committing;
        } finally {
          client.release();
        }
      },
      cpu: () => cpuMs(apiPid),
      outcome: emptyOutcome(),
    };

    // Probe: does the API speak graphql-ws with taskUpdated yet?
    const probe = new ClientProcess();
    clients.push(probe);
    const probed = await probe.ask({ type: 'open', url: wsUrl, query: SUBSCRIPTION, ids: [ids[0]!] }, 'opened');
    await probe.ask({ type: 'close' }, 'closed');
    if (probed.initial !== 1) throw new SkipScenario('graphql-ws subscriptions not available: the probe subscription got no initial state');
    // The probe's process is the first subscriber process: one start-up less.
    for (let p = 1; p < processes; p++) clients.push(new ClientProcess());

    // Heap before and after a cold run, for the record. A first fan-out leaves V8's optimised code
    // for every function it ran hot (about 2 MB here, `tools/heap-diff.ts` shows it by type), which
    // a second leaves as it found; so the target compares the heap before and after a warm run.
    await sleep(500);
    // Heap first: its forced GC also settles RSS, so every RSS figure is read after a collection.
    const heapCold = await heapKb();
    const rssStart = api.rssKb();
    ctx.log(`fanout: warm-up, ${subscribers} subscribers open, one round, and leave`);
    await openSubscribers(clients, wsUrl, ids, subscribers);
    await sleep(500);
    await progressRound({ ...apiSide, outcome: emptyOutcome() }, 5, subscribers);
    await Promise.all(clients.map((client) => client.ask({ type: 'close' }, 'closed')));
    writeMs.length = 0;
    await sleep(3000);
    const heapStart = await heapKb();

    ctx.log(`fanout: opening ${subscribers} subscribers in ${processes} processes`);
    const opened = await openSubscribers(clients, wsUrl, ids, subscribers);
    result.figures.subscribers_with_initial_state = opened.reduce((sum, o) => sum + o.initial, 0);
    const failedToOpen = opened.reduce((sum, o) => sum + o.failed, 0);
    if (failedToOpen > 0) result.notes.push(`${failedToOpen} subscriptions failed to open, e.g. ${opened.find((o) => o.firstFailure)?.firstFailure}`);
    await sleep(1000);

    // The floor: the same subscribers in processes of their own, on a bare `ws` server.
    ctx.log(`fanout: the same ${subscribers} subscribers on a bare ws server (the floor)`);
    floor = await startServerProcess(FLOOR_MAIN, {}, '/health', profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}/floor`] : []);
    const floorBase = floor.baseUrl;
    for (let p = 0; p < processes; p++) floorClients.push(new ClientProcess());
    await openSubscribers(floorClients, `ws://127.0.0.1:${floor.port}/graphql`, ids, subscribers);
    await sleep(1000);
    const floorPid = floor.child.pid;
    const floorSide: Side = {
      clients: floorClients,
      write: async (progress) => {
        await (await fetch(`${floorBase}/round?progress=${progress}`, { method: 'POST' })).text();
        // The floor stamps `updatedAt` when the round's request arrives: its latency counts from there.
        return undefined;
      },
      cpu: () => cpuMs(floorPid),
      outcome: emptyOutcome(),
    };
    // The floor's own warm-up round, as the API had one.
    await progressRound({ ...floorSide, outcome: emptyOutcome() }, 5, subscribers);

    // Progress rounds, the API's and the floor's taking turns (each round the other goes first), so
    // that a slow stretch of the host weighs on both alike. On the API every task's progress is
    // written in one statement per round, as many workers reporting at once would. CPU each
    // server spent per round: unlike latency, barely moved by other load on the machine.
    for (let r = 1; r <= rounds; r++) {
      ctx.log(`fanout: round ${r}/${rounds}`);
      for (const side of r % 2 === 1 ? [apiSide, floorSide] : [floorSide, apiSide]) await progressRound(side, r * 9, subscribers); // 9, 18, … 99: every round its own progress, within 0–100
    }
    const { latencies, expected, missed, outOfOrder, cpuMs: apiCpu } = apiSide.outcome;
    const s = summarize(latencies);
    const apiP50 = median(apiSide.outcome.roundP50s);
    const apiP99 = median(apiSide.outcome.roundP99s);
    const floorP50 = median(floorSide.outcome.roundP50s);
    const floorP99 = median(floorSide.outcome.roundP99s);
    const floorPooled = summarize(floorSide.outcome.latencies);
    const rssAfterRounds = api.rssKb();
    // The heap while subscribed is read after the rounds, not before: a forced collection leaves
    // V8 a tight limit for the old generation, so one read just before the rounds would bring the
    // next full collection of the subscribers' heap into them, which no deployment sees.
    const heapSubscribed = await heapKb();
    const rssSubscribed = api.rssKb();

    ctx.log('fanout: unsubscribing');
    await Promise.all([...clients, ...floorClients].map((client) => client.ask({ type: 'close' }, 'closed')));
    await sleep(3000);
    const heapEnd = await heapKb();
    const rssEnd = api.rssKb();

    result.figures = {
      ...result.figures,
      deliveries: latencies.length,
      deliveries_expected: expected,
      deliveries_out_of_order: outOfOrder,
      commit_to_first_receipt_ms: round(median(apiSide.outcome.roundFirsts)),
      commit_to_receipt_p50_ms: round(apiP50),
      commit_to_receipt_p99_ms: round(apiP99),
      commit_to_receipt_p99_ms_min: round(Math.min(...apiSide.outcome.roundP99s)),
      commit_to_receipt_p99_ms_max: round(Math.max(...apiSide.outcome.roundP99s)),
      commit_to_receipt_p99_ms_all_rounds_pooled: round(s.p99),
      commit_to_receipt_max_ms: round(s.max),
      update_start_to_receipt_p99_ms: round(median(apiSide.outcome.roundP99sFromUpdateStart)),
      api_round_update_ms: round(median(writeMs)),
      api_cpu_ms_per_round: round(apiCpu / rounds),
      api_cpu_us_per_delivery: round((apiCpu * 1000) / Math.max(1, latencies.length)),
      api_rss_start_kb: rssStart,
      api_rss_subscribed_kb: rssSubscribed,
      api_rss_after_rounds_kb: rssAfterRounds,
      api_rss_after_unsubscribe_kb: rssEnd,
      rss_per_subscriber_kb: round((rssSubscribed - rssStart) / subscribers),
      api_heap_after_gc_cold_kb: heapCold,
      api_heap_after_gc_start_kb: heapStart,
      api_heap_after_gc_subscribed_kb: heapSubscribed,
      api_heap_after_gc_after_unsubscribe_kb: heapEnd,
      heap_per_subscriber_kb: round((heapSubscribed - heapStart) / subscribers),
      heap_after_unsubscribe_vs_cold: round(heapEnd / heapCold),
    };
    result.peers['bare ws server, no database or GraphQL (floor)'] = {
      first_receipt_ms: round(median(floorSide.outcome.roundFirsts)),
      p50_ms: round(floorP50),
      p99_ms: round(floorP99),
      p99_ms_min: round(Math.min(...floorSide.outcome.roundP99s)),
      p99_ms_max: round(Math.max(...floorSide.outcome.roundP99s)),
      p99_ms_all_rounds_pooled: round(floorPooled.p99),
      deliveries: floorSide.outcome.latencies.length,
      cpu_ms_per_round: round(floorSide.outcome.cpuMs / rounds),
    };
    result.ratios.push(
      ratio('commit→receipt p99 ms', round(apiP99), '<=', 250),
      ratio('p99 vs the bare ws floor in the same run', round(apiP99 / floorP99), '<=', 1.5),
      ratio('RSS per subscriber KB', result.figures.rss_per_subscriber_kb!, '<=', 30),
      // RSS rarely falls even when nothing leaks (the allocator keeps its pages): the heap after a
      // forced GC is what tells whether subscriptions are released.
      ratio('heap after GC once everyone left / before subscribing', round(heapEnd / heapStart), '<=', 1.1),
    );
    if (missed > 0) result.notes.push(`${missed} deliveries missing within 20 s per round`);
    if (floorSide.outcome.missed > 0) result.notes.push(`the floor missed ${floorSide.outcome.missed} deliveries`);
    result.notes.push(`subscribers run in ${processes} child process(es) on plain ws sockets, apart from the bench and the API`);
  } finally {
    await api?.stop();
    await floor?.stop();
    for (const client of [...clients, ...floorClients]) client.kill();
    await pool.end();
  }
};
