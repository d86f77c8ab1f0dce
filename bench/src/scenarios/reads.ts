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
}

/**
 * Requests per second from autocannon, after a warm-up of the same load so that every server is
 * measured with its code already optimised by V8 (a GraphQL request runs far more JavaScript than
 * the bare server's, so a cold start would weigh on it most).
 */
async function hammer(url: string, seconds: number, load: Load): Promise<{ rps: number; p99_ms: number; wrong: number }> {
  await run(url, Math.max(1, Math.round(seconds / 5)), load);
  return run(url, seconds, load);
}

async function run(url: string, seconds: number, load: Load): Promise<{ rps: number; p99_ms: number; wrong: number }> {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    method: load.method ?? 'GET',
    ...(load.body ? { body: load.body } : {}),
    headers: load.headers ?? {},
  });
  const codes = result.statusCodeStats as unknown as Record<string, { count: number }>;
  const good = codes[String(load.expectStatus)]?.count ?? 0;
  const wrong = result.requests.total - good + result.errors + result.timeouts;
  return { rps: result.requests.average, p99_ms: result.latency.p99, wrong };
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
    if (first.status !== 200) throw new Error(`GET /api/v1/tasks/{id} answered ${first.status}`);
    const etag = first.headers.get('etag');

    ctx.log('reads: baseline');
    const base = await hammer(`${baseline.baseUrl}/tasks/${id}`, seconds, { expectStatus: 200 });
    result.peers['bare node:http + pg'] = { rps: round(base.rps, 0), p99_ms: base.p99_ms, wrong_answers: base.wrong };

    ctx.log('reads: REST');
    const rest = await hammer(`${api.baseUrl}/api/v1/tasks/${id}`, seconds, { expectStatus: 200 });
    result.figures.rest_rps = round(rest.rps, 0);
    result.figures.rest_p99_ms = rest.p99_ms;
    result.ratios.push(ratio('REST vs bare baseline', round(rest.rps / base.rps), '>=', 0.7));

    if (etag) {
      ctx.log('reads: REST If-None-Match');
      const notModified = await hammer(`${api.baseUrl}/api/v1/tasks/${id}`, seconds, { expectStatus: 304, headers: { 'if-none-match': etag } });
      result.figures.rest_304_rps = round(notModified.rps, 0);
      result.figures.rest_304_p99_ms = notModified.p99_ms;
      result.ratios.push(ratio('304 path vs bare baseline', round(notModified.rps / base.rps), '>=', 0.9));
      if (notModified.wrong > 0) result.notes.push(`${notModified.wrong} If-None-Match answers were not 304`);
    } else {
      result.notes.push('no ETag on GET /api/v1/tasks/{id}: 304 path not measured');
    }

    const query = JSON.stringify({ query: 'query($id: ID!) { task(id: $id) { id kind status progress message result createdAt updatedAt version } }', variables: { id } });
    const probe = await fetch(`${api.baseUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: query });
    const probeBody = (await probe.json().catch(() => ({}))) as { data?: { task?: { id?: string } } };
    if (probe.status === 200 && probeBody.data?.task?.id === id) {
      ctx.log('reads: GraphQL');
      const gql = await hammer(`${api.baseUrl}/graphql`, seconds, {
        method: 'POST',
        body: query,
        headers: { 'content-type': 'application/json' },
        expectStatus: 200,
      });
      result.figures.graphql_rps = round(gql.rps, 0);
      result.figures.graphql_p99_ms = gql.p99_ms;
      result.ratios.push(ratio('GraphQL vs bare baseline', round(gql.rps / base.rps), '>=', 0.5));
    } else {
      result.notes.push(`GraphQL task(id) skipped: POST /graphql answered ${probe.status} without the task (GraphQL not landed?)`);
    }
    if (rest.wrong > 0) result.notes.push(`${rest.wrong} REST answers were not 200`);
  } finally {
    await api?.stop();
    await baseline?.stop();
  }
};
