import type pg from 'pg';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What is known about a key; never its secret or hash. */
export interface ApiKeyInfo {
  id: string;
  owner: string;
  admin: boolean;
  /** A worker key: it may only run the HTTP worker protocol (claim and write tasks of `kinds`). */
  worker: boolean;
  /** The kinds a worker key may claim; null for any kind (and for every non-worker key). */
  kinds: string[] | null;
  name: string | null;
  /** Its owner's cap on running tasks, over every kind (overrides `OWNER_MAX_CONCURRENT`); null: none of its own. */
  maxConcurrent: number | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** A key as stored, for verification: the info plus the hash of its secret. */
export interface StoredApiKey extends ApiKeyInfo {
  hash: Buffer;
}

export interface NewApiKey {
  owner: string;
  admin?: boolean | undefined;
  worker?: boolean | undefined;
  kinds?: readonly string[] | null | undefined;
  name?: string | undefined;
  /**
   * Caps the owner's running tasks, over every kind, cluster-wide, instead of
   * `OWNER_MAX_CONCURRENT`. With several live keys that set it, the owner gets the highest.
   */
  maxConcurrent?: number | undefined;
}

/** The prefix makes a leaked key recognisable to people and to secret scanners. */
export const API_KEY_PREFIX = 'tl_';
const ID_BYTES = 8;
const SECRET_BYTES = 32;
// `tl_<16 hex id>_<43 base64url secret>`: the id is hex, so the first `_` after it ends it even
// though base64url secrets may contain `_` themselves.
const KEY_PATTERN = /^tl_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface ParsedApiKey {
  id: string;
  secret: string;
}

/** Splits a presented key into its public id and its secret; undefined when it is not shaped like one of ours. */
export function parseApiKey(key: string): ParsedApiKey | undefined {
  const match = KEY_PATTERN.exec(key);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

/**
 * SHA-256, unsalted and fast, is the right hash here: the secret is 256 random bits, so there is
 * nothing to brute-force or look up in a table, and a slow password hash would only make every
 * request slower. (Passwords chosen by people would need a slow, salted hash instead.)
 */
export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Whether `secret` is the one whose hash is stored; compares in constant time. */
export function secretMatches(secret: string, storedHash: Buffer): boolean {
  const presented = hashSecret(secret);
  return presented.length === storedHash.length && timingSafeEqual(presented, storedHash);
}

interface ApiKeyRow {
  id: string;
  owner: string;
  admin: boolean;
  worker: boolean;
  kinds: string[] | null;
  name: string | null;
  max_concurrent: number | null;
  hash: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

function toInfo(row: ApiKeyRow): ApiKeyInfo {
  return {
    id: row.id,
    owner: row.owner,
    admin: row.admin,
    worker: row.worker,
    kinds: row.kinds,
    name: row.name,
    maxConcurrent: row.max_concurrent,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

const INFO_COLUMNS = 'id, owner, admin, worker, kinds, name, max_concurrent, created_at, last_used_at, revoked_at';

/** `tasklane.api_keys`: creates, lists, revokes and looks up API keys. */
export class ApiKeyStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Creates a key and returns it in full: the only time the secret exists outside the caller's hands. */
  async create({ owner, admin = false, worker = false, kinds = null, name, maxConcurrent }: NewApiKey): Promise<{ key: string; info: ApiKeyInfo }> {
    if (worker && admin) throw new TypeError('a key is either a worker key or an admin key, not both');
    if (!worker && kinds !== null) throw new TypeError('kinds apply to worker keys only');
    const id = randomBytes(ID_BYTES).toString('hex');
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    const { rows } = await this.pool.query<ApiKeyRow>(
      `insert into tasklane.api_keys (id, owner, admin, worker, kinds, name, hash, max_concurrent) values ($1, $2, $3, $4, $5, $6, $7, $8)
       returning ${INFO_COLUMNS}`,
      [id, owner, admin, worker, kinds === null ? null : [...kinds], name ?? null, hashSecret(secret).toString('hex'), maxConcurrent ?? null],
    );
    return { key: `${API_KEY_PREFIX}${id}_${secret}`, info: toInfo(rows[0]!) };
  }

  /** Every key, oldest first, revoked ones included. */
  async list(): Promise<ApiKeyInfo[]> {
    const { rows } = await this.pool.query<ApiKeyRow>(`select ${INFO_COLUMNS} from tasklane.api_keys order by created_at, id`);
    return rows.map(toInfo);
  }

  /** Revokes a key; undefined when there is no such key. Revoking twice keeps the first time. */
  async revoke(id: string): Promise<ApiKeyInfo | undefined> {
    const { rows } = await this.pool.query<ApiKeyRow>(
      `update tasklane.api_keys set revoked_at = coalesce(revoked_at, now()) where id = $1 returning ${INFO_COLUMNS}`,
      [id],
    );
    return rows[0] ? toInfo(rows[0]) : undefined;
  }

  /** The stored key with this id (revoked or not), for verification. */
  async find(id: string): Promise<StoredApiKey | undefined> {
    const { rows } = await this.pool.query<ApiKeyRow>(`select ${INFO_COLUMNS}, hash from tasklane.api_keys where id = $1`, [id]);
    const row = rows[0];
    return row ? { ...toInfo(row), hash: Buffer.from(row.hash, 'hex') } : undefined;
  }

  /**
   * Records that the key was used. Skips the write when the stored time is under a minute old, so
   * a busy key costs one small update a minute, not one per request.
   */
  async touch(id: string): Promise<void> {
    await this.pool.query(
      `update tasklane.api_keys set last_used_at = now()
       where id = $1 and (last_used_at is null or last_used_at < now() - interval '1 minute')`,
      [id],
    );
  }
}
