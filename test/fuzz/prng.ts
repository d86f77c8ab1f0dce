/**
 * A small seeded PRNG (sfc32, seeded through splitmix32), so one seed always yields the same
 * requests: a failing run is reproduced with `FUZZ_SEED=<seed>`.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    let state = seed >>> 0;
    const splitmix = () => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix();
    this.b = splitmix();
    this.c = splitmix();
    this.d = splitmix();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** A whole number from `min` to `max`, both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks by weight: `[[3, 'a'], [1, 'b']]` gives 'a' three times as often as 'b'. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((sum, [w]) => sum + w, 0);
    let roll = this.next() * total;
    for (const [weight, value] of choices) {
      roll -= weight;
      if (roll < 0) return value;
    }
    return choices[choices.length - 1]![1];
  }

  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = this.nextUint32() & 0xff;
    return out;
  }

  /** Characters drawn from `alphabet` (default: printable ASCII). */
  text(length: number, alphabet = PRINTABLE): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }

  /** Any UTF-16 code units, lone surrogates and control characters included. */
  anyUnicode(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) {
      const kind = this.int(0, 5);
      if (kind === 0) out += String.fromCharCode(this.int(0, 0x1f));
      else if (kind === 1) out += String.fromCharCode(this.int(0xd800, 0xdfff));
      else if (kind === 2) out += String.fromCodePoint(this.int(0x1f300, 0x1faff));
      else out += String.fromCharCode(this.int(0x20, 0xfffd));
    }
    return out;
  }
}

export const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

/** The seed to use: `FUZZ_SEED` when set (to rerun a failure), else a fresh one. */
export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = env.FUZZ_SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!/^\d{1,10}$/.test(fromEnv) || Number(fromEnv) > 0xffffffff) throw new Error(`FUZZ_SEED must be a whole number from 0 to 4294967295 (got ${fromEnv})`);
    return Number(fromEnv);
  }
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}
