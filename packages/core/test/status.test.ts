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

describe('task id encoding', () => {
  it('encodes the UUIDv7 time in the first ten characters, as TypeID does', () => {
    // 2026-01-11T10:30:00Z = 1768127400000 ms. Two zero pad bits, then the 48 time bits: 10 chars.
    const id = newTaskId('video', 1768127400000);
    const head = id.slice(4, 14);
    let value = 0;
    for (const ch of head) value = value * 32 + '0123456789abcdefghjkmnpqrstvwxyz'.indexOf(ch);
    expect(value).toBe(1768127400000);
  });

  it('makes distinct ids in a burst within one millisecond', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newTaskId('image', 1)));
    expect(ids.size).toBe(10_000);
  });

  it('sorts the ids made in one millisecond in the order they were made, and the next millisecond after them', () => {
    for (let run = 0; run < 50; run++) {
      const made = [
        ...Array.from({ length: 2000 }, () => newTaskId('image', 1_768_127_400_000 + run * 2)),
        ...Array.from({ length: 10 }, () => newTaskId('image', 1_768_127_400_001 + run * 2)),
      ];
      expect([...made].sort()).toEqual(made);
    }
  });

  it('keeps the time and the shape of an id whatever the counter', () => {
    const ids = Array.from({ length: 5000 }, () => newTaskId('video', 1_768_127_400_000));
    for (const id of ids) {
      expect(isTaskId(id)).toBe(true);
      expect(id.slice(4, 14)).toBe(ids[0]!.slice(4, 14));
    }
  });
});
