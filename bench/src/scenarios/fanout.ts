import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createPool, TaskStore, WorkerStore } from '@tasklane/db';
import { startServerProcess, type ServerProcess } from '../child-process.ts';
import { API_MAIN, apiMainMissing } from '../landed.ts';
import { round, sleep, summarize, waitFor } from '../stats.ts';
import { UNCAPPED } from '../tasklane-worker.ts';
import { ratio, SkipScenario, type Scenario } from '../types.ts';

const SUBSCRIPTION = 'subscription($id: ID!) { taskUpdated(id: $id) { id progress version updatedAt } }';

interface Update {
  progress: number;
  updatedAt: string;
}

/**
 * graphql-ws subscribers (one socket each) spread over the tasks on one API process, while the
 * tasks' progress is written in rounds. Latency is from the row's `updated_at` (set in the
 * writing transaction) to receipt here; RSS is read from /proc for the API process.
 */
export const fanout: Scenario = async (ctx, result) => {
  const missing = apiMainMissing();
  if (missing) throw new SkipScenario(missing);
  const subscribers = Number(process.env.BENCH_FANOUT_SUBSCRIBERS) || (ctx.quick ? 500 : 10_000);
  const taskCount = ctx.quick ? 100 : 1000;
  const rounds = ctx.quick ? 2 : 5;
  Object.assign(result.params, { subscribers, tasks: taskCount, progress_rounds: rounds, sockets: subscribers });
  const url = await ctx.freshDatabase('fanout');
  const pool = createPool({ connectionString: url, max: 4, applicationName: 'tasklane-bench' });
  const store = new TaskStore(pool);
  const worker = new WorkerStore(pool, { workerId: 'bench-fanout', leaseSeconds: 600 });
  await store.submitMany(Array.from({ length: taskCount }, (_, i) => ({ kind: 'noop', input: { i } })));
  const held = await worker.claim(taskCount, ['noop'], UNCAPPED);
  const ids = held.map((t) => t.id);

  let api: ServerProcess | undefined;
  const clients: Client[] = [];
  const disposers: (() => void)[] = [];
  try {
    api = await startServerProcess(API_MAIN, { DATABASE_URL: url, LOG_LEVEL: 'silent', AUTH: 'off' }, '/api/v1/openapi.json');
    const wsUrl = `ws://127.0.0.1:${api.port}/graphql`;
    // Probe: does the API speak graphql-ws with taskUpdated yet?
    const probeOk = await new Promise<boolean | string>((resolve) => {
      const probe = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
      const timer = setTimeout(() => resolve('no answer within 5 s'), 5000);
      const stop = probe.subscribe(
        { query: SUBSCRIPTION, variables: { id: ids[0] } },
        {
          next: () => {
            clearTimeout(timer);
            stop();
            void probe.dispose();
            resolve(true);
          },
          error: (error) => {
            clearTimeout(timer);
            void probe.dispose();
            resolve(`taskUpdated failed: ${JSON.stringify(error).slice(0, 200)}`);
          },
          complete: () => {},
        },
      );
    });
    if (probeOk !== true) throw new SkipScenario(`graphql-ws subscriptions not available: ${probeOk}`);
    await sleep(500);
    const rssStart = api.rssKb();

    ctx.log(`fanout: opening ${subscribers} subscribers`);
    const received: Update[][] = Array.from({ length: subscribers }, () => []);
    let firstMessages = 0;
    const batch = 250;
    for (let start = 0; start < subscribers; start += batch) {
      const opened: Promise<void>[] = [];
      for (let i = start; i < Math.min(subscribers, start + batch); i++) {
        const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 2 });
        clients.push(client);
        opened.push(
          new Promise<void>((resolve) => {
            let first = true;
            disposers.push(
              client.subscribe<{ taskUpdated: Update }>(
                { query: SUBSCRIPTION, variables: { id: ids[i % ids.length] } },
                {
                  next: (message) => {
                    const update = message.data?.taskUpdated;
                    if (update) received[i]!.push({ progress: update.progress, updatedAt: String(Date.now()) + '|' + update.updatedAt });
                    if (first) {
                      first = false;
                      firstMessages++;
                      resolve();
                    }
                  },
                  error: () => resolve(),
                  complete: () => resolve(),
                },
              ),
            );
          }),
        );
      }
      await Promise.race([Promise.all(opened), sleep(30_000)]);
    }
    result.figures.subscribers_with_initial_state = firstMessages;
    await sleep(1000);
    const rssSubscribed = api.rssKb();

    // Progress rounds: every task's progress written in one statement per round, as many workers
    // reporting at once would.
    const latencies: number[] = [];
    let expected = 0;
    for (let r = 1; r <= rounds; r++) {
      const progress = r * 10;
      for (const list of received) list.length = 0;
      await pool.query(
        `update tasklane.tasks set progress = $1, message = 'bench progress' where id = any($2::text[]) and status = 'processing'`,
        [progress, ids],
      );
      await waitFor(() => received.every((list) => list.some((u) => u.progress === progress)), 20_000, 50);
      for (const list of received) {
        const hit = list.find((u) => u.progress === progress);
        if (!hit) continue;
        const [at, updatedAt] = hit.updatedAt.split('|');
        latencies.push(Number(at) - Date.parse(updatedAt!));
      }
      expected += subscribers;
      await sleep(500);
    }
    const s = summarize(latencies);
    const rssAfterRounds = api.rssKb();

    ctx.log('fanout: unsubscribing');
    for (const stop of disposers) stop();
    await Promise.all(clients.map((c) => c.dispose()));
    await sleep(3000);
    const rssEnd = api.rssKb();

    result.figures = {
      ...result.figures,
      deliveries: latencies.length,
      deliveries_expected: expected,
      commit_to_receipt_p50_ms: round(s.p50),
      commit_to_receipt_p99_ms: round(s.p99),
      commit_to_receipt_max_ms: round(s.max),
      api_rss_start_kb: rssStart,
      api_rss_subscribed_kb: rssSubscribed,
      api_rss_after_rounds_kb: rssAfterRounds,
      api_rss_after_unsubscribe_kb: rssEnd,
      rss_per_subscriber_kb: round((rssSubscribed - rssStart) / subscribers),
    };
    result.ratios.push(
      ratio('commit→receipt p99 ms', round(s.p99), '<=', 250),
      ratio('RSS per subscriber KB', result.figures.rss_per_subscriber_kb!, '<=', 30),
      ratio('RSS left after unsubscribe / RSS added by subscribers', round((rssEnd - rssStart) / Math.max(1, rssSubscribed - rssStart)), '<=', 0.25),
    );
    if (latencies.length < expected) result.notes.push(`${expected - latencies.length} deliveries missing within 20 s per round`);
    result.notes.push('clients run in the bench process (one WebSocket each), so client-side work is part of the latency');
  } finally {
    for (const stop of disposers) stop();
    await Promise.all(clients.map((c) => c.dispose()));
    await api?.stop();
    await pool.end();
  }
};
