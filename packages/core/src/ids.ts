import { randomFillSync } from 'node:crypto';
import { KIND_PATTERN } from './task.ts';

/** Short prefixes for the kinds the seed names; any other kind uses its own name. */
const KIND_PREFIXES: Readonly<Record<string, string>> = {
  video: 'vid',
  image: 'img',
  audio: 'aud',
  text: 'txt',
};

// Crockford base32, lowercase, as TypeID uses: no i, l, o, u.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const BODY_LENGTH = 26;
const ID_PATTERN = /^([a-z][a-z0-9_]{0,31})_([0-7][0-9a-hjkmnp-tv-z]{25})$/;

export function kindPrefix(kind: string): string {
  return KIND_PREFIXES[kind] ?? kind;
}

/** A UUIDv7 (48-bit millisecond time, then random bits) as 16 bytes. */
function uuidV7Bytes(now: number): Uint8Array {
  const bytes = new Uint8Array(16);
  randomFillSync(bytes, 6);
  let ms = now;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return bytes;
}

/** 128 bits as 26 base32 characters, most significant first (the top 2 bits are zero). */
function encodeBase32(bytes: Uint8Array): string {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  const out = new Array<string>(BODY_LENGTH);
  for (let i = BODY_LENGTH - 1; i >= 0; i--) {
    out[i] = ALPHABET[Number(value & 31n)]!;
    value >>= 5n;
  }
  return out.join('');
}

/**
 * A new task id: kind prefix, `_`, then a time-sortable random body (TypeID: UUIDv7 in base32).
 * Ids made later sort later, so the id doubles as a tie-breaker in creation order.
 */
export function newTaskId(kind: string, now: number = Date.now()): string {
  return `${kindPrefix(kind)}_${encodeBase32(uuidV7Bytes(now))}`;
}

/** Whether a string has the shape of a task id (it may still name no task). */
export function isTaskId(value: string): boolean {
  return value.length <= 60 && ID_PATTERN.test(value);
}

export function isValidKind(kind: string): boolean {
  return KIND_PATTERN.test(kind);
}
