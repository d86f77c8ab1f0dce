import { randomUUID } from 'node:crypto';
import type { RateLimiterOptions, RateLimitSlot } from './rate-limit.ts';

export interface SlotStore {
  /** Pushes the expiry of every slot listed (key → ids) `ttlMs` into the future. */
  renew(slots: ReadonlyMap<string, ReadonlySet<string>>, ttlMs: number): Promise<void>;
  /** Deletes one slot from the store. */
  remove(key: string, id: string): Promise<void>;
}

/**
 * The slots one process holds, and the heartbeat that keeps them counting. The store has the
 * cluster-wide truth; this only remembers which rows are ours so a beat can renew all of them in
 * one round trip and a shutdown can give them back.
 */
export class HeldSlots {
  readonly holder: string;
  readonly ttlMs: number;
  private readonly byKey = new Map<string, Set<string>>();
  private readonly heartbeatMs: number;
  private readonly onError: ((error: Error) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;

  constructor(
    private readonly store: SlotStore,
    { holder, slotTtlMs = 30_000, heartbeatMs, onError }: RateLimiterOptions,
  ) {
    this.holder = holder ?? `api-${randomUUID()}`;
    this.ttlMs = slotTtlMs;
    this.heartbeatMs = heartbeatMs ?? Math.max(1, Math.floor(slotTtlMs / 3));
    this.onError = onError;
  }

  newId(): string {
    return randomUUID();
  }

  get size(): number {
    let n = 0;
    for (const ids of this.byKey.values()) n += ids.size;
    return n;
  }

  /** Records a slot the store granted and returns its handle. */
  add(key: string, id: string): RateLimitSlot {
    let ids = this.byKey.get(key);
    if (!ids) this.byKey.set(key, (ids = new Set()));
    ids.add(id);
    this.startBeating();
    let released: Promise<void> | undefined;
    return {
      id,
      release: () => (released ??= this.release(key, id)),
    };
  }

  private async release(key: string, id: string): Promise<void> {
    const ids = this.byKey.get(key);
    ids?.delete(id);
    if (ids?.size === 0) this.byKey.delete(key);
    if (this.byKey.size === 0) this.stopBeating();
    // Best effort: a slot the store could not delete now stops counting when it expires.
    await this.store.remove(key, id).catch((error: Error) => this.onError?.(error));
  }

  /** Renews every held slot now (the timer calls this; tests may too). */
  async beat(): Promise<void> {
    if (this.byKey.size === 0) return;
    // A beat still in flight (a slow store) is not doubled.
    this.beating ??= this.store
      .renew(this.byKey, this.ttlMs)
      .catch((error: Error) => this.onError?.(error))
      .finally(() => (this.beating = undefined));
    await this.beating;
  }

  /** Forgets every slot without giving it back, as a process that died would. */
  abandon(): void {
    this.stopBeating();
    this.byKey.clear();
  }

  async releaseAll(): Promise<void> {
    this.stopBeating();
    const all = [...this.byKey].flatMap(([key, ids]) => [...ids].map((id) => [key, id] as const));
    this.byKey.clear();
    await Promise.all(all.map(([key, id]) => this.store.remove(key, id).catch((error: Error) => this.onError?.(error))));
  }

  private startBeating(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    // Open subscriptions keep the process alive, not their heartbeat.
    this.timer.unref();
  }

  private stopBeating(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
