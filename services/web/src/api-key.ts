import { TasklaneRequestError } from '@tasklane/client';
import { byId } from './dom.ts';

const STORAGE_KEY = 'tasklane.apiKey';

/** The key this tab uses; sessionStorage keeps it across reloads but not past the tab. */
export function storedApiKey(): string | undefined {
  return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
}

/** Whether the server refused us for want of (valid) credentials: HTTP 401, UNAUTHENTICATED, or WebSocket close 4401. */
export function isUnauthenticated(error: unknown): boolean {
  return error instanceof TasklaneRequestError && (error.code === 'UNAUTHENTICATED' || error.status === 401);
}

/**
 * Shows the key form in place of the dashboard. A new key reloads the page, which starts over with
 * a client that sends it: simpler than swapping clients under live subscriptions.
 */
let asking = false;

export function askForApiKey(): void {
  // Several requests fail at once when the key is missing; show the form once.
  if (asking) return;
  asking = true;
  const hadKey = storedApiKey() !== undefined;
  byId('app').hidden = true;
  byId('auth').hidden = false;
  byId('auth-error').textContent = hadKey ? 'The server refused the key; enter another one.' : '';
  const input = byId<HTMLInputElement>('api-key');
  input.focus();
  byId<HTMLFormElement>('auth-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    sessionStorage.setItem(STORAGE_KEY, key);
    location.reload();
  });
}
