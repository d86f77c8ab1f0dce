import type { TaskDetails } from '@tasklane/client';
import { byId, el } from './dom.ts';

const time = (value: string | null | undefined) => (value ? new Date(value).toLocaleString() : '—');

const part = (key: string, value: string) => el('span', { 'data-part': key }, value);

/** The host a delivery goes to: the rest of the URL may carry a token the page need not show. */
function host(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * A task page's attempts and webhook deliveries, read with `client.details`. Renders each read;
 * `begin` numbers reads so that an answer overtaken by a newer one is dropped.
 */
export function createTaskDetails() {
  const attempts = byId<HTMLOListElement>('task-attempts');
  const deliveries = byId<HTMLUListElement>('task-deliveries');
  let latest = 0;

  const none = (text: string) => el('li', { class: 'none' }, text);

  return {
    clear() {
      latest++;
      attempts.replaceChildren();
      deliveries.replaceChildren();
    },
    /**
     * Starts a read; the function it answers renders the read's result unless a newer one began,
     * and says whether a delivery is still waiting to be sent (so the page reads again later).
     */
    begin(): (details: TaskDetails) => boolean {
      const read = ++latest;
      return (details) => {
        if (read !== latest) return false;
        attempts.replaceChildren(
          ...(details.attemptHistory.length === 0 ? [none('None yet: no worker has claimed it.')] : []),
          ...details.attemptHistory.map((a) =>
            el(
              'li',
              { 'data-attempt': String(a.attempt), 'data-outcome': a.outcome },
              part('outcome', a.outcome.toLowerCase()),
              part('worker', a.worker ?? 'unknown worker'),
              part('started', time(a.startedAt)),
              part('ended', a.endedAt ? time(a.endedAt) : 'running'),
              part('error', a.error ? `${a.error.type}: ${a.error.message}` : '—'),
            ),
          ),
        );
        deliveries.replaceChildren(
          ...(details.webhookDeliveries.length === 0 ? [none('None.')] : []),
          ...details.webhookDeliveries.map((d) => {
            const last = d.attempts.at(-1);
            return el(
              'li',
              { 'data-delivery': d.id, 'data-state': d.state },
              part('event', d.event.toLowerCase()),
              part('host', host(d.url)),
              part('state', d.state.toLowerCase()),
              part('attempts', `${d.attempts.length} ${d.attempts.length === 1 ? 'attempt' : 'attempts'}`),
              part('response', last ? (last.statusCode === null ? 'no response' : `HTTP ${last.statusCode}`) : 'not sent yet'),
              part('next', d.nextAttemptAt ? `next ${time(d.nextAttemptAt)}` : 'no retry due'),
            );
          }),
        );
        return details.webhookDeliveries.some((d) => d.state === 'WAITING');
      };
    },
  };
}
