import type pg from 'pg';
import type { TaskStatus } from '@tasklane/core';
import { createClient } from './connect.ts';
import { TASK_CHANNEL } from './schema.ts';

/** One announced change: a wake-up, not the data. */
export interface TaskChange {
  id: string;
  version: number;
  status: TaskStatus;
}

/** Delivers task change announcements to this process. LISTEN/NOTIFY today; Redis behind the same shape. */
export interface EventBus {
  /** Resolves once listening. */
  start(): Promise<void>;
  /**
   * With `only`, the listener needs just changes to those statuses: it may still be given others
   * (a bus that does not filter, or one parsing everything for another listener anyway).
   */
  onChanges(listener: (changes: TaskChange[]) => void, only?: ReadonlySet<TaskStatus>): () => void;
  /** Called after the bus lost its connection and listens again: changes in between were missed. */
  onReconnect(listener: () => void): () => void;
  readonly connected: boolean;
  close(): Promise<void>;
}

/** The listener bookkeeping every bus shares: register, unregister, tell them all. */
export abstract class EventBusListeners {
  private readonly changeListeners = new Map<(changes: TaskChange[]) => void, ReadonlySet<TaskStatus> | undefined>();
  private readonly reconnectListeners = new Set<() => void>();
  /** The statuses some listener needs, or undefined when one needs them all. */
  private wanted: ReadonlySet<TaskStatus> | undefined = new Set();

  onChanges(listener: (changes: TaskChange[]) => void, only?: ReadonlySet<TaskStatus>): () => void {
    // A key, so that the same function given twice is told once, as with a Set.
    this.changeListeners.set(listener, only);
    this.rewant();
    return () => {
      this.changeListeners.delete(listener);
      this.rewant();
    };
  }

  private rewant(): void {
    const wanted = new Set<TaskStatus>();
    for (const only of this.changeListeners.values()) {
      if (!only) {
        this.wanted = undefined;
        return;
      }
      for (const status of only) wanted.add(status);
    }
    this.wanted = wanted;
  }

  /**
   * Tells the listeners the changes in a payload, parsing only what they need: a worker wants
   * new work and cancellations, while most of the announcements are the claims and completions
   * of every worker in the cluster, which it would otherwise take apart only to drop.
   */
  protected emitPayload(payload: string): void {
    const wanted = this.wanted;
    if (wanted?.size === 0) return;
    const changes = parseChanges(payload, wanted);
    if (changes.length > 0) this.emitChanges(changes);
  }

  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  protected emitChanges(changes: TaskChange[]): void {
    for (const listener of this.changeListeners.keys()) listener(changes);
  }

  protected emitReconnect(): void {
    for (const listener of this.reconnectListeners) listener();
  }
}

const STATUS_BY_CODE: Record<string, TaskStatus> = {
  p: 'pending',
  r: 'processing',
  c: 'completed',
  f: 'failed',
  x: 'cancelled',
};

/**
 * Parses the trigger's payload: space-separated `id:version:s` entries. With `only`, just the
 * entries with those statuses: the others are passed over by their last character, unsplit.
 */
export function parseChanges(payload: string, only?: ReadonlySet<TaskStatus>): TaskChange[] {
  const changes: TaskChange[] = [];
  if (!only) {
    for (const entry of payload.split(' ')) parseEntry(entry, changes);
    return changes;
  }
  for (let start = 0; start <= payload.length; ) {
    let end = payload.indexOf(' ', start);
    if (end === -1) end = payload.length;
    // A well-formed entry ends in ":s"; anything else is split as without `only`.
    const status = payload.charCodeAt(end - 2) === COLON && end - start >= 2 ? STATUS_BY_CODE[payload[end - 1]!] : undefined;
    if (status === undefined || only.has(status)) parseEntry(payload.slice(start, end), changes, only);
    start = end + 1;
  }
  return changes;
}

const COLON = 58;

function parseEntry(entry: string, into: TaskChange[], only?: ReadonlySet<TaskStatus>): void {
  const [id, version, code] = entry.split(':');
  const status = code ? STATUS_BY_CODE[code] : undefined;
  if (id && version && status && (!only || only.has(status))) into.push({ id, version: Number(version), status });
}

const CODE_BY_STATUS: Record<TaskStatus, string> = {
  pending: 'p',
  processing: 'r',
  completed: 'c',
  failed: 'f',
  cancelled: 'x',
};

/** The inverse of `parseChanges`: the same compact format the trigger sends, for buses outside Postgres. */
export function formatChanges(changes: readonly TaskChange[]): string {
  return changes.map((c) => `${c.id}:${c.version}:${CODE_BY_STATUS[c.status]}`).join(' ');
}

export interface PgEventBusOptions {
  connectionString: string;
  /** Longest wait between reconnection attempts. @default 5000 */
  maxReconnectDelayMs?: number;
  onError?: (error: Error) => void;
}

/**
 * One LISTEN connection for the whole process. When it drops (server restart, a killed backend,
 * a network cut) it reconnects with backoff and then tells `onReconnect` listeners, who re-read
 * what they follow: notifications sent while it was away are gone.
 */
export class PgEventBus extends EventBusListeners implements EventBus {
  private client: pg.Client | undefined;
  private closed = false;
  private everConnected = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  connected = false;

  constructor(private readonly options: PgEventBusOptions) {
    super();
  }

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = createClient(this.options.connectionString, 'tasklane-listen');
    client.on('notification', (message) => {
      if (message.channel !== TASK_CHANNEL || !message.payload) return;
      this.emitPayload(message.payload);
    });
    const lost = (error?: Error) => {
      if (this.client !== client) return;
      this.client = undefined;
      this.connected = false;
      if (error) this.options.onError?.(error);
      client.end().catch(() => {});
      this.scheduleReconnect(100);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    await client.connect();
    await client.query(`listen ${TASK_CHANNEL}`);
    this.client = client;
    this.connected = true;
    if (this.closed) {
      await client.end();
      return;
    }
    if (this.everConnected) this.emitReconnect();
    this.everConnected = true;
  }

  private scheduleReconnect(delayMs: number): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().catch((error: Error) => {
        this.options.onError?.(error);
        this.scheduleReconnect(Math.min(delayMs * 2, this.options.maxReconnectDelayMs ?? 5000));
      });
    }, delayMs);
    this.reconnectTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.connected = false;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }
}
