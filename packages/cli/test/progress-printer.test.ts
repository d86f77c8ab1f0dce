import { describe, expect, it } from 'vitest';
import type { Task } from '@tasklane/client';
import { createProgressPrinter } from '../src/output/progress-printer.ts';
import { progressBar, progressLine } from '../src/output/progress-line.ts';

function task(overrides: Partial<Task>): Task {
  return {
    id: 'vid_1',
    kind: 'video',
    service: null,
    status: 'PROCESSING',
    progress: 0,
    message: null,
    input: {},
    result: null,
    error: null,
    attempts: 1,
    maxAttempts: 3,
    priority: 0,
    runAt: '2026-01-11T10:30:00.000Z',
    createdAt: '2026-01-11T10:30:00.000Z',
    updatedAt: '2026-01-11T10:30:00.000Z',
    startedAt: null,
    completedAt: null,
    finishedAt: null,
    version: 1,
    metadata: {},
    retriedFrom: null,
    queue: null,
    ...overrides,
  };
}

function fakeStream(isTTY: boolean, columns = 200) {
  let text = '';
  return { isTTY, columns, write: (chunk: string) => (text += chunk), text: () => text };
}

describe('progress output', () => {
  it('draws a bar proportional to the percentage', () => {
    expect(progressBar(0, 10)).toBe('[░░░░░░░░░░]');
    expect(progressBar(50, 10)).toBe('[█████░░░░░]');
    expect(progressBar(100, 10)).toBe('[██████████]');
  });

  it('redraws one line in place on a terminal', () => {
    const out = fakeStream(true);
    const printer = createProgressPrinter(out);
    printer.update(task({ progress: 10, message: 'Starting' }));
    printer.update(task({ progress: 60, message: 'Rendering', version: 2 }));
    printer.end();
    const frames = out.text().split('\r').filter(Boolean);
    expect(frames).toHaveLength(2);
    const clearToEnd = '\x1b[K';
    expect(frames[0]).toBe(`vid_1  ${progressBar(10)}   10%  processing  Starting${clearToEnd}`);
    expect(frames[1]).toBe(`vid_1  ${progressBar(60)}   60%  processing  Rendering${clearToEnd}\n`);
  });

  it('shows a queued task by its place and ETA instead of its message', () => {
    const queued = task({ status: 'PENDING', message: 'Waiting: 3 ahead', queue: { position: 4, ahead: 3, etaSeconds: 40, waitingFor: null } });
    expect(progressLine(queued)).toMatch(/ pending {2}queued: 3 ahead, ~40 s$/);
    const capped = task({ status: 'PENDING', queue: { position: 1, ahead: 0, etaSeconds: null, waitingFor: 'VIDEO_MAX_CONCURRENT' } });
    expect(progressLine(capped)).toMatch(/ pending {2}queued: 0 ahead, VIDEO_MAX_CONCURRENT reached$/);
    const paused = task({ status: 'PENDING', queue: { position: 3, ahead: 2, etaSeconds: null, waitingFor: 'paused' } });
    expect(progressLine(paused)).toMatch(/ pending {2}paused: 2 ahead$/);
  });

  it('cuts the line to the terminal width so it never wraps', () => {
    const line = progressLine(task({ message: 'x'.repeat(300) }), { columns: 80 });
    expect(line.length).toBe(79);
    expect(line.endsWith('…')).toBe(true);
  });

  it('prints plain lines when not a terminal', () => {
    const out = fakeStream(false);
    const printer = createProgressPrinter(out);
    printer.update(task({ progress: 10 }));
    printer.stalled(task({ progress: 10 }), { checks: 10, quietMs: 61_000 });
    printer.end();
    expect(out.text()).not.toContain('\r');
    expect(out.text().split('\n')).toEqual([
      `vid_1  ${progressBar(10)}   10%  processing`,
      `vid_1  ${progressBar(10)}   10%  processing  (no update for 61s)`,
      '',
    ]);
  });
});
