import { ValidationError } from './errors.ts';

/**
 * The shape a task `input` must have, checked where no I/O is at hand: browser-safe (no node:
 * imports), so the client checks it too before it serializes a submission (`@tasklane/core/input`).
 */

/** Deepest accepted nesting of arrays and objects in `input` (`MAX_INPUT_DEPTH`); `{}` is 1 deep. */
export const DEFAULT_MAX_INPUT_DEPTH = 32;
/**
 * The most `MAX_INPUT_DEPTH` may allow. Far deeper, serializing the input (JSON.stringify, which
 * recurses) overflows the stack, at a depth that differs between Node.js versions and browsers.
 */
export const MAX_INPUT_DEPTH_CEILING = 1000;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether arrays and objects nest deeper than `max`. A loop with its own stack, not recursion:
 * 5,000 nested arrays must get this answer, not a stack overflow (which JSON.stringify and every
 * recursive walk after it would hit, at a depth that differs between Node.js versions).
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: node, depth } = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}

/**
 * Throws a `ValidationError` for `input` unless it is a JSON object nested at most `maxDepth`
 * levels deep. Run before anything recursive (serializing, hashing) touches the value.
 */
export function checkInputShape(input: unknown, maxDepth: number = DEFAULT_MAX_INPUT_DEPTH, setting = 'MAX_INPUT_DEPTH'): void {
  if (!isPlainObject(input)) {
    const got = input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input === 'string' ? 'a string' : `a ${typeof input}`;
    throw new ValidationError('input', `must be a JSON object such as {"prompt": "a cat"}, not ${got}`);
  }
  if (nestsDeeperThan(input, maxDepth)) {
    throw new ValidationError('input', `must nest arrays and objects at most ${maxDepth} levels deep (${setting})`);
  }
}
