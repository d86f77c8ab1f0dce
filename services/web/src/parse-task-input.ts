import type { JsonValue } from '@tasklane/client';

export type ParsedInput = { ok: true; value: JsonValue } | { ok: false; message: string };

const KIND = /^[a-z][a-z0-9_]{0,31}$/;

/** Checks the form's kind against the API's rule, so a typo is explained here rather than by the server. */
export function kindProblem(kind: string): string | undefined {
  return KIND.test(kind) ? undefined : 'Kind must be 1-32 lowercase letters, digits or _, starting with a letter.';
}

/** The form's JSON text as a value; an empty box means `{}`. The message quotes the parser's reason. */
export function parseTaskInput(text: string): ParsedInput {
  if (text.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as JsonValue };
  } catch (error) {
    return { ok: false, message: `Input is not valid JSON: ${(error as Error).message}` };
  }
}
