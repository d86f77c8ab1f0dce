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

/** Bits of the counter that orders the ids of one millisecond (RFC 9562, 6.2, method 1). */
const COUNTER_BITS = 26;
let lastMs = -1;
let counter = 0;

/**
 * A UUIDv7 as 16 bytes: the 48-bit millisecond time, then a counter in the 26 bits after the
 * version and variant (rand_a and the top of rand_b), then 48 random bits. The counter starts at
 * a random value below half its range each millisecond and counts up within it, so the ids one
 * process makes in one millisecond sort in the order it made them: a batch of tasks, which share
 * one `created_at`, lists in submission order. (With random bits there, a thousand tasks made in
 * a millisecond or two listed shuffled.) Over 33 million ids a millisecond fit before it could
 * wrap. Across processes, ids of the same millisecond are unordered, as before.
 */
function uuidV7Bytes(now: number): Uint8Array {
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = new Uint8Array(16);
  bytes.set(pool.subarray(poolOffset, poolOffset + 10), 6);
  poolOffset += 10;
  if (now === lastMs && counter + 1 < 2 ** COUNTER_BITS) {
    counter++;
  } else {
    lastMs = now;
    // A fresh start from this id's random bytes, its top bit clear: room to count up.
    counter = ((bytes[6]! << 17) | (bytes[7]! << 9) | (bytes[8]! << 1) | (bytes[9]! >>> 7)) & (2 ** (COUNTER_BITS - 1) - 1);
  }
  let ms = now;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = 0x70 | ((counter >>> 22) & 0x0f);
  bytes[7] = (counter >>> 14) & 0xff;
  bytes[8] = 0x80 | ((counter >>> 8) & 0x3f);
  bytes[9] = counter & 0xff;
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
