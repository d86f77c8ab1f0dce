import type { QueueStats } from '@tasklane/client';
import { el } from './dom.ts';

type KindEntry = QueueStats['kinds'][number];

/** What the kinds list's buttons do; the view only renders. */
export interface KindActions {
  pause(kind: string): void;
  resume(kind: string): void;
}

/** Counts per status, then each cap as processing / cap with a meter, then each kind with Pause or Resume. */
export function renderQueueStats(container: HTMLElement, stats: QueueStats, actions: KindActions): void {
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
  if (stats.kinds.length > 0) parts.push(el('ul', { class: 'kinds', 'aria-label': 'Kinds' }, ...stats.kinds.map((kind) => kindItem(kind, actions))));
  if (oldest !== null) parts.push(el('p', { class: 'oldest' }, `Oldest pending: ${Math.round(oldest)} s`));
  container.replaceChildren(...parts);
}

/**
 * One kind: paused or running, its workers and pending tasks, and the one button that applies.
 * A kind that only has pending tasks (no worker registered it, TASK_KINDS does not declare it)
 * cannot be paused, so it gets no button.
 */
function kindItem(kind: KindEntry, actions: KindActions): HTMLLIElement {
  const state = kind.paused ? 'paused' : 'running';
  const known = kind.registered || kind.declared || kind.paused;
  const button = known
    ? el('button', { type: 'button', class: 'kind-action', 'aria-label': `${kind.paused ? 'Resume' : 'Pause'} ${kind.kind}` }, kind.paused ? 'Resume' : 'Pause')
    : null;
  button?.addEventListener('click', () => {
    button.disabled = true;
    if (kind.paused) actions.resume(kind.kind);
    else actions.pause(kind.kind);
  });
  return el(
    'li',
    { 'data-kind': kind.kind, 'data-paused': String(kind.paused) },
    el('span', { class: 'kind-name' }, kind.kind),
    el('span', { class: `kind-state ${state}` }, state),
    el('span', { class: 'kind-counts' }, `${kind.pending} pending · ${kind.liveWorkers} ${kind.liveWorkers === 1 ? 'worker' : 'workers'}`),
    button,
  );
}
