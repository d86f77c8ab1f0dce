import { isValidKind, ValidationError } from '@tasklane/core';

/**
 * Checks the kinds of a list or subscription filter. A malformed kind can never match a task, so
 * without this check a typo would answer an empty page (or a silent subscription) instead of an error.
 */
export function checkKindFilter(kinds: readonly string[] | null | undefined, field: string): void {
  for (const kind of kinds ?? []) {
    if (!isValidKind(kind)) {
      throw new ValidationError(field, `"${kind.slice(0, 64)}" is not a kind (1-32 lowercase letters, digits or _, starting with a letter)`);
    }
  }
}
