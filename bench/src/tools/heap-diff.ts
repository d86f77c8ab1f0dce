/**
 * What the API process still holds after a fan-out's subscribers all left. Starts the API as the
 * fanout scenario does (with `--inspect`), warms it up (one subscriber per task and a round, so
 * that compiled code and other one-time set-up are in both snapshots; HEAP_WARMUP=0 opens a single
 * subscriber instead, as the scenario's probe does), takes a heap snapshot, then opens
 * HEAP_SUBSCRIBERS graphql-ws `taskUpdated` subscriptions (default 1,500) over HEAP_TASKS tasks
 * (default 100), writes HEAP_ROUNDS progress rounds (default 3) and closes every socket,
 * HEAP_CYCLES times (default 1), printing the heap after a forced GC each time (a leak grows with
 * every cycle, a cache levels off), and takes another snapshot. Prints the KB per node type in
 * both, and the objects the second has and the first had not, by constructor (HEAP_TOP groups,
 * default 25), with the retainer path of the largest few. HEAP_SNAPSHOT_DIR=<dir> keeps both
 * snapshots (for Chrome DevTools' comparison view). HEAP_WHILE_SUBSCRIBED=1 takes the second
 * snapshot while the last cycle's subscribers are still there: what each subscriber costs.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/src/tools/heap-diff.ts
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createPool, TaskStore, WorkerStore } from '@tasklane/db';
import { startServerProcess } from '../child-process.ts';
import { openBenchDatabase } from '../database.ts';
import { ClientProcess } from '../fanout-client-process.ts';
import { bytesByType, newObjects, parseHeapSnapshot } from '../heap-snapshot.ts';
import { heapUsedAfterGcKb, openInspector, takeHeapSnapshot } from '../inspector-heap.ts';
import { API_MAIN } from '../landed.ts';
import { sleep } from '../stats.ts';
import { UNCAPPED } from '../tasklane-worker.ts';

const SUBSCRIPTION = 'subscription($id: ID!) { taskUpdated(id: $id) { id progress version updatedAt } }';
const subscribers = Number(process.env.HEAP_SUBSCRIBERS ?? 1500);
const taskCount = Number(process.env.HEAP_TASKS ?? 100);
const rounds = Number(process.env.HEAP_ROUNDS ?? 3);
const cycles = Number(process.env.HEAP_CYCLES ?? 1);
const snapshotDir = process.env.HEAP_SNAPSHOT_DIR;
const TOP_GROUPS = Number(process.env.HEAP_TOP ?? 25);
/** HEAP_WHILE_SUBSCRIBED=1: the second snapshot is taken before the last cycle's subscribers leave. */
const whileSubscribed = process.env.HEAP_WHILE_SUBSCRIBED === '1';

const log = (message: string) => process.stderr.write(`[heap-diff] ${message}\n`);
const db = await openBenchDatabase(log);
const url = await db.create('heapdiff');
const pool = createPool({ connectionString: url, max: 2, applicationName: 'tasklane-heap-diff' });
const client = new ClientProcess();
const api = await startServerProcess(API_MAIN, { DATABASE_URL: url, LOG_LEVEL: 'silent', AUTH: 'off' }, '/api/v1/openapi.json', ['--inspect=127.0.0.1:0']);
try {
  const store = new TaskStore(pool);
  await store.submitMany(Array.from({ length: taskCount }, (_, i) => ({ kind: 'noop', input: { i } })));
  const ids = (await new WorkerStore(pool, { workerId: 'heap-diff', leaseSeconds: 600 }).claim(taskCount, ['noop'], UNCAPPED)).map((t) => t.id);
  const inspector = await openInspector(api.inspectorUrl()!);
  await inspector.call('HeapProfiler.enable');
  const wsUrl = `ws://127.0.0.1:${api.port}/graphql`;
  const cycle = async (count: number, progressRounds: number, firstProgress: number, close = true) => {
    const opened = await client.ask({ type: 'open', url: wsUrl, query: SUBSCRIPTION, ids: Array.from({ length: count }, (_, i) => ids[i % ids.length]!) }, 'opened');
    if (opened.initial !== count) throw new Error(`${opened.initial} of ${count} subscriptions opened: ${opened.firstFailure}`);
    for (let r = 0; r < progressRounds; r++) {
      const progress = firstProgress + r;
      await pool.query(`update tasklane.tasks set progress = $1 where id = any($2::text[])`, [progress, ids]);
      await client.ask({ type: 'collect', progress, timeoutMs: 20_000 }, 'collected');
    }
    if (!close) return;
    await client.ask({ type: 'close' }, 'closed');
    await sleep(2000);
  };

  // By default one subscriber per task and a round first, so that what only the first use sets up
  // (compiled code, Yoga's parse cache) is in both snapshots; HEAP_WARMUP=0 subscribes to one task
  // only, as the fanout scenario's probe does.
  const warm = process.env.HEAP_WARMUP !== '0';
  log(warm ? 'warm-up: one subscriber of every task, one round' : 'warm-up: one subscriber');
  await cycle(warm ? ids.length : 1, warm ? 1 : 0, 1);
  const beforeText = await takeHeapSnapshot(inspector);
  log(`heap after GC: ${await heapUsedAfterGcKb(inspector)} KB`);
  for (let c = 0; c < cycles; c++) {
    log(`${subscribers} subscribers over ${ids.length} tasks, ${rounds} rounds`);
    await cycle(subscribers, rounds, 10 + c * rounds, !(whileSubscribed && c === cycles - 1));
    log(`heap after GC: ${await heapUsedAfterGcKb(inspector)} KB`);
  }
  const afterText = await takeHeapSnapshot(inspector);
  if (snapshotDir) {
    writeFileSync(path.join(snapshotDir, 'before.heapsnapshot'), beforeText);
    writeFileSync(path.join(snapshotDir, 'after.heapsnapshot'), afterText);
  }
  const before = parseHeapSnapshot(beforeText);
  const after = parseHeapSnapshot(afterText);
  const typesBefore = bytesByType(before);
  console.log('KB by node type, before → after:');
  for (const [type, bytes] of bytesByType(after)) console.log(`  ${type.padEnd(20)} ${((typesBefore.get(type) ?? 0) / 1024).toFixed(0).padStart(7)} → ${(bytes / 1024).toFixed(0).padStart(7)}`);
  const groups = newObjects(before, after);
  const total = groups.reduce((sum, g) => sum + g.bytes, 0);
  console.log(`${after.size - before.size} more nodes; objects new since the first snapshot: ${groups.reduce((s, g) => s + g.count, 0)}, ${(total / 1024).toFixed(0)} KB`);
  for (const group of groups.slice(0, TOP_GROUPS)) {
    console.log(`\n${(group.bytes / 1024).toFixed(1).padStart(8)} KB ${String(group.count).padStart(7)} × ${group.label}`);
    for (const sample of group.samples) console.log(`  ${String(after.selfSize(sample)).padStart(9)} B ← ${after.retainerPath(sample).slice(-8).join(' → ')}`);
  }
} finally {
  client.kill();
  await api.stop();
  await pool.end();
  await db.close();
}
