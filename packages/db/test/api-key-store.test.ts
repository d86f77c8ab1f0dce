import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../src/index.ts';
import { ApiKeyStore, hashSecret, parseApiKey, secretMatches } from '../src/limits.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

let database: TestDatabase;
let pool: ReturnType<typeof createPool>;
let store: ApiKeyStore;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool({ connectionString: database.url });
  store = new ApiKeyStore(pool);
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});

describe('ApiKeyStore', () => {
  it('creates a tl_<id>_<secret> key with 256 random bits and stores only the SHA-256 of the secret', async () => {
    const { key, info } = await store.create({ owner: 'alice', name: 'laptop' });
    const parsed = parseApiKey(key)!;
    expect(parsed.id).toBe(info.id);
    expect(Buffer.from(parsed.secret, 'base64url')).toHaveLength(32);
    const { rows } = await pool.query<Record<string, unknown>>('select * from tasklane.api_keys where id = $1', [info.id]);
    expect(rows[0]).toMatchObject({ owner: 'alice', admin: false, name: 'laptop', hash: hashSecret(parsed.secret).toString('hex'), last_used_at: null, revoked_at: null });
    expect(JSON.stringify(rows[0])).not.toContain(parsed.secret);
  });

  it('makes a different key every time', async () => {
    const keys = await Promise.all(Array.from({ length: 20 }, () => store.create({ owner: 'many' })));
    expect(new Set(keys.map((k) => k.key)).size).toBe(20);
    expect(new Set(keys.map((k) => k.info.id)).size).toBe(20);
  });

  it('finds a key by id with its hash, which matches its secret and no other', async () => {
    const { key, info } = await store.create({ owner: 'bob', admin: true });
    const { secret } = parseApiKey(key)!;
    const stored = (await store.find(info.id))!;
    expect(stored).toMatchObject({ id: info.id, owner: 'bob', admin: true, revokedAt: null });
    expect(secretMatches(secret, stored.hash)).toBe(true);
    const wrong = secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A');
    expect(secretMatches(wrong, stored.hash)).toBe(false);
    expect(secretMatches(secret, Buffer.alloc(3))).toBe(false);
    expect(await store.find('0000000000000000')).toBeUndefined();
  });

  it('revokes once: a second revoke keeps the first time, and an unknown id answers undefined', async () => {
    const { info } = await store.create({ owner: 'carol' });
    const first = (await store.revoke(info.id))!;
    expect(first.revokedAt).toBeInstanceOf(Date);
    const second = (await store.revoke(info.id))!;
    expect(second.revokedAt!.getTime()).toBe(first.revokedAt!.getTime());
    expect((await store.find(info.id))!.revokedAt!.getTime()).toBe(first.revokedAt!.getTime());
    expect(await store.revoke('ffffffffffffffff')).toBeUndefined();
  });

  it('writes last_used_at at most once a minute', async () => {
    const { info } = await store.create({ owner: 'dave' });
    await store.touch(info.id);
    const first = (await store.find(info.id))!.lastUsedAt!;
    expect(first).toBeInstanceOf(Date);
    await store.touch(info.id);
    expect((await store.find(info.id))!.lastUsedAt!.getTime()).toBe(first.getTime());
    // A mark older than a minute is renewed.
    await pool.query(`update tasklane.api_keys set last_used_at = now() - interval '2 minutes' where id = $1`, [info.id]);
    const old = (await store.find(info.id))!.lastUsedAt!;
    await store.touch(info.id);
    expect((await store.find(info.id))!.lastUsedAt!.getTime()).toBeGreaterThan(old.getTime());
  });

  it('lists keys oldest first without secrets or hashes', async () => {
    const listed = await store.list();
    expect(listed.length).toBeGreaterThan(3);
    for (const key of listed) expect(Object.keys(key).sort()).toEqual(['admin', 'createdAt', 'id', 'kinds', 'lastUsedAt', 'maxConcurrent', 'name', 'owner', 'revokedAt', 'worker']);
    const times = listed.map((k) => k.createdAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});

describe('parseApiKey', () => {
  it('accepts only the tl_<16 hex>_<43 base64url> shape, secrets with _ and - included', () => {
    expect(parseApiKey(`tl_0123456789abcdef_${'a_-'.repeat(14)}x`)).toEqual({ id: '0123456789abcdef', secret: `${'a_-'.repeat(14)}x` });
    for (const bad of ['', 'tl_', `tl_0123456789abcdeF_${'a'.repeat(43)}`, `tl_0123456789abcdef_${'a'.repeat(42)}`, `xx_0123456789abcdef_${'a'.repeat(43)}`, `tl_0123456789abcdef_${'a'.repeat(42)}=`]) {
      expect(parseApiKey(bad)).toBeUndefined();
    }
  });
});
