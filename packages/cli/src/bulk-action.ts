import type { BulkFilter, BulkResult, TasklaneClient } from '@tasklane/client';

export interface BulkTotals {
  matched: number;
  changed: number;
  calls: number;
}

/**
 * Runs a bulk action page after page until the server says there is no more: each call is
 * bounded on the server, so a filter matching millions of tasks is still many short statements.
 */
export async function runBulk(
  client: TasklaneClient,
  action: (client: TasklaneClient, filter: BulkFilter) => Promise<BulkResult>,
  filter: BulkFilter,
): Promise<BulkTotals> {
  const totals: BulkTotals = { matched: 0, changed: 0, calls: 0 };
  let after: string | null = null;
  do {
    const page: BulkResult = await action(client, { ...filter, after });
    totals.matched += page.matched;
    totals.changed += page.changed;
    totals.calls++;
    after = page.nextCursor;
  } while (after !== null);
  return totals;
}
