import type pg from 'pg';
import { ValidationError } from '@tasklane/core';
import { kindPauses, pauseKind, resumeKind, type KindPause } from './kind-pauses.ts';

/**
 * Which kinds workers serve. A worker registers its kinds with every heartbeat (see
 * `WorkerStore.heartbeat`): `tasklane.kinds` keeps every kind ever registered, and a worker's
 * lease row says what it serves while it lives.
 */

/** Every kind a worker has ever registered, with how many live workers serve it now (0 or more). */
export async function knownKinds(pool: pg.Pool): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ kind: string; live: number }>(
    `select k.kind, (select count(*) from tasklane.workers w where w.expires_at > now() and k.kind = any(w.kinds))::int as live
     from tasklane.kinds k order by k.kind`,
  );
  return new Map(rows.map((r) => [r.kind, r.live]));
}

/** The kinds at least one live worker (its lease not expired) serves right now. */
export async function liveKinds(pool: pg.Pool): Promise<Set<string>> {
  const { rows } = await pool.query<{ kind: string }>('select distinct unnest(kinds) as kind from tasklane.workers where expires_at > now()');
  return new Set(rows.map((r) => r.kind));
}

/** What `TaskStore` asks before it stores a submission. */
export interface KindCheck {
  /** Throws a `ValidationError` for `kind` when nothing will ever run tasks of that kind. */
  assertKnown(kind: string): Promise<void>;
}

/** One kind as `queueStats` shows it. */
export interface KindStatus {
  kind: string;
  /** A worker has registered it (now or before). */
  registered: boolean;
  /** `TASK_KINDS` declares it. */
  declared: boolean;
  /** Live workers serving it now; 0 means its pending tasks wait for one to start. */
  liveWorkers: number;
  /** Paused: no worker claims its pending tasks until it is resumed. */
  paused: boolean;
  pausedAt: Date | null;
}

export interface KindRegistryOptions {
  /** `TASK_KINDS`: kinds accepted before any of their workers has registered. */
  declared?: readonly string[];
  /** `TASK_KINDS=*`: accept every well-formed kind (the check is off). @default false */
  anyKind?: boolean;
  /** How long live-worker counts are reused before they are read again. @default 2000 */
  ttlMs?: number;
  /**
   * For this long after the registry is made (the API's start), while no kind is known at all (a
   * fresh database, `TASK_KINDS` empty), a submission waits for the first worker to register
   * instead of being refused. The API and its workers start together (`pnpm start`, `docker
   * compose up`): a submission that arrives while the workers boot is not refused, and once the
   * window is over one that finds no kind at all is refused at once. @default 10000
   */
  firstRegistrationWaitMs?: number;
}

interface Snapshot {
  at: number;
  kinds: Map<string, number>;
  pauses: Map<string, KindPause>;
}

/** Shown at most this many known kinds in an error message. */
const LISTED_KINDS = 50;
/** A miss within this long of the last read reuses it: a burst of bad kinds costs one read. */
const MISS_REFRESH_MS = 200;
const FIRST_REGISTRATION_POLL_MS = 250;

/**
 * The kinds check of one API process, with a cache: a kind once known stays known (registrations
 * are never taken back), so the common submission costs no query; an unknown kind reads the
 * registry again before it is refused. Live-worker counts and pauses are kept for `ttlMs`, except
 * that a pause or resume made through this registry shows at once.
 */
export class KindRegistry implements KindCheck {
  private readonly declared: ReadonlySet<string>;
  private readonly anyKind: boolean;
  private readonly ttlMs: number;
  /** Until when a submission finding no kind at all waits for the first registration. */
  private readonly firstRegistrationDeadline: number;
  private snapshot: Snapshot | undefined;
  private reading: Promise<Snapshot> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    { declared = [], anyKind = false, ttlMs = 2000, firstRegistrationWaitMs = 10_000 }: KindRegistryOptions = {},
  ) {
    this.declared = new Set(declared);
    this.anyKind = anyKind;
    this.ttlMs = ttlMs;
    this.firstRegistrationDeadline = Date.now() + firstRegistrationWaitMs;
  }

  async assertKnown(kind: string): Promise<void> {
    if (this.anyKind || this.declared.has(kind) || this.snapshot?.kinds.has(kind)) return;
    let snapshot = await this.read(MISS_REFRESH_MS);
    if (snapshot.kinds.has(kind)) return;
    if (snapshot.kinds.size === 0 && this.declared.size === 0) {
      while (snapshot.kinds.size === 0 && Date.now() < this.firstRegistrationDeadline) {
        await new Promise((resolve) => setTimeout(resolve, FIRST_REGISTRATION_POLL_MS));
        snapshot = await this.read(FIRST_REGISTRATION_POLL_MS / 2);
      }
      if (snapshot.kinds.has(kind)) return;
    }
    const known = [...new Set([...this.declared, ...snapshot.kinds.keys()])].sort();
    if (known.length === 0) {
      throw new ValidationError('kind', `no worker has registered any kind yet and TASK_KINDS is empty: start a worker for "${kind}", or declare it with TASK_KINDS=${kind}`);
    }
    const listed = known.length > LISTED_KINDS ? `${known.slice(0, LISTED_KINDS).join(', ')}, …` : known.join(', ');
    throw new ValidationError('kind', `no worker serves "${kind}" and TASK_KINDS does not declare it; known kinds: ${listed}`);
  }

  /** Live workers serving `kind` now (0 for a declared kind none has registered), at most `ttlMs` old. */
  async liveWorkers(kind: string): Promise<number> {
    return (await this.read(this.ttlMs)).kinds.get(kind) ?? 0;
  }

  /**
   * Whether tasks of `kind` wait for a worker that is not running: no live worker serves it.
   * Always false with `anyKind`, where workers need not register at all.
   */
  async lacksLiveWorker(kind: string): Promise<boolean> {
    return !this.anyKind && (await this.liveWorkers(kind)) === 0;
  }

  /** Whether `kind` is paused, as read at most `ttlMs` ago. */
  async isPaused(kind: string): Promise<boolean> {
    return (await this.read(this.ttlMs)).pauses.has(kind);
  }

  /**
   * Pauses `kind` cluster-wide (idempotent). A kind nothing serves or declares is refused like an
   * unknown kind on submit: pausing a typo would hold nothing and report success.
   */
  async pause(kind: string, pausedBy: string | null): Promise<KindStatus> {
    await this.assertKnown(kind);
    await pauseKind(this.pool, kind, pausedBy);
    return this.statusOf(kind, await this.read(0, true));
  }

  /** Resumes `kind` (idempotent); a paused kind is resumed even if it is no longer known. */
  async resume(kind: string): Promise<KindStatus> {
    if (!(await resumeKind(this.pool, kind))) await this.assertKnown(kind);
    return this.statusOf(kind, await this.read(0, true));
  }

  /** Every declared, registered or paused kind, sorted, with its live workers. */
  async statuses(): Promise<KindStatus[]> {
    const snapshot = await this.read(this.ttlMs);
    return [...new Set([...this.declared, ...snapshot.kinds.keys(), ...snapshot.pauses.keys()])].sort().map((kind) => this.statusOf(kind, snapshot));
  }

  private statusOf(kind: string, { kinds, pauses }: Snapshot): KindStatus {
    return {
      kind,
      registered: kinds.has(kind),
      declared: this.declared.has(kind),
      liveWorkers: kinds.get(kind) ?? 0,
      paused: pauses.has(kind),
      pausedAt: pauses.get(kind)?.pausedAt ?? null,
    };
  }

  /**
   * The registry as read at most `maxAgeMs` ago; concurrent callers share one read. `fresh`: a read
   * that starts now (after a write of this process), not one already under way.
   */
  private read(maxAgeMs: number, fresh = false): Promise<Snapshot> {
    if (!fresh && this.snapshot && Date.now() - this.snapshot.at < maxAgeMs) return Promise.resolve(this.snapshot);
    if (fresh || !this.reading) {
      const started = Date.now();
      const reading: Promise<Snapshot> = Promise.all([knownKinds(this.pool), kindPauses(this.pool)])
        .then(([kinds, pauses]) => {
          const snapshot = { at: started, kinds, pauses };
          // An older read that ends later must not put back what this process has since changed.
          if (!this.snapshot || this.snapshot.at <= started) this.snapshot = snapshot;
          return snapshot;
        })
        .finally(() => {
          if (this.reading === reading) this.reading = undefined;
        });
      this.reading = reading;
    }
    return this.reading;
  }
}
