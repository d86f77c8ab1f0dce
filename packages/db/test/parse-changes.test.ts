import { describe, expect, it } from 'vitest';
import type { TaskStatus } from '@tasklane/core';
import { formatChanges, parseChanges, type TaskChange } from '../src/event-bus.ts';

const changes: TaskChange[] = [
  { id: 'video_01jz8k', version: 1, status: 'pending' },
  { id: 'video_01jz8m', version: 3, status: 'processing' },
  { id: 'image_01jz8n', version: 4, status: 'completed' },
  { id: 'image_01jz8p', version: 5, status: 'failed' },
  { id: 'video_01jz8q', version: 12, status: 'cancelled' },
];

describe('parseChanges', () => {
  it('reads back what formatChanges wrote', () => {
    expect(parseChanges(formatChanges(changes))).toEqual(changes);
  });

  it('with `only`, keeps just the entries with those statuses, in order', () => {
    const only = new Set<TaskStatus>(['pending', 'cancelled']);
    expect(parseChanges(formatChanges(changes), only)).toEqual(changes.filter((c) => only.has(c.status)));
    expect(parseChanges(formatChanges(changes), new Set(['completed']))).toEqual([changes[2]]);
  });

  it('with `only`, drops the entries the full parse drops', () => {
    const payload = ['a:1:p', '', 'b::x', ':2:p', 'c:3:z', 'd:4', 'e:5:x', 'f:6:p '].join(' ');
    const only = new Set<TaskStatus>(['pending', 'cancelled']);
    expect(parseChanges(payload, only)).toEqual(parseChanges(payload).filter((c) => only.has(c.status)));
    expect(parseChanges(payload, only).map((c) => c.id)).toEqual(['a', 'e', 'f']);
  });
});
