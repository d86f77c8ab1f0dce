import type { Task, TasklaneClient } from '@tasklane/client';

export interface LiveFeedOptions {
  client: TasklaneClient;
  /** Only these kinds are subscribed to; empty means every kind. */
  kind: string;
  /** Called with every change the subscription delivers. */
  onTask: (task: Task) => void;
  /** Re-reads the list and the stats: at the start and after every reconnect, since changes missed while down are not replayed. */
  reload: () => void;
  /** Whether the page is connected; false shows the "reconnecting…" indicator. */
  onConnected: (connected: boolean) => void;
  /** A failure that retrying will not fix (the server wants a key). */
  onFatal: (error: unknown) => boolean;
}

const RETRY_MS = 2000;

/**
 * Follows `tasksUpdated` until stopped. graphql-ws reconnects and resubscribes by itself after a
 * drop; every (re)connection triggers a reload so that nothing that changed meanwhile is lost. If
 * the client gives up (or the server ends the stream as it shuts down), the feed subscribes again.
 */
export function startLiveFeed({ client, kind, onTask, reload, onConnected, onFatal }: LiveFeedOptions): () => void {
  const controller = new AbortController();
  const { signal } = controller;
  const stopListening = client.onConnectionChange((state) => {
    if (signal.aborted) return;
    onConnected(state === 'connected');
    if (state === 'connected') reload();
  });

  const run = async () => {
    while (!signal.aborted) {
      try {
        for await (const task of client.watchAll({ kind: kind ? [kind] : undefined }, { signal })) onTask(task);
      } catch (error) {
        if (signal.aborted) return;
        if (onFatal(error)) return;
        onConnected(false);
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  };
  // run() subscribes synchronously, before its first await: reading now is "subscribe, then read".
  void run();
  reload();

  return () => {
    controller.abort();
    stopListening();
  };
}
