import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createPool, TaskStore } from '@tasklane/db';
import { startServerProcess, type ServerProcess } from '../child-process.ts';
import { API_MAIN, apiMainMissing } from '../landed.ts';
import { round } from '../stats.ts';
import { ratio, SkipScenario, type Scenario } from '../types.ts';

const BASELINE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'baseline-server.ts');
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
  const seconds = ctx.quick ? 1 : 10;
  Object.assign(result.params, { seconds_per_run: seconds, connections: CONNECTIONS, tasks: 1000 });
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

    ctx.log('reads: baseline');
    const base = await hammer(`${baseline.baseUrl}/tasks/${id}`, seconds, { expectStatus: 200, expectBody: baseBody });
    result.peers['bare node:http + pg'] = { rps: round(base.rps, 0), p99_ms: base.p99_ms, answers_checked: base.answers };

    ctx.log('reads: REST');
    const rest = await hammer(`${api.baseUrl}/api/v1/tasks/${id}`, seconds, { expectStatus: 200, expectBody: restBody });
    result.figures.rest_answers_checked = rest.answers;
    result.figures.rest_rps = round(rest.rps, 0);
    result.figures.rest_p99_ms = rest.p99_ms;
    result.ratios.push(ratio('REST vs bare baseline', round(rest.rps / base.rps), '>=', 0.7));

    if (etag) {
      ctx.log('reads: REST If-None-Match');
      const notModified = await hammer(`${api.baseUrl}/api/v1/tasks/${id}`, seconds, { expectStatus: 304, headers: { 'if-none-match': etag } });
      result.figures.rest_304_rps = round(notModified.rps, 0);
      result.figures.rest_304_p99_ms = notModified.p99_ms;
      result.ratios.push(ratio('304 path vs bare baseline', round(notModified.rps / base.rps), '>=', 0.9));
    } else {
      result.notes.push('no ETag on GET /api/v1/tasks/{id}: 304 path not measured');
    }

    const query = JSON.stringify({ query: 'query($id: ID!) { task(id: $id) { id kind status progress message result createdAt updatedAt version } }', variables: { id } });
    const probe = await fetch(`${api.baseUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: query });
    const probeText = await probe.text();
    const probeBody = (JSON.parse(probeText || '{}') as { data?: { task?: { id?: string } } });
    if (probe.status === 200 && probeBody.data?.task?.id === id) {
      ctx.log('reads: GraphQL');
      const gql = await hammer(`${api.baseUrl}/graphql`, seconds, {
        method: 'POST',
        body: query,
        headers: { 'content-type': 'application/json' },
        expectStatus: 200,
        expectBody: probeText,
      });
      result.figures.graphql_answers_checked = gql.answers;
      result.figures.graphql_rps = round(gql.rps, 0);
      result.figures.graphql_p99_ms = gql.p99_ms;
      result.ratios.push(ratio('GraphQL vs bare baseline', round(gql.rps / base.rps), '>=', 0.5));
    } else {
      result.notes.push(`GraphQL task(id) skipped: POST /graphql answered ${probe.status} without the task (GraphQL not landed?)`);
    }
  } finally {
    await api?.stop();
    await baseline?.stop();
  }
};
