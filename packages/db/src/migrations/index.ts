import type { Migration } from 'kysely';
import * as tasks from './0001-tasks.ts';
import * as apiKeys from './0002-api-keys.ts';
import * as rateLimits from './0003-rate-limits.ts';
import * as fastClaim from './0004-fast-claim.ts';
import * as workerKinds from './0005-worker-kinds.ts';
import * as workerKeys from './0007-worker-keys.ts';
import * as fairQueues from './0008-fair-queues.ts';
import * as operations from './0010-operations.ts';
import * as webhooks from './0011-webhooks.ts';

/** Every migration, in order. Names sort lexically; never rename or edit one that has shipped. */
export const migrations: Record<string, Migration> = {
  '0001-tasks': tasks,
  '0002-api-keys': apiKeys,
  '0003-rate-limits': rateLimits,
  '0004-fast-claim': fastClaim,
  '0005-worker-kinds': workerKinds,
  '0007-worker-keys': workerKeys,
  '0008-fair-queues': fairQueues,
  '0010-operations': operations,
  '0011-webhooks': webhooks,
};
