import { isDeepStrictEqual } from 'node:util';
import type { FuzzTarget } from './fuzz-case.ts';

interface Expected {
  id: string;
  kind: 'video' | 'image';
  input: Record<string, unknown>;
  via: 'rest' | 'graphql';
  fails: boolean;
}

/** Strings a checked task carries in its input, so that "unchanged" also covers awkward text. */
const AWKWARD = ["'; drop table tasklane.tasks; --", '" or 1=1 --', '$1', '‘quoted’ “twice”', '100% _done_', 'back\\slash', '💥', 'ünïcødé'];

/** Resends on 429, waiting the Retry-After the server names (rate limits may count these too). */
async function send(url: string, init: RequestInit): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(url, init);
    if (response.status !== 429 || attempt >= 20) return response;
    const seconds = Number(response.headers.get('retry-after') ?? '1');
    await new Promise((resolve) => setTimeout(resolve, Math.min(Number.isFinite(seconds) ? seconds : 1, 10) * 1000));
  }
}

function headers(authorization: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'application/json', ...(authorization ? { authorization } : {}), ...extra };
}

/**
 * Valid tasks submitted among the fuzzed requests (over REST and GraphQL, alternately), then
 * checked: each must finish as its handler decides, with its input exactly as submitted.
 */
export class CheckedTasks {
  private readonly tasks: Expected[] = [];

  constructor(
    private readonly base: string,
    private readonly seed: number,
    /** The checked tasks' own owner, when auth is on: the fuzzer's key cannot see them. */
    private readonly authorization?: string,
  ) {}

  get size(): number {
    return this.tasks.length;
  }

  /**
   * Real tasks the fuzzer may read, cancel and follow: pending ones of a kind no worker runs, a
   * completed one and a cancelled one, so every status path is reachable.
   */
  static async decoys(base: string, target: FuzzTarget): Promise<string[]> {
    const submit = async (kind: string, input: unknown) => {
      const response = await send(`${base}/api/v1/tasks`, { method: 'POST', headers: headers(target.authorization), body: JSON.stringify({ kind, input }) });
      if (response.status !== 202) throw new Error(`decoy submit answered ${response.status}: ${await response.text()}`);
      return ((await response.json()) as { task_id: string }).task_id;
    };
    const ids = [await submit('decoy', {}), await submit('decoy', { a: 1 }), await submit('image', { duration_seconds: 0 })];
    const cancelled = await submit('decoy', {});
    const cancel = await send(`${base}/api/v1/tasks/${cancelled}`, { method: 'DELETE', headers: target.authorization ? { authorization: target.authorization } : {} });
    if (cancel.status !== 200) throw new Error(`decoy cancel answered ${cancel.status}`);
    return [...ids, cancelled];
  }

  async submit(): Promise<void> {
    const n = this.tasks.length;
    const kind = n % 3 === 0 ? 'video' : 'image';
    const fails = n % 10 === 9;
    const input: Record<string, unknown> = {
      duration_seconds: n % 2 === 0 ? 0 : 0.2,
      prompt: `checked task ${n} of seed ${this.seed}: ${AWKWARD[n % AWKWARD.length]}`,
      nested: { list: [n, null, true, 'x'], empty: {} },
      ...(fails ? { fail: 'content_policy' } : {}),
    };
    const idempotencyKey = `checked-${this.seed}-${n}`;
    const via = n % 2 === 0 ? 'rest' : 'graphql';
    let id: string;
    if (via === 'rest') {
      const response = await send(`${this.base}/api/v1/tasks`, {
        method: 'POST',
        headers: headers(this.authorization, { 'idempotency-key': idempotencyKey }),
        body: JSON.stringify({ kind, input, priority: 1000 }),
      });
      const text = await response.text();
      if (response.status !== 202) throw new Error(`checked task ${n}: REST submit answered ${response.status}: ${text}`);
      id = (JSON.parse(text) as { task_id: string }).task_id;
    } else {
      const response = await send(`${this.base}/graphql`, {
        method: 'POST',
        headers: headers(this.authorization),
        body: JSON.stringify({
          query: 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }',
          variables: { input: { kind, input, priority: 1000, idempotencyKey } },
        }),
      });
      const text = await response.text();
      const body = JSON.parse(text) as { data?: { submitTask?: { id: string } } };
      if (!body.data?.submitTask) throw new Error(`checked task ${n}: submitTask answered ${response.status}: ${text}`);
      id = body.data.submitTask.id;
    }
    this.tasks.push({ id, kind, input, via, fails });
  }

  private async rest(id: string): Promise<Record<string, any>> {
    const response = await fetch(`${this.base}/api/v1/tasks/${id}`, { headers: headers(this.authorization) });
    if (response.status !== 200) throw new Error(`GET ${id} answered ${response.status}`);
    return (await response.json()) as Record<string, any>;
  }

  async allFinished(): Promise<boolean> {
    for (const task of this.tasks) {
      const body = await this.rest(task.id);
      if (body.status === 'pending' || body.status === 'processing') return false;
    }
    return true;
  }

  /** What differs from what each task should be, as readable lines; empty when all are right. */
  async differences(): Promise<string[]> {
    const problems: string[] = [];
    for (const task of this.tasks) {
      const label = `${task.id} (${task.kind} via ${task.via}${task.fails ? ', asked to fail' : ''})`;
      const body = await this.rest(task.id);
      const service = task.kind === 'video' ? 'veo3' : 'imagen';
      const url = task.kind === 'video' ? { video_url: `https://cdn.example.com/videos/${task.id}.mp4` } : { image_url: `https://cdn.example.com/images/${task.id}.png` };
      if (task.fails) {
        const type = task.kind === 'video' ? 'VideoGenerationError' : 'ImageGenerationError';
        if (body.status !== 'failed' || !isDeepStrictEqual(body.error, { type, message: 'Content policy violation' })) {
          problems.push(`${label}: expected failed with ${type}, got ${JSON.stringify(body)}`);
        }
      } else if (body.status !== 'completed' || body.progress !== 100 || body.result?.service !== service || !isDeepStrictEqual(body.result?.result, url)) {
        problems.push(`${label}: expected completed by ${service} with ${JSON.stringify(url)}, got ${JSON.stringify(body)}`);
      }
      const response = await fetch(`${this.base}/graphql`, {
        method: 'POST',
        headers: headers(this.authorization),
        body: JSON.stringify({ query: 'query ($id: ID!) { task(id: $id) { kind input priority attempts maxAttempts } }', variables: { id: task.id } }),
      });
      const stored = ((await response.json()) as { data?: { task?: Record<string, unknown> } }).data?.task;
      const want = { kind: task.kind, input: task.input, priority: 1000, attempts: 1, maxAttempts: 3 };
      if (!isDeepStrictEqual(stored, want)) problems.push(`${label}: stored ${JSON.stringify(stored)}, expected ${JSON.stringify(want)}`);
    }
    return problems;
  }
}
