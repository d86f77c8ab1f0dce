import type { SubmitInput, Task } from '@tasklane/client';
import { byId } from './dom.ts';
import { parseMetadata } from './parse-metadata.ts';
import { kindProblem, parseTaskInput } from './parse-task-input.ts';

/** Wires the submit form: validates kind and JSON in the page, then hands the task to `submit`. */
export function wireSubmitForm(submit: (input: SubmitInput) => Promise<Task>, describeError: (error: unknown) => string): void {
  const form = byId<HTMLFormElement>('submit-form');
  const kind = byId<HTMLInputElement>('submit-kind');
  const input = byId<HTMLTextAreaElement>('submit-input');
  const metadata = byId<HTMLInputElement>('submit-metadata');
  const error = byId('submit-error');
  const button = form.querySelector('button')!;

  const show = (message: string, field?: HTMLElement) => {
    error.textContent = message;
    kind.removeAttribute('aria-invalid');
    input.removeAttribute('aria-invalid');
    metadata.removeAttribute('aria-invalid');
    if (field) {
      field.setAttribute('aria-invalid', 'true');
      field.focus();
    }
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const kindValue = kind.value.trim();
    const badKind = kindProblem(kindValue);
    if (badKind) return show(badKind, kind);
    const parsed = parseTaskInput(input.value);
    if (!parsed.ok) return show(parsed.message, input);
    const pairs = parseMetadata(metadata.value);
    if (!pairs.ok) return show(pairs.message, metadata);
    show('');
    button.disabled = true;
    submit({ kind: kindValue, input: parsed.value, ...(Object.keys(pairs.value).length > 0 ? { metadata: pairs.value } : {}) })
      .catch((failure: unknown) => show(describeError(failure)))
      .finally(() => (button.disabled = false));
  });
}
