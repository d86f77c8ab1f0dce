import { ValidationError } from '@tasklane/core';

interface Cursor {
  createdAt: string;
  id: string;
}

/** Opaque to clients: base64url of the last row's creation time (stored to the millisecond) and id. */
export function encodeCursor(task: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([task.createdAt.toISOString(), task.id])).toString('base64url');
}

export function decodeCursor(value: string): Cursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') {
      if (!Number.isNaN(Date.parse(parsed[0]))) return { createdAt: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw new ValidationError('cursor', 'is not a cursor this server issued; pass the value from the previous page unchanged');
}
