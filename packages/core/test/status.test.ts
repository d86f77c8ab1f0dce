import { describe, expect, it } from 'vitest';
import { TASK_STATUSES, canTransition, isTerminal, newTaskId, isTaskId, kindPrefix } from '../src/index.ts';

describe('statuses', () => {
  const allowed = new Set([
    'pending>processing', 'pending>cancelled', 'pending>failed',
    'processing>pending', 'processing>completed', 'processing>failed', 'processing>cancelled',
  ]);

  it('allows exactly the lifecycle moves and nothing out of a terminal status', () => {
    for (const from of TASK_STATUSES) {
      for (const to of TASK_STATUSES) {
        expect(canTransition(from, to), `${from} -> ${to}`).toBe(allowed.has(`${from}>${to}`));
      }
    }
  });

  it('marks completed, failed and cancelled as terminal', () => {
    expect(TASK_STATUSES.filter(isTerminal)).toEqual(['completed', 'failed', 'cancelled']);
  });
});

describe('task ids', () => {
  it('prefixes the seed kinds and uses the kind itself otherwise', () => {
    expect(newTaskId('video')).toMatch(/^vid_[0-9a-z]{26}$/);
    expect(newTaskId('image')).toMatch(/^img_[0-9a-z]{26}$/);
    expect(kindPrefix('transcode')).toBe('transcode');
  });

  it('sorts ids by creation time', () => {
    const earlier = newTaskId('video', Date.UTC(2026, 0, 11, 10, 30));
    const later = newTaskId('video', Date.UTC(2026, 0, 11, 10, 31));
    expect(earlier < later).toBe(true);
  });

  it('recognises well-formed ids only', () => {
    expect(isTaskId(newTaskId('video'))).toBe(true);
    expect(isTaskId('vid_abc123')).toBe(false);
    expect(isTaskId("vid_' or 1=1 --")).toBe(false);
  });
});
