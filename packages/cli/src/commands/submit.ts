import { readFile } from 'node:fs/promises';
import type { JsonValue, SubmitInput, WebhookEvent } from '@tasklane/client';
import { WEBHOOK_EVENTS } from '@tasklane/core';
import { UsageError } from '../exit-codes.ts';
import { followTask } from '../follow-task.ts';
import { parseMetadataPairs } from '../task-filter-options.ts';
import { integerOption, parseCommand, positionals, REMOTE_OPTIONS, secondsOption } from '../parse-options.ts';
import { withClient } from '../remote-client.ts';
import { formatTaskDetails } from '../output/task-details.ts';

export const SUBMIT_USAGE = `Usage: tasklane submit <kind> [--input '<json>' | --input-file <file>] [options]

Queues a task and prints it. With --wait, follows it like \`tasklane watch\`.

Options:
  --input <json>            The task's input as JSON (default {})
  --input-file <file>       Read the input from a file ("-" for standard input)
  --service <name>          The provider to use, e.g. veo3
  --priority <n>            Higher runs first, -1000 to 1000 (default 0)
  --max-attempts <n>        Attempts before it fails for good, 1 to 100 (default 3)
  --idempotency-key <key>   Submitting again with the same key returns the same task
  --webhook <url>           POST signed changes of the task to this URL (docs/webhooks.md)
  --webhook-events <list>   Which changes, comma-separated: processing, progress, completed,
                            failed, cancelled (default completed,failed,cancelled)
  --metadata <key=value>    A label to find the task by later (repeat for several, at most 16)
  --wait                    Follow the task to its end; exit 0 completed, 1 failed, 2 cancelled, 3 timed out
  --timeout <seconds>       With --wait: give up after this long (the task goes on)
  --json                    Print JSON (with --wait: one line per state)
  --url <url>               Server address (default TASKLANE_URL or http://localhost:8000)`;

const OPTIONS = {
  ...REMOTE_OPTIONS,
  input: { type: 'string' },
  'input-file': { type: 'string' },
  service: { type: 'string' },
  priority: { type: 'string' },
  'max-attempts': { type: 'string' },
  'idempotency-key': { type: 'string' },
  webhook: { type: 'string' },
  'webhook-events': { type: 'string' },
  metadata: { type: 'string', multiple: true },
  wait: { type: 'boolean', default: false },
  timeout: { type: 'string' },
} as const;

async function readInput(inline: string | undefined, file: string | undefined): Promise<JsonValue | undefined> {
  if (inline !== undefined && file !== undefined) throw new UsageError('submit: give --input or --input-file, not both');
  let text = inline;
  let source = '--input';
  if (file !== undefined) {
    source = file === '-' ? 'standard input' : file;
    try {
      text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
    } catch (error) {
      throw new UsageError(`submit: cannot read --input-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new UsageError(`submit: ${source} is not valid JSON (${(error as Error).message})`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `--webhook` and `--webhook-events` as the client's webhook input; unknown events named here. */
function webhookOption(url: string | undefined, events: string | undefined): SubmitInput['webhook'] {
  if (url === undefined) {
    if (events !== undefined) throw new UsageError('submit: --webhook-events needs --webhook <url>');
    return undefined;
  }
  if (events === undefined) return { url };
  const chosen = events.split(',').map((e) => e.trim().toLowerCase()).filter((e) => e !== '');
  for (const event of chosen) {
    if (!(WEBHOOK_EVENTS as readonly string[]).includes(event)) {
      throw new UsageError(`submit: --webhook-events: "${event}" is not an event (allowed: ${WEBHOOK_EVENTS.join(', ')})`);
    }
  }
  return { url, events: chosen.map((e) => e.toUpperCase() as WebhookEvent) };
}

/** `tasklane submit <kind>`. */
export async function runSubmit(args: string[]): Promise<number> {
  const { values, positionals: given } = parseCommand('submit', args, OPTIONS);
  if (values.help) {
    console.log(SUBMIT_USAGE);
    return 0;
  }
  const [kind] = positionals('submit', given, ['kind']);
  if (values.timeout !== undefined && !values.wait) throw new UsageError('submit: --timeout only applies with --wait');
  const input = await readInput(values.input, values['input-file']);
  const priority = integerOption('submit', 'priority', values.priority, -1000, 1000);
  const maxAttempts = integerOption('submit', 'max-attempts', values['max-attempts'], 1, 100);
  const timeout = secondsOption('submit', 'timeout', values.timeout);
  const webhook = webhookOption(values.webhook, values['webhook-events']);

  return withClient(values.url, async (client) => {
    const task = await client.submit({
      kind: kind!,
      input,
      service: values.service,
      priority,
      maxAttempts,
      idempotencyKey: values['idempotency-key'],
      webhook,
      metadata: parseMetadataPairs('submit', values.metadata),
    });
    if (values.json) process.stdout.write(`${JSON.stringify(task)}\n`);
    else if (values.wait) process.stdout.write(`Submitted ${task.id}\n`);
    else process.stdout.write(`Submitted ${task.id}\n\n${formatTaskDetails(task)}\n\nFollow it with: tasklane watch ${task.id}\n`);
    if (!values.wait) return 0;
    return followTask(client, task.id, { json: values.json, timeout, out: process.stdout });
  });
}
