import { describe, expect, it } from 'vitest';
import { ConfigError, ValidationError, loadConfig, nestsDeeperThan, validateNewTask, type JsonObject, type JsonValue } from '../src/index.ts';

/** `depth` arrays, one inside the other, in an object (which is one level more). */
function nested(depth: number): JsonObject {
  let value: JsonValue = [];
  for (let i = 1; i < depth; i++) value = [value];
  return { a: value };
}

function refusal(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  return expect.fail('expected a ValidationError');
}

describe('task input', () => {
  it.each([
    ['a string', 'x'],
    ['an array', [1]],
    ['a number', 5],
    ['null', null],
    ['a boolean', true],
  ])('is refused naming input when it is %s', (got, input) => {
    const error = refusal(() => validateNewTask({ kind: 'video', input }));
    expect(error.field).toBe('input');
    expect(error.message).toBe(`input: must be a JSON object such as {"prompt": "a cat"}, not ${got}`);
  });

  it('is {} when left out', () => {
    expect(validateNewTask({ kind: 'video' })).toMatchObject({ input: {}, inputText: '{}' });
  });

  it('accepts MAX_INPUT_DEPTH levels and refuses one more, naming the limit and the setting', () => {
    expect(validateNewTask({ kind: 'video', input: nested(31) }, { maxInputDepth: 32 }).inputText).toContain('[[');
    const error = refusal(() => validateNewTask({ kind: 'video', input: nested(32) }, { maxInputDepth: 32 }));
    expect(error.message).toBe('input: must nest arrays and objects at most 32 levels deep (MAX_INPUT_DEPTH)');
  });

  it('refuses 5,000 nested arrays with the depth error, not "must be JSON" after a stack overflow', () => {
    const error = refusal(() => validateNewTask({ kind: 'video', input: JSON.parse(`{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`) }));
    expect(error.message).toMatch(/at most 32 levels deep \(MAX_INPUT_DEPTH\)$/);
  });

  it('measures depth without recursion, however deep the value', () => {
    // Far past any stack: a recursive walk throws RangeError here.
    expect(nestsDeeperThan(nested(100_000), 99_999)).toBe(true);
    expect(nestsDeeperThan(nested(100_000), 100_001)).toBe(false);
    expect(nestsDeeperThan({}, 1)).toBe(false);
    expect(nestsDeeperThan({ a: {} }, 1)).toBe(true);
    expect(nestsDeeperThan({ a: 1, b: 'x', c: null }, 1)).toBe(false);
  });
});

describe('TASK_KINDS', () => {
  it('is empty by default: only kinds workers register are accepted', () => {
    expect(loadConfig({}).taskKinds).toEqual({ declared: [], any: false });
  });

  it('reads a comma-separated list of kinds, or * for any kind', () => {
    expect(loadConfig({ TASK_KINDS: ' audio, video ,,audio' }).taskKinds).toEqual({ declared: ['audio', 'video'], any: false });
    expect(loadConfig({ TASK_KINDS: '*' }).taskKinds).toEqual({ declared: [], any: true });
  });

  it('refuses a malformed kind with one clear line', () => {
    expect(() => loadConfig({ TASK_KINDS: 'video,Bad Kind' })).toThrow(ConfigError);
    expect(() => loadConfig({ TASK_KINDS: 'video,Bad Kind' })).toThrow('Invalid TASK_KINDS="video,Bad Kind": expected a comma-separated list of kinds');
  });
});
