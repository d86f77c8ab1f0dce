import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@tasklane/db';
import { ApiKeyStore, parseApiKey } from '@tasklane/db/limits';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { run } from './cli-process.ts';

let db: TestDatabase;
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase();
  env = { DATABASE_URL: db.url };
}, 60_000);
afterAll(async () => {
  await db?.drop();
});

/** Verifies a printed key the way the API does: by id, then the secret against the stored hash. */
async function verify(key: string) {
  const pool = createPool({ connectionString: db.url, max: 1 });
  try {
    const parsed = parseApiKey(key);
    if (!parsed) return undefined;
    const stored = await new ApiKeyStore(pool).find(parsed.id);
    return stored;
  } finally {
    await pool.end();
  }
}

describe('tasklane keys', () => {
  it('creates a key, prints it once on stdout and says it will not be shown again', async () => {
    const { code, stdout, stderr } = await run(['keys', 'create', '--owner', 'alice', '--name', 'ci runner'], env);
    expect(code).toBe(0);
    const key = stdout.trim();
    expect(key).toMatch(/^tl_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(stderr).toContain('only time the key is shown');
    const stored = await verify(key);
    expect(stored).toMatchObject({ owner: 'alice', admin: false, name: 'ci runner', revokedAt: null });
    // Only the hash is kept: the secret appears nowhere in the row.
    expect(stored!.hash.toString('hex')).not.toContain(parseApiKey(key)!.secret);
    expect(stored!.hash).toHaveLength(32);
  });

  it("creates a key whose owner gets --max-concurrent as its cap, and refuses a cap that is not a whole number", async () => {
    const { code, stdout, stderr } = await run(['keys', 'create', '--owner', 'carol', '--max-concurrent', '4'], env);
    expect(code).toBe(0);
    expect(stderr).toContain('at most 4 of its tasks running at once');
    expect(await verify(stdout.trim())).toMatchObject({ owner: 'carol', maxConcurrent: 4 });

    const bad = await run(['keys', 'create', '--owner', 'carol', '--max-concurrent', '0'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-concurrent must be a whole number from 1 to 1000000, got "0"');
  });

  it('lists keys with owner, role and times but never the secret or its hash', async () => {
    const created = await run(['keys', 'create', '--owner', 'ops', '--admin'], env);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    const { id, secret } = parseApiKey(key)!;
    const stored = await verify(key);

    const { code, stdout } = await run(['keys', 'list'], env);
    expect(code).toBe(0);
    const line = stdout.split('\n').find((l) => l.startsWith(id));
    expect(line).toMatch(new RegExp(`^${id}\\s+ops\\s+admin\\s+-\\s+\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\s+-\\s+-$`));
    expect(stdout).not.toContain(secret);
    expect(stdout).not.toContain(stored!.hash.toString('hex'));

    const json = await run(['keys', 'list', '--json'], env);
    const listed = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(listed.find((k) => k['id'] === id)).toEqual({
      id,
      owner: 'ops',
      admin: true,
      worker: false,
      kinds: null,
      name: null,
      max_concurrent: null,
      created_at: expect.stringMatching(/Z$/),
      last_used_at: null,
      revoked_at: null,
    });
    expect(json.stdout).not.toContain(secret);
  });

  it('revokes a key by id, and says so when there is no such key', async () => {
    const key = (await run(['keys', 'create', '--owner', 'bob'], env)).stdout.trim();
    const { id } = parseApiKey(key)!;
    const revoked = await run(['keys', 'revoke', id], env);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked key ${id} (owner "bob")`);
    expect((await verify(key))!.revokedAt).toBeInstanceOf(Date);

    const listed = await run(['keys', 'list'], env);
    expect(listed.stdout.split('\n').find((l) => l.startsWith(id))).toMatch(/\d\dZ$/);

    const unknown = await run(['keys', 'revoke', '0123456789abcdef'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no key with id 0123456789abcdef');
  });

  it('creates a worker key for the listed kinds, shown as such in the list', async () => {
    const { code, stdout, stderr } = await run(['keys', 'create', '--worker', '--kinds', 'video,image,video', '--name', 'gpu box'], env);
    expect(code).toBe(0);
    expect(stderr).toContain('worker key');
    const key = stdout.trim();
    expect(await verify(key)).toMatchObject({ worker: true, admin: false, kinds: ['video', 'image'], name: 'gpu box' });
    const { id } = parseApiKey(key)!;
    const listed = await run(['keys', 'list'], env);
    expect(listed.stdout.split('\n').find((l) => l.startsWith(id))).toMatch(/\sworker \(video,image\)\s/);

    const anyKind = (await run(['keys', 'create', '--worker'], env)).stdout.trim();
    expect(await verify(anyKind)).toMatchObject({ worker: true, kinds: null });
  });

  it.each([
    [['keys', 'create', '--worker', '--admin'], '--worker and --admin do not go together'],
    [['keys', 'create', '--worker', '--owner', 'alice'], '--worker keys have no --owner'],
    [['keys', 'create', '--worker', '--kinds', 'video,Bad Kind'], '--kinds: "Bad Kind" is not a kind name'],
    [['keys', 'create', '--owner', 'alice', '--kinds', 'video'], '--kinds applies to worker keys only'],
    [['keys', 'create'], 'create needs --owner <name>'],
    [['keys', 'create', '--owner', 'has space'], '--owner must be'],
    [['keys', 'create', '--owner', 'x', '--frobnicate'], "Unknown option '--frobnicate'"],
    [['keys', 'revoke'], 'revoke needs exactly one <id>'],
    [['keys', 'revoke', 'tl_nothex'], 'is not a key id'],
    [['keys', 'rotate'], 'unknown subcommand "rotate"'],
  ])('exits 2 with a clear message on bad usage: %j', async (args, message) => {
    const { code, stderr, stdout } = await run(args, env);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stdout).toBe('');
  });
});
