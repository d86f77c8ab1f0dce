import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: { type: string; timestamp: string; data: Record<string, unknown> };
  /** What the receiver answered. */
  status: number;
  at: number;
}

/** How to answer the n-th request (from 0): a status, or 'hang' to never answer. */
export type Answer = number | 'hang' | { status: number; headers?: Record<string, string>; body?: string };

/**
 * A real HTTP receiver on loopback for webhook tests: it records every request and answers as
 * `answer` says for each request number.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private server: http.Server | undefined;
  private readonly hanging = new Set<http.ServerResponse>();
  port = 0;

  constructor(public answer: (index: number, request: { headers: http.IncomingHttpHeaders; body: string }) => Answer = () => 200) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Starts listening (on `port` again after a `close`, to model a receiver that was down). */
  async listen(port = this.port): Promise<this> {
    const server = http.createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        const answer = this.answer(this.received.length, { headers: request.headers, body });
        const spec = typeof answer === 'object' ? answer : { status: answer === 'hang' ? 0 : answer };
        this.received.push({ headers: request.headers, body, json: JSON.parse(body) as ReceivedWebhook['json'], status: spec.status, at: Date.now() });
        if (answer === 'hang') {
          this.hanging.add(response);
          return;
        }
        response.writeHead(spec.status, spec.headers ?? {});
        response.end(spec.body ?? '');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** The requests for one task, in arrival order. */
  forTask(taskId: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.json.data.task_id === taskId);
  }

  async close(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.hanging.clear();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
