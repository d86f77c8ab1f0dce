import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createPool, TaskStore } from '@tasklane/db';
import { startServerProcess, type ServerProcess } from '../child-process.ts';
import { API_MAIN, apiMainMissing } from '../landed.ts';
import { median, round } from '../stats.ts';
import { ratio, SkipScenario, type Scenario } from '../types.ts';

const BASELINE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'baseline-server.js');
const CONNECTIONS = 50;

interface Load {
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  expectStatus: number;
  /** The exact body every answer must carry (fetched once before the load); none for a 304. */
  expectBody?: string;
}

/**
 * Requests per second from autocannon, after a warm-up of the same load so that every server is
 * measured with its code already optimised by V8 (a GraphQL request runs far more JavaScript than
 * the bare server's, so a cold start would weigh on it most).
 */
async function hammer(url: string, seconds: number, load: Load): Promise<{ rps: number; p99_ms: number; answers: number }> {
  await run(url, Math.max(1, Math.round(seconds / 5)), load);
  const measured = await run(url, seconds, load);
  // A rate of wrong answers is no figure: every measured answer must be the expected one.
  if (measured.wrong > 0) {
    throw new Error(`${load.method ?? 'GET'} ${url}: ${measured.wrong} of ${measured.answers} answers were not ${load.expectStatus} with the expected body`);
  }
  return measured;
}

async function run(url: string, seconds: number, load: Load): Promise<{ rps: number; p99_ms: number; wrong: number; answers: number }> {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    method: load.method ?? 'GET',
    ...(load.body ? { body: load.body } : {}),
    headers: load.headers ?? {},
    ...(load.expectBody !== undefined ? { expectBody: load.expectBody } : {}),
  });
  const codes = result.statusCodeStats as unknown as Record<string, { count: number }>;
  const good = codes[String(load.expectStatus)]?.count ?? 0;
  const wrong = result.requests.total - good + result.errors + result.timeouts + result.mismatches;
  return { rps: result.requests.average, p99_ms: result.latency.p99, wrong, answers: result.requests.total };
}

export const reads: Scenario = async (ctx, result) => {
  const missing = apiMainMissing();
  if (missing) throw new SkipScenario(missing);
  const seconds = ctx.quick ? 1 : 5;
  const rounds = ctx.quick ? 1 : 3;
  Object.assign(result.params, { seconds_per_run: seconds, rounds, connections: CONNECTIONS, tasks: 1000 });
  const url = await ctx.freshDatabase('reads');
  const pool = createPool({ connectionString: url, max: 2, applicationName: 'tasklane-bench' });
  const store = new TaskStore(pool);
  const submitted = await store.submitMany(Array.from({ length: 1000 }, (_, i) => ({ kind: 'noop', input: { i } })));
  await pool.end();
  const id = submitted[500]!.task.id;

  let api: ServerProcess | undefined;
  let baseline: ServerProcess | undefined;
  try {
    api = await startServerProcess(API_MAIN, { DATABASE_URL: url, LOG_LEVEL: 'silent', AUTH: 'off' }, '/api/v1/openapi.json');
    baseline = await startServerProcess(BASELINE, { DATABASE_URL: url }, '/health');
    const first = await fetch(`${api.baseUrl}/api/v1/tasks/${id}`);
    const restBody = await first.text();
    if (first.status !== 200 || (JSON.parse(restBody) as { task_id?: string }).task_id !== id) {
      throw new Error(`GET /api/v1/tasks/{id} answered ${first.status} ${restBody.slice(0, 200)}`);
    }
    const etag = first.headers.get('etag');
    const baseBody = await (await fetch(`${baseline.baseUrl}/tasks/${id}`)).text();
    if ((JSON.parse(baseBody) as { id?: string }).id !== id) throw new Error(`the bare server answered ${baseBody.slice(0, 200)}`);

    const query = JSON.stringify({ query: 'query($id: ID!) { task(id: $id) { id kind status progress message result createdAt updatedAt version } }', variables: { id } });
    const probe = await fetch(`${api.baseUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: query });
    const probeText = await probe.text();
    const probeBody = JSON.parse(probeText || '{}') as { data?: { task?: { id?: string } } };
    const graphqlThere = probe.status === 200 && probeBody.data?.task?.id === id;
    if (!graphqlThere) result.notes.push(`GraphQL task(id) skipped: POST /graphql answered ${probe.status} without the task (GraphQL not landed?)`);
    if (!etag) result.notes.push('no ETag on GET /api/v1/tasks/{id}: 304 path not measured');

    const loads: { name: string; url: string; load: Load }[] = [
      { name: 'baseline', url: `${baseline.baseUrl}/tasks/${id}`, load: { expectStatus: 200, expectBody: baseBody } },
      { name: 'rest', url: `${api.baseUrl}/api/v1/tasks/${id}`, load: { expectStatus: 200, expectBody: restBody } },
      ...(etag ? [{ name: 'rest_304', url: `${api.baseUrl}/api/v1/tasks/${id}`, load: { expectStatus: 304, headers: { 'if-none-match': etag } } }] : []),
      ...(graphqlThere
        ? [{ name: 'graphql', url: `${api.baseUrl}/graphql`, load: { method: 'POST' as const, body: query, headers: { 'content-type': 'application/json' }, expectStatus: 200, expectBody: probeText } }]
        : []),
    ];
    // Interleaved rounds, each starting one load later, so that a noisy stretch of the host lands
    // on every server alike and no server always runs first or last; figures are medians.
    const measured = new Map(loads.map((l) => [l.name, [] as { rps: number; p99_ms: number; answers: number }[]]));
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < loads.length; i++) {
        const { name, url: target, load } = loads[(i + r) % loads.length]!;
        ctx.log(`reads: round ${r + 1}/${rounds}: ${name}`);
        measured.get(name)!.push(await hammer(target, seconds, load));
      }
    }
    const figure = (name: string) => {
      const runs = measured.get(name) ?? [];
      const rps = runs.map((m) => m.rps);
      return { rps: median(rps), min: Math.min(...rps), max: Math.max(...rps), p99_ms: median(runs.map((m) => m.p99_ms)), answers: runs.reduce((sum, m) => sum + m.answers, 0) };
    };
    const base = figure('baseline');
    result.peers['bare node:http + pg'] = { rps: round(base.rps, 0), rps_min: round(base.min, 0), rps_max: round(base.max, 0), p99_ms: base.p99_ms, answers_checked: base.answers };
    const rest = figure('rest');
    Object.assign(result.figures, { rest_answers_checked: rest.answers, rest_rps: round(rest.rps, 0), rest_rps_min: round(rest.min, 0), rest_rps_max: round(rest.max, 0), rest_p99_ms: rest.p99_ms });
    result.ratios.push(ratio('REST vs bare baseline', round(rest.rps / base.rps), '>=', 0.7));
    if (etag) {
      const notModified = figure('rest_304');
      Object.assign(result.figures, { rest_304_rps: round(notModified.rps, 0), rest_304_rps_min: round(notModified.min, 0), rest_304_rps_max: round(notModified.max, 0), rest_304_p99_ms: notModified.p99_ms });
      result.ratios.push(ratio('304 path vs bare baseline', round(notModified.rps / base.rps), '>=', 0.9));
    }
    if (graphqlThere) {
      const gql = figure('graphql');
      Object.assign(result.figures, { graphql_answers_checked: gql.answers, graphql_rps: round(gql.rps, 0), graphql_rps_min: round(gql.min, 0), graphql_rps_max: round(gql.max, 0), graphql_p99_ms: gql.p99_ms });
      result.ratios.push(ratio('GraphQL vs bare baseline', round(gql.rps / base.rps), '>=', 0.5));
    }
  } finally {
    await api?.stop();
    await baseline?.stop();
  }
};
