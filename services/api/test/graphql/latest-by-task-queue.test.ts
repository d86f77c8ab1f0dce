import { expect, it } from 'vitest';
import type { Task } from '@tasklane/core';
import { LatestByTaskQueue } from '../../src/graphql/latest-by-task-queue.ts';

const state = (id: string, version: number) => ({ id, version }) as Task;

it('keeps only the newest unread state of each task, in first-changed order', async () => {
  const queue = new LatestByTaskQueue(new AbortController().signal);
  queue.push(state('a', 1));
  queue.push(state('b', 1));
  queue.push(state('a', 3));
  queue.push(state('a', 2)); // arrives late: older than what waits
  expect((await queue.next()).value).toEqual(state('a', 3));
  expect((await queue.next()).value).toEqual(state('b', 1));
});

it('hands a state straight to a waiting reader, and ends it when the signal aborts', async () => {
  const controller = new AbortController();
  const queue = new LatestByTaskQueue(controller.signal);
  const waiting = queue.next();
  queue.push(state('a', 1));
  expect((await waiting).value).toEqual(state('a', 1));
  const parked = queue.next();
  controller.abort();
  expect(await parked).toEqual({ value: undefined, done: true });
  queue.push(state('a', 2));
  expect((await queue.next()).done).toBe(true);
});
