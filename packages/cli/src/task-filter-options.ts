import type { TaskStatus } from '@tasklane/client';
import { UsageError } from './exit-codes.ts';

/** The flags that choose tasks, shared by list and the bulk forms of cancel and retry. */
export const FILTER_OPTIONS = {
  status: { type: 'string', multiple: true },
  kind: { type: 'string', multiple: true },
  metadata: { type: 'string', multiple: true },
} as const;

export const FILTER_USAGE = `  --status <s,...>         Only these statuses: pending, processing, completed, failed, cancelled
  --kind <k,...>           Only these kinds
  --metadata <key=value>   Only tasks with this metadata pair (repeat for several; all must match)`;

const STATUSES: readonly TaskStatus[] = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED'];

export interface TaskFilterValues {
  status?: string[] | undefined;
  kind?: string[] | undefined;
  metadata?: string[] | undefined;
}

export interface ParsedTaskFilter {
  status: TaskStatus[] | undefined;
  kind: string[] | undefined;
  metadata: Record<string, string> | undefined;
}

/** `--status a,b --status c` → ['a', 'b', 'c'], so both spellings work. */
function splitList(values: string[] | undefined): string[] | undefined {
  const items = values?.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  return items && items.length > 0 ? items : undefined;
}

function parseStatuses(command: string, values: string[] | undefined): TaskStatus[] | undefined {
  return splitList(values)?.map((raw) => {
    const status = raw.toUpperCase() as TaskStatus;
    if (!STATUSES.includes(status)) throw new UsageError(`${command}: unknown status "${raw}"; use ${STATUSES.map((s) => s.toLowerCase()).join(', ')}`);
    return status;
  });
}

/** `--metadata customer=acme --metadata batch=7` → {customer: 'acme', batch: '7'}; the server checks the limits. */
export function parseMetadataPairs(command: string, values: string[] | undefined): Record<string, string> | undefined {
  if (!values || values.length === 0) return undefined;
  const pairs: Record<string, string> = {};
  for (const raw of values) {
    const at = raw.indexOf('=');
    if (at <= 0) throw new UsageError(`${command}: --metadata takes key=value, got "${raw}"`);
    pairs[raw.slice(0, at)] = raw.slice(at + 1);
  }
  return pairs;
}

export function parseTaskFilter(command: string, values: TaskFilterValues): ParsedTaskFilter {
  return {
    status: parseStatuses(command, values.status),
    kind: splitList(values.kind),
    metadata: parseMetadataPairs(command, values.metadata),
  };
}

export function isEmptyFilter(filter: ParsedTaskFilter): boolean {
  return !filter.status && !filter.kind && !filter.metadata;
}
