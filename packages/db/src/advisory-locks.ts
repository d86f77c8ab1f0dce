/**
 * The Postgres advisory-lock keys Tasklane takes. Every process of every version must agree on
 * them, so they never change; a new lock takes the next free number. Postgres keeps one-key
 * (bigint) locks and two-key (integer, integer) locks apart, so the claim slots' (7414003, n)
 * never meet maintenance's 7414003. The migrations write these numbers into their SQL from here.
 */
export const AdvisoryLock = {
  /** Session lock, one key: one process at a time runs migrations (the others then find nothing to do). */
  migrate: 7_414_001,
  /**
   * Transaction lock, one key: an exclusive claim, which counts what runs and takes up to the
   * room left under the caps as one atomic step.
   */
  claimCaps: 7_414_002,
  /** Transaction lock, one key: the elected process's maintenance round (lease sweep, retention). */
  maintenance: 7_414_003,
  /**
   * Transaction lock, two keys (this, slot 0 .. CLAIM_SLOTS - 1): a fast claim holds one slot;
   * an exclusive claim takes every slot, so it counts with no fast claim in flight.
   */
  claimSlot: 7_414_003,
  /**
   * Transaction lock, two keys (this, hashtext(limit key)): takers of one rate-limit key's
   * subscription slots take turns counting the live slots.
   */
  rateLimitSlot: 7_414_004,
} as const;

/**
 * How many fast claims may be in flight at once. A fast claim is admitted only when the running
 * count plus this many claims of its size fits under every cap it concerns.
 */
export const CLAIM_SLOTS = 8;
