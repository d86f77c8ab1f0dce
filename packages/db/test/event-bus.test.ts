import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { describe, inject, it } from 'vitest';
import { PgEventBus, type EventBus } from '../src/index.ts';
import { RedisEventBus } from '../src/redis.ts';
import { describeEventBus } from './event-bus-suite.ts';

// A cancel exactly as TaskStore.cancel writes it, for the fixtures that must write it unannounced.
const CANCEL = `update tasklane.tasks set status = 'cancelled', message = 'Task cancelled', finished_at = now(), lease_owner = null
                where id = $1`;

describeEventBus('LISTEN/NOTIFY', () => ({
  makeBus: (databaseUrl) => new PgEventBus({ connectionString: databaseUrl, maxReconnectDelayMs: 500 }),
  // The trigger announces every change inside the writing transaction: nothing to publish.
  publisher: () => undefined,
  async cutConnection(_bus, databaseUrl) {
    const admin = new pg.Client({ connectionString: inject('tasklaneAdminUrl') });
    await admin.connect();
    try {
      // Each test file has its own database, so this cuts only this suite's LISTEN connection.
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'tasklane-listen' and datname = $1`, [
        new URL(databaseUrl).pathname.slice(1),
      ]);
    } finally {
      await admin.end();
    }
  },
  async cancelSilently(pool, id) {
    // The notify trigger is off only inside this transaction (DDL is transactional in Postgres).
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query('alter table tasklane.tasks disable trigger tasks_notify_update');
      await client.query(CANCEL, [id]);
      await client.query('alter table tasklane.tasks enable trigger tasks_notify_update');
      await client.query('commit');
    } finally {
      client.release();
    }
  },
}));

const redisUrl = process.env.REDIS_URL;
if (redisUrl) {
  // A channel and connection names of this run's own: other runs on the same Redis stay apart.
  const run = randomBytes(4).toString('hex');
  const names = new WeakMap<EventBus, string>();
  let count = 0;
  describeEventBus('Redis', () => ({
    makeBus() {
      const name = `tasklane-test-${run}-${count++}`;
      const bus = new RedisEventBus({ url: redisUrl, channel: `tasklane_test_${run}`, connectionName: name, maxReconnectDelayMs: 500 });
      names.set(bus, name);
      return bus;
    },
    publisher: (bus) => (changes) => (bus as RedisEventBus).publish(changes),
    async cutConnection(bus) {
      const admin = new Redis(redisUrl, { lazyConnect: true });
      await admin.connect();
      try {
        const list = (await admin.call('CLIENT', 'LIST')) as string;
        const line = list.split('\n').find((l) => l.includes(` name=${names.get(bus)}-listen `));
        const id = line?.match(/^id=(\d+)/)?.[1];
        if (!id) throw new Error('the bus has no subscriber connection to cut');
        await admin.call('CLIENT', 'KILL', 'ID', id);
      } finally {
        admin.disconnect();
      }
    },
    async cancelSilently(pool, id) {
      // Written straight to the database: no store, so no publisher hears of it.
      await pool.query(CANCEL, [id]);
    },
  }));
} else {
  describe('Redis event bus', () => {
    it.skip('needs REDIS_URL (e.g. redis://127.0.0.1:6379); skipped', () => {});
  });
  console.log('Redis event bus tests skipped: REDIS_URL is not set (e.g. REDIS_URL=redis://127.0.0.1:6379)');
}
