import type { Config } from '@tasklane/core';

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '::1', 'localhost']);

/** Whether the API listens on a loopback address only (`HOST`). */
export function listensOnLoopback(config: Pick<Config, 'host'>): boolean {
  return LOOPBACK_HOSTS.has(config.host.toLowerCase());
}

/**
 * The warning to log at start when anyone who can reach the port can read and cancel every task:
 * auth off on an address beyond loopback. Undefined when there is nothing to warn about.
 */
export function authOffWarning(config: Pick<Config, 'auth' | 'host'>): string | undefined {
  if (config.auth === 'on' || listensOnLoopback(config)) return undefined;
  return `AUTH=off while listening on ${config.host}: anyone who can reach this port can read, submit and cancel every task. Set AUTH=on and create keys with \`tasklane keys create --owner <name>\`.`;
}
