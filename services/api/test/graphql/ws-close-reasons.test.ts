import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CloseCode } from 'graphql-ws';
import { fitCloseReason, SocketClose } from '@tasklane/core';
import { startHardeningServer, type HardeningServer } from '../hardening/hardening-server.ts';

let server: HardeningServer;
beforeAll(async () => {
  server = await startHardeningServer();
});
afterAll(() => server?.close());

/** Opens graphql-ws, sends `frames` after the ack, and answers the close code and reason. */
function closeAfter(frames: unknown[]): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${server.origin.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
    socket.on('message', (data) => {
      if ((JSON.parse(String(data)) as { type: string }).type === 'connection_ack') for (const frame of frames) socket.send(JSON.stringify(frame));
    });
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    socket.once('error', reject);
  });
}

it('closes with 4409 when a long subscription id is reused, its reason cut to fit a close frame', async () => {
  const id = 'é'.repeat(500);
  const subscribe = { id, type: 'subscribe', payload: { query: 'subscription { tasksUpdated { id } }' } };
  const { code, reason } = await closeAfter([subscribe, subscribe]);
  expect(code).toBe(4409);
  expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
  expect(reason).toMatch(/^Subscriber for é+\.\.\.$/);
});

it('cuts close reasons by bytes on character boundaries', () => {
  expect(fitCloseReason('short')).toBe('short');
  const cut = fitCloseReason(`x${'😀'.repeat(100)}`);
  expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(123);
  expect(cut).not.toContain('\uFFFD');
  expect(cut.endsWith('😀...')).toBe(true);
});

it("keeps graphql-ws's values for the protocol's close codes that server and client share", () => {
  expect(SocketClose.BadRequest).toBe(CloseCode.BadRequest);
  expect(SocketClose.Unauthorized).toBe(CloseCode.Unauthorized);
  expect(SocketClose.Forbidden).toBe(CloseCode.Forbidden);
  expect(SocketClose.RateLimited).toBe(CloseCode.TooManyInitialisationRequests);
});
