export { createLogger, type Logger, type LoggerOptions } from './create-logger.ts';
export { messageFirst, type MessageFirstLogger } from './message-first.ts';
export { formatLine } from './pretty-stream.ts';
