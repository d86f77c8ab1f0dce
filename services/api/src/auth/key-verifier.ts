import { ApiKeyStore, parseApiKey, secretMatches, type StoredApiKey } from '@tasklane/db/limits';
import { mintStreamToken, parseStreamToken, streamTokenValid } from './stream-token.ts';
import { UnauthenticatedError } from './unauthenticated-error.ts';

/** Who a verified key speaks for. */
export interface VerifiedKey {
  id: string;
  owner: string;
  admin: boolean;
  /** A worker key: the HTTP worker protocol only. */
  worker: boolean;
  /** The kinds a worker key may claim; null for any. */
  kinds: readonly string[] | null;
}

export interface KeyVerifierOptions {
  /**
   * How long what the database said about a key id (found, revoked, or absent) is reused. This is
   * the bound on how long a revoked key keeps working on one API process.
   * @default 5000
   */
  cacheMs?: number;
  /** Key ids remembered at most; the oldest are forgotten first. @default 10000 */
  maxEntries?: number;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
}

interface Entry {
  /** Undefined: no key has this id (a negative entry). */
  key: StoredApiKey | undefined;
  expiresAt: number;
}

const TOUCH_INTERVAL_MS = 60_000;

/**
 * Checks presented keys against `tasklane.api_keys`. The database row for each id is cached for a
 * few seconds, absent ids too, and the secret is compared against the cached hash, so a flood of
 * requests with a wrong or unknown key costs one round trip per id and interval, not one per
 * request. Concurrent lookups of one id share a single query.
 */
export class KeyVerifier {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<StoredApiKey | undefined>>();
  private readonly touchedAt = new Map<string, number>();
  private readonly cacheMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly store: ApiKeyStore,
    { cacheMs = 5000, maxEntries = 10_000, now = Date.now }: KeyVerifierOptions = {},
  ) {
    this.cacheMs = cacheMs;
    this.maxEntries = maxEntries;
    this.now = now;
  }

  /** The key's owner and role; throws `UnauthenticatedError` for anything but a live, matching key. */
  async verify(presented: string): Promise<VerifiedKey> {
    const parsed = parseApiKey(presented);
    if (!parsed) throw UnauthenticatedError.rejected();
    const key = await this.lookup(parsed.id);
    if (!key || key.revokedAt !== null || !secretMatches(parsed.secret, key.hash)) throw UnauthenticatedError.rejected();
    this.touch(key.id);
    return { id: key.id, owner: key.owner, admin: key.admin, worker: key.worker, kinds: key.kinds };
  }

  /** A stream token for one task, minted with the (just verified) key `keyId`. */
  async streamToken(keyId: string, taskId: string): Promise<{ token: string; expiresAt: number }> {
    const key = await this.lookup(keyId);
    if (!key || key.revokedAt !== null) throw UnauthenticatedError.rejected();
    return mintStreamToken(key.id, key.hash, taskId, this.now());
  }

  /** The key a stream token for `taskId` speaks for; throws `UnauthenticatedError` when it is not valid for it. */
  async verifyStreamToken(token: string, taskId: string): Promise<VerifiedKey> {
    const parsed = parseStreamToken(token);
    const key = parsed ? await this.lookup(parsed.keyId) : undefined;
    if (!key || key.revokedAt !== null || !streamTokenValid(token, key.hash, taskId, this.now())) throw UnauthenticatedError.streamTokenRejected();
    // Worker keys cannot mint stream tokens (they may not follow tasks); refuse one all the same.
    if (key.worker) throw UnauthenticatedError.streamTokenRejected();
    return { id: key.id, owner: key.owner, admin: key.admin, worker: false, kinds: null };
  }

  private async lookup(id: string): Promise<StoredApiKey | undefined> {
    const cached = this.entries.get(id);
    if (cached && cached.expiresAt > this.now()) return cached.key;
    let pending = this.inFlight.get(id);
    if (!pending) {
      pending = this.store.find(id).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, pending);
      // A failed query is not cached: the next request asks the database again.
      pending.then((key) => this.remember(id, key)).catch(() => {});
    }
    return pending;
  }

  private remember(id: string, key: StoredApiKey | undefined): void {
    this.entries.delete(id);
    this.entries.set(id, { key, expiresAt: this.now() + this.cacheMs });
    // Maps iterate in insertion order, so the first entries are the oldest.
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
  }

  /** `last_used_at` at most once a minute per key and process; a failed write only loses that mark. */
  private touch(id: string): void {
    const now = this.now();
    const last = this.touchedAt.get(id);
    if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return;
    this.touchedAt.set(id, now);
    if (this.touchedAt.size > this.maxEntries) this.touchedAt.clear();
    this.store.touch(id).catch(() => {});
  }
}
