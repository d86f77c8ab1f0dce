import { ValidationError } from '@tasklane/core/errors';
import { checkInputShape, MAX_INPUT_DEPTH_CEILING } from '@tasklane/core/input';
import { TasklaneRequestError } from './errors.ts';

/**
 * Refuses an `input` the server would refuse anyway, before serializing it: an input nested
 * thousands deep overflows JSON.stringify's stack, which would surface as a failed connection.
 * The depth checked is the most `MAX_INPUT_DEPTH` allows; the server applies its own setting.
 */
export function checkSubmittedInput(input: unknown): void {
  try {
    checkInputShape(input === undefined ? {} : input, MAX_INPUT_DEPTH_CEILING, 'the most MAX_INPUT_DEPTH allows');
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new TasklaneRequestError(error.message, 'BAD_USER_INPUT', [{ message: error.message, extensions: { code: 'BAD_USER_INPUT', field: error.field } }]);
  }
}
