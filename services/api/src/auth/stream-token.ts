import { createHmac, timingSafeEqual } from 'node:crypto';

/** How long a stream token admits opening its task's event stream. */
export const STREAM_TOKEN_SECONDS = 60;

/** `tlst_<key id>_<expiry, unix seconds>_<MAC>`: recognisable, and never mistaken for an API key. */
const TOKEN_PATTERN = /^tlst_([0-9a-f]{16})_(\d{10})_([A-Za-z0-9_-]{43})$/;

/** Stands for the key when `AUTH=off`: there is none, and the events route asks for no token. */
export const AUTH_OFF_KEY_ID = '0000000000000000';

export interface ParsedStreamToken {
  keyId: string;
  expiresAt: number;
  mac: string;
}

/**
 * The MAC binds the token to one task and one expiry, keyed with the stored hash of the API key
 * that asked for it. Any API replica can check it (the hash is in the database), nothing needs
 * storing, and revoking the key voids its stream tokens with it.
 */
function mac(keyHash: Buffer, taskId: string, expiresAt: number): string {
  return createHmac('sha256', keyHash).update(`tasklane stream token\n${taskId}\n${expiresAt}`).digest('base64url');
}

export function mintStreamToken(keyId: string, keyHash: Buffer, taskId: string, now = Date.now()): { token: string; expiresAt: number } {
  const expiresAt = Math.floor(now / 1000) + STREAM_TOKEN_SECONDS;
  return { token: `tlst_${keyId}_${expiresAt}_${mac(keyHash, taskId, expiresAt)}`, expiresAt };
}

/** The key id and expiry a token claims; undefined when it is not shaped like one. Check it with {@link streamTokenValid}. */
export function parseStreamToken(token: string): ParsedStreamToken | undefined {
  const match = TOKEN_PATTERN.exec(token);
  return match ? { keyId: match[1]!, expiresAt: Number(match[2]), mac: match[3]! } : undefined;
}

/** Whether `token` was minted for `taskId` with this key and has not expired. */
export function streamTokenValid(token: string, keyHash: Buffer, taskId: string, now = Date.now()): boolean {
  const parsed = parseStreamToken(token);
  if (!parsed || parsed.expiresAt * 1000 <= now || parsed.expiresAt * 1000 > now + STREAM_TOKEN_SECONDS * 1000 + 5000) return false;
  const expected = Buffer.from(mac(keyHash, taskId, parsed.expiresAt));
  const presented = Buffer.from(parsed.mac);
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}
