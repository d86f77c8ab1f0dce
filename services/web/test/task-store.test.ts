import type { Task } from '@tasklane/client';
import { describe, expect, it } from 'vitest';
import { parseTaskInput, kindProblem } from '../src/parse-task-input.ts';
import { TaskStore } from '../src/task-store.ts';

const ALL = { status: '', kind: '' } as const;

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
    expect(store.visible({ status: 'PENDING', kind: '' }, 10).map((t) => t.id)).toEqual(['t3', 't2']);
    expect(store.visible({ status: '', kind: 'video' }, 1).map((t) => t.id)).toEqual(['t3']);
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
