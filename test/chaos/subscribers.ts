import WebSocket from 'ws';
import { sleep } from './processes.ts';

/** The REST body that the SSE and WebSocket endpoints send on each change. */
export interface TaskBody {
  task_id: string;
  status: string;
  progress: number;
  error: { type: string; message: string } | null;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** What one subscriber saw. */
export interface Followed {
  last: TaskBody | undefined;
  /** How many times it had to connect again (its API died or went away). */
  reconnects: number;
  /** Close codes of its WebSockets, in order (WebSocket subscribers only). */
  closeCodes: number[];
}

/**
 * Follows a task until its terminal state over `/api/v1/tasks/{id}/events` (SSE), switching to
 * the next API when a connection fails or ends early, resuming with `Last-Event-ID`.
 */
export async function followSse(apis: readonly string[], first: number, id: string, signal: AbortSignal): Promise<Followed> {
  const seen: Followed = { last: undefined, reconnects: -1, closeCodes: [] };
  let api = first;
  let lastEventId: string | undefined;
  while (!signal.aborted) {
    seen.reconnects++;
    const base = apis[api % apis.length]!;
    try {
      const response = await fetch(`${base}/api/v1/tasks/${id}/events`, {
        headers: lastEventId ? { 'last-event-id': lastEventId } : {},
        signal,
      });
      // 204: nothing newer than what we have, and it is terminal.
      if (response.status === 204 && seen.last && TERMINAL.has(seen.last.status)) return seen;
      if (!response.ok || !response.body) throw new Error(`events answered ${response.status}`);
      let buffer = '';
      const decoder = new TextDecoder();
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let data: string | undefined;
          let eventId: string | undefined;
          let event = 'message';
          for (const line of block.split('\n')) {
            if (line.startsWith('data: ')) data = line.slice(6);
            else if (line.startsWith('id: ')) eventId = line.slice(4);
            else if (line.startsWith('event: ')) event = line.slice(7);
          }
          if (event !== 'task' || !data) continue;
          seen.last = JSON.parse(data) as TaskBody;
          if (eventId) lastEventId = eventId;
        }
      }
      if (seen.last && TERMINAL.has(seen.last.status)) return seen;
    } catch {
      if (signal.aborted) break;
    }
    // The stream ended early or the API is gone: resume on the other one.
    api++;
    await sleep(100);
  }
  return seen;
}

/**
 * Follows a task over the `/ws/tasks/{id}` socket: every message is the task's state; a close
 * other than 1000 after a terminal state means "connect again", to the other API.
 */
export async function followSocket(apis: readonly string[], first: number, id: string, signal: AbortSignal): Promise<Followed> {
  const seen: Followed = { last: undefined, reconnects: -1, closeCodes: [] };
  let api = first;
  while (!signal.aborted) {
    seen.reconnects++;
    const base = apis[api % apis.length]!.replace(/^http/, 'ws');
    const code = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`${base}/ws/tasks/${id}`);
      const abort = () => socket.terminate();
      signal.addEventListener('abort', abort, { once: true });
      socket.on('message', (data) => {
        seen.last = JSON.parse(String(data)) as TaskBody;
      });
      socket.on('error', () => {});
      socket.on('close', (closeCode) => {
        signal.removeEventListener('abort', abort);
        resolve(closeCode);
      });
    });
    seen.closeCodes.push(code);
    if (code === 1000 && seen.last && TERMINAL.has(seen.last.status)) return seen;
    api++;
    await sleep(100);
  }
  return seen;
}
