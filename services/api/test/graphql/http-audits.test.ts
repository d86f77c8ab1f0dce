import { afterAll, beforeAll, expect, it } from 'vitest';
import { serverAudits } from 'graphql-http';
import { startTestServer, type TestServer } from './test-server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

it('passes every MUST and SHOULD audit of the GraphQL-over-HTTP spec', async () => {
  const audits = serverAudits({ url: server.url });
  const failed: string[] = [];
  let required = 0;
  for (const audit of audits) {
    if (audit.name.startsWith('MAY')) continue;
    required++;
    const result = await audit.fn();
    if (result.status !== 'ok') failed.push(`${audit.id} ${audit.name}: ${result.reason}`);
  }
  expect(required).toBeGreaterThan(30);
  expect(failed).toEqual([]);
});
