import type { Kysely } from 'kysely';
import * as tasks from './0001-tasks.ts';
import * as apiKeys from './0002-api-keys.ts';
import * as rateLimits from './0003-rate-limits.ts';
import * as fastClaim from './0004-fast-claim.ts';
import * as workerKinds from './0005-worker-kinds.ts';
import * as workerKeys from './0007-worker-keys.ts';
import * as fairQueues from './0008-fair-queues.ts';
import * as dropOldClaim from './0009-drop-old-claim.ts';
import * as operations from './0010-operations.ts';
import * as webhooks from './0011-webhooks.ts';
import * as kindPauses from './0012-kind-pauses.ts';
import * as attemptHistory from './0013-attempt-history.ts';
import * as claimWithoutOwnerCaps from './0014-claim-without-owner-caps.ts';
import * as claimPlansKept from './0015-claim-plans-kept.ts';
import * as taskOrder from './0016-task-order.ts';

/**
 * A migration goes forward only, as graphile-worker's do. A down step would be a second, untested
 * schema history (0004's dropped claim_batch and left tasklane.claim calling it), and in a
 * running cluster old and new processes share one database: undoing a change is itself a new
 * migration that both can live with, written and tested like any other. `down?: never` makes a
 * down function a type error.
 */
export interface ForwardMigration {
  up(db: Kysely<unknown>): Promise<void>;
  down?: never;
}

/** Every migration, in order. Names sort lexically; never rename or edit one that has shipped. */
export const migrations: Record<string, ForwardMigration> = {
  '0001-tasks': tasks,
  '0002-api-keys': apiKeys,
  '0003-rate-limits': rateLimits,
  '0004-fast-claim': fastClaim,
  '0005-worker-kinds': workerKinds,
  '0007-worker-keys': workerKeys,
  '0008-fair-queues': fairQueues,
  '0009-drop-old-claim': dropOldClaim,
  '0010-operations': operations,
  '0011-webhooks': webhooks,
  '0012-kind-pauses': kindPauses,
  '0013-attempt-history': attemptHistory,
  '0014-claim-without-owner-caps': claimWithoutOwnerCaps,
  '0015-claim-plans-kept': claimPlansKept,
  '0016-task-order': taskOrder,
};
