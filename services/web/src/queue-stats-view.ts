import type { QueueStats } from '@tasklane/client';
import { el } from './dom.ts';

/** Counts per status, then each cap as processing / cap, with a meter for how full it is. */
export function renderQueueStats(container: HTMLElement, stats: QueueStats): void {
  const counts = el(
    'dl',
    { class: 'counts' },
    ...stats.byStatus.flatMap(({ status, count }) => [
      el('dt', {}, status.toLowerCase()),
      el('dd', { 'data-status': status }, String(count)),
    ]),
  );
  const caps = [stats.totalCapacity, ...stats.capacity].map(({ kind, processing, cap }) => {
    const name = kind ?? 'all kinds';
    return el(
      'li',
      { 'data-cap': kind ?? '*' },
      el('span', { class: 'cap-name' }, name),
      el('meter', { min: '0', max: String(cap), value: String(processing), 'aria-label': `${name}: ${processing} of ${cap} slots busy` }),
      el('span', { class: 'cap-value' }, `${processing} / ${cap} processing`),
    );
  });
  const oldest = stats.oldestPendingAgeSeconds;
  const parts: Node[] = [counts, el('ul', { class: 'caps', 'aria-label': 'Concurrency caps' }, ...caps)];
  if (oldest !== null) parts.push(el('p', { class: 'oldest' }, `Oldest pending: ${Math.round(oldest)} s`));
  container.replaceChildren(...parts);
}
