import type { Logger } from 'pino';

type Fields = Record<string, unknown>;

/** The `(msg, fields)` shape of the worker SDK's Logger interface, over pino's `(fields, msg)`. */
export interface MessageFirstLogger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

export function messageFirst(logger: Logger): MessageFirstLogger {
  return {
    debug: (msg, fields) => logger.debug(fields ?? {}, msg),
    info: (msg, fields) => logger.info(fields ?? {}, msg),
    warn: (msg, fields) => logger.warn(fields ?? {}, msg),
    error: (msg, fields) => logger.error(fields ?? {}, msg),
  };
}
