export type LogFields = Record<string, unknown>;

/** The few log calls the runtime makes; adapt any structured logger to it. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** A logger that adds `fields` to every line (e.g. the task id for a handler's `ctx.log`). */
export function withFields(logger: Logger, fields: LogFields): Logger {
  return {
    debug: (msg, extra) => logger.debug(msg, { ...fields, ...extra }),
    info: (msg, extra) => logger.info(msg, { ...fields, ...extra }),
    warn: (msg, extra) => logger.warn(msg, { ...fields, ...extra }),
    error: (msg, extra) => logger.error(msg, { ...fields, ...extra }),
  };
}

export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) return { error: error.message, errorName: error.name, ...('code' in error ? { code: error.code } : {}) };
  return { error: String(error) };
}
