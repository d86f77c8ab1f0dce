import { STATUS_MESSAGES, type TaskStatus } from '@tasklane/core';

/**
 * The message of each status (core's STATUS_MESSAGES) as an SQL string literal, for statements
 * that set it: written into the statement's text rather than sent as a parameter, so a prepared
 * statement's text and parameters stay as they are, and the message has one home.
 */
export const MESSAGE_SQL = Object.fromEntries(
  Object.entries(STATUS_MESSAGES).map(([status, message]) => [status, `'${message.replaceAll("'", "''")}'`]),
) as Readonly<Record<TaskStatus, string>>;
