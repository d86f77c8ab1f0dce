import pg from 'pg';
import { taskBody, webhookType, type WebhookSettings } from '@tasklane/core';
import { WEBHOOK_CHANNEL, WebhookStore, type AttemptOutcome, type ClaimedDelivery } from '@tasklane/db';
import { errorFields, silentLogger, type Logger } from '../logger.ts';
import { guardedLookup, type AnyLookup } from './guarded-lookup.ts';
import { createAgents, postWebhook, type PostResult } from './post-webhook.ts';
import { signatureHeader } from './sign-webhook.ts';

export interface WebhookDispatcherOptions {
  pool: pg.Pool;
  /** Where to LISTEN for new deliveries; without it the dispatcher only polls. */
  connectionString?: string | undefined;
  settings: WebhookSettings;
  logger?: Logger | undefined;
  /** How often due deliveries (retries) are looked for besides wake-ups. @default 1000 */
  pollIntervalMs?: number | undefined;
  /** How many of this process's slots one URL may hold. @default a quarter of `settings.concurrency`, at least 1 */
  perUrl?: number | undefined;
  /** Name resolution before the address check (tests point names at chosen addresses). @default DNS */
  resolve?: AnyLookup | undefined;
}

export interface WebhookDispatcher {
  start(): Promise<void>;
  /** Stops claiming and waits for the sends in flight (each ends within the timeout). */
  stop(): Promise<void>;
  /** Looks for due deliveries now. */
  wake(): void;
  readonly inFlight: number;
}

/** A lock outlives the timeout by this, so an attempt still being sent is never taken over. */
const LOCK_MARGIN_MS = 5000;
const SECRET_CACHE_MS = 5000;
const USER_AGENT = 'Tasklane-Webhooks/1';

/** The delay before the next attempt, with ±20% jitter so that failures together do not retry together. */
export function retryDelayMs(attempt: number, settings: Pick<WebhookSettings, 'retryDelaysMs'>, retryAfterMs: number | null): number | null {
  const planned = settings.retryDelaysMs[attempt - 1];
  if (planned === undefined) return null;
  // A receiver's own Retry-After wins (up to a day); it is its load we are respecting.
  if (retryAfterMs !== null) return Math.min(retryAfterMs, 24 * 3_600_000);
  return Math.round(planned * (0.8 + Math.random() * 0.4));
}

function outcomeOf(result: PostResult): AttemptOutcome {
  if (result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300) return 'delivered';
  return result.statusCode === 410 ? 'gone' : 'failed';
}

/**
 * Sends the webhook outbox: claims due deliveries (SKIP LOCKED, so any number of processes share
 * the work), posts each signed, records the attempt. Up to `settings.concurrency` sends at once,
 * at most `perUrl` of them to one URL, so a slow or dead receiver holds a few slots for at most
 * the timeout while every other receiver keeps getting its deliveries.
 */
export function createWebhookDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  const { pool, settings, pollIntervalMs = 1000 } = options;
  const log = options.logger ?? silentLogger;
  const perUrl = options.perUrl ?? Math.max(1, Math.floor(settings.concurrency / 4));
  const store = new WebhookStore(pool);
  const agents = createAgents(
    settings.allowPrivate && !options.resolve ? undefined : guardedLookup(options.resolve, { allowPrivate: settings.allowPrivate }),
  );
  const inFlight = new Map<string, Promise<void>>();
  const perUrlCount = new Map<string, number>();
  const secrets = new Map<string, { at: number; secrets: Promise<string[]> }>();
  let stopped = false;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  let loop: Promise<void> | undefined;
  let listener: pg.Client | undefined;
  let lastListenTry = 0;

  const wake = () => {
    woken = true;
    wakeUp?.();
  };

  function secretsFor(owner: string): Promise<string[]> {
    const cached = secrets.get(owner);
    if (cached && Date.now() - cached.at < SECRET_CACHE_MS) return cached.secrets;
    const fresh = store.signingSecrets(owner);
    secrets.set(owner, { at: Date.now(), secrets: fresh });
    fresh.catch(() => secrets.delete(owner));
    return fresh;
  }

  async function send(delivery: ClaimedDelivery): Promise<void> {
    const body = JSON.stringify({ type: webhookType(delivery.event), timestamp: delivery.changedAt.toISOString(), data: taskBody(delivery.task) });
    const startedAt = new Date();
    const signature = signatureHeader(await secretsFor(delivery.owner), delivery.id, startedAt, body);
    const result = await postWebhook(
      delivery.url,
      body,
      {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'webhook-id': delivery.id,
        'webhook-timestamp': String(Math.floor(startedAt.getTime() / 1000)),
        'webhook-signature': signature,
      },
      { timeoutMs: settings.timeoutMs, agents, allowPrivate: settings.allowPrivate },
    );
    const outcome = outcomeOf(result);
    const retryInMs = outcome === 'failed' ? retryDelayMs(delivery.attempt, settings, result.retryAfterMs) : null;
    await store.recordAttempt({
      id: delivery.id,
      attempt: delivery.attempt,
      startedAt,
      durationMs: result.durationMs,
      statusCode: result.statusCode,
      error: result.error,
      outcome,
      retryInMs,
    });
    // The secret is in neither line: only the id, the URL's origin and what came back.
    const fields = { deliveryId: delivery.id, taskId: delivery.taskId, event: delivery.event, attempt: delivery.attempt, origin: new URL(delivery.url).origin };
    if (outcome === 'delivered') log.debug('webhook delivered', { ...fields, statusCode: result.statusCode });
    else log.info('webhook attempt failed', { ...fields, statusCode: result.statusCode, error: result.error, retryInMs });
  }

  function track(delivery: ClaimedDelivery): void {
    perUrlCount.set(delivery.url, (perUrlCount.get(delivery.url) ?? 0) + 1);
    const running = send(delivery)
      .catch((error: unknown) => {
        // The lock runs out and the attempt is made again (same webhook-id): at least once.
        log.warn('webhook delivery could not be recorded; it will be retried', { deliveryId: delivery.id, ...errorFields(error) });
      })
      .finally(() => {
        inFlight.delete(delivery.id);
        const left = (perUrlCount.get(delivery.url) ?? 1) - 1;
        if (left <= 0) perUrlCount.delete(delivery.url);
        else perUrlCount.set(delivery.url, left);
        wake();
      });
    inFlight.set(delivery.id, running);
  }

  async function listen(): Promise<void> {
    if (!options.connectionString || listener || Date.now() - lastListenTry < 2000) return;
    lastListenTry = Date.now();
    const client = new pg.Client({ connectionString: options.connectionString, application_name: 'tasklane-webhooks' });
    const drop = () => {
      if (listener === client) listener = undefined;
      client.end().catch(() => {});
    };
    client.on('error', drop);
    client.on('end', drop);
    client.on('notification', wake);
    try {
      await client.connect();
      await client.query(`listen ${WEBHOOK_CHANNEL}`);
      listener = client;
      // Anything written while we were not listening.
      wake();
    } catch (error) {
      log.warn('cannot listen for webhook deliveries yet; polling meanwhile', errorFields(error));
      drop();
    }
  }

  async function run(): Promise<void> {
    let backoff = 250;
    while (!stopped) {
      await listen();
      woken = false;
      let full = false;
      const free = settings.concurrency - inFlight.size;
      if (free > 0) {
        try {
          const busyUrls = [...perUrlCount].filter(([, n]) => n >= perUrl).map(([url]) => url);
          const claimed = await store.claimDue(free, { lockMs: settings.timeoutMs + LOCK_MARGIN_MS, perUrl, busyUrls });
          for (const delivery of claimed) track(delivery);
          full = claimed.length === free;
          backoff = 250;
        } catch (error) {
          log.warn('cannot claim webhook deliveries; retrying', errorFields(error));
          await new Promise((resolve) => setTimeout(resolve, backoff));
          backoff = Math.min(backoff * 2, pollIntervalMs * 5);
          continue;
        }
      }
      if (stopped || (full && inFlight.size < settings.concurrency) || woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollIntervalMs);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = undefined;
    }
  }

  return {
    async start() {
      stopped = false;
      loop ??= run();
    },
    async stop() {
      stopped = true;
      wakeUp?.();
      await loop;
      loop = undefined;
      await Promise.all(inFlight.values());
      await listener?.end().catch(() => {});
      listener = undefined;
      agents.http.destroy();
      agents.https.destroy();
    },
    wake,
    get inFlight() {
      return inFlight.size;
    },
  };
}
