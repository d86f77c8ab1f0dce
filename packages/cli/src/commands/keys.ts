import { UsageError } from '../exit-codes.ts';

/** API keys arrive with authentication; until then the command exists only to say so. */
export async function runKeys(_args: string[]): Promise<number> {
  throw new UsageError('keys: not yet available: API keys come with authentication in a later release');
}
