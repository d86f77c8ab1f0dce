import { UsageError } from '../exit-codes.ts';
import { parseCommand, positionals, REMOTE_OPTIONS } from '../parse-options.ts';
import { DEFAULT_URL } from '../remote-client.ts';

export const WEBHOOKS_USAGE = `Usage: tasklane webhooks <secret|rotate> [--owner <name>] [--json] [--url <url>]

  secret          Print the webhook signing secret (whsec_…) of your key's owner; receivers check
                  signatures with it (docs/webhooks.md)
  rotate          Make a new secret; the old one keeps signing beside it for 24 hours

Options:
  --owner <name>  Another owner's secret (needs an admin key)
  --json          Print {owner, secret, created_at, previous_expires_at}
  --url <url>     Server address (default TASKLANE_URL or http://localhost:8000)

The key comes from TASKLANE_API_KEY when the server runs with AUTH=on.`;

const OPTIONS = { ...REMOTE_OPTIONS, owner: { type: 'string' } } as const;

interface SecretBody {
  owner: string;
  secret: string;
  created_at: string;
  previous_expires_at: string | null;
}

/** `tasklane webhooks secret|rotate`, over the REST API (GET /api/v1/webhooks/secret). */
export async function runWebhooks(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals: given } = parseCommand('webhooks', args, OPTIONS);
  if (values.help || given.length === 0) {
    console.log(WEBHOOKS_USAGE);
    return values.help ? 0 : 4;
  }
  const [action] = positionals('webhooks', given, ['secret|rotate']);
  if (action !== 'secret' && action !== 'rotate') throw new UsageError(`webhooks: unknown action "${action}" (secret or rotate)`);
  const base = values.url || env['TASKLANE_URL'] || DEFAULT_URL;
  if (!URL.canParse(base)) throw new UsageError(`"${base}" is not an http(s) URL`);
  const url = new URL(action === 'secret' ? '/api/v1/webhooks/secret' : '/api/v1/webhooks/secret/rotate', base);
  if (values.owner !== undefined) url.searchParams.set('owner', values.owner);
  const key = env['TASKLANE_API_KEY'];
  let response: Response;
  try {
    response = await fetch(url, { method: action === 'secret' ? 'GET' : 'POST', headers: key ? { authorization: `Bearer ${key}` } : {} });
  } catch (error) {
    throw new UsageError(`cannot reach ${url.origin}: ${(error as Error).message}`);
  }
  const text = await response.text();
  if (!response.ok) {
    let detail = text.slice(0, 300);
    try {
      detail = (JSON.parse(text) as { detail?: string }).detail ?? detail;
    } catch {
      // Not a problem document: the text itself says what happened.
    }
    throw new UsageError(`webhooks ${action}: ${response.status} ${detail}`);
  }
  const body = JSON.parse(text) as SecretBody;
  if (values.json) process.stdout.write(`${JSON.stringify(body)}\n`);
  else if (action === 'rotate') process.stdout.write(`${body.secret}\n(the previous secret also signs until ${body.previous_expires_at})\n`);
  else process.stdout.write(`${body.secret}\n`);
  return 0;
}
