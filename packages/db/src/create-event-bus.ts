import type { EventBusKind } from '@tasklane/core';
import type { ChangeListener } from './change-publisher.ts';
import { PgEventBus, type EventBus } from './event-bus.ts';
import { RedisEventBus } from './redis-event-bus.ts';

export interface EventBusChoice {
  kind: EventBusKind;
  /** Where to LISTEN (a direct or session-mode connection, never a transaction pooler). */
  listenUrl: string;
  redisUrl?: string | undefined;
  onError?: (error: Error) => void;
}

export interface ChosenEventBus {
  bus: EventBus;
  /**
   * What the stores of this process pass as `onChanges`. Undefined for LISTEN/NOTIFY, where the
   * database trigger announces every change inside the writing transaction.
   */
  publish: ChangeListener | undefined;
}

/** The bus that `EVENT_BUS` names, and how this process's writers feed it. */
export function createEventBus({ kind, listenUrl, redisUrl, onError }: EventBusChoice): ChosenEventBus {
  if (kind === 'redis') {
    if (!redisUrl) throw new TypeError('createEventBus: EVENT_BUS=redis needs REDIS_URL');
    const bus = new RedisEventBus({ url: redisUrl, ...(onError ? { onError } : {}) });
    return { bus, publish: (changes) => bus.publish(changes) };
  }
  return { bus: new PgEventBus({ connectionString: listenUrl, ...(onError ? { onError } : {}) }), publish: undefined };
}
