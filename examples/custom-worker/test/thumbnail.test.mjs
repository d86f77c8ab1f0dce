// The handler's unit tests: `npm test`. runHandler runs it as the worker would, with no database.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runHandler } from '@tasklane/worker/testing';
import { thumbnail } from '../src/thumbnail.mjs';

process.env.STEP_MS = '1';

test('makes a thumbnail URL and reports progress', async () => {
  const run = runHandler(thumbnail, { kind: 'thumbnail', input: { url: 'https://img.example.com/a.png', width: 100 } });
  const outcome = await run.outcome;
  assert.deepEqual(outcome, { status: 'completed', result: { thumbnail_url: 'https://img.example.com/a-100w.webp', width: 100 }, service: 'example-resizer' });
  assert.equal(run.progress[0]?.message, 'downloading');
});

test('fails without retrying when the URL is not https', async () => {
  const outcome = await runHandler(thumbnail, { input: { url: 'ftp://x' } }).outcome;
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.error.type, 'InvalidInput');
  assert.equal(outcome.willRetry, false);
});

test('stops when cancelled', async () => {
  const run = runHandler(thumbnail, { input: { url: 'https://img.example.com/a.png' } });
  run.abort('cancelled');
  assert.deepEqual(await run.outcome, { status: 'dropped', reason: 'cancelled' });
});
