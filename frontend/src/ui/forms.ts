// Forms: accessible fields (label, hint, error tied to the control), a form-level alert, and the
// display of API problems next to the fields they concern.
import { signal } from '@preact/signals';
import { h, type ComponentChildren } from 'preact';
import { useMemo } from 'preact/hooks';
import { ApiError } from '../api';
import { isAbort } from './hooks';
import { formatSeconds } from './format';

/** The submitted values, read from the form's controls. */
export class FormValues {
  constructor(private readonly data: FormData) {}
  /** The value with surrounding white space removed. */
  get(name: string): string {
    return this.raw(name).trim();
  }
  /** The value as typed (passwords). */
  raw(name: string): string {
    const v = this.data.get(name);
    return typeof v === 'string' ? v : '';
  }
  /** Whether a checkbox of this name was ticked. */
  checked(name: string): boolean {
    return this.data.has(name);
  }
}

/** The state of one form: field errors, the form-level message and whether it is submitting. */
export class FormState {
  readonly errors = signal<Record<string, string>>({});
  readonly alert = signal('');
  readonly busy = signal(false);
  /** Labels of the fields, for messages that lead with them. */
  readonly labels = new Map<string, string>();
  /** Other names the API may use for a field (e.g. `rotation.term_months` for `term_months`). */
  readonly aliases = new Map<string, string>();
  element: HTMLFormElement | null = null;
  /** The `ref` of the form element (one function, so it is not re-attached on every render). */
  readonly bind = (el: HTMLFormElement | null): void => {
    this.element = el;
  };

  clearErrors(): void {
    this.errors.value = {};
    this.alert.value = '';
  }

  fieldError(name: string, message: string): void {
    this.errors.value = { ...this.errors.value, [name]: message };
  }

  formError(message: string): void {
    this.alert.value = message;
  }

  reset(): void {
    this.element?.reset();
    this.clearErrors();
  }

  /** Show an error thrown by the API: detail at the top, per-field messages next to inputs. */
  showError(err: unknown, fallback = 'Something went wrong. Please try again.'): void {
    if (err instanceof ApiError) {
      const unmatched: string[] = [];
      for (const fe of err.fieldErrors) {
        const field = this.aliases.get(fe.field) ?? fe.field;
        const label = this.labels.get(field);
        // The API's messages are fragments ("is required"): lead with the field's label.
        if (label) this.fieldError(field, /^[a-z]/.test(fe.message) ? `${label} ${fe.message}.`.replace(/\.\.$/, '.') : fe.message);
        else unmatched.push(fe.field ? `${fe.field}: ${fe.message}` : fe.message);
      }
      const allShown = err.fieldErrors.length > 0 && unmatched.length === 0;
      let message = allShown ? 'Please correct the fields marked below.' : err.problem.detail || err.problem.title || fallback;
      if (!allShown && !err.problem.detail && unmatched.length) message += ` ${unmatched.join('; ')}`;
      if (err.status === 429 && err.retryAfter !== null) {
        message += ` Please wait ${formatSeconds(err.retryAfter)} before trying again.`;
      }
      this.formError(message);
    } else {
      this.formError(err instanceof Error && err.message ? err.message : fallback);
    }
    this.focusFirstError();
  }

  /** Once the errors are on screen, focus the first invalid field, or the alert. */
  focusFirstError(): void {
    window.setTimeout(() => {
      const form = this.element;
      if (!form || !form.isConnected) return;
      const invalid = form.querySelector<HTMLElement>('[aria-invalid="true"]');
      if (invalid) invalid.focus();
      else form.querySelector<HTMLElement>('.form-alert:not([hidden])')?.focus();
    }, 0);
  }
}

export function useForm(): FormState {
  return useMemo(() => new FormState(), []);
}

interface FormProps {
  form: FormState;
  labelledBy: string;
  submitLabel: string;
  /** Runs on submit; what it throws is shown on the form. */
  onSubmit: (values: FormValues) => Promise<void>;
  children?: ComponentChildren;
}

export function Form({ form, labelledBy, submitLabel, onSubmit, children }: FormProps) {
  const busy = form.busy.value;
  const alert = form.alert.value;
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    if (form.busy.value) return;
    form.clearErrors();
    form.busy.value = true;
    try {
      await onSubmit(new FormValues(new FormData(event.currentTarget as HTMLFormElement)));
    } catch (err) {
      if (!isAbort(err)) form.showError(err);
    } finally {
      form.busy.value = false;
    }
  };
  return h(
    'form',
    {
      ref: form.bind,
      noValidate: true,
      'aria-labelledby': labelledBy,
      'aria-busy': busy ? 'true' : 'false',
      onSubmit: submit,
    },
    h('div', { class: 'form-alert', role: 'alert', tabIndex: -1, hidden: !alert }, alert),
    children,
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'submit', class: 'button primary', disabled: busy, 'aria-busy': busy ? 'true' : 'false' }, submitLabel),
    ),
  );
}

let idCounter = 0;
function useFieldId(name: string): string {
  return useMemo(() => `${name}-${++idCounter}`, [name]);
}

export interface FieldProps {
  form: FormState;
  label: string;
  name: string;
  type?: string;
  autocomplete?: string;
  required?: boolean;
  hint?: string;
  minLength?: number;
  maxLength?: number;
  /** A select with these options; the first is the default unless `value` names another. */
  options?: { value: string; label: string }[];
  /** The initial value (what the form resets to). */
  value?: string;
  /** A multi-line text area with this many rows. */
  rows?: number;
  /** Other names the API may give this field in its errors. */
  aliases?: string[];
  /** Told the new value whenever the user changes it. */
  onValue?: (value: string) => void;
  /** A file input that takes several files. */
  multiple?: boolean;
}

/** A labelled input or select with its hint and error message. */
export function Field(props: FieldProps) {
  const { form, label, name, hint, required } = props;
  const id = useFieldId(name);
  form.labels.set(name, label);
  for (const alias of props.aliases ?? []) form.aliases.set(alias, name);
  const error = form.errors.value[name];
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = `${id}-error`;
  const common = {
    id,
    name,
    required,
    autocomplete: props.autocomplete,
    'aria-describedby': [hintId, errorId].filter(Boolean).join(' '),
    'aria-invalid': error ? ('true' as const) : undefined,
    onChange: props.onValue
      ? (e: Event) => props.onValue?.((e.currentTarget as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement).value)
      : undefined,
  };
  // Initial values are the controls' defaults (defaultValue, defaultSelected): the user's typing
  // is never overwritten by a re-render, and form.reset() goes back to them.
  const control = props.options
    ? h(
        'select',
        common,
        props.options.map((o) => h('option', { key: o.value, value: o.value, defaultSelected: o.value === props.value }, o.label)),
      )
    : props.rows
      ? h('textarea', { ...common, rows: props.rows, maxLength: props.maxLength, defaultValue: props.value })
      : h('input', {
          ...common,
          type: props.type ?? 'text',
          multiple: props.multiple,
          minLength: props.minLength,
          maxLength: props.maxLength,
          defaultValue: props.value,
        });
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label, required ? null : h('span', { class: 'optional' }, ' (optional)')),
    hint ? h('p', { class: 'field-hint', id: hintId }, hint) : null,
    control,
    h('p', { class: 'field-error', id: errorId, hidden: !error }, error),
  );
}

export interface CheckboxProps {
  form: FormState;
  label: string;
  name: string;
  hint?: string;
  /** Ticked initially (and after form.reset()). */
  checked?: boolean;
  aliases?: string[];
}

/** A labelled checkbox with its hint and error message; FormValues.checked(name) reads it. */
export function Checkbox(props: CheckboxProps) {
  const { form, label, name, hint } = props;
  const id = useFieldId(name);
  form.labels.set(name, label);
  for (const alias of props.aliases ?? []) form.aliases.set(alias, name);
  const error = form.errors.value[name];
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = `${id}-error`;
  return h(
    'div',
    { class: 'field field-checkbox' },
    h('input', {
      id,
      name,
      type: 'checkbox',
      defaultChecked: props.checked ?? false,
      'aria-describedby': [hintId, errorId].filter(Boolean).join(' '),
      'aria-invalid': error ? ('true' as const) : undefined,
    }),
    h('label', { for: id }, label),
    hint ? h('p', { class: 'field-hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errorId, hidden: !error }, error),
  );
}

/** The "new password" and "confirm password" fields, named `password` and `password_confirmation`. */
export function NewPasswordFields({ form, hint }: { form: FormState; hint: string }) {
  return [
    h(Field, { key: 'password', form, label: 'New password', name: 'password', type: 'password', autocomplete: 'new-password', required: true, minLength: 12, hint }),
    h(Field, { key: 'confirm', form, label: 'Confirm password', name: 'password_confirmation', type: 'password', autocomplete: 'new-password', required: true }),
  ];
}

/** Client-side check of a new password and its confirmation. Returns true when valid. */
export function checkNewPassword(form: FormState, values: FormValues): boolean {
  const password = values.raw('password');
  const confirm = values.raw('password_confirmation');
  let ok = true;
  if ([...password].length < 12) {
    form.fieldError('password', 'Use at least 12 characters.');
    ok = false;
  }
  if (password !== confirm) {
    form.fieldError('password_confirmation', 'The two passwords do not match.');
    ok = false;
  }
  if (!ok) form.focusFirstError();
  return ok;
}
