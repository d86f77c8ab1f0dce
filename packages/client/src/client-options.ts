/** The poll schedule `waitFor` falls back to when the socket cannot be used (the seed's exponential backoff). */
export interface PollSchedule {
  /** Wait after the first poll. @default 2000 */
  initialMs?: number;
  /** Each wait is the previous one times this. @default 1.5 */
  factor?: number;
  /** Waits never grow past this. @default 30000 */
  maxMs?: number;
}

/** How a dropped WebSocket is opened again. */
export interface ReconnectPolicy {
  /** Attempts in a row before giving up (then `watch` throws and `waitFor` polls). @default 10 */
  attempts?: number;
  /** Wait before attempt `n` (0-based). @default 500 ms doubling per attempt, at most 10 s, with jitter */
  delayMs?: (attempt: number) => number;
}

/** How `waitFor` decides that a task has stalled. */
export interface StallPolicy {
  /** Checks in a row without any change to the task before it counts as stalled. @default 10 (the seed's threshold) */
  after?: number;
  /**
   * How often a check happens while following the subscription. While polling, every poll is a
   * check. @default 5000
   */
  intervalMs?: number;
}

export interface TasklaneClientOptions {
  /** The GraphQL endpoint over HTTP, e.g. http://localhost:8000/graphql. A bare origin gets `/graphql` added. */
  url: string;
  /** The graphql-ws endpoint. @default `url` with http(s) replaced by ws(s) */
  wsUrl?: string;
  /** Sent as `Authorization: Bearer <apiKey>` over HTTP and as `connectionParams.authorization` over graphql-ws. */
  apiKey?: string;
  /** The fetch to use (tests, proxies, older runtimes). @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * The WebSocket class for subscriptions. Browsers and Node 22+ have a global one; on Node 20 pass
   * the `ws` package's default export. `null` means none even where a global exists (a proxy that
   * blocks WebSockets). Without any, `watch` fails and `waitFor` polls.
   * @default globalThis.WebSocket, read when the client is created
   */
  webSocketImpl?: unknown;
  /** Extra headers for every HTTP request. */
  headers?: Record<string, string>;
  /** Default poll schedule of `waitFor`. */
  polling?: PollSchedule;
  /** How subscriptions reconnect after the socket drops. */
  reconnect?: ReconnectPolicy;
  /** Default stall detection of `waitFor`. */
  stall?: StallPolicy;
}
