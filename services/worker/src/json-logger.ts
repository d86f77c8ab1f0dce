import type { LogLevel } from '@tasklane/core';
import type { LogFields, Logger } from '@tasklane/worker';

const RANK: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, silent: Infinity };

export interface JsonLoggerOptions {
  /** Lines below this level are dropped. @default 'info' */
  level?: LogLevel;
  /** Fields on every line (e.g. the worker id). */
  base?: LogFields;
  /** @default one line to stdout */
  write?: (line: string) => void;
}

/**
 * One JSON object per line: `time`, `level`, `msg`, then the fields flat, so that log tools
 * can filter on them. Fields never overwrite the first three.
 */
export function createJsonLogger({ level = 'info', base = {}, write = (line) => void process.stdout.write(`${line}\n`) }: JsonLoggerOptions = {}): Logger {
  const threshold = RANK[level];
  const at = (name: 'debug' | 'info' | 'warn' | 'error') => {
    if (RANK[name] < threshold) return () => {};
    return (msg: string, fields?: LogFields) => {
      const entry: Record<string, unknown> = { time: new Date().toISOString(), level: name, msg };
      for (const [key, value] of Object.entries({ ...base, ...fields })) if (!(key in entry)) entry[key] = value;
      let line: string;
      try {
        line = JSON.stringify(entry);
      } catch {
        line = JSON.stringify({ time: entry.time, level: name, msg, fieldsDropped: 'not serializable' });
      }
      write(line);
    };
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
