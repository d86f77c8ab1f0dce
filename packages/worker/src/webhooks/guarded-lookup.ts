import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isPublicAddress } from '@tasklane/core';

/** Raised (as a connection error) when a webhook's host resolves to an address it may not reach. */
export class BlockedAddressError extends Error {
  readonly code = 'WEBHOOK_ADDRESS_BLOCKED';
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(`${host} resolves to ${address}, a loopback, private, link-local or metadata address (allowed only with WEBHOOK_ALLOW_PRIVATE=on)`);
  }
}

export type AnyLookup = (hostname: string, options: dns.LookupAllOptions, callback: (error: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void) => void;

/**
 * A `lookup` for the HTTP agents: resolves as usual (or with `resolve`, for tests), then refuses
 * the name when any address it has is not public. The check sits where the socket gets the
 * address it connects to, so a name that resolves to 127.0.0.1 (or flips to it after a first
 * harmless answer) is caught; every address is checked, since the connection may try any of them.
 */
export function guardedLookup(resolve: AnyLookup = dns.lookup as unknown as AnyLookup, { allowPrivate = false } = {}): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const bad = allowPrivate ? undefined : addresses.find((a) => !isPublicAddress(a.address));
      if (bad) return callback(Object.assign(new BlockedAddressError(hostname, bad.address), { errno: undefined }), '', 0);
      if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      if ((options as dns.LookupOptions).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** A resolver of fixed names (others go to DNS): lets tests point a real name at a real address. */
export function fixedResolver(names: Record<string, string>): AnyLookup {
  return (hostname, options, callback) => {
    const address = names[hostname.toLowerCase()];
    if (address === undefined) return (dns.lookup as unknown as AnyLookup)(hostname, options, callback);
    callback(null, [{ address, family: address.includes(':') ? 6 : 4 }]);
  };
}
