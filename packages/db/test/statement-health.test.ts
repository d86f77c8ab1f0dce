import { expect, it } from 'vitest';
import { StatementHealth } from '../src/index.ts';

const refused = Object.assign(new Error('prepared statement "tasklane_claim_1" already exists'), { code: '42P05' });

it('reports a statement that has failed every time for longer than the threshold, naming it and its error', () => {
  const health = new StatementHealth();
  health.failed('tasklane_claim', refused, 0);
  health.failed('tasklane_claim', refused, 20_000);
  expect(health.problem(30_000, 29_000)).toBeUndefined();
  health.failed('tasklane_claim', refused, 31_000);
  expect(health.problem(30_000, 31_000)).toBe('statement tasklane_claim has failed for 31 s: prepared statement "tasklane_claim_1" already exists (42P05)');
  expect(health.failingForMs('tasklane_claim', 31_000)).toBe(31_000);
});

it('forgets the failures of a statement once it succeeds, but keeps counting them', () => {
  const health = new StatementHealth();
  health.failed('tasklane_complete', refused, 0);
  health.failed('tasklane_complete', new Error('socket closed'), 40_000);
  health.succeeded('tasklane_complete');
  expect(health.problem(30_000, 41_000)).toBeUndefined();
  expect(health.failingForMs('tasklane_complete', 41_000)).toBe(0);
  expect(health.errorCounts()).toEqual([
    { statement: 'tasklane_complete', code: '42P05', count: 1 },
    { statement: 'tasklane_complete', code: 'unknown', count: 1 },
  ]);
});

it('does not report an outage shorter than the threshold, even while the statement goes unsent after it', () => {
  const health = new StatementHealth();
  health.failed('tasklane_get', refused, 0);
  health.failed('tasklane_get', refused, 10_000);
  expect(health.problem(30_000, 45_000)).toBeUndefined();
});

it('says nothing about a statement that stopped being sent a lease ago', () => {
  const health = new StatementHealth();
  health.failed('tasklane_get', refused, 0);
  health.failed('tasklane_get', refused, 35_000);
  expect(health.problem(30_000, 40_000)).toMatch(/^statement tasklane_get has failed for 40 s/);
  expect(health.problem(30_000, 70_000)).toBeUndefined();
});

it('reads the code of an error wrapped in an AggregateError (a refused connection on ::1 and 127.0.0.1)', () => {
  const health = new StatementHealth();
  const refusedConnection = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  health.failed('tasklane_heartbeat', new AggregateError([refusedConnection], 'connect failed'), 0);
  expect(health.errorCounts()).toEqual([{ statement: 'tasklane_heartbeat', code: 'ECONNREFUSED', count: 1 }]);
});
