import type { Task } from '@tasklane/core';
import { expect, it } from 'vitest';
import { ClaimLoop } from '../src/claim-loop.ts';
import { silentLogger } from '../src/logger.ts';

it('gives back, instead of starting, what a claim sent before stop() finds after it', async () => {
  let answer: (tasks: Task[]) => void = () => {};
  let claimSent: () => void = () => {};
  const sent = new Promise<void>((resolve) => (claimSent = resolve));
  const started: Task[][] = [];
  const givenBack: Task[][] = [];
  const loop = new ClaimLoop({
    claim: () => {
      claimSent();
      return new Promise<Task[]>((resolve) => (answer = resolve));
    },
    freeSlots: () => 1,
    onClaimed: (tasks) => void started.push(tasks),
    onClaimedAfterStop: async (tasks) => void givenBack.push(tasks),
    pollIntervalMs: 60_000,
    log: silentLogger,
  });
  loop.start();
  await sent;
  const stopped = loop.stop();
  const found = [{ id: 'vid_late', attempts: 1 } as Task];
  answer(found);
  await stopped;
  expect(started).toEqual([]);
  expect(givenBack).toEqual([found]);
});
