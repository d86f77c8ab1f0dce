import { formatTimestamp, type Task } from '@tasklane/core';
import type { Delivery, WebhookSecret } from '@tasklane/db';

/** `GET /api/v1/tasks/{task_id}/webhooks`: the task's webhook and every delivery with its attempts. */
export function webhookLogBody(task: Task, deliveries: readonly Delivery[]) {
  return {
    task_id: task.id,
    webhook: task.webhook ?? null,
    deliveries: deliveries.map(deliveryBody),
  };
}

export function deliveryBody(delivery: Delivery) {
  return {
    id: delivery.id,
    event: delivery.event,
    url: delivery.url,
    state: delivery.state,
    created_at: formatTimestamp(delivery.createdAt),
    next_attempt_at: delivery.nextAttemptAt ? delivery.nextAttemptAt.toISOString() : null,
    attempts: delivery.attempts.map((a) => ({
      attempt: a.attempt,
      at: a.at.toISOString(),
      duration_ms: a.durationMs,
      status_code: a.statusCode,
      error: a.error,
      outcome: a.outcome,
    })),
  };
}

export function secretBody(owner: string, secret: WebhookSecret) {
  return {
    owner,
    secret: secret.secret,
    created_at: formatTimestamp(secret.createdAt),
    previous_expires_at: secret.previousExpiresAt ? formatTimestamp(secret.previousExpiresAt) : null,
  };
}
