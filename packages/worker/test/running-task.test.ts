import { expect, it } from 'vitest';
import type { Task } from '@tasklane/core';
import { TaskAbortedError } from '../src/abort-reason.ts';
import { silentLogger } from '../src/logger.ts';
import { RunningTask } from '../src/running-task.ts';

const task = { id: 'vid_1', kind: 'video', attempts: 1 } as Task;
const noWrite = async () => true;

it('gives a handler that asks for its signal after an abort a signal already aborted, with the reason', () => {
  const entry = new RunningTask(task, { run: () => null }, 'w1', noWrite, silentLogger);
  expect(entry.abort('cancelled')).toBe(true);
  expect(entry.abort('shutdown')).toBe(false);
  const { signal } = entry.ctx;
  expect(signal.aborted).toBe(true);
  expect(signal.reason).toBeInstanceOf(TaskAbortedError);
  expect((signal.reason as TaskAbortedError).reason).toBe('cancelled');
  expect(entry.abortCause).toBe('cancelled');
});

it('fires a signal the handler already holds, once', () => {
  const entry = new RunningTask(task, { run: () => null }, 'w1', noWrite, silentLogger);
  const signal = entry.ctx.signal;
  let fired = 0;
  signal.addEventListener('abort', () => fired++);
  expect(entry.abortCause).toBeUndefined();
  entry.abort('lease_lost');
  entry.abort('lease_lost');
  expect(fired).toBe(1);
  expect((signal.reason as TaskAbortedError).reason).toBe('lease_lost');
});

it('keeps the last progress when the handler destructures its context', () => {
  const writes: number[] = [];
  const entry = new RunningTask(task, { run: () => null }, 'w1', async (_held, update) => (writes.push(update.percent), true), silentLogger);
  const { progress, setService } = entry.ctx;
  progress(10);
  progress(40, 'almost');
  setService('veo3');
  expect(entry.closeProgress()).toEqual({ percent: 40, message: 'almost' });
  expect(entry.service).toBe('veo3');
  expect(writes[0]).toBe(10);
});
