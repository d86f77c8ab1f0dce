import { describe, expect, it } from 'vitest';
import type { RateLimiter, RateLimiterOptions } from '../src/limits.ts';

/** A limiter under test, plus what a test needs to play the processes that hold it. */
export interface TestLimiter extends RateLimiter {
  heartbeat(): Promise<void>;
  abandon(): void;
}

export interface RateLimiterFixture {
  /** A new limiter on the shared store, as another API process would open one. */
  open(options: RateLimiterOptions): Promise<TestLimiter>;
  /** A key no other test uses. */
  key(name: string): string;
}

const MINUTE = { limit: 25, windowSeconds: 60 };
// 30 s into a minute, so a test knows exactly when its window ends.
const START = Date.UTC(2030, 0, 1, 12, 0, 30);

/** The same behaviour, whatever store holds the counters. */
export function describeRateLimiter(name: string, setup: () => RateLimiterFixture): void {
  describe(name, () => {
    const fixture = setup();

    async function clocked(ttlMs = 30_000) {
      const clock = { now: START };
      const open = () => fixture.open({ now: () => clock.now, slotTtlMs: ttlMs, heartbeatMs: 3_600_000 });
      return { clock, open };
    }

    it('never lets concurrent takes from two processes spend more than the limit', async () => {
      const [a, b] = [await fixture.open({}), await fixture.open({})];
      try {
        const key = fixture.key('race');
        const minute = () => Math.floor(Date.now() / 60_000);
        const before = minute();
        const decisions = await Promise.all(Array.from({ length: 80 }, (_, i) => (i % 2 ? a : b).take(key, 1, MINUTE)));
        const allowed = decisions.filter((d) => d.allowed);
        if (minute() === before) {
          expect(allowed.map((d) => d.remaining).sort((x, y) => x - y)).toEqual(Array.from({ length: 25 }, (_, i) => i));
        } else {
          // The takes straddled a minute boundary: each of the two windows grants at most 25.
          expect(allowed.length).toBeLessThanOrEqual(50);
        }
        for (const refused of decisions.filter((d) => !d.allowed)) {
          expect(refused.remaining).toBe(0);
          expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
          expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
        }
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('grants exactly the limit under concurrent takes within one window', async () => {
      const { open } = await clocked();
      const [a, b] = [await open(), await open()];
      try {
        const key = fixture.key('exact');
        const decisions = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).take(key, 1, MINUTE)));
        expect(decisions.filter((d) => d.allowed)).toHaveLength(25);
        expect(decisions.filter((d) => d.allowed).map((d) => d.remaining).sort((x, y) => x - y)).toEqual(Array.from({ length: 25 }, (_, i) => i));
        expect(decisions.filter((d) => !d.allowed).every((d) => d.retryAfterSeconds === 30 && d.resetSeconds === 30)).toBe(true);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('starts a fresh quota when the window ends, and says when that is', async () => {
      const { clock, open } = await clocked();
      const limiter = await open();
      try {
        const key = fixture.key('reset');
        const rule = { limit: 2, windowSeconds: 60 };
        expect(await limiter.take(key, 1, rule)).toEqual({ allowed: true, remaining: 1, resetSeconds: 30, retryAfterSeconds: 0 });
        expect(await limiter.take(key, 1, rule)).toMatchObject({ allowed: true, remaining: 0 });
        clock.now += 20_000;
        expect(await limiter.take(key, 1, rule)).toEqual({ allowed: false, remaining: 0, resetSeconds: 10, retryAfterSeconds: 10 });
        clock.now += 10_000;
        expect(await limiter.take(key, 1, rule)).toEqual({ allowed: true, remaining: 1, resetSeconds: 60, retryAfterSeconds: 0 });
      } finally {
        await limiter.close();
      }
    });

    it('charges a batch its size and spends nothing on a batch larger than what is left', async () => {
      const { open } = await clocked();
      const limiter = await open();
      try {
        const key = fixture.key('batch');
        const rule = { limit: 10, windowSeconds: 60 };
        expect(await limiter.take(key, 7, rule)).toMatchObject({ allowed: true, remaining: 3 });
        expect(await limiter.take(key, 4, rule)).toMatchObject({ allowed: false, remaining: 3, retryAfterSeconds: 30 });
        expect(await limiter.take(key, 3, rule)).toMatchObject({ allowed: true, remaining: 0 });
        // A batch above the whole quota can never pass: no retry time to offer.
        expect(await limiter.take(fixture.key('huge'), 11, rule)).toMatchObject({ allowed: false, retryAfterSeconds: undefined });
      } finally {
        await limiter.close();
      }
    });

    it('keeps each key to its own quota', async () => {
      const { open } = await clocked();
      const limiter = await open();
      try {
        const rule = { limit: 1, windowSeconds: 60 };
        const [alice, bob] = [fixture.key('alice'), fixture.key('bob')];
        expect((await limiter.take(alice, 1, rule)).allowed).toBe(true);
        expect((await limiter.take(alice, 1, rule)).allowed).toBe(false);
        expect((await limiter.take(bob, 1, rule)).allowed).toBe(true);
      } finally {
        await limiter.close();
      }
    });

    it('grants at most the limit of slots to racing acquires from two processes', async () => {
      const [a, b] = [await fixture.open({}), await fixture.open({})];
      try {
        const key = fixture.key('slots');
        const decisions = await Promise.all(Array.from({ length: 24 }, (_, i) => (i % 2 ? a : b).acquire(key, 5)));
        expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
        expect(decisions.filter((d) => !d.allowed).every((d) => !d.allowed && d.held === 5)).toBe(true);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('frees a slot when it is released, once however often release is called', async () => {
      const limiter = await fixture.open({});
      try {
        const key = fixture.key('release');
        const first = await limiter.acquire(key, 2);
        const second = await limiter.acquire(key, 2);
        expect((await limiter.acquire(key, 2)).allowed).toBe(false);
        if (!first.allowed || !second.allowed) throw new Error('the first two acquires must be granted');
        await Promise.all([first.slot.release(), first.slot.release()]);
        await first.slot.release();
        const third = await limiter.acquire(key, 2);
        expect(third.allowed).toBe(true);
        expect(await limiter.acquire(key, 2)).toEqual({ allowed: false, held: 2 });
      } finally {
        await limiter.close();
      }
    });

    it('gives back every slot a limiter holds when it closes', async () => {
      const [a, b] = [await fixture.open({}), await fixture.open({})];
      const key = fixture.key('close');
      try {
        expect((await a.acquire(key, 2)).allowed).toBe(true);
        expect((await a.acquire(key, 2)).allowed).toBe(true);
        expect((await b.acquire(key, 2)).allowed).toBe(false);
        await a.close();
        expect((await b.acquire(key, 2)).allowed).toBe(true);
      } finally {
        await b.close();
      }
    });

    it('stops counting the slots of a process that died once they expire', async () => {
      const { clock, open } = await clocked(10_000);
      const [dying, other] = [await open(), await open()];
      try {
        const key = fixture.key('death');
        expect((await dying.acquire(key, 1)).allowed).toBe(true);
        dying.abandon();
        clock.now += 9_000;
        expect(await other.acquire(key, 1)).toEqual({ allowed: false, held: 1 });
        clock.now += 1_001;
        expect((await other.acquire(key, 1)).allowed).toBe(true);
      } finally {
        await Promise.all([dying.close(), other.close()]);
      }
    });

    it('keeps counting a slot whose holder renews it', async () => {
      const { clock, open } = await clocked(10_000);
      const [holder, other] = [await open(), await open()];
      try {
        const key = fixture.key('renew');
        expect((await holder.acquire(key, 1)).allowed).toBe(true);
        clock.now += 8_000;
        await holder.heartbeat();
        clock.now += 8_000;
        expect(await other.acquire(key, 1)).toEqual({ allowed: false, held: 1 });
        clock.now += 2_001;
        expect((await other.acquire(key, 1)).allowed).toBe(true);
      } finally {
        await Promise.all([holder.close(), other.close()]);
      }
    });
  });
}
