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
const ID_PATTERN = /^([a-z][a-z0-9_]{0,31})_([0-7][0-9a-hjkmnp-tv-z]{25})$/;

export function kindPrefix(kind: string): string {
  return KIND_PREFIXES[kind] ?? kind;
}

// Random bytes are drawn from a pool refilled in one call, not one system call per id: bulk
// submits make thousands of ids at once.
const pool = new Uint8Array(4096);
let poolOffset = pool.length;

/** A UUIDv7 (48-bit millisecond time, then random bits) as 16 bytes. */
function uuidV7Bytes(now: number): Uint8Array {
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = new Uint8Array(16);
  bytes.set(pool.subarray(poolOffset, poolOffset + 10), 6);
  poolOffset += 10;
  let ms = now;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return bytes;
}

/** 128 bits as 26 base32 characters, most significant first (two zero bits pad it to 130). */
function encodeBase32(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 2;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >>> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return out;
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
