import { sleep } from './processes.ts';

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  /** The API that answered. */
  api: string;
}

/**
 * One REST call to whichever API replica answers: a refused connection or a 503 moves on to the
 * next replica, as a client behind a load balancer would see it. Anything else is the answer.
 */
export async function callAny(
  apis: readonly string[],
  first: number,
  method: string,
  path: string,
  { body, headers = {}, timeoutMs = 60_000 }: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let i = first; Date.now() < deadline; i++) {
    const api = apis[i % apis.length]!;
    try {
      const response = await fetch(`${api}${path}`, {
        method,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await response.text();
      if (response.status === 503) {
        lastError = new Error(`${api} answered 503`);
        await sleep(200);
        continue;
      }
      return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, api };
    } catch (error) {
      lastError = error;
      await sleep(100);
    }
  }
  throw new Error(`${method} ${path}: no API answered (${String(lastError)})`);
}
