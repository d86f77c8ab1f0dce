import type { Kysely } from 'kysely';
import { rewriteFunction } from './rewrite-function.ts';

/**
 * A claim when no owner has a cap (no OWNER_MAX_CONCURRENT, no key with --max-concurrent: the
 * common case) takes the ready order as it is. 0008's claim numbered every candidate within its
 * owner (a window over the batch, sorted by owner) to hold each owner to its room, and with no cap
 * that number is compared with the whole room, so the sort bought nothing. With many owners it
 * was a sort of the batch on every claim; the fair order itself is unchanged.
 *
 * One branch is put in front of claim_fair_kinds's first one, rewritten from its stored text
 * (see rewrite-function.ts), so the capped paths stay byte for byte what shipped.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await rewriteFunction(
    db,
    '0014',
    'tasklane.claim_fair_kinds(text, integer, text[], integer, jsonb, integer, integer, boolean)',
    "if v_owners_full = '{}' then",
    `if v_owners_left = '{}' and p_owner_cap is null then
        select array_agg(a.id) into v_ids from (
          select c.id
          from (select q.kind, least(v_room, coalesce((v_left ->> q.kind)::integer, v_room)) as n
                from unnest(p_kinds) q(kind) where q.kind <> all(v_full)) k
          cross join lateral (
            select t.id, t.priority, t.fair_rank from tasklane.tasks t
            where t.status = 'pending' and t.fair_rank is not null and t.kind = k.kind and t.run_at <= now()
            order by t.priority desc, t.fair_rank, t.id
            limit k.n
            for update skip locked
          ) c
          order by c.priority desc, c.fair_rank, c.id
          limit v_room
        ) a;
      elsif v_owners_full = '{}' then`,
  );
}
