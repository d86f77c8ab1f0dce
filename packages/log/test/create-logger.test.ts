import { describe, expect, it } from 'vitest';
import { createLogger, messageFirst } from '../src/index.ts';

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (chunk: string) => void lines.push(...chunk.split('\n').filter(Boolean)) } };
}

describe('createLogger', () => {
  it('writes JSON lines with level names, ISO time, service, pid and msg when the output is not a terminal', () => {
    const out = capture();
    const log = createLogger({ service: 'api', destination: out.destination, isTerminal: false });
    log.info({ taskId: 'vid_1', attempt: 2 }, 'task completed');
    expect(out.lines).toHaveLength(1);
    const line = JSON.parse(out.lines[0]!) as Record<string, unknown>;
    expect(line).toEqual({ level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), service: 'api', pid: process.pid, taskId: 'vid_1', attempt: 2, msg: 'task completed' });
  });

  it('drops lines below its level', () => {
    const out = capture();
    const log = createLogger({ service: 'worker', level: 'warn', destination: out.destination, isTerminal: false });
    log.info('not shown');
    log.debug('not shown either');
    log.warn('shown');
    expect(out.lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['shown']);
  });

  it('writes readable lines on a terminal, with the fields after the message', () => {
    const out = capture();
    const log = createLogger({ service: 'launcher', destination: out.destination, isTerminal: true });
    log.warn({ port: 8000, why: 'in use here' }, 'port taken');
    expect(out.lines).toHaveLength(1);
    // Colours on a terminal: the level name is wrapped in an ANSI colour code.
    const ESC = String.fromCharCode(27);
    expect(out.lines[0]!.slice(13)).toBe(`${ESC}[33mWARN ${ESC}[0m launcher port taken port=8000 why="in use here"`);
    expect(out.lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} /);
  });

  it('follows LOG_FORMAT over the terminal check', () => {
    const pretty = capture();
    createLogger({ service: 'api', format: 'pretty', destination: pretty.destination, isTerminal: false }).info({ a: 1 }, 'hello');
    expect(pretty.lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}api {6}hello a=1$/);
    const json = capture();
    createLogger({ service: 'api', format: 'json', destination: json.destination, isTerminal: true }).info('hello');
    expect(JSON.parse(json.lines[0]!)).toMatchObject({ level: 'info', msg: 'hello' });
  });
});

describe('messageFirst', () => {
  it('gives the worker SDK its (msg, fields) shape over the same lines', () => {
    const out = capture();
    const log = messageFirst(createLogger({ service: 'worker', level: 'debug', destination: out.destination, isTerminal: false }));
    log.debug('claimed', { count: 3 });
    log.error('claim failed; retrying');
    expect(out.lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toMatchObject([
      { level: 'debug', service: 'worker', msg: 'claimed', count: 3 },
      { level: 'error', service: 'worker', msg: 'claim failed; retrying' },
    ]);
  });
});
