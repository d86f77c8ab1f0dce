import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@tasklane/db';
import { ApiKeyStore, type StoredApiKey } from '@tasklane/db/limits';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { KeyVerifier } from '../src/auth/key-verifier.ts';
import { UnauthenticatedError } from '../src/auth/unauthenticated-error.ts';

/** The real store, counting how often the verifier asks the database. */
class CountingStore extends ApiKeyStore {
  finds = 0;
  touches = 0;
  override async find(id: string): Promise<StoredApiKey | undefined> {
    this.finds++;
    return super.find(id);
  }
  override async touch(id: string): Promise<void> {
    this.touches++;
    return super.touch(id);
  }
}

let database: TestDatabase;
let pool: ReturnType<typeof createPool>;
let store: CountingStore;
let clock = 0;
const now = () => clock;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool({ connectionString: database.url });
  store = new CountingStore(pool);
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});

async function rejection(promise: Promise<unknown>): Promise<UnauthenticatedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnauthenticatedError);
  return error as UnauthenticatedError;
}

describe('KeyVerifier', () => {
  it('resolves a live key to its owner and role', async () => {
    const verifier = new KeyVerifier(store, { now });
    const { key, info } = await store.create({ owner: 'alice', admin: true });
    expect(await verifier.verify(key)).toEqual({ id: info.id, owner: 'alice', admin: true, worker: false, kinds: null });
    const worker = await store.create({ owner: 'worker', worker: true, kinds: ['video'] });
    expect(await verifier.verify(worker.key)).toEqual({ id: worker.info.id, owner: 'worker', admin: false, worker: true, kinds: ['video'] });
  });

  it('answers a flood of one unknown key with one database read per cache interval', async () => {
    const verifier = new KeyVerifier(store, { now, cacheMs: 5000 });
    const unknown = `tl_00000000000000ab_${'Q'.repeat(43)}`;
    const before = store.finds;
    const errors = await Promise.all(Array.from({ length: 200 }, () => rejection(verifier.verify(unknown))));
    expect(errors.every((e) => e.reason === 'rejected')).toBe(true);
    expect(store.finds - before).toBe(1);
    clock += 5001;
    await rejection(verifier.verify(unknown));
    expect(store.finds - before).toBe(2);
  });

  it('rejects malformed keys without asking the database', async () => {
    const verifier = new KeyVerifier(store, { now });
    const before = store.finds;
    for (const bad of ['', 'tl_x', 'Bearer', `tl_0123456789abcdef_${'a'.repeat(44)}`]) await rejection(verifier.verify(bad));
    expect(store.finds).toBe(before);
  });

  it('rejects a wrong secret for a known id from the cached hash, with no further reads', async () => {
    const verifier = new KeyVerifier(store, { now });
    const { key, info } = await store.create({ owner: 'bob' });
    await verifier.verify(key);
    const before = store.finds;
    await rejection(verifier.verify(`tl_${info.id}_${'Z'.repeat(43)}`));
    expect(store.finds).toBe(before);
  });

  it('refuses a key revoked after use as soon as the cache interval has passed', async () => {
    const verifier = new KeyVerifier(store, { now, cacheMs: 5000 });
    const { key, info } = await store.create({ owner: 'carol' });
    await verifier.verify(key);
    await store.revoke(info.id);
    clock += 5001;
    expect((await rejection(verifier.verify(key))).reason).toBe('rejected');
  });

  it('marks last use at most once a minute per key', async () => {
    const verifier = new KeyVerifier(store, { now });
    const { key } = await store.create({ owner: 'dave' });
    const before = store.touches;
    for (let i = 0; i < 50; i++) await verifier.verify(key);
    expect(store.touches - before).toBe(1);
    clock += 60_001;
    await verifier.verify(key);
    expect(store.touches - before).toBe(2);
  });

  it('forgets the oldest ids beyond maxEntries', async () => {
    const verifier = new KeyVerifier(store, { now, maxEntries: 2 });
    const ids = ['00000000000000c1', '00000000000000c2', '00000000000000c3'];
    for (const id of ids) await rejection(verifier.verify(`tl_${id}_${'Q'.repeat(43)}`));
    const before = store.finds;
    await rejection(verifier.verify(`tl_${ids[2]}_${'Q'.repeat(43)}`));
    expect(store.finds).toBe(before);
    await rejection(verifier.verify(`tl_${ids[0]}_${'Q'.repeat(43)}`));
    expect(store.finds).toBe(before + 1);
  });
});
