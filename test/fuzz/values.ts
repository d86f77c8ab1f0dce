import type { Prng } from './prng.ts';

/** Strings that have broken parsers, SQL, loggers and JSON encoders somewhere before. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  'null',
  'undefined',
  'true',
  '0',
  '-1',
  '1e309',
  'NaN',
  '__proto__',
  'constructor',
  'prototype',
  "'; drop table tasklane.tasks; --",
  '" or 1=1 --',
  "' or '1'='1",
  '$1',
  '$$; select pg_sleep(0); $$',
  '%',
  '_',
  '%_%',
  '\\',
  '\\\\x00',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '\u202e\u2066rtl',
  '\ufeffbom',
  '‘’“”„‹›«»',
  '💥🔥🧨',
  'é\u0301',
  '../../../../etc/passwd',
  '%2e%2e%2f',
  '%00',
  '%ZZ',
  '%s%n%x%d',
  '{{7*7}}',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  '\r\nX-Injected: yes',
  '\n\n\n',
  '\t',
  'vid_',
  'img_00000000000000000000000000',
  'VID_01JH0000000000000000000000',
];

/** Keys the server looks at, plus some that poison naive object handling. */
export const INTERESTING_KEYS: readonly string[] = [
  'kind',
  'input',
  'service',
  'priority',
  'max_attempts',
  'maxAttempts',
  'idempotencyKey',
  'runAt',
  'fail',
  '__proto__',
  'constructor',
  'toString',
  '',
  ' ',
  '$where',
  "'; drop table tasklane.tasks; --",
  '\u0000',
  '\ud800',
  'a'.repeat(300),
];

const ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** Task ids that are wrong in every way we can think of; `known` ids are mixed in too. */
export function invalidId(rng: Prng, known: readonly string[]): string {
  return rng.weighted<() => string>([
    [3, () => rng.pick(NASTY_STRINGS)],
    [2, () => `${rng.pick(['vid', 'img', 'task', 'x', 'decoy', ''])}_${rng.text(rng.int(0, 40), ID_ALPHABET)}`],
    [2, () => `${rng.pick(['vid', 'img'])}_${rng.text(26, ID_ALPHABET)}`],
    [1, () => rng.text(rng.int(1, 3000))],
    [1, () => rng.anyUnicode(rng.int(1, 40))],
    [2, () => (known.length > 0 ? rng.pick(known) : 'vid_')],
    [1, () => (known.length > 0 ? `${rng.pick(known)}${rng.pick([' ', '/', '%20', 'x', '?', '#', '..'])}` : 'img_')],
    [1, () => (known.length > 0 ? rng.pick(known).toUpperCase() : 'IMG_')],
  ])();
}

/** A value of any JSON type, or not JSON-shaped at all for the schema it lands in. */
export function jsonValue(rng: Prng, depth = 0): unknown {
  const leafOnly = depth > 4;
  return rng.weighted<() => unknown>([
    [2, () => null],
    [2, () => rng.chance(0.5)],
    [3, () => rng.pick([0, -1, 1, 0.5, -0.0, 1e21, -1e308, 2 ** 31, 2 ** 53 + 1, 1000, 1001, -1001, 100, 101, 3])],
    [4, () => rng.pick(NASTY_STRINGS)],
    [2, () => rng.anyUnicode(rng.int(0, 30))],
    [1, () => 'x'.repeat(rng.pick([1000, 70_000, 300_000]))],
    [leafOnly ? 0 : 2, () => Array.from({ length: rng.int(0, 5) }, () => jsonValue(rng, depth + 1))],
    [leafOnly ? 0 : 3, () => jsonObject(rng, depth + 1)],
  ])();
}

export function jsonObject(rng: Prng, depth = 0): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (let i = rng.int(0, 5); i > 0; i--) {
    const key = rng.chance(0.6) ? rng.pick(INTERESTING_KEYS) : rng.text(rng.int(0, 12));
    // defineProperty, so that `__proto__` is an own key and is serialized like any other.
    Object.defineProperty(object, key, { value: jsonValue(rng, depth), enumerable: true, writable: true, configurable: true });
  }
  return object;
}

/** `[[[…]]]` or `{"a":{"a":…}}` nested `depth` levels, as text (building it as a value would be slower). */
export function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/**
 * Submit inputs the built-in handlers may run: only durations that end at once or are refused,
 * so fuzzed tasks never hold the worker's slots for long.
 */
export function handlerInput(rng: Prng): Record<string, unknown> {
  const input = jsonObject(rng);
  if (rng.chance(0.5)) input.duration_seconds = rng.pick([0, 0.05, -1, 'x', null, [], {}, 1e308]);
  else input.duration_seconds = 0;
  if (rng.chance(0.3)) input.fail = rng.pick(['content_policy', 'transient', 'other', 1, null]);
  return input;
}

/** Bytes that are not valid UTF-8 (overlong forms, lone continuation bytes, surrogates, truncation). */
export function invalidUtf8(rng: Prng): Buffer {
  return rng.pick([
    Buffer.from([0xc0, 0xaf]),
    Buffer.from([0x80, 0x80]),
    Buffer.from([0xed, 0xa0, 0x80]),
    Buffer.from([0xf4, 0x90, 0x80, 0x80]),
    Buffer.from([0xe2, 0x82]),
    Buffer.from([0xff, 0xfe, 0xfd]),
    rng.bytes(rng.int(1, 64)),
  ]);
}

/** Percent-encodes every byte outside the unreserved set; unlike encodeURIComponent, never throws (lone surrogates become U+FFFD). */
export function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
