// Type-checked with `tsc --noEmit` against the installed packages' declarations: the handler's
// task and ctx, and the client's results, are typed (a wrong use below would not compile).
import { createWorker, TaskError, type Handler, type Task, type TaskContext } from '@tasklane/worker';
import { createTasklaneClient, TaskFailedError, type CompletedTask } from '@tasklane/client';
import { runHandler, type HandlerOutcome } from '@tasklane/worker/testing';

const thumbnail: Handler = {
  timeoutSeconds: 30,
  run: async (task, ctx) => {
    const id: string = task.id;
    const attempt: number = ctx.attempt;
    const signal: AbortSignal = ctx.signal;
    ctx.progress(50, `half of ${id} (attempt ${attempt}, aborted ${signal.aborted})`);
    ctx.setService('resizer');
    // @ts-expect-error progress takes a number
    ctx.progress('half');
    // @ts-expect-error a task has no such field
    void task.inputs;
    if (task.input === null) throw new TaskError({ type: 'InvalidInput', message: 'no input', retryable: false });
    return { ok: true };
  },
};

// A plain function handler gets the same types from the handlers map.
export const worker = createWorker({
  connectionString: 'postgres://localhost/tasklane',
  handlers: {
    thumbnail,
    echo: (task: Task, ctx: TaskContext) => ({ kind: task.kind, worker: ctx.workerId }),
  },
  timeouts: { echo: 5 },
});

export async function submitAndWait(): Promise<string> {
  const client = createTasklaneClient({ url: 'http://localhost:8000' });
  const task = await client.submit({ kind: 'thumbnail', input: { url: 'https://img.example.com/a.png' } });
  const status: 'PENDING' | 'PROCESSING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' = task.status;
  try {
    const done: CompletedTask = await client.waitFor(task.id, { onProgress: (t) => void t.progress.toFixed() });
    // @ts-expect-error a completed task's error is null, never an object
    void done.error.message;
    return `${status} ${JSON.stringify(done.result)}`;
  } catch (error) {
    if (error instanceof TaskFailedError) return error.errorType;
    throw error;
  } finally {
    await client.close();
  }
}

export async function handlerTest(): Promise<HandlerOutcome> {
  return runHandler(thumbnail, { input: { url: 'https://img.example.com/a.png' } }).outcome;
}
