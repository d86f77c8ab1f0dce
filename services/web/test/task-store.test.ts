import type { Task } from '@tasklane/client';
import { describe, expect, it } from 'vitest';
import { parseTaskInput, kindProblem } from '../src/parse-task-input.ts';
import { parseMetadata } from '../src/parse-metadata.ts';
import { TaskStore } from '../src/task-store.ts';

const ALL = { status: '', kind: '', metadata: {} } as const;

function task(id: string, version: number, fields: Partial<Task> = {}): Task {
  return {
    id,
    kind: 'video',
    service: null,
    status: 'PENDING',
    progress: 0,
    message: null,
    input: {},
    result: null,
    error: null,
    attempts: 0,
    maxAttempts: 3,
    priority: 0,
    runAt: '2026-01-01T00:00:00.000Z',
    createdAt: `2026-01-01T00:00:0${id.slice(-1)}.000Z`,
    updatedAt: '2026-01-01T00:00:00.000Z',
    startedAt: null,
    completedAt: null,
    finishedAt: null,
    version,
    metadata: {},
    retriedFrom: null,
    queue: null,
    ...fields,
  };
}

describe('TaskStore', () => {
  it('takes the same version again when its queue place moved (a queue push), and not when it did not', () => {
    const store = new TaskStore();
    const place = (position: number) => ({ queue: { position, ahead: position - 1, etaSeconds: null, waitingFor: null } });
    expect(store.apply(task('t1', 1, place(3)))).toBe(true);
    expect(store.apply(task('t1', 1, place(2)))).toBe(true);
    expect(store.apply(task('t1', 1, place(2)))).toBe(false);
    expect(store.visible(ALL, 10)[0]!.queue?.position).toBe(2);
    // An older version never wins, whatever its place.
    expect(store.apply(task('t1', 2, { status: 'PROCESSING', queue: null }))).toBe(true);
    expect(store.apply(task('t1', 1, place(1)))).toBe(false);
  });

  it('keeps the higher version whichever arrives last', () => {
    const store = new TaskStore();
    expect(store.apply(task('t1', 3, { progress: 30 }))).toBe(true);
    expect(store.apply(task('t1', 2, { progress: 20 }))).toBe(false);
    expect(store.visible(ALL, 10)[0]?.progress).toBe(30);
  });

  it('lets a reload drop vanished tasks but not a newer live change, nor roll one back', () => {
    const store = new TaskStore();
    store.apply(task('t1', 1));
    store.apply(task('t2', 1));
    store.beginReload();
    // Arrives while the list is in flight: newer than what the list will say about t2, and t3 is not in it at all.
    store.apply(task('t2', 5, { status: 'PROCESSING' }));
    store.apply(task('t3', 1));
    store.finishReload([task('t2', 4), task('t4', 1)]);
    const visible = store.visible(ALL, 10);
    expect(visible.map((t) => t.id)).toEqual(['t4', 't3', 't2']);
    expect(visible.find((t) => t.id === 't2')).toMatchObject({ version: 5, status: 'PROCESSING' });
  });

  it('shows matching tasks newest first, at most the limit', () => {
    const store = new TaskStore();
    store.apply(task('t1', 1, { status: 'COMPLETED' }));
    store.apply(task('t2', 1, { kind: 'image' }));
    store.apply(task('t3', 1));
    expect(store.visible({ status: 'PENDING', kind: '', metadata: {} }, 10).map((t) => t.id)).toEqual(['t3', 't2']);
    expect(store.visible({ status: '', kind: 'video', metadata: {} }, 1).map((t) => t.id)).toEqual(['t3']);
  });

  it('shows only tasks holding every metadata pair of the filter', () => {
    const store = new TaskStore();
    store.apply(task('t1', 1, { metadata: { customer: 'acme', tier: 'gold' } }));
    store.apply(task('t2', 1, { metadata: { customer: 'acme' } }));
    store.apply(task('t3', 1, { metadata: { customer: 'globex' } }));
    expect(store.visible({ ...ALL, metadata: { customer: 'acme' } }, 10).map((t) => t.id)).toEqual(['t2', 't1']);
    expect(store.visible({ ...ALL, metadata: { customer: 'acme', tier: 'gold' } }, 10).map((t) => t.id)).toEqual(['t1']);
  });
});

describe('the metadata fields', () => {
  it('read comma-separated key=value pairs and explain a pair without a key', () => {
    expect(parseMetadata(' customer = acme, tier=gold ,')).toEqual({ ok: true, value: { customer: 'acme', tier: 'gold' } });
    expect(parseMetadata('')).toEqual({ ok: true, value: {} });
    expect(parseMetadata('note=a=b')).toEqual({ ok: true, value: { note: 'a=b' } });
    const bad = parseMetadata('customer');
    expect(!bad.ok && bad.message).toMatch(/"customer" is not key=value/);
  });
});

describe('the submit form checks', () => {
  it('reads JSON, takes an empty box as {}, and quotes the parser on bad JSON', () => {
    expect(parseTaskInput('{"duration_seconds": 3}')).toEqual({ ok: true, value: { duration_seconds: 3 } });
    expect(parseTaskInput('  ')).toEqual({ ok: true, value: {} });
    const bad = parseTaskInput('{"a": ');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.message).toMatch(/^Input is not valid JSON: /);
  });

  it('accepts the kinds the API accepts', () => {
    expect(kindProblem('video')).toBeUndefined();
    expect(kindProblem('my_kind2')).toBeUndefined();
    expect(kindProblem('Video')).toBeDefined();
    expect(kindProblem('2d')).toBeDefined();
  });
});
