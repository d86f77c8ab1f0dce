// The handler: what this team's workers do for a task of kind `thumbnail`. The work itself is a
// stand-in (a few timed steps); a real handler would fetch the image and resize it here.
import { TaskError } from '@tasklane/worker';

const STEPS = ['downloading', 'decoding', 'resizing', 'encoding', 'uploading'];

/** @type {import('@tasklane/worker').HandlerDefinition} */
export const thumbnail = {
  service: 'example-resizer',
  // Past this the signal aborts with reason `timeout` and the attempt fails retryably.
  // THUMBNAIL_TIMEOUT_SECONDS overrides it without a code change.
  timeoutSeconds: 60,
  async run(task, ctx) {
    const { url, width = 320 } = /** @type {{ url?: unknown, width?: number }} */ (task.input ?? {});
    if (typeof url !== 'string' || !url.startsWith('https://')) {
      // Not retryable: the same input would fail again.
      throw new TaskError({ type: 'InvalidInput', message: 'input.url must be an https:// URL of an image' });
    }
    for (const [i, step] of STEPS.entries()) {
      ctx.signal.throwIfAborted(); // cancelled, timed out, or the worker is stopping
      ctx.progress(Math.round((i / STEPS.length) * 100), step);
      await new Promise((resolve) => setTimeout(resolve, Number(process.env.STEP_MS ?? 200)));
    }
    ctx.log.info('thumbnail made', { width, attempt: ctx.attempt });
    return { thumbnail_url: `${url.replace(/\.\w+$/, '')}-${width}w.webp`, width };
  },
};
