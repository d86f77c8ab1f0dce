import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogFormat, LogLevel } from '@tasklane/core';
import { prettyStream } from './pretty-stream.ts';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** Which process writes: `launcher`, `api`, `worker`. On every line as `service`. */
  service: string;
  /** @default 'info' */
  level?: LogLevel;
  /** `auto`: readable lines when the output is a terminal, JSON lines otherwise. @default 'auto' */
  format?: LogFormat;
  /** Where lines go. @default stdout, written synchronously so that nothing is lost at exit */
  destination?: DestinationStream;
  /** Whether the output is a terminal, for `auto` and colours. @default process.stdout.isTTY */
  isTerminal?: boolean;
}

/**
 * The one logger of every Tasklane process. Every line has `level` (its name: `info`, not 30),
 * `time` (ISO 8601), `service`, `pid` and `msg`, then the line's own fields, flat.
 */
export function createLogger({ service, level = 'info', format = 'auto', destination, isTerminal = process.stdout.isTTY === true }: LoggerOptions): Logger {
  const json = destination ?? pino.destination({ dest: 1, sync: true });
  const pretty = format === 'pretty' || (format === 'auto' && isTerminal);
  return pino(
    {
      level,
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pretty ? prettyStream(json, { colours: isTerminal }) : json,
  );
}
