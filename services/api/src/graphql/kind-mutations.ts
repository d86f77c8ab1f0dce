import { setKindPaused } from '../kind-pause.ts';
import { builder } from './builder.ts';
import { KindWorkersRef } from './queue-stats-type.ts';

builder.mutationFields((t) => ({
  pauseKind: t.field({
    type: KindWorkersRef,
    nullable: true,
    description:
      'Pauses a kind for the whole cluster (admin keys only, FORBIDDEN otherwise): no worker claims its PENDING tasks until resumeKind; running tasks finish. Idempotent. A kind no worker has registered and TASK_KINDS does not declare answers BAD_USER_INPUT.',
    args: { kind: t.arg.string({ required: true }) },
    resolve: (_root, { kind }, ctx) => setKindPaused(ctx.app, ctx.caller, kind, true),
  }),

  resumeKind: t.field({
    type: KindWorkersRef,
    nullable: true,
    description: 'Resumes a paused kind (admin keys only): workers claim its PENDING tasks again. Idempotent.',
    args: { kind: t.arg.string({ required: true }) },
    resolve: (_root, { kind }, ctx) => setKindPaused(ctx.app, ctx.caller, kind, false),
  }),
}));
