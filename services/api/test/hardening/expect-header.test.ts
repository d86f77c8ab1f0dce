import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHardeningServer, type HardeningServer } from './hardening-server.ts';

let server: HardeningServer;
beforeAll(async () => {
  server = await startHardeningServer();
});
afterAll(() => server?.close());

/** Sends one request with the headers given as they are (fetch refuses some, Expect among them). */
function send(path: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, server.origin);
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('an Expect header other than 100-continue', () => {
  it('is ignored: the request is served, body and all', async () => {
    const input = { prompt: 'x'.repeat(60_000) };
    for (const value of ['nothing', '']) {
      const answer = await send('/api/v1/tasks', { 'content-type': 'application/json', expect: value, connection: 'close' }, JSON.stringify({ kind: 'video', input }));
      expect(answer.status, answer.body).toBe(202);
      expect(JSON.parse(answer.body)).toMatchObject({ status: 'pending' });
    }
    const graphql = await send('/graphql', { 'content-type': 'application/json', expect: 'nothing' }, JSON.stringify({ query: '{ __typename }' }));
    expect(graphql).toMatchObject({ status: 200, body: '{"data":{"__typename":"Query"}}' });
  });
});
