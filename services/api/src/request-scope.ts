import type { IncomingHttpHeaders } from 'node:http';
import type { Scope } from '@tasklane/db';

/**
 * Which tasks a request may see. With auth off every request is the default owner and sees all
 * tasks; the security work resolves `Authorization: Bearer …` keys to owners here, in one place,
 * so every transport scopes the same way.
 */
export function requestScope(_headers: IncomingHttpHeaders): Scope & { ownerForNewTasks?: string } {
  return {};
}
