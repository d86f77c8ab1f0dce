import { Redis } from 'ioredis';
import type { EventBus, TaskChange } from './event-bus.ts';
import { EventBusListeners, formatChanges } from './event-bus.ts';
import { TASK_CHANNEL } from './schema.ts';

export interface RedisEventBusOptions {
  /** `redis://host:port/db` or `rediss://…`. */
  url: string;
  /** The pub/sub channel; every process of one deployment must use the same. @default 'tasklane_task' */
  channel?: string;
  /** Longest wait between reconnection attempts. @default 5000 */
  maxReconnectDelayMs?: number;
  /**
   * Changes published while Redis is unreachable are kept (the newest version of each task) and
   * sent once it is back, so that subscribers elsewhere, whose own connection never dropped and
   * who therefore do not resync, still hear of them. Past this many tasks the oldest are dropped
   * (and `onError` says so). @default 10000
   */
  maxPendingChanges?: number;
  /** Prefix of the connections' `CLIENT SETNAME` (`-listen`, `-publish`), as `CLIENT LIST` shows them. @default 'tasklane' */
  connectionName?: string;
  onError?: (error: Error) => void;
}

// Entries per PUBLISH: keeps each message small, like the trigger's ~8 kB NOTIFY payloads.
const CHANGES_PER_MESSAGE = 400;

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * The event bus on Redis pub/sub, for deployments where many API replicas holding a LISTEN
 * connection each would load Postgres. Redis cannot see inside a database transaction, so the
 * stores publish after commit (their `onChanges` option, wired to `publish`); the Postgres
 * trigger's NOTIFY still fires but nobody listens.
 *
 * Two connections: a connection in subscriber mode can run no other command. After the
 * subscriber reconnects it subscribes again *before* telling `onReconnect` listeners, who then
 * re-read what they follow: subscribe, then read, so nothing published in between is lost.
 */
export class RedisEventBus extends EventBusListeners implements EventBus {
  private readonly subscriber: Redis;
  private readonly publisher: Redis;
  private readonly channel: string;
  private readonly pending = new Map<string, TaskChange>();
  private waiters: Waiter[] = [];
  private everConnected = false;
  private closed = false;
  connected = false;

  constructor(private readonly options: RedisEventBusOptions) {
    super();
    this.channel = options.channel ?? TASK_CHANNEL;
    const maxDelay = options.maxReconnectDelayMs ?? 5000;
    const name = options.connectionName ?? 'tasklane';
    const common = {
      lazyConnect: true,
      // Retry for ever with capped backoff: an outage of Redis must not end the process.
      retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 10), maxDelay),
    };
    // Subscriptions are renewed by hand on every 'ready', so the resync runs after they are in place.
    this.subscriber = new Redis(options.url, { ...common, autoResubscribe: false, maxRetriesPerRequest: null, connectionName: `${name}-listen` });
    // No offline queue: while Redis is away, publish() keeps changes in `pending` itself, coalesced.
    this.publisher = new Redis(options.url, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectionName: `${name}-publish` });

    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      this.emitPayload(message);
    });
    this.subscriber.on('ready', () => void this.subscribe());
    this.subscriber.on('close', () => {
      this.connected = false;
    });
    this.subscriber.on('error', (error: Error) => this.failed(error));
    this.publisher.on('ready', () => this.flush());
    this.publisher.on('error', (error: Error) => this.options.onError?.(error));
  }

  /** Resolves once subscribed. Rejects if the first connection fails; it keeps trying in the background. */
  async start(): Promise<void> {
    if (this.connected) return;
    const subscribed = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.subscriber.status === 'wait') this.subscriber.connect().catch(() => {});
    if (this.publisher.status === 'wait') this.publisher.connect().catch(() => {});
    await subscribed;
  }

  /** Announces committed changes to every process on the bus. Never throws, never waits. */
  publish(changes: readonly TaskChange[]): void {
    if (this.closed || changes.length === 0) return;
    if (this.publisher.status !== 'ready' || this.pending.size > 0) {
      this.keep(changes);
      if (this.publisher.status === 'ready') this.flush();
      return;
    }
    this.send(changes);
  }

  private send(changes: readonly TaskChange[]): void {
    for (let i = 0; i < changes.length; i += CHANGES_PER_MESSAGE) {
      const chunk = changes.slice(i, i + CHANGES_PER_MESSAGE);
      this.publisher.publish(this.channel, formatChanges(chunk)).catch((error: Error) => {
        // Lost on the way out (connection dropped mid-command): send again once reconnected.
        this.keep(chunk);
        this.options.onError?.(error);
      });
    }
  }

  private keep(changes: readonly TaskChange[]): void {
    for (const change of changes) {
      const known = this.pending.get(change.id);
      if (!known || known.version < change.version) {
        this.pending.delete(change.id);
        this.pending.set(change.id, change);
      }
    }
    const limit = this.options.maxPendingChanges ?? 10_000;
    if (this.pending.size <= limit) return;
    let excess = this.pending.size - limit;
    for (const id of this.pending.keys()) {
      if (excess-- <= 0) break;
      this.pending.delete(id);
    }
    this.options.onError?.(new Error(`Redis is unreachable: dropped the oldest unsent task changes beyond ${limit}`));
  }

  private flush(): void {
    if (this.pending.size === 0 || this.publisher.status !== 'ready') return;
    const changes = [...this.pending.values()];
    this.pending.clear();
    this.send(changes);
  }

  private async subscribe(): Promise<void> {
    try {
      await this.subscriber.subscribe(this.channel);
    } catch (error) {
      // The connection dropped again before the subscription landed; the next 'ready' retries.
      this.failed(error as Error);
      return;
    }
    if (this.closed) return;
    this.connected = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.resolve();
    if (this.everConnected) this.emitReconnect();
    this.everConnected = true;
  }

  private failed(error: Error): void {
    this.options.onError?.(error);
    if (this.connected) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.connected = false;
    for (const waiter of this.waiters) waiter.reject(new Error('The event bus was closed'));
    this.waiters = [];
    this.subscriber.disconnect();
    // A last chance for changes made just before closing; without a connection they are gone.
    if (this.publisher.status === 'ready') await this.publisher.quit().catch(() => {});
    this.publisher.disconnect();
  }
}
