import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './exit-codes.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags every remote command takes. */
export const REMOTE_OPTIONS = {
  url: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies Options;

/** `parseArgs` with its errors turned into usage errors that name the command. */
export function parseCommand<O extends Options>(command: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** A whole number option within bounds, or a usage error that says what was expected. */
export function integerOption(command: string, name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${command}: --${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** A positive number of seconds (fractions allowed), converted to milliseconds. */
export function secondsOption(command: string, name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0) throw new UsageError(`${command}: --${name} must be a positive number of seconds, got "${raw}"`);
  return Math.round(value * 1000);
}

/** Exactly `count` positional arguments, named in the message when one is missing. */
export function positionals(command: string, given: string[], names: string[]): string[] {
  if (given.length < names.length) throw new UsageError(`${command}: missing <${names[given.length]}>`);
  if (given.length > names.length) throw new UsageError(`${command}: unexpected argument "${given[names.length]}"`);
  return given;
}
