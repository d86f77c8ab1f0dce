import WebSocket from 'ws';
import { createTasklaneClient, type TasklaneClient } from '@tasklane/client';
import { UsageError } from './exit-codes.ts';

export const DEFAULT_URL = 'http://localhost:8000';

/** The client for a remote command: `--url`, else TASKLANE_URL, else the local default. */
export function remoteClient(url: string | undefined, env: NodeJS.ProcessEnv = process.env): TasklaneClient {
  const target = url || env['TASKLANE_URL'] || DEFAULT_URL;
  if (!URL.canParse(target) || !/^https?:$/.test(new URL(target).protocol)) {
    throw new UsageError(`"${target}" is not an http(s) URL (from ${url ? '--url' : 'TASKLANE_URL'})`);
  }
  return createTasklaneClient({
    url: target,
    apiKey: env['TASKLANE_API_KEY'] || undefined,
    // Node 20 has no global WebSocket; Node 22 does, and then it is used.
    webSocketImpl: globalThis.WebSocket ?? WebSocket,
  });
}

/** Runs `body` with a client and closes its socket afterwards, so the process can exit. */
export async function withClient<T>(url: string | undefined, body: (client: TasklaneClient) => Promise<T>): Promise<T> {
  const client = remoteClient(url);
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}
